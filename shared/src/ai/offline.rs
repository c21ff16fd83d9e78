//! The offline provider, used when no API key is configured: every feature keeps working,
//! deterministically and without network access, so development, tests and demos need no
//! account.
//!
//! `OfflineGenerator` answers each prompt type from the structured `ChatRequest::context`
//! the worker sent (never from the prose prompt), with JSON of the shape the built-in
//! prompt asks for; the same input always gives the same output. What it produces:
//!
//! - **auto_cluster**: each cluster is named after the most characteristic 1–3 word phrase
//!   its keywords share (frequent across the cluster's keywords, rare in the other
//!   clusters; stop words, numbers and modifiers such as best/how/what/near me/cheap are
//!   ignored), in title case and unique across clusters ("Running Shoes", then "Trail
//!   Running Shoes"). The intent is a majority vote of keyword rules: navigational (login,
//!   sign in, website, official, customer service...), transactional (buy, price, cheap,
//!   deal, coupon, near me, hire, quote, cost...), commercial (best, top, review, vs,
//!   compare, alternatives...), otherwise informational. The description names the intent
//!   and quotes up to three keywords.
//! - **generate_ideas**: `count` ideas (at most 50) cycling through eight templates
//!   (ultimate guide, tips listicle, step-by-step how-to, comparison, FAQ, review, case
//!   study, explainer page), built on the cluster name and its keywords by volume, each with
//!   target keywords, an outline of 5–7 headings and a word-count estimate.
//! - **content_generation**: an article with an `<h2>` per outline heading (split into two
//!   `<h3>` subsections when long), paragraphs from generic sentence patterns mentioning
//!   the heading and keywords, within about 15% of `word_count` words; meta title ≤ 60 and
//!   meta description ≤ 160 characters; the first keyword as primary, the rest secondary.
//! - **image_prompts**: a featured-image prompt and one prompt per heading, in varying
//!   photographic and illustration styles, always asking for no text in the image.
//! - **social_compose**: per platform, the text cut at a word boundary so that text plus
//!   hashtags fit `max_chars` (known defaults when absent); up to `max_hashtags` hashtags
//!   from the text's most repeated word pairs and words.
//! - **seo_recommendations**: one step per finding, most severe first (critical, high,
//!   medium, low, info), the finding's fix as the action and its message and severity as
//!   the reason, at most eight steps.
//!
//! `OfflineImages` draws a placeholder PNG at half the provider's size (768×512 landscape,
//! 512×768 portrait, 512×512 square): a diagonal gradient between two hues with a few soft
//! discs, all chosen by a hash of the prompt.
//!
//! Usage is estimated at four characters a token so credit logs stay meaningful; the model
//! is reported as `offline`. `OfflineEmbedder` gives hashed bag-of-words vectors: texts
//! sharing words are similar, which is enough for clustering to group keywords.

mod article;
mod cluster;
mod ideas;
mod image;
mod social;
mod text;

use async_trait::async_trait;
use serde::{Serialize, de::DeserializeOwned};

use super::{
    AiError, ChatRequest, ChatResponse, Embedder, Embeddings, PromptType, TextGenerator, TokenUsage,
    estimate_tokens,
    images::{GeneratedImage, ImageGenerator, ImageRequest},
};

// What the offline provider embeds and draws; the test kit's fake OpenAI server answers with
// the same.
pub use image::placeholder_png;
pub use text::hashed_embedding;

/// The model name offline answers report.
pub const OFFLINE_MODEL: &str = "offline";

/// Dimensions of `OfflineEmbedder` vectors.
pub const OFFLINE_DIMENSIONS: usize = 256;

/// Deterministic answers from the request context; see the module documentation.
#[derive(Clone, Copy, Debug, Default)]
pub struct OfflineGenerator;

impl OfflineGenerator {
    pub fn new() -> Self {
        Self
    }

