use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{db::models::Task, tasks::TaskState};

/// The command carried on a work queue. It names the task only: the payload, state and
/// attempt count live in the `tasks` row, which stays the source of truth.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "v")]
pub enum CommandMessage {
    #[serde(rename = "1")]
    V1 { task_id: Uuid, kind: String, account_id: i64 },
}

impl CommandMessage {
    pub fn new(task_id: Uuid, kind: &str, account_id: i64) -> Self {
        CommandMessage::V1 { task_id, kind: kind.to_owned(), account_id }
    }

    pub fn task_id(&self) -> Uuid {
        match self {
            CommandMessage::V1 { task_id, .. } => *task_id,
        }
    }
}

/// A progress or state change. Events travel on the events exchange as a JSON array: one
/// event with routing key `task.<account_id>.<task_id>`, or many with `task.batch`. They are
/// hints for live streams; polling reads the row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, diesel::QueryableByName)]
pub struct TaskEvent {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub task_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub account_id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub state: TaskState,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub phase: String,
    #[diesel(sql_type = diesel::sql_types::SmallInt)]
    pub percentage: i16,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub message: String,
}

impl TaskEvent {
    pub const BATCH_ROUTING_KEY: &'static str = "task.batch";

    pub fn routing_key(&self) -> String {
        format!("task.{}.{}", self.account_id, self.task_id)
    }
}

impl From<&Task> for TaskEvent {
    fn from(task: &Task) -> Self {
        TaskEvent {
            task_id: task.id,
            account_id: task.account_id,
            state: task.state,
            phase: task.phase.clone(),
            percentage: task.percentage,
            message: task.message.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_messages_carry_a_version_tag() {
        let id = Uuid::nil();
        let json = serde_json::to_value(CommandMessage::new(id, "system.ping", 7)).expect("serializes");
        assert_eq!(json["v"], "1");
        assert_eq!(json["kind"], "system.ping");
        let back: CommandMessage = serde_json::from_value(json).expect("parses");
        assert_eq!(back.task_id(), id);
    }
}
