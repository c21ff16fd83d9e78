//! Posts as stored, and every query of their lifecycle: made and edited while `scheduled`,
//! queued by the scheduler when due, claimed, published or failed by the worker, cancelled by
//! their owner. Each move is one `UPDATE … WHERE status IN (states it may leave)`, so of two
//! racing moves exactly one lands and the loser sees no row.

use chrono::{DateTime, Utc};
use diesel::{pg::Pg, prelude::*};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{AccountStatus, Insights, Platform, PostStatus, StoredAccount};
use crate::{
    Result,
    db::schema::{social_accounts, social_posts},
    ids::AccountId,
    tasks::{self, NewTask, PublishPost, social::PublishPayload},
    tenant::ListFilter,
};

/// A post: `scheduled` until its time, then `queued`, `publishing` and `published` or
/// `failed`; or `cancelled`.
#[derive(Clone, Debug, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = social_posts, check_for_backend(diesel::pg::Pg))]
#[schema(as = SocialPost)]
pub struct Post {
    pub id: i64,
    pub social_account_id: i64,
    #[schema(value_type = Platform)]
    pub platform: String,
    pub content: String,
    /// The attachments' URLs.
    #[schema(value_type = Vec<String>)]
    pub media: Value,
    /// Who the post is for, as the author described it (a JSON object).
    #[schema(value_type = Object)]
    pub target_audience: Value,
    pub scheduled_at: DateTime<Utc>,
    pub status: PostStatus,
    pub remote_id: Option<String>,
    pub remote_url: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub task_id: Option<Uuid>,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

crate::owned_table! { Post { table: social_posts, what: "post", filter: PostFilter } }

impl Post {
    /// The attachments' URLs.
    pub fn media_urls(&self) -> Vec<String> {
        serde_json::from_value(self.media.clone()).unwrap_or_default()
    }

    pub fn platform(&self) -> Option<Platform> {
        Platform::parse(&self.platform)
    }
}

/// Which posts a listing covers; latest scheduled first.
#[derive(Clone, Debug, Default)]
pub struct PostFilter {
    pub platform: Option<Platform>,
    pub status: Option<PostStatus>,
    /// Scheduled at or after.
    pub from: Option<DateTime<Utc>>,
    /// Scheduled before.
    pub until: Option<DateTime<Utc>>,
}

impl ListFilter<social_posts::BoxedQuery<'static, Pg>> for PostFilter {
    fn narrow(
        &self,
        mut query: social_posts::BoxedQuery<'static, Pg>,
    ) -> social_posts::BoxedQuery<'static, Pg> {
        if let Some(platform) = self.platform {
            query = query.filter(social_posts::platform.eq(platform.as_str()));
        }
        if let Some(status) = self.status {
            query = query.filter(social_posts::status.eq(status));
        }
        if let Some(from) = self.from {
            query = query.filter(social_posts::scheduled_at.ge(from));
        }
        if let Some(until) = self.until {
            query = query.filter(social_posts::scheduled_at.lt(until));
        }
        query
    }

    fn order(&self, query: social_posts::BoxedQuery<'static, Pg>) -> social_posts::BoxedQuery<'static, Pg> {
        query.order((social_posts::scheduled_at.desc(), social_posts::id.desc()))
    }
}

/// The platform and standing of the account's social account `id`: what a new post needs.
pub fn poster(
    conn: &mut PgConnection,
    account: AccountId,
    social_account_id: i64,
) -> Result<Option<(String, AccountStatus)>> {
    Ok(social_accounts::table
        .find(social_account_id)
        .filter(social_accounts::account_id.eq(account))
        .select((social_accounts::platform, social_accounts::status))
        .first(conn)
        .optional()?)
}

/// A new post, already checked against its platform's rules.
pub struct NewPost {
    pub social_account_id: i64,
    pub platform: Platform,
    pub content: String,
    pub media: Vec<String>,
    pub target_audience: Value,
    pub scheduled_at: DateTime<Utc>,
}

/// Stores a new `scheduled` post.
pub fn create(conn: &mut PgConnection, account: AccountId, new: NewPost) -> Result<Post> {
    use social_posts as p;
    Ok(diesel::insert_into(p::table)
        .values((
            p::account_id.eq(account),
            p::social_account_id.eq(new.social_account_id),
            p::platform.eq(new.platform.as_str()),
            p::content.eq(new.content),
            p::media.eq(json!(new.media)),
            p::target_audience.eq(new.target_audience),
            p::scheduled_at.eq(new.scheduled_at),
        ))
        .returning(Post::as_returning())
        .get_result(conn)?)
}

