//! The test kit: everything tests need that the product must not ship. Only dev-dependencies
//! and the SEO benchmark link it (the workspace's `default-members` leave it out of
//! `cargo build`), so no fake server or test database code reaches a release binary.
//!
//! - [`db`]: a database per test, cloned from a migrated template ([`TestDb`]).
//! - [`config`]: a test's configuration, with a broker namespace of its own.
//! - [`openai`], [`runware`], [`wordpress`], [`odoo`], [`social`]: fake outside services on 127.0.0.1
//!   speaking the real protocols, with scripted failures.
//! - [`site`]: a website for SEO audits; [`proxy`]: a loopback-only HTTP proxy every outbound
//!   fetch of a test goes through, and a TCP proxy that can cut the broker off.
//! - [`tasks`]: run queued tasks in the test's process until none is left
//!   ([`run_pending_tasks`], [`TaskRunner`]), failing on a failed task.
//! - [`eventually`]: poll with a deadline (tests never sleep blindly).

pub mod config;
pub mod db;
pub mod odoo;
pub mod openai;
pub mod proxy;
pub mod runware;
mod serve;
pub mod site;
pub mod social;
pub mod tasks;
pub mod wordpress;

use std::time::Duration;

pub use db::TestDb;
pub use serve::{loopback_listener, serve_fake};
pub use tasks::{DrainError, TaskRunner, run_pending_tasks};

/// Polls `check` until it returns `Some` or `timeout` passes (tests never sleep blindly).
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
