//! `/api/v1/odoo/…`: the Odoo sync (`GET sync/` status per model, `POST sync/` to run one),
//! contact-form `leads/`, and the mirrored `clients/`, `projects/`, `tasks/` and `invoices/`; `/api/v1/portal/dashboard/`: a
//! client's view built from the mirror (projects, open invoices, recent tasks).

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use shared::{
    ids::AccountId,
    odoo::mirror::{self, Record, RecordFilter, SyncStatus},
    tasks::{
        OdooSync, PushLead,
        odoo::{LeadPayload, MODELS, SyncPayload},
    },
};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::{
    error::{ApiError, ErrorBody},
    extract::{Admin, ApiJson, ApiQuery, AuthUser, Editor, IdempotencyKey, Validate},
    response::{self, Accepted, Data, Page, PageParams},
    routes::commands,
    state::AppState,
};

pub fn configure_odoo(cfg: &mut ServiceConfig) {
    // `/{collection}` last: `sync` is not a collection.
    cfg.service(status).service(sync).service(leads).service(collection);
}

pub fn configure_portal(cfg: &mut ServiceConfig) {
    cfg.service(dashboard);
}

/// One mirrored model's sync state.
#[derive(Serialize, ToSchema)]
struct OdooModelSync {
    /// The Odoo model (`res.partner`, …).
    model: &'static str,
    /// Its collection here (`clients`, …).
    name: &'static str,
    /// The `write_date` the next incremental run starts from.
    cursor: Option<String>,
    last_run_at: Option<DateTime<Utc>>,
    last_status: Option<SyncStatus>,
    last_error: Option<String>,
    last_task_id: Option<uuid::Uuid>,
    /// Records read by the last run.
    last_synced: i32,
    /// Records in the mirror.
    mirrored: i64,
    /// Records deleted in Odoo since mirrored.
    deleted: i64,
}

/// `models`: the sync state of every mirrored model.
#[derive(Serialize, ToSchema)]
struct OdooSyncStatus {
    models: Vec<OdooModelSync>,
}

/// Per mirrored model: the cursor, the last run (when, how, how many) and what the mirror holds.
#[utoipa::path(tag = "odoo", responses((status = 200, body = Data<OdooSyncStatus>)))]
#[get("/sync")]
async fn status(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let (rows, counts) = state.db(move |conn| mirror::sync_status(conn, auth.account())).await?;
    let models: Vec<OdooModelSync> = MODELS
        .iter()
        .map(|model| {
            let row = rows.iter().find(|row| row.model == model.model);
            let count = |deleted: bool| {
                counts.iter().find(|c| c.0 == model.model && c.1 == deleted).map_or(0, |c| c.2)
            };
            OdooModelSync {
                model: model.model,
                name: model.name,
                cursor: row.and_then(|r| r.cursor_write_date.clone()),
                last_run_at: row.and_then(|r| r.last_run_at),
                last_status: row.and_then(|r| r.last_status),
                last_error: row.and_then(|r| r.last_error.clone()),
                last_task_id: row.and_then(|r| r.last_task_id),
                last_synced: row.map_or(0, |r| r.last_synced),
                mirrored: count(false),
                deleted: count(true),
            }
        })
        .collect();
    Ok(response::ok(OdooSyncStatus { models }))
}

impl Validate for SyncPayload {}

/// Runs a sync now: `{"models": [...], "full": false}` (all models when none are named). A 400
/// names `integration` while Odoo is not connected.
#[utoipa::path(
    tag = "odoo",
    params(IdempotencyKey),
    request_body = SyncPayload,
    responses(
        (status = 202, body = Accepted),
        (status = 403, description = "Admins and owners only.", body = ErrorBody),
        (status = 422, description = "The `Idempotency-Key` was used for a different request.", body = ErrorBody),
    ),
)]
#[post("/sync")]
async fn sync(
    state: web::Data<AppState>,
    auth: Admin,
    req: HttpRequest,
    body: ApiJson<SyncPayload>,
) -> Result<HttpResponse, ApiError> {
    let task = commands::task_of::<OdooSync>(&state, auth.account_id, &body.0)?;
    ensure_connected(&state, auth.account()).await?;
    commands::enqueue(&state, &auth, &req, task).await
}

