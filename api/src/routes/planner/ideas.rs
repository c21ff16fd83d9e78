//! `/api/v1/planner/ideas/`: content ideas, and queueing them to the writer as writer tasks.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, route, web};
use diesel::{pg::Pg, prelude::*};
use serde::{Deserialize, Serialize};
use serde_json::json;
use shared::db::{
    models::{ContentIdea, WriterTask},
    schema::{content_ideas, writer_tasks},
};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{BulkIds, DeletedCount, Refs, check_moved_refs, check_refs, nullable};
use crate::forms::input_forms;
use crate::{
    crud,
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, ApiQuery, AuthUser, Editor, PathId, Validate},
    response::{self, Data, Page, PageParams},
    routes::common::{deleted, search_term},
    state::AppState,
    validation,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(bulk_delete)
        .service(bulk_queue_to_writer)
        .service(retrieve)
        .service(update)
        .service(remove);
}

/// Status of a content idea.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum IdeaStatus {
    New,
    Scheduled,
    Published,
}

impl IdeaStatus {
    fn as_str(self) -> &'static str {
        match self {
            IdeaStatus::New => "new",
            IdeaStatus::Scheduled => "scheduled",
            IdeaStatus::Published => "published",
        }
    }
}

/// Order of the idea list: a sort key, `-` in front for descending.
#[derive(Debug, Deserialize, Clone, Copy, utoipa::ToSchema)]
enum IdeaOrdering {
    #[serde(rename = "created_at")]
    Created,
    #[serde(rename = "-created_at")]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only ideas with this status.
    #[param(inline)]
    status: Option<IdeaStatus>,
    /// Only ideas of this cluster.
    cluster_id: Option<i64>,
    /// Only ideas of this content type (`post`, `page`, …).
    content_type: Option<String>,
    /// Only ideas of this site.
    site_id: Option<i64>,
    /// Only ideas of this sector.
    sector_id: Option<i64>,
    /// Ideas whose title contains this text, case-insensitively.
    search: Option<String>,
    /// The order of the rows (default `-created_at`).
    #[param(inline)]
    ordering: Option<IdeaOrdering>,
}

/// The account's content ideas, filtered and ordered (newest first by default).
#[utoipa::path(
    tag = "planner",
    params(PageParams, ListQuery),
    responses((status = 200, body = Page<ContentIdea>)),
)]
#[get("/ideas")]
async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    page: PageParams,
    query: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery { status, cluster_id, content_type, site_id, sector_id, search, ordering } = query.0;
    let pattern = search_term(&search);
    let (rows, count) = state
        .db(move |conn| {
            let filtered = || {
                let mut q: content_ideas::BoxedQuery<'static, Pg> =
                    content_ideas::table.filter(content_ideas::account_id.eq(auth.account_id)).into_boxed();
                if let Some(status) = status {
                    q = q.filter(content_ideas::status.eq(status.as_str()));
                }
                if let Some(cluster_id) = cluster_id {
                    q = q.filter(content_ideas::cluster_id.eq(cluster_id));
                }
                if let Some(content_type) = &content_type {
                    q = q.filter(content_ideas::content_type.eq(content_type.clone()));
                }
                if let Some(site_id) = site_id {
                    q = q.filter(content_ideas::site_id.eq(site_id));
                }
                if let Some(sector_id) = sector_id {
                    q = q.filter(content_ideas::sector_id.eq(sector_id));
                }
                if let Some(pattern) = &pattern {
                    q = q.filter(content_ideas::idea_title.ilike(pattern.clone()));
                }
                q
            };
            let count: i64 = filtered().count().get_result(conn)?;
            use IdeaOrdering as O;
            use content_ideas::{created_at, estimated_word_count, id, idea_title};
            let ordered = match ordering.unwrap_or(O::CreatedDesc) {
                O::Created => filtered().order((created_at.asc(), id)),
                O::CreatedDesc => filtered().order((created_at.desc(), id.desc())),
                O::Title => filtered().order((idea_title.asc(), id)),
                O::TitleDesc => filtered().order((idea_title.desc(), id.desc())),
                O::WordCount => filtered().order((estimated_word_count.asc(), id)),
                O::WordCountDesc => filtered().order((estimated_word_count.desc(), id.desc())),
            };
            let rows: Vec<ContentIdea> = ordered
                .offset(page.offset())
                .limit(page.size())
                .select(ContentIdea::as_select())
                .load(conn)?;
            Ok((rows, count))
        })
        .await?;
    Ok(response::paginated(&req, page, count, rows))
}

