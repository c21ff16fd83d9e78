//! `/api/v1/planner/`: keywords, clusters and content ideas. Every row belongs to an account
//! and a site of that account (and optionally a sector of that site); every query is scoped
//! by the caller's account, so another tenant's id answers 404 and lists never show it.
//! Everyone in the account reads; editors and above write.

mod clusters;
mod csv;
mod csv_rows;
mod ideas;
mod keyword_query;
mod keywords;

use diesel::prelude::*;
use serde::{Deserialize, Deserializer, Serialize};
use shared::db::schema::{clusters as clusters_table, sectors, sites};
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

/// Search intent of a keyword or cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Intent {
    Informational,
    Commercial,
    Transactional,
    Navigational,
}

impl Intent {
    pub const ALL: [Intent; 4] =
        [Intent::Informational, Intent::Commercial, Intent::Transactional, Intent::Navigational];

    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Informational => "informational",
            Intent::Commercial => "commercial",
            Intent::Transactional => "transactional",
            Intent::Navigational => "navigational",
        }
    }

    /// Case-insensitive, as a CSV cell may spell it.
    pub fn parse(text: &str) -> Option<Intent> {
        Intent::ALL.into_iter().find(|intent| intent.as_str().eq_ignore_ascii_case(text))
    }
}

/// Status of a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeywordStatus {
    Active,
    Pending,
    Archived,
}

impl KeywordStatus {
    pub const ALL: [KeywordStatus; 3] =
        [KeywordStatus::Active, KeywordStatus::Pending, KeywordStatus::Archived];

    pub fn as_str(self) -> &'static str {
        match self {
            KeywordStatus::Active => "active",
            KeywordStatus::Pending => "pending",
            KeywordStatus::Archived => "archived",
        }
    }

    pub fn parse(text: &str) -> Option<KeywordStatus> {
        KeywordStatus::ALL.into_iter().find(|status| status.as_str().eq_ignore_ascii_case(text))
    }
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
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeletedCount {
    pub deleted_count: usize,
}

/// The answer of a bulk status change: how many of the ids were the caller's and changed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
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

/// What a planner row points at. Each must be the caller's, the sector must be on the site
/// and the cluster on the site; the database's composite foreign keys are the second fence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refs {
    pub site_id: i64,
    pub sector_id: Option<i64>,
    pub cluster_id: Option<i64>,
}

impl Refs {
    /// These refs with an update's fields applied: a field not sent keeps its value, a
    /// nullable one sent as `null` clears it.
    pub fn changed(
        self,
        site_id: Option<i64>,
        sector_id: Option<Option<i64>>,
        cluster_id: Option<Option<i64>>,
    ) -> Refs {
        Refs {
            site_id: site_id.unwrap_or(self.site_id),
            sector_id: sector_id.unwrap_or(self.sector_id),
            cluster_id: cluster_id.unwrap_or(self.cluster_id),
        }
    }
}

/// On update: checks `new` only when it differs from what the row points at now (`current`),
/// and says whether it does.
pub async fn check_moved_refs(
    state: &AppState,
    account_id: i64,
    current: Refs,
    new: Refs,
) -> Result<bool, ApiError> {
    let moved = new != current;
    if moved {
        check_refs(state, account_id, new).await?;
    }
    Ok(moved)
}

/// 400 naming `site_id`, `sector_id` or `cluster_id` when one is not the caller's or does not
/// fit the site.
pub async fn check_refs(state: &AppState, account_id: i64, refs: Refs) -> Result<(), ApiError> {
    let Refs { site_id, sector_id, cluster_id } = refs;
    let errors = state
        .db(move |conn| {
            let mut errors = FieldErrors::new();
            let site: Option<i64> = sites::table
                .find(site_id)
                .filter(sites::account_id.eq(account_id))
                .select(sites::id)
                .first(conn)
                .optional()?;
            if site.is_none() {
                validation::push(&mut errors, "site_id", "Site not found.");
                return Ok(errors);
            }
            if let Some(sector_id) = sector_id {
                let sector: Option<i64> = sectors::table
                    .find(sector_id)
                    .filter(sectors::account_id.eq(account_id))
                    .filter(sectors::site_id.eq(site_id))
                    .select(sectors::id)
                    .first(conn)
                    .optional()?;
                if sector.is_none() {
                    validation::push(&mut errors, "sector_id", "Sector not found on this site.");
                }
            }
            if let Some(cluster_id) = cluster_id {
                let cluster: Option<i64> = clusters_table::table
                    .find(cluster_id)
                    .filter(clusters_table::account_id.eq(account_id))
                    .filter(clusters_table::site_id.eq(site_id))
                    .select(clusters_table::id)
                    .first(conn)
                    .optional()?;
                if cluster.is_none() {
                    validation::push(&mut errors, "cluster_id", "Cluster not found on this site.");
                }
            }
            Ok(errors)
        })
        .await?;
    validation::finish(errors).map_err(ApiError::missing_all)
}
