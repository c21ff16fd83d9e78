//! Writer tasks: what to write (title, keywords, outline, length), made by hand or from a
//! content idea, moved `draft` → `in_progress` → `review` by `worker-content` and
//! `completed` when their article is published.

use diesel::{
    dsl::sql,
    pg::Pg,
    prelude::*,
    sql_types::{Bool, Text},
};
use serde_json::Value;

use super::{DEFAULT_WORDS, TaskStatus, content};
use crate::{
    Result,
    db::{
        models::{AuthorProfile, Strategy, WriterTask},
        schema::writer_tasks,
    },
    ids::AccountId,
    planner::keywords,
    tenant::{ListFilter, Scope, Scoped, contains},
    wordpress,
};

crate::owned_table! {
    WriterTask { table: writer_tasks, what: "writer task", site: site_id, insert: NewTask, update: TaskChange, filter: TaskFilter }
}

impl WriterTask {
    /// The words its article is to have; a task without a count gets [`DEFAULT_WORDS`].
    pub fn words_to_write(&self) -> i32 {
        if self.word_count > 0 { self.word_count } else { DEFAULT_WORDS }
    }
}

/// A sort key of writer tasks; `-` sorts descending.
#[derive(Clone, Copy, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[schema(as = WriterTaskOrdering)]
pub enum TaskOrdering {
    #[serde(rename = "title")]
    Title,
    #[serde(rename = "-title")]
    TitleDesc,
    #[serde(rename = "created_at")]
    Created,
    #[default]
    #[serde(rename = "-created_at")]
    CreatedDesc,
    #[serde(rename = "word_count")]
    WordCount,
    #[serde(rename = "-word_count")]
    WordCountDesc,
    #[serde(rename = "status")]
    Status,
    #[serde(rename = "-status")]
    StatusDesc,
}

/// Which writer tasks a listing covers, and in what order.
#[derive(Clone, Debug, Default)]
pub struct TaskFilter {
    pub status: Option<TaskStatus>,
    pub cluster_id: Option<i64>,
    pub content_type: Option<String>,
    pub content_structure: Option<String>,
    pub site_id: Option<i64>,
    pub sector_id: Option<i64>,
    /// Found in the title or the keywords.
    pub search: Option<String>,
    pub ordering: TaskOrdering,
}

type Query = writer_tasks::BoxedQuery<'static, Pg>;

impl ListFilter<Query> for TaskFilter {
    fn narrow(&self, mut query: Query) -> Query {
        use writer_tasks as w;
        if let Some(status) = self.status {
            query = query.filter(w::status.eq(status));
        }
        if let Some(cluster_id) = self.cluster_id {
            query = query.filter(w::cluster_id.eq(cluster_id));
        }
        if let Some(content_type) = &self.content_type {
            query = query.filter(w::content_type.eq(content_type.clone()));
        }
        if let Some(structure) = &self.content_structure {
            query = query.filter(w::content_structure.eq(structure.clone()));
        }
        if let Some(site_id) = self.site_id {
            query = query.filter(w::site_id.eq(site_id));
        }
        if let Some(sector_id) = self.sector_id {
            query = query.filter(w::sector_id.eq(sector_id));
        }
        if let Some(pattern) = contains(self.search.as_deref()) {
            // The keywords are a JSON array; matching its text finds any keyword.
            let in_keywords =
                sql::<Bool>("writer_tasks.keywords::text ILIKE ").bind::<Text, _>(pattern.clone());
            query = query.filter(w::title.ilike(pattern).or(in_keywords));
        }
        query
    }

    fn order(&self, query: Query) -> Query {
        use TaskOrdering as O;
        use writer_tasks::{created_at, id, status, title, word_count};
        match self.ordering {
            O::Title => query.order((title.asc(), id)),
            O::TitleDesc => query.order((title.desc(), id.desc())),
            O::Created => query.order((created_at.asc(), id)),
            O::CreatedDesc => query.order((created_at.desc(), id.desc())),
            O::WordCount => query.order((word_count.asc(), id)),
            O::WordCountDesc => query.order((word_count.desc(), id.desc())),
            O::Status => query.order((status.asc(), id)),
            O::StatusDesc => query.order((status.desc(), id.desc())),
        }
    }
}

/// A new writer task; its site, sector, cluster and idea were checked.
#[derive(Insertable)]
#[diesel(table_name = writer_tasks)]
pub struct NewTask {
    pub site_id: i64,
    pub sector_id: Option<i64>,
    pub cluster_id: Option<i64>,
    pub idea_id: Option<i64>,
    pub title: String,
    pub description: String,
    pub keywords: Value,
    pub content_type: String,
    pub content_structure: String,
    pub outline: Value,
    pub word_count: i32,
    pub status: TaskStatus,
}