input_forms! {
    /// Create and update share one body; on create `idea_title` and `site_id` are required.
    #[serde(deny_unknown_fields)]
    IdeaInput, NewIdea {
        /// The title (trimmed, at most 500 characters); required on create.
        #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
        @required idea_title: String,
        /// At most 10,000 characters.
        #[schema(max_length = 10000)]
        description: Option<String>,
        /// At most 50 characters (default `post`).
        #[schema(min_length = 1, max_length = 50, pattern = r"\S")]
        content_type: Option<String>,
        /// At most 50 characters (default `article`).
        #[schema(min_length = 1, max_length = 50, pattern = r"\S")]
        content_structure: Option<String>,
        /// At most 200 items of 1 to 500 characters.
        #[schema(max_items = 200)]
        #[schema(schema_with = crate::routes::writer::text_list)]
        target_keywords: Option<Vec<String>>,
        /// The headings: at most 200 items of 1 to 500 characters.
        #[schema(max_items = 200)]
        #[schema(schema_with = crate::routes::writer::text_list)]
        outline: Option<Vec<String>>,
        #[schema(minimum = 0, maximum = 100000)]
        estimated_word_count: Option<i32>,
        /// Default `new`.
        status: Option<IdeaStatus>,
        /// One of the account's sites; required on create.
        @required site_id: i64,
        /// A sector of that site, or null for none.
        #[serde(default, deserialize_with = "nullable")]
        sector_id: Option<Option<i64>>,
        /// A cluster of that site, or null for none.
        #[serde(default, deserialize_with = "nullable")]
        cluster_id: Option<Option<i64>>,
    }
}

impl Validate for IdeaInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Some(title) = &self.idea_title {
            validation::text(&mut errors, "idea_title", title, 500);
        }
        validation::optional_text(&mut errors, "description", self.description.as_deref(), 10_000);
        for (field, value) in
            [("content_type", &self.content_type), ("content_structure", &self.content_structure)]
        {
            if let Some(value) = value {
                validation::text(&mut errors, field, value, 50);
            }
        }
        for (field, items) in [("target_keywords", &self.target_keywords), ("outline", &self.outline)] {
            if let Some(items) = items {
                if items.len() > 200 {
                    validation::push(&mut errors, field, "Send at most 200 items.");
                } else if items.iter().any(|item| item.trim().is_empty() || item.chars().count() > 500) {
                    validation::push(&mut errors, field, "Each item must be 1 to 500 characters.");
                }
            }
        }
        if self.estimated_word_count.is_some_and(|count| !(0..=100_000).contains(&count)) {
            validation::push(&mut errors, "estimated_word_count", "Must be between 0 and 100000.");
        }
        validation::finish(errors)
    }
}

fn string_list(items: Vec<String>) -> serde_json::Value {
    json!(items.into_iter().map(|item| item.trim().to_owned()).collect::<Vec<_>>())
}

