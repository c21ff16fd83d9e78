//! The status endpoint and response headers.

use reqwest::StatusCode;
use serde_json::Value;
use shared::tasks::Queue;
use testkit::eventually;

use crate::helpers::spawn_app;

#[tokio::test]
async fn status_reports_dependencies_and_live_workers_without_auth() {
    let mut app = spawn_app().await;
    app.start_worker(Queue::Seo);
    app.start_worker(Queue::Seo);
    let body = eventually(std::time::Duration::from_secs(10), "two live seo workers", || async {
        let response =
            app.client.get(format!("{}/api/v1/system/status/", app.address)).send().await.expect("status");
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        (body["workers"]["seo"] == 2).then_some(body)
    })
    .await;
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["database"], "connected");
    assert_eq!(body["broker"], "connected");
    assert_eq!(body["workers"]["clustering"], 0);
    assert!(body["version"].is_string());
}

#[tokio::test]
async fn responses_carry_security_headers_and_cors_answers_configured_origins() {
    let app = spawn_app().await;
    let response =
        app.client.get(format!("{}/api/v1/system/status/", app.address)).send().await.expect("status");
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(headers.contains_key("content-security-policy"));
    assert!(!headers.contains_key("strict-transport-security"), "plain HTTP here");

    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/api/v1/auth/login/", app.address))
        .header("Origin", "http://localhost:3000")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type,idempotency-key")
        .send()
        .await
        .expect("preflight");
    assert!(preflight.status().is_success());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "http://localhost:3000");

    let foreign = app
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/api/v1/auth/login/", app.address))
        .header("Origin", "https://evil.example")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .expect("preflight");
    assert!(!foreign.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn status_is_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    let name = shared::db::split_database_url(&app.config.database_url).expect("url").1;
    tokio::task::spawn_blocking(move || {
        use diesel::{Connection, RunQueryDsl};
        let mut admin = diesel::PgConnection::establish(&format!("{}/postgres", testkit::db::server_url()))
            .expect("admin connection");
        diesel::sql_query(format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
            .execute(&mut admin)
            .expect("drop");
    })
    .await
    .expect("join");
    let response =
        app.client.get(format!("{}/api/v1/system/status/", app.address)).send().await.expect("status");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["database"], "unreachable");
    assert_eq!(body["broker"], "connected");
    assert_eq!(body["status"], "unhealthy");
}
