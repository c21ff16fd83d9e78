//! What a hostile client sends at the edge: bodies that never end, labels it chooses, bytes
//! that are not text. Each answer is a clear 4xx, at once, and leaves nothing behind.

use std::{collections::BTreeSet, time::Duration};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{TestApp, error_of, spawn_app, spawn_app_with};

const BOUNDARY: &str = "hardening-boundary-5d1c";

/// Writes `head` and `body` on a raw connection, leaves it open, and returns the status of
/// the answer (or `None` when none comes within `patience`).
async fn raw_status(app: &TestApp, head: &str, body: &[u8], patience: Duration) -> Option<u16> {
    let address = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.expect("connects");
    stream.write_all(head.as_bytes()).await.expect("head written");
    stream.write_all(body).await.expect("body written");
    let mut answer = Vec::new();
    let mut buffer = [0_u8; 1024];
    let read = tokio::time::timeout(patience, async {
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buffer).await.expect("reads");
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buffer[..n]);
        }
    })
    .await;
    read.ok()?;
    let status_line = String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_owned();
    status_line.split(' ').nth(1).and_then(|code| code.parse().ok())
}

fn post_head(path: &str, token: &str, content_type: &str, length: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
    )
}

fn multipart_without_closing_boundary(site_id: i64) -> Vec<u8> {
    format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"site_id\"\r\n\r\n{site_id}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"k.csv\"\r\n\
         Content-Type: text/csv\r\n\r\nkeyword\nespresso\n"
    )
    .into_bytes()
}

async fn site(app: &TestApp, token: &str) -> i64 {
    let response = app.post("/api/v1/auth/sites/", Some(token), serde_json::json!({ "name": "S" })).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.expect("json")["data"]["id"].as_i64().expect("site id")
}

#[tokio::test]
async fn a_multipart_upload_missing_its_closing_boundary_is_400_at_once() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let site_id = site(&app, &owner.access).await;
    let body = multipart_without_closing_boundary(site_id);
    let head = post_head(
        "/api/v1/planner/keywords/import_keywords/",
        &owner.access,
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        body.len(),
    );
    let status = raw_status(&app, &head, &body, Duration::from_secs(5)).await;
    assert_eq!(status, Some(400), "a complete but truncated multipart is answered at once");
    let page = app.get("/api/v1/planner/keywords/", &owner.access).await.json::<Value>().await.expect("json");
    assert_eq!(page["count"], 0, "nothing of a truncated upload is imported");
}

#[tokio::test]
async fn a_body_that_stalls_is_answered_408() {
    let app = spawn_app_with(|config| config.body_idle_timeout = Duration::from_secs(1)).await;
    let owner = app.signup().await;
    let site_id = site(&app, &owner.access).await;

    let json_head = post_head("/api/v1/auth/sites/", &owner.access, "application/json", 100);
    let status = raw_status(&app, &json_head, b"{\"name\":", Duration::from_secs(10)).await;
    assert_eq!(status, Some(408), "a JSON body that stops mid-way");

    let body = multipart_without_closing_boundary(site_id);
    let head = post_head(
        "/api/v1/planner/keywords/import_keywords/",
        &owner.access,
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        body.len() + 1_000,
    );
    let status = raw_status(&app, &head, &body, Duration::from_secs(10)).await;
    assert_eq!(status, Some(408), "a multipart body that stops mid-way");

    let raw_head = post_head(
        &format!("/api/v1/planner/keywords/import_keywords/?site_id={site_id}"),
        &owner.access,
        "text/csv",
        1_000,
    );
    let status = raw_status(&app, &raw_head, b"keyword\n", Duration::from_secs(10)).await;
    assert_eq!(status, Some(408), "a CSV body that stops mid-way");
}

async fn scrape(app: &TestApp, authorization: &str) -> String {
    let response = app
        .client
        .get(format!("{}/metrics", app.address))
        .header("Authorization", authorization)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.expect("text")
}

async fn send_random_requests(app: &TestApp, round: usize) {
    for i in 0..100 {
        let method = Method::from_bytes(format!("M{round}X{i}").as_bytes()).expect("a valid token");
        app.request(method, &format!("/api/v1/nowhere-{round}-{i}/"), None).send().await.expect("sent");
        app.request(Method::GET, &format!("/random-{round}-{i}"), None).send().await.expect("sent");
    }
}

