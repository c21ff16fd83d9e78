//! Everything the API and the workers have in common: configuration, the database (schema,
//! models, pool, embedded migrations), the task model and its enqueue path, RabbitMQ
//! messaging (topology, confirming publisher, outbox relay), JWT auth and tracing set-up.

pub mod accounts;
pub mod ai;
pub mod auth;
pub mod billing;
pub mod config;
pub mod crypto;
pub mod db;
pub mod error;
pub mod ids;
pub mod integrations;
pub mod media;
pub mod messaging;
pub mod net;
pub mod odoo;
pub mod payments;
pub mod planner;
pub mod plans;
pub mod problems;
pub mod schedules;
pub mod seed_library;
pub mod seo_audits;
pub mod settings;
pub mod site_access;
pub mod sites;
pub mod social;
pub mod tasks;
pub mod telemetry;
pub mod tenant;
pub mod user_profiles;
pub mod users;
pub mod webhooks;
pub mod wordpress;
pub mod writer;
pub mod writer_settings;

pub use config::Config;
pub use error::{Error, Result};

/// The version every binary reports (status endpoint, heartbeats).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
