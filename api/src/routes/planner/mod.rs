//! `/api/v1/planner/`: keywords, clusters and content ideas. Every row belongs to an account
//! and a site of that account (and optionally a sector of that site); every query is scoped
//! by the caller's account, so another tenant's id answers 404 and lists never show it.
//! Everyone in the account reads; editors and above write. The rows, states, filters and
//! rules are `shared::planner`'s; these handlers parse, authorize and shape the answers.

mod clusters;
mod csv;
mod csv_rows;
mod ideas;
mod keyword_bulk;
mod keyword_query;
mod keywords;

use serde::{Deserialize, Deserializer, Serialize};
pub use shared::planner::{Intent, Refs};
use shared::{planner, tenant::Scope};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::{
    error::{ApiError, FieldErrors},
    extract::Validate,
    state::AppState,
    validation,
};

pub fn configure(cfg: &mut ServiceConfig) {
    // The CSV routes come first: `/keywords/export` must not be read as `/keywords/{id}`.
    cfg.configure(csv::configure)
        .configure(keywords::configure)
        .configure(clusters::configure)
        .configure(ideas::configure);
}

/// Reads a body field that may be absent (leave it), `null` (clear it) or a value (set it);
/// use with `#[serde(default, deserialize_with = "nullable")]`.
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Most ids one bulk request may name.
pub const MAX_BULK_IDS: usize = 1_000;

/// `{"ids": [1, 2, 3]}`: 1 to [`MAX_BULK_IDS`] integers.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkIds {
    /// The rows to act on (1 to 1000 ids); ids the account does not have are ignored.
    #[serde(deserialize_with = "id_list")]
    #[schema(min_items = 1, max_items = 1000)]
    pub ids: Vec<i64>,
}

/// The answer of a bulk delete: how many of the ids were the caller's and are gone.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeletedCount {
    pub deleted_count: usize,
}

/// The answer of a bulk status change: how many of the ids were the caller's and changed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UpdatedCount {
    pub updated_count: usize,
}

/// A list of integer ids; a bad element is reported on the list's own field (`ids`), not as
/// `ids[3]`.
pub fn id_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<i64>, D::Error> {
    use serde::de::Error;
    let values = Vec::<serde_json::Value>::deserialize(deserializer)?;
    values
        .iter()
        .map(|value| value.as_i64().ok_or_else(|| D::Error::custom("Each id must be an integer.")))
        .collect()
}

impl Validate for BulkIds {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        check_ids(&mut errors, "ids", &self.ids);
        validation::finish(errors)
    }
}

pub fn check_ids(errors: &mut FieldErrors, field: &str, ids: &[i64]) {
    if ids.is_empty() {
        validation::push(errors, field, "Send at least one id.");
    } else if ids.len() > MAX_BULK_IDS {
        validation::push(errors, field, format!("Send at most {MAX_BULK_IDS} ids."));
    }
}

/// On update: checks `new` only when it differs from what the row points at now (`current`),
/// and says whether it does.
pub async fn check_moved_refs(
    state: &AppState,
    scope: Scope,
    current: Refs,
    new: Refs,
) -> Result<bool, ApiError> {
    let moved = new != current;
    if moved {
        check_refs(state, scope, new).await?;
    }
    Ok(moved)
}

/// 400 naming `site_id`, `sector_id` or `cluster_id` when one is not the caller's (a site the
/// caller does not reach included) or does not fit the site.
pub async fn check_refs(state: &AppState, scope: Scope, refs: Refs) -> Result<(), ApiError> {
    let problems = state.db(move |conn| planner::ref_problems(conn, &scope, refs)).await?;
    let mut errors = FieldErrors::new();
    for (field, problem) in problems {
        validation::push(&mut errors, field, problem);
    }
    validation::finish(errors).map_err(ApiError::missing_all)
}
