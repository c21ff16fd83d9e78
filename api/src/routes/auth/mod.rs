//! `/api/v1/auth/`: registration, sessions and the caller's own user.

mod account;
mod session;
mod throttle;
pub mod tokens;
pub mod views;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(account::register)
        .service(session::login)
        .service(session::rotate)
        .service(session::logout)
        .service(account::me)
        .service(account::change_password)
        .service(account::accept_invite);
}
