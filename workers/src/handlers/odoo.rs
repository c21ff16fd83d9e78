//! `odoo.sync` on `worker-odoo`: pulls the account's clients, projects, tasks and invoices
//! from its Odoo into the mirror.
//!
//! Incremental by default: per model, the records whose `write_date` (then id) is past the
//! stored cursor, oldest first, 200 a page, archived ones included (`active_test: false`), at
//! most 5,000 a run (the next run goes on from there). `full` reads everything and marks
//! mirrored records Odoo no longer has as deleted — Odoo keeps no trace of a deleted record,
//! so only a full resync can see one; archiving is seen by both. Every page is read before
//! anything is written: the records, the cursors and the run's status go in the task's
//! SUCCESS transaction, so a sync that fails half-way (Odoo down, refused credentials) writes
//! no record and leaves every cursor where it was; the failure is noted on the models.

use std::collections::HashSet;

use serde_json::{Value, json};
use shared::{
    Config,
    crypto::SecretBox,
    integrations,
    net::OutboundGuard,
    odoo::mirror::{self, ModelPull},
    odoo::{self, OdooClient, OdooError, PageQuery},
    tasks::odoo::{LeadPayload, MirroredModel, SyncPayload},
    tasks::{OdooSync, PushLead},
};

use crate::runtime::{Completion, KindHandler, TaskContext, TaskError};

const PAGE: usize = 200;
const MAX_PER_RUN: usize = 5_000;
/// Retries of a transient failure within one call (the task runtime retries the whole sync).
const CALL_RETRIES: u32 = 2;

pub struct OdooSyncHandler {
    secret_box: SecretBox,
    guard: OutboundGuard,
}

impl OdooSyncHandler {
    pub fn new(config: &Config) -> Self {
        Self { secret_box: config.secret_box.clone(), guard: config.ai.outbound.clone() }
    }
}

/// The account's Odoo client, or `odoo_not_connected`.
fn client_for(
    integration: Option<&integrations::Integration>,
    guard: &OutboundGuard,
) -> Result<OdooClient, TaskError> {
    let (connection, timeout) = integration
        .and_then(odoo::connection_from)
        .ok_or_else(|| TaskError::fatal("odoo_not_connected", "the account has no active Odoo connection"))?;
    OdooClient::new(connection, guard, timeout, CALL_RETRIES).map_err(odoo_error)
}

fn odoo_error(error: OdooError) -> TaskError {
    TaskError::outside(error.is_retryable(), error.code(), error.to_string(), None)
}

/// One model's pull.
struct Pulled {
    model: &'static MirroredModel,
    records: Vec<Value>,
    /// Every id Odoo has (full resyncs only).
    all_ids: Option<HashSet<i64>>,
    cursor: Option<(String, i64)>,
    more: bool,
}

#[async_trait::async_trait]
impl KindHandler for OdooSyncHandler {
    type Kind = OdooSync;

    async fn run(&self, ctx: &TaskContext, payload: SyncPayload) -> Result<Completion, TaskError> {
        let account_id = ctx.task().account_id;
        let models = payload.selected();
        let outcome = self.pull(ctx, account_id, &models, &payload).await;
        match outcome {
            Ok(pulled) => Ok(complete(ctx, account_id, payload.full, pulled)),
            Err(error) => {
                note_failure(ctx, account_id, &models, &error).await;
                Err(error)
            }
        }
    }
}

