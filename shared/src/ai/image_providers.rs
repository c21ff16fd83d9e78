//! Which image provider draws for an account, with which model: the catalogue of providers
//! (OpenAI, Runware, offline) and their models, the account's `image_generation` settings
//! (provider, model, how many in-article images), and where each provider's key comes from
//! (the account's own integration, else the server's environment).
//!
//! With no choice saved, the first provider with a key draws (OpenAI, then Runware), else the
//! offline one, so a fresh machine still makes pictures. A provider chosen but without a key
//! is a configuration error, never a silent switch to another provider.

use std::{sync::Arc, time::Duration};

use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    AiConfig, AiError, ImageGenerator, OfflineImages, OpenAiProvider, OpenAiSettings, RunwareProvider,
    RunwareSettings, resolve,
    runware::{self, RUNWARE_DEFAULT_MODEL},
};
use crate::{
    Result,
    crypto::SecretBox,
    integrations::{self, Integration},
};

/// The integration type of an account's image settings (it has no API key of its own).
pub const IMAGE_GENERATION: &str = "image_generation";
pub const RUNWARE: &str = "runware";
/// In-article images per article when the account has not said.
pub const DEFAULT_IN_ARTICLE_IMAGES: u32 = 2;
pub const MAX_IN_ARTICLE_IMAGES: u32 = 10;

/// An image provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImageProvider {
    Openai,
    Runware,
    Offline,
}

/// A model of the catalogue.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
pub struct ImageModel {
    pub id: &'static str,
    pub name: &'static str,
}

const OPENAI_MODELS: &[ImageModel] = &[
    ImageModel { id: "gpt-image-1-mini", name: "GPT Image 1 mini" },
    ImageModel { id: "gpt-image-1", name: "GPT Image 1" },
    ImageModel { id: "dall-e-3", name: "DALL·E 3" },
    ImageModel { id: "dall-e-2", name: "DALL·E 2" },
];
const RUNWARE_MODELS: &[ImageModel] = &[
    ImageModel { id: RUNWARE_DEFAULT_MODEL, name: "FLUX.1 [schnell]" },
    ImageModel { id: "runware:101@1", name: "FLUX.1 [dev]" },
];
const OFFLINE_MODELS: &[ImageModel] = &[ImageModel { id: super::OFFLINE_MODEL, name: "Offline placeholder" }];

impl ImageProvider {
    pub const ALL: [ImageProvider; 3] =
        [ImageProvider::Openai, ImageProvider::Runware, ImageProvider::Offline];

    pub fn as_str(self) -> &'static str {
        match self {
            ImageProvider::Openai => resolve::OPENAI,
            ImageProvider::Runware => RUNWARE,
            ImageProvider::Offline => super::OFFLINE_MODEL,
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|provider| provider.as_str() == name)
    }

    /// The models listed for it (others it accepts too, see `accepts_model`).
    pub fn models(self) -> &'static [ImageModel] {
        match self {
            ImageProvider::Openai => OPENAI_MODELS,
            ImageProvider::Runware => RUNWARE_MODELS,
            ImageProvider::Offline => OFFLINE_MODELS,
        }
    }

    /// Whether it can be asked for `model`: OpenAI's GPT image and DALL·E families, any
    /// Runware AIR id (`source:id@version`), `offline`.
    pub fn accepts_model(self, model: &str) -> bool {
        match self {
            ImageProvider::Openai => model.starts_with("gpt-image-") || model.starts_with("dall-e-"),
            ImageProvider::Runware => runware::is_air_id(model),
            ImageProvider::Offline => model == super::OFFLINE_MODEL,
        }
    }

    /// What `accepts_model` takes, for a 400's sentence.
    pub fn model_rule(self) -> &'static str {
        match self {
            ImageProvider::Openai => "an OpenAI image model (gpt-image-* or dall-e-*)",
            ImageProvider::Runware => "a Runware model id (source:id@version, e.g. runware:100@1)",
            ImageProvider::Offline => "offline",
        }
    }
}

/// Where a provider's key comes from for an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeySource {
    /// The account's own saved integration.
    Account,
    /// The server's environment (`OPENAI_API_KEY`, `RUNWARE_API_KEY`).
    Server,
    /// Needs no key (offline).
    Builtin,
}

/// The account's `image_generation` settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageSettings {
    /// `None`: the first provider with a key.
    pub provider: Option<ImageProvider>,
    /// For the chosen provider; `None`: its configured model.
    pub model: Option<String>,
    /// A style word added to every prompt (`realistic`, `illustration`…).
    pub image_type: Option<String>,
    pub max_in_article_images: u32,
}

