//! Articles: written by `worker-content` for a writer task or by hand, edited, published to
//! WordPress. Their word count always follows their HTML. A writer task has at most one
//! article: writing it again replaces the article in place, under the same id.

use chrono::Utc;
use diesel::{pg::Pg, prelude::*, upsert::excluded};
use serde_json::Value;

use super::{ContentStatus, ImageStatus, TaskStatus, images, tasks};
use crate::{
    Result,
    db::{models::Content, schema::content},
    ids::{AccountId, TaskId},
    tenant::{ListFilter, contains},
};

crate::owned_table! {
    Content { table: content, what: "content", site: site_id, insert: NewContent, update: ContentChange, filter: ContentFilter }
}

/// A sort key of articles; `-` sorts descending.
#[derive(Clone, Copy, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[schema(as = WriterContentOrdering)]
pub enum ContentOrdering {
    #[serde(rename = "created_at")]
    Created,
    #[default]
    #[serde(rename = "-created_at")]
    CreatedDesc,
    #[serde(rename = "title")]
    Title,
    #[serde(rename = "-title")]
    TitleDesc,
    #[serde(rename = "word_count")]
    WordCount,
    #[serde(rename = "-word_count")]
    WordCountDesc,
}

/// Which articles a listing covers, and in what order.
#[derive(Clone, Debug, Default)]
pub struct ContentFilter {
    pub status: Option<ContentStatus>,
    pub content_type: Option<String>,
    pub site_id: Option<i64>,
    pub sector_id: Option<i64>,
    /// Found in the title or the primary keyword.
    pub search: Option<String>,
    pub ordering: ContentOrdering,
}

type Query = content::BoxedQuery<'static, Pg>;

impl ListFilter<Query> for ContentFilter {
    fn narrow(&self, mut query: Query) -> Query {
        use content as c;
        if let Some(status) = self.status {
            query = query.filter(c::status.eq(status));
        }
        if let Some(content_type) = &self.content_type {
            query = query.filter(c::content_type.eq(content_type.clone()));
        }
        if let Some(site_id) = self.site_id {
            query = query.filter(c::site_id.eq(site_id));
        }
        if let Some(sector_id) = self.sector_id {
            query = query.filter(c::sector_id.eq(sector_id));
        }
        if let Some(pattern) = contains(self.search.as_deref()) {
            query = query.filter(c::title.ilike(pattern.clone()).or(c::primary_keyword.ilike(pattern)));
        }
        query
    }

    fn order(&self, query: Query) -> Query {
        use ContentOrdering as O;
        use content::{created_at, id, title, word_count};
        match self.ordering {
            O::Created => query.order((created_at.asc(), id)),
            O::CreatedDesc => query.order((created_at.desc(), id.desc())),
            O::Title => query.order((title.asc(), id)),
            O::TitleDesc => query.order((title.desc(), id.desc())),
            O::WordCount => query.order((word_count.asc(), id)),
            O::WordCountDesc => query.order((word_count.desc(), id.desc())),
        }
    }
}

/// Words of the text of `html`: tags dropped, whitespace-separated runs counted.
pub fn word_count(html: &str) -> i32 {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' => in_tag = false,
            _ if !in_tag => text.push(ch),
            _ => {}
        }
    }
    i32::try_from(text.split_whitespace().count()).unwrap_or(i32::MAX)
}

/// A new article written by hand; its site and sector were checked.
#[derive(Insertable)]
#[diesel(table_name = content)]
pub struct NewContent {
    pub site_id: i64,
    pub sector_id: Option<i64>,
    pub title: String,
    pub word_count: i32,
    pub html_content: String,
    pub meta_title: String,
    pub meta_description: String,
    pub primary_keyword: String,
    pub secondary_keywords: Value,
    pub content_type: String,
    pub status: ContentStatus,
}

/// What an edit changes; `None` keeps the column. Give `word_count` with `html_content`.
#[derive(AsChangeset, Default)]
#[diesel(table_name = content)]
pub struct ContentChange {
    pub title: Option<String>,
    pub word_count: Option<i32>,
    pub html_content: Option<String>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub primary_keyword: Option<String>,
    pub secondary_keywords: Option<Value>,
    pub content_type: Option<String>,
    pub status: Option<ContentStatus>,
    pub site_id: Option<i64>,
    pub sector_id: Option<Option<i64>>,
}

