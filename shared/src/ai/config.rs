//! The AI provider's configuration, read from the environment like `crate::config`. Without
//! `OPENAI_API_KEY` the offline generator is used. Servers that need no key (a local Ollama)
//! take any non-empty placeholder.

use std::time::Duration;

use secrecy::SecretString;

use super::{OpenAiSettings, RunwareSettings};
use crate::error::{Error, Result};
use crate::net::OutboundGuard;

/// Attempts beyond this would hold a worker for minutes; the task runtime's own retries are
/// the better place for long waits.
const MAX_RETRIES_LIMIT: u32 = 10;

#[derive(Clone, Debug, Default)]
pub struct AiConfig {
    /// `None`: no key configured, answer offline.
    pub openai: Option<OpenAiSettings>,
    /// The server's own Runware key (`RUNWARE_API_KEY`); `None`: only accounts' own keys.
    pub runware: Option<RunwareSettings>,
    /// Which hosts a tenant's base URL may point at although they are not public
    /// (`OUTBOUND_ALLOWED_HOSTS`, comma-separated; empty by default).
    pub outbound: OutboundGuard,
}

impl AiConfig {
    /// Reads `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `AI_CHAT_MODEL`, `AI_EMBEDDING_MODEL`, `AI_IMAGE_MODEL`,
    /// `RUNWARE_API_KEY`, `RUNWARE_BASE_URL`, `RUNWARE_MODEL`, `AI_TIMEOUT_SECS` and
    /// `AI_MAX_RETRIES` from any variable lookup (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let lookup = |name: &str| lookup(name).map(|value| value.trim().to_owned()).filter(|v| !v.is_empty());
        let outbound = match lookup("OUTBOUND_LOOPBACK_ONLY").as_deref() {
            Some("1" | "true") => OutboundGuard::loopback_only(),
            _ => OutboundGuard::from_list(&lookup("OUTBOUND_ALLOWED_HOSTS").unwrap_or_default()),
        };
        let defaults = OpenAiSettings::default();
        let timeout_secs: u64 = parse(&lookup, "AI_TIMEOUT_SECS", defaults.timeout.as_secs())?;
        if timeout_secs == 0 {
            return Err(config_error("AI_TIMEOUT_SECS", "must be at least 1"));
        }
        let max_retries: u32 = parse(&lookup, "AI_MAX_RETRIES", defaults.max_retries)?;
        if max_retries > MAX_RETRIES_LIMIT {
            return Err(config_error("AI_MAX_RETRIES", format!("must be at most {MAX_RETRIES_LIMIT}")));
        }
        let runware = match key(&lookup, "RUNWARE_API_KEY")? {
            None => None,
            Some(api_key) => {
                let defaults = RunwareSettings::default();
                let model = lookup("RUNWARE_MODEL").unwrap_or(defaults.model);
                if !super::runware::is_air_id(&model) {
                    return Err(config_error(
                        "RUNWARE_MODEL",
                        format!("`{model}` is not `source:id@version`"),
                    ));
                }
                Some(RunwareSettings {
                    api_key,
                    base_url: http_url(&lookup, "RUNWARE_BASE_URL", defaults.base_url)?,
                    model,
                    timeout: Duration::from_secs(timeout_secs),
                    max_retries,
                    retry_base_delay: defaults.retry_base_delay,
                    outbound_guard: None,
                })
            }
        };
        let Some(api_key) = key(&lookup, "OPENAI_API_KEY")? else {
            return Ok(Self { openai: None, runware, outbound });
        };
        let base_url = http_url(&lookup, "OPENAI_BASE_URL", defaults.base_url)?;
        Ok(Self {
            runware,
            openai: Some(OpenAiSettings {
                api_key,
                base_url,
                chat_model: lookup("AI_CHAT_MODEL").unwrap_or(defaults.chat_model),
                embedding_model: lookup("AI_EMBEDDING_MODEL").unwrap_or(defaults.embedding_model),
                image_model: lookup("AI_IMAGE_MODEL").unwrap_or(defaults.image_model),
                timeout: Duration::from_secs(timeout_secs),
                max_retries,
                retry_base_delay: defaults.retry_base_delay,
                outbound_guard: None,
            }),
            outbound,
        })
    }
}

