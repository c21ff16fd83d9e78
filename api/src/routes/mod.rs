//! Routes by module, mounted under `/api/v1`.

mod auth;
mod billing;
mod commands;
mod common;
mod integrations;
mod planner;
mod planner_tasks;
mod prompts;
mod schedules;
mod sectors;
mod seed_library;
mod sites;
mod system;
mod task_events;
mod tasks;
mod users;

use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .service(
                web::scope("/auth")
                    .configure(auth::configure)
                    .configure(users::configure)
                    .configure(sites::configure)
                    .configure(sectors::configure)
                    .configure(seed_library::configure),
            )
            .service(
                web::scope("/system")
                    .configure(system::configure)
                    .configure(schedules::configure)
                    .configure(prompts::configure)
                    .configure(integrations::configure),
            )
            .service(web::scope("/planner").configure(planner_tasks::configure).configure(planner::configure))
            .configure(billing::configure)
            .configure(tasks::configure),
    )
    .default_service(web::to(not_found));
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    tracing::debug!(path = req.path(), "no route");
    Err(ApiError::NotFound { what: "resource" })
}
