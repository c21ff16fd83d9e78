//! `/api/v1/system/author-profiles/`: the voices content is written in (tone, persona,
//! language). A site may name one; the writer reads it when it writes for that site.

use actix_web::{HttpResponse, post, route, web};
use shared::{
    db::models::AuthorProfile,
    writer_settings::{AuthorProfileInsertForm, AuthorProfileUpdateForm, DEFAULT_LANGUAGE, DEFAULT_TONE},
};
use utoipa_actix_web::service_config::ServiceConfig;

use super::common::{NamedListQuery, trimmed};
use crate::forms::input_forms;
use crate::{
    crud,
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, Editor, PathId, Validate},
    response::Data,
    state::AppState,
    validation,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list).service(create).service(retrieve).service(update).service(remove);
}

crud::routes! {
    row: AuthorProfile, what: "author profile", tag: "writer-settings",
    collection: "/author-profiles", item: "/author-profiles/{id}", list: NamedListQuery,
}

input_forms! {
    /// Create and update share one body; on create `name` is required.
    #[serde(deny_unknown_fields)]
    AuthorProfileInput, NewAuthorProfile {
        #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
        @required name: String,
        #[schema(max_length = 5000)]
        description: Option<String>,
        #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
        tone: Option<String>,
        #[schema(max_length = 5000)]
        persona: Option<String>,
        #[schema(min_length = 1, max_length = 20, pattern = r"\S")]
        language: Option<String>,
        is_active: Option<bool>,
    }
}

impl Validate for AuthorProfileInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Some(name) = &self.name {
            validation::text(&mut errors, "name", name, 200);
        }
        if let Some(tone) = &self.tone {
            validation::text(&mut errors, "tone", tone, 100);
        }
        if let Some(language) = &self.language {
            validation::text(&mut errors, "language", language, 20);
        }
        validation::optional_text(&mut errors, "description", self.description.as_deref(), 5_000);
        validation::optional_text(&mut errors, "persona", self.persona.as_deref(), 5_000);
        validation::finish(errors)
    }
}

/// Creates an author profile (editor or above); `name` is required, `tone` defaults to
/// `professional` and `language` to `en`.
#[utoipa::path(
    tag = "writer-settings",
    request_body = NewAuthorProfile,
    responses(
        (status = 201, body = Data<AuthorProfile>),
        (status = 403, description = "Editors and above only.", body = ErrorBody),
    ),
)]
#[post("/author-profiles")]
async fn create(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<NewAuthorProfile>,
) -> Result<HttpResponse, ApiError> {
    let NewAuthorProfile { name, description, tone, persona, language, is_active } = body.0;
    let form = AuthorProfileInsertForm {
        name: trimmed(name),
        description: description.map(trimmed).unwrap_or_default(),
        tone: tone.map_or_else(|| DEFAULT_TONE.to_owned(), trimmed),
        persona: persona.map(trimmed).unwrap_or_default(),
        language: language.map_or_else(|| DEFAULT_LANGUAGE.to_owned(), trimmed),
        is_active: is_active.unwrap_or(true),
    };
    crud::create::<AuthorProfile>(&state, auth.scope(), form).await
}

/// Changes an author profile (editor or above); PUT and PATCH both apply the fields sent
/// (partial update).
#[utoipa::path(
    tag = "writer-settings",
    params(("id" = i64, Path, description = "The author profile id.")),
    request_body = AuthorProfileInput,
    responses(
        (status = 200, body = Data<AuthorProfile>),
        (status = 403, description = "Editors and above only.", body = ErrorBody),
    ),
)]
#[route("/author-profiles/{id}", method = "PUT", method = "PATCH")]
async fn update(
    state: web::Data<AppState>,
    auth: Editor,
    id: PathId<i64>,
    body: ApiJson<AuthorProfileInput>,
) -> Result<HttpResponse, ApiError> {
    let AuthorProfileInput { name, description, tone, persona, language, is_active } = body.0;
    let form = AuthorProfileUpdateForm {
        name: name.map(trimmed),
        description: description.map(trimmed),
        tone: tone.map(trimmed),
        persona: persona.map(trimmed),
        language: language.map(trimmed),
        is_active,
    };
    crud::update::<AuthorProfile>(&state, auth.scope(), id.0, form).await
}
