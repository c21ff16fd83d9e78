//! RabbitMQ: names and topology, typed messages, a confirming publisher that reconnects, and
//! the outbox relay that moves committed commands from Postgres to the broker.

pub mod dead_letters;
mod message;
mod publisher;
mod relay;
mod topology;

pub use message::{CommandMessage, TaskEvent};
pub use publisher::{Outgoing, Publisher, QueueStats, connect};
pub use relay::{Relay, RelayHandle, drain_outbox};
pub use topology::Topology;