    /// The answer's JSON text for a request, or `BadRequest` when the context does not have
    /// the shape the prompt type needs.
    pub fn answer(&self, request: &ChatRequest) -> Result<String, AiError> {
        let context = &request.context;
        let prompt_type = request.prompt_type;
        match prompt_type {
            PromptType::AutoCluster => respond(prompt_type, context, cluster::answer),
            PromptType::GenerateIdeas => respond(prompt_type, context, ideas::answer),
            PromptType::ContentGeneration => respond(prompt_type, context, article::article),
            PromptType::ImagePrompts => respond(prompt_type, context, article::image_prompts),
            PromptType::SocialCompose => respond(prompt_type, context, social::social),
            PromptType::SeoRecommendations => respond(prompt_type, context, social::seo),
        }
    }
}

fn respond<I: DeserializeOwned, O: Serialize>(
    prompt_type: PromptType,
    context: &serde_json::Value,
    build: fn(I) -> O,
) -> Result<String, AiError> {
    let input = I::deserialize(context)
        .map_err(|e| AiError::BadRequest(format!("offline {prompt_type}: unexpected context: {e}")))?;
    serde_json::to_string(&build(input))
        .map_err(|e| AiError::Malformed(format!("offline {prompt_type}: cannot serialise the answer: {e}")))
}

#[async_trait]
impl TextGenerator for OfflineGenerator {
    fn model(&self) -> &str {
        OFFLINE_MODEL
    }

    async fn chat(&self, request: ChatRequest) -> Result<ChatResponse, AiError> {
        let content = self.answer(&request)?;
        let mut prompt_tokens =
            estimate_tokens(&request.system).saturating_add(estimate_tokens(&request.user));
        if prompt_tokens == 0 {
            prompt_tokens = estimate_tokens(&request.context.to_string());
        }
        let usage = TokenUsage { prompt_tokens, completion_tokens: estimate_tokens(&content) };
        Ok(ChatResponse { content, model: OFFLINE_MODEL.to_owned(), usage })
    }
}

/// Hashed bag-of-words vectors, unit length, `OFFLINE_DIMENSIONS` long.
#[derive(Clone, Copy, Debug, Default)]
pub struct OfflineEmbedder;

impl OfflineEmbedder {
    pub fn new() -> Self {
        Self
    }
}

#[async_trait]
impl Embedder for OfflineEmbedder {
    fn model(&self) -> &str {
        OFFLINE_MODEL
    }

    async fn embed(&self, texts: &[String]) -> Result<Embeddings, AiError> {
        let vectors = texts.iter().map(|text| text::hashed_embedding(text, OFFLINE_DIMENSIONS)).collect();
        let prompt_tokens = texts.iter().map(|text| estimate_tokens(text)).fold(0u32, u32::saturating_add);
        Ok(Embeddings {
            vectors,
            model: OFFLINE_MODEL.to_owned(),
            usage: TokenUsage { prompt_tokens, completion_tokens: 0 },
        })
    }
}

/// Placeholder pictures; see the module documentation.
#[derive(Clone, Copy, Debug, Default)]
pub struct OfflineImages;

#[async_trait]
impl ImageGenerator for OfflineImages {
    fn model(&self) -> &str {
        OFFLINE_MODEL
    }

