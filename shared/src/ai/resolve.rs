//! Which AI serves an account, and with which prompt. An account's own active `openai`
//! integration wins; otherwise the server's key (`OPENAI_API_KEY`); otherwise offline. Which
//! provider draws its images is `image_providers`' choice.

use std::{sync::Arc, time::Duration};

use diesel::prelude::*;
use secrecy::SecretString;

use super::{
    AiConfig, AiError, Embedder, OpenAiProvider, OpenAiSettings, PromptType, TextGenerator, default_prompt,
};
use crate::{
    Result,
    crypto::SecretBox,
    db::schema::ai_prompts,
    integrations::{self, Integration},
};

pub const OPENAI: &str = "openai";

/// The clients for one account's AI work.
#[derive(Clone)]
pub struct AccountAi {
    pub generator: Arc<dyn TextGenerator>,
    /// The provider's embeddings; `None` offline (callers use the bundled model).
    pub embedder: Option<Arc<dyn Embedder>>,
}

impl AccountAi {
    pub fn new(settings: Option<OpenAiSettings>) -> Result<Self, AiError> {
        Ok(match settings {
            Some(settings) => {
                let provider = Arc::new(OpenAiProvider::new(settings)?);
                Self { generator: provider.clone(), embedder: Some(provider) }
            }
            None => Self { generator: Arc::new(super::OfflineGenerator::new()), embedder: None },
        })
    }
}

/// The settings an integration row describes, over the server's (or built-in) defaults.
/// `None` when the integration has no key.
pub fn settings_from(integration: &Integration, server: &AiConfig) -> Option<OpenAiSettings> {
    let api_key: SecretString = integration.api_key.clone()?;
    let mut settings = server.openai.clone().unwrap_or_default();
    settings.api_key = api_key;
    // The operator's URL is trusted; a URL the tenant saved is not.
    settings.outbound_guard = Some(server.outbound.clone());
    if let Some(base_url) = integration.text("base_url") {
        settings.base_url = base_url.to_owned();
    }
    if let Some(model) = integration.text("model") {
        settings.chat_model = model.to_owned();
    }
    if let Some(model) = integration.text("embedding_model") {
        settings.embedding_model = model.to_owned();
    }
    if let Some(model) = integration.text("image_model") {
        settings.image_model = model.to_owned();
    }
    if let Some(secs) = integration.number("timeout_secs").filter(|secs| *secs >= 1.0) {
        settings.timeout = Duration::from_secs_f64(secs);
    }
    Some(settings)
}

/// The provider settings for `account_id`, or `None` for offline.
pub fn settings_for_account(
    conn: &mut PgConnection,
    secret_box: &SecretBox,
    server: &AiConfig,
    account_id: i64,
) -> Result<Option<OpenAiSettings>> {
    let own = integrations::load_active(conn, secret_box, account_id, OPENAI)?
        .and_then(|integration| settings_from(&integration, server));
    Ok(own.or_else(|| server.openai.clone()))
}

/// The account's active text for `prompt_type`, or the built-in default.
pub fn prompt_for(conn: &mut PgConnection, account_id: i64, prompt_type: PromptType) -> Result<String> {
    let saved: Option<String> = ai_prompts::table
        .filter(ai_prompts::account_id.eq(account_id))
        .filter(ai_prompts::prompt_type.eq(prompt_type.as_str()))
        .filter(ai_prompts::is_active.eq(true))
        .select(ai_prompts::prompt_value)
        .first(conn)
        .optional()?;
    Ok(saved.unwrap_or_else(|| default_prompt(prompt_type).to_owned()))
}
