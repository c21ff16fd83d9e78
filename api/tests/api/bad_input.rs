//! Bad input of every kind, fed to every endpoint family: always a 4xx naming the field,
//! never a 500.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, spawn_app};

async fn raw(
    app: &TestApp,
    user: Option<&TestUser>,
    method: Method,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let response = app
        .request(method, path, user.map(|user| user.access.as_str()))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .expect("request");
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Every JSON-accepting endpoint family, with a body that is otherwise valid.
fn json_endpoints(site_id: i64) -> Vec<(Method, String, Value)> {
    vec![
        (
            Method::POST,
            "/api/v1/auth/register/".into(),
            json!({ "email": "a@example.com", "password": "long-enough", "password_confirm": "long-enough" }),
        ),
        (Method::POST, "/api/v1/auth/login/".into(), json!({ "email": "a@example.com", "password": "x" })),
        (Method::POST, "/api/v1/auth/refresh/".into(), json!({ "refresh": "x" })),
        (
            Method::POST,
            "/api/v1/auth/change-password/".into(),
            json!({ "old_password": "a", "new_password": "long-enough", "new_password_confirm": "long-enough" }),
        ),
        (
            Method::POST,
            "/api/v1/auth/users/".into(),
            json!({ "email": "b@example.com", "password": "long-enough", "role": "viewer" }),
        ),
        (Method::POST, "/api/v1/auth/sites/".into(), json!({ "name": "S" })),
        (Method::PATCH, format!("/api/v1/auth/sites/{site_id}/"), json!({ "name": "S" })),
        (Method::POST, "/api/v1/auth/sectors/".into(), json!({ "site_id": site_id, "name": "S" })),
        (Method::POST, "/api/v1/system/ping/".into(), json!({ "steps": 1 })),
        (
            Method::POST,
            "/api/v1/system/schedules/".into(),
            json!({ "name": "n", "cron": "* * * * *", "kind": "system.ping" }),
        ),
    ]
}

#[tokio::test]
async fn malformed_oversized_and_mistyped_bodies_are_400_413_415() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let site: Value = app
        .post("/api/v1/auth/sites/", Some(&user.access), json!({ "name": "Base" }))
        .await
        .json()
        .await
        .expect("json");
    let site_id = site["data"]["id"].as_i64().expect("id");

    for (method, path, _) in json_endpoints(site_id) {
        let (status, body) =
            raw(&app, Some(&user), method.clone(), &path, "application/json", b"{,".to_vec()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path} malformed");
        assert_eq!(body["code"], "malformed_json", "{path}");

        let (status, _) = raw(&app, Some(&user), method.clone(), &path, "text/plain", b"{}".to_vec()).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{method} {path} content type");

        let mut huge = b"{\"name\": \"".to_vec();
        huge.extend(std::iter::repeat_n(b'a', 1024 * 1024 + 10));
        huge.extend(b"\"}");
        let (status, body) = raw(&app, Some(&user), method.clone(), &path, "application/json", huge).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{method} {path} oversized");
        assert_eq!(body["code"], "payload_too_large");

        let (status, body) =
            raw(&app, Some(&user), method.clone(), &path, "application/json", b"[1, 2]".to_vec()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path} array");
        assert_eq!(body["success"], false);
    }
}