impl ImageSettings {
    pub fn from_integration(integration: Option<&Integration>) -> Self {
        let Some(integration) = integration else {
            return Self { max_in_article_images: DEFAULT_IN_ARTICLE_IMAGES, ..Self::default() };
        };
        let count = integration.number("max_in_article_images").map_or(DEFAULT_IN_ARTICLE_IMAGES, |n| {
            if n.is_finite() && n >= 0.0 {
                (n as u32).min(MAX_IN_ARTICLE_IMAGES)
            } else {
                DEFAULT_IN_ARTICLE_IMAGES
            }
        });
        Self {
            provider: integration.text("provider").and_then(ImageProvider::parse),
            model: integration.text("model").map(str::to_owned),
            image_type: integration.text("image_type").map(str::to_owned),
            max_in_article_images: count,
        }
    }

    /// The account's saved settings, or the defaults. Read even when switched off: they hold
    /// no key, and "off" means nothing else for them.
    pub fn for_account(conn: &mut PgConnection, secret_box: &SecretBox, account_id: i64) -> Result<Self> {
        Ok(match integrations::find(conn, account_id, IMAGE_GENERATION)? {
            Some(row) => Self::from_integration(Some(&integrations::open(secret_box, row)?)),
            None => Self::from_integration(None),
        })
    }

    /// `prompt` with the account's style, if it has one.
    pub fn styled(&self, prompt: &str) -> String {
        match &self.image_type {
            Some(style) => format!("{prompt} Style: {style}."),
            None => prompt.to_owned(),
        }
    }
}

/// Which stored integrations count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    /// Only switched-on integrations (what tasks draw with).
    Active,
    /// Saved but switched off too (a test generation comes before switching on).
    Any,
}

/// What an account can draw with: each provider's settings and where its key came from, and
/// the account's image settings.
#[derive(Clone, Debug)]
pub struct ImageAccess {
    openai: Option<(OpenAiSettings, KeySource)>,
    runware: Option<(RunwareSettings, KeySource)>,
    pub settings: ImageSettings,
}

/// Settings for Runware from an account's integration over the server's (or built-in)
/// defaults; `None` when it has no key. A base URL the tenant saved is guarded.
pub fn runware_settings_from(integration: &Integration, server: &AiConfig) -> Option<RunwareSettings> {
    let api_key = integration.api_key.clone()?;
    let mut settings = server.runware.clone().unwrap_or_default();
    settings.api_key = api_key;
    settings.outbound_guard = Some(server.outbound.clone());
    if let Some(base_url) = integration.text("base_url") {
        settings.base_url = base_url.to_owned();
    }
    if let Some(model) = integration.text("model") {
        settings.model = model.to_owned();
    }
    if let Some(secs) = integration.number("timeout_secs").filter(|secs| *secs >= 1.0) {
        settings.timeout = Duration::from_secs_f64(secs);
    }
    Some(settings)
}

impl ImageAccess {
    /// Reads the account's integrations (openai, runware, image_generation) in one visit.
    pub fn load(
        conn: &mut PgConnection,
        secret_box: &SecretBox,
        server: &AiConfig,
        account_id: i64,
        stored: Stored,
    ) -> Result<Self> {
        let mut read = |kind: &str| -> Result<Option<Integration>> {
            Ok(match (integrations::find(conn, account_id, kind)?, stored) {
                (Some(row), Stored::Any) => Some(integrations::open(secret_box, row)?),
                (Some(row), Stored::Active) if row.is_active => Some(integrations::open(secret_box, row)?),
                _ => None,
            })
        };
        let openai = read(resolve::OPENAI)?
            .and_then(|own| resolve::settings_from(&own, server))
            .map(|settings| (settings, KeySource::Account))
            .or_else(|| server.openai.clone().map(|settings| (settings, KeySource::Server)));
        let runware = read(RUNWARE)?
            .and_then(|own| runware_settings_from(&own, server))
            .map(|settings| (settings, KeySource::Account))
            .or_else(|| server.runware.clone().map(|settings| (settings, KeySource::Server)));
        let settings = ImageSettings::for_account(conn, secret_box, account_id)?;
        Ok(Self { openai, runware, settings })
    }

    /// The same access for one test call someone waits on: no retries, at most `timeout`.
    pub fn for_a_test(mut self, timeout: Duration) -> Self {
        if let Some((settings, _)) = &mut self.openai {
            settings.max_retries = 0;
            settings.timeout = settings.timeout.min(timeout);
        }
        if let Some((settings, _)) = &mut self.runware {
            settings.max_retries = 0;
            settings.timeout = settings.timeout.min(timeout);
        }
        self
    }

    /// Where `provider`'s key comes from; `None` when it has none.
    pub fn key_source(&self, provider: ImageProvider) -> Option<KeySource> {
        match provider {
            ImageProvider::Openai => self.openai.as_ref().map(|(_, source)| *source),
            ImageProvider::Runware => self.runware.as_ref().map(|(_, source)| *source),
            ImageProvider::Offline => Some(KeySource::Builtin),
        }
    }

    /// The provider the account's images are drawn with.
    pub fn chosen(&self) -> ImageProvider {
        self.settings.provider.unwrap_or_else(|| {
            [ImageProvider::Openai, ImageProvider::Runware]
                .into_iter()
                .find(|provider| self.key_source(*provider).is_some())
                .unwrap_or(ImageProvider::Offline)
        })
    }

