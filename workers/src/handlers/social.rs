//! `social.publish` on `worker-social`: publishes one due post (and `social.compose`, below,
//! writes platform-fitted variants).
//!
//! Exactly once: the post is claimed (`queued` → `publishing`) and given its marker — a UUID
//! sent as the platform's idempotency key where it has one — and the time of its first attempt
//! in a committed write before the platform is called. A redelivered task finds the post
//! `published` and does nothing. One that finds it still `publishing` (the worker died during
//! the call, or the call timed out) settles what the last attempt did first: platforms without
//! an idempotency key are asked for the account's recent posts and a post with our text made
//! since the first attempt is taken as ours; Mastodon is simply called again with the same key.
//! A refused token marks the account `needs_reauth` and fails the post (`needs_reauth`, never
//! retried); a rate limit waits for the platform's reset and tries again; other transient
//! failures retry with backoff, and the post fails with the error's code when the attempts run
//! out.

use std::time::Duration;

use serde_json::json;
use shared::{
    Config,
    ai::{self, ChatRequest, PromptType, prompts::render},
    billing::{self, Charge, Operation},
    crypto::SecretBox,
    db::models::Content,
    ids::AccountId,
    net::OutboundGuard,
    social::{
        AccountStatus, Outgoing, Platform, Published, SocialError, StoredAccount, mark_needs_reauth,
        posts::{self, Claimed},
    },
    tasks::social::{ComposePayload, InsightsPayload, PublishPayload},
    tasks::{Compose, PublishPost, PullInsights},
    tenant::Scoped,
};

use crate::runtime::{Completion, KindHandler, TaskContext, TaskError};

const PLATFORM_TIMEOUT: Duration = Duration::from_secs(30);

pub struct PublishPostHandler {
    secret_box: SecretBox,
    guard: OutboundGuard,
}

impl PublishPostHandler {
    pub fn new(config: &Config) -> Self {
        Self { secret_box: config.secret_box.clone(), guard: config.ai.outbound.clone() }
    }
}

#[async_trait::async_trait]
impl KindHandler for PublishPostHandler {
    type Kind = PublishPost;

    async fn run(
        &self,
        ctx: &TaskContext,
        PublishPayload { post_id }: PublishPayload,
    ) -> Result<Completion, TaskError> {
        let account = AccountId(ctx.task().account_id);
        let Some(claimed) =
            shared::db::run(ctx.pool(), move |conn| posts::claim(conn, account, post_id)).await?
        else {
            return Ok(Completion::new(json!({ "post_id": post_id, "skipped": "not due for publishing" })));
        };
        let social_account_id = claimed.account.id;
        let outcome = if claimed.account.status == AccountStatus::Active {
            self.publish(&claimed).await
        } else {
            Err(SocialError::Auth(format!(
                "the {} account needs to be connected again",
                claimed.account.platform
            )))
        };
        match outcome {
            Ok(published) => {
                tracing::info!(post_id, remote_id = published.remote_id, "published");
                let result =
                    json!({ "post_id": post_id, "remote_id": published.remote_id, "url": published.url });
                Ok(Completion::new(result).with_effects(move |conn| {
                    posts::mark_published(conn, account, post_id, published.remote_id, published.url)
                }))
            }
            Err(error @ SocialError::Auth(_)) => {
                shared::db::run(ctx.pool(), move |conn| mark_needs_reauth(conn, &[social_account_id]))
                    .await?;
                Err(fail(ctx, account, post_id, &error).await)
            }
            Err(error) if error.is_retryable() && ctx.task().attempts < ctx.task().max_attempts => {
                tracing::info!(post_id, code = error.code(), %error, "publish will be tried again");
                Err(TaskError::outside(true, error.code(), error.to_string(), error.retry_after()))
            }
            Err(error) => Err(fail(ctx, account, post_id, &error).await),
        }
    }
}

impl PublishPostHandler {
    /// Publishes the claimed post; after an attempt with an unknown outcome, first looks for
    /// the post that attempt may have made.
    async fn publish(&self, claimed: &Claimed) -> Result<Published, SocialError> {
        let adapter = claimed.account.adapter(&self.secret_box, &self.guard, PLATFORM_TIMEOUT)?;
        let marker = claimed.marker.to_string();
        let post = Outgoing {
            content: &claimed.content,
            media: &claimed.media,
            marker: &marker,
            since: claimed.started_at,
        };
        if claimed.resumed
            && let Some(found) = adapter.find_published(&post).await?
        {
            tracing::info!(remote_id = found.remote_id, "an earlier attempt had published it");
            return Ok(found);
        }
        adapter.publish(&post).await
    }
}

