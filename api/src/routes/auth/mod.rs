//! `/api/v1/auth/`: registration, sessions and the caller's own user.

mod account;
mod profile;
mod session;
mod throttle;
pub mod tokens;
pub mod views;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(account::register)
        .service(session::login)
        .service(session::rotate)
        .service(session::rotate_token)
        .service(session::verify)
        .service(session::logout)
        .service(account::me)
        .service(profile::user_me)
        .service(profile::profile)
        .service(profile::update_profile)
        .service(account::change_password)
        .service(account::accept_invite);
}
