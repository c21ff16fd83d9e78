//! Token attacks and the session lifecycle: every rejection is a 401 with its own code.

use reqwest::{Method, StatusCode};
use serde_json::json;
use shared::auth::{JwtKeys, TokenType};

use crate::helpers::{TestApp, TestUser, error_of, spawn_app};

async fn me_with(app: &TestApp, token: &str) -> reqwest::Response {
    app.request(Method::GET, "/api/v1/auth/me/", Some(token)).send().await.expect("request")
}

async fn assert_rejected(app: &TestApp, token: &str, code: &str) {
    let (found, _) = error_of(me_with(app, token).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(found, code, "token {token}");
}

fn keys(app: &TestApp) -> JwtKeys {
    JwtKeys::new(app.config.jwt_secret_bytes())
}

#[tokio::test]
async fn forged_expired_and_misused_tokens_are_rejected() {
    let app = spawn_app().await;
    let user = app.signup().await;
    assert_eq!(me_with(&app, &user.access).await.status(), StatusCode::OK);

    let missing = app.request(Method::GET, "/api/v1/auth/me/", None).send().await.expect("request");
    assert_eq!(error_of(missing, StatusCode::UNAUTHORIZED).await.0, "token_missing");

    // alg: none with the real claims and no signature.
    let payload = user.access.split('.').nth(1).expect("payload");
    assert_rejected(&app, &format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}."), "token_invalid").await;

    // A valid HS256 token signed with another secret.
    let claims = keys(&app).verify(&user.access, TokenType::Access).expect("valid");
    let foreign = JwtKeys::new(b"someone-else-entirely-someone-else").sign_claims(&claims).expect("signs");
    assert_rejected(&app, &foreign, "token_invalid").await;

    // A tampered payload under the original signature.
    let mut parts: Vec<&str> = user.access.split('.').collect();
    let tampered = parts[1].replacen('e', "f", 1);
    parts[1] = &tampered;
    assert_rejected(&app, &parts.join("."), "token_invalid").await;

    let mut expired = claims.clone();
    expired.exp = chrono::Utc::now().timestamp() - 3600;
    assert_rejected(&app, &keys(&app).sign_claims(&expired).expect("signs"), "token_expired").await;

    assert_rejected(&app, &user.refresh, "token_type_invalid").await;
    assert_rejected(&app, "not-a-jwt", "token_invalid").await;
}

#[tokio::test]
async fn a_deleted_users_token_is_rejected() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let response = app
        .post(
            "/api/v1/auth/users/",
            Some(&owner.access),
            json!({ "email": "editor@example.com", "password": "editor-password", "role": "editor" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let editor_id =
        response.json::<serde_json::Value>().await.expect("json")["data"]["id"].as_i64().expect("id");
    let editor = app.login("editor@example.com", "editor-password").await;
    assert_eq!(me_with(&app, &editor.access).await.status(), StatusCode::OK);

    let deleted = app
        .request(Method::DELETE, &format!("/api/v1/auth/users/{editor_id}/"), Some(&owner.access))
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_rejected(&app, &editor.access, "user_not_found").await;
    let refreshed = app.post("/api/v1/auth/refresh/", None, json!({ "refresh": editor.refresh })).await;
    assert_eq!(refreshed.status(), StatusCode::UNAUTHORIZED);
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post("/api/v1/auth/refresh/", None, json!({ "refresh": token })).await
}

async fn rotated(app: &TestApp, user: &TestUser) -> (String, String) {
    let response = refresh(app, &user.refresh).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.expect("json");
    for field in ["access", "refresh", "access_expires_at", "refresh_expires_at"] {
        assert!(body["tokens"][field].is_string(), "{field} in {body}");
    }
    (
        body["tokens"]["access"].as_str().expect("access").to_owned(),
        body["tokens"]["refresh"].as_str().expect("refresh").to_owned(),
    )
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_whole_session() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let (access, next_refresh) = rotated(&app, &user).await;
    assert_eq!(me_with(&app, &access).await.status(), StatusCode::OK);

    // The spent token is presented again (stolen): the session dies, including tokens
    // issued after it.
    let (code, _) = error_of(refresh(&app, &user.refresh).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(code, "refresh_token_reused");
    assert_eq!(
        error_of(refresh(&app, &next_refresh).await, StatusCode::UNAUTHORIZED).await.0,
        "session_revoked"
    );
    assert_rejected(&app, &access, "session_revoked").await;

    // Another login is a new session and works.
    let again = app.login(&user.email, crate::helpers::PASSWORD).await;
    assert_eq!(me_with(&app, &again.access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn logout_revokes_access_and_refresh_tokens() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let other_session = app.login(&user.email, crate::helpers::PASSWORD).await;
    let response = app.post("/api/v1/auth/logout/", Some(&user.access), json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_rejected(&app, &user.access, "session_revoked").await;
    assert_eq!(
        error_of(refresh(&app, &user.refresh).await, StatusCode::UNAUTHORIZED).await.0,
        "session_revoked"
    );
    assert_eq!(me_with(&app, &other_session.access).await.status(), StatusCode::OK, "other sessions live on");
}
