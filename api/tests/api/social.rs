//! Social publishing end to end: accounts and posts over HTTP, the real scheduler queueing
//! due posts, the real `worker-social` publishing them to a fake Mastodon (or the sandbox).

use std::time::Duration;

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::{
    db::schema::social_posts,
    tasks::{PublishPost, Queue, TaskKind},
};
use testkit::social::{Failure, FakeGraph, FakeLinkedIn, FakeMastodon, FakeX, graph, linkedin};
use tokio_util::sync::CancellationToken;

use crate::{
    helpers::{TestApp, TestUser, error_of, spawn_app},
    writer_worker::{enqueue, redeliver_to},
};

/// Runs a scheduler in this process until the guard is dropped.
struct Scheduler(CancellationToken);

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

fn scheduler(app: &TestApp) -> Scheduler {
    let token = CancellationToken::new();
    let (config, pool, stop) = (app.config.clone(), app.pool.clone(), token.clone());
    tokio::spawn(async move {
        let _ = workers::scheduler::run(config, pool, stop).await;
    });
    Scheduler(token)
}

async fn connect(app: &TestApp, user: &TestUser, platform: &str, base_url: &str, token: &str) -> i64 {
    let response = app
        .post(
            "/api/v1/social/accounts/",
            Some(&user.access),
            json!({ "platform": platform, "handle": "@switchyard", "access_token": token, "base_url": base_url }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED, "{}", response.text().await.unwrap_or_default());
    let body: Value = response.json().await.expect("json");
    assert!(body["data"].get("token").is_none(), "the token is never returned");
    body["data"]["id"].as_i64().expect("id")
}

async fn post(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let response = app.post("/api/v1/social/posts/", Some(&user.access), body).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{}", response.text().await.unwrap_or_default());
    let body: Value = response.json().await.expect("json");
    body["data"].clone()
}

async fn post_state(app: &TestApp, user: &TestUser, id: i64) -> Value {
    let response = app.get(&format!("/api/v1/social/posts/{id}/"), &user.access).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    body["data"].clone()
}

async fn wait_for_status(app: &TestApp, user: &TestUser, id: i64, wanted: &str) -> Value {
    testkit::eventually(Duration::from_secs(20), &format!("post {id} {wanted}"), || async {
        let post = post_state(app, user, id).await;
        (post["status"] == wanted).then_some(post)
    })
    .await
}

/// An app with a social worker and a scheduler, and a user with a Mastodon account on a
/// fresh fake instance.
async fn with_mastodon() -> (TestApp, TestUser, FakeMastodon, i64, Scheduler) {
    let mut app = spawn_app().await;
    app.start_worker(Queue::Social);
    let running = scheduler(&app);
    let user = app.signup().await;
    let mastodon = FakeMastodon::start().await;
    let account = connect(&app, &user, "mastodon", mastodon.base_url(), &mastodon.token()).await;
    (app, user, mastodon, account, running)
}

/// The social account's status as listed.
async fn account_status(app: &TestApp, user: &TestUser, id: i64) -> String {
    let accounts: Value = app.get("/api/v1/social/accounts/", &user.access).await.json().await.expect("json");
    let found = accounts["data"].as_array().and_then(|all| all.iter().find(|a| a["id"] == id)).cloned();
    found.expect("listed")["status"].as_str().expect("status").to_owned()
}

fn in_seconds(seconds: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(seconds)).to_rfc3339()
}

