//! The planner module: keywords, clusters, ideas, the seed library, CSV import and export,
//! and tenant isolation. This file holds the helpers the submodules share.

mod clusters;
mod csv;
mod ideas;
mod keywords;
mod seed_library;
mod tenancy;

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{INVALID, MISSING, TestApp, TestUser, error_of, spawn_app};

async fn send(app: &TestApp, user: &TestUser, method: Method, path: &str, body: Value) -> Response {
    app.request(method, path, Some(&user.access)).json(&body).send().await.expect("request")
}

/// POSTs `body` and returns the created row.
async fn create(app: &TestApp, user: &TestUser, path: &str, body: Value) -> Value {
    let response = app.post(path, Some(&user.access), body).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{}", response.text().await.unwrap_or_default());
    response.json::<Value>().await.expect("json")["data"].clone()
}

/// 200 and the JSON body.
async fn ok(response: Response) -> Value {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).expect("json")
}

async fn get(app: &TestApp, user: &TestUser, path: &str) -> Value {
    ok(app.get(path, &user.access).await).await
}

/// The `keyword` texts of a list page, in order.
fn keywords_of(page: &Value) -> Vec<String> {
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|row| row["keyword"].as_str().expect("keyword").to_owned())
        .collect()
}

fn ids_of(page: &Value) -> Vec<i64> {
    page["results"].as_array().expect("results").iter().map(|row| row["id"].as_i64().expect("id")).collect()
}

async fn site(app: &TestApp, user: &TestUser, name: &str) -> i64 {
    create(app, user, "/api/v1/auth/sites/", json!({ "name": name })).await["id"].as_i64().expect("site id")
}

async fn sector(app: &TestApp, user: &TestUser, site_id: i64, name: &str) -> i64 {
    create(app, user, "/api/v1/auth/sectors/", json!({ "site_id": site_id, "name": name })).await["id"]
        .as_i64()
        .expect("sector id")
}

async fn keyword(app: &TestApp, user: &TestUser, body: Value) -> Value {
    create(app, user, "/api/v1/planner/keywords/", body).await
}

/// A member of `owner`'s account with `role`, logged in.
async fn member(app: &TestApp, owner: &TestUser, email: &str, role: &str) -> TestUser {
    create(
        app,
        owner,
        "/api/v1/auth/users/",
        json!({ "email": email, "password": "pass-word-1", "role": role }),
    )
    .await;
    app.login(email, "pass-word-1").await
}

const BOUNDARY: &str = "switchyard-test-boundary-7MA4YWxkTrZu0gW";

/// A multipart/form-data body with text fields and a `file` field.
fn multipart(fields: &[(&str, String)], file: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"k.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn import_multipart(
    app: &TestApp,
    user: &TestUser,
    fields: &[(&str, String)],
    file: &[u8],
) -> Response {
    app.request(Method::POST, "/api/v1/planner/keywords/import_keywords/", Some(&user.access))
        .header("Content-Type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(multipart(fields, file))
        .send()
        .await
        .expect("request")
}

async fn import_raw(app: &TestApp, user: &TestUser, query: &str, file: &[u8]) -> Response {
    app.request(
        Method::POST,
        &format!("/api/v1/planner/keywords/import_keywords/?{query}"),
        Some(&user.access),
    )
    .header("Content-Type", "text/csv; charset=utf-8")
    .body(file.to_vec())
    .send()
    .await
    .expect("request")
}

async fn export(app: &TestApp, user: &TestUser, query: &str) -> String {
    let response = app.get(&format!("/api/v1/planner/keywords/export/?{query}"), &user.access).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(response.headers()["content-disposition"], "attachment; filename=\"keywords.csv\"");
    response.text().await.expect("body")
}
