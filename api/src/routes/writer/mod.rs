//! `/api/v1/writer/`: writer tasks, the content written for them and its images. Every row
//! belongs to an account and a site of that account; every query is scoped by the caller's
//! account, so another tenant's id answers 404 and lists never show it. Everyone in the
//! account reads; editors and above write. The AI commands (`auto_generate_content`,
//! `generate_image_prompts`, `generate_images`, `images/auto_generate`) check what they can up
//! front and answer 202; `worker-content` does the work.

mod auto_images;
mod content;
mod image_files;
mod images;
mod tasks;

use serde::Deserialize;
use shared::tasks::writer::MAX_BATCH;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::planner::id_list;
use crate::{error::FieldErrors, extract::Validate, validation};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.configure(tasks::configure).configure(content::configure).configure(images::configure);
}

/// `{"ids": [...]}` for an AI command: 1 to 50 ids ([`MAX_BATCH`], the seed's cap on one
/// run), deduplicated in request order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WriterBatchIds)]
pub struct BatchIds {
    /// The rows to work on.
    #[serde(deserialize_with = "id_list")]
    #[schema(min_items = 1, max_items = 50)]
    pub ids: Vec<i64>,
}

// The schema's `max_items` is a literal.
const _: () = assert!(MAX_BATCH == 50);

impl Validate for BatchIds {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.ids.is_empty() || self.ids.len() > MAX_BATCH {
            validation::push(&mut errors, "ids", format!("Send 1 to {MAX_BATCH} ids."));
        }
        validation::finish(errors)
    }
}

impl BatchIds {
    pub fn unique(&self) -> Vec<i64> {
        let mut seen = std::collections::HashSet::new();
        self.ids.iter().copied().filter(|id| seen.insert(*id)).collect()
    }
}

/// Checks a list body field: at most 200 items of 1 to 500 characters.
pub fn check_list(errors: &mut FieldErrors, field: &str, items: Option<&Vec<String>>) {
    if let Some(items) = items {
        if items.len() > 200 {
            validation::push(errors, field, "Send at most 200 items.");
        } else if items.iter().any(|item| item.trim().is_empty() || item.chars().count() > 500) {
            validation::push(errors, field, "Each item must be 1 to 500 characters.");
        }
    }
}

/// The schema [`check_list`] enforces: null, or at most 200 non-blank items of at most 500
/// characters.
pub fn text_list() -> utoipa::openapi::Array {
    use utoipa::openapi::{ArrayBuilder, ObjectBuilder, Type, schema::SchemaType};
    let item = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(500))
        .pattern(Some(r"\S"));
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(item)
        .max_items(Some(200))
        .build()
}

/// A JSON array of the trimmed items.
pub fn string_list(items: Vec<String>) -> serde_json::Value {
    serde_json::json!(items.into_iter().map(|item| item.trim().to_owned()).collect::<Vec<_>>())
}
