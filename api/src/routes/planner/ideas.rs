//! `/api/v1/planner/ideas/`: content ideas, and queueing them to the writer as writer tasks.
//! The rows, states, filter and the queueing are `shared::planner::ideas`'.

use actix_web::{HttpRequest, HttpResponse, get, post, route, web};
use serde::{Deserialize, Serialize};
use shared::{
    db::models::WriterTask,
    planner::{
        ContentIdea, IdeaStatus,
        ideas::{
            self, DEFAULT_CONTENT_STRUCTURE, DEFAULT_CONTENT_TYPE, IdeaFilter, IdeaInsertForm, IdeaOrdering,
            IdeaUpdateForm,
        },
    },
    tenant,
};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{BulkIds, DeletedCount, Refs, check_moved_refs, check_refs, nullable};
use crate::forms::input_forms;
use crate::{
    crud,
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, ApiQuery, AuthUser, Editor, PathId, Validate},
    response::{self, Data, Flat, Page, PageParams},
    routes::writer::{check_list, string_list},
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

crud::routes! { row: ContentIdea, what: "idea", tag: "planner", item: "/ideas/{id}" }

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
    let filter = IdeaFilter {
        status,
        cluster_id,
        content_type,
        site_id,
        sector_id,
        title: tenant::contains(search.as_deref()),
        ordering: ordering.unwrap_or_default(),
    };
    crud::list::<ContentIdea>(&state, auth.scope(), filter, &req, page).await
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
        check_list(&mut errors, "target_keywords", self.target_keywords.as_ref());
        check_list(&mut errors, "outline", self.outline.as_ref());
        if self.estimated_word_count.is_some_and(|count| !(0..=100_000).contains(&count)) {
            validation::push(&mut errors, "estimated_word_count", "Must be between 0 and 100000.");
        }
        validation::finish(errors)
    }
}

fn trimmed(text: String) -> String {
    text.trim().to_owned()
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
    let refs = Refs {
        site_id: input.site_id.unwrap_or_default(),
        sector_id: input.sector_id.flatten(),
        cluster_id: input.cluster_id.flatten(),
    };
    check_refs(&state, auth.scope(), refs).await?;
    let form = IdeaInsertForm {
        site_id: refs.site_id,
        sector_id: refs.sector_id,
        cluster_id: refs.cluster_id,
        idea_title: input.idea_title.map(trimmed).unwrap_or_default(),
        description: input.description.map(trimmed).unwrap_or_default(),
        content_type: input.content_type.map_or_else(|| DEFAULT_CONTENT_TYPE.to_owned(), trimmed),
        content_structure: input
            .content_structure
            .map_or_else(|| DEFAULT_CONTENT_STRUCTURE.to_owned(), trimmed),
        target_keywords: string_list(input.target_keywords.unwrap_or_default()),
        outline: string_list(input.outline.unwrap_or_default()),
        estimated_word_count: input.estimated_word_count.unwrap_or(0),
        status: input.status.unwrap_or(IdeaStatus::New),
    };
    crud::create_limited::<ContentIdea>(&state, auth.scope(), shared::plans::Limited::Ideas, form).await
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
    let (scope, input) = (auth.scope(), body.0);
    let current = crud::find::<ContentIdea>(&state, scope.clone(), id.0).await?;
    let was = Refs { site_id: current.site_id, sector_id: current.sector_id, cluster_id: current.cluster_id };
    let refs = was.changed(input.site_id, input.sector_id, input.cluster_id);
    check_moved_refs(&state, auth.scope(), was, refs).await?;
    let form = IdeaUpdateForm {
        idea_title: input.idea_title.map(trimmed),
        description: input.description.map(trimmed),
        content_type: input.content_type.map(trimmed),
        content_structure: input.content_structure.map(trimmed),
        target_keywords: input.target_keywords.map(string_list),
        outline: input.outline.map(string_list),
        estimated_word_count: input.estimated_word_count,
        status: input.status,
        site_id: input.site_id,
        sector_id: input.sector_id,
        cluster_id: input.cluster_id,
    };
    crud::update::<ContentIdea>(&state, scope, current.id, form).await
}

/// Deletes the caller's ideas among `ids`; the others are ignored.
#[utoipa::path(
    tag = "planner",
    request_body = BulkIds,
    responses(
        (status = 200, body = Flat<DeletedCount>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
    ),
)]
#[post("/ideas/bulk_delete")]
async fn bulk_delete(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<BulkIds>,
) -> Result<HttpResponse, ApiError> {
    let deleted_count = crud::delete_many::<ContentIdea>(&state, auth.scope(), body.0.ids).await?;
    Ok(response::flat(DeletedCount { deleted_count }))
}

/// Creates one draft writer task per idea and marks the ideas `scheduled`, in one transaction.
/// An idea already queued (the unique index on `writer_tasks.idea_id`) is skipped.
#[utoipa::path(
    tag = "planner",
    request_body = BulkIds,
    responses(
        (status = 200, body = Flat<QueuedToWriter>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
    ),
)]
#[post("/ideas/bulk_queue_to_writer")]
async fn bulk_queue_to_writer(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<BulkIds>,
) -> Result<HttpResponse, ApiError> {
    let (scope, ids) = (auth.scope(), body.0.ids);
    let tasks = state.db(move |conn| ideas::queue_to_writer(conn, &scope, &ids)).await?;
    Ok(response::flat(QueuedToWriter { tasks_created: tasks.len(), tasks }))
}

/// The answer of `bulk_queue_to_writer`: the writer tasks created (none for ideas already
/// queued).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
struct QueuedToWriter {
    tasks_created: usize,
    tasks: Vec<WriterTask>,
}
