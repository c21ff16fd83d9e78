//! `GET system/request-metrics/{request_id}/`: every answer carries its `X-Request-Id`, and an
//! operator reads that request's resource use by it while the store keeps it.

use std::{sync::Arc, time::Duration};

use api::ManualClock;
use diesel::prelude::*;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use shared::db::schema::accounts;

use crate::helpers::{PASSWORD, TestApp, TestUser, error_of, spawn_app, spawn_app_with_clock};

async fn make_operator(app: &TestApp, user: &TestUser) {
    let account_id = user.account_id;
    app.sql(move |conn| {
        diesel::update(accounts::table.find(account_id)).set(accounts::is_system.eq(true)).execute(conn)?;
        Ok(())
    })
    .await;
}

fn request_id(response: &Response) -> String {
    let id = response.headers().get("x-request-id").expect("X-Request-Id").to_str().expect("text");
    uuid::Uuid::parse_str(id).expect("a UUID").to_string()
}

fn metrics_path(id: &str) -> String {
    format!("/api/v1/system/request-metrics/{id}/")
}

#[tokio::test]
async fn an_operator_reads_what_a_request_cost_by_its_request_id() {
    let app = spawn_app().await;
    let operator = app.signup().await;
    make_operator(&app, &operator).await;

    let served = app.get("/api/v1/system/settings/modules/module/seo/", &operator.access).await;
    assert_eq!(served.status(), StatusCode::OK);
    let id = request_id(&served);
    let answer = app.get(&metrics_path(&id), &operator.access).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = answer.json().await.expect("json");
    assert_eq!(body["request_id"], id.as_str());
    assert_eq!(body["path"], "/api/v1/system/settings/modules/module/seo");
    assert_eq!((body["method"].as_str(), body["status"].as_u64()), (Some("GET"), Some(200)));
    assert!(body["memory_mb"].as_f64().is_some_and(|mb| mb > 0.0), "{body}");
    assert!(body["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{body}");
    for field in ["cpu_percent", "cpu_time_ms", "io_read_mb", "io_write_mb"] {
        assert!(body[field].as_f64().is_some_and(|figure| figure >= 0.0), "{field}: {body}");
    }
    assert!(body["recorded_at"].is_string(), "{body}");
    assert_eq!(body["data"]["request_id"], body["request_id"], "also under data");

    // Error answers carry an id too, and are measured like the rest.
    let missing = app.get("/api/v1/no-such-thing/", &operator.access).await;
    let missing_id = request_id(&missing);
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let measured: Value =
        app.get(&metrics_path(&missing_id), &operator.access).await.json().await.expect("json");
    assert_eq!(measured["status"], 404, "{measured}");

    let (code, _) = error_of(
        app.get(&metrics_path(&uuid::Uuid::new_v4().to_string()), &operator.access).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(code, "not_found");
    let malformed = app.get(&metrics_path("abc123"), &operator.access).await;
    assert!(error_of(malformed, StatusCode::BAD_REQUEST).await.1.get("request_id").is_some());
}

#[tokio::test]
async fn only_operators_read_request_metrics() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let served = app.get("/api/v1/auth/me/", &owner.access).await;
    let id = request_id(&served);
    let (code, _) = error_of(app.get(&metrics_path(&id), &owner.access).await, StatusCode::FORBIDDEN).await;
    assert_eq!(code, "not_operator", "an ordinary account's owner");

    let operator = app.signup().await;
    make_operator(&app, &operator).await;
    let email = format!("editor-{}@example.com", uuid::Uuid::new_v4().simple());
    let invited = app
        .post(
            "/api/v1/auth/users/",
            Some(&operator.access),
            json!({ "email": email, "password": PASSWORD, "role": "editor" }),
        )
        .await;
    assert_eq!(invited.status(), StatusCode::CREATED);
    let editor = app.login(&email, PASSWORD).await;
    error_of(app.get(&metrics_path(&id), &editor.access).await, StatusCode::FORBIDDEN).await;
    assert_eq!(app.get(&metrics_path(&id), &operator.access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_oldest_requests_are_evicted_and_none_outlives_its_minutes() {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let app = spawn_app_with_clock(
        |config| {
            config.request_metrics_capacity = 3;
            config.request_metrics_ttl = Duration::from_secs(60);
        },
        clock.clone(),
    )
    .await;
    let operator = app.signup().await;
    make_operator(&app, &operator).await;

    let first = request_id(&app.get("/api/v1/auth/me/", &operator.access).await);
    // The lookup is a request too: [first, lookup], then two more fill the store and the third
    // pushes `first` out.
    assert_eq!(app.get(&metrics_path(&first), &operator.access).await.status(), StatusCode::OK);
    for _ in 0..2 {
        app.get("/api/v1/auth/me/", &operator.access).await;
    }
    error_of(app.get(&metrics_path(&first), &operator.access).await, StatusCode::NOT_FOUND).await;

    let recent = request_id(&app.get("/api/v1/auth/me/", &operator.access).await);
    assert_eq!(app.get(&metrics_path(&recent), &operator.access).await.status(), StatusCode::OK);
    clock.advance(Duration::from_secs(61));
    error_of(app.get(&metrics_path(&recent), &operator.access).await, StatusCode::NOT_FOUND).await;
}
