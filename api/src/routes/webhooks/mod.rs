//! Incoming webhooks from Odoo, Gitea and payment providers, and the endpoints that receive
//! them.
//!
//! `POST /api/v1/system/webhooks/` (admin) creates an endpoint for a source and answers its URL
//! (`/api/v1/webhooks/{source}/{key}/`) and signing secret, the secret only this once; it is
//! sealed at rest. A delivery to the URL is checked before anything is stored: an unknown key
//! is 404; a missing, wrong or (payments) stale signature is 401 and only moves the endpoint's
//! `rejected_count`.
//! An accepted delivery is stored raw with its headers, once per delivery id
//! — a replay answers 200 `duplicate` and does nothing — and its effect is decided in the same
//! transaction:
//!
//! - Gitea: a `push` to an endpoint linked to a site with a domain enqueues `seo.audit` of
//!   `https://{domain}/` for that site — once per pushed commit range (the delivery id is not
//!   signed, so a replay under a new one is still a duplicate), and at most once per site in
//!   `PUSH_AUDIT_INTERVAL_SECS`; otherwise the endpoint's command, if it has one;
//! - Odoo: an event naming a mirrored `model` and its `record_id` (or `ids`) enqueues
//!   `odoo.sync` of just those records; otherwise the endpoint's command, if it has one;
//! - payments: the endpoint's command, if it has one. A tenant's own payment events never
//!   touch credits: only the platform's payment account buys them (`crate::routes::payments`).
//!
//! Text holding NUL anywhere in the body is refused (400 naming the field) and not stored.
//!
//! The seeds' keyless paths — `POST odoo/webhook/` (Odoo), `POST system/webhook/` (Gitea) and
//! `POST webhooks/payment/` (payments) — reach the endpoint an operator made its source's
//! install default (`PUT system/webhooks/{id}/install-default/`), with the same signature,
//! replay and effect rules; without one they answer 404.
//!
//! Without an effect the delivery is `recorded`. The work itself is always a task, so the
//! answer comes back in milliseconds.

mod management;
mod receiver;

use utoipa_actix_web::service_config::ServiceConfig;

/// `/system/webhooks/…`: managing endpoints.
pub fn configure_management(cfg: &mut ServiceConfig) {
    cfg.service(management::list)
        .service(management::create)
        .service(management::deliveries)
        .service(management::remove)
        .service(management::make_install_default)
        .service(management::clear_install_default)
        .service(receiver::gitea_default);
}

/// `/webhooks/{source}/{key}` and the payments' keyless `/webhooks/payment`: receiving.
pub fn configure_receiver(cfg: &mut ServiceConfig) {
    cfg.service(receiver::payments_default).service(receiver::receive);
}

/// `/odoo/webhook`: Odoo's keyless path.
pub fn configure_odoo_default(cfg: &mut ServiceConfig) {
    cfg.service(receiver::odoo_default);
}

/// Whose secret a sealed endpoint secret is: its key.
fn owner_of(key: &str) -> String {
    format!("webhook:{key}")
}

#[cfg(test)]
mod tests {
    use shared::webhooks::Source;

    #[test]
    fn the_documented_sources_are_the_known_ones() {
        let names: Vec<&str> = Source::ALL.iter().map(|source| source.as_str()).collect();
        assert_eq!(format!("^({})$", names.join("|")), "^(odoo|gitea|payments)$");
    }
}
