//! Commands named by kind with a JSON payload (schedules, webhooks): the payload is checked
//! the way the kind's handler will read it, before anything is enqueued.

use serde_json::Value;

use super::{
    NewTask, PING, kind_spec,
    ping::PingPayload,
    planner::{AUTO_CLUSTER, AutoClusterPayload, GENERATE_IDEAS, GenerateIdeasPayload},
};

/// What is wrong with a command, by field (`kind`, `payload`, `payload.<field>`).
pub type CommandProblems = Vec<(String, String)>;

/// The task for `kind` with `payload`, or the problems that would make it fail.
pub fn command(account_id: i64, kind: &str, payload: Value) -> Result<NewTask, CommandProblems> {
    if kind_spec(kind).is_none() {
        return Err(vec![("kind".into(), format!("`{kind}` is not a known task kind"))]);
    }
    match kind {
        PING => {
            let ping: PingPayload = serde_json::from_value(payload)
                .map_err(|error| vec![("payload".to_owned(), error.to_string())])?;
            let problems = ping.problems();
            if !problems.is_empty() {
                return Err(problems
                    .into_iter()
                    .map(|(field, problem)| (format!("payload.{field}"), problem))
                    .collect());
            }
            Ok(NewTask::ping(account_id, &ping))
        }
        AUTO_CLUSTER => {
            checked::<AutoClusterPayload>(account_id, kind, payload, AutoClusterPayload::problems)
        }
        GENERATE_IDEAS => {
            checked::<GenerateIdeasPayload>(account_id, kind, payload, GenerateIdeasPayload::problems)
        }
        _ => Ok(NewTask::new(account_id, kind, payload)),
    }
}

/// Parses the payload as the handler will and collects its field problems.
fn checked<T: serde::de::DeserializeOwned>(
    account_id: i64,
    kind: &str,
    payload: Value,
    problems: impl Fn(&T) -> Vec<(&'static str, String)>,
) -> Result<NewTask, CommandProblems> {
    let parsed: T = serde_json::from_value(payload.clone())
        .map_err(|error| vec![("payload".to_owned(), error.to_string())])?;
    let found = problems(&parsed);
    if found.is_empty() {
        Ok(NewTask::new(account_id, kind, payload))
    } else {
        Err(found.into_iter().map(|(field, problem)| (format!("payload.{field}"), problem)).collect())
    }
}

impl NewTask {
    /// A `system.ping` on the queue its payload names.
    pub fn ping(account_id: i64, payload: &PingPayload) -> Self {
        let mut task = NewTask::new(account_id, PING, serde_json::to_value(payload).unwrap_or(Value::Null));
        task.queue = Some(payload.queue);
        task.max_attempts = payload.max_attempts;
        task
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn checks_the_payload_by_kind() {
        let task = command(1, PING, json!({ "steps": 2, "queue": "seo" })).expect("valid");
        assert_eq!(task.queue, Some(super::super::Queue::Seo));
        let problems = command(1, PING, json!({ "steps": 0 })).expect_err("invalid");
        assert_eq!(problems[0].0, "payload.steps");
        assert_eq!(command(1, PING, json!({ "steps": "x" })).expect_err("mistyped")[0].0, "payload");
        assert_eq!(command(1, "nope", json!({})).expect_err("unknown")[0].0, "kind");
    }
}
