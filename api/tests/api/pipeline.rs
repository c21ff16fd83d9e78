//! The full path: register → login → ping → progress → SUCCESS, polled and streamed; retries,
//! dead letters and an outage of the broker.

use std::time::Duration;

use futures_util::StreamExt;
use lapin::options::BasicGetOptions;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::{
    messaging::{Topology, connect},
    tasks::Queue,
};
use testkit::{eventually, proxy::TcpProxy};

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn a_ping_runs_to_success_with_rising_progress_polled_and_streamed() {
    let mut app = spawn_app().await;
    let user = app.signup().await;
    app.start_worker(Queue::Clustering);
    let task_id = app.ping(&user, json!({ "steps": 5, "sleep_ms": 150 })).await;

    let events = tokio::spawn({
        let request =
            app.request(reqwest::Method::GET, &format!("/api/v1/tasks/{task_id}/events"), Some(&user.access));
        async move {
            let response = request.send().await.expect("stream opens");
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.headers()["content-type"], "text/event-stream");
            let mut body = String::new();
            let mut chunks = response.bytes_stream();
            while let Some(chunk) = chunks.next().await {
                body.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
            }
            body
        }
    });

    let seen = std::sync::Mutex::new(Vec::new());
    let done = eventually(Duration::from_secs(30), "the ping to succeed", || async {
        let response =
            app.get(&format!("/api/v1/system/settings/task_progress/{task_id}/"), &user.access).await;
        let progress: Value = response.json().await.expect("json");
        seen.lock().expect("lock").push(progress["meta"]["percentage"].as_i64().unwrap_or(-1));
        (progress["state"] == "SUCCESS").then_some(progress)
    })
    .await;
    let seen = seen.into_inner().expect("lock");
    assert_eq!(done["meta"]["percentage"], 100);
    assert_eq!(done["meta"]["result"]["pong"], true);
    assert!(seen.windows(2).all(|pair| pair[0] <= pair[1]), "progress never goes back: {seen:?}");
    assert!(seen.iter().any(|&p| p > 0 && p < 100), "an intermediate percentage was seen: {seen:?}");

    let stream =
        tokio::time::timeout(Duration::from_secs(10), events).await.expect("stream ends").expect("reader");
    assert!(stream.contains("event: progress"), "{stream}");
    assert!(stream.contains("event: success"), "{stream}");
    let percentages: Vec<i64> = stream
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter_map(|data| serde_json::from_str::<Value>(data).ok())
        .filter_map(|event| event["meta"]["percentage"].as_i64())
        .collect();
    assert!(percentages.windows(2).all(|pair| pair[0] <= pair[1]), "{percentages:?}");
    assert_eq!(percentages.last(), Some(&100));

    let task = app.task(&user, &task_id).await;
    assert_eq!(task["state"], "SUCCESS");
    assert_eq!(task["attempts"], 1);
    assert!(task["finished_at"].is_string());
}

#[tokio::test]
async fn a_failing_ping_is_retried_then_succeeds() {
    let mut app = spawn_app().await;
    let user = app.signup().await;
    app.start_worker(Queue::Content);
    let task_id = app.ping(&user, json!({ "steps": 2, "fail_times": 2, "queue": "content" })).await;
    let task = app.wait_for_state(&user, &task_id, "SUCCESS").await;
    assert_eq!(task["attempts"], 3);
    assert_eq!(task["result"]["attempt"], 3);
    assert_eq!(task["queue"], "content");
}

#[tokio::test]
async fn exhausted_retries_end_in_failure_and_the_dead_letter_queue() {
    let mut app = spawn_app().await;
    let user = app.signup().await;
    app.start_worker(Queue::Seo);
    let task_id = app.ping(&user, json!({ "fail_times": 10, "max_attempts": 3, "queue": "seo" })).await;
    let task = app.wait_for_state(&user, &task_id, "FAILURE").await;
    assert_eq!(task["attempts"], 3);
    assert_eq!(task["error"]["code"], "planned_failure");
    assert_eq!(task["error"]["retryable"], true);

    let topology = Topology::from_config(&app.config);
    let connection = connect(&app.config.amqp_url, "test-dlq").await.expect("broker");
    let channel = connection.create_channel().await.expect("channel");
    let dead = eventually(Duration::from_secs(10), "the dead letter", || async {
        channel
            .basic_get(topology.dead_queue(Queue::Seo).into(), BasicGetOptions { no_ack: true })
            .await
            .expect("basic.get")
    })
    .await;
    let body: Value = serde_json::from_slice(&dead.delivery.data).expect("message body");
    assert_eq!(body["task_id"], task_id.as_str());
    let headers = dead.delivery.properties.headers().clone().expect("headers");
    let header = |name: &str| match headers.inner().get(name) {
        Some(lapin::types::AMQPValue::LongString(value)) => value.to_string(),
        other => panic!("header {name}: {other:?}"),
    };
    assert_eq!(header("x-error-code"), "planned_failure");
    assert_eq!(header("x-task-id"), task_id);
    assert_eq!(header("x-attempts"), "3");
}

#[tokio::test]
async fn commands_sent_while_the_broker_is_down_wait_in_the_outbox_and_complete_later() {
    let broker = "127.0.0.1:5672".parse().expect("address");
    let proxy = TcpProxy::start(broker, false).await;
    let amqp_via_proxy = proxy.amqp_url();
    let app = spawn_app_with(|config| config.amqp_url = amqp_via_proxy).await;
    let user = app.signup().await;

    let task_id = app.ping(&user, json!({ "steps": 2 })).await;
    let unsent: i64 = app
        .sql(|conn| {
            use diesel::prelude::*;
            use shared::db::schema::outbox;
            Ok(outbox::table.count().get_result(conn)?)
        })
        .await;
    assert_eq!(unsent, 1, "the command waits in the outbox");
    let status =
        app.client.get(format!("{}/api/v1/system/status/", app.address)).send().await.expect("status");
    assert_eq!(status.status(), StatusCode::SERVICE_UNAVAILABLE);

    // The worker reaches the broker directly; only the API's path is down.
    let mut worker_config = app.config.clone();
    worker_config.amqp_url = testkit::config::amqp_url();
    let worker = workers::worker(Queue::Clustering, worker_config, app.pool.clone());
    let stop = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(worker.run(stop.clone()));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.task(&user, &task_id).await["state"], "PENDING");

    proxy.up();
    let task = app.wait_for_state(&user, &task_id, "SUCCESS").await;
    assert_eq!(task["attempts"], 1);
    stop.cancel();
    running.await.expect("worker task").expect("worker stops cleanly");
}
