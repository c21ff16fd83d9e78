//! `RunwareProvider`: images through Runware's REST API. One `POST {base_url}` carries a JSON
//! array of tasks; we send one `imageInference` task with a fresh `taskUUID` and read back the
//! result with that UUID: `{"data": [{"taskUUID", "imageURL", "cost", …}]}`, or
//! `{"errors": [{"code", "message", "parameter", "taskUUID"}]}` with an error status (401 for
//! a bad key, 400 for an invalid model or size). The picture is then fetched from its URL with
//! the same client, and its type and size read from the bytes.
//!
//! Timeouts and bounded retries are the OpenAI client's (`super::retry`); error statuses map
//! onto `AiError` the same way (`super::openai::transport::HttpFailure`).

use std::{str::FromStr, time::Duration};

use async_trait::async_trait;
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    AiError,
    http::provider_client,
    images::{GeneratedImage, ImageGenerator, ImageRequest, fetch_image},
    openai::transport::{HttpFailure, classify_reqwest, parse_retry_after, truncate},
    retry::RetryPolicy,
};
use crate::net::{GuardedClient, OutboundGuard, SendError};

pub const RUNWARE_BASE_URL: &str = "https://api.runware.ai/v1";
/// FLUX.1 [schnell]: quick and cheap, Runware's own example model.
pub const RUNWARE_DEFAULT_MODEL: &str = "runware:100@1";

/// Where and how to reach Runware.
#[derive(Clone, Debug)]
pub struct RunwareSettings {
    pub api_key: SecretString,
    /// `https://api.runware.ai/v1`, or a fake's URL in tests.
    pub base_url: String,
    /// An AIR model id (`runware:100@1`, `civitai:4384@128713`).
    pub model: String,
    /// Per attempt, connection to last byte (the picture's download included).
    pub timeout: Duration,
    /// Attempts after the first for a retryable failure (timeouts, 429, 5xx, unreachable).
    pub max_retries: u32,
    pub retry_base_delay: Duration,
    /// Set for base URLs a tenant chose (see `OpenAiSettings::outbound_guard`).
    pub outbound_guard: Option<OutboundGuard>,
}

impl Default for RunwareSettings {
    fn default() -> Self {
        Self {
            api_key: SecretString::from(String::new()),
            base_url: RUNWARE_BASE_URL.to_owned(),
            model: RUNWARE_DEFAULT_MODEL.to_owned(),
            timeout: Duration::from_secs(60),
            max_retries: 3,
            retry_base_delay: Duration::from_millis(500),
            outbound_guard: None,
        }
    }
}

impl RunwareSettings {
    /// The defaults (Runware itself) with this key.
    pub fn new(api_key: impl Into<String>) -> Self {
        Self { api_key: SecretString::from(api_key.into()), ..Self::default() }
    }
}

/// Whether `model` is written as Runware's AIR ids are: `source:id@version`.
pub fn is_air_id(model: &str) -> bool {
    let Some((source, rest)) = model.split_once(':') else { return false };
    let Some((id, version)) = rest.split_once('@') else { return false };
    let word = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    word(source) && word(id) && word(version) && model.len() <= 100
}

#[derive(Clone, Debug)]
pub struct RunwareProvider {
    http: GuardedClient,
    base_url: String,
    api_key: SecretString,
    model: String,
    retry: RetryPolicy,
}

/// One `imageInference` task as Runware reads it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InferenceTask<'a> {
    task_type: &'static str,
    #[serde(rename = "taskUUID")]
    task_uuid: Uuid,
    positive_prompt: &'a str,
    model: &'a str,
    width: u32,
    height: u32,
    number_results: u8,
    output_type: &'static str,
    include_cost: bool,
}

#[derive(Deserialize, Default)]
struct Answer {
    #[serde(default)]
    data: Vec<TaskResult>,
    #[serde(default)]
    errors: Vec<TaskProblem>,
}

#[derive(Deserialize)]
struct TaskResult {
    #[serde(rename = "taskUUID")]
    task_uuid: Option<Uuid>,
    #[serde(rename = "imageURL")]
    image_url: Option<String>,
    /// A JSON number read exactly as written (never through f64).
    cost: Option<serde_json::Number>,
}

#[derive(Deserialize)]
struct TaskProblem {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    parameter: Option<String>,
}

impl TaskProblem {
    fn describe(&self) -> String {
        let mut text = match (&self.code, &self.message) {
            (code, message) if code.is_empty() => message.clone(),
            (code, message) if message.is_empty() => code.clone(),
            (code, message) => format!("{code}: {message}"),
        };
        if let Some(parameter) = self.parameter.as_deref().filter(|p| !text.contains(p)) {
            text.push_str(&format!(" (parameter `{parameter}`)"));
        }
        truncate(&text)
    }
}

