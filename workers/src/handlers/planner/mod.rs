//! The planner's AI tasks on `worker-clustering`: `planner.auto_cluster` and
//! `planner.generate_ideas`.

mod auto_cluster;
mod ideas;

use std::sync::Arc;

pub use auto_cluster::AutoClusterHandler;
pub use ideas::GenerateIdeasHandler;
use shared::{
    Config,
    ai::{
        AccountAi, AiConfig, AiError, PromptType,
        image_providers::{ImageAccess, Stored},
        resolve,
    },
    billing,
    crypto::SecretBox,
    db::PgPool,
};

use crate::runtime::TaskError;

/// What the planner's handlers need to reach an account's AI: the server key that opens
/// stored API keys and the server's own provider settings.
#[derive(Clone)]
pub struct AiAccess {
    secret_box: SecretBox,
    server: AiConfig,
}

impl AiAccess {
    pub fn new(config: &Config) -> Arc<Self> {
        Arc::new(Self { secret_box: config.secret_box.clone(), server: config.ai.clone() })
    }

    /// The account's clients and its text for `prompt_type`, read in one database visit.
    pub(crate) async fn for_account(
        &self,
        pool: &PgPool,
        account_id: i64,
        prompt_type: PromptType,
    ) -> Result<(AccountAi, String), TaskError> {
        let access = self.clone();
        let (settings, prompt) = shared::db::run(pool, move |conn| {
            let settings =
                resolve::settings_for_account(conn, &access.secret_box, &access.server, account_id)?;
            Ok((settings, resolve::prompt_for(conn, account_id, prompt_type)?))
        })
        .await?;
        let clients = AccountAi::new(settings).map_err(ai_error)?;
        Ok((clients, prompt))
    }

    /// The client the account's images are drawn with (its `image_generation` choice, else
    /// the first provider with a key, else offline).
    pub(crate) async fn images(
        &self,
        pool: &PgPool,
        account_id: i64,
    ) -> Result<Arc<dyn shared::ai::ImageGenerator>, TaskError> {
        let access = self.clone();
        let images = shared::db::run(pool, move |conn| {
            ImageAccess::load(conn, &access.secret_box, &access.server, account_id, Stored::Active)
        })
        .await?;
        images.account_generator().map_err(ai_error)
    }
}

/// An AI failure as a task outcome: retried (after the provider's `Retry-After` when it gave
/// one) unless a later attempt cannot fare better.
pub fn ai_error(error: AiError) -> TaskError {
    TaskError::outside(error.is_retryable(), error.code(), error.to_string(), error.retry_after())
}

/// Fails the task before any work when the account cannot pay `credits`.
pub(crate) async fn ensure_affordable(pool: &PgPool, account_id: i64, credits: i64) -> Result<(), TaskError> {
    match shared::db::run(pool, move |conn| billing::ensure_affordable(conn, account_id, credits)).await {
        Err(shared::Error::InsufficientCredits { needed, available }) => Err(TaskError::fatal(
            "insufficient_credits",
            format!("402 Payment Required: this task needs {needed} credits and the account has {available}"),
        )),
        other => Ok(other?),
    }
}