#[tokio::test]
async fn client_chosen_methods_and_paths_do_not_grow_the_metrics() {
    let app = spawn_app_with(|config| config.metrics_token = Some("scrape-me".to_owned())).await;
    // The first scrape adds the series of `/metrics` itself.
    scrape(&app, "Bearer scrape-me").await;
    send_random_requests(&app, 1).await;
    let first = scrape(&app, "bearer scrape-me").await;
    send_random_requests(&app, 2).await;
    let second = scrape(&app, "BEARER scrape-me").await;
    assert!(
        !second.contains("M2X") && !second.contains("nowhere-") && !second.contains("random-"),
        "{second}"
    );
    assert!(second.contains("method=\"other\",route=\"unmatched\""), "{second}");
    assert_eq!(first.lines().count(), second.lines().count(), "new series from client-chosen values");
}

/// Every sample belongs to a family announced with `# HELP` and `# TYPE`, each family's
/// lines stand together, and each family is announced once: what `promtool check metrics`
/// requires.
#[tokio::test]
async fn every_metric_has_help_and_type_and_its_family_stands_together() {
    let app = spawn_app_with(|config| config.metrics_token = Some("scrape-me".to_owned())).await;
    let user = app.signup().await;
    let task_id = app.ping(&user, serde_json::json!({ "steps": 1 })).await;
    app.finish(&user, &task_id).await;
    let text = scrape(&app, "Bearer scrape-me").await;

    let (mut helped, mut typed, mut closed) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let mut current: Option<String> = None;
    for line in text.lines().filter(|line| !line.is_empty()) {
        let family = if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().expect("name").to_owned();
            assert!(rest.len() > name.len() + 1, "HELP without text: {line}");
            assert!(helped.insert(name.clone()), "{name} announced twice");
            name
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let name = rest.split(' ').next().expect("name").to_owned();
            assert!(helped.contains(&name), "TYPE before HELP: {line}");
            assert!(typed.insert(name.clone()), "{name} typed twice");
            name
        } else {
            let sample = line.split(['{', ' ']).next().expect("sample name");
            let family = ["_bucket", "_sum", "_count", "_total"]
                .iter()
                .find_map(|suffix| sample.strip_suffix(suffix).filter(|base| typed.contains(*base)))
                .unwrap_or(sample)
                .to_owned();
            assert!(typed.contains(&family), "sample without HELP/TYPE: {line}");
            family
        };
        if current.as_deref() != Some(family.as_str()) {
            if let Some(previous) = current.replace(family.clone()) {
                closed.insert(previous);
            }
            assert!(!closed.contains(&family), "the lines of {family} are split");
        }
    }
    assert!(typed.len() > 5, "{text}");
}

#[tokio::test]
async fn a_query_parameter_that_is_not_utf8_is_400_naming_it() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let (_, errors) = error_of(
        app.get("/api/v1/planner/keywords/?search=%ff%fe", &owner.access).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(errors.get("search").is_some(), "{errors}");
    let fine = app.get("/api/v1/planner/keywords/?search=caf%C3%A9", &owner.access).await;
    assert_eq!(fine.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_method_the_document_does_not_declare_is_405_with_allow() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let trace =
        app.request(Method::TRACE, "/api/v1/auth/sites/", Some(&owner.access)).send().await.expect("sent");
    assert_eq!(trace.headers()["allow"], "GET, POST");
    assert_eq!(error_of(trace, StatusCode::METHOD_NOT_ALLOWED).await.0, "method_not_allowed");
    let put = app.request(Method::PUT, "/api/v1/auth/login/", None).send().await.expect("sent");
    assert_eq!(put.status(), StatusCode::METHOD_NOT_ALLOWED);
    let nowhere = app.get("/api/v1/nowhere/", &owner.access).await;
    assert_eq!(nowhere.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_undeclared_method_on_a_literal_path_is_405_not_a_bad_id_for_its_sibling() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    for (method, path, allow) in [
        (Method::PUT, "/api/v1/planner/ideas/bulk_delete/", "POST"),
        (Method::GET, "/api/v1/planner/clusters/bulk_delete/", "POST"),
        (Method::DELETE, "/api/v1/auth/users/invite/", "POST"),
    ] {
        let response = app.request(method.clone(), path, Some(&owner.access)).send().await.expect("sent");
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        assert_eq!(error_of(response, StatusCode::METHOD_NOT_ALLOWED).await.0, "method_not_allowed");
    }
    let sibling = app.request(Method::PUT, "/api/v1/planner/ideas/999999/", Some(&owner.access));
    assert_eq!(
        sibling.json(&serde_json::json!({})).send().await.expect("sent").status(),
        StatusCode::NOT_FOUND
    );
}
