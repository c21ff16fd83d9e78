//! The HTTP API: validates, authorizes, writes, enqueues and reads. Anything slow or that
//! calls an outside service runs in a worker.

pub mod body;
pub mod clock;
mod crud;
pub mod dashboard;
pub mod error;
pub mod events;
pub mod extract;
mod forms;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod request_metrics;
pub mod response;
pub mod routes;
pub mod startup;
pub mod state;
pub mod validation;

pub use clock::{Clock, ManualClock, SystemClock};
pub use startup::Application;