/// The account's posts scheduled in `[start, end)`, in time order (at most `limit`).
pub fn scheduled_between(
    conn: &mut PgConnection,
    account: AccountId,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Post>> {
    Ok(social_posts::table
        .filter(social_posts::account_id.eq(account))
        .filter(social_posts::scheduled_at.ge(start))
        .filter(social_posts::scheduled_at.lt(end))
        .order(social_posts::scheduled_at)
        .limit(limit)
        .select(Post::as_select())
        .load(conn)?)
}

/// What an edit of a scheduled post changes; `None` keeps the column.
#[derive(AsChangeset)]
#[diesel(table_name = social_posts)]
pub struct PostEdit {
    pub content: String,
    pub media: Value,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub target_audience: Option<Value>,
}

/// Applies `edit` to the account's post `id` if it is still `scheduled`; `None` otherwise
/// (queued in the meantime, or no such post).
pub fn edit(conn: &mut PgConnection, account: AccountId, id: i64, edit: PostEdit) -> Result<Option<Post>> {
    use social_posts as p;
    Ok(diesel::update(p::table.find(id).filter(p::account_id.eq(account)))
        .filter(p::status.eq(PostStatus::Scheduled))
        .set((edit, p::updated_at.eq(diesel::dsl::now)))
        .returning(Post::as_returning())
        .get_result(conn)
        .optional()?)
}

/// Cancels the account's post `id` if it may still be cancelled; `None` otherwise.
pub fn cancel(conn: &mut PgConnection, account: AccountId, id: i64) -> Result<Option<Post>> {
    use social_posts as p;
    Ok(diesel::update(p::table.find(id).filter(p::account_id.eq(account)))
        .filter(p::status.eq_any(PostStatus::cancellable()))
        .set((p::status.eq(PostStatus::Cancelled), p::updated_at.eq(diesel::dsl::now)))
        .returning(Post::as_returning())
        .get_result(conn)
        .optional()?)
}

/// Queues up to `limit` due `scheduled` posts (of every account): each gets its
/// `social.publish` task in the same transaction. Rows another scheduler holds are skipped.
/// Returns the outbox ids to relay.
pub fn queue_due(conn: &mut PgConnection, limit: i64) -> Result<Vec<i64>> {
    conn.transaction(|conn| {
        let due: Vec<(i64, i64)> = social_posts::table
            .filter(social_posts::status.eq(PostStatus::Scheduled))
            .filter(social_posts::scheduled_at.le(diesel::dsl::now))
            .order(social_posts::scheduled_at)
            .limit(limit)
            .for_update()
            .skip_locked()
            .select((social_posts::id, social_posts::account_id))
            .load(conn)?;
        let mut outbox_ids = Vec::new();
        for (post_id, account_id) in due {
            let task = NewTask::of::<PublishPost>(account_id, &PublishPayload { post_id });
            let enqueued = tasks::enqueue(conn, task)?;
            diesel::update(social_posts::table.find(post_id))
                .set((
                    social_posts::status.eq(PostStatus::Queued),
                    social_posts::task_id.eq(enqueued.task.id),
                    social_posts::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)?;
            tracing::info!(post_id, task_id = %enqueued.task.id, "social post due; queued");
            outbox_ids.extend(enqueued.outbox_id);
        }
        Ok(outbox_ids)
    })
}

/// A post claimed for publishing, with its account.
pub struct Claimed {
    /// Sent as the platform's idempotency key where it has one; kept across attempts.
    pub marker: Uuid,
    /// An earlier attempt got as far as calling the platform: its outcome is unknown.
    pub resumed: bool,
    /// When the first attempt started.
    pub started_at: DateTime<Utc>,
    pub content: String,
    pub media: Vec<String>,
    pub account: StoredAccount,
}

/// Claims the account's post `id` for publishing (`queued` → `publishing`, or `publishing`
/// again for a redelivered task) and gives it its marker, committed before the platform is
/// called; `None` when it is not waiting to be published.
pub fn claim(conn: &mut PgConnection, account: AccountId, post_id: i64) -> Result<Option<Claimed>> {
    conn.transaction(|conn| {
        type Row = (PostStatus, Option<Uuid>, Option<DateTime<Utc>>, String, Value, i64);
        let row: Option<Row> = social_posts::table
            .find(post_id)
            .filter(social_posts::account_id.eq(account))
            .for_update()
            .select((
                social_posts::status,
                social_posts::publish_marker,
                social_posts::publish_started_at,
                social_posts::content,
                social_posts::media,
                social_posts::social_account_id,
            ))
            .first(conn)
            .optional()?;
        let Some((status, marker, started_at, content, media, social_account_id)) = row else {
            return Ok(None);
        };
        if !status.can_become(PostStatus::Publishing) {
            return Ok(None);
        }
        let resumed = status == PostStatus::Publishing && marker.is_some();
        let marker = marker.unwrap_or_else(Uuid::new_v4);
        let started_at = started_at.unwrap_or_else(Utc::now);
        diesel::update(social_posts::table.find(post_id))
            .set((
                social_posts::status.eq(PostStatus::Publishing),
                social_posts::publish_marker.eq(Some(marker)),
                social_posts::publish_started_at.eq(Some(started_at)),
                social_posts::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
        let Some(account) = StoredAccount::find(conn, account.0, social_account_id)? else {
            return Ok(None);
        };
        let media = serde_json::from_value(media).unwrap_or_default();
        Ok(Some(Claimed { marker, resumed, started_at, content, media, account }))
    })
}

/// Marks the post published with the platform's id and URL.
pub fn mark_published(
    conn: &mut PgConnection,
    account: AccountId,
    post_id: i64,
    remote_id: String,
    remote_url: String,
) -> Result<()> {
    use social_posts as p;
    diesel::update(p::table.find(post_id).filter(p::account_id.eq(account)))
        .set((
            p::status.eq(PostStatus::Published),
            p::remote_id.eq(Some(remote_id)),
            p::remote_url.eq(Some(remote_url)),
            p::published_at.eq(Some(Utc::now())),
            p::error_code.eq(None::<String>),
            p::error_message.eq(None::<String>),
            p::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Marks the post failed with the error's code and message.
pub fn mark_failed(
    conn: &mut PgConnection,
    account: AccountId,
    post_id: i64,
    code: String,
    message: String,
) -> Result<()> {
    use social_posts as p;
    diesel::update(p::table.find(post_id).filter(p::account_id.eq(account)))
        .set((
            p::status.eq(PostStatus::Failed),
            p::error_code.eq(Some(code)),
            p::error_message.eq(Some(message)),
            p::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The account's posts published since `since` on active accounts, as (post id, remote id)
/// with the account that made each.
pub fn published_since(
    conn: &mut PgConnection,
    account: AccountId,
    since: DateTime<Utc>,
) -> Result<Vec<((i64, String), StoredAccount)>> {
    Ok(social_posts::table
        .inner_join(social_accounts::table.on(social_accounts::id.eq(social_posts::social_account_id)))
        .filter(social_posts::account_id.eq(account))
        .filter(social_posts::status.eq(PostStatus::Published))
        .filter(social_posts::published_at.ge(since))
        .filter(social_posts::remote_id.is_not_null())
        .filter(social_accounts::status.eq(AccountStatus::Active))
        .select(((social_posts::id, social_posts::remote_id.assume_not_null()), StoredAccount::as_select()))
        .load(conn)?)
}

/// Stores the platform's counts for each post.
pub fn record_insights(conn: &mut PgConnection, counts: Vec<(i64, Insights)>) -> Result<()> {
    for (post_id, insights) in counts {
        diesel::update(social_posts::table.find(post_id))
            .set((
                social_posts::likes.eq(insights.likes),
                social_posts::shares.eq(insights.shares),
                social_posts::replies.eq(insights.replies),
                social_posts::impressions.eq(insights.impressions),
                social_posts::insights_at.eq(Some(Utc::now())),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A published post and the counts last pulled for it.
#[derive(Clone, Debug, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = social_posts, check_for_backend(diesel::pg::Pg))]
#[schema(as = SocialPostInsights)]
pub struct PostInsights {
    pub id: i64,
    pub content: String,
    pub published_at: Option<DateTime<Utc>>,
    pub remote_url: Option<String>,
    pub likes: i32,
    pub shares: i32,
    pub replies: i32,
    /// Null where the platform does not count them.
    pub impressions: Option<i32>,
    /// When the counts were pulled; null before the first pull.
    pub insights_at: Option<DateTime<Utc>>,
}

/// The account's social account `id` and its posts published since `since`, newest first;
/// `None` when the account has no such social account.
pub fn account_insights(
    conn: &mut PgConnection,
    account: AccountId,
    social_account_id: i64,
    since: DateTime<Utc>,
) -> Result<Option<(super::SocialAccount, Vec<PostInsights>)>> {
    let found = social_accounts::table
        .find(social_account_id)
        .filter(social_accounts::account_id.eq(account))
        .select(super::SocialAccount::as_select())
        .first(conn)
        .optional()?;
    let Some(found) = found else { return Ok(None) };
    let rows = social_posts::table
        .filter(social_posts::account_id.eq(account))
        .filter(social_posts::social_account_id.eq(social_account_id))
        .filter(social_posts::status.eq(PostStatus::Published))
        .filter(social_posts::published_at.ge(since))
        .order(social_posts::published_at.desc())
        .select(PostInsights::as_select())
        .load(conn)?;
    Ok(Some((found, rows)))
}

/// A published post's counts, with where it went.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = social_posts, check_for_backend(diesel::pg::Pg))]
pub struct PublishedCounts {
    pub platform: String,
    pub social_account_id: i64,
    pub likes: i32,
    pub shares: i32,
    pub replies: i32,
    pub impressions: Option<i32>,
}

/// The counts of the account's posts published in `[from, until)` (either end open), on
/// `platform` or all.
pub fn published_counts(
    conn: &mut PgConnection,
    account: AccountId,
    platform: Option<Platform>,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> Result<Vec<PublishedCounts>> {
    let mut query = social_posts::table
        .filter(social_posts::account_id.eq(account))
        .filter(social_posts::status.eq(PostStatus::Published))
        .into_boxed();
    if let Some(platform) = platform {
        query = query.filter(social_posts::platform.eq(platform.as_str()));
    }
    if let Some(from) = from {
        query = query.filter(social_posts::published_at.ge(from));
    }
    if let Some(until) = until {
        query = query.filter(social_posts::published_at.lt(until));
    }
    Ok(query.select(PublishedCounts::as_select()).load(conn)?)
}
