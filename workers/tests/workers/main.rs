//! Worker-process tests: real worker binaries against the real Postgres and RabbitMQ, killed
//! and stopped mid-task.

mod handlers;
mod helpers;
mod lifecycle;
mod outbound;
mod scheduler;
mod seo;
