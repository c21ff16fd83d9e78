use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// Task states, with Celery's names so existing frontends keep working.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    diesel::FromSqlRow,
    diesel::AsExpression,
    utoipa::ToSchema,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "UPPERCASE")]
pub enum TaskState {
    Pending,
    Started,
    Progress,
    Retry,
    Success,
    Failure,
    Revoked,
}

impl TaskState {
    pub const ALL: [TaskState; 7] = [
        TaskState::Pending,
        TaskState::Started,
        TaskState::Progress,
        TaskState::Retry,
        TaskState::Success,
        TaskState::Failure,
        TaskState::Revoked,
    ];
    /// States a worker may pick a task up from (RUNNING ones only after a crash).
    pub const CLAIMABLE: [&'static str; 4] = ["PENDING", "RETRY", "STARTED", "PROGRESS"];
    pub const TERMINAL: [&'static str; 3] = ["SUCCESS", "FAILURE", "REVOKED"];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Pending => "PENDING",
            TaskState::Started => "STARTED",
            TaskState::Progress => "PROGRESS",
            TaskState::Retry => "RETRY",
            TaskState::Success => "SUCCESS",
            TaskState::Failure => "FAILURE",
            TaskState::Revoked => "REVOKED",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, TaskState::Success | TaskState::Failure | TaskState::Revoked)
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TaskState::ALL.into_iter().find(|state| state.as_str().eq_ignore_ascii_case(s)).ok_or_else(|| {
            format!(
                "`{s}` is not a task state (PENDING, STARTED, PROGRESS, RETRY, SUCCESS, FAILURE, REVOKED)"
            )
        })
    }
}
