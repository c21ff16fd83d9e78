//! A client for a site's WordPress REST API (`{wp_url}/wp-json/wp/v2/`), authenticated with
//! an application password (HTTP Basic): who the credentials belong to, media uploads, and
//! creating, finding and updating posts.
//!
//! The URL is the tenant's, so every request goes through the outbound guard (`crate::net`):
//! literal inside addresses are refused before anything is sent, names resolving inside are
//! refused by the resolver, and redirects are not followed (a redirect is reported with the
//! address to save instead). Every request has a timeout; failures a second try can fix (429,
//! 502–504, a refused connection) are retried a bounded number of times with backoff, and
//! timeouts or 500s only for requests that are safe to repeat (reads and updates, never a
//! create, which could duplicate the post).

mod client;

use std::time::Duration;

pub use client::{ClientSettings, WordPressClient};
use diesel::prelude::*;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::{crypto::SecretBox, db::schema::sites, ids::AccountId};

/// A site's WordPress connection.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// The site's address, e.g. `https://blog.example.com` (the API is under `/wp-json/`).
    pub base_url: String,
    pub username: String,
    pub app_password: SecretString,
}

/// What a site's sealed application password is bound to: it opens for this site only.
pub fn password_owner(site_id: i64) -> String {
    format!("site:{site_id}:wordpress")
}

/// A site's WordPress connection as its owner sees it: the application password only as a
/// masked hint.
#[derive(Debug, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = sites, check_for_backend(diesel::pg::Pg))]
#[schema(as = WordpressView)]
pub struct Connection {
    #[serde(rename = "site_id")]
    pub id: i64,
    pub wp_url: Option<String>,
    pub wp_username: Option<String>,
    pub wp_app_password_hint: Option<String>,
    pub author_profile_id: Option<i64>,
    pub strategy_id: Option<i64>,
}

/// The connection fields a save changes; `Some(None)` clears one. The password arrives
/// sealed (bound to the site, [`password_owner`]) with its hint.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = sites)]
pub struct ConnectionUpdate {
    pub wp_url: Option<Option<String>>,
    pub wp_username: Option<Option<String>>,
    pub wp_app_password: Option<Option<Vec<u8>>>,
    pub wp_app_password_hint: Option<Option<String>>,
    pub author_profile_id: Option<Option<i64>>,
    pub strategy_id: Option<Option<i64>>,
}

/// The account's site's connection; `None` when the site is not the account's.
pub fn connection(
    conn: &mut PgConnection,
    account: AccountId,
    site_id: i64,
) -> crate::Result<Option<Connection>> {
    Ok(sites::table
        .find(site_id)
        .filter(sites::account_id.eq(account))
        .select(Connection::as_select())
        .first(conn)
        .optional()?)
}

/// Saves the fields of `update` on the account's site; the connection after, or `None`
/// when the site is not the account's.
pub fn save_connection(
    conn: &mut PgConnection,
    account: AccountId,
    site_id: i64,
    update: ConnectionUpdate,
) -> crate::Result<Option<Connection>> {
    Ok(diesel::update(sites::table.find(site_id).filter(sites::account_id.eq(account)))
        .set((update, sites::updated_at.eq(diesel::dsl::now)))
        .returning(Connection::as_returning())
        .get_result(conn)
        .optional()?)
}

/// Whether the account's site has a complete connection (URL, username and password).
pub fn is_connected(conn: &mut PgConnection, account: AccountId, site_id: i64) -> crate::Result<bool> {
    let parts: Option<(bool, bool, bool)> = sites::table
        .find(site_id)
        .filter(sites::account_id.eq(account))
        .select((
            sites::wp_url.is_not_null(),
            sites::wp_username.is_not_null(),
            sites::wp_app_password.is_not_null(),
        ))
        .first(conn)
        .optional()?;
    Ok(parts == Some((true, true, true)))
}

/// The site's connection with its password opened; `None` when the site is not the account's
/// or has no complete connection.
pub fn site_credentials(
    conn: &mut PgConnection,
    secret_box: &SecretBox,
    account_id: i64,
    site_id: i64,
) -> crate::Result<Option<Credentials>> {
    // URL, username, sealed password.
    type Stored = (Option<String>, Option<String>, Option<Vec<u8>>);
    let stored: Option<Stored> = sites::table
        .find(site_id)
        .filter(sites::account_id.eq(account_id))
        .select((sites::wp_url, sites::wp_username, sites::wp_app_password))
        .first(conn)
        .optional()?;
    let Some((Some(base_url), Some(username), Some(sealed))) = stored else {
        return Ok(None);
    };
    let app_password = secret_box.open(&sealed, &password_owner(site_id))?;
    Ok(Some(Credentials { base_url, username, app_password: app_password.into() }))
}

