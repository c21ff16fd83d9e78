//! The catalogue of task kinds. Each kind is one line of [`task_kinds!`]: its name, queue,
//! attempt budget, time limit, payload type and the credit operation it charges. Enqueueing,
//! schedules, webhooks, the OpenAPI document and the workers' handler registry all read it,
//! so a payload from any path is parsed by the kind's type before it is enqueued.

use std::{borrow::Cow, fmt, str::FromStr, time::Duration};

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;
use utoipa::openapi::{RefOr, Schema};

use super::{
    NewTask,
    odoo::{LeadPayload, SyncPayload},
    ping::PingPayload,
    planner::{AutoClusterPayload, GenerateIdeasPayload},
    seo::AuditPayload,
    social::{ComposePayload, InsightsPayload, PublishPayload},
    writer::{GenerateContentPayload, GenerateImagesPayload, ImagePromptsPayload, PublishWordpressPayload},
};
use crate::{billing::Operation, net::OutboundGuard, problems::Problems};

/// A worker queue; each has its own worker binary (`worker-<queue>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Queue {
    Clustering,
    Content,
    Seo,
    Odoo,
    Social,
}

impl Queue {
    pub const ALL: [Queue; 5] = [Queue::Clustering, Queue::Content, Queue::Seo, Queue::Odoo, Queue::Social];

    pub fn as_str(self) -> &'static str {
        match self {
            Queue::Clustering => "clustering",
            Queue::Content => "content",
            Queue::Seo => "seo",
            Queue::Odoo => "odoo",
            Queue::Social => "social",
        }
    }

    /// Prefetch when `WORKER_PREFETCH` is not set: small for long AI tasks so one worker does
    /// not hoard work that others could start, larger for quick calls.
    pub fn default_prefetch(self) -> u16 {
        match self {
            Queue::Clustering | Queue::Content => 2,
            Queue::Seo | Queue::Odoo => 4,
            Queue::Social => 8,
        }
    }
}

impl fmt::Display for Queue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Queue {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Queue::ALL
            .into_iter()
            .find(|queue| queue.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a queue (clustering, content, seo, odoo, social)"))
    }
}

/// What a task kind carries: parsed by its type, then checked by its own rules.
pub trait Payload: Serialize + DeserializeOwned + utoipa::ToSchema + Send + 'static {
    /// Field-level problems beyond what the type says, empty when the payload is acceptable.
    /// `outbound` judges the addresses a payload names.
    fn problems(&self, _outbound: &OutboundGuard) -> Problems {
        Problems::new()
    }

    /// Adjusts the task made for this payload (a diagnostic ping picks its own queue).
    fn shape(&self, _task: &mut NewTask) {}
}

/// One kind of background task, declared once in [`task_kinds!`].
pub trait TaskKind: Send + Sync + 'static {
    const NAME: &'static str;
    /// The queue the kind runs on; `None` when the payload chooses (diagnostics).
    const QUEUE: Option<Queue>;
    const MAX_ATTEMPTS: i32;
    /// Kept below RabbitMQ's `consumer_timeout` (30 minutes by default), which would otherwise
    /// close the channel of a worker holding a long task unacknowledged.
    const TIME_LIMIT: Duration;
    /// What the handler charges the account for, if anything.
    const OPERATION: Option<Operation>;
    type Payload: Payload;
}

/// Parses `payload` as `K`'s payload and checks its rules; problems name `payload.<field>`.
pub fn parse_payload<K: TaskKind>(payload: Value, outbound: &OutboundGuard) -> Result<K::Payload, Problems> {
    let parsed: K::Payload = serde_path_to_error::deserialize(payload).map_err(|error| {
        let path = error.path().to_string();
        let field = if path == "." { "payload".to_owned() } else { format!("payload.{path}") };
        Problems::one(field, error.into_inner().to_string())
    })?;
    parsed.problems(outbound).under("payload").or_ok(parsed)
}

