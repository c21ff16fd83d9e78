use shared::ai::{ChatRequest, OpenAiProvider, OpenAiSettings, PromptType};
use testkit::openai::FakeOpenAi;

/// A fake server and a provider pointed at it, settings adjusted by the test.
pub async fn setup(adjust: impl FnOnce(&mut OpenAiSettings)) -> (FakeOpenAi, OpenAiProvider) {
    shared::telemetry::init_for_tests();
    let fake = FakeOpenAi::start().await;
    let mut settings = fake.settings();
    adjust(&mut settings);
    let provider = OpenAiProvider::new(settings).expect("provider");
    (fake, provider)
}

pub fn request(user: &str, json: bool) -> ChatRequest {
    ChatRequest {
        prompt_type: PromptType::AutoCluster,
        system: "You are a test.".to_owned(),
        user: user.to_owned(),
        context: serde_json::Value::Null,
        json,
        max_tokens: Some(50),
        temperature: Some(0.2),
    }
}