impl OdooSyncHandler {
    async fn pull(
        &self,
        ctx: &TaskContext,
        account_id: i64,
        models: &[&'static MirroredModel],
        payload: &SyncPayload,
    ) -> Result<Vec<Pulled>, TaskError> {
        let full = payload.full;
        let secret_box = self.secret_box.clone();
        let (integration, cursors) = shared::db::run(ctx.pool(), move |conn| {
            let integration = integrations::load_active(conn, &secret_box, account_id, odoo::INTEGRATION)?;
            Ok((integration, mirror::cursors(conn, account_id)?))
        })
        .await?;
        let client = client_for(integration.as_ref(), &self.guard)?;
        ctx.progress("LOGIN", 5, "Logging in to Odoo")?;
        client.uid().await.map_err(odoo_error)?;

        let mut pulled = Vec::with_capacity(models.len());
        for (index, model) in models.iter().enumerate() {
            let stored = cursors
                .iter()
                .find(|(name, _, _)| name == model.model)
                .and_then(|(_, date, id)| date.clone().map(|date| (date, *id)));
            ctx.progress("PULL", (10 + 80 * index / models.len()) as u8, format!("Reading {}", model.model))?;
            let pull = if !payload.ids.is_empty() {
                Pull::Only(&payload.ids)
            } else if full {
                Pull::Everything
            } else {
                Pull::Since(stored.clone())
            };
            let mut pulled_model = pull_model(&client, model, pull).await.map_err(odoo_error)?;
            if !payload.ids.is_empty() {
                // A targeted sync leaves the incremental cursor alone.
                pulled_model.cursor = stored;
            }
            pulled.push(pulled_model);
        }
        Ok(pulled)
    }
}

/// What one model's pull reads.
enum Pull<'a> {
    /// Changed since the cursor (everything without one).
    Since(Option<(String, i64)>),
    /// Everything, and every id, to find deletions.
    Everything,
    /// These records only.
    Only(&'a [i64]),
}

async fn pull_model(
    client: &OdooClient,
    model: &'static MirroredModel,
    pull: Pull<'_>,
) -> Result<Pulled, OdooError> {
    let mut domain: Vec<Value> = serde_json::from_str(model.base_domain).unwrap_or_default();
    let full = matches!(pull, Pull::Everything);
    let cursor = match pull {
        Pull::Since(cursor) => cursor,
        Pull::Everything => None,
        Pull::Only(ids) => {
            domain.push(json!(["id", "in", ids]));
            None
        }
    };
    if let Some((date, id)) = &cursor {
        domain.extend([
            json!("|"),
            json!(["write_date", ">", date]),
            json!("&"),
            json!(["write_date", "=", date]),
            json!(["id", ">", id]),
        ]);
    }
    let context = json!({ "active_test": false });
    let mut records = Vec::new();
    let mut more = false;
    loop {
        let page = PageQuery {
            domain: Value::Array(domain.clone()),
            fields: model.fields,
            order: "write_date asc, id asc",
            limit: PAGE,
            offset: records.len(),
            context: context.clone(),
        };
        let batch = client.search_read(model.model, &page).await?;
        let done = batch.len() < PAGE;
        records.extend(batch);
        if done {
            break;
        }
        if records.len() >= MAX_PER_RUN {
            more = true;
            break;
        }
    }
    let all_ids = if full {
        let base: Value = serde_json::from_str(model.base_domain).unwrap_or(json!([]));
        Some(client.search(model.model, base, context).await?.into_iter().collect())
    } else {
        None
    };
    let new_cursor = records
        .last()
        .and_then(|last| Some((last["write_date"].as_str()?.to_owned(), last["id"].as_i64()?)))
        .or(cursor);
    Ok(Pulled { model, records, all_ids, cursor: new_cursor, more })
}

fn complete(ctx: &TaskContext, account_id: i64, full: bool, pulled: Vec<Pulled>) -> Completion {
    let task_id = ctx.task().id;
    let summary: Vec<Value> = pulled
        .iter()
        .map(|p| json!({ "model": p.model.model, "synced": p.records.len(), "more": p.more, "cursor": p.cursor.as_ref().map(|c| &c.0) }))
        .collect();
    let total: usize = pulled.iter().map(|p| p.records.len()).sum();
    let result = json!({ "models": summary, "synced": total, "full": full });
    Completion::new(result).with_effects(move |conn| {
        for model in pulled {
            let pull = ModelPull {
                model: model.model.model,
                records: &model.records,
                all_ids: model.all_ids.as_ref(),
                cursor: model.cursor,
            };
            mirror::save_pull(conn, account_id, task_id, pull)?;
        }
        Ok(())
    })
}

/// A many-to-one field's display name: Odoo answers `[id, "Name"]` or `false`.
pub fn display(value: &Value) -> Option<String> {
    value.as_array().and_then(|pair| pair.get(1)).and_then(Value::as_str).map(str::to_owned)
}

/// Notes a failed run on each model without touching its cursor.
async fn note_failure(
    ctx: &TaskContext,
    account_id: i64,
    models: &[&'static MirroredModel],
    error: &TaskError,
) {
    let (task_id, message) = (ctx.task().id, error.to_string());
    let names: Vec<&'static str> = models.iter().map(|m| m.model).collect();
    let noted = shared::db::run(ctx.pool(), move |conn| {
        mirror::note_failure(conn, account_id, &names, task_id, &message)
    })
    .await;
    if let Err(error) = noted {
        tracing::warn!(%error, "could not note the failed sync");
    }
}

/// `odoo.push_lead`: a contact-form submission becomes a `crm.lead` in the account's Odoo.
pub struct PushLeadHandler {
    secret_box: SecretBox,
    guard: OutboundGuard,
}

impl PushLeadHandler {
    pub fn new(config: &Config) -> Self {
        Self { secret_box: config.secret_box.clone(), guard: config.ai.outbound.clone() }
    }
}

#[async_trait::async_trait]
impl KindHandler for PushLeadHandler {
    type Kind = PushLead;

    async fn run(&self, ctx: &TaskContext, lead: LeadPayload) -> Result<Completion, TaskError> {
        let (account_id, secret_box) = (ctx.task().account_id, self.secret_box.clone());
        let integration = shared::db::run(ctx.pool(), move |conn| {
            integrations::load_active(conn, &secret_box, account_id, odoo::INTEGRATION)
        })
        .await?;
        let client = client_for(integration.as_ref(), &self.guard)?;
        ctx.progress("PUSH", 50, "Creating the lead in Odoo")?;
        let values = json!({
            "name": format!("Website enquiry: {}", lead.name.trim()),
            "contact_name": lead.name.trim(),
            "email_from": lead.email.trim(),
            "phone": lead.phone.trim(),
            "partner_name": lead.company.trim(),
            "description": lead.message.trim(),
            "type": "lead",
        });
        let lead_id = client.create("crm.lead", values).await.map_err(odoo_error)?;
        Ok(Completion::new(json!({ "lead_id": lead_id })))
    }
}
