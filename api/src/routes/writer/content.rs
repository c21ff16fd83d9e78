//! `/api/v1/writer/content/`: the articles written for writer tasks (or by hand),
//! `generate_image_prompts`, which has `worker-content` plan their images, and
//! `{id}/publish/`, which puts an article on its site's WordPress.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, route, web};
use diesel::{pg::Pg, prelude::*};
use serde::Deserialize;
use shared::{
    db::{models::Content, schema::content},
    tasks::{
        ImagePrompts, NewTask, PublishWordpress,
        writer::{ImagePromptsPayload, PublishWordpressPayload, WordPressStatus},
    },
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
        common::search_term,
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

text_enum!(
    /// Where an article stands.
    #[schema(as = WriterContentStatus)]
    ContentStatus {
    Draft => "draft",
    Review => "review",
    Published => "published",
    Archived => "archived",
});

/// A sort key; `-` sorts descending.
#[derive(Debug, Deserialize, Clone, Copy, ToSchema)]
#[schema(as = WriterContentOrdering)]
enum ContentOrdering {
    #[serde(rename = "created_at")]
    Created,
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
    let pattern = search_term(&q.search);
    let (rows, count) = state
        .db(move |conn| {
            let filtered = || {
                use content as c;
                let mut query: c::BoxedQuery<'static, Pg> =
                    c::table.filter(c::account_id.eq(auth.account_id)).into_boxed();
                if let Some(status) = q.status {
                    query = query.filter(c::status.eq(status.as_str()));
                }
                if let Some(content_type) = &q.content_type {
                    query = query.filter(c::content_type.eq(content_type.clone()));
                }
                if let Some(site_id) = q.site_id {
                    query = query.filter(c::site_id.eq(site_id));
                }
                if let Some(sector_id) = q.sector_id {
                    query = query.filter(c::sector_id.eq(sector_id));
                }
                if let Some(pattern) = &pattern {
                    query = query.filter(
                        c::title.ilike(pattern.clone()).or(c::primary_keyword.ilike(pattern.clone())),
                    );
                }
                query
            };
            let count: i64 = filtered().count().get_result(conn)?;
            use ContentOrdering as O;
            use content::{created_at, id, title, word_count};
            let ordered = match q.ordering.unwrap_or(O::CreatedDesc) {
                O::Created => filtered().order((created_at.asc(), id)),
                O::CreatedDesc => filtered().order((created_at.desc(), id.desc())),
                O::Title => filtered().order((title.asc(), id)),
                O::TitleDesc => filtered().order((title.desc(), id.desc())),
                O::WordCount => filtered().order((word_count.asc(), id)),
                O::WordCountDesc => filtered().order((word_count.desc(), id.desc())),
            };
            let rows: Vec<Content> =
                ordered.offset(page.offset()).limit(page.size()).select(Content::as_select()).load(conn)?;
            Ok((rows, count))
        })
        .await?;
    Ok(response::paginated(&req, page, count, rows))
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

/// Words of the text of `html`: tags dropped, whitespace-separated runs counted.
fn word_count(html: &str) -> i32 {
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
    check_refs(&state, auth.account_id, refs).await?;
    let html = input.html_content.unwrap_or_default();
    let row = state
        .db(move |conn| {
            use content as c;
            Ok(diesel::insert_into(c::table)
                .values((
                    c::account_id.eq(auth.account_id),
                    c::site_id.eq(refs.site_id),
                    c::sector_id.eq(refs.sector_id),
                    c::title.eq(title),
                    c::word_count.eq(word_count(&html)),
                    c::html_content.eq(html),
                    c::meta_title.eq(input.meta_title.unwrap_or_default().trim().to_owned()),
                    c::meta_description.eq(input.meta_description.unwrap_or_default().trim().to_owned()),
                    c::primary_keyword.eq(input.primary_keyword.unwrap_or_default().trim().to_owned()),
                    c::secondary_keywords.eq(string_list(input.secondary_keywords.unwrap_or_default())),
                    c::content_type.eq(input.content_type.map_or("post".into(), |t| t.trim().to_owned())),
                    c::status.eq(input.status.unwrap_or(ContentStatus::Draft).as_str()),
                ))
                .returning(Content::as_returning())
                .get_result(conn)?)
        })
        .await?;
    Ok(response::created(row))
}

/// One article, with its HTML.
#[utoipa::path(
    tag = "writer",
    params(("id" = i64, Path, description = "The content id.")),
    responses((status = 200, body = Data<Content>)),
)]
#[get("/content/{id}")]
async fn retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    crud::retrieve::<Content>(&state, auth.account(), id.0).await
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
    let (account_id, input) = (auth.account_id, body.0);
    let current = crud::find::<Content>(&state, auth.account(), id.0).await?;
    let was = Refs { site_id: current.site_id, sector_id: current.sector_id, cluster_id: None };
    let refs = was.changed(input.site_id, input.sector_id, None);
    check_moved_refs(&state, account_id, was, refs).await?;
    let row = state
        .db(move |conn| {
            use content as c;
            Ok(diesel::update(c::table.find(current.id).filter(c::account_id.eq(account_id)))
                .set((
                    (
                        input.title.map(|title| c::title.eq(title.trim().to_owned())),
                        input.html_content.as_deref().map(|html| c::word_count.eq(word_count(html))),
                        input.html_content.map(|html| c::html_content.eq(html)),
                        input.meta_title.map(|text| c::meta_title.eq(text.trim().to_owned())),
                        input.meta_description.map(|text| c::meta_description.eq(text.trim().to_owned())),
                        input.primary_keyword.map(|text| c::primary_keyword.eq(text.trim().to_owned())),
                    ),
                    (
                        input.secondary_keywords.map(|items| c::secondary_keywords.eq(string_list(items))),
                        input.content_type.map(|text| c::content_type.eq(text.trim().to_owned())),
                        input.status.map(|status| c::status.eq(status.as_str())),
                        input.site_id.map(|site_id| c::site_id.eq(site_id)),
                        input.sector_id.map(|sector_id| c::sector_id.eq(sector_id)),
                        c::updated_at.eq(diesel::dsl::now),
                    ),
                ))
                .returning(Content::as_returning())
                .get_result(conn)
                .optional()?)
        })
        .await?
        .ok_or(ApiError::NotFound { what: "content" })?;
    Ok(response::ok(row))
}

