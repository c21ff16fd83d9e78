//! The Odoo sync, run by `worker-odoo`.

use serde::{Deserialize, Serialize};

use super::Payload;
use crate::{net::OutboundGuard, problems::Problems};

/// What is mirrored: the Odoo model, what the API calls it, the fields read, and the domain
/// every read is limited to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MirroredModel {
    pub model: &'static str,
    pub name: &'static str,
    pub fields: &'static [&'static str],
    /// Odoo domain terms as JSON, `[]` for none.
    pub base_domain: &'static str,
}

pub const MODELS: [MirroredModel; 4] = [
    MirroredModel {
        model: "res.partner",
        name: "clients",
        fields: &["name", "email", "phone", "is_company", "city", "country_id", "active", "write_date"],
        base_domain: "[]",
    },
    MirroredModel {
        model: "project.project",
        name: "projects",
        fields: &["name", "partner_id", "user_id", "date_start", "date", "active", "write_date"],
        base_domain: "[]",
    },
    MirroredModel {
        model: "project.task",
        name: "tasks",
        fields: &["name", "project_id", "stage_id", "date_deadline", "user_ids", "active", "write_date"],
        base_domain: "[]",
    },
    MirroredModel {
        model: "account.move",
        name: "invoices",
        fields: &[
            "name",
            "partner_id",
            "move_type",
            "state",
            "payment_state",
            "amount_total",
            "amount_residual",
            "currency_id",
            "invoice_date",
            "invoice_date_due",
            "write_date",
        ],
        base_domain: r#"[["move_type", "in", ["out_invoice", "out_refund"]]]"#,
    },
];

pub fn mirrored(model: &str) -> Option<&'static MirroredModel> {
    MODELS.iter().find(|m| m.model == model)
}

/// Pulls what changed in Odoo since the last run (or everything, `full`), for `models` (all
/// when empty).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncPayload {
    #[serde(default)]
    pub models: Vec<String>,
    #[serde(default)]
    pub full: bool,
    /// Only these records of the one model named (a webhook's targeted sync); the cursor
    /// stays where it is.
    #[serde(default)]
    pub ids: Vec<i64>,
}

impl Payload for SyncPayload {
    fn problems(&self, _outbound: &OutboundGuard) -> Problems {
        let mut problems = Problems::new();
        for model in self.models.iter().filter(|model| mirrored(model).is_none()) {
            let known: Vec<&str> = MODELS.iter().map(|m| m.model).collect();
            problems.push("models", format!("`{model}` is not mirrored (one of {})", known.join(", ")));
        }
        if !self.ids.is_empty() && (self.models.len() != 1 || self.full || self.ids.len() > 1_000) {
            problems.push("ids", "name exactly one model, not full, and at most 1,000 ids".to_owned());
        }
        problems
    }
}

impl SyncPayload {
    pub fn selected(&self) -> Vec<&'static MirroredModel> {
        MODELS
            .iter()
            .filter(|m| self.models.is_empty() || self.models.iter().any(|wanted| wanted == m.model))
            .collect()
    }
}

/// A lead for the account's Odoo CRM, from a contact-form submission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadPayload {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[serde(default)]
    #[schema(max_length = 50)]
    pub phone: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub company: String,
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub message: String,
}

impl Payload for LeadPayload {
    fn problems(&self, _outbound: &OutboundGuard) -> Problems {
        let mut problems = Problems::new();
        let name = self.name.trim().chars().count();
        if name == 0 || name > 200 {
            problems.push("name", "must be 1 to 200 characters".to_owned());
        }
        let email = self.email.trim();
        let plausible = email.len() <= 254
            && email.split_once('@').is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'));
        if !plausible {
            problems.push("email", "must be an email address".to_owned());
        }
        for (field, value, max) in
            [("phone", &self.phone, 50), ("company", &self.company, 200), ("message", &self.message, 5_000)]
        {
            if value.chars().count() > max {
                problems.push(field, format!("must be at most {max} characters"));
            }
        }
        problems
    }
}
