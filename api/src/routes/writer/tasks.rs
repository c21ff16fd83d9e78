//! `/api/v1/writer/tasks/`: what the writer is asked to write, and `auto_generate_content`,
//! which has `worker-content` write it.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, route, web};
use diesel::{
    dsl::sql,
    pg::Pg,
    prelude::*,
    sql_types::{Bool, Text},
};
use serde::Deserialize;
use shared::{
    db::{models::WriterTask, schema::writer_tasks},
    tasks::{GenerateContent, writer::GenerateContentPayload},
};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{BatchIds, check_list, ensure_found, string_list, text_enum};
use crate::forms::input_forms;
use crate::{
    crud,
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, ApiQuery, AuthUser, Editor, IdempotencyKey, PathId, Validate},
    response::{self, Accepted, Data, Page, PageParams},
    routes::{
        commands,
        common::{deleted, search_term},
        planner::{
            BulkIds, DeletedCount, Refs, UpdatedCount, check_ids, check_moved_refs, check_refs, id_list,
            nullable,
        },
    },
    state::AppState,
    validation,
};

/// Words assumed for a task that does not say how long it should be.
const DEFAULT_WORDS: u64 = 1_500;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(bulk_delete)
        .service(bulk_update)
        .service(auto_generate_content)
        .service(retrieve)
        .service(update)
        .service(remove);
}

text_enum!(
    /// Where a writer task stands.
    #[schema(as = WriterTaskStatus)]
    TaskStatus {
    Draft => "draft",
    InProgress => "in_progress",
    Review => "review",
    Completed => "completed",
    Archived => "archived",
});

/// A sort key; `-` sorts descending.
#[derive(Debug, Deserialize, Clone, Copy, ToSchema)]
#[schema(as = WriterTaskOrdering)]
enum TaskOrdering {
    #[serde(rename = "title")]
    Title,
    #[serde(rename = "-title")]
    TitleDesc,
    #[serde(rename = "created_at")]
    Created,
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only tasks in this status.
    #[param(inline)]
    status: Option<TaskStatus>,
    /// Only tasks of this cluster.
    cluster_id: Option<i64>,
    /// Only tasks of this content type (`post`, `page`, …).
    content_type: Option<String>,
    /// Only tasks of this structure (`article`, …).
    content_structure: Option<String>,
    /// Only tasks of this site.
    site_id: Option<i64>,
    /// Only tasks of this sector.
    sector_id: Option<i64>,
    /// Tasks whose title or keywords contain this text.
    search: Option<String>,
    /// The sort (`-created_at` by default).
    #[param(inline)]
    ordering: Option<TaskOrdering>,
}

/// The account's writer tasks, newest first unless `ordering` says otherwise.
#[utoipa::path(
    tag = "writer",
    params(PageParams, ListQuery),
    responses((status = 200, body = Page<WriterTask>)),
)]
#[get("/tasks")]
async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    page: PageParams,
    query: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let pattern = search_term(&q.search);
    let (rows, count) = state
        .db(move |conn| {
            let filtered = || {
                use writer_tasks as w;
                let mut query: w::BoxedQuery<'static, Pg> =
                    w::table.filter(w::account_id.eq(auth.account_id)).into_boxed();
                if let Some(status) = q.status {
                    query = query.filter(w::status.eq(status.as_str()));
                }
                if let Some(cluster_id) = q.cluster_id {
                    query = query.filter(w::cluster_id.eq(cluster_id));
                }
                if let Some(content_type) = &q.content_type {
                    query = query.filter(w::content_type.eq(content_type.clone()));
                }
                if let Some(structure) = &q.content_structure {
                    query = query.filter(w::content_structure.eq(structure.clone()));
                }
                if let Some(site_id) = q.site_id {
                    query = query.filter(w::site_id.eq(site_id));
                }
                if let Some(sector_id) = q.sector_id {
                    query = query.filter(w::sector_id.eq(sector_id));
                }
                if let Some(pattern) = &pattern {
                    // The keywords are a JSON array; matching its text finds any keyword.
                    let in_keywords =
                        sql::<Bool>("writer_tasks.keywords::text ILIKE ").bind::<Text, _>(pattern.clone());
                    query = query.filter(w::title.ilike(pattern.clone()).or(in_keywords));
                }
                query
            };
            let count: i64 = filtered().count().get_result(conn)?;
            use TaskOrdering as O;
            use writer_tasks::{created_at, id, status as state, title, word_count};
            let ordered = match q.ordering.unwrap_or(O::CreatedDesc) {
                O::Title => filtered().order((title.asc(), id)),
                O::TitleDesc => filtered().order((title.desc(), id.desc())),
                O::Created => filtered().order((created_at.asc(), id)),
                O::CreatedDesc => filtered().order((created_at.desc(), id.desc())),
                O::WordCount => filtered().order((word_count.asc(), id)),
                O::WordCountDesc => filtered().order((word_count.desc(), id.desc())),
                O::Status => filtered().order((state.asc(), id)),
                O::StatusDesc => filtered().order((state.desc(), id.desc())),
            };
            let rows: Vec<WriterTask> = ordered
                .offset(page.offset())
                .limit(page.size())
                .select(WriterTask::as_select())
                .load(conn)?;
            Ok((rows, count))
        })
        .await?;
    Ok(response::paginated(&req, page, count, rows))
}

