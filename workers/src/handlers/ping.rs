use std::time::Duration;

use diesel::{
    RunQueryDsl,
    sql_types::{Integer, Uuid as SqlUuid},
};
use serde_json::json;
use shared::tasks::{Ping, ping::PingPayload};
use uuid::Uuid;

use crate::runtime::{Completion, KindHandler, TaskContext, TaskError};

/// `system.ping`: see [`shared::tasks::ping`].
pub struct PingHandler;

#[async_trait::async_trait]
impl KindHandler for PingHandler {
    type Kind = Ping;

    async fn run(&self, ctx: &TaskContext, payload: PingPayload) -> Result<Completion, TaskError> {
        let attempt = ctx.attempt();
        if u32::try_from(attempt).unwrap_or(u32::MAX) <= payload.fail_times {
            return Err(TaskError::retryable(
                "planned_failure",
                format!("attempt {attempt} fails as asked (fail_times = {})", payload.fail_times),
            ));
        }
        for step in 1..=payload.steps {
            if payload.sleep_ms > 0 {
                tokio::time::sleep(Duration::from_millis(payload.sleep_ms)).await;
            }
            let percentage = u8::try_from(step * 100 / payload.steps).unwrap_or(100);
            ctx.progress("PING", percentage, format!("step {step} of {}", payload.steps))?;
        }
        let (task_id, steps) = (ctx.task().id, i32::try_from(payload.steps).unwrap_or(i32::MAX));
        let record = RecordPing { task_id, steps, attempts: attempt };
        Ok(Completion::new(json!({ "pong": true, "steps": payload.steps, "attempt": attempt }))
            .with_effects(move |conn| Ok(record.execute(conn).map(|_| ())?)))
    }
}

shared::prepared_statement! {
    /// The ping's effect. An upsert that counts how often it ran, so a test can prove the
    /// effect was written exactly once.
    struct RecordPing { task_id: Uuid, steps: i32, attempts: i32 }
    sql = [
        "INSERT INTO diagnostic_pings (task_id, steps, attempts) VALUES (",
        (task_id as SqlUuid), ", ", (steps as Integer), ", ", (attempts as Integer),
        ") ON CONFLICT (task_id) DO UPDATE SET writes = diagnostic_pings.writes + 1",
    ];
}
