//! The account's image providers: `GET system/integrations/image_generation/` lists them
//! (OpenAI, Runware, offline) with their models, which have a key and which one draws; `POST
//! system/settings/integrations/{openai|runware|image_generation}/generate/` draws one test
//! picture through a provider and answers it directly, as the seed does (`image_url`).

use actix_web::{HttpResponse, get, post, web};
use base64::Engine;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use shared::{
    ai::{
        AiError, GeneratedImage, ImageRequest, ImageShape,
        image_providers::{
            IMAGE_GENERATION, ImageAccess, ImageModel, ImageProvider, KeySource, RUNWARE, Stored,
        },
        resolve::OPENAI,
    },
    billing::{self, Charge, Operation},
};
use utoipa::ToSchema;

use super::IntegrationTypePath;
use crate::{
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{Admin, ApiJson, AuthUser, Validate},
    response::{self, Flat},
    state::AppState,
    validation,
};

/// A test picture waits at most this long, whatever the provider's configured timeout.
const TEST_TIMEOUT_SECS: u64 = 90;

async fn load(state: &AppState, account_id: i64, stored: Stored) -> Result<ImageAccess, ApiError> {
    let (secret_box, server) = (state.config.secret_box.clone(), state.config.ai.clone());
    state.db(move |conn| ImageAccess::load(conn, &secret_box, &server, account_id, stored)).await
}

/// One provider as the catalogue shows it.
#[derive(Clone, Serialize, ToSchema)]
struct ProviderView {
    provider: ImageProvider,
    /// Whether it has a key (offline always does).
    configured: bool,
    /// Where the key comes from; null without one.
    key_source: Option<KeySource>,
    /// Whether the account's images are drawn with it.
    active: bool,
    /// The model it draws with unless asked for another.
    default_model: String,
    models: Vec<ImageModel>,
}

/// The image providers and the account's choice; read at the top level (as the seed's
/// clients do) and under `data`.
#[derive(Clone, Serialize, ToSchema)]
struct Catalogue {
    /// Every provider: `openai`, `runware`, `offline`.
    providers: Vec<ImageProvider>,
    /// The providers with a key, which can draw now.
    available_providers: Vec<ImageProvider>,
    /// Each provider's listed model ids (OpenAI also takes other `gpt-image-*`/`dall-e-*`
    /// models, Runware any AIR id).
    #[schema(value_type = Object)]
    models: serde_json::Map<String, serde_json::Value>,
    /// The provider the account's images are drawn with, and its model.
    provider: ImageProvider,
    model: String,
    /// The account's style word, if any.
    image_type: Option<String>,
    /// In-article images per article for `writer/images/auto_generate/`.
    max_in_article_images: u32,
    details: Vec<ProviderView>,
}

/// The image providers, their models, which have a key for this account (its own saved
/// integration or the server's) and which one draws its images.
#[utoipa::path(
    tag = "integrations",
    responses((status = 200, body = Flat<Catalogue>)),
)]
#[get("/integrations/image_generation")]
pub(super) async fn catalogue(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let access = load(&state, auth.account_id, Stored::Active).await?;
    let chosen = access.chosen();
    let details: Vec<ProviderView> = ImageProvider::ALL
        .into_iter()
        .map(|provider| ProviderView {
            provider,
            configured: access.key_source(provider).is_some(),
            key_source: access.key_source(provider),
            active: provider == chosen,
            default_model: access.model_of(provider),
            models: provider.models().to_vec(),
        })
        .collect();
    let models = details
        .iter()
        .map(|view| {
            let ids = view.models.iter().map(|model| serde_json::Value::from(model.id)).collect();
            (view.provider.as_str().to_owned(), serde_json::Value::Array(ids))
        })
        .collect();
    Ok(response::flat(Catalogue {
        providers: ImageProvider::ALL.to_vec(),
        available_providers: details
            .iter()
            .filter(|view| view.configured)
            .map(|view| view.provider)
            .collect(),
        models,
        provider: chosen,
        model: access.model_of(chosen),
        image_type: access.settings.image_type.clone(),
        max_in_article_images: access.settings.max_in_article_images,
        details,
    }))
}

/// The picture's orientation.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = ImageShapeInput)]
enum Shape {
    Landscape,
    Portrait,
    Square,
}

