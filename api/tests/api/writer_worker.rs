//! The writer's AI tasks on `worker-content` end to end: tasks enqueued as the API will
//! enqueue them (task row + outbox row, published by the relay), the real handlers, the real
//! database and broker, and for provider behaviour a fake OpenAI-compatible server.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::{
    db::schema::{
        accounts, author_profiles, content, credit_usage_logs, images, outbox, sites, strategies,
        writer_tasks,
    },
    messaging::CommandMessage,
    tasks::{GenerateContent, ImagePrompts, NewTask, Queue, TaskKind},
};
use testkit::openai::{Failure, FakeOpenAi};

use crate::helpers::{TestApp, TestUser, spawn_app};

pub(crate) async fn site(app: &TestApp, user: &TestUser) -> i64 {
    let response =
        app.post("/api/v1/auth/sites/", Some(&user.access), json!({ "name": "Writer site" })).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.expect("json");
    body["data"]["id"].as_i64().expect("site id")
}

/// A writer task row, as the planner's queue-to-writer makes them.
pub(crate) async fn writer_task(
    app: &TestApp,
    user: &TestUser,
    site_id: i64,
    title: &str,
    word_count: i32,
) -> i64 {
    let (account_id, title) = (user.account_id, title.to_owned());
    app.sql(move |conn| {
        Ok(diesel::insert_into(writer_tasks::table)
            .values((
                writer_tasks::account_id.eq(account_id),
                writer_tasks::site_id.eq(site_id),
                writer_tasks::title.eq(title),
                writer_tasks::keywords.eq(json!(["running shoes", "trail running"])),
                writer_tasks::outline.eq(json!(["Why It Matters", "How to Choose", "Care Tips"])),
                writer_tasks::word_count.eq(word_count),
            ))
            .returning(writer_tasks::id)
            .get_result(conn)?)
    })
    .await
}

/// Enqueues a task kind directly (the writer's HTTP commands are not part of this module).
pub(crate) async fn enqueue(app: &TestApp, user: &TestUser, kind: &'static str, payload: Value) -> String {
    let account_id = user.account_id;
    let enqueued =
        app.sql(move |conn| shared::tasks::enqueue(conn, NewTask::new(account_id, kind, payload))).await;
    enqueued.task.id.to_string()
}

pub(crate) async fn balance(app: &TestApp, account_id: i64) -> i64 {
    app.sql(move |conn| Ok(accounts::table.find(account_id).select(accounts::credits).first(conn)?)).await
}

pub(crate) async fn usage_rows(app: &TestApp, account_id: i64) -> Vec<(String, i64)> {
    app.sql(move |conn| {
        Ok(credit_usage_logs::table
            .filter(credit_usage_logs::account_id.eq(account_id))
            .select((credit_usage_logs::operation_type, credit_usage_logs::credits_used))
            .load(conn)?)
    })
    .await
}

/// (writer_task_id, id, html, word_count, meta_title, meta_description) of the account's content.
type ContentRow = (Option<i64>, i64, String, i32, String, String);

async fn content_of(app: &TestApp, account_id: i64) -> Vec<ContentRow> {
    app.sql(move |conn| {
        Ok(content::table
            .filter(content::account_id.eq(account_id))
            .order(content::writer_task_id)
            .select((
                content::writer_task_id,
                content::id,
                content::html_content,
                content::word_count,
                content::meta_title,
                content::meta_description,
            ))
            .load(conn)?)
    })
    .await
}

pub(crate) async fn writer_task_states(app: &TestApp, ids: Vec<i64>) -> Vec<(String, i32)> {
    app.sql(move |conn| {
        Ok(writer_tasks::table
            .filter(writer_tasks::id.eq_any(ids))
            .order(writer_tasks::id)
            .select((writer_tasks::status, writer_tasks::word_count))
            .load(conn)?)
    })
    .await
}