/// 400 naming `integration` unless the account has an active Odoo connection.
async fn ensure_connected(state: &AppState, account: AccountId) -> Result<(), ApiError> {
    let connected = state.db(move |conn| mirror::is_connected(conn, account)).await?;
    if connected {
        Ok(())
    } else {
        Err(ApiError::conflict(
            "integration_not_connected",
            "integration",
            "Connect Odoo first: POST /api/v1/system/settings/integrations/odoo/save/.",
        ))
    }
}

impl Validate for LeadPayload {}

/// A contact-form submission (`{name, email, phone, company, message}`) becomes a lead in the
/// account's Odoo CRM: 202 with the `odoo.push_lead` task. A 400 names `integration` while
/// Odoo is not connected.
#[utoipa::path(
    tag = "odoo",
    params(IdempotencyKey),
    request_body = LeadPayload,
    responses(
        (status = 202, body = Accepted),
        (status = 403, description = "Editors and above only.", body = ErrorBody),
        (status = 422, description = "The `Idempotency-Key` was used for a different request.", body = ErrorBody),
    ),
)]
#[post("/leads")]
async fn leads(
    state: web::Data<AppState>,
    auth: Editor,
    req: HttpRequest,
    body: ApiJson<LeadPayload>,
) -> Result<HttpResponse, ApiError> {
    let task = commands::task_of::<PushLead>(&state, auth.account_id, &body.0)?;
    ensure_connected(&state, auth.account()).await?;
    commands::enqueue(&state, &auth, &req, task).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct MirrorQuery {
    /// Part of the record's name.
    search: Option<String>,
    /// Also list records archived in Odoo (`active = false`).
    #[serde(default)]
    include_archived: bool,
}

/// A mirrored Odoo record: its id, whether it is active, and the model's fields
/// (many-to-one fields as `{"id", "name"}`, empty ones as null).
#[derive(Serialize, ToSchema)]
struct MirroredRecord {
    odoo_id: i64,
    /// The model's own `active` field where it has one (null when Odoo sent none), otherwise
    /// whether the record is active in the mirror.
    #[schema(value_type = Option<bool>)]
    active: Value,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    fields: Map<String, Value>,
}

/// A mirrored record as the API shows it.
fn shown(odoo_id: i64, data: &Value, active: bool, fields: &[&str]) -> MirroredRecord {
    let mut out = MirroredRecord { odoo_id, active: json!(active), fields: Map::new() };
    for field in fields {
        let value = &data[*field];
        // Many-to-one fields come as [id, "Name"]; `false` means empty.
        let value = match value {
            Value::Array(pair) if pair.len() == 2 && pair[0].is_i64() => {
                json!({ "id": pair[0], "name": pair[1] })
            }
            Value::Bool(false) if *field != "active" && *field != "is_company" => Value::Null,
            other => other.clone(),
        };
        if *field == "active" {
            out.active = value;
        } else {
            out.fields.insert((*field).to_owned(), value);
        }
    }
    out
}

async fn mirror_list(
    state: &AppState,
    account: AccountId,
    req: &HttpRequest,
    page: PageParams,
    query: MirrorQuery,
    model: &'static str,
) -> Result<HttpResponse, ApiError> {
    let fields = shared::tasks::odoo::mirrored(model).map_or(&[][..], |m| m.fields);
    let filter = RecordFilter { model, include_archived: query.include_archived, search: query.search };
    let window = page.window();
    let (rows, count) = state.db(move |conn| mirror::records(conn, account, &filter, window)).await?;
    let results: Vec<MirroredRecord> =
        rows.iter().map(|record| shown(record.odoo_id, &record.data, record.active, fields)).collect();
    Ok(response::paginated(req, page, count, results))
}

/// `clients/`, `projects/`, `tasks/` or `invoices/`: the mirrored records of that model, by
/// name (archived ones only with `include_archived`).
#[utoipa::path(
    tag = "odoo",
    params(
        ("collection" = String, Path, pattern = "^(clients|projects|tasks|invoices)$", description = "`clients`, `projects`, `tasks` or `invoices`."),
        PageParams,
        MirrorQuery,
    ),
    responses((status = 200, body = Page<MirroredRecord>)),
)]
#[get("/{collection}")]
async fn collection(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    page: PageParams,
    path: web::Path<String>,
    query: ApiQuery<MirrorQuery>,
) -> Result<HttpResponse, ApiError> {
    let model = MODELS
        .iter()
        .find(|model| model.name == path.as_str())
        .ok_or(ApiError::NotFound { what: "collection" })?
        .model;
    mirror_list(&state, auth.account(), &req, page, query.0, model).await
}

