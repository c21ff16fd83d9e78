//! `/api/v1/system/strategies/`: content strategies (audience and guidelines). A site may name
//! one; the writer reads it when it writes for that site.

use actix_web::{HttpResponse, delete, get, post, route, web};
use diesel::prelude::*;
use shared::db::{models::Strategy, schema::strategies};
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

named_settings_reads!("/strategies", "/strategies/{id}", strategies, Strategy, "strategy", "writer-settings");

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
    let input = StrategyInput::from(body.0);
    let name = input.name.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let row = state
        .db(move |conn| {
            use strategies as s;
            Ok(diesel::insert_into(s::table)
                .values((
                    s::account_id.eq(auth.account_id),
                    s::name.eq(name),
                    s::description.eq(input.description.unwrap_or_default().trim().to_owned()),
                    s::target_audience.eq(input.target_audience.unwrap_or_default().trim().to_owned()),
                    s::guidelines.eq(input.guidelines.unwrap_or_default().trim().to_owned()),
                    s::is_active.eq(input.is_active.unwrap_or(true)),
                ))
                .returning(Strategy::as_returning())
                .get_result(conn)?)
        })
        .await?;
    Ok(response::created(row))
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
    let (account_id, strategy_id, input) = (auth.account_id, id.0, body.0);
    let row = state
        .db(move |conn| {
            use strategies as s;
            Ok(diesel::update(s::table.find(strategy_id).filter(s::account_id.eq(account_id)))
                .set((
                    input.name.map(|text| s::name.eq(text.trim().to_owned())),
                    input.description.map(|text| s::description.eq(text.trim().to_owned())),
                    input.target_audience.map(|text| s::target_audience.eq(text.trim().to_owned())),
                    input.guidelines.map(|text| s::guidelines.eq(text.trim().to_owned())),
                    input.is_active.map(|active| s::is_active.eq(active)),
                    s::updated_at.eq(diesel::dsl::now),
                ))
                .returning(Strategy::as_returning())
                .get_result(conn)
                .optional()?)
        })
        .await?
        .ok_or(ApiError::NotFound { what: "strategy" })?;
    Ok(response::ok(row))
}