/// An article `worker-content` wrote for a writer task, as it is stored. Its id is reserved
/// before the task's result is written ([`reserve_ids`]), so the result can name it.
#[derive(Insertable)]
#[diesel(table_name = content)]
pub struct GeneratedArticle {
    pub id: i64,
    pub site_id: i64,
    pub sector_id: Option<i64>,
    pub writer_task_id: i64,
    pub title: String,
    pub meta_title: String,
    pub meta_description: String,
    pub html_content: String,
    pub word_count: i32,
    pub primary_keyword: String,
    pub secondary_keywords: Value,
    pub content_type: String,
}

/// The content ids for articles about to be written for the account's writer tasks
/// `writer_task_ids`, in their order: the id of a task's article when it has one (writing
/// again replaces it), else a fresh one from the sequence.
pub fn reserve_ids(conn: &mut PgConnection, account: AccountId, writer_task_ids: &[i64]) -> Result<Vec<i64>> {
    let existing: Vec<(Option<i64>, i64)> = content::table
        .filter(content::account_id.eq(account))
        .filter(content::writer_task_id.eq_any(writer_task_ids))
        .select((content::writer_task_id, content::id))
        .load(conn)?;
    writer_task_ids
        .iter()
        .map(|writer_task_id| match existing.iter().find(|row| row.0 == Some(*writer_task_id)) {
            Some((_, id)) => Ok(*id),
            None => Ok(diesel::select(next_id()).get_result::<i64>(conn)?),
        })
        .collect()
}

/// A fresh id from the `content` table's sequence.
fn next_id() -> diesel::expression::SqlLiteral<diesel::sql_types::BigInt> {
    diesel::dsl::sql::<diesel::sql_types::BigInt>("nextval('content_id_seq')")
}

/// Stores an article written by task `task` for the account (replacing its writer task's
/// earlier one) and moves the writer task to `review`. Returns the id stored under, which
/// differs from the reserved one when another run wrote the writer task's article in between.
pub fn save_generated(
    conn: &mut PgConnection,
    account: AccountId,
    task: TaskId,
    article: &GeneratedArticle,
) -> Result<i64> {
    let stored_id: i64 = diesel::insert_into(content::table)
        .values((content::account_id.eq(account), content::task_id.eq(Some(task)), article))
        .on_conflict(content::writer_task_id)
        .do_update()
        .set((
            content::title.eq(excluded(content::title)),
            content::meta_title.eq(excluded(content::meta_title)),
            content::meta_description.eq(excluded(content::meta_description)),
            content::html_content.eq(excluded(content::html_content)),
            content::word_count.eq(excluded(content::word_count)),
            content::primary_keyword.eq(excluded(content::primary_keyword)),
            content::secondary_keywords.eq(excluded(content::secondary_keywords)),
            content::task_id.eq(excluded(content::task_id)),
            content::updated_at.eq(diesel::dsl::now),
        ))
        .returning(content::id)
        .get_result(conn)?;
    tasks::mark_written(conn, account, article.writer_task_id, article.word_count)?;
    Ok(stored_id)
}

/// Which of the account's writer tasks among `ids` have an article.
pub fn writer_tasks_with_article(
    conn: &mut PgConnection,
    account: AccountId,
    ids: &[i64],
) -> Result<Vec<i64>> {
    Ok(content::table
        .filter(content::account_id.eq(account))
        .filter(content::writer_task_id.eq_any(ids))
        .select(content::writer_task_id.assume_not_null())
        .load(conn)?)
}

/// Where an article went on WordPress.
pub struct Publication {
    pub wp_post_id: i64,
    pub wp_post_url: String,
    /// The post is public (not a draft, pending or private).
    pub live: bool,
    /// The images uploaded with it.
    pub image_ids: Vec<i64>,
}

/// Records the account's article as posted: its post's id and address, and when the post is
/// live, the article `published`, the images uploaded with it `published` and its writer task
/// `completed`.
pub fn record_publication(
    conn: &mut PgConnection,
    account: AccountId,
    article: &Content,
    publication: &Publication,
) -> Result<()> {
    let target = || content::table.find(article.id).filter(content::account_id.eq(account));
    diesel::update(target())
        .set((
            content::wp_post_id.eq(Some(publication.wp_post_id)),
            content::wp_post_url.eq(Some(&publication.wp_post_url)),
            content::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    if !publication.live {
        return Ok(());
    }
    diesel::update(target())
        .set((content::status.eq(ContentStatus::Published), content::published_at.eq(Some(Utc::now()))))
        .execute(conn)?;
    let uploaded = images::Selection { ids: Some(publication.image_ids.clone()), content_id: None };
    images::set_status(conn, &account.into(), uploaded, ImageStatus::Published)?;
    if let Some(writer_task_id) = article.writer_task_id {
        tasks::set_status(conn, &account.into(), &[writer_task_id], TaskStatus::Completed)?;
    }
    Ok(())
}