/// Marks the post failed with the error's code; the task's error to return.
async fn fail(ctx: &TaskContext, account: AccountId, post_id: i64, error: &SocialError) -> TaskError {
    let (code, message) = (error.code().to_owned(), error.to_string());
    let (stored_code, stored_message) = (code.clone(), message.clone());
    let noted = shared::db::run(ctx.pool(), move |conn| {
        posts::mark_failed(conn, account, post_id, stored_code, stored_message)
    })
    .await;
    if let Err(error) = noted {
        tracing::warn!(%error, post_id, "could not mark the post failed");
    }
    TaskError::fatal(&code, message)
}

/// `social.compose`: a variant per platform, within its length and hashtag limits, from a
/// text or a content item's article; one `social` credit per variant.
pub struct ComposeHandler {
    ai: std::sync::Arc<crate::handlers::planner::AiAccess>,
}

impl ComposeHandler {
    pub fn new(ai: std::sync::Arc<crate::handlers::planner::AiAccess>) -> Self {
        Self { ai }
    }
}

#[derive(Debug, serde::Deserialize)]
struct ComposeAnswer {
    variants: Vec<Variant>,
}

#[derive(Debug, serde::Deserialize, serde::Serialize)]
struct Variant {
    platform: String,
    text: String,
    #[serde(default)]
    hashtags: Vec<String>,
}

#[async_trait::async_trait]
impl KindHandler for ComposeHandler {
    type Kind = Compose;

    async fn run(&self, ctx: &TaskContext, payload: ComposePayload) -> Result<Completion, TaskError> {
        let account_id = ctx.task().account_id;
        let platforms: Vec<Platform> = payload.platforms.iter().filter_map(|p| Platform::parse(p)).collect();
        crate::handlers::planner::ensure_affordable(
            ctx.pool(),
            account_id,
            Operation::Social.cost(platforms.len() as u64),
        )
        .await?;
        let text = match payload.content_id {
            Some(content_id) => article_text(ctx, account_id, content_id).await?,
            None => payload.text.trim().to_owned(),
        };
        let (clients, template) =
            self.ai.for_account(ctx.pool(), account_id, PromptType::SocialCompose).await?;
        let limits: Vec<serde_json::Value> = platforms
            .iter()
            .map(|p| json!({ "name": p.as_str(), "max_chars": p.rules().max_chars }))
            .collect();
        let names: Vec<&str> = platforms.iter().map(|p| p.as_str()).collect();
        let request = ChatRequest {
            prompt_type: PromptType::SocialCompose,
            system: "You write social media posts. Answer with JSON only.".to_owned(),
            user: render(&template, &[("platforms", &names.join(", ")), ("text", &text)]),
            context: json!({ "text": text, "platforms": limits, "max_hashtags": payload.max_hashtags }),
            json: true,
            max_tokens: Some(2_000),
            temperature: Some(0.7),
        };
        ctx.progress("AI_CALL", 30, "Writing the variants")?;
        let answer = ai::chat_json::<ComposeAnswer>(clients.generator.as_ref(), request)
            .await
            .map_err(crate::handlers::planner::ai_error)?;
        let variants: Vec<Variant> = platforms
            .iter()
            .filter_map(|platform| {
                let variant = answer.value.variants.iter().find(|v| v.platform == platform.as_str())?;
                Some(fitted(*platform, variant, payload.max_hashtags))
            })
            .collect();
        if variants.is_empty() {
            return Err(TaskError::fatal(
                "ai_malformed_response",
                "the answer has no variant for the platforms asked",
            ));
        }
        let charge = Charge {
            account_id,
            operation: Operation::Social,
            units: variants.len() as u64,
            task_id: Some(ctx.task().id),
            model: answer.model.clone(),
            usage: answer.usage,
            related: None,
            cost_usd: None,
        };
        let result =
            json!({ "variants": variants, "model": answer.model, "credits_charged": charge.credits() });
        Ok(Completion::new(result).with_effects(move |conn| {
            billing::charge(conn, &charge)?;
            Ok(())
        }))
    }
}