/// Adds a content idea to a site (and optionally a sector and cluster of it).
#[utoipa::path(
    tag = "planner",
    request_body = NewIdea,
    responses(
        (status = 201, body = Data<ContentIdea>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
    ),
)]
#[post("/ideas")]
async fn create(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<NewIdea>,
) -> Result<HttpResponse, ApiError> {
    let input = IdeaInput::from(body.0);
    let title = input.idea_title.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let refs = Refs {
        site_id: input.site_id.unwrap_or_default(),
        sector_id: input.sector_id.flatten(),
        cluster_id: input.cluster_id.flatten(),
    };
    check_refs(&state, auth.account_id, refs).await?;
    let row = state
        .db(move |conn| {
            Ok(diesel::insert_into(content_ideas::table)
                .values((
                    content_ideas::account_id.eq(auth.account_id),
                    content_ideas::site_id.eq(refs.site_id),
                    content_ideas::sector_id.eq(refs.sector_id),
                    content_ideas::cluster_id.eq(refs.cluster_id),
                    content_ideas::idea_title.eq(title),
                    content_ideas::description.eq(input.description.unwrap_or_default().trim().to_owned()),
                    content_ideas::content_type
                        .eq(input.content_type.map_or("post".into(), |t| t.trim().to_owned())),
                    content_ideas::content_structure
                        .eq(input.content_structure.map_or("article".into(), |s| s.trim().to_owned())),
                    content_ideas::target_keywords.eq(string_list(input.target_keywords.unwrap_or_default())),
                    content_ideas::outline.eq(string_list(input.outline.unwrap_or_default())),
                    content_ideas::estimated_word_count.eq(input.estimated_word_count.unwrap_or(0)),
                    content_ideas::status.eq(input.status.unwrap_or(IdeaStatus::New).as_str()),
                ))
                .returning(ContentIdea::as_returning())
                .get_result(conn)?)
        })
        .await?;
    Ok(response::created(row))
}

/// One content idea.
#[utoipa::path(
    tag = "planner",
    params(("id" = i64, Path, description = "The idea id.")),
    responses((status = 200, body = Data<ContentIdea>)),
)]
#[get("/ideas/{id}")]
async fn retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    crud::retrieve::<ContentIdea>(&state, auth.account(), id.0).await
}

/// PUT and PATCH both apply the fields sent (partial update).
#[utoipa::path(
    tag = "planner",
    params(("id" = i64, Path, description = "The idea id.")),
    request_body = IdeaInput,
    responses(
        (status = 200, body = Data<ContentIdea>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
    ),
)]
#[route("/ideas/{id}", method = "PUT", method = "PATCH")]
async fn update(
    state: web::Data<AppState>,
    auth: Editor,
    id: PathId<i64>,
    body: ApiJson<IdeaInput>,
) -> Result<HttpResponse, ApiError> {
    let (account_id, input) = (auth.account_id, body.0);
    let current = crud::find::<ContentIdea>(&state, auth.account(), id.0).await?;
    let was = Refs { site_id: current.site_id, sector_id: current.sector_id, cluster_id: current.cluster_id };
    let refs = was.changed(input.site_id, input.sector_id, input.cluster_id);
    check_moved_refs(&state, account_id, was, refs).await?;
    let row = state
        .db(move |conn| {
            use content_ideas as c;
            Ok(diesel::update(c::table.find(current.id).filter(c::account_id.eq(account_id)))
                .set((
                    (
                        input.idea_title.map(|title| c::idea_title.eq(title.trim().to_owned())),
                        input.description.map(|text| c::description.eq(text.trim().to_owned())),
                        input.content_type.map(|text| c::content_type.eq(text.trim().to_owned())),
                        input.content_structure.map(|text| c::content_structure.eq(text.trim().to_owned())),
                        input.target_keywords.map(|items| c::target_keywords.eq(string_list(items))),
                        input.outline.map(|items| c::outline.eq(string_list(items))),
                    ),
                    (
                        input.estimated_word_count.map(|count| c::estimated_word_count.eq(count)),
                        input.status.map(|status| c::status.eq(status.as_str())),
                        input.site_id.map(|site_id| c::site_id.eq(site_id)),
                        input.sector_id.map(|sector_id| c::sector_id.eq(sector_id)),
                        input.cluster_id.map(|cluster_id| c::cluster_id.eq(cluster_id)),
                        c::updated_at.eq(diesel::dsl::now),
                    ),
                ))
                .returning(ContentIdea::as_returning())
                .get_result(conn)
                .optional()?)
        })
        .await?
        .ok_or(ApiError::NotFound { what: "idea" })?;
    Ok(response::ok(row))
}

/// Deletes a content idea; a writer task made from it stays, without its idea.
#[utoipa::path(
    tag = "planner",
    params(("id" = i64, Path, description = "The idea id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
    ),
)]
#[delete("/ideas/{id}")]
async fn remove(state: web::Data<AppState>, auth: Editor, id: PathId<i64>) -> Result<HttpResponse, ApiError> {
    let rows = delete_ideas(&state, auth.account_id, vec![id.0]).await?;
    deleted(rows, "idea")
}

