//! A post's lifecycle and a connected account's standing, each stored as text with one mapping.
//!
//! ```text
//! scheduled ──▶ queued ──▶ publishing ──▶ published
//!     │            │            └───────▶ failed
//!     ▼            └────────────────────▶ failed (refused before sending)
//! cancelled
//! ```

crate::db::text_enum::text_enum! {
    /// Where a post is in its life.
    pub enum PostStatus {
        /// Waiting for its time; the only state in which it may be edited.
        Scheduled = "scheduled",
        /// Due, with its `social.publish` task enqueued.
        Queued = "queued",
        /// Claimed by the worker, which is sending it.
        Publishing = "publishing",
        Published = "published",
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

/// A move the lifecycle does not allow (answered 409).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a {from} post cannot become {to}")]
pub struct IllegalTransition {
    pub from: PostStatus,
    pub to: PostStatus,
}

impl PostStatus {
    /// Whether a post in this state may move to `next`. Publishing may be entered again: a
    /// redelivered task resumes the post it had claimed.
    pub fn can_become(self, next: PostStatus) -> bool {
        use PostStatus::*;
        matches!(
            (self, next),
            (Scheduled, Scheduled | Queued | Cancelled)
                | (Queued, Publishing | Failed)
                | (Publishing, Publishing | Published | Failed)
        )
    }

    /// `Ok(next)` when the move is allowed.
    pub fn become_(self, next: PostStatus) -> Result<PostStatus, IllegalTransition> {
        if self.can_become(next) { Ok(next) } else { Err(IllegalTransition { from: self, to: next }) }
    }

    /// The states a post may still be cancelled from.
    pub fn cancellable() -> impl Iterator<Item = PostStatus> {
        PostStatus::ALL.iter().copied().filter(|status| status.can_become(PostStatus::Cancelled))
    }
}

crate::db::text_enum::text_enum! {
    /// A connected platform account's standing.
    pub enum AccountStatus {
        Active = "active",
        /// The platform refused the token; it must be connected again.
        NeedsReauth = "needs_reauth",
        /// Disconnected by its owner: its token is gone.
        Disconnected = "disconnected",
    }
}

#[cfg(test)]
mod tests {
    use super::{PostStatus::*, *};

    #[test]
    fn the_lifecycle_moves_forward_only() {
        assert!(Scheduled.can_become(Queued));
        assert!(Queued.can_become(Publishing));
        assert!(Publishing.can_become(Published));
        for done in [Published, Failed, Cancelled] {
            for next in PostStatus::ALL {
                assert!(!done.can_become(*next), "{done} -> {next}");
            }
        }
        assert_eq!(Publishing.become_(Cancelled), Err(IllegalTransition { from: Publishing, to: Cancelled }));
        assert_eq!(PostStatus::cancellable().collect::<Vec<_>>(), vec![Scheduled]);
    }

    #[test]
    fn one_word_per_state() {
        for status in PostStatus::ALL {
            assert_eq!(PostStatus::parse(status.as_str()), Some(*status));
            assert_eq!(serde_json::to_value(status).ok(), Some(serde_json::json!(status.as_str())));
        }
        assert_eq!(AccountStatus::parse("needs_reauth"), Some(AccountStatus::NeedsReauth));
        assert_eq!(PostStatus::parse("sent"), None);
    }
}
