//! What a task kind implements, and what it gets to work with.

use std::{
    fmt,
    sync::{Arc, LazyLock},
    time::Duration,
};

use diesel::PgConnection;
use serde::de::DeserializeOwned;
use serde_json::Value;
use shared::{
    db::{PgPool, models::Task},
    net::OutboundGuard,
    tasks::{TaskKind, kind_spec, parse_payload},
};

use super::progress::ProgressHub;

/// One task kind's work. The runtime does everything else: claiming, retries, time limits,
/// cancellation, committing the outcome and acknowledging the message.
#[async_trait::async_trait]
pub trait TaskHandler: Send + Sync + 'static {
    /// The task kind this handler runs, e.g. `system.ping`.
    fn kind(&self) -> &'static str;

    /// How long one attempt may run before it fails with `time_limit_exceeded`. Defaults to
    /// the kind's limit in the catalogue.
    fn time_limit(&self) -> Duration {
        kind_spec(self.kind()).map_or(DEFAULT_TIME_LIMIT, |spec| spec.time_limit)
    }

    async fn run(&self, ctx: &TaskContext) -> Result<Completion, TaskError>;
}

/// A handler of one kind of the catalogue: it gets its payload parsed by the kind's type and
/// checked by its rules (a payload that fails either fails the task for good, naming the
/// field), and runs with the kind's time limit.
#[async_trait::async_trait]
pub trait KindHandler: Send + Sync + 'static {
    type Kind: TaskKind;

    /// The guard the payload's addresses are judged by (the kind's own rules decide whether
    /// it has any).
    fn outbound(&self) -> &OutboundGuard {
        static PUBLIC_ONLY: LazyLock<OutboundGuard> = LazyLock::new(OutboundGuard::default);
        &PUBLIC_ONLY
    }

    async fn run(
        &self,
        ctx: &TaskContext,
        payload: <Self::Kind as TaskKind>::Payload,
    ) -> Result<Completion, TaskError>;
}

#[async_trait::async_trait]
impl<H: KindHandler> TaskHandler for H {
    fn kind(&self) -> &'static str {
        H::Kind::NAME
    }

    fn time_limit(&self) -> Duration {
        H::Kind::TIME_LIMIT
    }

    async fn run(&self, ctx: &TaskContext) -> Result<Completion, TaskError> {
        let payload =
            parse_payload::<H::Kind>(ctx.task().payload.clone(), self.outbound()).map_err(|problems| {
                let (field, problem) = problems.first().unwrap_or(("payload", "is invalid"));
                TaskError::fatal("invalid_payload", format!("{field}: {problem}"))
            })?;
        KindHandler::run(self, ctx, payload).await
    }
}

/// The limit of a kind missing from the catalogue.
const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(10 * 60);

/// Writes a handler's effects in the transaction that marks its task SUCCESS, so a task
/// redelivered after a crash never applies them twice.
pub type Effects = Box<dyn FnOnce(&mut PgConnection) -> shared::Result<()> + Send>;

/// A successful outcome: the task's `result` and the database effects that go with it.
pub struct Completion {
    pub result: Value,
    pub effects: Option<Effects>,
}

impl Completion {
    pub fn new(result: Value) -> Self {
        Self { result, effects: None }
    }

    pub fn with_effects(
        mut self,
        effects: impl FnOnce(&mut PgConnection) -> shared::Result<()> + Send + 'static,
    ) -> Self {
        self.effects = Some(Box::new(effects));
        self
    }
}

impl fmt::Debug for Completion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Completion")
            .field("result", &self.result)
            .field("effects", &self.effects.is_some())
            .finish()
    }
}

/// Why a task did not succeed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// Worth another attempt (timeouts, 429, 5xx, lost connections). `retry_after` comes
    /// from the outside service when it said how long to wait.
    #[error("{code}: {message}")]
    Retryable { code: String, message: String, retry_after: Option<Duration> },
    /// Will fail the same way every time (bad payload, missing configuration, 4xx).
    #[error("{code}: {message}")]
    Fatal { code: String, message: String },
    /// The task was cancelled while running.
    #[error("cancelled")]
    Cancelled,
}

