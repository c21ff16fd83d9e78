//! Rate limits: per user when authenticated, per IP otherwise, with headers and 429.

use std::{sync::Arc, time::Duration};

use api::{Clock, ManualClock};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, error_of, spawn_app_with, spawn_app_with_clock};

/// Limits count per clock minute: the app reads a clock that stands still at the start of a
/// minute, so no test straddles two windows, and a test moves it to reach the next one.
fn start_of_a_window() -> Arc<ManualClock> {
    let now = chrono::Utc::now();
    let start = now.timestamp() - now.timestamp() % 60;
    Arc::new(ManualClock::new(chrono::DateTime::from_timestamp(start, 0).unwrap_or(now)))
}

#[tokio::test]
async fn anonymous_and_authenticated_callers_are_limited_separately() {
    let clock = start_of_a_window();
    let app = spawn_app_with_clock(
        |config| {
            config.rate_limit_anon_per_minute = 4;
            config.rate_limit_auth_per_minute = 4;
            config.rate_limit_user_per_minute = 5;
        },
        clock.clone(),
    )
    .await;
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
    assert_eq!(retry_after, 60, "the window is a minute and the clock stands at its start");
    assert_eq!(limited.headers()["x-ratelimit-reset"], (clock.epoch_secs() + 60).to_string().as_str());
    assert_eq!(error_of(limited, StatusCode::TOO_MANY_REQUESTS).await.0, "rate_limited");

    // The user has a budget of their own.
    for remaining in (0..5).rev() {
        let response = app.get("/api/v1/auth/me/", &user.access).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-ratelimit-remaining"], remaining.to_string().as_str());
    }
    assert_eq!(app.get("/api/v1/auth/me/", &user.access).await.status(), StatusCode::TOO_MANY_REQUESTS);

    // A minute later both budgets are whole again.
    clock.advance(Duration::from_secs(60));
    let next = app.get("/api/v1/auth/me/", &user.access).await;
    assert_eq!(next.status(), StatusCode::OK);
    assert_eq!(next.headers()["x-ratelimit-remaining"], "4");
    assert_eq!(login().await.headers()["x-ratelimit-remaining"], "3");

    // Health probes and the embedded pages' files are never limited.
    for path in ["/api/v1/system/status/", "/dashboard/", "/dashboard/app.js", "/api/docs/"] {
        let answer = app.client.get(format!("{}{path}", app.address)).send().await.expect("page");
        assert_eq!(answer.status(), StatusCode::OK, "{path}");
    }
}

async fn login_as(app: &TestApp, email: &str, password: &str, token: Option<&str>) -> reqwest::Response {
    app.post("/api/v1/auth/login/", token, json!({ "email": email, "password": password })).await
}

#[tokio::test]
async fn a_token_of_ones_own_does_not_buy_more_password_guesses() {
    let app = spawn_app_with_clock(
        |config| {
            config.rate_limit_auth_per_minute = 10;
            config.rate_limit_anon_per_minute = 1_000;
            config.rate_limit_user_per_minute = 1_000;
        },
        start_of_a_window(),
    )
    .await;
    let attacker = app.signup().await; // a register and a login: two tries of this IP
    let mut statuses = Vec::new();
    for i in 0..60 {
        // A new target each time, so only the per-IP budget can stop this.
        let email = format!("victim-{i}@example.com");
        statuses.push(login_as(&app, &email, "guess", Some(&attacker.access)).await.status());
    }
    let unauthorized = statuses.iter().filter(|&&status| status == StatusCode::UNAUTHORIZED).count();
    assert_eq!(unauthorized, 8, "{statuses:?}");
    assert!(statuses[8..].iter().all(|&status| status == StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    let refresh = app.post("/api/v1/auth/refresh/", Some(&attacker.access), json!({ "refresh": "x" })).await;
    assert_eq!(refresh.status(), StatusCode::TOO_MANY_REQUESTS, "refresh shares the credential budget");
    // Other calls of the user keep their own budget.
    assert_eq!(app.get("/api/v1/auth/me/", &attacker.access).await.status(), StatusCode::OK);
}

/// The run of failures of `email`: its length and how long its lock was set for, in seconds.
async fn run_of(app: &TestApp, email: &str) -> (i32, Option<f64>) {
    #[derive(diesel::QueryableByName)]
    struct Run {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        failures: i32,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Double>)]
        lock: Option<f64>,
    }
    let email = email.to_owned();
    let run: Run = app
        .sql(move |conn| {
            use diesel::prelude::*;
            Ok(diesel::sql_query(
                "SELECT failures, extract(epoch FROM locked_until - last_failed_at)::float8 AS lock \
                 FROM login_throttles WHERE email = $1",
            )
            .bind::<diesel::sql_types::Text, _>(email)
            .get_result(conn)?)
        })
        .await;
    (run.failures, run.lock)
}