#[tokio::test]
async fn a_post_scheduled_ahead_is_published_once_at_its_time() {
    let (app, user, mastodon, account, _scheduler) = with_mastodon().await;

    let scheduled = post(&app, &user, json!({ "social_account_id": account, "content": "Hello from Switchyard", "scheduled_time": in_seconds(2) })).await;
    assert_eq!(scheduled["status"], "scheduled");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(mastodon.statuses().is_empty(), "not before its time");
    let published = wait_for_status(&app, &user, scheduled["id"].as_i64().expect("id"), "published").await;
    let at = chrono::DateTime::parse_from_rfc3339(published["published_at"].as_str().expect("published_at"))
        .expect("time");
    let due = chrono::DateTime::parse_from_rfc3339(scheduled["scheduled_at"].as_str().expect("scheduled_at"))
        .expect("time");
    assert!(at >= due, "published at {at}, due {due}");
    let statuses = mastodon.statuses();
    assert_eq!(statuses.len(), 1);
    assert_eq!(published["remote_id"], statuses[0]["id"]);
    assert_eq!(published["remote_url"], statuses[0]["url"]);

    // The broker delivers the publish again: nothing more is posted.
    let task_id = published["task_id"].as_str().expect("task").to_owned();
    redeliver_to(&app, &user, &task_id, PublishPost::NAME, Queue::Social).await;
    assert_eq!(mastodon.statuses().len(), 1);

    // A crash after the platform accepted: the post is left `publishing` with its marker; the
    // retry sends the same idempotency key and Mastodon answers with the status it made.
    let second = post(&app, &user, json!({ "social_account_id": account, "content": "Second" })).await;
    let second_id = second["id"].as_i64().expect("id");
    wait_for_status(&app, &user, second_id, "published").await;
    assert_eq!(mastodon.statuses().len(), 2);
    app.sql(move |conn| {
        diesel::update(social_posts::table.find(second_id))
            .set(social_posts::status.eq("publishing"))
            .execute(conn)?;
        Ok(())
    })
    .await;
    let again = enqueue(&app, &user, PublishPost::NAME, json!({ "post_id": second_id })).await;
    app.wait_for_state(&user, &again, "SUCCESS").await;
    wait_for_status(&app, &user, second_id, "published").await;
    assert_eq!(mastodon.statuses().len(), 2, "the same key, no second status");
}