impl RunwareProvider {
    /// Checks the settings and builds the HTTP client; sends nothing.
    pub fn new(settings: RunwareSettings) -> Result<Self, AiError> {
        let (base_url, http) = provider_client(
            &settings.base_url,
            &settings.api_key,
            settings.timeout,
            settings.outbound_guard.as_ref(),
        )?;
        if !is_air_id(&settings.model) {
            return Err(AiError::Config(format!(
                "`{}` is not a Runware model id (`source:id@version`)",
                settings.model
            )));
        }
        Ok(Self {
            http,
            base_url,
            api_key: settings.api_key,
            model: settings.model,
            retry: RetryPolicy {
                timeout: settings.timeout,
                max_retries: settings.max_retries,
                base_delay: settings.retry_base_delay,
            },
        })
    }

    /// One attempt: the task sent, its result read, the picture fetched.
    async fn attempt(&self, request: &ImageRequest) -> Result<GeneratedImage, AiError> {
        let (width, height) = request.shape.size();
        let task_uuid = Uuid::new_v4();
        let task = InferenceTask {
            task_type: "imageInference",
            task_uuid,
            positive_prompt: &request.prompt,
            model: &self.model,
            width,
            height,
            number_results: 1,
            output_type: "URL",
            include_cost: true,
        };
        let call = self.http.post(&self.base_url).bearer_auth(self.api_key.expose_secret()).json(&[task]);
        let response = match self.http.send(call).await {
            Ok(response) => response,
            Err(SendError::Refused(refused)) => return Err(AiError::Config(refused.to_string())),
            Err(SendError::Http(error)) => return Err(classify_reqwest(&error, self.retry.timeout)),
        };
        let status = response.status().as_u16();
        let retry_after = parse_retry_after(response.headers(), std::time::SystemTime::now());
        let body = response.text().await.map_err(|error| classify_reqwest(&error, self.retry.timeout))?;
        let answer: Answer = serde_json::from_str(&body).unwrap_or_default();
        let first_problem = answer.errors.first();
        if !(200..300).contains(&status) {
            let failure = HttpFailure {
                status,
                message: first_problem.map_or_else(|| truncate(body.trim()), TaskProblem::describe),
                code: first_problem.map(|problem| problem.code.clone()),
                retry_after,
            };
            return Err(failure.into_ai_error(self.retry.timeout));
        }
        let Some(result) = answer.data.into_iter().find(|item| item.task_uuid == Some(task_uuid)) else {
            return Err(match first_problem {
                // An error answered with a success status is still the request's fault.
                Some(problem) => AiError::BadRequest(problem.describe()),
                None => AiError::Malformed(format!("no result for task {task_uuid}")),
            });
        };
        let url = result.image_url.ok_or_else(|| AiError::Malformed("the result has no imageURL".into()))?;
        let bytes = fetch_image(&self.http, &url, self.retry.timeout).await?;
        let mut image = GeneratedImage::from_bytes(bytes, &self.model, None)?;
        image.cost_usd = result.cost.and_then(|cost| exact_decimal(&cost));
        image.source_url = Some(url);
        Ok(image)
    }
}

/// A JSON number as a decimal, digit for digit (`0.0013` stays 0.0013).
fn exact_decimal(number: &serde_json::Number) -> Option<Decimal> {
    let text = number.to_string();
    Decimal::from_str(&text).or_else(|_| Decimal::from_scientific(&text)).ok()
}

#[async_trait]
impl ImageGenerator for RunwareProvider {
    fn model(&self) -> &str {
        &self.model
    }

    #[tracing::instrument(skip_all, fields(provider = "runware", model = %self.model))]
    async fn generate(&self, request: &ImageRequest) -> Result<GeneratedImage, AiError> {
        self.retry.run("runware_image", || self.attempt(request)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn air_ids_are_source_id_and_version() {
        for ok in ["runware:100@1", "runware:97@2", "civitai:4384@128713"] {
            assert!(is_air_id(ok), "{ok}");
        }
        for bad in ["", "dall-e-3", "runware:100", "runware@1", ":1@1", "runware:1@", "run ware:1@1"] {
            assert!(!is_air_id(bad), "{bad}");
        }
    }

    #[test]
    fn costs_are_read_digit_for_digit() {
        let number: serde_json::Number = serde_json::from_str("0.0013").expect("number");
        assert_eq!(exact_decimal(&number), Some(Decimal::new(13, 4)));
        let number: serde_json::Number = serde_json::from_str("1.3e-3").expect("number");
        assert_eq!(exact_decimal(&number), Some(Decimal::new(13, 4)));
    }

    #[test]
    fn the_task_is_written_as_runware_reads_it() {
        let task = InferenceTask {
            task_type: "imageInference",
            task_uuid: Uuid::nil(),
            positive_prompt: "a lighthouse",
            model: RUNWARE_DEFAULT_MODEL,
            width: 1024,
            height: 1024,
            number_results: 1,
            output_type: "URL",
            include_cost: true,
        };
        let value = serde_json::to_value(&task).expect("json");
        for field in ["taskType", "taskUUID", "positivePrompt", "numberResults", "outputType", "includeCost"]
        {
            assert!(value.get(field).is_some(), "{field} in {value}");
        }
    }
}
