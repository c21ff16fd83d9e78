//! Attempt history and throughput of tasks, as the dashboard reads them.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{error_of, spawn_app};

#[tokio::test]
async fn each_attempt_is_recorded_with_its_worker_outcome_and_error() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let task_id = app.ping(&user, json!({ "steps": 2, "fail_times": 1, "queue": "content" })).await;
    app.finish(&user, &task_id).await;

    let response = app.get(&format!("/api/v1/tasks/{task_id}/attempts/"), &user.access).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    let attempts = body["data"].as_array().expect("a list");
    assert_eq!(attempts.len(), 2, "{body}");
    assert_eq!(attempts[0]["attempt"], 1);
    assert_eq!(attempts[0]["outcome"], "retry");
    assert!(attempts[0]["error"].as_str().is_some_and(|error| !error.is_empty()), "{body}");
    assert_eq!(attempts[1]["attempt"], 2);
    assert_eq!(attempts[1]["outcome"], "succeeded");
    assert_eq!(attempts[1]["error"], Value::Null);
    for attempt in attempts {
        assert!(attempt["worker_id"].is_string(), "{attempt}");
        assert!(attempt["finished_at"].as_str() >= attempt["started_at"].as_str(), "{attempt}");
    }

    let stranger = app.signup().await;
    let foreign = app.get(&format!("/api/v1/tasks/{task_id}/attempts/"), &stranger.access).await;
    error_of(foreign, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn stats_count_the_accounts_finished_and_retried_tasks_per_bucket() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let retried = app.ping(&user, json!({ "steps": 1, "fail_times": 1, "queue": "content" })).await;
    let failed =
        app.ping(&user, json!({ "steps": 1, "fail_times": 5, "max_attempts": 1, "queue": "content" })).await;
    app.finish_failed(&user, &failed).await;
    assert_eq!(app.task(&user, &retried).await["state"], "SUCCESS");
    let stranger = app.signup().await;
    let other = app.ping(&stranger, json!({ "steps": 1, "queue": "content" })).await;
    app.finish(&stranger, &other).await;

    let response = app.get("/api/v1/tasks/stats/?minutes=60", &user.access).await;
    assert_eq!(response.status(), StatusCode::OK);
    let stats: Value = response.json().await.expect("json");
    let data = &stats["data"];
    assert_eq!(data["bucket_seconds"], 60);
    let buckets = data["buckets"].as_array().expect("buckets");
    assert!((60..=62).contains(&buckets.len()), "{} buckets", buckets.len());
    let sum = |field: &str| buckets.iter().map(|bucket| bucket[field].as_i64().expect("count")).sum::<i64>();
    assert_eq!((sum("succeeded"), sum("failed"), sum("retried")), (1, 1, 1), "{data}");
    assert_eq!(data["totals"]["succeeded"], 1);
    assert_eq!(data["totals"]["failed"], 1);
    assert_eq!(data["totals"]["running"], 0);

    let day = app.get("/api/v1/tasks/stats/?minutes=1440", &user.access).await;
    let day: Value = day.json().await.expect("json");
    assert_eq!(day["data"]["bucket_seconds"], 1440);

    let wrong = app.get("/api/v1/tasks/stats/?minutes=0", &user.access).await;
    let (code, errors) = error_of(wrong, StatusCode::BAD_REQUEST).await;
    assert_eq!(code, "validation_error");
    assert!(errors["minutes"].is_array(), "{errors}");
}