/// Deletes an article and its images.
#[utoipa::path(
    tag = "writer",
    params(("id" = i64, Path, description = "The content id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "Editors and above.", body = ErrorBody),
    ),
)]
#[delete("/content/{id}")]
async fn remove(state: web::Data<AppState>, auth: Editor, id: PathId<i64>) -> Result<HttpResponse, ApiError> {
    crud::delete::<Content>(&state, auth.account(), id.0).await
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
    let (account_id, wanted) = (auth.account_id, ids.clone());
    let found: Vec<i64> = state
        .db(move |conn| {
            Ok(content::table
                .filter(content::account_id.eq(account_id))
                .filter(content::id.eq_any(wanted))
                .select(content::id)
                .load(conn)?)
        })
        .await?;
    ensure_found(&ids, &found, "content")?;
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
    let article = crud::find::<Content>(&state, auth.account(), id.0).await?;
    let (account_id, site_id) = (auth.account_id, article.site_id);
    let connected: bool = state
        .db(move |conn| {
            use shared::db::schema::sites;
            let parts: (bool, bool, bool) = sites::table
                .find(site_id)
                .filter(sites::account_id.eq(account_id))
                .select((
                    sites::wp_url.is_not_null(),
                    sites::wp_username.is_not_null(),
                    sites::wp_app_password.is_not_null(),
                ))
                .first(conn)?;
            Ok(parts == (true, true, true))
        })
        .await?;
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