/// Why a WordPress call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WordPressError {
    #[error("WordPress refused the credentials ({status}): {message}")]
    Auth { status: u16, message: String },
    #[error("WordPress has no such {0}")]
    NotFound(&'static str),
    #[error("WordPress rejected the request ({status} {code}): {message}")]
    Rejected { status: u16, code: String, message: String },
    #[error("WordPress failed with status {status}: {message}")]
    Server { status: u16, message: String, retry_after: Option<Duration> },
    #[error("WordPress did not answer within {0:?}")]
    Timeout(Duration),
    #[error("WordPress could not be reached: {0}")]
    Unreachable(String),
    #[error("WordPress's answer could not be used: {0}")]
    Malformed(String),
    /// The connection settings cannot work (a URL that is not http(s), an address we may not
    /// reach, a redirect to elsewhere); found before or instead of a real answer.
    #[error("the WordPress connection is misconfigured: {0}")]
    Config(String),
}

impl WordPressError {
    /// Whether a later attempt (the task runtime's retry) may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            WordPressError::Server { .. } | WordPressError::Timeout(_) | WordPressError::Unreachable(_)
        )
    }

    pub fn code(&self) -> &'static str {
        match self {
            WordPressError::Auth { .. } => "wordpress_auth_failed",
            WordPressError::NotFound(_) => "wordpress_not_found",
            WordPressError::Rejected { .. } => "wordpress_rejected",
            WordPressError::Server { .. } => "wordpress_error",
            WordPressError::Timeout(_) => "wordpress_timeout",
            WordPressError::Unreachable(_) => "wordpress_unreachable",
            WordPressError::Malformed(_) => "wordpress_malformed_response",
            WordPressError::Config(_) => "wordpress_misconfigured",
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            WordPressError::Server { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// The user the credentials belong to.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub slug: String,
    #[serde(default)]
    pub roles: Vec<String>,
}

/// An uploaded file in the media library.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct Media {
    pub id: i64,
    pub source_url: String,
}

/// A post as WordPress reports it.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct Post {
    pub id: i64,
    pub link: String,
    pub status: String,
    #[serde(default)]
    pub slug: String,
    /// `date_gmt` without zone, e.g. `2026-11-28T21:40:00` (absent on some drafts).
    #[serde(default)]
    pub date_gmt: Option<String>,
    #[serde(default)]
    pub title: Rendered,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Rendered {
    /// Only with `context=edit`.
    #[serde(default)]
    pub raw: Option<String>,
    #[serde(default)]
    pub rendered: String,
}

/// What we send to create or update a post.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PostInput {
    pub title: String,
    pub content: String,
    pub excerpt: String,
    /// `publish`, `draft`, `pending` or `private`.
    pub status: String,
    pub slug: String,
    /// The featured image's media id; 0 removes it.
    pub featured_media: i64,
}

/// A URL slug: lower-case ASCII words joined by hyphens, at most 80 characters.
pub fn slugify(title: &str) -> String {
    let mut slug = String::with_capacity(title.len());
    for word in title.split(|c: char| !c.is_ascii_alphanumeric()).filter(|word| !word.is_empty()) {
        if slug.len() + word.len() + 1 > 80 {
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word.to_ascii_lowercase());
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_plain_words() {
        assert_eq!(
            slugify("How to Choose Running Shoes (2026 Guide)!"),
            "how-to-choose-running-shoes-2026-guide"
        );
        assert_eq!(slugify("  ---  "), "");
        assert!(slugify(&"word ".repeat(40)).len() <= 80);
    }

    #[test]
    fn only_transient_failures_are_retryable() {
        assert!(WordPressError::Timeout(Duration::from_secs(1)).is_retryable());
        assert!(
            WordPressError::Server { status: 503, message: String::new(), retry_after: None }.is_retryable()
        );
        assert!(!WordPressError::Auth { status: 401, message: String::new() }.is_retryable());
        assert!(!WordPressError::Config("x".into()).is_retryable());
    }
}
