//! Task handlers, and which of them each worker binary runs.

pub mod odoo;
mod ping;
pub mod planner;
pub mod seo;
pub mod social;
pub mod writer;

pub use ping::PingHandler;
use shared::{Config, tasks::Queue};

use crate::runtime::Worker;

/// Registers every handler that belongs on `queue` (all of them answer `system.ping`).
pub fn register(worker: Worker, queue: Queue, config: &Config) -> Worker {
    let worker = worker.with_handler(PingHandler);
    match queue {
        Queue::Clustering => {
            let ai = planner::AiAccess::new(config);
            worker
                .with_handler(planner::AutoClusterHandler::new(ai.clone()))
                .with_handler(planner::GenerateIdeasHandler::new(ai))
        }
        Queue::Content => {
            let ai = planner::AiAccess::new(config);
            let media = shared::media::store_for(config);
            worker
                .with_handler(writer::GenerateContentHandler::new(ai.clone()))
                .with_handler(writer::ImagePromptsHandler::new(ai.clone()))
                .with_handler(writer::GenerateImagesHandler::new(ai, media.clone()))
                .with_handler(writer::PublishWordpressHandler::new(config, media))
        }
        Queue::Seo => worker.with_handler(seo::SeoAuditHandler::new(planner::AiAccess::new(config), config)),
        Queue::Odoo => worker
            .with_handler(odoo::OdooSyncHandler::new(config))
            .with_handler(odoo::PushLeadHandler::new(config)),
        Queue::Social => worker
            .with_handler(social::PublishPostHandler::new(config))
            .with_handler(social::PullInsightsHandler::new(config))
            .with_handler(social::ComposeHandler::new(planner::AiAccess::new(config))),
    }
}
