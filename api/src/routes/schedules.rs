//! `/api/v1/system/schedules/`: cron schedules that fire commands (run by the `scheduler`
//! binary). Expressions are validated (400 with the reason) and every answer shows the next
//! five fire times.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, route, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::{
    db::models::Schedule,
    net::OutboundGuard,
    schedules::{
        CronSchedule,
        owned::{NewSchedule, ScheduleFields, ScheduleFilter},
    },
    settings,
    tenant::Owned,
};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::common::search_term;
use crate::{
    crud,
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, ApiQuery, AuthUser, Editor, PathId, Validate},
    response::{self, Data, Page, PageParams},
    state::AppState,
    validation,
};

const UPCOMING: usize = 5;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list).service(create).service(retrieve).service(update).service(remove);
}

/// A schedule with its next fire times.
#[derive(Serialize, ToSchema)]
struct ScheduleView {
    #[serde(flatten)]
    schedule: Schedule,
    /// The next five fire times (none while disabled).
    next_fire_times: Vec<chrono::DateTime<Utc>>,
}

impl From<Schedule> for ScheduleView {
    fn from(schedule: Schedule) -> Self {
        let next_fire_times =
            match (&schedule.enabled, CronSchedule::parse(&schedule.cron, &schedule.timezone)) {
                (true, Ok(cron)) => cron.upcoming(Utc::now(), UPCOMING),
                _ => Vec::new(),
            };
        ScheduleView { schedule, next_fire_times }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only enabled (or only disabled) schedules.
    enabled: Option<bool>,
    /// Only schedules firing this task kind.
    kind: Option<String>,
    /// Part of the name.
    search: Option<String>,
}

/// The account's schedules, by id.
#[utoipa::path(
    tag = "schedules",
    params(PageParams, ListQuery),
    responses((status = 200, body = Page<ScheduleView>)),
)]
#[get("/schedules")]
async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    page: PageParams,
    query: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery { enabled, kind, search } = query.0;
    let filter = ScheduleFilter { enabled, kind, name_pattern: search_term(&search) };
    crud::list_as::<Schedule, _>(&state, auth.scope(), filter, &req, page, ScheduleView::from).await
}

/// Create and update share one body; on create `name`, `cron` and `kind` are required.
#[derive(Debug, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Nightly SEO audit",
    "cron": "0 3 * * *",
    "timezone": "Europe/Amsterdam",
    "kind": "seo.audit",
    "payload": {"url": "https://example.com/"},
    "enabled": true
}))]
struct ScheduleInput {
    name: Option<String>,
    /// A cron expression (`0 6 * * *`).
    #[schema(example = "0 6 * * *")]
    cron: Option<String>,
    /// An IANA time zone the expression is read in (on create, default: the account's
    /// `timezone` setting, else `UTC`).
    timezone: Option<String>,
    /// The task kind to enqueue (`odoo.sync`, `seo.audit`, …).
    kind: Option<String>,
    /// The kind's payload (default `{}`).
    #[schema(value_type = Option<Object>)]
    payload: Option<Value>,
    enabled: Option<bool>,
}

impl Validate for ScheduleInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Some(name) = &self.name {
            validation::text(&mut errors, "name", name, 200);
        }
        if self.payload.as_ref().is_some_and(|payload| !payload.is_object()) {
            validation::push(&mut errors, "payload", "Must be a JSON object.");
        }
        validation::finish(errors)
    }
}

