//! Webhook endpoints: each belongs to an account and is addressed by `(source, key)`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::Source;
use crate::{Result, db::schema::webhook_endpoints, ids::AccountId};

/// An endpoint as its owner sees it (without its secret).
#[derive(Clone, Debug, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = webhook_endpoints, check_for_backend(diesel::pg::Pg))]
#[schema(as = WebhookEndpointRow)]
pub struct Endpoint {
    pub id: i64,
    pub source: String,
    pub key: String,
    pub site_id: Option<i64>,
    /// The task kind the endpoint enqueues when the delivery has no effect of its own.
    pub command_kind: Option<String>,
    pub command_payload: Option<Value>,
    /// Deliveries refused for their signature.
    pub rejected_count: i64,
    pub last_rejected_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Whether deliveries to the seeds' keyless path of its source reach this endpoint (one
    /// per source, set by an operator).
    pub is_install_default: bool,
}

crate::owned_table! { Endpoint { table: webhook_endpoints, what: "webhook endpoint" } }

impl Endpoint {
    /// The path the sender posts deliveries to.
    pub fn url(&self) -> String {
        format!("/api/v1/webhooks/{}/{}/", self.source, self.key)
    }
}

/// A new endpoint; its command (kind and payload) was checked by the caller.
pub struct NewEndpoint {
    pub source: Source,
    pub key: String,
    /// The signing secret, sealed for this endpoint's key.
    pub sealed_secret: Vec<u8>,
    pub site_id: Option<i64>,
    pub command: Option<(String, Value)>,
}

/// The account's endpoints, by id.
pub fn list(conn: &mut PgConnection, account: AccountId) -> Result<Vec<Endpoint>> {
    Ok(webhook_endpoints::table
        .filter(webhook_endpoints::account_id.eq(account))
        .order(webhook_endpoints::id)
        .select(Endpoint::as_select())
        .load(conn)?)
}

pub fn create(conn: &mut PgConnection, account: AccountId, new: NewEndpoint) -> Result<Endpoint> {
    use webhook_endpoints as w;
    let (command_kind, command_payload) = new.command.unzip();
    Ok(diesel::insert_into(w::table)
        .values((
            w::account_id.eq(account),
            w::source.eq(new.source.as_str()),
            w::key.eq(&new.key),
            w::secret.eq(new.sealed_secret),
            w::site_id.eq(new.site_id),
            w::command_kind.eq(command_kind),
            w::command_payload.eq(command_payload),
        ))
        .returning(Endpoint::as_returning())
        .get_result(conn)?)
}

/// The endpoint a delivery is addressed to, with what checking and acting on it needs.
#[derive(Clone, Debug)]
pub struct Receiving {
    pub id: i64,
    pub account_id: i64,
    /// The key of its URL (whose secret the sealed one is).
    pub key: String,
    /// The sealed signing secret.
    pub secret: Vec<u8>,
    pub site_id: Option<i64>,
    pub command: Option<(String, Value)>,
}

/// The endpoint of `source` whose URL carries `key`.
pub fn receiving(conn: &mut PgConnection, source: Source, key: &str) -> Result<Option<Receiving>> {
    receiving_by(conn, source, Some(key))
}

/// The endpoint of `source` an operator made the install's default: the one the seeds'
/// keyless paths reach.
pub fn install_default(conn: &mut PgConnection, source: Source) -> Result<Option<Receiving>> {
    receiving_by(conn, source, None)
}

/// The endpoint of `source` with `key`, or (`None`) its install default.
fn receiving_by(conn: &mut PgConnection, source: Source, key: Option<&str>) -> Result<Option<Receiving>> {
    use webhook_endpoints as w;
    type Row = (i64, i64, String, Vec<u8>, Option<i64>, Option<String>, Option<Value>);
    let mut query = w::table.filter(w::source.eq(source.as_str())).into_boxed();
    query = match key {
        Some(key) => query.filter(w::key.eq(key.to_owned())),
        None => query.filter(w::is_install_default),
    };
    let row: Option<Row> = query
        .select((w::id, w::account_id, w::key, w::secret, w::site_id, w::command_kind, w::command_payload))
        .first(conn)
        .optional()?;
    Ok(row.map(|(id, account_id, key, secret, site_id, kind, payload)| Receiving {
        id,
        account_id,
        key,
        secret,
        site_id,
        command: kind.map(|kind| (kind, payload.unwrap_or(Value::Null))),
    }))
}

/// Makes endpoint `id` (of any account) its source's install default, or stops it being one;
/// the source's previous default stops being one in the same transaction. `None`: no such
/// endpoint.
pub fn set_install_default(conn: &mut PgConnection, id: i64, default: bool) -> Result<Option<Endpoint>> {
    use webhook_endpoints as w;
    conn.transaction(|conn| {
        let Some(source) =
            w::table.find(id).select(w::source).for_update().first::<String>(conn).optional()?
        else {
            return Ok(None);
        };
        if default {
            diesel::update(w::table.filter(w::source.eq(&source)).filter(w::is_install_default))
                .set(w::is_install_default.eq(false))
                .execute(conn)?;
        }
        Ok(Some(
            diesel::update(w::table.find(id))
                .set(w::is_install_default.eq(default))
                .returning(Endpoint::as_returning())
                .get_result(conn)?,
        ))
    })
}

/// Counts a delivery refused for its signature.
pub fn count_rejection(conn: &mut PgConnection, endpoint_id: i64) -> Result<()> {
    use webhook_endpoints as w;
    diesel::update(w::table.find(endpoint_id))
        .set((w::rejected_count.eq(w::rejected_count + 1), w::last_rejected_at.eq(diesel::dsl::now)))
        .execute(conn)?;
    Ok(())
}