impl NewTask {
    /// The task of kind `K` for `payload`.
    pub fn of<K: TaskKind>(account_id: i64, payload: &K::Payload) -> Self {
        let value = serde_json::to_value(payload).unwrap_or(Value::Null);
        let mut task = NewTask::new(account_id, K::NAME, value);
        payload.shape(&mut task);
        task
    }
}

/// A kind's facts with its type erased, for code that has only the name.
#[derive(Debug)]
pub struct KindSpec {
    pub name: &'static str,
    pub queue: Option<Queue>,
    pub max_attempts: i32,
    pub time_limit: Duration,
    pub operation: Option<Operation>,
    command: fn(i64, Value, &OutboundGuard) -> Result<NewTask, Problems>,
    payload_schema: fn() -> (Cow<'static, str>, RefOr<Schema>),
}

impl KindSpec {
    const fn of<K: TaskKind>() -> Self {
        KindSpec {
            name: K::NAME,
            queue: K::QUEUE,
            max_attempts: K::MAX_ATTEMPTS,
            time_limit: K::TIME_LIMIT,
            operation: K::OPERATION,
            command: command_of::<K>,
            payload_schema: payload_schema_of::<K>,
        }
    }

    /// The payload schema's name and the schema.
    pub fn payload_schema(&self) -> (Cow<'static, str>, RefOr<Schema>) {
        (self.payload_schema)()
    }
}

fn command_of<K: TaskKind>(
    account_id: i64,
    payload: Value,
    outbound: &OutboundGuard,
) -> Result<NewTask, Problems> {
    parse_payload::<K>(payload, outbound).map(|parsed| NewTask::of::<K>(account_id, &parsed))
}

fn payload_schema_of<K: TaskKind>() -> (Cow<'static, str>, RefOr<Schema>) {
    (<K::Payload as utoipa::ToSchema>::name(), <K::Payload as utoipa::PartialSchema>::schema())
}

/// The task for `kind` with `payload` (a schedule's or a webhook's command), or the problems
/// that would make it fail: the payload is parsed and checked as the kind's handler reads it.
pub fn command(
    account_id: i64,
    kind: &str,
    payload: Value,
    outbound: &OutboundGuard,
) -> Result<NewTask, Problems> {
    let Some(spec) = kind_spec(kind) else {
        return Err(Problems::one("kind", format!("`{kind}` is not a known task kind")));
    };
    (spec.command)(account_id, payload, outbound)
}

const fn minutes(count: u64) -> Duration {
    Duration::from_secs(count * 60)
}

/// Declares each kind's type, its `TaskKind` facts and its catalogue entry in one line.
macro_rules! task_kinds {
    ($(
        $(#[$doc:meta])*
        $kind:ident = $name:literal on $queue:expr,
            attempts $attempts:literal, limit $limit:expr, payload $payload:ty, charges $operation:expr;
    )*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Copy, Debug)]
            pub struct $kind;

            impl TaskKind for $kind {
                const NAME: &'static str = $name;
                const QUEUE: Option<Queue> = $queue;
                const MAX_ATTEMPTS: i32 = $attempts;
                const TIME_LIMIT: Duration = $limit;
                const OPERATION: Option<Operation> = $operation;
                type Payload = $payload;
            }
        )*

        static KINDS: &[KindSpec] = &[$(KindSpec::of::<$kind>()),*];
    };
}

