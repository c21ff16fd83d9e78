//! `/api/v1/system/prompts/`: the account's own prompt texts, one per prompt type, falling
//! back to the built-in default. Workers render the account's text when it has one.

use actix_web::{HttpRequest, HttpResponse, get, post, route, web};
use serde::{Deserialize, Serialize};
use shared::{
    ai::{
        PromptType, default_prompt,
        prompts::owned::{self as prompts, PromptFilter, PromptInsertForm, PromptUpdateForm},
    },
    db::models::AiPrompt,
};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::{
    crud,
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, AuthUser, Editor, PathId, Validate},
    response::{self, Data, Page, PageParams},
    state::AppState,
    validation,
};

const MAX_PROMPT_CHARS: usize = 20_000;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(by_type)
        .service(save)
        .service(reset)
        .service(list)
        .service(create)
        .service(retrieve)
        .service(update)
        .service(remove);
}

/// A prompt type's effective text: the account's, or the default.
#[derive(Serialize, utoipa::ToSchema)]
struct EffectivePrompt {
    /// The account's prompt row, or null when the default applies.
    id: Option<i64>,
    prompt_type: PromptType,
    /// The text in effect.
    prompt_value: String,
    /// The built-in text.
    default_value: &'static str,
    /// Whether the built-in text is in effect (the account has none of its own).
    is_default: bool,
    is_active: bool,
}

/// `{"success": true, "prompt": …}`: the answer of `save` and `reset`.
#[derive(Serialize, utoipa::ToSchema)]
struct PromptAnswer {
    success: bool,
    prompt: EffectivePrompt,
}

impl EffectivePrompt {
    fn new(prompt_type: PromptType, saved: Option<AiPrompt>) -> Self {
        let default_value = default_prompt(prompt_type);
        match saved {
            Some(row) => Self {
                id: Some(row.id),
                prompt_type,
                is_default: false,
                is_active: row.is_active,
                prompt_value: row.prompt_value,
                default_value,
            },
            None => Self {
                id: None,
                prompt_type,
                prompt_value: default_value.to_owned(),
                default_value,
                is_default: true,
                is_active: true,
            },
        }
    }
}

fn parse_type(value: &str) -> Result<PromptType, ApiError> {
    PromptType::parse(value).ok_or_else(|| {
        let known: Vec<&str> = PromptType::ALL.iter().map(|t| t.as_str()).collect();
        ApiError::field("prompt_type", format!("Unknown prompt type; use one of {}.", known.join(", ")))
    })
}

crud::routes! { row: AiPrompt, what: "prompt", tag: "prompts", item: "/prompts/{id}" }

/// The text in effect for a prompt type: the account's own, or the built-in default.
#[utoipa::path(
    tag = "prompts",
    params(("prompt_type" = PromptType, Path, description = "The prompt type.")),
    responses((status = 200, body = Data<EffectivePrompt>)),
)]
#[get("/prompts/by_type/{prompt_type}")]
async fn by_type(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let prompt_type = parse_type(&path)?;
    let account = auth.account();
    let saved = state.db(move |conn| prompts::saved(conn, account, prompt_type)).await?;
    Ok(response::ok(EffectivePrompt::new(prompt_type, saved)))
}

/// The account's text for a prompt type.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = PromptSaveInput)]
#[serde(deny_unknown_fields)]
struct SaveInput {
    prompt_type: PromptType,
    /// The text (not blank, at most 20,000 characters); `{name}` placeholders are filled in.
    #[schema(min_length = 1, max_length = 20000, pattern = r"\S")]
    prompt_value: String,
    /// Default true.
    is_active: Option<bool>,
}

impl Validate for SaveInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        validation::text(&mut errors, "prompt_value", &self.prompt_value, MAX_PROMPT_CHARS);
        validation::finish(errors)
    }
}

