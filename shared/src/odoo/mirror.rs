//! The account's mirror of its Odoo records and the state of each model's sync: what
//! `worker-odoo` writes after a pull ([`save_pull`], [`note_failure`]) and what the API reads
//! back.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::{prelude::*, upsert::excluded};
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

/// Each model's stored cursor: its name, the `write_date` and the id the next incremental
/// pull goes on from.
pub fn cursors(conn: &mut PgConnection, account_id: i64) -> Result<Vec<(String, Option<String>, i64)>> {
    Ok(odoo_sync_state::table
        .filter(odoo_sync_state::account_id.eq(account_id))
        .select((odoo_sync_state::model, odoo_sync_state::cursor_write_date, odoo_sync_state::cursor_id))
        .load(conn)?)
}

/// What one run read of one model.
pub struct ModelPull<'a> {
    pub model: &'static str,
    /// The records as Odoo answered them (`id`, `name`, `write_date`, `active`, …).
    pub records: &'a [Value],
    /// Every id Odoo has (full resyncs only): mirrored records not among them are deleted.
    pub all_ids: Option<&'a HashSet<i64>>,
    /// The `write_date` and id of the last record read.
    pub cursor: Option<(String, i64)>,
}

/// Rows per INSERT statement, well under Postgres' bind parameter limit.
const UPSERT_CHUNK: usize = 1_000;

/// Writes a pull into the mirror and moves the model's cursor, as run `task_id`. Call it in
/// the task's success transaction, so a failed run writes nothing.
pub fn save_pull(
    conn: &mut PgConnection,
    account_id: i64,
    task_id: uuid::Uuid,
    pull: ModelPull<'_>,
) -> Result<()> {
    use odoo_records as r;
    let model = pull.model;
    let rows: Vec<_> = pull
        .records
        .iter()
        .filter_map(|record| {
            let odoo_id = record["id"].as_i64()?;
            Some((
                r::account_id.eq(account_id),
                r::model.eq(model),
                r::odoo_id.eq(odoo_id),
                r::name.eq(record["name"].as_str().unwrap_or_default().to_owned()),
                r::data.eq(record.clone()),
                r::write_date.eq(record["write_date"].as_str().unwrap_or_default().to_owned()),
                r::active.eq(record["active"].as_bool().unwrap_or(true)),
                r::deleted.eq(false),
            ))
        })
        .collect();
    for chunk in rows.chunks(UPSERT_CHUNK) {
        diesel::insert_into(r::table)
            .values(chunk)
            .on_conflict((r::account_id, r::model, r::odoo_id))
            .do_update()
            .set((
                r::name.eq(excluded(r::name)),
                r::data.eq(excluded(r::data)),
                r::write_date.eq(excluded(r::write_date)),
                r::active.eq(excluded(r::active)),
                r::deleted.eq(false),
                r::synced_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
    }
    if let Some(all_ids) = pull.all_ids {
        let mirrored: Vec<i64> = r::table
            .filter(r::account_id.eq(account_id))
            .filter(r::model.eq(model))
            .filter(r::deleted.eq(false))
            .select(r::odoo_id)
            .load(conn)?;
        let gone: Vec<i64> = mirrored.into_iter().filter(|id| !all_ids.contains(id)).collect();
        diesel::update(r::table)
            .filter(r::account_id.eq(account_id))
            .filter(r::model.eq(model))
            .filter(r::odoo_id.eq_any(gone))
            .set((r::deleted.eq(true), r::synced_at.eq(diesel::dsl::now)))
            .execute(conn)?;
    }
    let (cursor_date, cursor_id) = pull.cursor.map_or((None, 0), |(date, id)| (Some(date), id));
    let synced = i32::try_from(pull.records.len()).unwrap_or(i32::MAX);
    use odoo_sync_state as s;
    diesel::insert_into(s::table)
        .values((
            s::account_id.eq(account_id),
            s::model.eq(model),
            s::cursor_write_date.eq(&cursor_date),
            s::cursor_id.eq(cursor_id),
            s::last_run_at.eq(diesel::dsl::now),
            s::last_status.eq(SyncStatus::Succeeded),
            s::last_task_id.eq(task_id),
            s::last_synced.eq(synced),
        ))
        .on_conflict((s::account_id, s::model))
        .do_update()
        .set((
            s::cursor_write_date.eq(&cursor_date),
            s::cursor_id.eq(cursor_id),
            s::last_run_at.eq(diesel::dsl::now),
            s::last_status.eq(SyncStatus::Succeeded),
            s::last_error.eq(None::<String>),
            s::last_task_id.eq(task_id),
            s::last_synced.eq(synced),
        ))
        .execute(conn)?;
    Ok(())
}

/// Notes a failed run of `task_id` on each model, leaving its cursor where it was.
pub fn note_failure(
    conn: &mut PgConnection,
    account_id: i64,
    models: &[&str],
    task_id: uuid::Uuid,
    message: &str,
) -> Result<()> {
    use odoo_sync_state as s;
    for model in models {
        diesel::insert_into(s::table)
            .values((
                s::account_id.eq(account_id),
                s::model.eq(model),
                s::last_run_at.eq(diesel::dsl::now),
                s::last_status.eq(SyncStatus::Failed),
                s::last_error.eq(message),
                s::last_task_id.eq(task_id),
            ))
            .on_conflict((s::account_id, s::model))
            .do_update()
            .set((
                s::last_run_at.eq(diesel::dsl::now),
                s::last_status.eq(SyncStatus::Failed),
                s::last_error.eq(message),
                s::last_task_id.eq(task_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}
