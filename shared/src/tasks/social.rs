//! Social publishing, run by `worker-social`.

use serde::{Deserialize, Serialize};

pub const PUBLISH: &str = "social.publish";

/// Publishes one due post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishPayload {
    pub post_id: i64,
}
