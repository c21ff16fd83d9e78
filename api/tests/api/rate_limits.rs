//! Rate limits: per user when authenticated, per IP otherwise, with headers and 429.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{error_of, spawn_app_with};

/// Limits count per clock minute; start a test early in one so it does not straddle two.
async fn at_start_of_a_window() {
    let into_minute = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs() % 60;
    if into_minute > 50 {
        tokio::time::sleep(Duration::from_secs(61 - into_minute)).await;
    }
}

#[tokio::test]
async fn anonymous_and_authenticated_callers_are_limited_separately() {
    let app = spawn_app_with(|config| {
        config.rate_limit_anon_per_minute = 4;
        config.rate_limit_user_per_minute = 5;
    })
    .await;
    at_start_of_a_window().await;
    let user = app.signup().await; // two anonymous requests

    let login =
        || app.post("/api/v1/auth/login/", None, json!({ "email": "x@example.com", "password": "whatever" }));
    let third = login().await;
    assert_eq!(third.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(third.headers()["x-ratelimit-limit"], "4");
    assert_eq!(third.headers()["x-ratelimit-remaining"], "1");
    assert!(third.headers().contains_key("x-ratelimit-reset"));
    assert_eq!(login().await.status(), StatusCode::UNAUTHORIZED);
    let limited = login().await;
    let retry_after: u64 =
        limited.headers()["retry-after"].to_str().expect("header").parse().expect("seconds");
    assert!((1..=60).contains(&retry_after));
    assert_eq!(error_of(limited, StatusCode::TOO_MANY_REQUESTS).await.0, "rate_limited");

    // The user has a budget of their own.
    for remaining in (0..5).rev() {
        let response = app.get("/api/v1/auth/me/", &user.access).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-ratelimit-remaining"], remaining.to_string().as_str());
    }
    assert_eq!(app.get("/api/v1/auth/me/", &user.access).await.status(), StatusCode::TOO_MANY_REQUESTS);

    // Health probes and the embedded pages' files are never limited.
    for path in ["/api/v1/system/status/", "/dashboard/", "/dashboard/app.js", "/api/docs/"] {
        let answer = app.client.get(format!("{}{path}", app.address)).send().await.expect("page");
        assert_eq!(answer.status(), StatusCode::OK, "{path}");
    }
}
