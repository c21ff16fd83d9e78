use diesel::{
    PgConnection,
    prelude::*,
    sql_types::{BigInt, Integer, Jsonb, Nullable, Text, Uuid as SqlUuid},
};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    db::{
        models::{NewOutboxRow, NewTaskRow, Task},
        schema::{outbox, tasks},
    },
    error::{Error, Result},
    messaging::CommandMessage,
};

use super::kinds::{Queue, kind_spec};

/// A command to run in the background.
#[derive(Clone, Debug)]
pub struct NewTask {
    pub account_id: i64,
    pub kind: String,
    /// Overrides the kind's own queue (only diagnostics choose their queue).
    pub queue: Option<Queue>,
    pub payload: Value,
    pub created_by: Option<i64>,
    pub idempotency_key: Option<String>,
    pub parent_id: Option<Uuid>,
    /// Overrides the kind's attempt limit.
    pub max_attempts: Option<i32>,
    /// The trace the command belongs to: the current request's when made while serving one.
    pub trace_id: Option<String>,
}

impl NewTask {
    pub fn new(account_id: i64, kind: &str, payload: Value) -> Self {
        Self {
            account_id,
            kind: kind.to_owned(),
            queue: None,
            payload,
            created_by: None,
            idempotency_key: None,
            parent_id: None,
            max_attempts: None,
            trace_id: crate::telemetry::current_trace_id(),
        }
    }

    fn fingerprint(&self) -> String {
        crate::auth::sha256_hex(format!("{}\n{}", self.kind, self.payload))
    }

    fn into_rows(self) -> Result<(NewTaskRow, NewOutboxRow)> {
        let spec = kind_spec(&self.kind).ok_or_else(|| Error::UnknownTaskKind(self.kind.clone()))?;
        let queue = self.queue.or(spec.queue).ok_or_else(|| Error::UnknownTaskKind(self.kind.clone()))?;
        let id = Uuid::now_v7();
        let fingerprint = self.idempotency_key.as_ref().map(|_| self.fingerprint());
        let message = CommandMessage::new(id, &self.kind, self.account_id);
        let outbox_row = NewOutboxRow {
            task_id: id,
            routing_key: queue.as_str().to_owned(),
            body: serde_json::to_value(&message)?,
            trace_id: self.trace_id,
        };
        let task_row = NewTaskRow {
            id,
            account_id: self.account_id,
            kind: self.kind,
            queue: queue.as_str().to_owned(),
            payload: self.payload,
            max_attempts: self.max_attempts.unwrap_or(spec.max_attempts),
            idempotency_key: self.idempotency_key,
            request_fingerprint: fingerprint,
            parent_id: self.parent_id,
            created_by: self.created_by,
        };
        Ok((task_row, outbox_row))
    }
}

/// The result of an enqueue: the task, whether this call created it (false when an
/// `Idempotency-Key` matched an earlier task) and the outbox row to hand to the relay.
#[derive(Debug)]
pub struct Enqueued {
    pub task: Task,
    pub created: bool,
    pub outbox_id: Option<i64>,
}

/// Inserts the task and its outbox row on `conn`, in one statement. Call it inside the
/// caller's transaction together with the domain writes (or on its own: the statement is
/// atomic), then hand `outbox_id` to the relay after commit.
pub fn enqueue(conn: &mut PgConnection, new_task: NewTask) -> Result<Enqueued> {
    if let Some(key) = new_task.idempotency_key.clone()
        && let Some(existing) = find_by_idempotency_key(conn, new_task.account_id, &key)?
    {
        return reuse(existing, &new_task);
    }
    let account_id = new_task.account_id;
    let key = new_task.idempotency_key.clone();
    let probe = new_task.clone();
    let (task_row, outbox_row) = new_task.into_rows()?;
    let inserted = insert_task_and_outbox(conn, task_row, outbox_row)?;
    match (inserted, key) {
        (Some(Inserted { task, outbox_id }), _) => {
            Ok(Enqueued { task, created: true, outbox_id: Some(outbox_id) })
        }
        // A concurrent request with the same key won the insert.
        (None, Some(key)) => match find_by_idempotency_key(conn, account_id, &key)? {
            Some(existing) => reuse(existing, &probe),
            None => Err(Error::IdempotencyKeyReused),
        },
        (None, None) => Err(Error::Database(diesel::result::Error::NotFound)),
    }
}