/// `{"prompt", "provider", "model", …}` as the seed sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ImageGenerateInput)]
struct GenerateInput {
    /// What to draw (2 to 3000 characters).
    prompt: String,
    /// Only for `image_generation/generate/` (default: the account's provider); under
    /// `openai/` or `runware/` it must be that provider if sent.
    provider: Option<ImageProvider>,
    /// Default: the provider's model for this account.
    model: Option<String>,
    /// A style word added to the prompt (default: the account's `image_type`).
    image_type: Option<String>,
    /// `square` by default; or send `size`.
    shape: Option<Shape>,
    /// `WIDTHxHEIGHT` as the seed's clients send it; only its orientation is used.
    size: Option<String>,
}

impl Validate for GenerateInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if !(2..=3000).contains(&self.prompt.trim().chars().count()) {
            validation::push(&mut errors, "prompt", "Must be 2 to 3000 characters.");
        }
        validation::optional_text(&mut errors, "image_type", self.image_type.as_deref(), 100);
        if self.size.as_deref().is_some_and(|size| size_shape(size).is_none()) {
            validation::push(&mut errors, "size", "Must be WIDTHxHEIGHT, e.g. 1024x1024.");
        }
        if self.shape.is_some() && self.size.is_some() {
            validation::push(&mut errors, "size", "Send shape or size, not both.");
        }
        validation::finish(errors)
    }
}

fn size_shape(size: &str) -> Option<ImageShape> {
    let (width, height) = size.split_once(['x', 'X'])?;
    let (width, height): (u32, u32) = (width.trim().parse().ok()?, height.trim().parse().ok()?);
    (width > 0 && height > 0).then(|| match width.cmp(&height) {
        std::cmp::Ordering::Greater => ImageShape::Landscape,
        std::cmp::Ordering::Less => ImageShape::Portrait,
        std::cmp::Ordering::Equal => ImageShape::Square,
    })
}

impl GenerateInput {
    fn shape(&self) -> ImageShape {
        match (self.shape, self.size.as_deref().and_then(size_shape)) {
            (Some(Shape::Landscape), _) => ImageShape::Landscape,
            (Some(Shape::Portrait), _) => ImageShape::Portrait,
            (Some(Shape::Square), _) | (None, None) => ImageShape::Square,
            (None, Some(shape)) => shape,
        }
    }

    /// The provider the path and the body name together: 400 naming the field that is wrong.
    fn provider(&self, integration_type: &str, access: &ImageAccess) -> Result<ImageProvider, ApiError> {
        let fixed = match integration_type {
            OPENAI => Some(ImageProvider::Openai),
            RUNWARE => Some(ImageProvider::Runware),
            IMAGE_GENERATION => None,
            other => {
                return Err(ApiError::field(
                    "integration_type",
                    format!("{other} does not draw images; use openai, runware or image_generation."),
                ));
            }
        };
        match (fixed, self.provider) {
            (Some(fixed), Some(asked)) if asked != fixed => Err(ApiError::field(
                "provider",
                format!("This is the {} integration; send {0} or leave provider out.", fixed.as_str()),
            )),
            (Some(fixed), _) => Ok(fixed),
            (None, asked) => Ok(asked.unwrap_or_else(|| access.chosen())),
        }
    }
}

/// A test picture: where to see it, and what drew it.
#[derive(Clone, Serialize, ToSchema)]
struct TestImage {
    /// The provider's URL of the picture when it hosts one (Runware), else the picture itself
    /// as a `data:` URL.
    image_url: String,
    provider: ImageProvider,
    model: String,
    mime_type: String,
    width: u32,
    height: u32,
    /// The prompt as the provider rewrote it, when it says.
    revised_prompt: Option<String>,
    /// What the provider says it cost, when it says (Runware), in US dollars.
    #[schema(value_type = Option<String>)]
    cost_usd: Option<Decimal>,
    credits_charged: i64,
}

