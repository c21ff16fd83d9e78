//! Tenant isolation: another account's id answers 404 on every endpoint, and lists never show
//! another account's rows.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, spawn_app};

async fn create(app: &TestApp, user: &TestUser, path: &str, body: Value) -> i64 {
    let response = app.post(path, Some(&user.access), body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.expect("json")["data"]["id"].as_i64().expect("id")
}

async fn status_of(
    app: &TestApp,
    user: &TestUser,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> StatusCode {
    let mut request = app.request(method, path, Some(&user.access));
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("request").status()
}

#[tokio::test]
async fn another_tenants_ids_are_not_found_everywhere() {
    let app = spawn_app().await;
    let mallory = app.signup().await;
    let victim = app.signup().await;
    let site = create(&app, &victim, "/api/v1/auth/sites/", json!({ "name": "Victim site" })).await;
    let sector =
        create(&app, &victim, "/api/v1/auth/sectors/", json!({ "site_id": site, "name": "Shoes" })).await;
    let user = create(
        &app,
        &victim,
        "/api/v1/auth/users/",
        json!({ "email": "victim-editor@example.com", "password": "long-enough", "role": "editor" }),
    )
    .await;
    let task = app.ping(&victim, json!({})).await;
    let schedule = create(
        &app,
        &victim,
        "/api/v1/system/schedules/",
        json!({ "name": "s", "cron": "* * * * *", "kind": "system.ping" }),
    )
    .await;

    let probes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/api/v1/auth/sites/{site}/"), None),
        (Method::PUT, format!("/api/v1/auth/sites/{site}/"), Some(json!({ "name": "mine" }))),
        (Method::PATCH, format!("/api/v1/auth/sites/{site}/"), Some(json!({ "name": "mine" }))),
        (Method::GET, format!("/api/v1/auth/sites/{site}/sectors/"), None),
        (Method::DELETE, format!("/api/v1/auth/sites/{site}/"), None),
        (Method::GET, format!("/api/v1/auth/sectors/{sector}/"), None),
        (Method::PUT, format!("/api/v1/auth/sectors/{sector}/"), Some(json!({ "name": "mine" }))),
        (Method::PATCH, format!("/api/v1/auth/sectors/{sector}/"), Some(json!({ "name": "mine" }))),
        (Method::DELETE, format!("/api/v1/auth/sectors/{sector}/"), None),
        (Method::GET, format!("/api/v1/auth/users/{user}/"), None),
        (Method::PUT, format!("/api/v1/auth/users/{user}/"), Some(json!({ "role": "viewer" }))),
        (Method::PATCH, format!("/api/v1/auth/users/{user}/"), Some(json!({ "role": "viewer" }))),
        (Method::POST, format!("/api/v1/auth/users/{user}/activate/"), Some(json!({}))),
        (Method::DELETE, format!("/api/v1/auth/users/{user}/"), None),
        (Method::GET, format!("/api/v1/tasks/{task}"), None),
        (Method::GET, format!("/api/v1/tasks/{task}/events"), None),
        (Method::POST, format!("/api/v1/tasks/{task}/cancel"), Some(json!({}))),
        (Method::GET, format!("/api/v1/system/settings/task_progress/{task}/"), None),
        (Method::GET, format!("/api/v1/system/schedules/{schedule}/"), None),
        (Method::PATCH, format!("/api/v1/system/schedules/{schedule}/"), Some(json!({ "enabled": false }))),
        (Method::DELETE, format!("/api/v1/system/schedules/{schedule}/"), None),
    ];
    for (method, path, body) in probes {
        let status = status_of(&app, &mallory, method.clone(), &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
    }

    // Nothing was touched.
    let site_row: Value =
        app.get(&format!("/api/v1/auth/sites/{site}/"), &victim.access).await.json().await.expect("json");
    assert_eq!(site_row["data"]["name"], "Victim site");
    assert_eq!(app.task(&victim, &task).await["state"], "PENDING");
    let users: Value = app.get("/api/v1/auth/users/", &victim.access).await.json().await.expect("json");
    assert_eq!(users["count"], 2);

    // A sector cannot be attached to another tenant's site, on create or on update.
    let attach = app
        .post("/api/v1/auth/sectors/", Some(&mallory.access), json!({ "site_id": site, "name": "x" }))
        .await;
    assert_eq!(attach.status(), StatusCode::NOT_FOUND);
    let own_site = create(&app, &mallory, "/api/v1/auth/sites/", json!({ "name": "Mine" })).await;
    let own_sector =
        create(&app, &mallory, "/api/v1/auth/sectors/", json!({ "site_id": own_site, "name": "Hats" })).await;
    let moved = status_of(
        &app,
        &mallory,
        Method::PATCH,
        &format!("/api/v1/auth/sectors/{own_sector}/"),
        Some(json!({ "site_id": site })),
    )
    .await;
    assert_eq!(moved, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn lists_only_show_the_callers_rows() {
    let app = spawn_app().await;
    let first = app.signup().await;
    let second = app.signup().await;
    for user in [&first, &second] {
        let site = create(&app, user, "/api/v1/auth/sites/", json!({ "name": "Site" })).await;
        create(&app, user, "/api/v1/auth/sectors/", json!({ "site_id": site, "name": "Sector" })).await;
        app.ping(user, json!({})).await;
    }
    for user in [&first, &second] {
        create(
            &app,
            user,
            "/api/v1/system/schedules/",
            json!({ "name": "Site", "cron": "* * * * *", "kind": "system.ping" }),
        )
        .await;
    }
    for path in [
        "/api/v1/auth/sites/",
        "/api/v1/auth/sectors/",
        "/api/v1/tasks/",
        "/api/v1/auth/users/",
        "/api/v1/system/schedules/",
    ] {
        let page: Value = app.get(path, &first.access).await.json().await.expect("json");
        assert_eq!(page["count"], 1, "{path}: {page}");
        let filtered: Value = app
            .get(&format!("{path}?site_id=999999&search=Site"), &first.access)
            .await
            .json()
            .await
            .expect("json");
        assert!(filtered["count"].as_i64().expect("count") <= 1, "{path}");
    }
    let me: Value = app.get("/api/v1/auth/me/", &first.access).await.json().await.expect("json");
    assert_eq!(me["user"]["accessible_sites"].as_array().expect("sites").len(), 1);
}

#[tokio::test]
async fn social_webhook_and_writing_settings_ids_of_another_tenant_are_not_found() {
    let app = spawn_app().await;
    let mallory = app.signup().await;
    let victim = app.signup().await;
    let account = create(
        &app,
        &victim,
        "/api/v1/social/accounts/",
        json!({ "platform": "sandbox", "handle": "victim", "access_token": "victim-token" }),
    )
    .await;
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let post = create(
        &app,
        &victim,
        "/api/v1/social/posts/",
        json!({ "social_account_id": account, "content": "Victim's post", "scheduled_time": later }),
    )
    .await;
    let webhook = create(&app, &victim, "/api/v1/system/webhooks/", json!({ "source": "gitea" })).await;
    let profile = create(&app, &victim, "/api/v1/system/author-profiles/", json!({ "name": "Voice" })).await;
    let strategy = create(&app, &victim, "/api/v1/system/strategies/", json!({ "name": "Plan" })).await;

    let probes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::POST, format!("/api/v1/social/accounts/{account}/check/"), Some(json!({}))),
        (
            Method::POST,
            format!("/api/v1/social/accounts/{account}/reconnect/"),
            Some(json!({ "access_token": "mine" })),
        ),
        (Method::GET, format!("/api/v1/social/accounts/{account}/insights/"), None),
        (Method::POST, format!("/api/v1/social/accounts/{account}/disconnect/"), Some(json!({}))),
        (Method::GET, format!("/api/v1/social/posts/{post}/"), None),
        (Method::PATCH, format!("/api/v1/social/posts/{post}/"), Some(json!({ "content": "mine" }))),
        (Method::PUT, format!("/api/v1/social/posts/{post}/"), Some(json!({ "content": "mine" }))),
        (Method::POST, format!("/api/v1/social/posts/{post}/cancel/"), Some(json!({}))),
        (Method::GET, format!("/api/v1/system/webhooks/{webhook}/deliveries/"), None),
        (Method::DELETE, format!("/api/v1/system/webhooks/{webhook}/"), None),
        (
            Method::PATCH,
            format!("/api/v1/system/author-profiles/{profile}/"),
            Some(json!({ "name": "mine" })),
        ),
        (Method::PUT, format!("/api/v1/system/author-profiles/{profile}/"), Some(json!({ "name": "mine" }))),
        (Method::PATCH, format!("/api/v1/system/strategies/{strategy}/"), Some(json!({ "name": "mine" }))),
        (Method::PUT, format!("/api/v1/system/strategies/{strategy}/"), Some(json!({ "name": "mine" }))),
    ];
    for (method, path, body) in probes {
        let status = status_of(&app, &mallory, method.clone(), &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    // Posting through the victim's account is refused and makes nothing.
    let response = app
        .post(
            "/api/v1/social/posts/",
            Some(&mallory.access),
            json!({ "social_account_id": account, "content": "x" }),
        )
        .await;
    assert!(
        matches!(response.status(), StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST),
        "{}",
        response.status()
    );

    // The victim's rows are as they were.
    let post: Value =
        app.get(&format!("/api/v1/social/posts/{post}/"), &victim.access).await.json().await.expect("json");
    assert_eq!(
        (post["data"]["status"].as_str(), post["data"]["content"].as_str()),
        (Some("scheduled"), Some("Victim's post"))
    );
    let accounts: Value =
        app.get("/api/v1/social/accounts/", &victim.access).await.json().await.expect("json");
    assert_eq!(accounts["data"][0]["status"], "active");
    let posts: Value = app.get("/api/v1/social/posts/", &victim.access).await.json().await.expect("json");
    assert_eq!(posts["count"], 1);
    let hooks: Value = app.get("/api/v1/system/webhooks/", &victim.access).await.json().await.expect("json");
    assert_eq!(
        hooks["data"].as_array().map(Vec::len).or(hooks["count"].as_u64().map(|n| n as usize)),
        Some(1),
        "{hooks}"
    );
    for path in ["/api/v1/social/accounts/", "/api/v1/social/posts/", "/api/v1/system/webhooks/"] {
        let theirs: Value = app.get(path, &mallory.access).await.json().await.expect("json");
        let rows = theirs["data"].as_array().or(theirs["results"].as_array()).map(Vec::len);
        assert_eq!(rows, Some(0), "{path}: {theirs}");
    }
}
