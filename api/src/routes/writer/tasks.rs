//! `/api/v1/writer/tasks/`: what the writer is asked to write, and `auto_generate_content`,
//! which has `worker-content` write it.

use actix_web::{HttpRequest, HttpResponse, get, post, route, web};
use serde::Deserialize;
use shared::{
    db::models::{ContentIdea, WriterTask},
    tasks::{GenerateContent, writer::GenerateContentPayload},
    tenant::Scope,
    writer::{
        self, TaskStatus,
        tasks::{NewTask, TaskChange, TaskFilter, TaskOrdering},
    },
};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{BatchIds, check_list, string_list};
use crate::forms::input_forms;
use crate::{
    crud,
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, ApiQuery, AuthUser, Editor, IdempotencyKey, PathId, Validate},
    response::{self, Accepted, Data, Flat, Page, PageParams},
    routes::{
        commands,
        planner::{
            BulkIds, DeletedCount, Refs, UpdatedCount, check_ids, check_moved_refs, check_refs, id_list,
            nullable,
        },
    },
    state::AppState,
    validation,
};

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

crud::routes! { row: WriterTask, what: "writer task", tag: "writer", item: "/tasks/{id}" }

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
    let filter = TaskFilter {
        status: q.status,
        cluster_id: q.cluster_id,
        content_type: q.content_type,
        content_structure: q.content_structure,
        site_id: q.site_id,
        sector_id: q.sector_id,
        search: q.search,
        ordering: q.ordering.unwrap_or_default(),
    };
    crud::list::<WriterTask>(&state, auth.scope(), filter, &req, page).await
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
async fn check_idea(state: &AppState, scope: Scope, idea_id: Option<i64>) -> Result<(), ApiError> {
    let Some(idea_id) = idea_id else { return Ok(()) };
    crud::find::<ContentIdea>(state, scope, idea_id).await.map(drop).map_err(|error| match error {
        ApiError::NotFound { .. } => ApiError::missing("idea_id", "Idea not found."),
        other => other,
    })
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
    check_refs(&state, auth.scope(), refs).await?;
    let idea_id = input.idea_id.flatten();
    check_idea(&state, auth.scope(), idea_id).await?;
    let new = NewTask {
        site_id: refs.site_id,
        sector_id: refs.sector_id,
        cluster_id: refs.cluster_id,
        idea_id,
        title,
        description: input.description.unwrap_or_default().trim().to_owned(),
        keywords: string_list(input.keywords.unwrap_or_default()),
        content_type: input.content_type.map_or("post".into(), |t| t.trim().to_owned()),
        content_structure: input.content_structure.map_or("article".into(), |s| s.trim().to_owned()),
        outline: string_list(input.outline.unwrap_or_default()),
        word_count: input.word_count.unwrap_or(0),
        status: input.status.unwrap_or(TaskStatus::Draft),
    };
    crud::create::<WriterTask>(&state, auth.scope(), new).await
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
    let input = body.0;
    let current = crud::find::<WriterTask>(&state, auth.scope(), id.0).await?;
    let was = Refs { site_id: current.site_id, sector_id: current.sector_id, cluster_id: current.cluster_id };
    let refs = was.changed(input.site_id, input.sector_id, input.cluster_id);
    check_moved_refs(&state, auth.scope(), was, refs).await?;
    if let Some(idea_id) = input.idea_id {
        check_idea(&state, auth.scope(), idea_id).await?;
    }
    let trimmed = |text: String| text.trim().to_owned();
    let change = TaskChange {
        title: input.title.map(trimmed),
        description: input.description.map(trimmed),
        content_type: input.content_type.map(trimmed),
        content_structure: input.content_structure.map(trimmed),
        keywords: input.keywords.map(string_list),
        outline: input.outline.map(string_list),
        word_count: input.word_count,
        status: input.status,
        site_id: input.site_id,
        sector_id: input.sector_id,
        cluster_id: input.cluster_id,
        idea_id: input.idea_id,
    };
    crud::update::<WriterTask>(&state, auth.scope(), current.id, change).await
}

/// Deletes the named writer tasks of the account; ids not found are skipped.
#[utoipa::path(
    tag = "writer",
    request_body = BulkIds,
    responses(
        (status = 200, body = Flat<DeletedCount>),
        (status = 403, description = "Editors and above.", body = ErrorBody),
    ),
)]
#[post("/tasks/bulk_delete")]
async fn bulk_delete(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<BulkIds>,
) -> Result<HttpResponse, ApiError> {
    let deleted_count = crud::delete_many::<WriterTask>(&state, auth.scope(), body.0.ids).await?;
    Ok(response::flat(DeletedCount { deleted_count }))
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
        (status = 200, body = Flat<UpdatedCount>),
        (status = 403, description = "Editors and above.", body = ErrorBody),
    ),
)]
#[post("/tasks/bulk_update")]
async fn bulk_update(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<BulkStatus>,
) -> Result<HttpResponse, ApiError> {
    let (scope, BulkStatus { ids, status }) = (auth.scope(), body.0);
    let updated_count = state.db(move |conn| writer::tasks::set_status(conn, &scope, &ids, status)).await?;
    Ok(response::flat(UpdatedCount { updated_count }))
}

/// Checks that every task is the caller's and that the account can pay for the words they
/// ask for (a task without a word count counts as `shared::writer::DEFAULT_WORDS`), then enqueues
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
    let found = crud::find_all::<WriterTask>(&state, auth.scope(), &ids).await?;
    let words: u64 = found.iter().map(|task| u64::try_from(task.words_to_write()).unwrap_or(0)).sum();
    let payload = GenerateContentPayload { writer_task_ids: ids };
    commands::enqueue_paid::<GenerateContent>(&state, &auth, &req, &payload, words).await
}
