use shared::ai::{AiError, OpenAiProvider};
use testkit::openai::Failure;

use crate::helpers::setup;

#[tokio::test]
async fn check_lists_models_and_reports_latency() {
    let (fake, provider) = setup(|_| {}).await;
    let check = provider.check().await.expect("connection works");
    assert_eq!(check.model, "gpt-4o-mini");
    assert_eq!(check.model_listed, Some(true));
    assert_eq!(check.base_url, fake.base_url());
    assert!(check.latency_ms < 2_000);

    fake.set_models(&["llama3.2"]);
    assert_eq!(provider.check().await.expect("still works").model_listed, Some(false));
}

#[tokio::test]
async fn check_falls_back_to_a_one_token_chat_without_a_model_list() {
    let (fake, provider) = setup(|_| {}).await;
    fake.push_failure(Failure::Status(404));
    let check = provider.check().await.expect("connection works");
    assert_eq!(check.model_listed, None);
    let requests = fake.requests();
    assert_eq!(requests[1].path, "/v1/chat/completions");
    assert_eq!(requests[1].body["max_completion_tokens"], 1);
}

#[tokio::test]
async fn check_with_a_wrong_key_is_an_auth_error_at_once() {
    let (fake, _) = setup(|_| {}).await;
    let mut settings = fake.settings();
    settings.api_key = "sk-wrong".to_owned().into();
    let provider = OpenAiProvider::new(settings).expect("provider");
    let error = provider.check().await.expect_err("wrong key");
    assert!(matches!(&error, AiError::Auth(message) if message.contains("Incorrect API key")), "{error:?}");
    assert_eq!(fake.requests().len(), 1);
}
