//! The account's mirror of its Odoo records and the state of each model's sync, as the API
//! reads them back. `worker-odoo` writes both.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;

use crate::{
    Result,
    db::{
        schema::{integration_settings, odoo_records, odoo_sync_state},
        text_enum::text_enum,
    },
    ids::AccountId,
    tenant::{Window, contains},
};

text_enum! {
    /// How a model's last sync run ended.
    #[schema(as = OdooSyncStatus)]
    pub enum SyncStatus {
        Succeeded = "succeeded",
        Failed = "failed",
    }
}

/// One model's sync state.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = odoo_sync_state, check_for_backend(diesel::pg::Pg))]
pub struct SyncState {
    pub model: String,
    /// The `write_date` the next incremental run starts from.
    pub cursor_write_date: Option<String>,
    pub last_run_at: Option<DateTime<Utc>>,
    pub last_status: Option<SyncStatus>,
    pub last_error: Option<String>,
    pub last_task_id: Option<uuid::Uuid>,
    /// Records read by the last run.
    pub last_synced: i32,
}

/// How many records of a model the mirror holds: `(model, deleted in Odoo, count)`.
pub type MirrorCount = (String, bool, i64);

/// The account's sync state of every model it has synced, and how many records of each model
/// its mirror holds.
pub fn sync_status(
    conn: &mut PgConnection,
    account: AccountId,
) -> Result<(Vec<SyncState>, Vec<MirrorCount>)> {
    let states = odoo_sync_state::table
        .filter(odoo_sync_state::account_id.eq(account))
        .select(SyncState::as_select())
        .load(conn)?;
    let counts = odoo_records::table
        .filter(odoo_records::account_id.eq(account))
        .group_by((odoo_records::model, odoo_records::deleted))
        .select((odoo_records::model, odoo_records::deleted, diesel::dsl::count_star()))
        .load(conn)?;
    Ok((states, counts))
}

/// Whether the account has an active Odoo connection.
pub fn is_connected(conn: &mut PgConnection, account: AccountId) -> Result<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        integration_settings::table
            .filter(integration_settings::account_id.eq(account))
            .filter(integration_settings::integration_type.eq(super::INTEGRATION))
            .filter(integration_settings::is_active.eq(true)),
    ))
    .get_result(conn)?)
}

/// A mirrored record.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = odoo_records, check_for_backend(diesel::pg::Pg))]
pub struct Record {
    pub model: String,
    pub odoo_id: i64,
    pub data: Value,
    pub write_date: String,
    pub active: bool,
}

/// Which records of one model a listing covers; by name.
pub struct RecordFilter {
    pub model: &'static str,
    pub include_archived: bool,
    /// Found in the name.
    pub search: Option<String>,
}

/// One page of the account's mirrored records `filter` covers (never those deleted in
/// Odoo), and how many there are.
pub fn records(
    conn: &mut PgConnection,
    account: AccountId,
    filter: &RecordFilter,
    window: Window,
) -> Result<(Vec<Record>, i64)> {
    let pattern = contains(filter.search.as_deref());
    let filtered = || {
        let mut query = odoo_records::table
            .filter(odoo_records::account_id.eq(account))
            .filter(odoo_records::model.eq(filter.model))
            .filter(odoo_records::deleted.eq(false))
            .into_boxed();
        if !filter.include_archived {
            query = query.filter(odoo_records::active.eq(true));
        }
        if let Some(pattern) = &pattern {
            query = query.filter(odoo_records::name.ilike(pattern.clone()));
        }
        query
    };
    let count: i64 = filtered().count().get_result(conn)?;
    let rows = filtered()
        .order((odoo_records::name, odoo_records::odoo_id))
        .offset(window.offset)
        .limit(window.limit)
        .select(Record::as_select())
        .load(conn)?;
    Ok((rows, count))
}

/// The account's active, not deleted records of `models`.
pub fn active_records(conn: &mut PgConnection, account: AccountId, models: &[&str]) -> Result<Vec<Record>> {
    Ok(odoo_records::table
        .filter(odoo_records::account_id.eq(account))
        .filter(odoo_records::deleted.eq(false))
        .filter(odoo_records::active.eq(true))
        .filter(odoo_records::model.eq_any(models))
        .select(Record::as_select())
        .load(conn)?)
}
