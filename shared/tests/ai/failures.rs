use std::time::{Duration, Instant, SystemTime};

use shared::ai::{AiError, Embedder, OpenAiProvider, TextGenerator};
use testkit::openai::{Failure, RetryAfter};

use crate::helpers::{request, setup};

const CHAT: &str = "/v1/chat/completions";

#[tokio::test]
async fn rate_limit_waits_for_retry_after_then_succeeds() {
    let (fake, provider) = setup(|_| {}).await;
    fake.push_failure(Failure::RateLimited { retry_after: Some(RetryAfter::Seconds(1)) });

    let response = provider.chat(request("hi", false)).await.expect("second attempt succeeds");

    assert_eq!(response.content, "hi");
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let waited = requests[1].at - requests[0].at;
    assert!(waited >= Duration::from_secs(1), "waited only {waited:?}");
    assert!(waited < Duration::from_millis(1_500), "waited {waited:?}");
}

#[tokio::test]
async fn rate_limit_as_an_http_date_is_honoured() {
    let (fake, provider) = setup(|_| {}).await;
    let at = SystemTime::now() + Duration::from_secs(1);
    fake.push_failure(Failure::RateLimited { retry_after: Some(RetryAfter::Date(at)) });
    provider.chat(request("hi", false)).await.expect("second attempt succeeds");
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    // The date has whole seconds, so the wait is up to one second, never the 10 ms backoff
    // plus a second or more.
    assert!(requests[1].at - requests[0].at < Duration::from_millis(1_300));
}

#[tokio::test]
async fn endless_rate_limits_end_with_rate_limited_after_max_retries() {
    let (fake, provider) = setup(|s| s.max_retries = 2).await;
    fake.push_failures(Failure::RateLimited { retry_after: Some(RetryAfter::Millis(20)) }, 100);

    let error = provider.chat(request("hi", false)).await.expect_err("rate limited");

    assert!(matches!(error, AiError::RateLimited { .. }), "{error:?}");
    assert_eq!(error.retry_after(), Some(Duration::from_millis(20)));
    assert!(error.is_retryable());
    assert_eq!(fake.count(CHAT), 3);
}

#[tokio::test]
async fn server_errors_are_retried() {
    let (fake, provider) = setup(|_| {}).await;
    fake.push_failures(Failure::ServerError, 2);
    provider.chat(request("hi", false)).await.expect("third attempt succeeds");
    assert_eq!(fake.count(CHAT), 3);

    fake.push_failures(Failure::Status(503), 3);
    let error = provider.chat(request("hi", false)).await.expect_err("retries exhausted");
    assert!(matches!(error, AiError::Server { status: 503, .. }), "{error:?}");
    assert_eq!(fake.count(CHAT), 6);
}

#[tokio::test]
async fn a_wrong_key_is_auth_after_exactly_one_attempt() {
    let (fake, _) = setup(|_| {}).await;
    let mut settings = fake.settings();
    settings.api_key = "sk-wrong".to_owned().into();
    let provider = OpenAiProvider::new(settings).expect("provider");

    let error = provider.chat(request("hi", false)).await.expect_err("unauthorised");

    assert!(matches!(error, AiError::Auth(_)), "{error:?}");
    assert_eq!(error.code(), "ai_auth_failed");
    assert_eq!(fake.count(CHAT), 1);
    assert!(!fake.requests()[0].authorized);
}

#[tokio::test]
async fn bad_requests_are_not_retried() {
    let (fake, provider) = setup(|_| {}).await;
    for (number, status) in [400u16, 404, 422].into_iter().enumerate() {
        fake.push_failure(Failure::Status(status));
        let error = provider.chat(request("hi", false)).await.expect_err("bad request");
        assert!(matches!(error, AiError::BadRequest(_)), "{status}: {error:?}");
        assert_eq!(fake.count(CHAT), number + 1);
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_is_malformed() {
    let (fake, provider) = setup(|_| {}).await;
    fake.push_failure(Failure::MalformedBody);
    let error = provider.chat(request("hi", false)).await.expect_err("malformed");
    assert!(matches!(error, AiError::Malformed(_)), "{error:?}");
    assert_eq!(fake.count(CHAT), 1);

    fake.push_failure(Failure::NoChoices);
    let error = provider.chat(request("hi", false)).await.expect_err("no choices");
    assert!(matches!(&error, AiError::Malformed(message) if message.contains("no choices")), "{error:?}");

    fake.push_failure(Failure::MalformedBody);
    let error = provider.embed(&["x".to_owned()]).await.expect_err("malformed");
    assert!(matches!(error, AiError::Malformed(_)), "{error:?}");
}

#[tokio::test]
async fn a_slow_answer_times_out_within_the_timeout() {
    let timeout = Duration::from_millis(300);
    let (fake, provider) = setup(|s| {
        s.timeout = timeout;
        s.max_retries = 0;
    })
    .await;
    fake.push_failure(Failure::Slow(Duration::from_secs(3)));

    let started = Instant::now();
    let error = provider.chat(request("hi", false)).await.expect_err("too slow");

    assert!(matches!(error, AiError::Timeout(t) if t == timeout), "{error:?}");
    assert!(started.elapsed() < timeout + Duration::from_millis(400), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn a_slow_first_attempt_is_retried() {
    let (fake, provider) = setup(|s| s.timeout = Duration::from_millis(300)).await;
    fake.push_failure(Failure::Slow(Duration::from_secs(3)));
    provider.chat(request("hi", false)).await.expect("second attempt succeeds");
    assert_eq!(fake.count(CHAT), 2);
}

#[tokio::test]
async fn nothing_listening_is_unreachable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let (fake, _) = setup(|_| {}).await;
    let mut settings = fake.settings();
    settings.base_url = format!("http://127.0.0.1:{port}/v1");
    settings.max_retries = 1;
    let provider = OpenAiProvider::new(settings).expect("provider");

    let error = provider.chat(request("hi", false)).await.expect_err("refused");

    assert!(matches!(error, AiError::Unreachable(_)), "{error:?}");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn settings_that_cannot_work_are_refused_up_front() {
    let (fake, _) = setup(|_| {}).await;
    let mut settings = fake.settings();
    settings.api_key = "sk-with a space\n".to_owned().into();
    assert!(matches!(OpenAiProvider::new(settings), Err(AiError::Config(_))));
    let mut settings = fake.settings();
    settings.base_url = "127.0.0.1:1234".to_owned();
    assert!(matches!(OpenAiProvider::new(settings), Err(AiError::Config(_))));
}
