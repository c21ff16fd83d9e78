//! `/api/v1/system/author-profiles/`: the voices content is written in (tone, persona,
//! language). A site may name one; the writer reads it when it writes for that site.

use actix_web::{HttpResponse, delete, get, post, route, web};
use diesel::prelude::*;
use shared::db::{models::AuthorProfile, schema::author_profiles};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::forms::input_forms;
use crate::{
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, Editor, PathId, Validate},
    response::{self, Data, Page},
    state::AppState,
    validation,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list).service(create).service(retrieve).service(update).service(remove);
}

named_settings_reads!(
    "/author-profiles",
    "/author-profiles/{id}",
    author_profiles,
    AuthorProfile,
    "author profile",
    "writer-settings"
);

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
    let input = AuthorProfileInput::from(body.0);
    let name = input.name.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let row = state
        .db(move |conn| {
            use author_profiles as a;
            Ok(diesel::insert_into(a::table)
                .values((
                    a::account_id.eq(auth.account_id),
                    a::name.eq(name),
                    a::description.eq(input.description.unwrap_or_default().trim().to_owned()),
                    a::tone.eq(input.tone.map_or("professional".into(), |t| t.trim().to_owned())),
                    a::persona.eq(input.persona.unwrap_or_default().trim().to_owned()),
                    a::language.eq(input.language.map_or("en".into(), |l| l.trim().to_owned())),
                    a::is_active.eq(input.is_active.unwrap_or(true)),
                ))
                .returning(AuthorProfile::as_returning())
                .get_result(conn)?)
        })
        .await?;
    Ok(response::created(row))
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
    let (account_id, profile_id, input) = (auth.account_id, id.0, body.0);
    let row = state
        .db(move |conn| {
            use author_profiles as a;
            Ok(diesel::update(a::table.find(profile_id).filter(a::account_id.eq(account_id)))
                .set((
                    input.name.map(|text| a::name.eq(text.trim().to_owned())),
                    input.description.map(|text| a::description.eq(text.trim().to_owned())),
                    input.tone.map(|text| a::tone.eq(text.trim().to_owned())),
                    input.persona.map(|text| a::persona.eq(text.trim().to_owned())),
                    input.language.map(|text| a::language.eq(text.trim().to_owned())),
                    input.is_active.map(|active| a::is_active.eq(active)),
                    a::updated_at.eq(diesel::dsl::now),
                ))
                .returning(AuthorProfile::as_returning())
                .get_result(conn)
                .optional()?)
        })
        .await?
        .ok_or(ApiError::NotFound { what: "author profile" })?;
    Ok(response::ok(row))
}
