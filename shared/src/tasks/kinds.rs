//! The catalogue of task kinds: which queue carries each, how often it may be attempted and
//! how long one attempt may run.

use std::{fmt, str::FromStr, time::Duration};

use serde::{Deserialize, Serialize};

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

/// Static facts about one task kind.
#[derive(Debug)]
pub struct KindSpec {
    pub name: &'static str,
    /// The queue the kind runs on; `None` when the caller chooses (diagnostics).
    pub queue: Option<Queue>,
    pub max_attempts: i32,
    /// Kept below RabbitMQ's `consumer_timeout` (30 minutes by default), which would otherwise
    /// close the channel of a worker holding a long task unacknowledged.
    pub time_limit: Duration,
}

pub const PING: &str = "system.ping";

static KINDS: &[KindSpec] = &[
    KindSpec { name: PING, queue: None, max_attempts: 5, time_limit: Duration::from_secs(10 * 60) },
    KindSpec {
        name: super::planner::AUTO_CLUSTER,
        queue: Some(Queue::Clustering),
        max_attempts: 3,
        time_limit: Duration::from_secs(20 * 60),
    },
    KindSpec {
        name: super::planner::GENERATE_IDEAS,
        queue: Some(Queue::Clustering),
        max_attempts: 3,
        time_limit: Duration::from_secs(10 * 60),
    },
    KindSpec {
        name: super::writer::GENERATE_CONTENT,
        queue: Some(Queue::Content),
        max_attempts: 3,
        time_limit: Duration::from_secs(25 * 60),
    },
    KindSpec {
        name: super::writer::IMAGE_PROMPTS,
        queue: Some(Queue::Content),
        max_attempts: 3,
        time_limit: Duration::from_secs(10 * 60),
    },
    KindSpec {
        name: super::writer::GENERATE_IMAGES,
        queue: Some(Queue::Content),
        max_attempts: 3,
        time_limit: Duration::from_secs(25 * 60),
    },
    KindSpec {
        name: super::odoo::SYNC,
        queue: Some(Queue::Odoo),
        max_attempts: 3,
        time_limit: Duration::from_secs(15 * 60),
    },
    KindSpec {
        name: super::odoo::PUSH_LEAD,
        queue: Some(Queue::Odoo),
        max_attempts: 3,
        time_limit: Duration::from_secs(2 * 60),
    },
    KindSpec {
        name: super::social::COMPOSE,
        queue: Some(Queue::Social),
        max_attempts: 3,
        time_limit: Duration::from_secs(5 * 60),
    },
    KindSpec {
        name: super::social::PULL_INSIGHTS,
        queue: Some(Queue::Social),
        max_attempts: 3,
        time_limit: Duration::from_secs(10 * 60),
    },
    KindSpec {
        name: super::social::PUBLISH,
        queue: Some(Queue::Social),
        max_attempts: 6,
        time_limit: Duration::from_secs(2 * 60),
    },
    KindSpec {
        name: super::seo::AUDIT,
        queue: Some(Queue::Seo),
        max_attempts: 2,
        time_limit: Duration::from_secs(20 * 60),
    },
    KindSpec {
        name: super::writer::PUBLISH_WORDPRESS,
        queue: Some(Queue::Content),
        max_attempts: 5,
        time_limit: Duration::from_secs(5 * 60),
    },
];

/// Every kind's name, in registry order.
pub fn kind_names() -> impl Iterator<Item = &'static str> {
    KINDS.iter().map(|spec| spec.name)
}

/// Looks a kind up by name.
pub fn kind_spec(name: &str) -> Option<&'static KindSpec> {
    KINDS.iter().find(|spec| spec.name == name)
}

#[cfg(test)]
mod tests {
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
}
