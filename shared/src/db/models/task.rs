use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::{
    db::schema::{task_attempts, tasks},
    tasks::TaskState,
};

/// One row of `tasks`: the full record returned by `GET /api/v1/tasks/{id}`.
#[derive(Clone, Debug, Queryable, QueryableByName, Selectable, Identifiable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = tasks, check_for_backend(diesel::pg::Pg))]
pub struct Task {
    #[serde(rename = "task_id")]
    pub id: Uuid,
    #[serde(skip)]
    pub account_id: i64,
    pub kind: String,
    pub queue: String,
    pub state: TaskState,
    pub phase: String,
    pub percentage: i16,
    pub message: String,
    pub payload: Value,
    pub result: Option<Value>,
    pub error: Option<Value>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub idempotency_key: Option<String>,
    #[serde(skip)]
    pub request_fingerprint: Option<String>,
    pub parent_id: Option<Uuid>,
    pub created_by: Option<i64>,
    #[serde(skip)]
    pub worker_id: Option<Uuid>,
    #[serde(skip)]
    pub revision: i64,
    pub cancel_requested: bool,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl Task {
    /// A strong validator for polling: changes with every write to the row.
    pub fn etag(&self) -> String {
        format!("\"{}-{}\"", self.id.simple(), self.revision)
    }
}

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = tasks)]
pub struct NewTaskRow {
    pub id: Uuid,
    pub account_id: i64,
    pub kind: String,
    pub queue: String,
    pub payload: Value,
    pub max_attempts: i32,
    pub idempotency_key: Option<String>,
    pub request_fingerprint: Option<String>,
    pub parent_id: Option<Uuid>,
    pub created_by: Option<i64>,
}

crate::db::text_enum::text_sql!(TaskState);

/// One attempt of a task (kept by the database on each claim and each end of an attempt).
#[derive(Clone, Debug, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = task_attempts, check_for_backend(diesel::pg::Pg))]
pub struct TaskAttempt {
    #[serde(skip)]
    pub task_id: Uuid,
    pub attempt: i32,
    pub worker_id: Option<Uuid>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// `running`, `succeeded`, `failed`, `retry`, `cancelled` or `interrupted` (its worker
    /// died or it was handed back).
    pub outcome: String,
    pub error: Option<String>,
}