/// Makes the fake server the account's OpenAI provider.
pub(crate) async fn use_fake(app: &TestApp, user: &TestUser, fake: &FakeOpenAi) {
    let response = app
        .post(
            "/api/v1/system/settings/integrations/openai/save/",
            Some(&user.access),
            json!({ "config": { "apiKey": fake.api_key(), "base_url": fake.base_url(), "model": "gpt-4o-mini" }, "is_active": true }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap_or_default());
}

/// An app with a content worker, and a user whose AI provider is a fresh fake.
pub(crate) async fn with_fake_provider() -> (TestApp, TestUser, FakeOpenAi) {
    let mut app = spawn_app().await;
    app.start_worker(Queue::Content);
    let user = app.signup().await;
    let fake = FakeOpenAi::start().await;
    use_fake(&app, &user, &fake).await;
    (app, user, fake)
}

fn prompt_of(body: &Value) -> String {
    body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_owned()
}

/// The broker delivers a finished task's command again (as after a lost acknowledgement);
/// returns once the duplicate has been taken off the queue and handled.
pub(crate) async fn redeliver(app: &TestApp, user: &TestUser, task_id: &str, kind: &'static str) {
    redeliver_to(app, user, task_id, kind, Queue::Content).await;
}

/// `redeliver` for a task of `queue`.
pub(crate) async fn redeliver_to(
    app: &TestApp,
    user: &TestUser,
    task_id: &str,
    kind: &'static str,
    queue: Queue,
) {
    let task_uuid: uuid::Uuid = task_id.parse().expect("uuid");
    let account_id = user.account_id;
    app.sql(move |conn| {
        let message = CommandMessage::new(task_uuid, kind, account_id);
        diesel::insert_into(outbox::table)
            .values((
                outbox::task_id.eq(task_uuid),
                outbox::routing_key.eq(queue.as_str()),
                outbox::body.eq(serde_json::to_value(&message)?),
            ))
            .execute(conn)?;
        Ok(())
    })
    .await;
    // A ping queued behind the duplicate finishes after it was taken off the queue.
    let ping = app.ping(user, json!({ "queue": queue.as_str(), "steps": 1 })).await;
    app.wait_for_state(user, &ping, "SUCCESS").await;
    testkit::eventually(std::time::Duration::from_secs(20), "the duplicate to leave the outbox", || async {
        let left: i64 = app
            .sql(move |conn| {
                Ok(outbox::table.filter(outbox::task_id.eq(task_uuid)).count().get_result(conn)?)
            })
            .await;
        (left == 0).then_some(())
    })
    .await;
}

pub(crate) fn article(title: &str, html: &str) -> String {
    json!({
        "title": title,
        "meta_title": title,
        "meta_description": "A short description.",
        "html": html,
        "primary_keyword": "running shoes",
        "secondary_keywords": ["trail running"],
    })
    .to_string()
}

fn total_words(rows: &[ContentRow]) -> u64 {
    rows.iter().map(|row| u64::try_from(row.3).expect("words")).sum()
}

#[tokio::test]
async fn offline_articles_are_stored_tasks_move_to_review_and_words_are_charged() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let site_id = site(&app, &user).await;
    // An author profile and a strategy shape the articles when the site has them.
    let account_id = user.account_id;
    app.sql(move |conn| {
        let profile: i64 = diesel::insert_into(author_profiles::table)
            .values((
                author_profiles::account_id.eq(account_id),
                author_profiles::name.eq("Coach"),
                author_profiles::tone.eq("friendly"),
            ))
            .returning(author_profiles::id)
            .get_result(conn)?;
        let strategy: i64 = diesel::insert_into(strategies::table)
            .values((
                strategies::account_id.eq(account_id),
                strategies::name.eq("Runners"),
                strategies::target_audience.eq("new runners"),
            ))
            .returning(strategies::id)
            .get_result(conn)?;
        diesel::update(sites::table.find(site_id))
            .set((sites::author_profile_id.eq(Some(profile)), sites::strategy_id.eq(Some(strategy))))
            .execute(conn)?;
        Ok(())
    })
    .await;
    let first = writer_task(&app, &user, site_id, "Choosing Running Shoes", 600).await;
    let second = writer_task(&app, &user, site_id, "Trail Running for Beginners", 400).await;
    let before = balance(&app, user.account_id).await;

    let task_id =
        enqueue(&app, &user, GenerateContent::NAME, json!({ "writer_task_ids": [first, second] })).await;
    let task = app.finish(&user, &task_id).await;
    let result = &task["result"];
    assert_eq!(result["succeeded"], 2, "{task}");
    assert_eq!(result["failed"], 0);
    assert_eq!(result["failed_ids"], json!([]));
    assert_eq!(result["items"][0]["writer_task_id"], first);
    assert_eq!(result["items"][0]["status"], "succeeded");

    let rows = content_of(&app, user.account_id).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0, Some(first));
    assert_eq!(result["items"][0]["content_id"], rows[0].1, "the reported content id is the stored one");
    assert!(rows.iter().all(|row| row.2.contains("<h2>") && row.3 > 100), "{rows:?}");
    assert!(rows.iter().all(|row| row.4.chars().count() <= 60 && row.5.chars().count() <= 160));
    let states = writer_task_states(&app, vec![first, second]).await;
    assert_eq!(states, vec![("review".to_owned(), rows[0].3), ("review".to_owned(), rows[1].3)]);

    let words = total_words(&rows);
    assert_eq!(result["words"], words);
    let charged = i64::try_from(words.div_ceil(100)).expect("credits");
    assert_eq!(balance(&app, user.account_id).await, before - charged);
    assert_eq!(usage_rows(&app, user.account_id).await, vec![("content".to_owned(), charged)]);

    // Generating again replaces the article in place.
    let again = enqueue(&app, &user, GenerateContent::NAME, json!({ "writer_task_ids": [first] })).await;
    let task = app.finish(&user, &again).await;
    assert_eq!(task["result"]["items"][0]["content_id"], rows[0].1, "{task}");
    assert_eq!(content_of(&app, user.account_id).await.len(), 2);
}

