//! Content ideas: what could be written for a site (and sector, and cluster), made by hand or
//! by a generate_ideas run. An idea is queued to the writer once ([`queue_to_writer`]): it
//! becomes a draft writer task and the idea is `scheduled`. Deleting an idea leaves its writer
//! task, without its idea (the foreign key sets `idea_id` to null).

use chrono::{DateTime, Utc};
use diesel::{pg::Pg, prelude::*};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    Result,
    db::{models::WriterTask, schema::content_ideas},
    ids::AccountId,
    owned_table,
    tenant::{ListFilter, Scope},
    writer::{
        TaskStatus,
        tasks::{self, NewTask},
    },
};

/// The content type of an idea that does not say.
pub const DEFAULT_CONTENT_TYPE: &str = "post";
/// The content structure of an idea that does not say.
pub const DEFAULT_CONTENT_STRUCTURE: &str = "article";

crate::db::text_enum::text_enum! {
    /// Status of a content idea.
    pub enum IdeaStatus {
        New = "new",
        Scheduled = "scheduled",
        Published = "published",
    }
}

#[derive(Clone, Debug, Queryable, Selectable, Identifiable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = content_ideas, check_for_backend(diesel::pg::Pg))]
pub struct ContentIdea {
    pub id: i64,
    pub account_id: i64,
    pub site_id: i64,
    pub sector_id: Option<i64>,
    pub cluster_id: Option<i64>,
    pub idea_title: String,
    pub description: String,
    pub content_type: String,
    pub content_structure: String,
    pub target_keywords: Value,
    pub outline: Value,
    pub estimated_word_count: i32,
    pub status: IdeaStatus,
    /// The generate_ideas task that wrote it, if one did.
    pub task_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Order of the idea list: a sort key, `-` in front for descending.
#[derive(Debug, Default, Deserialize, Clone, Copy, utoipa::ToSchema)]
pub enum IdeaOrdering {
    #[serde(rename = "created_at")]
    Created,
    #[serde(rename = "-created_at")]
    #[default]
    CreatedDesc,
    #[serde(rename = "idea_title")]
    Title,
    #[serde(rename = "-idea_title")]
    TitleDesc,
    #[serde(rename = "estimated_word_count")]
    WordCount,
    #[serde(rename = "-estimated_word_count")]
    WordCountDesc,
}

/// An idea list: by status, cluster, content type, site, sector and a pattern on the title.
#[derive(Debug, Default)]
pub struct IdeaFilter {
    pub status: Option<IdeaStatus>,
    pub cluster_id: Option<i64>,
    pub content_type: Option<String>,
    pub site_id: Option<i64>,
    pub sector_id: Option<i64>,
    /// An ILIKE pattern on the title ([`crate::tenant::contains`]).
    pub title: Option<String>,
    pub ordering: IdeaOrdering,
}

type Boxed = content_ideas::BoxedQuery<'static, Pg>;

impl ListFilter<Boxed> for IdeaFilter {
    fn narrow(&self, mut q: Boxed) -> Boxed {
        if let Some(status) = self.status {
            q = q.filter(content_ideas::status.eq(status));
        }
        if let Some(cluster_id) = self.cluster_id {
            q = q.filter(content_ideas::cluster_id.eq(cluster_id));
        }
        if let Some(content_type) = &self.content_type {
            q = q.filter(content_ideas::content_type.eq(content_type.clone()));
        }
        if let Some(site_id) = self.site_id {
            q = q.filter(content_ideas::site_id.eq(site_id));
        }
        if let Some(sector_id) = self.sector_id {
            q = q.filter(content_ideas::sector_id.eq(sector_id));
        }
        if let Some(pattern) = &self.title {
            q = q.filter(content_ideas::idea_title.ilike(pattern.clone()));
        }
        q
    }