impl ScheduleInput {
    /// `base` with the fields sent applied, checked as a whole (the cron in its time zone,
    /// the command's payload for its kind), and the next fire time when enabled.
    fn apply(
        self,
        base: ScheduleFields,
        account_id: i64,
        outbound: &OutboundGuard,
    ) -> Result<ScheduleFields, ApiError> {
        let mut fields = ScheduleFields {
            name: self.name.map(|name| name.trim().to_owned()).unwrap_or(base.name),
            cron: self.cron.unwrap_or(base.cron),
            timezone: self.timezone.unwrap_or(base.timezone),
            kind: self.kind.unwrap_or(base.kind),
            payload: self.payload.unwrap_or(base.payload),
            enabled: self.enabled.unwrap_or(base.enabled),
            next_fire_at: None,
        };
        let mut errors = FieldErrors::new();
        let parsed = CronSchedule::parse(&fields.cron, &fields.timezone)
            .map_err(|error| validation::push(&mut errors, error.field, error.reason))
            .ok();
        if let Err(problems) =
            shared::tasks::command(account_id, &fields.kind, fields.payload.clone(), outbound)
        {
            for (field, problem) in problems {
                validation::push(&mut errors, &field, problem);
            }
        }
        validation::finish(errors).map_err(ApiError::invalid)?;
        fields.next_fire_at = parsed.filter(|_| fields.enabled).and_then(|cron| cron.next_after(Utc::now()));
        Ok(fields)
    }
}

/// Creates a schedule; `name`, `cron` and `kind` are required, the cron and the payload are
/// checked.
#[utoipa::path(
    tag = "schedules",
    request_body = ScheduleInput,
    responses(
        (status = 201, body = Data<ScheduleView>),
        (status = 403, description = "Editors and above only.", body = ErrorBody),
    ),
)]
#[post("/schedules")]
async fn create(
    state: web::Data<AppState>,
    auth: Editor,
    body: ApiJson<ScheduleInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let mut errors = FieldErrors::new();
    for (field, present) in
        [("name", input.name.is_some()), ("cron", input.cron.is_some()), ("kind", input.kind.is_some())]
    {
        if !present {
            validation::push(&mut errors, field, "This field is required.");
        }
    }
    validation::finish(errors).map_err(ApiError::invalid)?;
    let account = auth.account();
    let mut base = ScheduleFields::default();
    if input.timezone.is_none() {
        let owner = settings::Owner::Account(account);
        base.timezone = state.db(move |conn| settings::get(conn, owner, settings::ACCOUNT_TIMEZONE)).await?;
    }
    let fields = input.apply(base, auth.account_id, &state.config.ai.outbound)?;
    let form = NewSchedule { fields, created_by: Some(auth.user_id) };
    let schedule = state.db(move |conn| Schedule::create(conn, &account.into(), form)).await?;
    Ok(response::created(ScheduleView::from(schedule)))
}

/// One schedule with its next fire times.
#[utoipa::path(
    tag = "schedules",
    params(("id" = i64, Path, description = "The schedule id.")),
    responses((status = 200, body = Data<ScheduleView>)),
)]
#[get("/schedules/{id}")]
async fn retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(response::ok(ScheduleView::from(crud::find::<Schedule>(&state, auth.scope(), id.0).await?)))
}

/// PUT and PATCH both apply the fields sent; the result is validated as a whole.
#[utoipa::path(
    tag = "schedules",
    params(("id" = i64, Path, description = "The schedule id.")),
    request_body = ScheduleInput,
    responses(
        (status = 200, body = Data<ScheduleView>),
        (status = 403, description = "Editors and above only.", body = ErrorBody),
    ),
)]
#[route("/schedules/{id}", method = "PUT", method = "PATCH")]
async fn update(
    state: web::Data<AppState>,
    auth: Editor,
    id: PathId<i64>,
    body: ApiJson<ScheduleInput>,
) -> Result<HttpResponse, ApiError> {
    let current = crud::find::<Schedule>(&state, auth.scope(), id.0).await?;
    let fields = body.0.apply(current.into(), auth.account_id, &state.config.ai.outbound)?;
    let schedule = crud::apply::<Schedule>(&state, auth.scope(), id.0, fields).await?;
    Ok(response::ok(ScheduleView::from(schedule)))
}

/// Deletes a schedule.
#[utoipa::path(
    tag = "schedules",
    params(("id" = i64, Path, description = "The schedule id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "Editors and above only.", body = ErrorBody),
    ),
)]
#[delete("/schedules/{id}")]
async fn remove(state: web::Data<AppState>, auth: Editor, id: PathId<i64>) -> Result<HttpResponse, ApiError> {
    crud::delete::<Schedule>(&state, auth.scope(), id.0).await
}