    /// The model `provider` draws with unless asked for another: the account's image model
    /// when it chose that provider, else the provider's configured one.
    pub fn model_of(&self, provider: ImageProvider) -> String {
        if self.settings.provider == Some(provider)
            && let Some(model) = &self.settings.model
        {
            return model.clone();
        }
        match provider {
            ImageProvider::Openai => self
                .openai
                .as_ref()
                .map_or_else(|| OpenAiSettings::default().image_model, |(s, _)| s.image_model.clone()),
            ImageProvider::Runware => self
                .runware
                .as_ref()
                .map_or_else(|| RUNWARE_DEFAULT_MODEL.to_owned(), |(s, _)| s.model.clone()),
            ImageProvider::Offline => super::OFFLINE_MODEL.to_owned(),
        }
    }

    /// A client for `provider` drawing with `model` (default `model_of`); `AiError::Config`
    /// when the provider has no key.
    pub fn generator(
        &self,
        provider: ImageProvider,
        model: Option<&str>,
    ) -> Result<Arc<dyn ImageGenerator>, AiError> {
        let model = model.map_or_else(|| self.model_of(provider), str::to_owned);
        let no_key = || AiError::Config(format!("{} has no API key; save one first", provider.as_str()));
        Ok(match provider {
            ImageProvider::Openai => {
                let (mut settings, _) = self.openai.clone().ok_or_else(no_key)?;
                settings.image_model = model;
                Arc::new(OpenAiProvider::new(settings)?)
            }
            ImageProvider::Runware => {
                let (mut settings, _) = self.runware.clone().ok_or_else(no_key)?;
                settings.model = model;
                Arc::new(RunwareProvider::new(settings)?)
            }
            ImageProvider::Offline => Arc::new(OfflineImages),
        })
    }

    /// The client the account's image tasks draw with.
    pub fn account_generator(&self) -> Result<Arc<dyn ImageGenerator>, AiError> {
        self.generator(self.chosen(), None)
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;
    use serde_json::json;

    use super::*;

    fn integration(config: serde_json::Value, key: Option<&str>) -> Integration {
        let serde_json::Value::Object(config) = config else { panic!("an object") };
        Integration {
            integration_type: "x".into(),
            config,
            api_key: key.map(|key| SecretString::from(key.to_owned())),
            is_active: true,
        }
    }

    fn access(openai: bool, runware: bool, settings: ImageSettings) -> ImageAccess {
        ImageAccess {
            openai: openai.then(|| (OpenAiSettings::new("sk"), KeySource::Server)),
            runware: runware.then(|| (RunwareSettings::new("rw"), KeySource::Account)),
            settings,
        }
    }

    #[test]
    fn without_a_choice_the_first_provider_with_a_key_draws() {
        let defaults = ImageSettings::from_integration(None);
        assert_eq!(access(false, false, defaults.clone()).chosen(), ImageProvider::Offline);
        assert_eq!(access(false, true, defaults.clone()).chosen(), ImageProvider::Runware);
        assert_eq!(access(true, true, defaults).chosen(), ImageProvider::Openai);
    }

    #[test]
    fn a_chosen_provider_without_a_key_is_an_error_not_a_switch() {
        let settings = ImageSettings { provider: Some(ImageProvider::Runware), ..ImageSettings::default() };
        let access = access(true, false, settings);
        assert_eq!(access.chosen(), ImageProvider::Runware);
        assert!(matches!(access.account_generator(), Err(AiError::Config(_))));
    }

    #[test]
    fn the_accounts_model_applies_to_its_chosen_provider_only() {
        let saved = integration(
            json!({ "provider": "runware", "model": "runware:101@1", "max_in_article_images": 4 }),
            None,
        );
        let settings = ImageSettings::from_integration(Some(&saved));
        assert_eq!(settings.max_in_article_images, 4);
        let access = access(true, true, settings);
        assert_eq!(access.model_of(ImageProvider::Runware), "runware:101@1");
        assert_eq!(access.model_of(ImageProvider::Openai), "gpt-image-1-mini");
        assert_eq!(
            ImageSettings::from_integration(Some(&integration(json!({}), None))).max_in_article_images,
            2
        );
    }

    #[test]
    fn models_are_checked_per_provider() {
        assert!(ImageProvider::Openai.accepts_model("dall-e-3"));
        assert!(!ImageProvider::Openai.accepts_model("runware:100@1"));
        assert!(ImageProvider::Runware.accepts_model("civitai:4384@128713"));
        assert!(!ImageProvider::Runware.accepts_model("gpt-image-1"));
        for provider in ImageProvider::ALL {
            assert_eq!(ImageProvider::parse(provider.as_str()), Some(provider));
            assert!(provider.models().iter().all(|model| provider.accepts_model(model.id)));
        }
    }
}