input_forms! {
    /// Create and update share one body; on create `title` and `site_id` are required.
    #[serde(deny_unknown_fields)]
    WriterTaskInput, NewWriterTask {
        /// Required on create.
        #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
        @required title: String,
        #[schema(max_length = 10000)]
        description: Option<String>,
        /// At most 200 items of 1 to 500 characters.
        #[schema(schema_with = crate::routes::writer::text_list)]
        keywords: Option<Vec<String>>,
        /// `post` by default.
        #[schema(min_length = 1, max_length = 50, pattern = r"\S")]
        content_type: Option<String>,
        /// `article` by default.
        #[schema(min_length = 1, max_length = 50, pattern = r"\S")]
        content_structure: Option<String>,
        /// Section headings; at most 200 items of 1 to 500 characters.
        #[schema(schema_with = crate::routes::writer::text_list)]
        outline: Option<Vec<String>>,
        /// Words to write (0 to 100000).
        #[schema(minimum = 0, maximum = 100_000)]
        word_count: Option<i32>,
        /// `draft` by default.
        status: Option<TaskStatus>,
        /// Required on create.
        @required site_id: i64,
        /// A sector of the site; null clears it.
        #[serde(default, deserialize_with = "nullable")]
        sector_id: Option<Option<i64>>,
        /// A cluster of the site; null clears it.
        #[serde(default, deserialize_with = "nullable")]
        cluster_id: Option<Option<i64>>,
        /// The content idea the task comes from (one task per idea); null clears it.
        #[serde(default, deserialize_with = "nullable")]
        idea_id: Option<Option<i64>>,
    }
}

impl Validate for WriterTaskInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Some(title) = &self.title {
            validation::text(&mut errors, "title", title, 500);
        }
        validation::optional_text(&mut errors, "description", self.description.as_deref(), 10_000);
        for (field, value) in
            [("content_type", &self.content_type), ("content_structure", &self.content_structure)]
        {
            if let Some(value) = value {
                validation::text(&mut errors, field, value, 50);
            }
        }
        check_list(&mut errors, "keywords", self.keywords.as_ref());
        check_list(&mut errors, "outline", self.outline.as_ref());
        if self.word_count.is_some_and(|count| !(0..=100_000).contains(&count)) {
            validation::push(&mut errors, "word_count", "Must be between 0 and 100000.");
        }
        validation::finish(errors)
    }
}

/// 400 naming `idea_id` when the idea is not the caller's.
async fn check_idea(state: &AppState, account_id: i64, idea_id: Option<i64>) -> Result<(), ApiError> {
    use shared::db::schema::content_ideas;
    let Some(idea_id) = idea_id else { return Ok(()) };
    let found: Option<i64> = state
        .db(move |conn| {
            Ok(content_ideas::table
                .find(idea_id)
                .filter(content_ideas::account_id.eq(account_id))
                .select(content_ideas::id)
                .first(conn)
                .optional()?)
        })
        .await?;
    found.map(|_| ()).ok_or_else(|| ApiError::missing("idea_id", "Idea not found."))
}