/// Rewrites the run of `email` as if it had `failures` and a lock ending in `lock_secs`.
async fn set_run(app: &TestApp, email: &str, failures: i32, lock_secs: i32) {
    let email = email.to_owned();
    app.sql(move |conn| {
        use diesel::prelude::*;
        diesel::sql_query(
            "INSERT INTO login_throttles (email, failures, locked_until) \
             VALUES ($1, $2, now() + make_interval(secs => $3)) \
             ON CONFLICT (email) DO UPDATE SET failures = EXCLUDED.failures, locked_until = EXCLUDED.locked_until",
        )
        .bind::<diesel::sql_types::Text, _>(email)
        .bind::<diesel::sql_types::Integer, _>(failures)
        .bind::<diesel::sql_types::Integer, _>(lock_secs)
        .execute(conn)?;
        Ok(())
    })
    .await;
}

fn near(lock: Option<f64>, secs: f64) -> bool {
    lock.is_some_and(|lock| (lock - secs).abs() < 0.5)
}

#[tokio::test]
async fn failures_on_one_email_lock_it_for_a_doubling_time_and_its_user_is_told() {
    let app = spawn_app_with(|_| {}).await;
    let victim = app.signup().await;
    for _ in 0..4 {
        let wrong = login_as(&app, &victim.email, "guess", None).await;
        assert_eq!(error_of(wrong, StatusCode::UNAUTHORIZED).await.0, "invalid_credentials");
    }
    assert_eq!(run_of(&app, &victim.email).await, (4, None), "four failures are free");
    login_as(&app, &victim.email, "guess", None).await;
    let (failures, lock) = run_of(&app, &victim.email).await;
    assert!(failures == 5 && near(lock, 1.0), "{failures} {lock:?}");

    set_run(&app, &victim.email, 7, 0).await;
    let wrong = login_as(&app, &victim.email, "guess", None).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let (failures, lock) = run_of(&app, &victim.email).await;
    assert!(failures == 8 && near(lock, 8.0), "the lock doubles: {failures} {lock:?}");
    // While locked, the right password is refused like a wrong one.
    let locked = login_as(&app, &victim.email, PASSWORD, None).await;
    let retry_after: u64 = locked.headers()["retry-after"].to_str().expect("header").parse().expect("secs");
    assert!((1..=8).contains(&retry_after), "{retry_after}");
    error_of(locked, StatusCode::TOO_MANY_REQUESTS).await;

    set_run(&app, &victim.email, 8, -1).await;
    let signed_in = login_as(&app, &victim.email, PASSWORD, None).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let body: serde_json::Value = signed_in.json().await.expect("json");
    assert_eq!(body["failed_sign_ins"]["count"], 8, "{body}");
    assert!(body["failed_sign_ins"]["last_failed_at"].is_string());
    let again: serde_json::Value =
        login_as(&app, &victim.email, PASSWORD, None).await.json().await.expect("json");
    assert_eq!(again["failed_sign_ins"]["count"], 0, "a sign-in ends the run");

    // After 90 failures the lock is the longest one, whatever password comes.
    set_run(&app, &victim.email, 89, -1).await;
    login_as(&app, &victim.email, "guess", None).await;
    assert!(near(run_of(&app, &victim.email).await.1, 900.0));
    let locked = login_as(&app, &victim.email, PASSWORD, None).await;
    let retry_after: u64 = locked.headers()["retry-after"].to_str().expect("header").parse().expect("secs");
    assert!((880..=900).contains(&retry_after), "{retry_after}");
    error_of(locked, StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test]
async fn unknown_emails_and_password_changes_are_throttled_alike() {
    let app = spawn_app_with(|_| {}).await;
    let user = app.signup().await;
    for _ in 0..5 {
        login_as(&app, "Nobody@Example.com", "guess", None).await;
    }
    let (failures, lock) = run_of(&app, "nobody@example.com").await;
    assert!(failures == 5 && near(lock, 1.0), "an unknown email locks like a known one");

    let change = |old: &'static str| {
        app.post(
            "/api/v1/auth/change-password/",
            Some(&user.access),
            json!({ "old_password": old, "new_password": "another-long-pass", "new_password_confirm": "another-long-pass" }),
        )
    };
    for _ in 0..5 {
        let (_, errors) = error_of(change("guess").await, StatusCode::BAD_REQUEST).await;
        assert!(errors.get("old_password").is_some(), "{errors}");
    }
    assert_eq!(run_of(&app, &user.email).await.0, 5, "a wrong current password is a failure");
    set_run(&app, &user.email, 10, 60).await;
    error_of(change(PASSWORD).await, StatusCode::TOO_MANY_REQUESTS).await;
    error_of(login_as(&app, &user.email, PASSWORD, None).await, StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test]
async fn a_lock_ends_when_the_clock_passes_it() {
    let clock = start_of_a_window();
    let app = spawn_app_with_clock(|_| {}, clock.clone()).await;
    let victim = app.signup().await;
    for _ in 0..5 {
        login_as(&app, &victim.email, "guess", None).await;
    }
    // The fifth failure in a row locked the email for a second of the app's clock.
    let locked = login_as(&app, &victim.email, PASSWORD, None).await;
    assert_eq!(locked.headers()["retry-after"], "1");
    error_of(locked, StatusCode::TOO_MANY_REQUESTS).await;
    clock.advance(Duration::from_secs(1));
    assert_eq!(login_as(&app, &victim.email, PASSWORD, None).await.status(), StatusCode::OK);
}
