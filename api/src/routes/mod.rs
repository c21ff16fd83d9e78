//! Routes by module, mounted under `/api/v1`.

mod accounts;
mod admin;
mod auth;
mod author_profiles;
mod billing;
mod commands;
mod common;
mod integrations;
mod odoo;
mod payments;
mod planner;
mod planner_tasks;
mod plans;
mod prompts;
mod request_metrics;
mod schedules;
mod sectors;
mod seed_library;
mod seo;
mod settings;
mod site_access;
mod site_wordpress;
mod sites;
mod social;
mod strategies;
mod system;
mod task_events;
mod tasks;
mod users;
mod webhooks;
mod writer;

use actix_web::{HttpRequest, HttpResponse, dev::HttpServiceFactory, web};
use utoipa_actix_web::{OpenApiFactory, scope};

use crate::error::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // The document first: the `/api/v1` scope answers 404 for any path under it it lacks.
    cfg.service(crate::openapi::openapi_json)
        .service(api())
        .service(crate::metrics::metrics)
        .service(crate::openapi::swagger_ui)
        .service(crate::dashboard::service())
        .default_service(web::to(not_found));
}

/// Everything under `/api/v1`, each handler with its OpenAPI entry (collected by the scopes).
pub fn api() -> impl HttpServiceFactory + OpenApiFactory {
    scope("/api/v1")
        .service(
            scope("/auth")
                .configure(auth::configure)
                .configure(accounts::configure)
                .configure(plans::configure)
                .configure(users::configure)
                .configure(site_wordpress::configure)
                .configure(site_access::configure)
                .configure(sites::configure)
                .configure(sectors::configure)
                .configure(seed_library::configure),
        )
        .service(
            scope("/system")
                // Before the others: registered after `integrations`, these were not
                // reached (404 from the default service).
                .configure(author_profiles::configure)
                .configure(strategies::configure)
                .configure(webhooks::configure_management)
                .service(scope("/admin").configure(admin::configure))
                .configure(system::configure)
                .configure(schedules::configure)
                .configure(prompts::configure)
                .configure(settings::configure)
                .configure(request_metrics::configure)
                .configure(integrations::configure),
        )
        .service(scope("/planner").configure(planner_tasks::configure).configure(planner::configure))
        .service(scope("/writer").configure(writer::configure))
        .service(scope("/analytics").configure(seo::configure_analytics))
        .service(scope("/odoo").configure(odoo::configure_odoo).configure(webhooks::configure_odoo_default))
        .service(scope("/portal").configure(odoo::configure_portal))
        .service(scope("/social").configure(social::configure))
        .service(scope("/marketing").configure(seo::configure_marketing))
        .configure(webhooks::configure_receiver)
        .configure(billing::configure)
        .configure(payments::configure)
        .configure(tasks::configure)
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    if let Some(allow) = crate::openapi::allowed_methods(req.path()) {
        return Err(ApiError::MethodNotAllowed { allow: allow.to_owned() });
    }
    tracing::debug!(path = req.path(), "no route");
    Err(ApiError::NotFound { what: "resource" })
}
