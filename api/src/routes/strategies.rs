//! `/api/v1/system/strategies/`: content strategies (audience and guidelines). A site may name
//! one; the writer reads it when it writes for that site.

use actix_web::{HttpResponse, post, route, web};
use shared::{
    db::models::Strategy,
    writer_settings::{StrategyInsertForm, StrategyUpdateForm},
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
    row: Strategy, what: "strategy", tag: "writer-settings",
    collection: "/strategies", item: "/strategies/{id}", list: NamedListQuery,
}

input_forms! {
    /// Create and update share one body; on create `name` is required.
    #[serde(deny_unknown_fields)]
    StrategyInput, NewStrategy {
        #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
        @required name: String,
        #[schema(max_length = 5000)]
        description: Option<String>,
        #[schema(max_length = 5000)]
        target_audience: Option<String>,
        #[schema(max_length = 20000)]
        guidelines: Option<String>,
        is_active: Option<bool>,
    }
}

impl Validate for StrategyInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Some(name) = &self.name {
            validation::text(&mut errors, "name", name, 200);
        }
        validation::optional_text(&mut errors, "description", self.description.as_deref(), 5_000);
        validation::optional_text(&mut errors, "target_audience", self.target_audience.as_deref(), 5_000);
        validation::optional_text(&mut errors, "guidelines", self.guidelines.as_deref(), 20_000);
        validation::finish(errors)
    }
}

/// Creates a strategy (editor or above); `name` is required.
#[utoipa::path(
    tag = "writer-settings",
    request_body = NewStrategy,
    responses(
        (status = 201, body = Data<Strategy>),
        (status = 403, description = "Editors and above only.", body = ErrorBody),
    ),
)]
#[post("/strategies")]
async fn create(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<NewStrategy>,
) -> Result<HttpResponse, ApiError> {
    let NewStrategy { name, description, target_audience, guidelines, is_active } = body.0;
    let form = StrategyInsertForm {
        name: trimmed(name),
        description: description.map(trimmed).unwrap_or_default(),
        target_audience: target_audience.map(trimmed).unwrap_or_default(),
        guidelines: guidelines.map(trimmed).unwrap_or_default(),
        is_active: is_active.unwrap_or(true),
    };
    crud::create::<Strategy>(&state, auth.scope(), form).await
}

/// Changes a strategy (editor or above); PUT and PATCH both apply the fields sent (partial
/// update).
#[utoipa::path(
    tag = "writer-settings",
    params(("id" = i64, Path, description = "The strategy id.")),
    request_body = StrategyInput,
    responses(
        (status = 200, body = Data<Strategy>),
        (status = 403, description = "Editors and above only.", body = ErrorBody),
    ),
)]
#[route("/strategies/{id}", method = "PUT", method = "PATCH")]
async fn update(
    state: web::Data<AppState>,
    auth: Editor,
    id: PathId<i64>,
    body: ApiJson<StrategyInput>,
) -> Result<HttpResponse, ApiError> {
    let StrategyInput { name, description, target_audience, guidelines, is_active } = body.0;
    let form = StrategyUpdateForm {
        name: name.map(trimmed),
        description: description.map(trimmed),
        target_audience: target_audience.map(trimmed),
        guidelines: guidelines.map(trimmed),
        is_active,
    };
    crud::update::<Strategy>(&state, auth.scope(), id.0, form).await
}