/// Creates a writer task in one of the account's sites.
#[utoipa::path(
    tag = "writer",
    request_body = NewWriterTask,
    responses(
        (status = 201, body = Data<WriterTask>),
        (status = 403, description = "Editors and above.", body = ErrorBody),
        (status = 409, description = "The idea already has a writer task.", body = ErrorBody),
    ),
)]
#[post("/tasks")]
async fn create(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<NewWriterTask>,
) -> Result<HttpResponse, ApiError> {
    let input = WriterTaskInput::from(body.0);
    let title = input.title.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let refs = Refs {
        site_id: input.site_id.unwrap_or_default(),
        sector_id: input.sector_id.flatten(),
        cluster_id: input.cluster_id.flatten(),
    };
    check_refs(&state, auth.account_id, refs).await?;
    let idea_id = input.idea_id.flatten();
    check_idea(&state, auth.account_id, idea_id).await?;
    let row = state
        .db(move |conn| {
            use writer_tasks as w;
            Ok(diesel::insert_into(w::table)
                .values((
                    w::account_id.eq(auth.account_id),
                    w::site_id.eq(refs.site_id),
                    w::sector_id.eq(refs.sector_id),
                    w::cluster_id.eq(refs.cluster_id),
                    w::idea_id.eq(idea_id),
                    w::title.eq(title),
                    w::description.eq(input.description.unwrap_or_default().trim().to_owned()),
                    w::keywords.eq(string_list(input.keywords.unwrap_or_default())),
                    w::content_type.eq(input.content_type.map_or("post".into(), |t| t.trim().to_owned())),
                    w::content_structure
                        .eq(input.content_structure.map_or("article".into(), |s| s.trim().to_owned())),
                    w::outline.eq(string_list(input.outline.unwrap_or_default())),
                    w::word_count.eq(input.word_count.unwrap_or(0)),
                    w::status.eq(input.status.unwrap_or(TaskStatus::Draft).as_str()),
                ))
                .returning(WriterTask::as_returning())
                .get_result(conn)?)
        })
        .await?;
    Ok(response::created(row))
}

/// One writer task.
#[utoipa::path(
    tag = "writer",
    params(("id" = i64, Path, description = "The writer task id.")),
    responses((status = 200, body = Data<WriterTask>)),
)]
#[get("/tasks/{id}")]
async fn retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    crud::retrieve::<WriterTask>(&state, auth.account(), id.0).await
}

/// PUT and PATCH both apply the fields sent (partial update).
#[utoipa::path(
    tag = "writer",
    params(("id" = i64, Path, description = "The writer task id.")),
    request_body = WriterTaskInput,
    responses(
        (status = 200, body = Data<WriterTask>),
        (status = 403, description = "Editors and above.", body = ErrorBody),
        (status = 409, description = "The idea already has a writer task.", body = ErrorBody),
    ),
)]
#[route("/tasks/{id}", method = "PUT", method = "PATCH")]
async fn update(
    state: web::Data<AppState>,
    auth: Editor,
    id: PathId<i64>,
    body: ApiJson<WriterTaskInput>,
) -> Result<HttpResponse, ApiError> {
    let (account_id, input) = (auth.account_id, body.0);
    let current = crud::find::<WriterTask>(&state, auth.account(), id.0).await?;
    let was = Refs { site_id: current.site_id, sector_id: current.sector_id, cluster_id: current.cluster_id };
    let refs = was.changed(input.site_id, input.sector_id, input.cluster_id);
    check_moved_refs(&state, account_id, was, refs).await?;
    if let Some(idea_id) = input.idea_id {
        check_idea(&state, account_id, idea_id).await?;
    }
    let row = state
        .db(move |conn| {
            use writer_tasks as w;
            Ok(diesel::update(w::table.find(current.id).filter(w::account_id.eq(account_id)))
                .set((
                    (
                        input.title.map(|title| w::title.eq(title.trim().to_owned())),
                        input.description.map(|text| w::description.eq(text.trim().to_owned())),
                        input.content_type.map(|text| w::content_type.eq(text.trim().to_owned())),
                        input.content_structure.map(|text| w::content_structure.eq(text.trim().to_owned())),
                        input.keywords.map(|items| w::keywords.eq(string_list(items))),
                        input.outline.map(|items| w::outline.eq(string_list(items))),
                        input.word_count.map(|count| w::word_count.eq(count)),
                    ),
                    (
                        input.status.map(|status| w::status.eq(status.as_str())),
                        input.site_id.map(|site_id| w::site_id.eq(site_id)),
                        input.sector_id.map(|sector_id| w::sector_id.eq(sector_id)),
                        input.cluster_id.map(|cluster_id| w::cluster_id.eq(cluster_id)),
                        input.idea_id.map(|idea_id| w::idea_id.eq(idea_id)),
                        w::updated_at.eq(diesel::dsl::now),
                    ),
                ))
                .returning(WriterTask::as_returning())
                .get_result(conn)
                .optional()?)
        })
        .await?
        .ok_or(ApiError::NotFound { what: "writer task" })?;
    Ok(response::ok(row))
}

