//! Incoming webhooks: an account's endpoints (a key in the URL and a sealed signing secret),
//! the signatures senders put on deliveries, the deliveries stored (a replay is a duplicate)
//! and what each delivery does — a targeted Odoo sync, an SEO re-audit of a pushed site, or the
//! endpoint's configured command.

pub mod deliveries;
pub mod effects;
pub mod endpoints;
mod signature;

pub use deliveries::{Delivery, DeliveryStatus};
pub use effects::Effect;
pub use endpoints::{Endpoint, NewEndpoint, Receiving};
pub use signature::{
    PAYMENT_TOLERANCE_SECS, SignatureError, Source, payment_header, sign, verify_body, verify_payment,
};
