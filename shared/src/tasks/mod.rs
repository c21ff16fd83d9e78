//! The task model: states, the kind catalogue, the enqueue path (task row + outbox row in the
//! caller's transaction) and the tenant-scoped reads and cancellation used by the API.

mod command;
mod enqueue;
mod kinds;
pub mod odoo;
pub mod ping;
pub mod planner;
mod queries;
pub mod seo;
pub mod social;
mod state;
pub mod writer;

pub use command::{CommandProblems, command};
pub use enqueue::{Enqueued, NewTask, enqueue, enqueue_many, find_by_idempotency_key};
pub use kinds::{KindSpec, PING, Queue, kind_names, kind_spec};
pub use queries::{
    CancelOutcome, TaskFilter, Throughput, ThroughputBucket, ThroughputTotals, attempts,
    attempts_for_account, cancel, cancel_kind, find_any, find_for_account, list_for_account, throughput,
};
pub use state::TaskState;
