//! Operators' endpoints against the real broker and database: dead letters drained from the
//! broker, listed with their task and error, requeued (the task runs again with its attempts
//! kept) and purged; every unfinished task of a kind cancelled; nobody else let in.

use std::time::Duration;

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::{db::schema::accounts, tasks::Queue};

use crate::helpers::{TestApp, TestUser, error_of, spawn_app};

async fn make_operator(app: &TestApp, user: &TestUser) {
    let account_id = user.account_id;
    app.sql(move |conn| {
        diesel::update(accounts::table.find(account_id)).set(accounts::is_system.eq(true)).execute(conn)?;
        Ok(())
    })
    .await;
}

async fn body(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

#[tokio::test]
async fn operators_requeue_and_purge_dead_letters() {
    let mut app = spawn_app().await;
    let user = app.signup().await;
    let response = app.get("/api/v1/system/admin/dead-letters/", &user.access).await;
    let (code, _) = error_of(response, StatusCode::FORBIDDEN).await;
    assert_eq!(code, "not_operator", "an account's owner is not an operator");
    make_operator(&app, &user).await;

    app.start_worker(Queue::Seo);
    let flaky =
        app.ping(&user, json!({ "fail_times": 3, "max_attempts": 3, "queue": "seo", "steps": 1 })).await;
    let broken =
        app.ping(&user, json!({ "fail_times": 50, "max_attempts": 1, "queue": "seo", "steps": 1 })).await;
    app.wait_for_state(&user, &flaky, "FAILURE").await;
    app.wait_for_state(&user, &broken, "FAILURE").await;

    let listed = testkit::eventually(Duration::from_secs(10), "two dead letters", || async {
        let listed = body(app.get("/api/v1/system/admin/dead-letters/seo/", &user.access).await).await;
        (listed["count"] == 2).then_some(listed)
    })
    .await;
    let letter_of = |task_id: &str| {
        listed["results"]
            .as_array()
            .and_then(|all| all.iter().find(|l| l["task_id"] == task_id))
            .cloned()
            .expect("letter")
    };
    let (flaky_letter, broken_letter) = (letter_of(&flaky), letter_of(&broken));
    assert_eq!(flaky_letter["error_code"], "planned_failure");
    assert_eq!(flaky_letter["attempts"], 3);
    assert_eq!(flaky_letter["kind"], "system.ping");
    let summary = body(app.get("/api/v1/system/admin/dead-letters/", &user.access).await).await;
    let seo = summary["data"].as_array().and_then(|all| all.iter().find(|q| q["queue"] == "seo")).cloned();
    assert_eq!(seo.as_ref().map(|q| q["dead_letters"].clone()), Some(json!(2)), "{summary}");
    assert_eq!(seo.map(|q| q["consumers"].clone()), Some(json!(1)));

    // Sent back: the task runs again, its attempts kept, and now succeeds.
    let requeued = body(
        app.post(
            "/api/v1/system/admin/dead-letters/seo/requeue/",
            Some(&user.access),
            json!({ "ids": [flaky_letter["id"]] }),
        )
        .await,
    )
    .await;
    assert_eq!(requeued["data"]["requeued"], 1, "{requeued}");
    let task = app.wait_for_state(&user, &flaky, "SUCCESS").await;
    assert_eq!(task["attempts"], 4, "attempts are kept");

    // A letter whose task has moved on is dropped, not sent.
    let again = body(
        app.post(
            "/api/v1/system/admin/dead-letters/seo/requeue/",
            Some(&user.access),
            json!({ "ids": [flaky_letter["id"], 999_999] }),
        )
        .await,
    )
    .await;
    assert_eq!(again["data"]["letters"][0]["result"]["outcome"], "not_found", "{again}");

    let response =
        app.post("/api/v1/system/admin/dead-letters/seo/requeue/", Some(&user.access), json!({})).await;
    let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
    assert!(errors.get("ids").is_some(), "{errors}");
    let response = app.get("/api/v1/system/admin/dead-letters/nowhere/", &user.access).await;
    error_of(response, StatusCode::NOT_FOUND).await;

    let purged =
        body(app.post("/api/v1/system/admin/dead-letters/seo/purge/", Some(&user.access), json!({})).await)
            .await;
    assert_eq!(purged["data"]["purged"], 1);
    let listed = body(app.get("/api/v1/system/admin/dead-letters/seo/", &user.access).await).await;
    assert_eq!(listed["count"], 0);
    assert_eq!(app.task(&user, &broken).await["state"], "FAILURE", "purging leaves the task as it was");
    assert!(broken_letter["id"].is_i64());
}

#[tokio::test]
async fn operators_cancel_every_waiting_task_of_a_kind() {
    let app = spawn_app().await;
    let user = app.signup().await;
    make_operator(&app, &user).await;
    // No worker on this queue: the pings wait.
    let waiting = [
        app.ping(&user, json!({ "queue": "odoo" })).await,
        app.ping(&user, json!({ "queue": "odoo" })).await,
    ];
    let other = app.signup().await;
    let response = app
        .post("/api/v1/system/admin/tasks/cancel/", Some(&other.access), json!({ "kind": "system.ping" }))
        .await;
    error_of(response, StatusCode::FORBIDDEN).await;
    let response = app
        .post("/api/v1/system/admin/tasks/cancel/", Some(&user.access), json!({ "kind": "no.such" }))
        .await;
    let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
    assert!(errors.get("kind").is_some(), "{errors}");

    let cancelled = body(
        app.post("/api/v1/system/admin/tasks/cancel/", Some(&user.access), json!({ "kind": "system.ping" }))
            .await,
    )
    .await;
    assert_eq!(cancelled["data"]["revoked"], 2, "{cancelled}");
    for task_id in &waiting {
        assert_eq!(app.task(&user, task_id).await["state"], "REVOKED");
    }
}

#[tokio::test]
async fn metrics_need_their_token_and_count_requests_tasks_queues_and_the_pool() {
    let mut app =
        crate::helpers::spawn_app_with(|config| config.metrics_token = Some("scrape-me".to_owned())).await;
    app.start_worker(Queue::Clustering);
    let user = app.signup().await;
    let task_id = app.ping(&user, json!({ "steps": 1 })).await;
    app.wait_for_state(&user, &task_id, "SUCCESS").await;
    app.get(&format!("/api/v1/tasks/{task_id}/"), &user.access).await;

    let anonymous =
        reqwest::Client::new().get(format!("{}/metrics", app.address)).send().await.expect("sent");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let scraped = reqwest::Client::new()
        .get(format!("{}/metrics", app.address))
        .bearer_auth("scrape-me")
        .send()
        .await
        .expect("sent");
    assert_eq!(scraped.status(), StatusCode::OK);
    let text = scraped.text().await.expect("text");
    for expected in [
        "switchyard_http_requests_total{method=\"GET\",route=\"/api/v1/tasks/{id}\",status=\"200\"}",
        "switchyard_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/tasks/{id}\"",
        "switchyard_tasks{kind=\"system.ping\",state=\"SUCCESS\"} 1",
        "switchyard_task_attempts_total{kind=\"system.ping\"} 1",
        "switchyard_task_duration_seconds_count{kind=\"system.ping\"} 1",
        "switchyard_queue_consumers{queue=\"clustering\"} 1",
        "switchyard_queue_messages{queue=\"seo\",role=\"dead\"} 0",
        "switchyard_outbox_backlog 0",
        "switchyard_db_pool_connections{use=\"max\"}",
    ] {
        assert!(text.contains(expected), "missing {expected} in\n{text}");
    }
}

#[tokio::test]
async fn metrics_do_not_exist_without_a_token() {
    let app = spawn_app().await;
    let response = reqwest::Client::new().get(format!("{}/metrics", app.address)).send().await.expect("sent");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_requests_trace_follows_its_command_into_the_message() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let response = app
        .request(reqwest::Method::POST, "/api/v1/system/ping/", Some(&user.access))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .json(&json!({ "queue": "odoo" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(response.headers().get("x-trace-id").and_then(|v| v.to_str().ok()), Some(trace_id));
    let fresh = app.get("/api/v1/tasks/", &user.access).await;
    let started =
        fresh.headers().get("x-trace-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(started.len() == 32 && started != trace_id, "a request without one starts a trace");

    // No worker on the queue: the message waits there with its traceparent.
    let topology = shared::messaging::Topology::from_config(&app.config);
    let connection = shared::messaging::connect(&app.config.amqp_url, "test-trace").await.expect("broker");
    let channel = connection.create_channel().await.expect("channel");
    let message = testkit::eventually(Duration::from_secs(10), "the command", || async {
        channel
            .basic_get(
                topology.work_queue(Queue::Odoo).into(),
                lapin::options::BasicGetOptions { no_ack: true },
            )
            .await
            .expect("basic.get")
    })
    .await;
    let headers = message.delivery.properties.headers().clone().expect("headers");
    let traceparent = match headers.inner().get("traceparent") {
        Some(lapin::types::AMQPValue::LongString(value)) => value.to_string(),
        other => panic!("traceparent: {other:?}"),
    };
    assert_eq!(shared::telemetry::trace_id_of(&traceparent).as_deref(), Some(trace_id), "{traceparent}");
}

#[tokio::test]
async fn operators_read_any_accounts_task_and_its_attempts_and_nobody_else_does() {
    let mut app = spawn_app().await;
    app.start_worker(Queue::Seo);
    let operator = app.signup().await;
    make_operator(&app, &operator).await;
    let customer = app.signup().await;
    let task_id = app.ping(&customer, json!({ "fail_times": 1, "queue": "seo", "steps": 1 })).await;
    app.wait_for_state(&customer, &task_id, "SUCCESS").await;

    let task = body(app.get(&format!("/api/v1/system/admin/tasks/{task_id}/"), &operator.access).await).await;
    assert_eq!(task["data"]["task_id"], task_id.as_str());
    assert_eq!(task["data"]["state"], "SUCCESS");
    let attempts =
        body(app.get(&format!("/api/v1/system/admin/tasks/{task_id}/attempts/"), &operator.access).await)
            .await;
    let outcomes: Vec<&str> =
        attempts["data"].as_array().expect("list").iter().filter_map(|row| row["outcome"].as_str()).collect();
    assert_eq!(outcomes, ["retry", "succeeded"]);

    let unknown = "00000000-0000-0000-0000-000000000000";
    error_of(
        app.get(&format!("/api/v1/system/admin/tasks/{unknown}/"), &operator.access).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    for path in [
        format!("/api/v1/system/admin/tasks/{task_id}/"),
        format!("/api/v1/system/admin/tasks/{task_id}/attempts/"),
    ] {
        let (code, _) = error_of(app.get(&path, &customer.access).await, StatusCode::FORBIDDEN).await;
        assert_eq!(code, "not_operator", "{path}");
    }
}