#[tokio::test]
async fn a_malformed_answer_fails_only_its_item_and_that_item_can_be_sent_again() {
    let (app, user, fake) = with_fake_provider().await;
    let broken = Arc::new(AtomicBool::new(true));
    let answer_broken = broken.clone();
    fake.answer_with(move |body| {
        let prompt = prompt_of(body);
        if prompt.contains("Broken Topic") && answer_broken.load(Ordering::SeqCst) {
            return "{ this is not json".to_owned();
        }
        article("An Article", "<h2>Start</h2><p>Some useful words about running shoes here.</p>")
    });
    let site_id = site(&app, &user).await;
    let good = writer_task(&app, &user, site_id, "Good Topic", 300).await;
    let bad = writer_task(&app, &user, site_id, "Broken Topic", 300).await;
    let other_good = writer_task(&app, &user, site_id, "Another Good Topic", 300).await;

    let task_id =
        enqueue(&app, &user, GenerateContent::NAME, json!({ "writer_task_ids": [good, bad, other_good] }))
            .await;
    let task = app.wait_for_state(&user, &task_id, "SUCCESS").await;
    let result = &task["result"];
    assert_eq!(result["succeeded"], 2, "{task}");
    assert_eq!(result["failed"], 1);
    assert_eq!(result["failed_ids"], json!([bad]));
    let failed =
        result["items"].as_array().expect("items").iter().find(|i| i["writer_task_id"] == bad).cloned();
    let failed = failed.expect("the failed item is listed");
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["code"], "ai_malformed_response");
    assert!(failed.get("content_id").is_none());
    let stored: Vec<Option<i64>> = content_of(&app, user.account_id).await.into_iter().map(|r| r.0).collect();
    assert_eq!(stored, vec![Some(good), Some(other_good)]);
    let states = writer_task_states(&app, vec![bad]).await;
    assert_eq!(states[0].0, "draft", "a failed item stays where it was");

    // The failed id alone, once the model behaves.
    broken.store(false, Ordering::SeqCst);
    let retry =
        enqueue(&app, &user, GenerateContent::NAME, json!({ "writer_task_ids": result["failed_ids"] })).await;
    let task = app.wait_for_state(&user, &retry, "SUCCESS").await;
    assert_eq!(task["result"]["succeeded"], 1, "{task}");
    assert_eq!(content_of(&app, user.account_id).await.len(), 3);
    assert_eq!(writer_task_states(&app, vec![bad]).await[0].0, "review");
}