/// An API key from `name`, if set: it goes into a header, so only visible ASCII.
fn key(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Result<Option<SecretString>> {
    match lookup(name) {
        Some(key) if !key.bytes().all(|byte| byte.is_ascii_graphic()) => {
            Err(config_error(name, "contains characters not allowed in a header"))
        }
        key => Ok(key.map(SecretString::from)),
    }
}

fn http_url(lookup: &impl Fn(&str) -> Option<String>, name: &str, default: String) -> Result<String> {
    let url = lookup(name).unwrap_or(default);
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(url)
    } else {
        Err(config_error(name, format!("`{url}` is not an http(s) URL")))
    }
}

fn parse<T: std::str::FromStr>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
) -> Result<T> {
    match lookup(name) {
        Some(raw) => raw.parse().map_err(|_| config_error(name, format!("cannot parse `{raw}`"))),
        None => Ok(default),
    }
}

fn config_error(name: &str, reason: impl Into<String>) -> Error {
    Error::Config { name: name.to_owned(), reason: reason.into() }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<AiConfig> {
        let vars: HashMap<String, String> =
            vars.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect();
        AiConfig::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn no_key_means_offline() {
        assert!(read(&[]).expect("config").openai.is_none());
        assert!(read(&[("OPENAI_API_KEY", "  "), ("AI_CHAT_MODEL", "x")]).expect("config").openai.is_none());
    }

    #[test]
    fn a_key_uses_defaults_unless_overridden() {
        let settings = read(&[("OPENAI_API_KEY", "sk-test")]).expect("config").openai.expect("settings");
        assert_eq!(settings.api_key.expose_secret(), "sk-test");
        assert_eq!(settings.base_url, "https://api.openai.com/v1");
        assert_eq!(settings.chat_model, "gpt-4o-mini");
        assert_eq!(settings.embedding_model, "text-embedding-3-small");
        assert_eq!(settings.timeout, Duration::from_secs(60));
        assert_eq!(settings.max_retries, 3);

        let settings = read(&[
            ("OPENAI_API_KEY", "ollama"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1"),
            ("AI_CHAT_MODEL", "llama3.2"),
            ("AI_EMBEDDING_MODEL", "nomic-embed-text"),
            ("AI_TIMEOUT_SECS", "120"),
            ("AI_MAX_RETRIES", "0"),
        ])
        .expect("config")
        .openai
        .expect("settings");
        assert_eq!(settings.base_url, "http://127.0.0.1:11434/v1");
        assert_eq!(settings.chat_model, "llama3.2");
        assert_eq!(settings.embedding_model, "nomic-embed-text");
        assert_eq!(settings.timeout, Duration::from_secs(120));
        assert_eq!(settings.max_retries, 0);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let name = |vars: &[(&str, &str)]| match read(vars) {
            Err(Error::Config { name, .. }) => name,
            other => panic!("expected a config error, got {other:?}"),
        };
        assert_eq!(name(&[("OPENAI_API_KEY", "k"), ("AI_TIMEOUT_SECS", "soon")]), "AI_TIMEOUT_SECS");
        assert_eq!(name(&[("OPENAI_API_KEY", "k"), ("AI_TIMEOUT_SECS", "0")]), "AI_TIMEOUT_SECS");
        assert_eq!(name(&[("OPENAI_API_KEY", "k"), ("AI_MAX_RETRIES", "99")]), "AI_MAX_RETRIES");
        assert_eq!(
            name(&[("OPENAI_API_KEY", "k"), ("OPENAI_BASE_URL", "api.openai.com")]),
            "OPENAI_BASE_URL"
        );
        assert_eq!(name(&[("OPENAI_API_KEY", "bad key")]), "OPENAI_API_KEY");
        assert_eq!(name(&[("RUNWARE_API_KEY", "k"), ("RUNWARE_MODEL", "flux")]), "RUNWARE_MODEL");
        assert_eq!(name(&[("RUNWARE_API_KEY", "k"), ("RUNWARE_BASE_URL", "runware.ai")]), "RUNWARE_BASE_URL");
    }

    #[test]
    fn a_runware_key_configures_runware_alone() {
        let config = read(&[("RUNWARE_API_KEY", "rw-test")]).expect("config");
        assert!(config.openai.is_none());
        let runware = config.runware.expect("runware");
        assert_eq!(runware.api_key.expose_secret(), "rw-test");
        assert_eq!(runware.base_url, "https://api.runware.ai/v1");
        assert_eq!(runware.model, "runware:100@1");
    }
}
