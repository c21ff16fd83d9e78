//! `/api/v1/planner/`: keywords, clusters and content ideas.

use actix_web::web;

pub fn configure(_cfg: &mut web::ServiceConfig) {}
