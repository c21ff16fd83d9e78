//! Articles: written by `worker-content` for a writer task or by hand, edited, published to
//! WordPress. Their word count always follows their HTML.

use diesel::{pg::Pg, prelude::*};
use serde_json::Value;

use super::ContentStatus;
use crate::{
    db::{models::Content, schema::content},
    tenant::{ListFilter, contains},
};

crate::owned_table! {
    Content { table: content, what: "content", insert: NewContent, update: ContentChange, filter: ContentFilter }
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
