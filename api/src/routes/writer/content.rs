//! `/api/v1/writer/content/`: the articles written for writer tasks (or by hand),
//! `generate_image_prompts`, which has `worker-content` plan their images, and
//! `{id}/publish/`, which puts an article on its site's WordPress.

use actix_web::{HttpRequest, HttpResponse, get, post, route, web};
use serde::Deserialize;
use shared::{
    db::models::Content,
    tasks::{
        ImagePrompts, NewTask, PublishWordpress,
        writer::{ImagePromptsPayload, PublishWordpressPayload, WordPressStatus},
    },
    writer::{
        ContentStatus,
        content::{ContentChange, ContentFilter, ContentOrdering, NewContent, word_count},
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
    response::{Accepted, Data, Page, PageParams},
    routes::{
        commands,
        planner::{Refs, check_moved_refs, check_refs, nullable},
    },
    state::AppState,
    validation,
};

/// Most characters of HTML one article may hold.
const MAX_HTML_CHARS: usize = 500_000;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(generate_image_prompts)
        .service(publish)
        .service(retrieve)
        .service(update)
        .service(remove);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only content in this status.
    #[param(inline)]
    status: Option<ContentStatus>,
    /// Only content of this type (`post`, `page`, …).
    content_type: Option<String>,
    /// Only content of this site.
    site_id: Option<i64>,
    /// Only content of this sector.
    sector_id: Option<i64>,
    /// Content whose title or primary keyword contains this text.
    search: Option<String>,
    /// The sort (`-created_at` by default).
    #[param(inline)]
    ordering: Option<ContentOrdering>,
}

crud::routes! { row: Content, what: "content", tag: "writer", item: "/content/{id}" }

/// The account's content, newest first unless `ordering` says otherwise.
#[utoipa::path(
    tag = "writer",
    params(PageParams, ListQuery),
    responses((status = 200, body = Page<Content>)),
)]
#[get("/content")]
async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    page: PageParams,
    query: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let filter = ContentFilter {
        status: q.status,
        content_type: q.content_type,
        site_id: q.site_id,
        sector_id: q.sector_id,
        search: q.search,
        ordering: q.ordering.unwrap_or_default(),
    };
    crud::list::<Content>(&state, auth.scope(), filter, &req, page).await
}

input_forms! {
    /// Create and update share one body; on create `title`, `site_id` and `html_content` are
    /// required.
    #[serde(deny_unknown_fields)]
    WriterContentInput, NewWriterContent {
        /// Required on create.
        #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
        @required title: String,
        /// The article's HTML, without scripts (at most 500000 characters); required on create.
        /// The word count follows it.
        #[schema(max_length = 500000)]
        @required html_content: String,
        /// At most 60 characters.
        #[schema(max_length = 60)]
        meta_title: Option<String>,
        /// At most 160 characters.
        #[schema(max_length = 160)]
        meta_description: Option<String>,
        #[schema(max_length = 500)]
        primary_keyword: Option<String>,
        /// At most 200 items of 1 to 500 characters.
        #[schema(schema_with = crate::routes::writer::text_list)]
        secondary_keywords: Option<Vec<String>>,
        /// `post` by default.
        #[schema(min_length = 1, max_length = 50, pattern = r"\S")]
        content_type: Option<String>,
        /// `draft` by default.
        status: Option<ContentStatus>,
        /// Required on create.
        @required site_id: i64,
        /// A sector of the site; null clears it.
        #[serde(default, deserialize_with = "nullable")]
        sector_id: Option<Option<i64>>,
    }
}

impl Validate for WriterContentInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Some(title) = &self.title {
            validation::text(&mut errors, "title", title, 500);
        }
        if let Some(html) = &self.html_content {
            // The worker sanitizes what the AI writes; what a person sends must not carry a
            // script in the first place.
            if html.to_ascii_lowercase().contains("<script") {
                validation::push(&mut errors, "html_content", "Scripts are not allowed in content.");
            } else if html.chars().count() > MAX_HTML_CHARS {
                validation::push(
                    &mut errors,
                    "html_content",
                    format!("Must be at most {MAX_HTML_CHARS} characters."),
                );
            }
        }
        validation::optional_text(&mut errors, "meta_title", self.meta_title.as_deref(), 60);
        validation::optional_text(&mut errors, "meta_description", self.meta_description.as_deref(), 160);
        validation::optional_text(&mut errors, "primary_keyword", self.primary_keyword.as_deref(), 500);
        if let Some(content_type) = &self.content_type {
            validation::text(&mut errors, "content_type", content_type, 50);
        }
        check_list(&mut errors, "secondary_keywords", self.secondary_keywords.as_ref());
        validation::finish(errors)
    }
}

