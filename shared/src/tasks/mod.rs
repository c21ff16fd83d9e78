//! The task model: states, the kind catalogue, the enqueue path (task row + outbox row in the
//! caller's transaction) and the tenant-scoped reads and cancellation used by the API.

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

pub use enqueue::{Enqueued, NewTask, enqueue, enqueue_many, find_by_idempotency_key};
pub use kinds::{
    AutoCluster, Compose, GenerateContent, GenerateIdeas, GenerateImages, ImagePrompts, KindSpec, OdooSync,
    PING, Payload, Ping, PublishPost, PublishWordpress, PullInsights, PushLead, Queue, SeoAudit, TaskKind,
    command, kind_names, kind_spec, kinds, parse_payload,
};
pub use queries::{
    CancelOutcome, TaskFilter, Throughput, ThroughputBucket, ThroughputTotals, attempts,
    attempts_for_account, cancel, cancel_kind, find_any, find_for_account, list_for_account, throughput,
};
pub use state::TaskState;
