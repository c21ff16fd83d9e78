use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{ai_prompts, integration_settings};

/// An integration's row. `secret` is ciphertext and never serialised; `secret_hint` is the
/// masked form shown to users.
#[derive(Clone, Debug, Queryable, Selectable, Identifiable)]
#[diesel(table_name = integration_settings, check_for_backend(diesel::pg::Pg))]
pub struct IntegrationSetting {
    pub id: i64,
    pub account_id: i64,
    pub integration_type: String,
    pub config: serde_json::Value,
    pub secret: Option<Vec<u8>>,
    pub secret_hint: Option<String>,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Queryable, Selectable, Identifiable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = ai_prompts, check_for_backend(diesel::pg::Pg))]
pub struct AiPrompt {
    pub id: i64,
    pub account_id: i64,
    pub prompt_type: String,
    pub prompt_value: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
