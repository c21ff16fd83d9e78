use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use crate::db::schema::outbox;

#[derive(Clone, Debug, Queryable, QueryableByName, Selectable, Identifiable)]
#[diesel(table_name = outbox, check_for_backend(diesel::pg::Pg))]
pub struct OutboxRow {
    pub id: i64,
    pub task_id: Uuid,
    pub routing_key: String,
    pub body: Value,
    pub created_at: DateTime<Utc>,
    pub publish_attempts: i32,
    pub last_error: Option<String>,
    pub trace_id: Option<String>,
}

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = outbox)]
pub struct NewOutboxRow {
    pub task_id: Uuid,
    pub routing_key: String,
    pub body: Value,
    pub trace_id: Option<String>,
}
