use serde::Deserialize;
use serde_json::json;
use shared::ai::{AiError, TextGenerator, chat_json, estimate_tokens, generator_for};

use crate::helpers::{request, setup};

#[derive(Debug, Deserialize, PartialEq)]
struct Clusters {
    clusters: Vec<Cluster>,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Cluster {
    id: u32,
    name: String,
    intent: String,
}

#[tokio::test]
async fn json_chat_is_parsed_into_a_typed_value_with_usage() {
    let (fake, provider) = setup(|_| {}).await;
    let answer = r#"{"clusters": [{"id": 3, "name": "Running Shoes", "intent": "commercial"}]}"#;
    fake.push_answer(answer);

    let parsed =
        chat_json::<Clusters>(&provider, request("Name these clusters", false)).await.expect("parsed");

    assert_eq!(
        parsed.value,
        Clusters {
            clusters: vec![Cluster { id: 3, name: "Running Shoes".into(), intent: "commercial".into() }]
        }
    );
    assert_eq!(parsed.model, "gpt-4o-mini");
    assert_eq!(parsed.usage.prompt_tokens, estimate_tokens("You are a test.\nName these clusters"));
    assert_eq!(parsed.usage.completion_tokens, estimate_tokens(answer));
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(sent.body["model"], "gpt-4o-mini");
    assert_eq!(sent.body["response_format"], json!({"type": "json_object"}));
    assert_eq!(sent.body["messages"][0], json!({"role": "system", "content": "You are a test."}));
    assert_eq!(sent.body["messages"][1], json!({"role": "user", "content": "Name these clusters"}));
    assert_eq!(sent.body["max_completion_tokens"], 50);
}

#[tokio::test]
async fn plain_chat_asks_for_no_response_format() {
    let (fake, provider) = setup(|_| {}).await;
    let response = provider.chat(request("hello there", false)).await.expect("answer");
    assert_eq!(response.content, "hello there");
    assert!(fake.requests()[0].body.get("response_format").is_none());
}

#[tokio::test]
async fn an_answer_that_is_not_the_expected_json_is_malformed() {
    let (fake, provider) = setup(|_| {}).await;
    fake.push_answer("Sure! Here are your clusters: Running Shoes.");
    let error = chat_json::<Clusters>(&provider, request("x", true)).await.expect_err("not JSON");
    assert!(matches!(error, AiError::Malformed(_)), "{error:?}");

    fake.answer_with(|_| "```json\n{\"clusters\": []}\n```".to_owned());
    let parsed = chat_json::<Clusters>(&provider, request("x", true)).await.expect("fenced JSON is accepted");
    assert!(parsed.value.clusters.is_empty());
}

#[tokio::test]
async fn generator_for_picks_offline_without_settings() {
    assert_eq!(generator_for(None).expect("offline").model(), "offline");
    let (fake, _) = setup(|_| {}).await;
    let generator = generator_for(Some(fake.settings())).expect("provider");
    assert_eq!(generator.model(), "gpt-4o-mini");
}
