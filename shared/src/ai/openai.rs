//! `OpenAiProvider`: chat, embeddings and images through `async-openai` against any OpenAI-compatible
//! base URL (OpenAI, Azure OpenAI's `/openai/v1` endpoint, Ollama, vLLM, LiteLLM...).
//!
//! Every call has a per-attempt timeout and bounded retries (`super::retry`); error answers are
//! classified by status with the provider's `Retry-After` kept (`transport`).

pub(super) mod transport;

use std::time::{Duration, Instant};

use async_openai::{
    Client,
    config::OpenAIConfig,
    types::{
        chat::{
            ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
            ChatCompletionRequestUserMessage, CreateChatCompletionRequest, ResponseFormat,
        },
        embeddings::{CreateEmbeddingRequest, EmbeddingInput},
        images::{CreateImageRequest, Image, ImageModel, ImageResponseFormat, ImageSize},
    },
};
use async_trait::async_trait;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use self::transport::Transport;
use super::{
    AiError, ChatRequest, ChatResponse, Embedder, Embeddings, TextGenerator, TokenUsage,
    images::{GeneratedImage, ImageGenerator, ImageRequest, ImageShape, fetch_image},
    retry::RetryPolicy,
};
use crate::net::{GuardedClient, OutboundGuard};

use super::http::provider_client;

/// OpenAI's limit on inputs per embeddings request.
pub const MAX_EMBEDDING_BATCH: usize = 2048;

/// Where and how to reach an OpenAI-compatible API.
#[derive(Clone, Debug)]
pub struct OpenAiSettings {
    pub api_key: SecretString,
    /// Up to and including the version segment, e.g. `https://api.openai.com/v1` or
    /// `http://127.0.0.1:11434/v1` (Ollama).
    pub base_url: String,
    pub chat_model: String,
    pub embedding_model: String,
    /// `gpt-image-*` (always answers base64) or `dall-e-*` (asked for base64).
    pub image_model: String,
    /// Per attempt, connection to last byte.
    pub timeout: Duration,
    /// Attempts after the first for a retryable failure (timeouts, 429, 5xx, unreachable).
    pub max_retries: u32,
    /// The backoff before the first retry when the provider gives no `Retry-After`; each
    /// later retry waits about twice as long.
    pub retry_base_delay: Duration,
    /// Set for base URLs a tenant chose: non-public addresses are refused before connecting
    /// (see `crate::net`). `None` for the operator's own configuration, which is trusted.
    pub outbound_guard: Option<OutboundGuard>,
}

impl Default for OpenAiSettings {
    fn default() -> Self {
        Self {
            api_key: SecretString::from(String::new()),
            base_url: "https://api.openai.com/v1".to_owned(),
            chat_model: "gpt-4o-mini".to_owned(),
            embedding_model: "text-embedding-3-small".to_owned(),
            image_model: "gpt-image-1-mini".to_owned(),
            timeout: Duration::from_secs(60),
            max_retries: 3,
            retry_base_delay: Duration::from_millis(500),
            outbound_guard: None,
        }
    }
}

impl OpenAiSettings {
    /// The defaults (OpenAI itself) with this key.
    pub fn new(api_key: impl Into<String>) -> Self {
        Self { api_key: SecretString::from(api_key.into()), ..Self::default() }
    }
}

/// What the "test connection" endpoint shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ConnectionCheck {
    pub base_url: String,
    /// The configured chat model.
    pub model: String,
    /// Whether the provider lists the chat model; `None` when it has no model list and a
    /// one-token chat was used instead.
    pub model_listed: Option<bool>,
    pub latency_ms: u64,
}

/// Chat and embeddings against an OpenAI-compatible API.
#[derive(Clone, Debug)]
pub struct OpenAiProvider {
    client: Client<OpenAIConfig>,
    /// The client under `client`, for image URLs some compatible servers answer with.
    http: GuardedClient,
    base_url: String,
    chat_model: String,
    embedding_model: String,
    image_model: String,
    retry: RetryPolicy,
}