impl TaskError {
    pub fn retryable(code: &str, message: impl Into<String>) -> Self {
        TaskError::Retryable { code: code.to_owned(), message: message.into(), retry_after: None }
    }

    pub fn fatal(code: &str, message: impl Into<String>) -> Self {
        TaskError::Fatal { code: code.to_owned(), message: message.into() }
    }

    /// An outside service's failure: retried (after the service's `Retry-After` when it gave
    /// one) when a later attempt may fare better, else final.
    pub fn outside(retryable: bool, code: &str, message: String, retry_after: Option<Duration>) -> Self {
        if retryable {
            TaskError::Retryable { code: code.to_owned(), message, retry_after }
        } else {
            TaskError::Fatal { code: code.to_owned(), message }
        }
    }

    /// Whether a final failure is the tenant's to fix — not enough credits, credentials an
    /// outside service refused, a connection or configuration missing, data the task needs
    /// gone, an invalid payload, an address the guard refused. Such a task is FAILURE with its
    /// code and is not dead-lettered. Exhausted retries, poison messages, our own errors and
    /// any code not listed here are the operators' and are.
    pub fn is_tenants_own(&self) -> bool {
        let TaskError::Fatal { code, .. } = self else { return false };
        const EXACT: [&str; 10] = [
            "insufficient_credits",
            "plan_limit_reached",
            "invalid_payload",
            "needs_reauth",
            "address_refused",
            "bad_redirect",
            "odoo_access_denied",
            "odoo_validation_error",
            "wordpress_not_found",
            "platform_rejected",
        ];
        const SUFFIXES: [&str; 3] = ["_auth_failed", "_misconfigured", "_not_connected"];
        EXACT.contains(&code.as_str())
            || SUFFIXES.iter().any(|suffix| code.ends_with(suffix))
            || code.starts_with("no_")
    }

    pub fn code(&self) -> &str {
        match self {
            TaskError::Retryable { code, .. } | TaskError::Fatal { code, .. } => code,
            TaskError::Cancelled => "cancelled",
        }
    }
}

impl From<shared::Error> for TaskError {
    fn from(error: shared::Error) -> Self {
        if let shared::Error::PlanLimit { .. } = error {
            TaskError::fatal("plan_limit_reached", error.to_string())
        } else if error.is_transient() {
            TaskError::retryable("dependency_unavailable", error.to_string())
        } else {
            TaskError::fatal("internal_error", error.to_string())
        }
    }
}

/// The running task as a handler sees it.
pub struct TaskContext {
    task: Task,
    pool: PgPool,
    progress: Arc<ProgressHub>,
}

impl TaskContext {
    pub(crate) fn new(task: Task, pool: PgPool, progress: Arc<ProgressHub>) -> Self {
        Self { task, pool, progress }
    }

    pub fn task(&self) -> &Task {
        &self.task
    }

    /// This attempt's number, from 1.
    pub fn attempt(&self) -> i32 {
        self.task.attempts
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The payload as `T`; a payload that does not parse fails the task for good.
    pub fn payload<T: DeserializeOwned>(&self) -> Result<T, TaskError> {
        serde_json::from_value(self.task.payload.clone())
            .map_err(|error| TaskError::fatal("invalid_payload", error.to_string()))
    }

    /// Reports progress (0–100). Returns `Err(Cancelled)` once the task has been cancelled:
    /// handlers propagate it with `?` and stop.
    pub fn progress(&self, phase: &str, percentage: u8, message: impl Into<String>) -> Result<(), TaskError> {
        self.progress.report(&self.task, phase, percentage.min(100), message.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenants_own_failures_are_told_from_the_operators() {
        for code in [
            "insufficient_credits",
            "invalid_payload",
            "needs_reauth",
            "wordpress_auth_failed",
            "ai_auth_failed",
            "odoo_not_connected",
            "no_content",
            "address_refused",
        ] {
            assert!(TaskError::fatal(code, "why").is_tenants_own(), "{code}");
        }
        for code in ["internal_error", "unknown_kind", "ai_malformed_response", "embedding_model_unavailable"]
        {
            assert!(!TaskError::fatal(code, "why").is_tenants_own(), "{code}");
        }
        // Out of attempts is always the operators' to look at.
        assert!(!TaskError::retryable("needs_reauth", "why").is_tenants_own());
    }
}
