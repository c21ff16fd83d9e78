//! The AI provider layer every worker uses: text generation (chat with a system and a user
//! prompt, JSON output parsed into typed structs) and embeddings, behind two traits. Each has
//! an OpenAI-compatible implementation (`async-openai`, any base URL) and an offline one used
//! when no key is configured; image generation (`images`) likewise, with Runware as a second
//! image provider (`runware`) and the account's choice among them (`image_providers`).

mod config;
mod error;
mod http;
pub mod image_providers;
pub mod images;
mod offline;
mod openai;
pub mod prompts;
pub mod resolve;
mod retry;
pub mod runware;

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

pub use config::AiConfig;
pub use error::AiError;
pub use images::{GeneratedImage, ImageGenerator, ImageRequest, ImageShape};
pub use offline::{
    OFFLINE_MODEL, OfflineEmbedder, OfflineGenerator, OfflineImages, hashed_embedding, placeholder_png,
};
pub use openai::{ConnectionCheck, MAX_EMBEDDING_BATCH, OpenAiProvider, OpenAiSettings};
pub use prompts::{PromptType, default_prompt};
pub use resolve::AccountAi;
pub use runware::{RunwareProvider, RunwareSettings};

/// The generator workers use: OpenAI-compatible when settings are given, offline otherwise.
/// Fails only for settings that cannot work (see `OpenAiProvider::new`).
pub fn generator_for(settings: Option<OpenAiSettings>) -> Result<Arc<dyn TextGenerator>, AiError> {
    Ok(match settings {
        Some(settings) => Arc::new(OpenAiProvider::new(settings)?),
        None => Arc::new(OfflineGenerator::new()),
    })
}

/// The embedder to match `generator_for`.
pub fn embedder_for(settings: Option<OpenAiSettings>) -> Result<Arc<dyn Embedder>, AiError> {
    Ok(match settings {
        Some(settings) => Arc::new(OpenAiProvider::new(settings)?),
        None => Arc::new(OfflineEmbedder::new()),
    })
}

/// A rough token count (about four characters a token for English), for usage records where
/// no provider counted.
pub fn estimate_tokens(text: &str) -> u32 {
    u32::try_from(text.chars().count().div_ceil(4)).unwrap_or(u32::MAX)
}

/// Tokens an AI call consumed, recorded with the credits it cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

impl TokenUsage {
    pub fn total(&self) -> u32 {
        self.prompt_tokens + self.completion_tokens
    }
}

impl std::ops::AddAssign for TokenUsage {
    fn add_assign(&mut self, other: Self) {
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
    }
}

/// One chat call. `context` carries the structured inputs the prompt was rendered from, so
/// that the offline generator can answer from the data instead of parsing prose.
#[derive(Clone, Debug)]
pub struct ChatRequest {
    pub prompt_type: PromptType,
    pub system: String,
    pub user: String,
    pub context: serde_json::Value,
    /// Ask for a JSON object (`response_format: json_object`).
    pub json: bool,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
}

#[derive(Clone, Debug)]
pub struct ChatResponse {
    pub content: String,
    pub model: String,
    pub usage: TokenUsage,
}

/// A chat completion parsed into `T`, with what it cost.
#[derive(Clone, Debug)]
pub struct Parsed<T> {
    pub value: T,
    pub model: String,
    pub usage: TokenUsage,
}

#[async_trait]
pub trait TextGenerator: Send + Sync {
    /// The model answering, for usage logs.
    fn model(&self) -> &str;

    async fn chat(&self, request: ChatRequest) -> Result<ChatResponse, AiError>;
}

/// Sends a JSON-mode request and parses the answer into `T`; an answer that is not the
/// expected JSON is `AiError::Malformed`.
pub async fn chat_json<T: DeserializeOwned>(
    generator: &dyn TextGenerator,
    mut request: ChatRequest,
) -> Result<Parsed<T>, AiError> {
    request.json = true;
    let response = generator.chat(request).await?;
    let value = serde_json::from_str(strip_code_fence(&response.content))
        .map_err(|e| AiError::Malformed(format!("answer is not the expected JSON: {e}")))?;
    Ok(Parsed { value, model: response.model, usage: response.usage })
}

/// Models sometimes wrap JSON in a Markdown fence even in JSON mode.
fn strip_code_fence(content: &str) -> &str {
    let trimmed = content.trim();
    trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|rest| rest.strip_suffix("```"))
        .map(str::trim)
        .unwrap_or(trimmed)
}

/// Vectors for a batch of texts, in input order.
#[derive(Clone, Debug, Default)]
pub struct Embeddings {
    pub vectors: Vec<Vec<f32>>,
    pub model: String,
    pub usage: TokenUsage,
}

#[async_trait]
pub trait Embedder: Send + Sync {
    fn model(&self) -> &str;

    async fn embed(&self, texts: &[String]) -> Result<Embeddings, AiError>;
}