/// What an edit changes; `None` keeps the column.
#[derive(AsChangeset, Default)]
#[diesel(table_name = writer_tasks)]
pub struct TaskChange {
    pub title: Option<String>,
    pub description: Option<String>,
    pub content_type: Option<String>,
    pub content_structure: Option<String>,
    pub keywords: Option<Value>,
    pub outline: Option<Value>,
    pub word_count: Option<i32>,
    pub status: Option<TaskStatus>,
    pub site_id: Option<i64>,
    pub sector_id: Option<Option<i64>>,
    pub cluster_id: Option<Option<i64>>,
    pub idea_id: Option<Option<i64>>,
}

/// Inserts the tasks for the account, skipping each whose idea is queued already (the unique
/// index on `idea_id`); returns the rows inserted. One statement: at most 5,000 tasks a call,
/// since each takes 13 of its 65,535 bind parameters.
pub fn insert_missing(
    conn: &mut PgConnection,
    account: AccountId,
    tasks: &[NewTask],
) -> Result<Vec<WriterTask>> {
    let rows: Vec<_> = tasks.iter().map(|task| (writer_tasks::account_id.eq(account), task)).collect();
    Ok(diesel::insert_into(writer_tasks::table)
        .values(rows)
        .on_conflict_do_nothing()
        .returning(WriterTask::as_returning())
        .get_results(conn)?)
}

/// Sets the status of the account's writer tasks among `ids`; how many changed.
pub fn set_status(conn: &mut PgConnection, scope: &Scope, ids: &[i64], status: TaskStatus) -> Result<usize> {
    use writer_tasks as w;
    Ok(diesel::update(w::table.filter(crate::visible!(w, scope, site_id)).filter(w::id.eq_any(ids)))
        .set((w::status.eq(status), w::updated_at.eq(diesel::dsl::now)))
        .execute(conn)?)
}

/// Moves the account's writer task `id` to `review`: its article was written with `words`.
pub fn mark_written(conn: &mut PgConnection, account: AccountId, id: i64, words: i32) -> Result<()> {
    use writer_tasks as w;
    diesel::update(w::table.find(id).filter(w::account_id.eq(account)))
        .set((w::status.eq(TaskStatus::Review), w::word_count.eq(words), w::updated_at.eq(diesel::dsl::now)))
        .execute(conn)?;
    Ok(())
}

/// Moves the account's writer tasks among `ids` that are still `in_progress` back to where
/// they stand without the run that took them: `review` when they have an article, else
/// `draft`.
pub fn settle_in_progress(conn: &mut PgConnection, account: AccountId, ids: &[i64]) -> Result<()> {
    use writer_tasks as w;
    if ids.is_empty() {
        return Ok(());
    }
    let with_article = content::writer_tasks_with_article(conn, account, ids)?;
    for (status, wanted) in [(TaskStatus::Review, true), (TaskStatus::Draft, false)] {
        let chosen: Vec<i64> = ids.iter().copied().filter(|id| with_article.contains(id) == wanted).collect();
        diesel::update(w::table.filter(w::account_id.eq(account)))
            .filter(w::id.eq_any(chosen))
            .filter(w::status.eq(TaskStatus::InProgress))
            .set((w::status.eq(status), w::updated_at.eq(diesel::dsl::now)))
            .execute(conn)?;
    }
    Ok(())
}

/// A writer task with what else shapes its article: its cluster's keywords and its site's
/// author profile (the voice) and strategy (audience and guidelines).
pub struct TaskBrief {
    pub task: WriterTask,
    /// The cluster's keywords, most volume first; none without a cluster.
    pub cluster_keywords: Vec<String>,
    pub author_profile: Option<AuthorProfile>,
    pub strategy: Option<Strategy>,
}

/// The briefs of the account's writer tasks among `ids`, by id (the others are left out),
/// each with up to `cluster_keywords` keywords of its cluster.
pub fn briefs(
    conn: &mut PgConnection,
    account: AccountId,
    ids: &[i64],
    cluster_keywords: i64,
) -> Result<Vec<TaskBrief>> {
    WriterTask::find_many(conn, &account.into(), ids)?
        .into_iter()
        .map(|task| {
            // A task's cluster and site are its account's (their foreign keys include it), so
            // the cluster's keywords are too and the site is there.
            let cluster_keywords = match task.cluster_id {
                Some(cluster_id) => keywords::top_of_cluster(conn, cluster_id, cluster_keywords)?
                    .into_iter()
                    .map(|(keyword, _volume)| keyword)
                    .collect(),
                None => Vec::new(),
            };
            let site =
                wordpress::connection(conn, account, task.site_id)?.ok_or(diesel::result::Error::NotFound)?;
            let author_profile = match site.author_profile_id {
                Some(id) => AuthorProfile::find(conn, &account.into(), id)?,
                None => None,
            };
            let strategy = match site.strategy_id {
                Some(id) => Strategy::find(conn, &account.into(), id)?,
                None => None,
            };
            Ok(TaskBrief { task, cluster_keywords, author_profile, strategy })
        })
        .collect()
}
