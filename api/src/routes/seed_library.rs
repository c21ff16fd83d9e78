//! `/api/v1/auth/industries/` and `/api/v1/auth/seed-keywords/`: the read-only seed keyword
//! library.

use actix_web::web;

pub fn configure(_cfg: &mut web::ServiceConfig) {}
