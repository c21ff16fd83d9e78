//! Social platforms: each one's rules (checked before a post is accepted) and an adapter per
//! platform that publishes through its real HTTP API at a configurable base URL.
//!
//! | platform | text limit | media | types | hashtags |
//! |---|---|---|---|---|
//! | `x` | 280 | at most 4 | jpg, png, gif, webp | at most 10 |
//! | `mastodon` | 500 | at most 4 | jpg, png, gif, webp; or one mp4, mov, webm | — |
//! | `linkedin` | 3,000 | at most 9 | jpg, png, gif | at most 30 |
//! | `facebook` | 63,206 | at most 10 | jpg, png, gif, webp; or one mp4, mov | — |
//! | `instagram` | 2,200 | 1 to 10, required | jpg; mp4, mov | at most 30 |
//! | `sandbox` | 5,000 | at most 10 | any of the above | — |
//!
//! Adapters: `sandbox` (records the post locally: the offline default and demos), `mastodon`
//! (statuses, media uploaded first, the post's marker as `Idempotency-Key`), `x` (v2 tweets,
//! images uploaded first), `facebook` (Graph API page feed, photos, videos), `instagram`
//! (Graph API container, then publish) and `linkedin` (versioned posts API, images uploaded
//! first). Where a platform has no idempotency key, an attempt whose outcome is unknown is
//! settled by finding the post among the account's recent ones before publishing again.

pub mod account;
mod adapters;
mod post;
pub mod posts;

use std::time::Duration;

pub use account::{SocialAccount, StoredAccount, mark_needs_reauth};
pub use adapters::{Adapter, Connection, Insights, Outgoing, Published, adapter_for};
pub use post::{AccountStatus, IllegalTransition, PostStatus};
pub use posts::Post;
use serde::Serialize;

/// The associated data a social account's token is sealed with.
pub fn token_owner(account_id: i64, platform: &str, handle: &str) -> String {
    format!("social:{account_id}:{platform}:{handle}")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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
    /// File types (by extension) it takes.
    pub formats: &'static [&'static str],
    /// A video must be the post's only attachment.
    pub video_alone: bool,
}

/// Whether an attachment is a picture or a video.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Video,
}

const IMAGES: &[&str] = &["jpg", "jpeg", "png", "gif", "webp"];
const VIDEOS: &[&str] = &["mp4", "mov", "webm"];

impl MediaKind {
    /// The kind a media URL's file extension says, if it is one we know.
    pub fn of(url: &str) -> Option<MediaKind> {
        let extension = file_extension(url)?;
        if IMAGES.contains(&extension.as_str()) {
            Some(MediaKind::Image)
        } else if VIDEOS.contains(&extension.as_str()) {
            Some(MediaKind::Video)
        } else {
            None
        }
    }
}

/// The lowercased extension of a URL's path.
fn file_extension(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let name = path.rsplit('/').next()?;
    let (_, extension) = name.rsplit_once('.')?;
    Some(extension.to_ascii_lowercase())
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
        let rules = |max_chars, max_media, media_required, max_hashtags, formats, video_alone| Rules {
            max_chars,
            max_media,
            media_required,
            max_hashtags,
            formats,
            video_alone,
        };
        const ANY: &[&str] = &["jpg", "jpeg", "png", "gif", "webp", "mp4", "mov", "webm"];
        match self {
            Platform::X => rules(280, 4, false, Some(10), IMAGES, false),
            Platform::Mastodon => rules(500, 4, false, None, ANY, true),
            Platform::Linkedin => rules(3_000, 9, false, Some(30), &["jpg", "jpeg", "png", "gif"], false),
            Platform::Facebook => {
                rules(63_206, 10, false, None, &["jpg", "jpeg", "png", "gif", "webp", "mp4", "mov"], true)
            }
            Platform::Instagram => rules(2_200, 10, true, Some(30), &["jpg", "jpeg", "mp4", "mov"], false),
            Platform::Sandbox => rules(5_000, 10, false, None, ANY, false),
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

    /// What `platform_user_id` must look like on `platform`, if it is wrong.
    pub fn user_id_problem(self, id: &str) -> Option<&'static str> {
        let digits = !id.is_empty() && id.len() <= 40 && id.bytes().all(|b| b.is_ascii_digit());
        match self {
            Platform::Facebook if !digits => Some("The Facebook Page id (digits) is required."),
            Platform::Instagram if !digits => {
                Some("The Instagram professional account's user id (digits) is required.")
            }
            Platform::Linkedin
                if !(id.starts_with("urn:li:person:") || id.starts_with("urn:li:organization:"))
                    || id.len() > 100 =>
            {
                Some("The LinkedIn author URN (urn:li:person:… or urn:li:organization:…) is required.")
            }
            Platform::X if !id.is_empty() && !digits => Some("The X user id is digits."),
            _ => None,
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
                continue;
            }
            let extension = file_extension(url).unwrap_or_default();
            if !rules.formats.contains(&extension.as_str()) {
                problems.push((
                    "media",
                    format!(
                        "item {index} is not a file type {} takes ({})",
                        self.as_str(),
                        rules.formats.join(", ")
                    ),
                ));
            }
        }
        let videos = media.iter().filter(|url| MediaKind::of(url) == Some(MediaKind::Video)).count();
        if rules.video_alone && videos > 0 && media.len() > 1 {
            problems.push((
                "media",
                format!("{} takes a video only as the post's one attachment", self.as_str()),
            ));
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
    /// The outbound guard refused an address (the platform's base URL, a media URL, an upload
    /// URL it answered with); nothing was sent there, and trying again cannot help.
    #[error("the address is refused: {0}")]
    Refused(String),
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
            SocialError::Refused(_) => "address_refused",
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
        let png = "https://cdn.example/a.PNG?v=2".to_owned();
        assert!(Platform::X.problems("hi", std::slice::from_ref(&png)).is_empty());
        assert!(Platform::Instagram.problems("hi", &[png]).iter().any(|p| p.1.contains("jpg, jpeg, mp4")));
        let clip = "https://cdn.example/clip.mp4".to_owned();
        assert!(Platform::X.problems("hi", std::slice::from_ref(&clip)).iter().any(|p| p.0 == "media"));
        let both = [clip, "https://cdn.example/a.jpg".to_owned()];
        assert!(Platform::Mastodon.problems("hi", &both).iter().any(|p| p.1.contains("only")));
        assert!(Platform::Instagram.problems("hi", &both).is_empty());
    }
}
