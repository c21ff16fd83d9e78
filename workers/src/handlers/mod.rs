//! Task handlers, and which of them each worker binary runs.

mod ping;

pub use ping::PingHandler;

use shared::tasks::Queue;

use crate::runtime::Worker;

/// Registers every handler that belongs on `queue` (all of them answer `system.ping`).
pub fn register(worker: Worker, queue: Queue) -> Worker {
    let worker = worker.with_handler(PingHandler);
    match queue {
        Queue::Clustering | Queue::Content | Queue::Seo | Queue::Odoo | Queue::Social => worker,
    }
}