task_kinds! {
    /// The diagnostic walk through progress steps; every worker binary answers it.
    Ping = "system.ping" on None,
        attempts 5, limit minutes(10), payload PingPayload, charges None;
    /// Clusters keywords into topics.
    AutoCluster = "planner.auto_cluster" on Some(Queue::Clustering),
        attempts 3, limit minutes(20), payload AutoClusterPayload, charges Some(Operation::Clustering);
    /// Content ideas for clusters.
    GenerateIdeas = "planner.generate_ideas" on Some(Queue::Clustering),
        attempts 3, limit minutes(10), payload GenerateIdeasPayload, charges Some(Operation::Ideas);
    /// Articles for writer tasks.
    GenerateContent = "writer.generate_content" on Some(Queue::Content),
        attempts 3, limit minutes(25), payload GenerateContentPayload, charges Some(Operation::Content);
    /// Image prompts for content items.
    ImagePrompts = "writer.image_prompts" on Some(Queue::Content),
        attempts 3, limit minutes(10), payload ImagePromptsPayload, charges None;
    /// Images for prompted image rows.
    GenerateImages = "writer.generate_images" on Some(Queue::Content),
        attempts 3, limit minutes(25), payload GenerateImagesPayload, charges Some(Operation::Images);
    /// Mirrors Odoo records.
    OdooSync = "odoo.sync" on Some(Queue::Odoo),
        attempts 3, limit minutes(15), payload SyncPayload, charges None;
    /// A lead in the account's Odoo CRM.
    PushLead = "odoo.push_lead" on Some(Queue::Odoo),
        attempts 3, limit minutes(2), payload LeadPayload, charges None;
    /// Platform-fitted variants of a text.
    Compose = "social.compose" on Some(Queue::Social),
        attempts 3, limit minutes(5), payload ComposePayload, charges Some(Operation::Social);
    /// Refreshes published posts' counts.
    PullInsights = "social.pull_insights" on Some(Queue::Social),
        attempts 3, limit minutes(10), payload InsightsPayload, charges None;
    /// Publishes one due post.
    PublishPost = "social.publish" on Some(Queue::Social),
        attempts 6, limit minutes(2), payload PublishPayload, charges None;
    /// Audits a page (and its competitors).
    SeoAudit = "seo.audit" on Some(Queue::Seo),
        attempts 2, limit minutes(20), payload AuditPayload, charges Some(Operation::Seo);
    /// Publishes a content item on WordPress.
    PublishWordpress = "writer.publish_wordpress" on Some(Queue::Content),
        attempts 5, limit minutes(5), payload PublishWordpressPayload, charges None;
}

pub const PING: &str = Ping::NAME;

/// Every kind, in catalogue order.
pub fn kinds() -> &'static [KindSpec] {
    KINDS
}

/// Every kind's name, in catalogue order.
pub fn kind_names() -> impl Iterator<Item = &'static str> {
    KINDS.iter().map(|spec| spec.name)
}

/// Looks a kind up by name.
pub fn kind_spec(name: &str) -> Option<&'static KindSpec> {
    KINDS.iter().find(|spec| spec.name == name)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn time_limits_stay_below_the_broker_consumer_timeout() {
        for spec in KINDS {
            assert!(spec.time_limit < Duration::from_secs(30 * 60), "{}", spec.name);
            assert!(spec.max_attempts > 0);
        }
        assert!(kind_spec(PING).is_some());
        assert!(kind_spec("nope").is_none());
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = kind_names().collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KINDS.len());
    }

    fn first_field(kind: &str, payload: Value) -> String {
        let problems = command(1, kind, payload, &OutboundGuard::default()).expect_err("refused");
        problems.first().map(|(field, _)| field.to_owned()).unwrap_or_default()
    }

    #[test]
    fn every_kind_checks_its_payload_by_its_type() {
        let task = command(1, PING, json!({ "steps": 2, "queue": "seo" }), &OutboundGuard::default());
        assert_eq!(task.expect("valid").queue, Some(Queue::Seo));
        assert_eq!(first_field(PING, json!({ "steps": 0 })), "payload.steps");
        assert_eq!(first_field(PING, json!({ "steps": "x" })), "payload.steps");
        assert_eq!(first_field("nope", json!({})), "kind");
        // Kinds that used to pass unchecked: every one is parsed by its type now.
        for spec in KINDS {
            let field = first_field(spec.name, json!({ "unexpected": true }));
            assert!(field.starts_with("payload"), "{}: {field}", spec.name);
        }
        assert_eq!(first_field(PublishPost::NAME, json!({ "post_id": "seven" })), "payload.post_id");
        assert_eq!(first_field(SeoAudit::NAME, json!({ "url": "http://10.0.0.1/" })), "payload.url");
    }
}