#[tokio::test]
async fn wrong_types_and_missing_fields_name_the_field() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let site: Value = app
        .post("/api/v1/auth/sites/", Some(&user.access), json!({ "name": "Base" }))
        .await
        .json()
        .await
        .expect("json");
    let site_id = site["data"]["id"].as_i64().expect("id");

    let cases: Vec<(Method, String, Value, &str)> = vec![
        (
            Method::POST,
            "/api/v1/auth/register/".into(),
            json!({ "email": "a@example.com", "password": "long-enough" }),
            "password_confirm",
        ),
        (
            Method::POST,
            "/api/v1/auth/register/".into(),
            json!({ "email": 5, "password": "long-enough", "password_confirm": "long-enough" }),
            "email",
        ),
        (
            Method::POST,
            "/api/v1/auth/register/".into(),
            json!({ "email": "nope", "password": "long-enough", "password_confirm": "long-enough" }),
            "email",
        ),
        (
            Method::POST,
            "/api/v1/auth/register/".into(),
            json!({ "email": "a@example.com", "password": "short", "password_confirm": "short" }),
            "password",
        ),
        (Method::POST, "/api/v1/auth/login/".into(), json!({ "email": "a@example.com" }), "password"),
        (Method::POST, "/api/v1/auth/refresh/".into(), json!({ "refresh": 12 }), "refresh"),
        (
            Method::POST,
            "/api/v1/auth/change-password/".into(),
            json!({ "old_password": "a", "new_password": "long-enough" }),
            "new_password_confirm",
        ),
        (
            Method::POST,
            "/api/v1/auth/users/".into(),
            json!({ "email": "b@example.com", "password": "long-enough", "role": "superuser" }),
            "role",
        ),
        (
            Method::POST,
            "/api/v1/auth/users/".into(),
            json!({ "email": "b@example.com", "password": "long-enough", "role": "viewer", "is_staff": true }),
            "is_staff",
        ),
        (Method::POST, "/api/v1/auth/users/invite/".into(), json!({ "role": "viewer" }), "email"),
        (Method::POST, "/api/v1/auth/sites/".into(), json!({ "name": ["S"] }), "name"),
        (Method::POST, "/api/v1/auth/sites/".into(), json!({ "name": "S", "slug": "Not A Slug" }), "slug"),
        (Method::POST, "/api/v1/auth/sites/".into(), json!({}), "name"),
        (Method::PATCH, format!("/api/v1/auth/sites/{site_id}/"), json!({ "is_active": "yes" }), "is_active"),
        (Method::POST, "/api/v1/auth/sectors/".into(), json!({ "name": "S" }), "site_id"),
        (Method::POST, "/api/v1/auth/sectors/".into(), json!({ "site_id": "one", "name": "S" }), "site_id"),
        (Method::POST, "/api/v1/system/ping/".into(), json!({ "steps": "many" }), "steps"),
        (Method::POST, "/api/v1/system/ping/".into(), json!({ "steps": 0 }), "steps"),
        (Method::POST, "/api/v1/system/ping/".into(), json!({ "steps": -1 }), "steps"),
        (Method::POST, "/api/v1/system/ping/".into(), json!({ "queue": "mars" }), "queue"),
        (Method::POST, "/api/v1/system/ping/".into(), json!({ "max_attempts": 99 }), "max_attempts"),
        (Method::POST, "/api/v1/system/ping/".into(), json!({ "sleep_ms": 10_000_000 }), "sleep_ms"),
        (
            Method::POST,
            "/api/v1/system/schedules/".into(),
            json!({ "name": "n", "kind": "system.ping" }),
            "cron",
        ),
        (
            Method::POST,
            "/api/v1/system/schedules/".into(),
            json!({ "name": "n", "cron": 5, "kind": "system.ping" }),
            "cron",
        ),
        (
            Method::POST,
            "/api/v1/system/schedules/".into(),
            json!({ "name": "n", "cron": "* * * * *", "kind": "system.ping", "every": 1 }),
            "every",
        ),
    ];
    for (method, path, body, field) in cases {
        let (status, answer) =
            raw(&app, Some(&user), method.clone(), &path, "application/json", body.to_string().into_bytes())
                .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path} {body}: {answer}");
        assert_eq!(answer["code"], "validation_error", "{path}: {answer}");
        assert!(answer["errors"][field].is_array(), "{method} {path} {body} should name `{field}`: {answer}");
        assert!(answer["error"].is_string());
    }
}

#[tokio::test]
async fn bad_ids_and_query_values_name_the_parameter() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let get = |path: &'static str| {
        let app = &app;
        let user = &user;
        async move {
            let response = app.get(path, &user.access).await;
            let status = response.status();
            (status, response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    for (path, field) in [
        ("/api/v1/tasks/not-a-uuid", "id"),
        ("/api/v1/tasks/not-a-uuid/events", "id"),
        ("/api/v1/system/settings/task_progress/12345/", "id"),
        ("/api/v1/auth/sites/abc/", "id"),
        ("/api/v1/auth/sectors/1.5/", "id"),
        ("/api/v1/auth/users/-x/", "id"),
        ("/api/v1/tasks/?state=DONE", "state"),
        ("/api/v1/tasks/?page=0", "page"),
        ("/api/v1/tasks/?page=two", "page"),
        ("/api/v1/tasks/?page_size=1000", "page_size"),
        ("/api/v1/auth/sites/?is_active=maybe", "is_active"),
        ("/api/v1/auth/sites/?ordering=price", "ordering"),
        ("/api/v1/auth/sectors/?site_id=abc", "site_id"),
        ("/api/v1/auth/users/?role=king", "role"),
        ("/api/v1/system/schedules/x/", "id"),
        ("/api/v1/system/schedules/?enabled=sometimes", "enabled"),
        ("/api/v1/tasks/?page=4611686018427387903", "page"),
        ("/api/v1/auth/sites/?search=a%00b", "search"),
        ("/api/v1/tasks/?kind=system%00ping", "kind"),
        ("/api/v1/social/posts/?platform=myspace", "platform"),
        ("/api/v1/social/posts/?status=lost", "status"),
    ] {
        let (status, body) = get(path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert!(body["errors"][field].is_array(), "{path} should name `{field}`: {body}");
    }
    let (status, body) = get("/api/v1/tasks/00000000-0000-0000-0000-000000000000").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an unknown task is 404, never PENDING");
    assert_eq!(body["code"], "not_found");
    let (status, _) = get("/api/v1/no/such/route").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn nul_characters_in_a_body_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let user = app.signup().await;
    for (body, field) in
        [(r#"{"name": "a\u0000b"}"#, "name"), (r#"{"name": "ok", "domain": "x\u0000.example"}"#, "domain")]
    {
        let (status, answer) =
            raw(&app, Some(&user), Method::POST, "/api/v1/auth/sites/", "application/json", body.into())
                .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(answer["errors"][field].is_array(), "{body} should name `{field}`: {answer}");
    }
    let schedule = r#"{"name": "n", "cron": "* * * * *", "kind": "system.ping", "payload": {"steps": 1, "note": "\u0000"}}"#;
    let (status, answer) = raw(
        &app,
        Some(&user),
        Method::POST,
        "/api/v1/system/schedules/",
        "application/json",
        schedule.into(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["errors"]["payload.note"].is_array(), "{answer}");
}