async fn delete_tasks(state: &AppState, account_id: i64, ids: Vec<i64>) -> Result<usize, ApiError> {
    state
        .db(move |conn| {
            Ok(diesel::delete(
                writer_tasks::table
                    .filter(writer_tasks::account_id.eq(account_id))
                    .filter(writer_tasks::id.eq_any(&ids)),
            )
            .execute(conn)?)
        })
        .await
}

/// Deletes a writer task; its content and images stay, without the link.
#[utoipa::path(
    tag = "writer",
    params(("id" = i64, Path, description = "The writer task id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "Editors and above.", body = ErrorBody),
    ),
)]
#[delete("/tasks/{id}")]
async fn remove(state: web::Data<AppState>, auth: Editor, id: PathId<i64>) -> Result<HttpResponse, ApiError> {
    let rows = delete_tasks(&state, auth.account_id, vec![id.0]).await?;
    deleted(rows, "writer task")
}

/// Deletes the named writer tasks of the account; ids not found are skipped.
#[utoipa::path(
    tag = "writer",
    request_body = BulkIds,
    responses(
        (status = 200, body = Data<DeletedCount>),
        (status = 403, description = "Editors and above.", body = ErrorBody),
    ),
)]
#[post("/tasks/bulk_delete")]
async fn bulk_delete(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<BulkIds>,
) -> Result<HttpResponse, ApiError> {
    let deleted_count = delete_tasks(&state, auth.account_id, body.0.ids).await?;
    Ok(response::ok(DeletedCount { deleted_count }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WriterTaskBulkStatus)]
struct BulkStatus {
    /// 1 to 1000 ids.
    #[serde(deserialize_with = "id_list")]
    #[schema(min_items = 1, max_items = 1000)]
    ids: Vec<i64>,
    status: TaskStatus,
}

impl Validate for BulkStatus {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        check_ids(&mut errors, "ids", &self.ids);
        validation::finish(errors)
    }
}

/// Sets the status of the named writer tasks of the account; ids not found are skipped.
#[utoipa::path(
    tag = "writer",
    request_body = BulkStatus,
    responses(
        (status = 200, body = Data<UpdatedCount>),
        (status = 403, description = "Editors and above.", body = ErrorBody),
    ),
)]
#[post("/tasks/bulk_update")]
async fn bulk_update(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<BulkStatus>,
) -> Result<HttpResponse, ApiError> {
    let (account_id, BulkStatus { ids, status }) = (auth.account_id, body.0);
    let updated_count = state
        .db(move |conn| {
            use writer_tasks as w;
            Ok(diesel::update(w::table.filter(w::account_id.eq(account_id)).filter(w::id.eq_any(&ids)))
                .set((w::status.eq(status.as_str()), w::updated_at.eq(diesel::dsl::now)))
                .execute(conn)?)
        })
        .await?;
    Ok(response::ok(UpdatedCount { updated_count }))
}

/// Checks that every task is the caller's and that the account can pay for the words they
/// ask for (a task without a word count counts as [`DEFAULT_WORDS`]), then enqueues
/// `writer.generate_content`: 202 with the task.
#[utoipa::path(
    tag = "writer",
    params(IdempotencyKey),
    request_body = BatchIds,
    responses(
        (status = 202, body = Accepted),
        (status = 402, description = "Not enough credits.", body = ErrorBody),
        (status = 403, description = "Editors and above.", body = ErrorBody),
        (status = 422, description = "The Idempotency-Key was used for another request.", body = ErrorBody),
    ),
)]
#[post("/tasks/auto_generate_content")]
async fn auto_generate_content(
    state: web::Data<AppState>,
    auth: Editor,
    req: HttpRequest,
    body: ApiJson<BatchIds>,
) -> Result<HttpResponse, ApiError> {
    let ids = body.unique();
    let (account_id, wanted) = (auth.account_id, ids.clone());
    let found: Vec<(i64, i32)> = state
        .db(move |conn| {
            Ok(writer_tasks::table
                .filter(writer_tasks::account_id.eq(account_id))
                .filter(writer_tasks::id.eq_any(wanted))
                .select((writer_tasks::id, writer_tasks::word_count))
                .load(conn)?)
        })
        .await?;
    let found_ids: Vec<i64> = found.iter().map(|row| row.0).collect();
    ensure_found(&ids, &found_ids, "writer tasks")?;
    let words: u64 = found
        .iter()
        .map(|&(_, count)| u64::try_from(count).ok().filter(|&count| count > 0).unwrap_or(DEFAULT_WORDS))
        .sum();
    let payload = GenerateContentPayload { writer_task_ids: ids };
    commands::enqueue_paid::<GenerateContent>(&state, &auth, &req, &payload, words).await
}
