//! Registration, login, me, change-password, invitations.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, error_of, spawn_app};

#[tokio::test]
async fn register_then_login_returns_the_seed_shapes() {
    let app = spawn_app().await;
    let response = app
        .post(
            "/api/v1/auth/register/",
            None,
            json!({ "email": "Ann@Example.com", "password": PASSWORD, "password_confirm": PASSWORD, "account_name": "Ann Co" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "Registration successful");
    assert_eq!(body["user"]["email"], "ann@example.com");
    assert_eq!(body["user"]["role"], "owner");
    assert_eq!(body["user"]["account"]["name"], "Ann Co");
    assert!(body["user"].get("password_hash").is_none());

    let login = app
        .post("/api/v1/auth/login/", None, json!({ "email": "ANN@example.com", "password": PASSWORD }))
        .await;
    assert_eq!(login.status(), StatusCode::OK);
    let body: Value = login.json().await.expect("json");
    assert_eq!(body["message"], "Login successful");
    for field in ["access", "refresh", "access_expires_at", "refresh_expires_at"] {
        assert!(body["tokens"][field].is_string(), "{field}");
    }
    assert_eq!(body["user"]["email"], "ann@example.com");

    let again = app
        .post(
            "/api/v1/auth/register/",
            None,
            json!({ "email": "ann@example.com", "password": PASSWORD, "password_confirm": PASSWORD }),
        )
        .await;
    let (code, errors) = error_of(again, StatusCode::CONFLICT).await;
    assert_eq!(code, "email_taken");
    assert!(errors["email"].is_array());
}

#[tokio::test]
async fn login_failures_do_not_reveal_whether_the_email_exists() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let wrong_password = app
        .post("/api/v1/auth/login/", None, json!({ "email": user.email, "password": "nope-nope-nope" }))
        .await;
    let unknown_email = app
        .post(
            "/api/v1/auth/login/",
            None,
            json!({ "email": "ghost@example.com", "password": "nope-nope-nope" }),
        )
        .await;
    let first: Value = {
        assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
        wrong_password.json().await.expect("json")
    };
    let second: Value = {
        assert_eq!(unknown_email.status(), StatusCode::UNAUTHORIZED);
        unknown_email.json().await.expect("json")
    };
    assert_eq!(first, second, "identical answers");
    assert_eq!(first["code"], "invalid_credentials");
}

#[tokio::test]
async fn me_and_change_password() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let other_session = app.login(&user.email, PASSWORD).await;
    let me: Value = app.get("/api/v1/auth/me/", &user.access).await.json().await.expect("json");
    assert_eq!(me["user"]["id"], user.user_id);
    assert!(me["user"]["accessible_sites"].is_array());

    let wrong = app
        .post(
            "/api/v1/auth/change-password/",
            Some(&user.access),
            json!({ "old_password": "not-it-at-all", "new_password": "brand-new-pass", "new_password_confirm": "brand-new-pass" }),
        )
        .await;
    assert!(error_of(wrong, StatusCode::BAD_REQUEST).await.1["old_password"].is_array());

    let mismatch = app
        .post(
            "/api/v1/auth/change-password/",
            Some(&user.access),
            json!({ "old_password": PASSWORD, "new_password": "brand-new-pass", "new_password_confirm": "other" }),
        )
        .await;
    assert!(error_of(mismatch, StatusCode::BAD_REQUEST).await.1["new_password_confirm"].is_array());

    let changed = app
        .post(
            "/api/v1/auth/change-password/",
            Some(&user.access),
            json!({ "old_password": PASSWORD, "new_password": "brand-new-pass", "new_password_confirm": "brand-new-pass" }),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/auth/me/", &user.access).await.status(),
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(app.get("/api/v1/auth/me/", &other_session.access).await.status(), StatusCode::UNAUTHORIZED);
    let old =
        app.post("/api/v1/auth/login/", None, json!({ "email": user.email, "password": PASSWORD })).await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    app.login(&user.email, "brand-new-pass").await;
}

#[tokio::test]
async fn an_invited_user_joins_the_same_account() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let response = app
        .post(
            "/api/v1/auth/users/invite/",
            Some(&owner.access),
            json!({ "email": "new@example.com", "role": "viewer" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.expect("json");
    let token = body["data"]["invite_token"].as_str().expect("token").to_owned();
    assert_eq!(body["data"]["user"]["is_active"], false);
    assert_eq!(body["data"]["user"]["account_id"], owner.account_id);

    let before = app
        .post("/api/v1/auth/login/", None, json!({ "email": "new@example.com", "password": "whatever-123" }))
        .await;
    assert_eq!(before.status(), StatusCode::UNAUTHORIZED, "no password yet");

    let bad = app
        .post(
            "/api/v1/auth/accept-invite/",
            None,
            json!({ "token": "forged", "password": "chosen-pass", "password_confirm": "chosen-pass" }),
        )
        .await;
    assert!(error_of(bad, StatusCode::BAD_REQUEST).await.1["token"].is_array());
    let accepted = app
        .post(
            "/api/v1/auth/accept-invite/",
            None,
            json!({ "token": token, "password": "chosen-pass", "password_confirm": "chosen-pass" }),
        )
        .await;
    assert_eq!(accepted.status(), StatusCode::OK);
    let viewer = app.login("new@example.com", "chosen-pass").await;
    assert_eq!(viewer.account_id, owner.account_id);
    let again = app
        .post(
            "/api/v1/auth/accept-invite/",
            None,
            json!({ "token": token, "password": "chosen-pass", "password_confirm": "chosen-pass" }),
        )
        .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST, "an invitation works once");

    // Viewers read but do not manage users or send commands.
    let users =
        app.request(Method::GET, "/api/v1/auth/users/", Some(&viewer.access)).send().await.expect("request");
    assert_eq!(error_of(users, StatusCode::FORBIDDEN).await.0, "permission_denied");
    let ping = app.post("/api/v1/system/ping/", Some(&viewer.access), json!({})).await;
    assert_eq!(ping.status(), StatusCode::FORBIDDEN);
}