#[tokio::test]
async fn cancel_limits_rate_limits_and_revoked_tokens() {
    let (app, user, mastodon, account, _scheduler) = with_mastodon().await;
    let sandbox = connect(&app, &user, "sandbox", "", "sandbox-token").await;
    let x = connect(&app, &user, "x", "", "x-token").await;

    // Cancelled before its time: never published.
    let later = post(
        &app,
        &user,
        json!({ "social_account_id": account, "content": "Later", "scheduled_time": in_seconds(3) }),
    )
    .await;
    let later_id = later["id"].as_i64().expect("id");
    let response =
        app.post(&format!("/api/v1/social/posts/{later_id}/cancel/"), Some(&user.access), json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let response =
        app.post(&format!("/api/v1/social/posts/{later_id}/cancel/"), Some(&user.access), json!({})).await;
    error_of(response, StatusCode::CONFLICT).await;

    // Over the platform's limit, bad times: 400 naming the field and the limit.
    let response = app
        .post(
            "/api/v1/social/posts/",
            Some(&user.access),
            json!({ "social_account_id": x, "content": "a".repeat(281) }),
        )
        .await;
    let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
    assert!(errors["content"][0].as_str().is_some_and(|m| m.contains("at most 280")), "{errors}");
    for bad in ["2020-01-01T00:00:00Z", "tomorrow", "2030-01-01T09:00:00"] {
        let response = app
            .post(
                "/api/v1/social/posts/",
                Some(&user.access),
                json!({ "social_account_id": sandbox, "content": "x", "scheduled_time": bad }),
            )
            .await;
        let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
        assert!(errors.get("scheduled_time").is_some(), "{bad}: {errors}");
    }

    // The sandbox records posts locally.
    let local = post(&app, &user, json!({ "social_account_id": sandbox, "content": "Demo post" })).await;
    let local = wait_for_status(&app, &user, local["id"].as_i64().expect("id"), "published").await;
    assert!(local["remote_url"].as_str().is_some_and(|url| url.starts_with("sandbox://")));

    // A 429 waits for the reset and tries again: published, not failed.
    mastodon.push_failure(Failure::RateLimited(Duration::from_millis(500)));
    let limited = post(&app, &user, json!({ "social_account_id": account, "content": "Patience" })).await;
    wait_for_status(&app, &user, limited["id"].as_i64().expect("id"), "published").await;
    assert_eq!(mastodon.statuses().len(), 1);

    // The token works; a scheduled post can still change, a published one cannot.
    let checked: Value = app
        .post(&format!("/api/v1/social/accounts/{account}/check/"), Some(&user.access), json!({}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(checked["data"]["handle"], "@switchyard", "{checked}");
    let pending = post(
        &app,
        &user,
        json!({ "social_account_id": sandbox, "content": "Draft", "scheduled_time": in_seconds(60) }),
    )
    .await;
    let pending_id = pending["id"].as_i64().expect("id");
    let response = app
        .request(reqwest::Method::PATCH, &format!("/api/v1/social/posts/{pending_id}/"), Some(&user.access))
        .json(&json!({ "content": "Edited draft" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(post_state(&app, &user, pending_id).await["content"], "Edited draft");
    let response = app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/social/posts/{}/", local["id"]),
            Some(&user.access),
        )
        .json(&json!({ "content": "Too late" }))
        .send()
        .await
        .expect("sent");
    error_of(response, StatusCode::CONFLICT).await;

    // A revoked token: the post fails with needs_reauth at once, the account needs reauth.
    mastodon.revoke();
    let refused = post(&app, &user, json!({ "social_account_id": account, "content": "Refused" })).await;
    let refused = wait_for_status(&app, &user, refused["id"].as_i64().expect("id"), "failed").await;
    assert_eq!(refused["error_code"], "needs_reauth");
    assert_eq!(account_status(&app, &user, account).await, "needs_reauth");
    let requests = mastodon.requests();
    let task = app.task(&user, refused["task_id"].as_str().expect("task")).await;
    assert_eq!(task["attempts"], 1, "nothing is retried against a 401");
    assert_eq!(mastodon.requests(), requests);
    let response =
        app.post(&format!("/api/v1/social/accounts/{account}/check/"), Some(&user.access), json!({})).await;
    let (code, _) = error_of(response, StatusCode::BAD_GATEWAY).await;
    assert_eq!(code, "needs_reauth");

    // Listing, filters and the calendar; another account sees none of it.
    let listed: Value = app
        .get("/api/v1/social/posts/?platform=mastodon&status=published", &user.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed["count"], 1);
    let today = chrono::Utc::now().date_naive();
    let calendar: Value = app
        .get(&format!("/api/v1/social/calendar/?from={today}&to={today}"), &user.access)
        .await
        .json()
        .await
        .expect("json");
    assert!(
        calendar["data"]["days"][0]["posts"].as_array().is_some_and(|posts| posts.len() >= 4),
        "{calendar}"
    );
    let other = app.signup().await;
    let theirs: Value = app.get("/api/v1/social/posts/", &other.access).await.json().await.expect("json");
    assert_eq!(theirs["count"], 0);
    let response = app.get(&format!("/api/v1/social/posts/{later_id}/"), &other.access).await;
    error_of(response, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn compose_writes_a_variant_per_platform_within_its_limits() {
    let mut app = spawn_app().await;
    app.start_worker(Queue::Social);
    let user = app.signup().await;
    let text = "Our new guide to choosing running shoes covers fit, cushioning and trail grip. \
                Choosing running shoes well saves your knees; trail running shoes need grip. "
        .repeat(6);
    let response = app
        .post(
            "/api/v1/social/compose/",
            Some(&user.access),
            json!({ "text": text, "platforms": ["x", "mastodon", "linkedin"], "max_hashtags": 3 }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.expect("json");
    let task = app.wait_for_state(&user, body["task_id"].as_str().expect("task"), "SUCCESS").await;
    let variants = task["result"]["variants"].as_array().expect("variants");
    assert_eq!(variants.len(), 3, "{task}");
    for variant in variants {
        let platform =
            shared::social::Platform::parse(variant["platform"].as_str().expect("platform")).expect("known");
        let text = variant["text"].as_str().expect("text");
        assert!(text.chars().count() <= platform.rules().max_chars, "{variant}");
        assert!(variant["hashtags"].as_array().is_some_and(|tags| tags.len() <= 3), "{variant}");
    }
    assert_eq!(task["result"]["credits_charged"], 3);

    let response = app
        .post(
            "/api/v1/social/compose/",
            Some(&user.access),
            json!({ "text": "hi", "platforms": ["myspace"] }),
        )
        .await;
    let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
    assert!(errors.get("platforms").is_some(), "{errors}");
    let response =
        app.post("/api/v1/social/compose/", Some(&user.access), json!({ "platforms": ["x"] })).await;
    let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
    assert!(errors.get("text").is_some(), "{errors}");
}

#[tokio::test]
async fn insights_are_pulled_into_analytics_and_a_daily_pull_is_scheduled() {
    let (app, user, mastodon, account, _scheduler) = with_mastodon().await;
    let schedules: Value =
        app.get("/api/v1/system/schedules/", &user.access).await.json().await.expect("json");
    assert!(
        schedules["results"].as_array().is_some_and(|all| all
            .iter()
            .any(|s| s["name"] == "Social insights (built-in)" && s["kind"] == "social.pull_insights")),
        "{schedules}"
    );
    let mut ids = Vec::new();
    for text in ["One", "Two"] {
        let made = post(&app, &user, json!({ "social_account_id": account, "content": text })).await;
        let published = wait_for_status(&app, &user, made["id"].as_i64().expect("id"), "published").await;
        ids.push(published["remote_id"].as_str().expect("remote").to_owned());
    }
    mastodon.react(&ids[0], 5, 2, 1);
    mastodon.react(&ids[1], 3, 0, 4);

    let response = app.post("/api/v1/social/insights/pull/", Some(&user.access), json!({})).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.expect("json");
    let task = app.wait_for_state(&user, body["task_id"].as_str().expect("task"), "SUCCESS").await;
    assert_eq!(task["result"]["posts_updated"], 2, "{task}");

    let today = chrono::Utc::now().date_naive();
    let analytics: Value = app
        .get(
            &format!("/api/v1/social/analytics/?platform=mastodon&start_date={today}&end_date={today}"),
            &user.access,
        )
        .await
        .json()
        .await
        .expect("json");
    let totals = &analytics["data"]["platforms"][0];
    assert_eq!(totals["platform"], "mastodon", "{analytics}");
    assert_eq!((totals["posts"].as_i64(), totals["likes"].as_i64()), (Some(2), Some(8)));
    assert_eq!((totals["shares"].as_i64(), totals["replies"].as_i64()), (Some(2), Some(5)));
    assert_eq!(analytics["data"]["accounts"][0]["social_account_id"], account);
    let response = app.get("/api/v1/social/analytics/?platform=myspace", &user.access).await;
    error_of(response, StatusCode::BAD_REQUEST).await;

    let insights: Value = app
        .get(&format!("/api/v1/social/accounts/{account}/insights/?days=7"), &user.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(insights["data"]["totals"]["likes"], 8, "{insights}");
    assert_eq!(insights["data"]["posts"].as_array().map(Vec::len), Some(2));
    let response =
        app.get(&format!("/api/v1/social/accounts/{account}/insights/?days=0"), &user.access).await;
    let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
    assert!(errors.get("days").is_some(), "{errors}");
    let other = app.signup().await;
    let response = app.get(&format!("/api/v1/social/accounts/{account}/insights/"), &other.access).await;
    error_of(response, StatusCode::NOT_FOUND).await;
}

/// Connects with a platform user id; the response's account id.
async fn connect_as(
    app: &TestApp,
    user: &TestUser,
    platform: &str,
    base_url: &str,
    token: &str,
    id: &str,
) -> i64 {
    let body = json!({
        "platform": platform, "platform_username": "switchyard", "access_token": token,
        "base_url": base_url, "platform_user_id": id,
    });
    let response = app.post("/api/v1/social/accounts/", Some(&user.access), body).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{}", response.text().await.unwrap_or_default());
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["data"]["platform_user_id"], id);
    body["data"]["id"].as_i64().expect("id")
}

/// A crash after the platform made the post: the post is `publishing` again with no remote id.
async fn crash_after_publishing(app: &TestApp, post_id: i64) {
    app.sql(move |conn| {
        diesel::update(social_posts::table.find(post_id))
            .set((social_posts::status.eq("publishing"), social_posts::remote_id.eq(None::<String>)))
            .execute(conn)?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn x_instagram_and_linkedin_publish_once_and_settle_a_crash_by_lookup() {
    let mut app = spawn_app().await;
    app.start_worker(Queue::Social);
    let _scheduler = scheduler(&app);
    let user = app.signup().await;
    let (x, meta, linked) = (FakeX::start().await, FakeGraph::start().await, FakeLinkedIn::start().await);
    let x_account = connect(&app, &user, "x", x.base_url(), &x.token()).await;
    let missing =
        json!({ "platform": "linkedin", "handle": "s", "access_token": "t", "platform_user_id": "42" });
    let response = app.post("/api/v1/social/accounts/", Some(&user.access), missing).await;
    let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
    assert!(errors["platform_user_id"][0].as_str().is_some_and(|m| m.contains("URN")), "{errors}");
    let instagram =
        connect_as(&app, &user, "instagram", meta.base_url(), &meta.token(), graph::INSTAGRAM_ID).await;
    let linkedin =
        connect_as(&app, &user, "linkedin", linked.base_url(), &linked.token(), linkedin::PERSON_URN).await;

    // X: published once; after a crash the retry finds the tweet instead of posting again.
    let tweet = post(&app, &user, json!({ "social_account_id": x_account, "content": "Launch day" })).await;
    let tweet_id = tweet["id"].as_i64().expect("id");
    let published = wait_for_status(&app, &user, tweet_id, "published").await;
    assert_eq!(x.tweets().len(), 1);
    crash_after_publishing(&app, tweet_id).await;
    let again = enqueue(&app, &user, PublishPost::NAME, json!({ "post_id": tweet_id })).await;
    app.wait_for_state(&user, &again, "SUCCESS").await;
    let settled = wait_for_status(&app, &user, tweet_id, "published").await;
    assert_eq!(settled["remote_id"], published["remote_id"]);
    assert_eq!(x.tweets().len(), 1, "found by lookup, not tweeted twice");

    // Instagram needs media, takes JPEG, and goes through a container.
    let response = app
        .post(
            "/api/v1/social/posts/",
            Some(&user.access),
            json!({ "social_account_id": instagram, "content": "No picture" }),
        )
        .await;
    let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
    assert!(errors.get("media").is_some(), "{errors}");
    let picture = json!({ "social_account_id": instagram, "content": "New season #shoes", "media": ["http://127.0.0.1:9/shoe.jpg"] });
    let made = post(&app, &user, picture).await;
    let made_id = made["id"].as_i64().expect("id");
    let published = wait_for_status(&app, &user, made_id, "published").await;
    assert!(
        published["remote_url"].as_str().is_some_and(|url| url.starts_with("https://www.instagram.com/p/"))
    );
    crash_after_publishing(&app, made_id).await;
    let again = enqueue(&app, &user, PublishPost::NAME, json!({ "post_id": made_id })).await;
    app.wait_for_state(&user, &again, "SUCCESS").await;
    assert_eq!(wait_for_status(&app, &user, made_id, "published").await["remote_id"], published["remote_id"]);
    assert_eq!(meta.instagram_media().len(), 1);

    // LinkedIn: published as the member; a revoked token fails the next post with
    // needs_reauth and marks the account.
    let shared_post =
        post(&app, &user, json!({ "social_account_id": linkedin, "content": "Hiring (remote)" })).await;
    let shared_post =
        wait_for_status(&app, &user, shared_post["id"].as_i64().expect("id"), "published").await;
    assert!(shared_post["remote_id"].as_str().is_some_and(|urn| urn.starts_with("urn:li:share:")));
    assert_eq!(linked.posts()[0]["author"], linkedin::PERSON_URN);
    linked.revoke();
    let refused = post(&app, &user, json!({ "social_account_id": linkedin, "content": "Refused" })).await;
    let refused = wait_for_status(&app, &user, refused["id"].as_i64().expect("id"), "failed").await;
    assert_eq!(refused["error_code"], "needs_reauth");
    assert_eq!(account_status(&app, &user, linkedin).await, "needs_reauth");

    // Authorized again: a new token, the account active, posting works.
    let token = linked.reissue();
    let response = app
        .post(
            &format!("/api/v1/social/accounts/{linkedin}/reconnect/"),
            Some(&user.access),
            json!({ "access_token": token }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(account_status(&app, &user, linkedin).await, "active");
    let back = post(&app, &user, json!({ "social_account_id": linkedin, "content": "Back again" })).await;
    wait_for_status(&app, &user, back["id"].as_i64().expect("id"), "published").await;
    assert_eq!(linked.posts().len(), 2);
    let response = app
        .post(
            &format!("/api/v1/social/accounts/{linkedin}/reconnect/"),
            Some(&user.access),
            json!({ "access_token": "" }),
        )
        .await;
    let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
    assert!(errors.get("access_token").is_some(), "{errors}");
}

#[tokio::test]
async fn the_seeds_disconnect_by_platform_cancels_every_accounts_scheduled_posts() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let first = connect(&app, &user, "sandbox", "", "one").await;
    connect(&app, &user, "sandbox", "", "two").await;
    let keep = connect(&app, &user, "mastodon", "", "three").await;
    let scheduled =
        json!({ "social_account_id": first, "content": "Later", "scheduled_time": in_seconds(3_600) });
    let later = post(&app, &user, scheduled).await;

    let response = app
        .post("/api/v1/social/accounts/disconnect/", Some(&user.access), json!({ "platform": "sandbox" }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        (body["data"]["disconnected"].as_i64(), body["data"]["posts_cancelled"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(post_state(&app, &user, later["id"].as_i64().expect("id")).await["status"], "cancelled");
    assert_eq!(account_status(&app, &user, keep).await, "active");

    let again = app
        .post("/api/v1/social/accounts/disconnect/", Some(&user.access), json!({ "platform": "sandbox" }))
        .await;
    error_of(again, StatusCode::NOT_FOUND).await;
    let bad = app
        .post("/api/v1/social/accounts/disconnect/", Some(&user.access), json!({ "platform": "myspace" }))
        .await;
    let (_, errors) = error_of(bad, StatusCode::BAD_REQUEST).await;
    assert!(errors.get("platform").is_some(), "{errors}");
}

#[tokio::test]
async fn a_post_whose_media_or_platform_address_is_refused_fails_at_once() {
    let (app, user, mastodon, account, _scheduler) = with_mastodon().await;
    // Media in spellings the guard refuses even with 127.0.0.1 allowed (the tests' setting):
    // 0.0.0.0 and an IPv4-mapped loopback. A listener at the port proves nothing is dialled.
    let witness = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    witness.set_nonblocking(true).expect("nonblocking");
    let port = witness.local_addr().expect("address").port();
    for media in [format!("http://0:{port}/photo.png"), format!("http://[::ffff:127.0.0.1]:{port}/photo.png")]
    {
        let made =
            post(&app, &user, json!({ "social_account_id": account, "content": "Inside", "media": [media] }))
                .await;
        let failed = wait_for_status(&app, &user, made["id"].as_i64().expect("id"), "failed").await;
        assert_eq!(failed["error_code"], "address_refused", "{failed}");
        assert!(failed["error_message"].as_str().is_some_and(|m| m.contains("media item 0")), "{failed}");
        let task = app.task(&user, failed["task_id"].as_str().expect("task")).await;
        assert_eq!(task["attempts"], 1, "a refusal is not retried: {task}");
    }
    assert_eq!(std::iter::from_fn(|| witness.accept().ok()).count(), 0, "a refused address was dialled");
    assert!(mastodon.statuses().is_empty() && mastodon.media().is_empty());

    // A platform address that no longer passes (saved before the guard read it right): the
    // IPv4-mapped form of the allowed 127.0.0.1 is another address, and refused.
    shared::db::run(&app.pool, move |conn| {
        use shared::db::schema::social_accounts;
        diesel::update(social_accounts::table.find(account))
            .set(social_accounts::base_url.eq(format!("http://[::ffff:7f00:1]:{port}/")))
            .execute(conn)?;
        Ok(())
    })
    .await
    .expect("base URL");
    let made = post(&app, &user, json!({ "social_account_id": account, "content": "Nowhere" })).await;
    let failed = wait_for_status(&app, &user, made["id"].as_i64().expect("id"), "failed").await;
    assert_eq!(failed["error_code"], "address_refused", "{failed}");
    let publishing: i64 = shared::db::run(&app.pool, |conn| {
        Ok(social_posts::table.filter(social_posts::status.eq("publishing")).count().get_result(conn)?)
    })
    .await
    .expect("count");
    assert_eq!(publishing, 0, "no post is left publishing");
    assert_eq!(std::iter::from_fn(|| witness.accept().ok()).count(), 0, "a refused address was dialled");
}