/// Draws one test picture through the provider (admin or owner): `openai/` and `runware/`
/// use that provider with its saved settings (switched off counts: testing comes first) or
/// the server's key; `image_generation/` the `provider` sent or the account's. One image's
/// credits are charged. 409 `integration_not_connected` without a key; 400 naming `model` or
/// `prompt` when the provider refuses them; 502 with the provider's code (`ai_auth_failed`,
/// `ai_timeout`, …) when it fails.
#[utoipa::path(
    tag = "integrations",
    params(IntegrationTypePath),
    request_body = GenerateInput,
    responses(
        (status = 200, body = Flat<TestImage>),
        (status = 400, description = "A field is invalid, or the provider refused the model or prompt.", body = ErrorBody),
        (status = 402, description = "Not enough credits.", body = ErrorBody),
        (status = 403, description = "Admins and owners only.", body = ErrorBody),
        (status = 409, description = "The provider has no API key.", body = ErrorBody),
        (status = 502, description = "The provider failed or refused the key.", body = ErrorBody),
    ),
)]
#[post("/settings/integrations/{integration_type}/generate")]
pub(super) async fn generate(
    state: web::Data<AppState>,
    auth: Admin,
    path: web::Path<String>,
    body: ApiJson<GenerateInput>,
) -> Result<HttpResponse, ApiError> {
    let (input, account_id) = (body.0, auth.account_id);
    let access = load(&state, account_id, Stored::Any).await?;
    let provider = input.provider(&path, &access)?;
    if let Some(model) = input.model.as_deref()
        && !provider.accepts_model(model)
    {
        return Err(ApiError::field("model", format!("Must be {}.", provider.model_rule())));
    }
    if access.key_source(provider).is_none() {
        return Err(ApiError::conflict(
            "integration_not_connected",
            "config.apiKey",
            format!("Save an API key for {} before generating a test image.", provider.as_str()),
        ));
    }
    let credits = Operation::Images.cost(1);
    state.db(move |conn| billing::ensure_affordable(conn, account_id, credits)).await?;

    let access = access.for_a_test(std::time::Duration::from_secs(TEST_TIMEOUT_SECS));
    let generator = access
        .generator(provider, input.model.as_deref())
        .map_err(|error| ApiError::field("config", error.to_string()))?;
    let style = input.image_type.as_deref().or(access.settings.image_type.as_deref());
    let prompt = match style {
        Some(style) => format!("{} Style: {style}.", input.prompt.trim()),
        None => input.prompt.trim().to_owned(),
    };
    let picture = generator
        .generate(&ImageRequest { prompt, shape: input.shape() })
        .await
        .map_err(|error| provider_error(provider, error))?;

    let charge = Charge {
        account_id,
        operation: Operation::Images,
        units: 1,
        task_id: None,
        model: picture.model.clone(),
        usage: Default::default(),
        related: Some(("integration", provider.as_str().to_owned())),
        cost_usd: picture.cost_usd,
    };
    let credits_charged = charge.credits();
    state.db(move |conn| billing::charge(conn, &charge).map(|_| ())).await?;
    Ok(response::flat(answer(provider, picture, credits_charged)))
}

fn answer(provider: ImageProvider, picture: GeneratedImage, credits_charged: i64) -> TestImage {
    let mime_type = picture.format.mime_type().to_owned();
    let image_url = picture.source_url.clone().unwrap_or_else(|| {
        let encoded = base64::engine::general_purpose::STANDARD.encode(&picture.bytes);
        format!("data:{mime_type};base64,{encoded}")
    });
    TestImage {
        image_url,
        provider,
        model: picture.model,
        mime_type,
        width: picture.width,
        height: picture.height,
        revised_prompt: picture.revised_prompt,
        cost_usd: picture.cost_usd,
        credits_charged,
    }
}

/// A provider's failure as the caller's answer: what the request got wrong is a 400 naming
/// the field, everything else the provider's failure (502) with its code.
fn provider_error(provider: ImageProvider, error: AiError) -> ApiError {
    tracing::info!(provider = provider.as_str(), code = error.code(), %error, "test image failed");
    match &error {
        AiError::BadRequest(message) => {
            let field = if message.to_ascii_lowercase().contains("model") { "model" } else { "prompt" };
            ApiError::field(field, format!("{} refused it: {message}", provider.as_str()))
        }
        AiError::Config(message) => ApiError::field("config", message.clone()),
        _ => ApiError::BadGateway { code: error.code(), message: error.to_string() },
    }
}