/// A client's view of the mirror.
#[derive(Serialize, ToSchema)]
struct PortalDashboard {
    /// Active projects.
    projects: Vec<MirroredRecord>,
    /// Posted invoices not yet paid, oldest due first.
    open_invoices: Vec<MirroredRecord>,
    /// What the open invoices still owe, a decimal string (`"1250.40"`): Odoo's residual
    /// amounts added exactly, without float rounding.
    open_invoices_total: Decimal,
    /// The ten latest tasks.
    recent_tasks: Vec<MirroredRecord>,
}

/// What an invoice still owes, read from the JSON number's own digits (Odoo sends a float
/// column as a JSON number; `0.1 + 0.2` must stay `0.3`). Unreadable counts as nothing.
fn residual(invoice: &Record) -> Decimal {
    match &invoice.data["amount_residual"] {
        Value::Number(number) => {
            let digits = number.to_string();
            digits.parse().or_else(|_| Decimal::from_scientific(&digits)).unwrap_or_default()
        }
        Value::String(text) => text.trim().parse().unwrap_or_default(),
        _ => Decimal::ZERO,
    }
}

/// `amount` shown with at least two decimal places (`1200` → `1200.00`), never fewer digits
/// than it has.
fn at_least_cents(mut amount: Decimal) -> Decimal {
    amount = amount.normalize();
    if amount.scale() < 2 {
        amount.rescale(2);
    }
    amount
}

/// Active projects, posted invoices not yet paid (oldest due first), the ten latest tasks.
#[utoipa::path(tag = "odoo", responses((status = 200, body = Data<PortalDashboard>)))]
#[get("/dashboard")]
async fn dashboard(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let models = ["project.project", "project.task", "account.move"];
    let rows = state.db(move |conn| mirror::active_records(conn, auth.account(), &models)).await?;
    let of = |model: &'static str| rows.iter().filter(move |row| row.model == model);
    let fields = |model: &str| shared::tasks::odoo::mirrored(model).map_or(&[][..], |m| m.fields);
    let active_projects: Vec<MirroredRecord> =
        of("project.project").map(|r| shown(r.odoo_id, &r.data, true, fields("project.project"))).collect();
    let mut open: Vec<&Record> = of("account.move")
        .filter(|r| {
            r.data["state"] == "posted" && r.data["payment_state"] != "paid" && residual(r) > Decimal::ZERO
        })
        .collect();
    let due = |r: &Record| r.data["invoice_date_due"].as_str().unwrap_or("").to_owned();
    open.sort_by_key(|r| due(r));
    let open_total: Decimal = open.iter().map(|r| residual(r)).sum();
    let open_invoices: Vec<MirroredRecord> =
        open.iter().map(|r| shown(r.odoo_id, &r.data, true, fields("account.move"))).collect();
    let mut tasks: Vec<&Record> = of("project.task").collect();
    tasks.sort_by(|a, b| b.write_date.cmp(&a.write_date));
    let recent_tasks: Vec<MirroredRecord> =
        tasks.iter().take(10).map(|r| shown(r.odoo_id, &r.data, true, fields("project.task"))).collect();
    Ok(response::ok(PortalDashboard {
        projects: active_projects,
        open_invoices,
        open_invoices_total: at_least_cents(open_total),
        recent_tasks,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_collections_are_the_mirrored_models() {
        let names: Vec<&str> = MODELS.iter().map(|model| model.name).collect();
        assert_eq!(format!("^({})$", names.join("|")), "^(clients|projects|tasks|invoices)$");
    }

    #[test]
    fn residual_amounts_add_up_exactly() {
        let invoice = |amount: Value| Record {
            odoo_id: 1,
            model: "account.move".into(),
            data: json!({ "amount_residual": amount }),
            write_date: String::new(),
            active: true,
        };
        let total: Decimal = [json!(0.1), json!(0.2), json!("1200"), json!(null)]
            .into_iter()
            .map(|amount| residual(&invoice(amount)))
            .sum();
        assert_eq!(at_least_cents(total).to_string(), "1200.30");
        assert_eq!(at_least_cents("0.125".parse().expect("decimal")).to_string(), "0.125");
    }
}
