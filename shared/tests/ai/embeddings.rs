use shared::ai::{Embedder, MAX_EMBEDDING_BATCH, estimate_tokens};

use crate::helpers::setup;

#[tokio::test]
async fn vectors_come_back_in_input_order_with_usage() {
    let (fake, provider) = setup(|_| {}).await;
    let texts: Vec<String> =
        ["running shoes", "sourdough bread recipe", "trail running shoes"].map(str::to_owned).to_vec();

    let out = provider.embed(&texts).await.expect("vectors");

    assert_eq!(out.model, "text-embedding-3-small");
    assert_eq!(out.vectors.len(), 3);
    // The fake answers in reverse order; each vector must still match its own input.
    for (index, text) in texts.iter().enumerate() {
        let alone = provider.embed(std::slice::from_ref(text)).await.expect("vector");
        assert_eq!(out.vectors[index], alone.vectors[0], "vector {index}");
    }
    let expected: u32 = texts.iter().map(|t| estimate_tokens(t)).sum();
    assert_eq!(out.usage.prompt_tokens, expected);
    assert_eq!(out.usage.completion_tokens, 0);
    assert_eq!(fake.requests()[0].body["input"].as_array().expect("input").len(), 3);
}

#[tokio::test]
async fn large_inputs_are_sent_in_batches_and_reassembled_in_order() {
    let (fake, provider) = setup(|_| {}).await;
    let texts: Vec<String> = (0..MAX_EMBEDDING_BATCH + 52).map(|i| format!("keyword number {i}")).collect();

    let out = provider.embed(&texts).await.expect("vectors");

    assert_eq!(out.vectors.len(), texts.len());
    let sizes: Vec<usize> =
        fake.requests().iter().map(|r| r.body["input"].as_array().expect("input").len()).collect();
    assert_eq!(sizes, vec![MAX_EMBEDDING_BATCH, 52]);
    let last = provider.embed(&texts[texts.len() - 1..]).await.expect("vector");
    assert_eq!(out.vectors[texts.len() - 1], last.vectors[0]);
    let expected: u32 = texts.iter().map(|t| estimate_tokens(t)).sum();
    assert_eq!(out.usage.prompt_tokens, expected);
}

#[tokio::test]
async fn no_texts_is_no_request() {
    let (fake, provider) = setup(|_| {}).await;
    let out = provider.embed(&[]).await.expect("nothing");
    assert!(out.vectors.is_empty());
    assert_eq!(fake.requests().len(), 0);
}
