//! API integration tests against the real Postgres and RabbitMQ.

mod helpers;
mod webdriver;

mod admin;
mod auth;
mod bad_input;
mod commands;
mod contract;
mod dashboard;
mod hardening;
mod http_caching;
mod isolation;
mod jwt;
mod odoo;
mod openapi;
mod payments;
mod pipeline;
mod planner;
mod planner_ai;
mod plans;
mod rate_limits;
mod request_metrics;
mod resources;
mod seed_shapes;
mod seo;
mod settings;
mod site_access;
mod site_actions;
mod social;
mod status;
mod task_history;
mod tenancy;
mod webhooks;
mod writer;
mod writer_publish;
mod writer_worker;