impl OpenAiProvider {
    /// Checks the settings and builds the HTTP client; sends nothing.
    pub fn new(settings: OpenAiSettings) -> Result<Self, AiError> {
        let (base_url, http) = provider_client(
            &settings.base_url,
            &settings.api_key,
            settings.timeout,
            settings.outbound_guard.as_ref(),
        )?;
        let key = settings.api_key.expose_secret();
        // Explicit organisation and project: `OpenAIConfig::new` would read them from the
        // process environment, and configuration here is passed in, not picked up.
        let config = OpenAIConfig::new()
            .with_api_base(&base_url)
            .with_api_key(key)
            .with_org_id("")
            .with_project_id("");
        let client = Client::with_config(config).with_http_service(Transport::new(http.clone()));
        Ok(Self {
            client,
            http,
            base_url,
            chat_model: settings.chat_model,
            embedding_model: settings.embedding_model,
            image_model: settings.image_model,
            retry: RetryPolicy {
                timeout: settings.timeout,
                max_retries: settings.max_retries,
                base_delay: settings.retry_base_delay,
            },
        })
    }

    /// One real request: the model list (is the chat model there?), or a one-token chat when
    /// the provider has no model list. Not retried: the person testing wants the answer now.
    pub async fn check(&self) -> Result<ConnectionCheck, AiError> {
        let once = RetryPolicy { max_retries: 0, ..self.retry };
        let started = Instant::now();
        let listed = once
            .run("list_models", || async {
                self.client.models().list().await.map_err(|error| self.classify(error))
            })
            .await;
        let model_listed = match listed {
            Ok(list) => Some(list.data.iter().any(|model| model.id == self.chat_model)),
            // Some compatible servers do not implement `/models`.
            Err(AiError::BadRequest(_)) => {
                let request = CreateChatCompletionRequest {
                    messages: vec![ChatCompletionRequestUserMessage::from("ping").into()],
                    model: self.chat_model.clone(),
                    max_completion_tokens: Some(1),
                    ..Default::default()
                };
                once.run("check_chat", || async {
                    self.client.chat().create(request.clone()).await.map_err(|error| self.classify(error))
                })
                .await?;
                None
            }
            Err(error) => return Err(error),
        };
        Ok(ConnectionCheck {
            base_url: self.base_url.clone(),
            model: self.chat_model.clone(),
            model_listed,
            latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    }

    fn classify(&self, error: async_openai::error::OpenAIError) -> AiError {
        transport::classify(error, self.retry.timeout)
    }

    fn chat_request(&self, request: &ChatRequest) -> CreateChatCompletionRequest {
        let mut messages: Vec<ChatCompletionRequestMessage> = Vec::with_capacity(2);
        if !request.system.is_empty() {
            messages.push(ChatCompletionRequestSystemMessage::from(request.system.as_str()).into());
        }
        messages.push(ChatCompletionRequestUserMessage::from(request.user.as_str()).into());
        CreateChatCompletionRequest {
            messages,
            model: self.chat_model.clone(),
            response_format: request.json.then_some(ResponseFormat::JsonObject),
            max_completion_tokens: request.max_tokens,
            temperature: request.temperature,
            ..Default::default()
        }
    }

    async fn embed_batch(&self, batch: &[String]) -> Result<(Vec<Vec<f32>>, TokenUsage), AiError> {
        let request = CreateEmbeddingRequest {
            model: self.embedding_model.clone(),
            input: EmbeddingInput::StringArray(batch.to_vec()),
            ..Default::default()
        };
        let response = self
            .retry
            .run("embed", || async {
                self.client.embeddings().create(request.clone()).await.map_err(|error| self.classify(error))
            })
            .await?;
        if response.data.len() != batch.len() {
            return Err(AiError::Malformed(format!(
                "{} vectors for {} inputs",
                response.data.len(),
                batch.len()
            )));
        }
        // The `index` field, not the position in the list, says which input a vector is for.
        let mut vectors: Vec<Option<Vec<f32>>> = vec![None; batch.len()];
        for item in response.data {
            let slot = usize::try_from(item.index)
                .ok()
                .and_then(|index| vectors.get_mut(index))
                .ok_or_else(|| AiError::Malformed(format!("vector index {} out of range", item.index)))?;
            *slot = Some(item.embedding);
        }
        let vectors = vectors
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| AiError::Malformed("an input has no vector".into()))?;
        let usage = TokenUsage { prompt_tokens: response.usage.prompt_tokens, completion_tokens: 0 };
        Ok((vectors, usage))
    }
}

#[async_trait]
impl TextGenerator for OpenAiProvider {
    fn model(&self) -> &str {
        &self.chat_model
    }