/// Enqueues many tasks with two multi-row inserts (bulk commands, the benchmark). Idempotency
/// keys are not supported here.
pub fn enqueue_many(conn: &mut PgConnection, new_tasks: Vec<NewTask>) -> Result<Vec<(Uuid, i64)>> {
    let (task_rows, outbox_rows): (Vec<_>, Vec<_>) = new_tasks
        .into_iter()
        .map(|mut task| {
            task.idempotency_key = None;
            task.into_rows()
        })
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .unzip();
    // Postgres caps a statement at 65535 bind parameters.
    for chunk in task_rows.chunks(2_000) {
        diesel::insert_into(tasks::table).values(chunk).execute(conn)?;
    }
    let mut ids = Vec::with_capacity(outbox_rows.len());
    for chunk in outbox_rows.chunks(5_000) {
        let inserted: Vec<(Uuid, i64)> = diesel::insert_into(outbox::table)
            .values(chunk)
            .returning((outbox::task_id, outbox::id))
            .get_results(conn)?;
        ids.extend(inserted);
    }
    Ok(ids)
}

#[derive(QueryableByName)]
struct Inserted {
    #[diesel(embed)]
    task: Task,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    outbox_id: i64,
}

crate::prepared_statement! {
    /// The task row and its outbox row in a single statement: one round trip, and atomic even
    /// outside a transaction. Nothing is inserted when the task conflicts (idempotency key).
    struct InsertTaskAndOutbox {
        id: Uuid,
        account_id: i64,
        kind: String,
        queue: String,
        payload: Value,
        max_attempts: i32,
        idempotency_key: Option<String>,
        request_fingerprint: Option<String>,
        parent_id: Option<Uuid>,
        created_by: Option<i64>,
        routing_key: String,
        body: Value,
        trace_id: Option<String>,
    }
    sql = [
        "WITH new_task AS ( \
             INSERT INTO tasks (id, account_id, kind, queue, payload, max_attempts, idempotency_key, \
                                request_fingerprint, parent_id, created_by) VALUES (",
        (id as SqlUuid), ", ", (account_id as BigInt), ", ", (kind as Text), ", ", (queue as Text), ", ",
        (payload as Jsonb), ", ", (max_attempts as Integer), ", ", (idempotency_key as Nullable<Text>), ", ",
        (request_fingerprint as Nullable<Text>), ", ", (parent_id as Nullable<SqlUuid>), ", ",
        (created_by as Nullable<BigInt>),
        ") ON CONFLICT DO NOTHING RETURNING *), \
         new_outbox AS (INSERT INTO outbox (task_id, routing_key, body, trace_id) SELECT id, ",
        (routing_key as Text), ", ", (body as Jsonb), ", ", (trace_id as Nullable<Text>),
        " FROM new_task RETURNING id) \
         SELECT new_task.*, new_outbox.id AS outbox_id FROM new_task, new_outbox",
    ];
}

fn insert_task_and_outbox(
    conn: &mut PgConnection,
    task: NewTaskRow,
    outbox: NewOutboxRow,
) -> Result<Option<Inserted>> {
    let statement = InsertTaskAndOutbox {
        id: task.id,
        account_id: task.account_id,
        kind: task.kind,
        queue: task.queue,
        payload: task.payload,
        max_attempts: task.max_attempts,
        idempotency_key: task.idempotency_key,
        request_fingerprint: task.request_fingerprint,
        parent_id: task.parent_id,
        created_by: task.created_by,
        routing_key: outbox.routing_key,
        body: outbox.body,
        trace_id: outbox.trace_id,
    };
    Ok(statement.get_result(conn).optional()?)
}

/// The account's task made under `key`, if any.
pub fn find_by_idempotency_key(conn: &mut PgConnection, account_id: i64, key: &str) -> Result<Option<Task>> {
    Ok(tasks::table
        .filter(tasks::account_id.eq(account_id))
        .filter(tasks::idempotency_key.eq(key))
        .select(Task::as_select())
        .first(conn)
        .optional()?)
}

fn reuse(existing: Task, request: &NewTask) -> Result<Enqueued> {
    if existing.request_fingerprint.as_deref() != Some(request.fingerprint().as_str()) {
        return Err(Error::IdempotencyKeyReused);
    }
    Ok(Enqueued { task: existing, created: false, outbox_id: None })
}
