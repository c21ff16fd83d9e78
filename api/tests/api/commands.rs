//! Command semantics: idempotency keys, cancellation, listing and conditional polling.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::tasks::Queue;

use crate::helpers::{TestApp, TestUser, error_of, spawn_app};

async fn ping_with_key(app: &TestApp, user: &TestUser, key: &str, payload: Value) -> reqwest::Response {
    app.request(Method::POST, "/api/v1/system/ping/", Some(&user.access))
        .header("Idempotency-Key", key)
        .json(&payload)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn a_retried_command_with_the_same_idempotency_key_returns_the_same_task() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let first = ping_with_key(&app, &user, "order-42", json!({ "steps": 3 })).await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let first: Value = first.json().await.expect("json");
    let second: Value =
        ping_with_key(&app, &user, "order-42", json!({ "steps": 3 })).await.json().await.expect("json");
    assert_eq!(first["task_id"], second["task_id"]);
    assert_eq!(first["status_url"], format!("/api/v1/tasks/{}", first["task_id"].as_str().expect("id")));

    let tasks: Value = app.get("/api/v1/tasks/", &user.access).await.json().await.expect("json");
    assert_eq!(tasks["count"], 1, "one task, not two");

    let different = ping_with_key(&app, &user, "order-42", json!({ "steps": 4 })).await;
    assert_eq!(error_of(different, StatusCode::UNPROCESSABLE_ENTITY).await.0, "idempotency_key_reused");

    // Keys are per account: another tenant's identical key is a different command.
    let other = app.signup().await;
    let theirs: Value =
        ping_with_key(&app, &other, "order-42", json!({ "steps": 3 })).await.json().await.expect("json");
    assert_ne!(theirs["task_id"], first["task_id"]);

    let bad_key = ping_with_key(&app, &user, &"x".repeat(300), json!({})).await;
    assert!(error_of(bad_key, StatusCode::BAD_REQUEST).await.1["Idempotency-Key"].is_array());
}

async fn cancel(app: &TestApp, user: &TestUser, task_id: &str) -> reqwest::Response {
    app.post(&format!("/api/v1/tasks/{task_id}/cancel"), Some(&user.access), json!({})).await
}

#[tokio::test]
async fn a_pending_task_is_revoked_at_once_and_never_runs() {
    let mut app = spawn_app().await;
    let user = app.signup().await;
    let task_id = app.ping(&user, json!({ "steps": 2 })).await;
    let response = cancel(&app, &user, &task_id).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["data"]["state"], "REVOKED");

    app.start_worker(Queue::Clustering);
    let marker = app.ping(&user, json!({ "steps": 1 })).await;
    app.wait_for_state(&user, &marker, "SUCCESS").await;
    let task = app.task(&user, &task_id).await;
    assert_eq!(task["state"], "REVOKED");
    assert_eq!(task["attempts"], 0, "the worker skipped it");

    let again = cancel(&app, &user, &task_id).await;
    assert_eq!(again.status(), StatusCode::OK, "cancelling twice is harmless");
    let finished = cancel(&app, &user, &marker).await;
    assert_eq!(error_of(finished, StatusCode::CONFLICT).await.0, "task_finished");
}

#[tokio::test]
async fn a_running_task_stops_at_its_next_progress_step() {
    let mut app = spawn_app().await;
    let user = app.signup().await;
    app.start_worker(Queue::Clustering);
    let task_id = app.ping(&user, json!({ "steps": 100, "sleep_ms": 100 })).await;
    app.wait_for_state(&user, &task_id, "PROGRESS").await;
    let response = cancel(&app, &user, &task_id).await;
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["message"], "Cancellation requested");
    let task = app.wait_for_state(&user, &task_id, "REVOKED").await;
    assert!(task["percentage"].as_i64().expect("percentage") < 100);
    assert!(task["result"].is_null());
}

#[tokio::test]
async fn polling_sends_an_etag_and_answers_304_while_nothing_changed() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let task_id = app.ping(&user, json!({})).await;
    for path in
        [format!("/api/v1/tasks/{task_id}"), format!("/api/v1/system/settings/task_progress/{task_id}/")]
    {
        let first = app.get(&path, &user.access).await;
        let etag = first.headers()["etag"].to_str().expect("etag").to_owned();
        let again = app
            .request(Method::GET, &path, Some(&user.access))
            .header("If-None-Match", &etag)
            .send()
            .await
            .expect("request");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(again.headers()["etag"], etag.as_str());
    }
    cancel(&app, &user, &task_id).await;
    let path = format!("/api/v1/tasks/{task_id}");
    let stale = app
        .request(Method::GET, &path, Some(&user.access))
        .header("If-None-Match", "\"old\"")
        .send()
        .await
        .expect("request");
    assert_eq!(stale.status(), StatusCode::OK);
}

#[tokio::test]
async fn tasks_list_paginates_and_filters_by_state_and_kind() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(app.ping(&user, json!({})).await);
    }
    cancel(&app, &user, &ids[0]).await;
    let page: Value = app.get("/api/v1/tasks?page_size=2", &user.access).await.json().await.expect("json");
    assert_eq!(page["count"], 3);
    assert_eq!(page["results"].as_array().expect("results").len(), 2);
    assert!(page["next"].as_str().expect("next").contains("page=2"));
    assert!(page["previous"].is_null());
    let second: Value =
        app.get("/api/v1/tasks?page_size=2&page=2", &user.access).await.json().await.expect("json");
    assert_eq!(second["results"].as_array().expect("results").len(), 1);
    assert!(second["next"].is_null());

    let revoked: Value =
        app.get("/api/v1/tasks?state=REVOKED", &user.access).await.json().await.expect("json");
    assert_eq!(revoked["count"], 1);
    assert_eq!(revoked["results"][0]["task_id"], ids[0].as_str());
    let by_kind: Value =
        app.get("/api/v1/tasks?kind=system.ping", &user.access).await.json().await.expect("json");
    assert_eq!(by_kind["count"], 3);
    let none: Value =
        app.get("/api/v1/tasks?kind=planner.auto_cluster", &user.access).await.json().await.expect("json");
    assert_eq!(none["count"], 0);
}
