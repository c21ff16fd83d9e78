//! The seeds' wire shapes, sent as their clients write them: OmniSell's auth (top-level
//! tokens, `token/refresh`, `token/verify`, `user/me`, `profile`), the agency's
//! `social/schedule/` body, and the keyless webhook paths bound to an install default.

use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::{
    db::schema::{accounts, tasks},
    webhooks,
};

use crate::helpers::{TestApp, TestUser, error_of, spawn_app};

async fn json_of(response: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    response.json().await.expect("json")
}

async fn put(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    app.request(Method::PUT, path, Some(token)).json(&body).send().await.expect("sent")
}

#[tokio::test]
async fn omnisell_auth_works_as_its_frontend_guide_writes_it() {
    let app = spawn_app().await;
    let registered = app
        .post(
            "/api/v1/auth/register/",
            None,
            json!({
                "email": "john@example.com",
                "password": "securepassword123",
                "password_confirm": "securepassword123",
                "first_name": "John",
                "last_name": "Doe",
                "phone": "+233501234567"
            }),
        )
        .await;
    let registered = json_of(registered, StatusCode::CREATED).await;
    assert_eq!(registered["user"]["first_name"], "John");
    assert_eq!(registered["user"]["last_name"], "Doe");
    assert_eq!(registered["user"]["phone"], "+233501234567");
    assert_eq!(registered["user"]["is_verified"], false);
    assert_eq!(registered["user"]["onboarding_completed"], false);

    // `const { access, refresh, user } = await response.json();`
    let login = app
        .post(
            "/api/v1/auth/login/",
            None,
            json!({ "email": "john@example.com", "password": "securepassword123" }),
        )
        .await;
    let login = json_of(login, StatusCode::OK).await;
    let (access, refresh) =
        (login["access"].as_str().expect("access"), login["refresh"].as_str().expect("refresh"));
    assert_eq!(login["tokens"]["access"], access, "also under tokens");
    assert_eq!(login["user"]["first_name"], "John");

    let me = json_of(app.get("/api/v1/auth/user/me/", access).await, StatusCode::OK).await;
    assert_eq!(me["email"], "john@example.com");
    assert_eq!(me["phone"], "+233501234567");
    assert_eq!(me["ai_description_enabled"], true);
    assert_eq!(me["data"]["email"], "john@example.com", "and under data");

    let verified = json_of(
        app.post("/api/v1/auth/token/verify/", None, json!({ "token": access })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(verified["data"]["valid"], true);
    assert_eq!(verified["data"]["token_type"], "access");
    let verified = json_of(
        app.post("/api/v1/auth/token/verify/", None, json!({ "token": refresh })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(verified["data"]["token_type"], "refresh");
    let (code, _) = error_of(
        app.post("/api/v1/auth/token/verify/", None, json!({ "token": "not.a.token" })).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(code, "token_invalid");
    let (_, errors) = error_of(
        app.post("/api/v1/auth/token/verify/", None, json!({ "token": " " })).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(errors.get("token").is_some(), "{errors}");

    // `localStorage.setItem('access', data.access)` after a refresh.
    let rotated = json_of(
        app.post("/api/v1/auth/token/refresh/", None, json!({ "refresh": refresh })).await,
        StatusCode::OK,
    )
    .await;
    let new_access = rotated["access"].as_str().expect("access at the top level");
    assert!(rotated["refresh"].is_string());
    assert_eq!(rotated["tokens"]["access"], new_access);
    assert_eq!(
        json_of(app.get("/api/v1/auth/user/me/", new_access).await, StatusCode::OK).await["first_name"],
        "John"
    );
    let (code, _) = error_of(
        app.post("/api/v1/auth/token/refresh/", None, json!({ "refresh": refresh })).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(code, "refresh_token_reused", "the same rotation rules as auth/refresh/");
    let (code, _) = error_of(
        app.post("/api/v1/auth/token/verify/", None, json!({ "token": new_access })).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(code, "session_revoked", "a reused refresh token revoked the session");
}

#[tokio::test]
async fn the_profile_keeps_the_seeds_fields_and_names_the_bad_ones() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let before = json_of(app.get("/api/v1/auth/profile/", &user.access).await, StatusCode::OK).await;
    assert_eq!(before["currency"], "USD", "defaults before the first write");
    assert_eq!(before["business_type"], "individual");

    let seed_body = json!({
        "first_name": "John",
        "last_name": "Doe",
        "bio": "Seller of premium electronics",
        "company_name": "TechGear Hub",
        "business_type": "business",
        "country": "Ghana",
        "city": "Accra",
        "currency": "GHS",
        "dark_mode": false
    });
    let saved =
        json_of(put(&app, "/api/v1/auth/profile/", &user.access, seed_body).await, StatusCode::OK).await;
    for (field, value) in [
        ("first_name", "John"),
        ("company_name", "TechGear Hub"),
        ("business_type", "business"),
        ("city", "Accra"),
        ("currency", "GHS"),
    ] {
        assert_eq!(saved[field], value, "{field}");
    }
    let partial =
        put(&app, "/api/v1/auth/profile/", &user.access, json!({ "currency": "eur", "dark_mode": true }))
            .await;
    let partial = json_of(partial, StatusCode::OK).await;
    assert_eq!(partial["currency"], "EUR");
    assert_eq!(partial["dark_mode"], true);
    assert_eq!(partial["company_name"], "TechGear Hub", "absent fields are kept");
    let me = json_of(app.get("/api/v1/auth/me/", &user.access).await, StatusCode::OK).await;
    assert_eq!(me["user"]["bio"], "Seller of premium electronics", "the IGNY8 `me` shows it too");

    for (body, field) in [
        (json!({ "currency": "CEDI" }), "currency"),
        (json!({ "business_type": "corporation" }), "business_type"),
        (json!({ "phone": "call me maybe" }), "phone"),
        (json!({ "bio": "x".repeat(2001) }), "bio"),
        (json!({ "favourite_colour": "teal" }), "favourite_colour"),
    ] {
        let (_, errors) = error_of(
            put(&app, "/api/v1/auth/profile/", &user.access, body.clone()).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(errors.get(field).is_some(), "{body} should name {field}: {errors}");
    }
    let other = app.signup().await;
    let theirs = json_of(app.get("/api/v1/auth/user/me/", &other.access).await, StatusCode::OK).await;
    assert_eq!(theirs["company_name"], "", "one user's profile is theirs alone");
}

async fn connect(app: &TestApp, user: &TestUser, platform: &str, handle: &str) -> i64 {
    let response = app
        .post(
            "/api/v1/social/accounts/",
            Some(&user.access),
            json!({ "platform": platform, "handle": handle, "access_token": "sandbox-token", "base_url": "" }),
        )
        .await;
    json_of(response, StatusCode::CREATED).await["data"]["id"].as_i64().expect("id")
}

#[tokio::test]
async fn the_agency_schedules_by_platform_with_a_json_audience() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let schedule = |body: Value| app.post("/api/v1/social/schedule/", Some(&user.access), body);
    let later = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let seed_body = json!({
        "platform": "sandbox",
        "content": "Our autumn offer",
        "media": [],
        "scheduled_time": later,
        "target_audience": { "age": "25-34", "interests": ["marketing", "seo"] }
    });

    let (_, errors) = error_of(schedule(seed_body.clone()).await, StatusCode::BAD_REQUEST).await;
    assert!(errors["platform"][0].as_str().unwrap_or_default().contains("no connected"), "{errors}");

    let sandbox = connect(&app, &user, "sandbox", "@agency").await;
    let post = json_of(schedule(seed_body.clone()).await, StatusCode::CREATED).await;
    assert_eq!(post["data"]["social_account_id"], sandbox);
    assert_eq!(post["data"]["target_audience"], json!({ "age": "25-34", "interests": ["marketing", "seo"] }));

    connect(&app, &user, "sandbox", "@agency-two").await;
    let (_, errors) = error_of(schedule(seed_body.clone()).await, StatusCode::BAD_REQUEST).await;
    assert!(errors["platform"][0].as_str().unwrap_or_default().contains("social_account_id"), "{errors}");
    let mut chosen = seed_body.clone();
    chosen["social_account_id"] = json!(sandbox);
    chosen["target_audience"] = json!("Marketing managers");
    let post = json_of(schedule(chosen).await, StatusCode::CREATED).await;
    assert_eq!(post["data"]["target_audience"], json!({ "description": "Marketing managers" }));

    for (change, field) in [
        (json!({ "target_audience": [1, 2] }), "target_audience"),
        (json!({ "platform": "myspace" }), "platform"),
        (json!({ "platform": "mastodon", "social_account_id": sandbox }), "platform"),
    ] {
        let mut body = seed_body.clone();
        for (key, value) in change.as_object().expect("object") {
            body[key] = value.clone();
        }
        let (_, errors) = error_of(schedule(body).await, StatusCode::BAD_REQUEST).await;
        assert!(errors.get(field).is_some(), "{change} should name {field}: {errors}");
    }
    let other = app.signup().await;
    let mut theirs = seed_body.clone();
    theirs["social_account_id"] = json!(sandbox);
    let response = app.post("/api/v1/social/schedule/", Some(&other.access), theirs).await;
    error_of(response, StatusCode::NOT_FOUND).await;
}

async fn make_operator(app: &TestApp, user: &TestUser) {
    let account_id = user.account_id;
    app.sql(move |conn| {
        diesel::update(accounts::table.find(account_id)).set(accounts::is_system.eq(true)).execute(conn)?;
        Ok(())
    })
    .await;
}

async fn deliver(app: &TestApp, path: &str, body: &str, header: (&str, String)) -> reqwest::Response {
    app.client
        .post(format!("{}{path}", app.address))
        .header("Content-Type", "application/json")
        .header(header.0, header.1)
        .body(body.to_owned())
        .send()
        .await
        .expect("delivered")
}

/// (id, secret) of a new endpoint.
async fn endpoint(app: &TestApp, user: &TestUser, body: Value) -> (i64, String) {
    let created =
        json_of(app.post("/api/v1/system/webhooks/", Some(&user.access), body).await, StatusCode::CREATED)
            .await;
    (
        created["data"]["id"].as_i64().expect("id"),
        created["data"]["secret"].as_str().expect("secret").to_owned(),
    )
}

#[tokio::test]
async fn the_seeds_keyless_webhook_paths_reach_the_install_default() {
    let app = spawn_app().await;
    let tenant = app.signup().await;
    let operator = app.signup().await;
    make_operator(&app, &operator).await;
    let ping = json!({ "kind": "system.ping", "payload": { "steps": 1 } });
    let (odoo, odoo_secret) = endpoint(&app, &tenant, json!({ "source": "odoo", "command": ping })).await;
    let (gitea, gitea_secret) = endpoint(&app, &tenant, json!({ "source": "gitea", "command": ping })).await;
    let (payments, payments_secret) =
        endpoint(&app, &tenant, json!({ "source": "payments", "command": ping })).await;

    let odoo_body =
        json!({ "id": "evt-1", "event": "write", "model": "res.partner", "record_id": 1 }).to_string();
    let odoo_signed = ("X-Odoo-Signature", webhooks::sign(odoo_secret.as_bytes(), odoo_body.as_bytes()));
    error_of(
        deliver(&app, "/api/v1/odoo/webhook/", &odoo_body, odoo_signed.clone()).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    let mark = |id: i64, user: &TestUser| {
        app.request(
            Method::PUT,
            &format!("/api/v1/system/webhooks/{id}/install-default/"),
            Some(&user.access),
        )
        .send()
    };
    let (code, _) = error_of(mark(odoo, &tenant).await.expect("sent"), StatusCode::FORBIDDEN).await;
    assert_eq!(code, "not_operator", "a tenant cannot bind the install's paths");
    for id in [odoo, gitea, payments] {
        let marked = json_of(mark(id, &operator).await.expect("sent"), StatusCode::OK).await;
        assert_eq!(marked["data"]["is_install_default"], true);
    }

    let answer = json_of(
        deliver(&app, "/api/v1/odoo/webhook/", &odoo_body, odoo_signed.clone()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(answer["data"]["status"], "enqueued");
    let replay =
        json_of(deliver(&app, "/api/v1/odoo/webhook/", &odoo_body, odoo_signed).await, StatusCode::OK).await;
    assert_eq!(replay["data"]["status"], "duplicate", "the same replay rule");
    let forged = ("X-Odoo-Signature", webhooks::sign(b"wrong", odoo_body.as_bytes()));
    let (code, _) =
        error_of(deliver(&app, "/api/v1/odoo/webhook/", &odoo_body, forged).await, StatusCode::UNAUTHORIZED)
            .await;
    assert_eq!(code, "invalid_signature");

    let gitea_body = json!({ "ref": "refs/heads/main", "before": "a1", "after": "b2" }).to_string();
    let answer = app
        .client
        .post(format!("{}/api/v1/system/webhook/", app.address))
        .header("Content-Type", "application/json")
        .header("X-Gitea-Signature", webhooks::sign(gitea_secret.as_bytes(), gitea_body.as_bytes()))
        .header("X-Gitea-Delivery", "d-1")
        .header("X-Gitea-Event", "issues")
        .body(gitea_body)
        .send()
        .await
        .expect("delivered");
    assert_eq!(json_of(answer, StatusCode::OK).await["data"]["status"], "enqueued");

    let payment_body =
        json!({ "id": "evt_9", "type": "payment_intent.succeeded", "data": { "object": {} } }).to_string();
    let signed = webhooks::payment_header(
        payments_secret.as_bytes(),
        payment_body.as_bytes(),
        chrono::Utc::now().timestamp(),
    );
    let answer =
        deliver(&app, "/api/v1/webhooks/payment/", &payment_body, ("Stripe-Signature", signed)).await;
    assert_eq!(json_of(answer, StatusCode::OK).await["data"]["status"], "enqueued");

    let enqueued: Vec<i64> =
        app.sql(|conn| Ok(tasks::table.order(tasks::created_at).select(tasks::account_id).load(conn)?)).await;
    assert_eq!(
        enqueued,
        vec![tenant.account_id; 3],
        "each delivery had its effect for the endpoint's account (odoo.sync, then the commands)"
    );

    // A second Odoo endpoint made the default takes the path over; unmarking frees it.
    let (second, _) = endpoint(&app, &tenant, json!({ "source": "odoo" })).await;
    json_of(mark(second, &operator).await.expect("sent"), StatusCode::OK).await;
    let listed = json_of(app.get("/api/v1/system/webhooks/", &tenant.access).await, StatusCode::OK).await;
    let defaults: Vec<i64> = listed["data"]
        .as_array()
        .expect("endpoints")
        .iter()
        .filter(|endpoint| endpoint["source"] == "odoo" && endpoint["is_install_default"] == true)
        .map(|endpoint| endpoint["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(defaults, vec![second], "one default per source");
    let cleared = app
        .request(
            Method::DELETE,
            &format!("/api/v1/system/webhooks/{second}/install-default/"),
            Some(&operator.access),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(json_of(cleared, StatusCode::OK).await["data"]["is_install_default"], false);
    let body = json!({ "id": "evt-2" }).to_string();
    let signed = ("X-Odoo-Signature", webhooks::sign(odoo_secret.as_bytes(), body.as_bytes()));
    error_of(deliver(&app, "/api/v1/odoo/webhook/", &body, signed).await, StatusCode::NOT_FOUND).await;
}