/// Creates or replaces the account's text for a type.
#[utoipa::path(
    tag = "prompts",
    request_body = SaveInput,
    responses(
        (status = 200, body = PromptAnswer),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
    ),
)]
#[post("/prompts/save")]
async fn save(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<SaveInput>,
) -> Result<HttpResponse, ApiError> {
    let SaveInput { prompt_type, prompt_value, is_active } = body.0;
    let account = auth.account();
    let row = state
        .db(move |conn| prompts::save(conn, account, prompt_type, &prompt_value, is_active.unwrap_or(true)))
        .await?;
    Ok(HttpResponse::Ok()
        .json(PromptAnswer { success: true, prompt: EffectivePrompt::new(prompt_type, Some(row)) }))
}

/// The prompt type to reset.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = PromptResetInput)]
#[serde(deny_unknown_fields)]
struct ResetInput {
    prompt_type: PromptType,
}

impl Validate for ResetInput {}

/// Drops the account's text so the default applies again.
#[utoipa::path(
    tag = "prompts",
    request_body = ResetInput,
    responses(
        (status = 200, body = PromptAnswer),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
    ),
)]
#[post("/prompts/reset")]
async fn reset(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<ResetInput>,
) -> Result<HttpResponse, ApiError> {
    let (account, prompt_type) = (auth.account(), body.0.prompt_type);
    state.db(move |conn| prompts::reset(conn, account, prompt_type)).await?;
    Ok(HttpResponse::Ok()
        .json(PromptAnswer { success: true, prompt: EffectivePrompt::new(prompt_type, None) }))
}

/// The account's own prompt texts, by type.
#[utoipa::path(
    tag = "prompts",
    params(PageParams),
    responses((status = 200, body = Page<AiPrompt>)),
)]
#[get("/prompts")]
async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    page: PageParams,
) -> Result<HttpResponse, ApiError> {
    crud::list::<AiPrompt>(&state, auth.scope(), PromptFilter, &req, page).await
}

/// Saves the account's text for a type it has none for yet (`save` also replaces).
#[utoipa::path(
    tag = "prompts",
    request_body = SaveInput,
    responses(
        (status = 201, body = Data<AiPrompt>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
        (status = 409, description = "The account already has a prompt of this type.", body = ErrorBody),
    ),
)]
#[post("/prompts")]
async fn create(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<SaveInput>,
) -> Result<HttpResponse, ApiError> {
    let SaveInput { prompt_type, prompt_value, is_active } = body.0;
    let form = PromptInsertForm {
        prompt_type: prompt_type.as_str().to_owned(),
        prompt_value,
        is_active: is_active.unwrap_or(true),
    };
    let account = auth.account();
    let row = state.db(move |conn| prompts::add(conn, account, form)).await?.ok_or_else(|| {
        ApiError::conflict(
            "prompt_exists",
            "prompt_type",
            "This account already has a prompt of this type; update it or use save/.",
        )
    })?;
    Ok(response::created(row))
}

/// The fields of a prompt to change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = PromptUpdateInput)]
#[serde(deny_unknown_fields)]
struct UpdateInput {
    /// The text (not blank, at most 20,000 characters).
    #[schema(min_length = 1, max_length = 20000, pattern = r"\S")]
    prompt_value: Option<String>,
    is_active: Option<bool>,
}

impl Validate for UpdateInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Some(value) = &self.prompt_value {
            validation::text(&mut errors, "prompt_value", value, MAX_PROMPT_CHARS);
        }
        validation::finish(errors)
    }
}

/// Changes a prompt text; PUT and PATCH both apply the fields sent.
#[utoipa::path(
    tag = "prompts",
    params(("id" = i64, Path, description = "The prompt id.")),
    request_body = UpdateInput,
    responses(
        (status = 200, body = Data<AiPrompt>),
        (status = 403, description = "The caller is not an editor.", body = ErrorBody),
    ),
)]
#[route("/prompts/{id}", method = "PUT", method = "PATCH")]
async fn update(
    state: web::Data<AppState>,
    auth: Editor,
    id: PathId<i64>,
    body: ApiJson<UpdateInput>,
) -> Result<HttpResponse, ApiError> {
    let UpdateInput { prompt_value, is_active } = body.0;
    crud::update::<AiPrompt>(&state, auth.scope(), id.0, PromptUpdateForm { prompt_value, is_active }).await
}
