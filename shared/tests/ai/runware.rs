//! The real `RunwareProvider` against the fake Runware (`testkit::runware`) over loopback:
//! the task it sends, the picture and cost it reads back, its errors and its retries.

use std::time::Duration;

use rust_decimal::Decimal;
use shared::{
    ai::{
        AiError, ImageGenerator, ImageRequest, ImageShape, RunwareProvider, RunwareSettings,
        images::ImageFormat,
    },
    net::OutboundGuard,
};
use testkit::runware::{Failure, FakeRunware};

async fn setup(adjust: impl FnOnce(&mut RunwareSettings)) -> (FakeRunware, RunwareProvider) {
    shared::telemetry::init_for_tests();
    let fake = FakeRunware::start().await;
    let mut settings = fake.settings();
    adjust(&mut settings);
    let provider = RunwareProvider::new(settings).expect("provider");
    (fake, provider)
}

fn landscape(prompt: &str) -> ImageRequest {
    ImageRequest { prompt: prompt.to_owned(), shape: ImageShape::Landscape }
}

#[tokio::test]
async fn runware_image_inference_sends_one_task_and_reads_the_picture_and_its_cost() {
    let (fake, provider) = setup(|_| {}).await;
    let picture = provider.generate(&landscape("A lighthouse at dawn")).await.expect("a picture");
    assert_eq!(picture.format, ImageFormat::Png);
    // The fake draws at an eighth of the size asked for.
    assert_eq!((picture.width, picture.height), (1536 / 8, 1024 / 8));
    assert_eq!(picture.model, "runware:100@1");
    assert_eq!(picture.cost_usd, Some(Decimal::new(13, 4)), "read digit for digit, never via f64");
    let url = picture.source_url.expect("the hosted picture's URL");
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with(".png"), "{url}");

    let tasks = fake.tasks();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    let task = &tasks[0];
    assert_eq!(task["taskType"], "imageInference");
    assert!(uuid::Uuid::parse_str(task["taskUUID"].as_str().expect("uuid")).is_ok());
    assert_eq!(task["positivePrompt"], "A lighthouse at dawn");
    assert_eq!((task["width"].as_u64(), task["height"].as_u64()), (Some(1536), Some(1024)));
    assert_eq!(task["numberResults"], 1);
    assert_eq!(task["outputType"], "URL");
    assert_eq!(task["includeCost"], true);
    assert!(fake.requests().iter().all(|request| request.method != "POST" || request.authorized));
}

#[tokio::test]
async fn runware_bad_key_and_invalid_model_fail_at_once_without_retries() {
    let (fake, provider) = setup(|settings| settings.api_key = "rw-wrong".to_owned().into()).await;
    let error = provider.generate(&landscape("A lighthouse")).await.expect_err("refused");
    assert!(matches!(error, AiError::Auth(ref message) if message.contains("invalidApiKey")), "{error:?}");
    assert_eq!(error.code(), "ai_auth_failed");
    assert_eq!(fake.requests().len(), 1, "a bad key is never retried");

    let (fake, provider) = setup(|settings| settings.model = "civitai:1@1".to_owned()).await;
    let error = provider.generate(&landscape("A lighthouse")).await.expect_err("refused");
    assert!(
        matches!(error, AiError::BadRequest(ref message) if message.contains("invalidModel")),
        "{error:?}"
    );
    assert_eq!(fake.requests().len(), 1);

    let (_fake, provider) = setup(|_| {}).await;
    let error = provider.generate(&landscape("A")).await.expect_err("a one-letter prompt");
    assert!(matches!(error, AiError::BadRequest(ref m) if m.contains("positivePrompt")), "{error:?}");
}

#[tokio::test]
async fn runware_outages_are_retried_a_bounded_number_of_times() {
    let (fake, provider) = setup(|_| {}).await;
    fake.push_failure(Failure::ServerError);
    fake.push_failure(Failure::RateLimited { retry_after_secs: 0 });
    provider.generate(&landscape("A lighthouse")).await.expect("the third attempt draws");
    assert_eq!(fake.tasks().len(), 3);

    let (fake, provider) = setup(|settings| settings.max_retries = 1).await;
    for _ in 0..3 {
        fake.push_failure(Failure::ServerError);
    }
    let error = provider.generate(&landscape("A lighthouse")).await.expect_err("still down");
    assert!(matches!(error, AiError::Server { status: 500, .. }), "{error:?}");
    assert!(error.is_retryable(), "the task runtime retries later");
    assert_eq!(fake.tasks().len(), 2, "one attempt and one retry");

    let (fake, provider) = setup(|settings| {
        settings.timeout = Duration::from_millis(300);
        settings.max_retries = 0;
    })
    .await;
    fake.push_failure(Failure::Slow(Duration::from_secs(2)));
    let error = provider.generate(&landscape("A lighthouse")).await.expect_err("too slow");
    assert!(matches!(error, AiError::Timeout(_)), "{error:?}");
}

#[tokio::test]
async fn runware_answers_that_cannot_be_used_are_errors_with_codes() {
    let (fake, provider) = setup(|_| {}).await;
    fake.push_failure(Failure::NoResult);
    let error = provider.generate(&landscape("A lighthouse")).await.expect_err("no result");
    assert_eq!(error.code(), "ai_malformed_response", "{error:?}");

    fake.push_failure(Failure::BrokenImageUrl);
    let error = provider.generate(&landscape("A lighthouse")).await.expect_err("no picture");
    assert_eq!(error.code(), "ai_malformed_response", "{error:?}");

    fake.push_failure(Failure::InsufficientCredits);
    let error = provider.generate(&landscape("A lighthouse")).await.expect_err("no credit");
    assert!(matches!(error, AiError::Auth(ref m) if m.contains("insufficientCredits")), "{error:?}");
}

#[tokio::test]
async fn runware_settings_that_cannot_work_are_refused_before_any_request() {
    let refused = |settings: RunwareSettings| match RunwareProvider::new(settings) {
        Err(AiError::Config(message)) => message,
        other => panic!("expected a configuration error, got {other:?}"),
    };
    assert!(refused(RunwareSettings { model: "flux".into(), ..RunwareSettings::new("k") }).contains("flux"));
    assert!(refused(RunwareSettings::new("bad key")).contains("header"));
    assert!(
        refused(RunwareSettings { base_url: "api.runware.ai".into(), ..RunwareSettings::new("k") })
            .contains("http")
    );
    // A tenant's base URL inside the network is refused before connecting.
    let guarded = RunwareSettings {
        base_url: "http://10.0.0.7/v1".into(),
        outbound_guard: Some(OutboundGuard::from_list("")),
        ..RunwareSettings::new("k")
    };
    refused(guarded);
}