async fn delete_ideas(state: &AppState, account_id: i64, ids: Vec<i64>) -> Result<usize, ApiError> {
    state
        .db(move |conn| {
            Ok(diesel::delete(
                content_ideas::table
                    .filter(content_ideas::account_id.eq(account_id))
                    .filter(content_ideas::id.eq_any(&ids)),
            )
            .execute(conn)?)
        })
        .await
}

/// Deletes the caller's ideas among `ids`; the others are ignored.
#[utoipa::path(
    tag = "planner",
    request_body = BulkIds,
    responses(
        (status = 200, body = Data<DeletedCount>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
    ),
)]
#[post("/ideas/bulk_delete")]
async fn bulk_delete(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<BulkIds>,
) -> Result<HttpResponse, ApiError> {
    let deleted_count = delete_ideas(&state, auth.account_id, body.0.ids).await?;
    Ok(response::ok(DeletedCount { deleted_count }))
}

/// Creates one draft writer task per idea and marks the ideas `scheduled`, in one transaction.
/// An idea already queued (the unique index on `writer_tasks.idea_id`) is skipped.
#[utoipa::path(
    tag = "planner",
    request_body = BulkIds,
    responses(
        (status = 200, body = Data<QueuedToWriter>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
    ),
)]
#[post("/ideas/bulk_queue_to_writer")]
async fn bulk_queue_to_writer(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<BulkIds>,
) -> Result<HttpResponse, ApiError> {
    let (account_id, ids) = (auth.account_id, body.0.ids);
    let tasks = state
        .db(move |conn| {
            conn.transaction::<_, shared::Error, _>(|conn| {
                // Locked so a concurrent call waits and then finds the ideas queued.
                let ideas: Vec<ContentIdea> = content_ideas::table
                    .filter(content_ideas::account_id.eq(account_id))
                    .filter(content_ideas::id.eq_any(&ids))
                    .order(content_ideas::id)
                    .select(ContentIdea::as_select())
                    .for_update()
                    .load(conn)?;
                if ideas.is_empty() {
                    return Ok(Vec::new());
                }
                let rows: Vec<_> = ideas
                    .into_iter()
                    .map(|idea| {
                        (
                            writer_tasks::account_id.eq(account_id),
                            writer_tasks::site_id.eq(idea.site_id),
                            writer_tasks::sector_id.eq(idea.sector_id),
                            writer_tasks::cluster_id.eq(idea.cluster_id),
                            writer_tasks::idea_id.eq(Some(idea.id)),
                            writer_tasks::title.eq(idea.idea_title),
                            writer_tasks::description.eq(idea.description),
                            writer_tasks::keywords.eq(idea.target_keywords),
                            writer_tasks::content_type.eq(idea.content_type),
                            writer_tasks::content_structure.eq(idea.content_structure),
                            writer_tasks::outline.eq(idea.outline),
                            writer_tasks::word_count.eq(idea.estimated_word_count),
                            writer_tasks::status.eq("draft"),
                        )
                    })
                    .collect();
                let tasks: Vec<WriterTask> = diesel::insert_into(writer_tasks::table)
                    .values(rows)
                    .on_conflict_do_nothing()
                    .returning(WriterTask::as_returning())
                    .get_results(conn)?;
                let queued: Vec<i64> = tasks.iter().filter_map(|task| task.idea_id).collect();
                diesel::update(content_ideas::table.filter(content_ideas::id.eq_any(&queued)))
                    .set((
                        content_ideas::status.eq(IdeaStatus::Scheduled.as_str()),
                        content_ideas::updated_at.eq(diesel::dsl::now),
                    ))
                    .execute(conn)?;
                Ok(tasks)
            })
        })
        .await?;
    Ok(response::ok(QueuedToWriter { tasks_created: tasks.len(), tasks }))
}

/// The answer of `bulk_queue_to_writer`: the writer tasks created (none for ideas already
/// queued).
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct QueuedToWriter {
    tasks_created: usize,
    tasks: Vec<WriterTask>,
}