    async fn generate(&self, request: &ImageRequest) -> Result<GeneratedImage, AiError> {
        let (width, height) = image::placeholder_size(request.shape);
        let prompt = request.prompt.clone();
        // A few milliseconds of pixel work: off the async threads all the same.
        let bytes = tokio::task::spawn_blocking(move || image::placeholder_png(&prompt, width, height))
            .await
            .map_err(|error| AiError::Malformed(format!("the placeholder could not be drawn: {error}")))?;
        GeneratedImage::from_bytes(bytes, OFFLINE_MODEL, None)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::ai::{chat_json, default_prompt};

    fn request(prompt_type: PromptType, context: Value) -> ChatRequest {
        ChatRequest {
            prompt_type,
            system: default_prompt(prompt_type).to_owned(),
            user: String::new(),
            context,
            json: true,
            max_tokens: None,
            temperature: None,
        }
    }

    fn contexts() -> Vec<(PromptType, Value)> {
        vec![
            (
                PromptType::AutoCluster,
                json!({"clusters": [{"id": 0, "keywords": ["best running shoes", "running shoes for women"]}]}),
            ),
            (
                PromptType::GenerateIdeas,
                json!({"cluster_name": "Running Shoes", "cluster_description": "Shoes.",
                       "keywords": [{"keyword": "running shoes", "volume": 100}], "count": 3}),
            ),
            (
                PromptType::ContentGeneration,
                json!({"title": "Running Shoes", "keywords": ["running shoes"], "outline": ["A", "B"],
                       "tone": "professional", "word_count": 400}),
            ),
            (PromptType::ImagePrompts, json!({"title": "Running Shoes", "headings": ["A", "B"]})),
            (
                PromptType::SocialCompose,
                json!({"text": "New running shoes guide", "platforms": [{"name": "x", "max_chars": 280}],
                       "max_hashtags": 2}),
            ),
            (
                PromptType::SeoRecommendations,
                json!({"url": "https://example.com", "keywords": ["shoes"],
                       "findings": [{"id": "t", "severity": "high", "message": "No title", "fix": "Add a title"}]}),
            ),
        ]
    }

    #[tokio::test]
    async fn every_prompt_type_answers_deterministically_with_json() {
        let generator = OfflineGenerator::new();
        for (prompt_type, context) in contexts() {
            let first = generator.chat(request(prompt_type, context.clone())).await.expect("answer");
            let second = generator.chat(request(prompt_type, context)).await.expect("answer");
            assert_eq!(first.content, second.content, "{prompt_type} is not deterministic");
            assert_eq!(first.model, "offline");
            assert!(first.usage.prompt_tokens > 0 && first.usage.completion_tokens > 0);
            let value: Value = serde_json::from_str(&first.content).expect("JSON");
            let key = match prompt_type {
                PromptType::AutoCluster => "clusters",
                PromptType::GenerateIdeas => "ideas",
                PromptType::ContentGeneration => "html",
                PromptType::ImagePrompts => "in_article",
                PromptType::SocialCompose => "variants",
                PromptType::SeoRecommendations => "plan",
            };
            assert!(value.get(key).is_some(), "{prompt_type}: {value}");
        }
    }

    #[tokio::test]
    async fn chat_json_parses_offline_answers_into_types() {
        #[derive(serde::Deserialize)]
        struct Clusters {
            clusters: Vec<Named>,
        }
        #[derive(serde::Deserialize)]
        struct Named {
            id: u32,
            name: String,
            intent: String,
        }
        let (prompt_type, context) = contexts().remove(0);
        let parsed =
            chat_json::<Clusters>(&OfflineGenerator, request(prompt_type, context)).await.expect("parsed");
        assert_eq!(parsed.value.clusters[0].id, 0);
        assert_eq!(parsed.value.clusters[0].name, "Running Shoes");
        assert_eq!(parsed.value.clusters[0].intent, "commercial");
    }

    #[tokio::test]
    async fn a_context_of_the_wrong_shape_is_a_bad_request() {
        let error = OfflineGenerator
            .chat(request(PromptType::AutoCluster, json!({"groups": []})))
            .await
            .expect_err("bad context");
        assert_eq!(error.code(), "ai_bad_request");
    }

    #[tokio::test]
    async fn offline_embeddings_keep_order_and_count_tokens() {
        let texts = vec!["running shoes".to_owned(), "sourdough bread".to_owned(), String::new()];
        let out = OfflineEmbedder.embed(&texts).await.expect("vectors");
        assert_eq!(out.vectors.len(), 3);
        assert!(out.vectors.iter().all(|v| v.len() == OFFLINE_DIMENSIONS));
        assert_eq!(out.vectors[0], text::hashed_embedding("running shoes", OFFLINE_DIMENSIONS));
        assert_eq!(out.usage.prompt_tokens, 4 + 4);
    }
}