    fn order(&self, q: Boxed) -> Boxed {
        use IdeaOrdering as O;
        use content_ideas::{created_at, estimated_word_count, id, idea_title};
        match self.ordering {
            O::Created => q.order((created_at.asc(), id)),
            O::CreatedDesc => q.order((created_at.desc(), id.desc())),
            O::Title => q.order((idea_title.asc(), id)),
            O::TitleDesc => q.order((idea_title.desc(), id.desc())),
            O::WordCount => q.order((estimated_word_count.asc(), id)),
            O::WordCountDesc => q.order((estimated_word_count.desc(), id.desc())),
        }
    }
}

/// The columns of a new idea besides its account; its site, sector and cluster were checked.
/// Text is trimmed; an idea made by hand is `new` unless it says otherwise.
#[derive(Debug, Insertable)]
#[diesel(table_name = content_ideas)]
pub struct IdeaInsertForm {
    pub site_id: i64,
    pub sector_id: Option<i64>,
    pub cluster_id: Option<i64>,
    pub idea_title: String,
    pub description: String,
    pub content_type: String,
    pub content_structure: String,
    /// A JSON array of strings.
    pub target_keywords: Value,
    /// The headings: a JSON array of strings.
    pub outline: Value,
    pub estimated_word_count: i32,
    pub status: IdeaStatus,
}

/// Writes the ideas an AI run (`task_id`) generated for the account's clusters; their sites,
/// sectors and clusters come from those clusters. Call it in the task's success transaction.
pub fn add_generated(
    conn: &mut PgConnection,
    account: AccountId,
    task_id: Uuid,
    ideas: Vec<IdeaInsertForm>,
) -> Result<usize> {
    let rows: Vec<_> = ideas
        .into_iter()
        .map(|idea| (content_ideas::account_id.eq(account), content_ideas::task_id.eq(Some(task_id)), idea))
        .collect();
    crate::plans::limited(conn, account, crate::plans::Limited::Ideas, |conn| {
        Ok(diesel::insert_into(content_ideas::table).values(rows).execute(conn)?)
    })
}

/// The columns an update of an idea may change; `None` leaves a column alone. Its site,
/// sector and cluster were checked.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = content_ideas)]
pub struct IdeaUpdateForm {
    pub idea_title: Option<String>,
    pub description: Option<String>,
    pub content_type: Option<String>,
    pub content_structure: Option<String>,
    pub target_keywords: Option<Value>,
    pub outline: Option<Value>,
    pub estimated_word_count: Option<i32>,
    pub status: Option<IdeaStatus>,
    pub site_id: Option<i64>,
    pub sector_id: Option<Option<i64>>,
    pub cluster_id: Option<Option<i64>>,
}

owned_table! {
    ContentIdea { table: content_ideas, what: "idea", site: site_id, insert: IdeaInsertForm, update: IdeaUpdateForm, filter: IdeaFilter }
}

/// Queues the account's ideas among `ids` to the writer, in one transaction: one draft writer
/// task per idea, and the ideas queued marked `scheduled`. An idea already queued (the unique
/// index on `writer_tasks.idea_id`) is skipped, and so are ids the account does not have.
/// Returns the tasks created.
pub fn queue_to_writer(conn: &mut PgConnection, scope: &Scope, ids: &[i64]) -> Result<Vec<WriterTask>> {
    let account = scope.account;
    conn.transaction(|conn| {
        // Locked so a concurrent call waits and then finds the ideas queued.
        let ideas: Vec<ContentIdea> = content_ideas::table
            .filter(crate::visible!(content_ideas, scope, site_id))
            .filter(content_ideas::id.eq_any(ids))
            .order(content_ideas::id)
            .select(ContentIdea::as_select())
            .for_update()
            .load(conn)?;
        if ideas.is_empty() {
            return Ok(Vec::new());
        }
        let drafts: Vec<NewTask> = ideas.into_iter().map(draft_of).collect();
        let created = tasks::insert_missing(conn, account, &drafts)?;
        let queued: Vec<i64> = created.iter().filter_map(|task| task.idea_id).collect();
        diesel::update(
            content_ideas::table
                .filter(content_ideas::account_id.eq(account))
                .filter(content_ideas::id.eq_any(&queued)),
        )
        .set((
            content_ideas::status.eq(IdeaStatus::Scheduled),
            content_ideas::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
        Ok(created)
    })
}

/// The draft writer task of an idea: its refs, title, description, keywords, type, structure,
/// outline and length.
fn draft_of(idea: ContentIdea) -> NewTask {
    NewTask {
        site_id: idea.site_id,
        sector_id: idea.sector_id,
        cluster_id: idea.cluster_id,
        idea_id: Some(idea.id),
        title: idea.idea_title,
        description: idea.description,
        keywords: idea.target_keywords,
        content_type: idea.content_type,
        content_structure: idea.content_structure,
        outline: idea.outline,
        word_count: idea.estimated_word_count,
        status: TaskStatus::Draft,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_word_per_status() {
        for status in IdeaStatus::ALL {
            assert_eq!(IdeaStatus::parse(status.as_str()), Some(*status));
        }
        assert_eq!(IdeaStatus::parse("draft"), None);
    }
}
