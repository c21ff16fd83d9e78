//! Dead letters: each queue's dead-letter queue is drained into the `dead_letters` table — a
//! row committed before the message is acknowledged, so a crash loses nothing, and the
//! message id (the task id) keeps a redelivered copy from making a second row — where
//! operators list, requeue and purge them. Requeueing puts the task back to `PENDING` with
//! its attempts kept and a fresh budget of its kind's attempts on top, and its command in the
//! outbox, in one transaction.

use diesel::prelude::*;
use lapin::{
    message::Delivery,
    options::{BasicAckOptions, BasicGetOptions},
    types::AMQPValue,
};
use serde::Serialize;
use uuid::Uuid;

use super::{CommandMessage, Publisher};
use crate::{
    db::{
        PgPool,
        models::Task,
        schema::{dead_letters, outbox, tasks},
    },
    error::Result,
    tasks::{Queue, TaskState, kind_spec},
};

/// At most this many messages are moved per drain; the rest wait for the next one.
pub const DRAIN_LIMIT: usize = 5_000;

/// A dead letter as listed.
#[derive(Clone, Debug, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = dead_letters)]
pub struct DeadLetter {
    pub id: i64,
    pub queue: String,
    pub task_id: Option<Uuid>,
    pub kind: String,
    pub account_id: Option<i64>,
    pub error_code: String,
    pub error_message: String,
    pub attempts: Option<i32>,
    pub dead_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = dead_letters)]
struct NewDeadLetter {
    queue: String,
    message_id: Option<String>,
    task_id: Option<Uuid>,
    kind: String,
    account_id: Option<i64>,
    error_code: String,
    error_message: String,
    attempts: Option<i32>,
    body: Vec<u8>,
}

impl NewDeadLetter {
    /// The row for a dead-lettered message: the worker's annotations (`x-task-id`,
    /// `x-error-code`, `x-error-message`, `x-attempts`) and what the command names.
    fn from_delivery(queue: Queue, delivery: &Delivery) -> Self {
        let headers = delivery.properties.headers().clone().unwrap_or_default();
        let header = |name: &str| match headers.inner().get(name) {
            Some(AMQPValue::LongString(value)) => Some(value.to_string()),
            Some(AMQPValue::ShortString(value)) => Some(value.to_string()),
            _ => None,
        };
        let command = serde_json::from_slice::<CommandMessage>(&delivery.data).ok();
        let (task_id, kind, account_id) = match &command {
            Some(CommandMessage::V1 { task_id, kind, account_id }) => {
                (Some(*task_id), kind.clone(), Some(*account_id))
            }
            None => (header("x-task-id").and_then(|id| id.parse().ok()), String::new(), None),
        };
        Self {
            queue: queue.as_str().to_owned(),
            message_id: delivery.properties.message_id().as_ref().map(|id| id.to_string()),
            task_id,
            kind,
            account_id,
            error_code: header("x-error-code").unwrap_or_default(),
            error_message: header("x-error-message").unwrap_or_default(),
            attempts: header("x-attempts").and_then(|n| n.parse().ok()),
            body: delivery.data.clone(),
        }
    }
}

/// Moves what waits in `queue`'s dead-letter queue into the table; how many rows it made.
pub async fn drain(publisher: &Publisher, pool: &PgPool, queue: Queue) -> Result<usize> {
    let channel = publisher.channel().await?;
    let name = publisher.topology().dead_queue(queue);
    let mut made = 0;
    for _ in 0..DRAIN_LIMIT {
        let Some(message) =
            channel.basic_get(name.as_str().into(), BasicGetOptions { no_ack: false }).await?
        else {
            break;
        };
        let row = NewDeadLetter::from_delivery(queue, &message.delivery);
        made += crate::db::run(pool, move |conn| {
            Ok(diesel::insert_into(dead_letters::table)
                .values(&row)
                .on_conflict_do_nothing()
                .execute(conn)?)
        })
        .await?;
        message.delivery.ack(BasicAckOptions::default()).await?;
    }
    let _ = channel.close(200, "drained".into()).await;
    Ok(made)
}