/// The variant within the platform's limits: hashtags capped, the text cut at a word so that
/// text and hashtags fit.
fn fitted(platform: Platform, variant: &Variant, max_hashtags: usize) -> Variant {
    let rules = platform.rules();
    let cap = rules.max_hashtags.map_or(max_hashtags, |max| max.min(max_hashtags));
    let hashtags: Vec<String> = variant
        .hashtags
        .iter()
        .map(|tag| format!("#{}", tag.trim().trim_start_matches('#')))
        .filter(|tag| tag.len() > 1 && !tag.contains(char::is_whitespace))
        .take(cap)
        .collect();
    let mut text = variant.text.trim().to_owned();
    let room = rules.max_chars;
    if text.chars().count() > room {
        let cut: String = text.chars().take(room.saturating_sub(1)).collect();
        text = match cut.rfind(char::is_whitespace) {
            Some(at) if at > 0 => format!("{}…", cut[..at].trim_end()),
            _ => format!("{cut}…"),
        };
    }
    Variant { platform: platform.as_str().to_owned(), text, hashtags }
}

async fn article_text(ctx: &TaskContext, account_id: i64, content_id: i64) -> Result<String, TaskError> {
    let article = shared::db::run(ctx.pool(), move |conn| {
        Content::find(conn, &AccountId(account_id).into(), content_id)
    })
    .await?;
    let Content { title, html_content: html, .. } = article
        .ok_or_else(|| TaskError::fatal("no_content", "the content item does not exist in this account"))?;
    let text = ammonia::Builder::empty().clean(&html).to_string();
    let text: String = text.split_whitespace().take(400).collect::<Vec<_>>().join(" ");
    Ok(format!("{title}. {text}"))
}

/// `social.pull_insights`: refreshes the counts of the account's recent published posts, 4
/// requests at a time per social account. A refused token marks its account `needs_reauth`
/// and skips its posts; other failures are reported per account and leave the old counts.
pub struct PullInsightsHandler {
    secret_box: SecretBox,
    guard: OutboundGuard,
}

impl PullInsightsHandler {
    pub fn new(config: &Config) -> Self {
        Self { secret_box: config.secret_box.clone(), guard: config.ai.outbound.clone() }
    }
}

#[async_trait::async_trait]
impl KindHandler for PullInsightsHandler {
    type Kind = PullInsights;

    async fn run(&self, ctx: &TaskContext, payload: InsightsPayload) -> Result<Completion, TaskError> {
        use futures_util::{StreamExt, stream};
        let account_id = ctx.task().account_id;
        let since =
            chrono::Utc::now() - chrono::Duration::days(i64::from(payload.days.unwrap_or(30).clamp(1, 365)));
        // (post id, remote id) with the post's account.
        let account = AccountId(account_id);
        let targets =
            shared::db::run(ctx.pool(), move |conn| posts::published_since(conn, account, since)).await?;
        let mut by_account: std::collections::BTreeMap<i64, (StoredAccount, Vec<(i64, String)>)> =
            Default::default();
        for (post, account) in targets {
            by_account.entry(account.id).or_insert_with(|| (account, Vec::new())).1.push(post);
        }
        let mut counts: Vec<(i64, shared::social::Insights)> = Vec::new();
        let mut problems: Vec<serde_json::Value> = Vec::new();
        let mut reauth: Vec<i64> = Vec::new();
        for (social_account_id, (account, posts)) in by_account {
            let adapter = match account.adapter(&self.secret_box, &self.guard, PLATFORM_TIMEOUT) {
                Ok(adapter) => adapter,
                Err(SocialError::Auth(_)) => {
                    reauth.push(social_account_id);
                    continue;
                }
                Err(error) => {
                    problems.push(json!({ "social_account_id": social_account_id, "code": error.code() }));
                    continue;
                }
            };
            let adapter = adapter.as_ref();
            let results: Vec<(i64, Result<shared::social::Insights, SocialError>)> = stream::iter(posts)
                .map(|(post_id, remote_id)| async move { (post_id, adapter.insights(&remote_id).await) })
                .buffer_unordered(4)
                .collect()
                .await;
            for (post_id, result) in results {
                match result {
                    Ok(insights) => counts.push((post_id, insights)),
                    Err(SocialError::Auth(_)) => {
                        if !reauth.contains(&social_account_id) {
                            reauth.push(social_account_id);
                        }
                    }
                    Err(error) => problems.push(json!({ "post_id": post_id, "code": error.code() })),
                }
            }
        }
        let result = json!({ "posts_updated": counts.len(), "needs_reauth": reauth, "problems": problems });
        Ok(Completion::new(result).with_effects(move |conn| {
            posts::record_insights(conn, counts)?;
            mark_needs_reauth(conn, &reauth)
        }))
    }
}
