//! Social platforms: each one's rules (checked before a post is accepted) and an adapter per
//! platform that publishes through its real HTTP API at a configurable base URL.
//!
//! | platform | text limit | media | hashtags |
//! |---|---|---|---|
//! | `x` | 280 | at most 4 | at most 10 |
//! | `mastodon` | 500 | at most 4 | — |
//! | `linkedin` | 3,000 | at most 9 | at most 30 |
//! | `facebook` | 63,206 | at most 10 | — |
//! | `instagram` | 2,200 | 1 to 10, required | at most 30 |
//! | `sandbox` | 5,000 | at most 10 | — |
//!
//! Adapters today: `sandbox` (records the post locally: the offline default and demos),
//! `mastodon` (statuses API, with the post's marker as `Idempotency-Key`, so a retried call
//! cannot publish twice) and `x` (v2 tweets). Facebook, Instagram and LinkedIn accounts can be
//! connected and their posts validated; their adapters are not written yet and publishing to
//! them fails with `platform_unsupported`.

mod adapters;
#[cfg(feature = "testing")]
pub mod fake_server;

use std::time::Duration;

pub use adapters::{Adapter, Insights, Outgoing, Published, adapter_for};
use serde::Serialize;

/// The associated data a social account's token is sealed with.
pub fn token_owner(account_id: i64, platform: &str, handle: &str) -> String {
    format!("social:{account_id}:{platform}:{handle}")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Sandbox,
    X,
    Mastodon,
    Linkedin,
    Facebook,
    Instagram,
}

/// What a platform accepts.
#[derive(Clone, Copy, Debug)]
pub struct Rules {
    pub max_chars: usize,
    pub max_media: usize,
    pub media_required: bool,
    pub max_hashtags: Option<usize>,
}

impl Platform {
    pub const ALL: [Platform; 6] = [
        Platform::Sandbox,
        Platform::X,
        Platform::Mastodon,
        Platform::Linkedin,
        Platform::Facebook,
        Platform::Instagram,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Sandbox => "sandbox",
            Platform::X => "x",
            Platform::Mastodon => "mastodon",
            Platform::Linkedin => "linkedin",
            Platform::Facebook => "facebook",
            Platform::Instagram => "instagram",
        }
    }

    pub fn parse(value: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|platform| platform.as_str() == value)
    }

    pub fn rules(self) -> Rules {
        let rules = |max_chars, max_media, media_required, max_hashtags| Rules {
            max_chars,
            max_media,
            media_required,
            max_hashtags,
        };
        match self {
            Platform::X => rules(280, 4, false, Some(10)),
            Platform::Mastodon => rules(500, 4, false, None),
            Platform::Linkedin => rules(3_000, 9, false, Some(30)),
            Platform::Facebook => rules(63_206, 10, false, None),
            Platform::Instagram => rules(2_200, 10, true, Some(30)),
            Platform::Sandbox => rules(5_000, 10, false, None),
        }
    }

    /// The base URL used when an account names none.
    pub fn default_base_url(self) -> &'static str {
        match self {
            Platform::X => "https://api.x.com",
            Platform::Mastodon => "https://mastodon.social",
            Platform::Linkedin => "https://api.linkedin.com",
            Platform::Facebook | Platform::Instagram => "https://graph.facebook.com/v21.0",
            Platform::Sandbox => "",
        }
    }

    /// Every way `content` with `media` breaks this platform's rules, by field.
    pub fn problems(self, content: &str, media: &[String]) -> Vec<(&'static str, String)> {
        let rules = self.rules();
        let mut problems = Vec::new();
        let length = content.chars().count();
        if content.trim().is_empty() && media.is_empty() {
            problems.push(("content", "is empty".to_owned()));
        }
        if length > rules.max_chars {
            problems.push((
                "content",
                format!("is {length} characters; {} allows at most {}", self.as_str(), rules.max_chars),
            ));
        }
        if rules.media_required && media.is_empty() {
            problems.push(("media", format!("{} posts need at least one image or video", self.as_str())));
        }
        if media.len() > rules.max_media {
            problems
                .push(("media", format!("{} allows at most {} attachments", self.as_str(), rules.max_media)));
        }
        if let Some(max) = rules.max_hashtags {
            let hashtags =
                content.split_whitespace().filter(|word| word.starts_with('#') && word.len() > 1).count();
            if hashtags > max {
                problems.push((
                    "content",
                    format!("has {hashtags} hashtags; {} allows at most {max}", self.as_str()),
                ));
            }
        }
        for (index, url) in media.iter().enumerate() {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                problems.push(("media", format!("item {index} is not an http(s) URL")));
            }
        }
        problems
    }
}

/// Why a publish failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SocialError {
    /// Expired or revoked token: the account needs to be connected again; never retried.
    #[error("the platform refused the token: {0}")]
    Auth(String),
    #[error("the platform is rate limiting this account")]
    RateLimited { retry_after: Option<Duration> },
    #[error("the platform rejected the post: {0}")]
    Rejected(String),
    #[error("the platform failed with status {status}: {message}")]
    Server { status: u16, message: String },
    #[error("the platform did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the platform could not be reached: {0}")]
    Unreachable(String),
    #[error("the platform's answer could not be used: {0}")]
    Malformed(String),
    #[error("publishing to {0} is not available yet")]
    Unsupported(&'static str),
}

impl SocialError {
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            SocialError::RateLimited { .. }
                | SocialError::Server { .. }
                | SocialError::Timeout(_)
                | SocialError::Unreachable(_)
        )
    }

    pub fn code(&self) -> &'static str {
        match self {
            SocialError::Auth(_) => "needs_reauth",
            SocialError::RateLimited { .. } => "rate_limited",
            SocialError::Rejected(_) => "platform_rejected",
            SocialError::Server { .. } => "platform_error",
            SocialError::Timeout(_) => "platform_timeout",
            SocialError::Unreachable(_) => "platform_unreachable",
            SocialError::Malformed(_) => "platform_malformed_response",
            SocialError::Unsupported(_) => "platform_unsupported",
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SocialError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_platform_checks_its_own_limits() {
        let long = "a".repeat(281);
        let problems = Platform::X.problems(&long, &[]);
        assert_eq!(problems[0].0, "content");
        assert!(problems[0].1.contains("at most 280"), "{problems:?}");
        assert!(Platform::Mastodon.problems(&long, &[]).is_empty());
        assert!(!Platform::Mastodon.problems(&"a".repeat(501), &[]).is_empty());
        assert_eq!(Platform::Instagram.problems("A caption", &[])[0].0, "media");
        let tags = (0..11).map(|n| format!("#tag{n}")).collect::<Vec<_>>().join(" ");
        assert!(Platform::X.problems(&tags, &[]).iter().any(|p| p.1.contains("hashtags")));
        assert!(Platform::X.problems("hi", &["ftp://x/a.png".into()]).iter().any(|p| p.0 == "media"));
        assert!(Platform::X.problems("  ", &[]).iter().any(|p| p.1 == "is empty"));
    }
}
