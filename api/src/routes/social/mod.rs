//! `/api/v1/social/…`: connected platform accounts and posts. A post is checked against its
//! platform's rules when it is made (400 naming the limit), waits as `scheduled` until its
//! time, is queued by the scheduler and published by `worker-social`
//! (see `workers::handlers::social`).

mod accounts;
mod calendar;
mod insights;
mod posts;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(accounts::accounts)
        .service(accounts::connect)
        .service(accounts::disconnect_platform)
        .service(accounts::disconnect)
        .service(accounts::reconnect)
        .service(accounts::check)
        .service(insights::account_insights)
        .service(insights::compose)
        .service(insights::analytics)
        .service(insights::pull_insights)
        .service(posts::create_post)
        .service(posts::schedule)
        .service(posts::posts)
        .service(calendar::calendar)
        .service(posts::retrieve_post)
        .service(posts::update_post)
        .service(posts::cancel_post);
}