/// Creates an article by hand in one of the account's sites.
#[utoipa::path(
    tag = "writer",
    request_body = NewWriterContent,
    responses(
        (status = 201, body = Data<Content>),
        (status = 403, description = "Editors and above.", body = ErrorBody),
    ),
)]
#[post("/content")]
async fn create(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<NewWriterContent>,
) -> Result<HttpResponse, ApiError> {
    let input = WriterContentInput::from(body.0);
    let title = input.title.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let refs = Refs {
        site_id: input.site_id.unwrap_or_default(),
        sector_id: input.sector_id.flatten(),
        cluster_id: None,
    };
    check_refs(&state, auth.scope(), refs).await?;
    let html = input.html_content.unwrap_or_default();
    let trimmed = |text: Option<String>| text.unwrap_or_default().trim().to_owned();
    let new = NewContent {
        site_id: refs.site_id,
        sector_id: refs.sector_id,
        title,
        word_count: word_count(&html),
        html_content: html,
        meta_title: trimmed(input.meta_title),
        meta_description: trimmed(input.meta_description),
        primary_keyword: trimmed(input.primary_keyword),
        secondary_keywords: string_list(input.secondary_keywords.unwrap_or_default()),
        content_type: input.content_type.map_or("post".into(), |t| t.trim().to_owned()),
        status: input.status.unwrap_or(ContentStatus::Draft),
    };
    crud::create::<Content>(&state, auth.scope(), new).await
}

/// PUT and PATCH both apply the fields sent (partial update); the word count follows the HTML.
#[utoipa::path(
    tag = "writer",
    params(("id" = i64, Path, description = "The content id.")),
    request_body = WriterContentInput,
    responses(
        (status = 200, body = Data<Content>),
        (status = 403, description = "Editors and above.", body = ErrorBody),
    ),
)]
#[route("/content/{id}", method = "PUT", method = "PATCH")]
async fn update(
    state: web::Data<AppState>,
    auth: Editor,
    id: PathId<i64>,
    body: ApiJson<WriterContentInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let current = crud::find::<Content>(&state, auth.scope(), id.0).await?;
    let was = Refs { site_id: current.site_id, sector_id: current.sector_id, cluster_id: None };
    let refs = was.changed(input.site_id, input.sector_id, None);
    check_moved_refs(&state, auth.scope(), was, refs).await?;
    let trimmed = |text: String| text.trim().to_owned();
    let change = ContentChange {
        title: input.title.map(trimmed),
        word_count: input.html_content.as_deref().map(word_count),
        html_content: input.html_content,
        meta_title: input.meta_title.map(trimmed),
        meta_description: input.meta_description.map(trimmed),
        primary_keyword: input.primary_keyword.map(trimmed),
        secondary_keywords: input.secondary_keywords.map(string_list),
        content_type: input.content_type.map(trimmed),
        status: input.status,
        site_id: input.site_id,
        sector_id: input.sector_id,
    };
    crud::update::<Content>(&state, auth.scope(), current.id, change).await
}

/// Has `worker-content` plan the images of the named articles: 202 with the
/// `writer.image_prompts` task. Image prompts cost no credits; the images made from
/// them do (`images/generate_images/`).
#[utoipa::path(
    tag = "writer",
    params(IdempotencyKey),
    request_body = BatchIds,
    responses(
        (status = 202, body = Accepted),
        (status = 403, description = "Editors and above.", body = ErrorBody),
        (status = 422, description = "The Idempotency-Key was used for another request.", body = ErrorBody),
    ),
)]
#[post("/content/generate_image_prompts")]
async fn generate_image_prompts(
    state: web::Data<AppState>,
    auth: Editor,
    req: HttpRequest,
    body: ApiJson<BatchIds>,
) -> Result<HttpResponse, ApiError> {
    let ids = body.unique();
    crud::find_all::<Content>(&state, auth.scope(), &ids).await?;
    let payload = ImagePromptsPayload { content_ids: ids };
    let task = NewTask::of::<ImagePrompts>(auth.account_id, &payload);
    commands::enqueue(&state, &auth, &req, task).await
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WriterPublishInput)]
struct PublishInput {
    /// `publish` (the default) or `draft`.
    status: Option<WordPressStatus>,
}

impl Validate for PublishInput {}

/// Publishes the article (with its drawn images) on its site's WordPress, or updates the post
/// it was published as: 202 with the task. 400 when the site has no WordPress connection.
#[utoipa::path(
    tag = "writer",
    params(
        ("id" = i64, Path, description = "The content id."),
        IdempotencyKey,
    ),
    request_body = PublishInput,
    responses(
        (status = 202, body = Accepted),
        (status = 403, description = "Editors and above.", body = ErrorBody),
        (status = 422, description = "The Idempotency-Key was used for another request.", body = ErrorBody),
    ),
)]
#[post("/content/{id}/publish")]
async fn publish(
    state: web::Data<AppState>,
    auth: Editor,
    req: HttpRequest,
    id: PathId<i64>,
    body: ApiJson<PublishInput>,
) -> Result<HttpResponse, ApiError> {
    let article = crud::find::<Content>(&state, auth.scope(), id.0).await?;
    let (account, site_id) = (auth.account(), article.site_id);
    let connected = state.db(move |conn| shared::wordpress::is_connected(conn, account, site_id)).await?;
    if !connected {
        return Err(ApiError::field(
            "site_id",
            format!(
                "Site {site_id} has no WordPress connection; set it at /api/v1/auth/sites/{site_id}/wordpress/."
            ),
        ));
    }
    let payload =
        PublishWordpressPayload { content_id: article.id, status: body.0.status.unwrap_or_default() };
    let task = NewTask::of::<PublishWordpress>(auth.account_id, &payload);
    commands::enqueue(&state, &auth, &req, task).await
}