/// One page of `queue`'s dead letters, newest first, and how many there are.
pub fn list(
    conn: &mut PgConnection,
    queue: Queue,
    limit: i64,
    offset: i64,
) -> Result<(Vec<DeadLetter>, i64)> {
    let filtered = || dead_letters::table.filter(dead_letters::queue.eq(queue.as_str()));
    let total = filtered().count().get_result(conn)?;
    let rows = filtered()
        .order(dead_letters::id.desc())
        .limit(limit)
        .offset(offset)
        .select(DeadLetter::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// How many dead letters each queue holds.
pub fn counts(conn: &mut PgConnection) -> Result<Vec<(String, i64)>> {
    Ok(dead_letters::table
        .group_by(dead_letters::queue)
        .select((dead_letters::queue, diesel::dsl::count_star()))
        .load(conn)?)
}

/// What became of a dead letter sent back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Requeued {
    /// The task is `PENDING` again; its command waits in the outbox.
    Requeued { task_id: Uuid, outbox_id: i64 },
    /// The task has moved on since (run again, cancelled, deleted with its account): the
    /// letter is dropped and nothing is sent.
    Stale { task_id: Option<Uuid> },
    /// Not a command we can read: it stays for an operator to look at.
    Unreadable,
}

/// Sends dead letter `id` of `queue` back (see the module notes); `None` when there is none.
pub fn requeue(conn: &mut PgConnection, queue: Queue, id: i64) -> Result<Option<Requeued>> {
    conn.transaction(|conn| {
        let letter: Option<Option<Uuid>> = dead_letters::table
            .find(id)
            .filter(dead_letters::queue.eq(queue.as_str()))
            .select(dead_letters::task_id)
            .for_update()
            .first(conn)
            .optional()?;
        let Some(task_id) = letter else { return Ok(None) };
        let Some(task_id) = task_id else { return Ok(Some(Requeued::Unreadable)) };
        diesel::delete(dead_letters::table.find(id)).execute(conn)?;
        let task: Option<Task> =
            tasks::table.find(task_id).select(Task::as_select()).for_update().first(conn).optional()?;
        let Some(task) = task.filter(|task| task.state == TaskState::Failure) else {
            return Ok(Some(Requeued::Stale { task_id: Some(task_id) }));
        };
        let budget = kind_spec(&task.kind).map_or(3, |spec| spec.max_attempts);
        diesel::update(tasks::table.find(task_id))
            .set((
                tasks::state.eq(TaskState::Pending),
                tasks::phase.eq("QUEUED"),
                tasks::percentage.eq(0),
                tasks::message.eq("Requeued from the dead-letter queue"),
                tasks::max_attempts.eq(task.attempts + budget),
                tasks::finished_at.eq(None::<chrono::DateTime<chrono::Utc>>),
                tasks::worker_id.eq(None::<Uuid>),
                tasks::cancel_requested.eq(false),
                tasks::updated_at.eq(diesel::dsl::now),
                tasks::revision.eq(tasks::revision + 1),
            ))
            .execute(conn)?;
        let command = serde_json::to_value(CommandMessage::new(task.id, &task.kind, task.account_id))?;
        let outbox_id = diesel::insert_into(outbox::table)
            .values((
                outbox::task_id.eq(task.id),
                outbox::routing_key.eq(&task.queue),
                outbox::body.eq(command),
            ))
            .returning(outbox::id)
            .get_result(conn)?;
        Ok(Some(Requeued::Requeued { task_id, outbox_id }))
    })
}

/// The ids of `queue`'s dead letters, oldest first.
pub fn ids(conn: &mut PgConnection, queue: Queue) -> Result<Vec<i64>> {
    Ok(dead_letters::table
        .filter(dead_letters::queue.eq(queue.as_str()))
        .order(dead_letters::id)
        .select(dead_letters::id)
        .load(conn)?)
}

/// Deletes `queue`'s dead letters; how many there were.
pub fn purge(conn: &mut PgConnection, queue: Queue) -> Result<usize> {
    Ok(diesel::delete(dead_letters::table.filter(dead_letters::queue.eq(queue.as_str()))).execute(conn)?)
}