#[tokio::test]
async fn when_every_item_fails_the_task_fails_with_all_items_failed() {
    let (app, user, fake) = with_fake_provider().await;
    fake.answer_with(|_| "no json at all".to_owned());
    let site_id = site(&app, &user).await;
    let id = writer_task(&app, &user, site_id, "Topic", 300).await;
    let before = balance(&app, user.account_id).await;

    let task_id = enqueue(&app, &user, GenerateContent::NAME, json!({ "writer_task_ids": [id] })).await;
    let task = app.wait_for_state(&user, &task_id, "FAILURE").await;
    assert_eq!(task["error"]["code"], "all_items_failed", "{task}");
    assert!(content_of(&app, user.account_id).await.is_empty());
    assert_eq!(balance(&app, user.account_id).await, before);
    assert_eq!(writer_task_states(&app, vec![id]).await[0].0, "draft", "back from in_progress");
}

#[tokio::test]
async fn a_provider_outage_after_an_article_was_written_fails_only_its_item() {
    let (app, user, fake) = with_fake_provider().await;
    fake.answer_with(|_| article("An Article", "<h2>Start</h2><p>Useful words about running shoes.</p>"));
    // The second article's every request fails with a 5xx, more often than the provider
    // client retries; the first was written by then, so only the second item fails.
    fake.fail_when(|body| prompt_of(body).contains("Second").then_some(Failure::ServerError));
    let site_id = site(&app, &user).await;
    let first = writer_task(&app, &user, site_id, "First", 300).await;
    let second = writer_task(&app, &user, site_id, "Second", 300).await;

    let task_id =
        enqueue(&app, &user, GenerateContent::NAME, json!({ "writer_task_ids": [first, second] })).await;
    let task = app.wait_for_state(&user, &task_id, "SUCCESS").await;
    assert_eq!(task["attempts"], 1, "{task}");
    assert_eq!(task["result"]["failed_ids"], json!([second]));
    assert_eq!(task["result"]["items"][1]["error"]["code"], "ai_provider_error");
    let states = writer_task_states(&app, vec![first, second]).await;
    assert_eq!((states[0].0.as_str(), states[1].0.as_str()), ("review", "draft"));

    // Sent again alone once the provider is back, the failed one is written.
    fake.fail_when(|_| None);
    let retry = enqueue(&app, &user, GenerateContent::NAME, json!({ "writer_task_ids": [second] })).await;
    let task = app.wait_for_state(&user, &retry, "SUCCESS").await;
    assert_eq!(task["result"]["succeeded"], 1, "{task}");
    assert_eq!(content_of(&app, user.account_id).await.len(), 2);
}

#[tokio::test]
async fn writer_tasks_are_in_progress_while_their_articles_are_written() {
    let (app, user, fake) = with_fake_provider().await;
    fake.answer_with(|_| article("Slowly", "<h2>Start</h2><p>Useful words about running shoes.</p>"));
    fake.push_failure(Failure::Slow(std::time::Duration::from_millis(1_500)));
    let site_id = site(&app, &user).await;
    let id = writer_task(&app, &user, site_id, "Slowly", 300).await;

    let task_id = enqueue(&app, &user, GenerateContent::NAME, json!({ "writer_task_ids": [id] })).await;
    testkit::eventually(std::time::Duration::from_secs(10), "the writer task in progress", || async {
        (writer_task_states(&app, vec![id]).await[0].0 == "in_progress").then_some(())
    })
    .await;
    app.wait_for_state(&user, &task_id, "SUCCESS").await;
    assert_eq!(writer_task_states(&app, vec![id]).await[0].0, "review");
}