    #[tracing::instrument(skip_all, fields(prompt_type = %request.prompt_type, model = %self.chat_model))]
    async fn chat(&self, request: ChatRequest) -> Result<ChatResponse, AiError> {
        let body = self.chat_request(&request);
        let response = self
            .retry
            .run("chat", || async {
                self.client.chat().create(body.clone()).await.map_err(|error| self.classify(error))
            })
            .await?;
        let usage = response
            .usage
            .map(|usage| TokenUsage {
                prompt_tokens: usage.prompt_tokens,
                completion_tokens: usage.completion_tokens,
            })
            .unwrap_or_default();
        let choice = response
            .choices
            .into_iter()
            .next()
            .ok_or_else(|| AiError::Malformed("the answer has no choices".into()))?;
        let content = match (choice.message.content, choice.message.refusal) {
            (Some(content), _) if !content.is_empty() => content,
            (_, Some(refusal)) => return Err(AiError::BadRequest(format!("the model refused: {refusal}"))),
            _ => return Err(AiError::Malformed("the answer has no content".into())),
        };
        Ok(ChatResponse { content, model: response.model, usage })
    }
}

#[async_trait]
impl Embedder for OpenAiProvider {
    fn model(&self) -> &str {
        &self.embedding_model
    }

    #[tracing::instrument(skip_all, fields(inputs = texts.len(), model = %self.embedding_model))]
    async fn embed(&self, texts: &[String]) -> Result<Embeddings, AiError> {
        let mut out = Embeddings {
            vectors: Vec::with_capacity(texts.len()),
            model: self.embedding_model.clone(),
            ..Default::default()
        };
        for batch in texts.chunks(MAX_EMBEDDING_BATCH) {
            let (vectors, usage) = self.embed_batch(batch).await?;
            out.vectors.extend(vectors);
            out.usage += usage;
        }
        Ok(out)
    }
}

/// The size to ask for: GPT image models take 1536×1024 and 1024×1536, DALL·E 3 1792×1024
/// and 1024×1792, DALL·E 2 only squares.
fn image_size(model: &str, shape: ImageShape) -> String {
    let (width, height) = match (model, shape) {
        (model, _) if model.starts_with("dall-e-2") => (1024, 1024),
        (model, ImageShape::Landscape) if model.starts_with("dall-e-3") => (1792, 1024),
        (model, ImageShape::Portrait) if model.starts_with("dall-e-3") => (1024, 1792),
        (_, shape) => shape.size(),
    };
    format!("{width}x{height}")
}

#[async_trait]
impl ImageGenerator for OpenAiProvider {
    fn model(&self) -> &str {
        &self.image_model
    }

    #[tracing::instrument(skip_all, fields(model = %self.image_model))]
    async fn generate(&self, request: &ImageRequest) -> Result<GeneratedImage, AiError> {
        // `response_format` is only for DALL·E; GPT image models refuse it and answer base64.
        #[allow(deprecated)]
        let body = CreateImageRequest {
            prompt: request.prompt.clone(),
            model: ImageModel::Other(self.image_model.clone()),
            n: Some(1),
            size: Some(ImageSize::Other(image_size(&self.image_model, request.shape))),
            response_format: self.image_model.starts_with("dall-e").then_some(ImageResponseFormat::B64Json),
            ..Default::default()
        };
        let response = self
            .retry
            .run("image", || async {
                self.client.images().generate(body.clone()).await.map_err(|error| self.classify(error))
            })
            .await?;
        let image =
            response.data.first().ok_or_else(|| AiError::Malformed("the answer has no image".into()))?;
        let (bytes, revised_prompt, source_url) = match image.as_ref() {
            Image::B64Json { b64_json, revised_prompt } => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64_json.as_bytes())
                    .map_err(|error| AiError::Malformed(format!("the image is not valid base64: {error}")))?;
                (bytes, revised_prompt.clone(), None)
            }
            Image::Url { url, revised_prompt } => {
                let bytes = fetch_image(&self.http, url, self.retry.timeout).await?;
                (bytes, revised_prompt.clone(), Some(url.clone()))
            }
        };
        let mut picture = GeneratedImage::from_bytes(bytes, &self.image_model, revised_prompt)?;
        picture.source_url = source_url;
        Ok(picture)
    }
}