#[tokio::test]
async fn a_provider_outage_before_any_article_retries_the_whole_task() {
    let (app, user, fake) = with_fake_provider().await;
    fake.answer_with(|_| article("An Article", "<h2>Start</h2><p>Useful words about running shoes.</p>"));
    // More 5xx answers than the provider client retries on its own: the first item's error
    // reaches the handler while nothing has succeeded.
    fake.push_failures(Failure::ServerError, 4);
    let site_id = site(&app, &user).await;
    let first = writer_task(&app, &user, site_id, "First", 300).await;
    let second = writer_task(&app, &user, site_id, "Second", 300).await;

    let task_id =
        enqueue(&app, &user, GenerateContent::NAME, json!({ "writer_task_ids": [first, second] })).await;
    let task = app.wait_for_state(&user, &task_id, "SUCCESS").await;
    assert_eq!(task["attempts"], 2, "{task}");
    assert_eq!(task["result"]["succeeded"], 2);
    assert_eq!(content_of(&app, user.account_id).await.len(), 2);
}

#[tokio::test]
async fn scripts_event_handlers_and_javascript_urls_never_reach_stored_html() {
    let (app, user, fake) = with_fake_provider().await;
    let long_title = "A Very Long Title About Running Shoes That Goes On Well Past Sixty Characters";
    fake.answer_with(move |_| {
        json!({
            "title": long_title,
            "meta_title": long_title,
            "meta_description": "word ".repeat(60),
            "html": "<h2 onclick=\"steal()\">Intro</h2><script>alert(1)</script>\
                     <p style=\"color:red\" onmouseover=\"x()\">Read <a href=\"javascript:alert(2)\">this</a> \
                     and <a href=\"https://example.com\">that</a>.</p><img src=\"x.png\" onerror=\"alert(3)\">",
            "primary_keyword": "running shoes",
        })
        .to_string()
    });
    let site_id = site(&app, &user).await;
    let id = writer_task(&app, &user, site_id, "Topic", 300).await;

    let task_id = enqueue(&app, &user, GenerateContent::NAME, json!({ "writer_task_ids": [id] })).await;
    app.wait_for_state(&user, &task_id, "SUCCESS").await;
    let rows = content_of(&app, user.account_id).await;
    let html = &rows[0].2;
    for banned in ["<script", "alert(1)", "onclick", "onmouseover", "onerror", "style=", "javascript:"] {
        assert!(!html.contains(banned), "{banned} reached the stored html: {html}");
    }
    assert!(html.contains(r#"<a href="https://example.com" rel="noopener noreferrer">that</a>"#), "{html}");
    assert_eq!(rows[0].4, "A Very Long Title About Running Shoes That Goes On Well Past");
    assert!(rows[0].5.chars().count() <= 160 && rows[0].5.ends_with("word"));
    // Words are counted from the sanitized text: "Intro Read this and that."
    assert_eq!(rows[0].3, 5);
}

#[tokio::test]
async fn image_prompts_replace_pending_rows_with_a_featured_one_and_one_per_h2() {
    let mut app = spawn_app().await;
    app.start_worker(Queue::Content);
    let user = app.signup().await;
    let site_id = site(&app, &user).await;
    let id = writer_task(&app, &user, site_id, "Choosing Running Shoes", 500).await;
    let task_id = enqueue(&app, &user, GenerateContent::NAME, json!({ "writer_task_ids": [id] })).await;
    app.wait_for_state(&user, &task_id, "SUCCESS").await;
    let rows = content_of(&app, user.account_id).await;
    let (content_id, h2s) = (rows[0].1, rows[0].2.matches("<h2>").count());
    assert!(h2s >= 2, "{}", rows[0].2);
    // An earlier pending prompt is replaced; a generated image stays.
    let account_id = user.account_id;
    app.sql(move |conn| {
        for status in ["pending", "generated"] {
            diesel::insert_into(images::table)
                .values((
                    images::account_id.eq(account_id),
                    images::site_id.eq(site_id),
                    images::content_id.eq(Some(content_id)),
                    images::prompt.eq("old"),
                    images::status.eq(status),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
    .await;
    let before = balance(&app, user.account_id).await;

    let task_id = enqueue(&app, &user, ImagePrompts::NAME, json!({ "content_ids": [content_id] })).await;
    let task = app.wait_for_state(&user, &task_id, "SUCCESS").await;
    assert_eq!(task["result"]["succeeded"], 1, "{task}");
    assert_eq!(task["result"]["items"][0]["images"], 1 + h2s);
    let found: Vec<(String, i32, String, String)> = app
        .sql(move |conn| {
            Ok(images::table
                .filter(images::content_id.eq(content_id))
                .order((images::status.desc(), images::position))
                .select((images::image_type, images::position, images::prompt, images::status))
                .load(conn)?)
        })
        .await;
    let pending: Vec<_> = found.iter().filter(|row| row.3 == "pending").collect();
    assert_eq!(pending.len(), 1 + h2s, "{found:?}");
    assert_eq!((pending[0].0.as_str(), pending[0].1), ("featured", 0));
    for (index, row) in pending.iter().skip(1).enumerate() {
        assert_eq!((row.0.as_str(), row.1), ("in_article", i32::try_from(index + 1).expect("position")));
    }
    assert!(pending.iter().all(|row| !row.2.is_empty() && row.2 != "old"));
    assert!(found.iter().any(|row| row.3 == "generated" && row.2 == "old"), "generated images stay");
    assert_eq!(balance(&app, user.account_id).await, before, "prompts cost nothing");
}

#[tokio::test]
async fn a_redelivered_generate_content_is_charged_once() {
    let mut app = spawn_app().await;
    app.start_worker(Queue::Content);
    let user = app.signup().await;
    let site_id = site(&app, &user).await;
    let id = writer_task(&app, &user, site_id, "Choosing Running Shoes", 300).await;
    let task_id = enqueue(&app, &user, GenerateContent::NAME, json!({ "writer_task_ids": [id] })).await;
    app.wait_for_state(&user, &task_id, "SUCCESS").await;
    let balance_after_first = balance(&app, user.account_id).await;

    redeliver(&app, &user, &task_id, GenerateContent::NAME).await;

    assert_eq!(balance(&app, user.account_id).await, balance_after_first);
    assert_eq!(usage_rows(&app, user.account_id).await.len(), 1);
    assert_eq!(content_of(&app, user.account_id).await.len(), 1);
    assert_eq!(app.task(&user, &task_id).await["attempts"], 1);
}

#[tokio::test]
async fn another_accounts_writer_tasks_are_ignored() {
    let mut app = spawn_app().await;
    app.start_worker(Queue::Content);
    let owner = app.signup().await;
    let other = app.signup().await;
    let owner_site = site(&app, &owner).await;
    let other_site = site(&app, &other).await;
    let mine = writer_task(&app, &owner, owner_site, "Mine", 300).await;
    let theirs = writer_task(&app, &other, other_site, "Theirs", 300).await;

    let task_id =
        enqueue(&app, &owner, GenerateContent::NAME, json!({ "writer_task_ids": [mine, theirs] })).await;
    let task = app.wait_for_state(&owner, &task_id, "SUCCESS").await;
    assert_eq!(task["result"]["succeeded"], 1, "{task}");
    assert_eq!(task["result"]["items"].as_array().map(Vec::len), Some(1));
    assert!(content_of(&app, other.account_id).await.is_empty());
    assert_eq!(writer_task_states(&app, vec![theirs]).await[0].0, "draft");
    assert!(usage_rows(&app, other.account_id).await.is_empty());

    // Only someone else's ids: nothing to do.
    let task_id = enqueue(&app, &owner, GenerateContent::NAME, json!({ "writer_task_ids": [theirs] })).await;
    let task = app.wait_for_state(&owner, &task_id, "FAILURE").await;
    assert_eq!(task["error"]["code"], "no_writer_tasks", "{task}");
    // Nor can one account write image prompts for another's content.
    let their_content =
        enqueue(&app, &other, GenerateContent::NAME, json!({ "writer_task_ids": [theirs] })).await;
    app.wait_for_state(&other, &their_content, "SUCCESS").await;
    let their_content_id = content_of(&app, other.account_id).await[0].1;
    let task_id =
        enqueue(&app, &owner, ImagePrompts::NAME, json!({ "content_ids": [their_content_id] })).await;
    let task = app.wait_for_state(&owner, &task_id, "FAILURE").await;
    assert_eq!(task["error"]["code"], "no_content", "{task}");
}
