//! Incoming webhooks: endpoints, signatures (good, bad, missing, stale, replayed) for Odoo,
//! Gitea and payments, and their effects, against the real database.

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::{
    db::schema::{sites, tasks, webhook_deliveries, webhook_endpoints},
    webhooks,
};

use crate::{
    helpers::{TestApp, TestUser, error_of, spawn_app},
    writer_worker::{balance, site},
};

/// (url, secret) of a new endpoint.
async fn endpoint(app: &TestApp, user: &TestUser, body: Value) -> (String, String) {
    let response = app.post("/api/v1/system/webhooks/", Some(&user.access), body).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{}", response.text().await.unwrap_or_default());
    let body: Value = response.json().await.expect("json");
    let url = body["data"]["url"].as_str().expect("url").to_owned();
    assert!(url.starts_with("/api/v1/webhooks/"));
    (url, body["data"]["secret"].as_str().expect("secret").to_owned())
}

async fn deliver(app: &TestApp, url: &str, body: &str, headers: &[(&str, String)]) -> reqwest::Response {
    let mut request =
        app.client.post(format!("{}{url}", app.address)).header("Content-Type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request.body(body.to_owned()).send().await.expect("delivered")
}

async fn status_of(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    body["data"].clone()
}

/// (delivery id, status) of every stored delivery.
async fn deliveries(app: &TestApp) -> Vec<(String, String)> {
    app.sql(|conn| {
        Ok(webhook_deliveries::table
            .order(webhook_deliveries::id)
            .select((webhook_deliveries::delivery_id, webhook_deliveries::status))
            .load(conn)?)
    })
    .await
}

async fn rejected(app: &TestApp) -> i64 {
    let counts: Vec<i64> = app
        .sql(|conn| Ok(webhook_endpoints::table.select(webhook_endpoints::rejected_count).load(conn)?))
        .await;
    counts.iter().sum()
}

async fn task_kinds(app: &TestApp) -> Vec<(String, Value)> {
    app.sql(|conn| {
        Ok(tasks::table.order(tasks::created_at).select((tasks::kind, tasks::payload)).load(conn)?)
    })
    .await
}

/// Bad, missing and wrong-secret signatures: 401 with the reason, nothing stored, the counter
/// moves.
async fn refusals(app: &TestApp, url: &str, body: &str, header: &str, forged: String) {
    let before = rejected(app).await;
    let (code, _) = error_of(deliver(app, url, body, &[]).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(code, "missing_signature");
    let (code, _) =
        error_of(deliver(app, url, body, &[(header, forged)]).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(code, "invalid_signature");
    let (code, _) =
        error_of(deliver(app, url, body, &[(header, "not hex".to_owned())]).await, StatusCode::UNAUTHORIZED)
            .await;
    assert_eq!(code, "invalid_signature");
    assert_eq!(rejected(app).await, before + 3);
}

#[tokio::test]
async fn a_paid_event_buys_credits_exactly_once() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let (url, secret) = endpoint(&app, &user, json!({ "source": "payments" })).await;
    let body = json!({
        "id": "evt_1001",
        "type": "payment_intent.succeeded",
        "data": { "object": { "id": "pi_77", "amount": 4900, "metadata": { "credits": "500" } } },
    })
    .to_string();
    let before = balance(&app, user.account_id).await;
    let now = chrono::Utc::now().timestamp();
    let signed = webhooks::payment_header(secret.as_bytes(), body.as_bytes(), now);

    refusals(
        &app,
        &url,
        &body,
        "Stripe-Signature",
        webhooks::payment_header(b"whsec_wrong", body.as_bytes(), now),
    )
    .await;
    let stale = webhooks::payment_header(secret.as_bytes(), body.as_bytes(), now - 301);
    let (code, _) =
        error_of(deliver(&app, &url, &body, &[("Stripe-Signature", stale)]).await, StatusCode::UNAUTHORIZED)
            .await;
    assert_eq!(code, "stale_signature");
    assert!(deliveries(&app).await.is_empty(), "nothing stored for refused deliveries");
    assert_eq!(balance(&app, user.account_id).await, before);

    let answer = status_of(deliver(&app, &url, &body, &[("Stripe-Signature", signed.clone())]).await).await;
    assert_eq!(answer["status"], "processed");
    assert_eq!(balance(&app, user.account_id).await, before + 500);
    // The provider retries the same event: no second purchase.
    let replay = status_of(deliver(&app, &url, &body, &[("Stripe-Signature", signed)]).await).await;
    assert_eq!(replay["status"], "duplicate");
    assert_eq!(balance(&app, user.account_id).await, before + 500);
    assert_eq!(deliveries(&app).await, vec![("evt_1001".to_owned(), "processed".to_owned())]);

    // Another event type is recorded and ignored.
    let other = json!({ "id": "evt_1002", "type": "customer.created", "data": { "object": {} } }).to_string();
    let header = webhooks::payment_header(secret.as_bytes(), other.as_bytes(), now);
    let answer = status_of(deliver(&app, &url, &other, &[("Stripe-Signature", header)]).await).await;
    assert_eq!(answer["status"], "ignored");
    assert_eq!(balance(&app, user.account_id).await, before + 500);
}

#[tokio::test]
async fn a_gitea_push_re_audits_the_sites_home_page_once_per_delivery() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let site_id = site(&app, &user).await;
    app.sql(move |conn| {
        diesel::update(sites::table.find(site_id))
            .set(sites::domain.eq(Some("shop.example.com")))
            .execute(conn)?;
        Ok(())
    })
    .await;
    let (url, secret) = endpoint(&app, &user, json!({ "source": "gitea", "site_id": site_id })).await;
    let body = json!({ "ref": "refs/heads/main", "repository": { "full_name": "team/shop" } }).to_string();
    let signature = webhooks::sign(secret.as_bytes(), body.as_bytes());
    let headers = |delivery: &str| {
        vec![
            ("X-Gitea-Signature", signature.clone()),
            ("X-Gitea-Event", "push".to_owned()),
            ("X-Gitea-Delivery", delivery.to_owned()),
        ]
    };

    refusals(&app, &url, &body, "X-Gitea-Signature", webhooks::sign(b"other", body.as_bytes())).await;
    let started = std::time::Instant::now();
    let answer = status_of(deliver(&app, &url, &body, &headers("d-1")).await).await;
    assert!(
        started.elapsed() < std::time::Duration::from_millis(500),
        "the answer does not wait for the work"
    );
    assert_eq!(answer["status"], "enqueued");
    assert!(answer["task_id"].is_string());
    let replay = status_of(deliver(&app, &url, &body, &headers("d-1")).await).await;
    assert_eq!(replay["status"], "duplicate");
    let kinds = task_kinds(&app).await;
    assert_eq!(kinds.len(), 1, "one audit for one delivery: {kinds:?}");
    assert_eq!(kinds[0].0, "seo.audit");
    assert_eq!(kinds[0].1["url"], "https://shop.example.com/");
    assert_eq!(kinds[0].1["site_id"], site_id);

    // Another event is recorded without an effect.
    let mut other = headers("d-2");
    other[1].1 = "issues".to_owned();
    assert_eq!(status_of(deliver(&app, &url, &body, &other).await).await["status"], "recorded");
    // A delivery without its id cannot be deduplicated: refused.
    let without_id = headers("d-3").into_iter().take(2).collect::<Vec<_>>();
    let (_, errors) = error_of(deliver(&app, &url, &body, &without_id).await, StatusCode::BAD_REQUEST).await;
    assert!(errors.get("delivery_id").is_some(), "{errors}");
}

#[tokio::test]
async fn odoo_deliveries_run_the_endpoints_command_and_other_accounts_cannot_see_them() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let (url, secret) = endpoint(
        &app,
        &user,
        json!({ "source": "odoo", "command": { "kind": "system.ping", "payload": { "steps": 1 } } }),
    )
    .await;
    let body =
        json!({ "id": "odoo-evt-9", "event": "write", "model": "res.partner", "record_id": 42 }).to_string();
    let signature = webhooks::sign(secret.as_bytes(), body.as_bytes());

    refusals(&app, &url, &body, "X-Odoo-Signature", webhooks::sign(b"other", body.as_bytes())).await;
    let header = vec![("X-Odoo-Signature", format!("sha256={signature}"))];
    let answer = status_of(deliver(&app, &url, &body, &header).await).await;
    assert_eq!(answer["status"], "enqueued");
    assert_eq!(answer["delivery_id"], "odoo-evt-9");
    assert_eq!(status_of(deliver(&app, &url, &body, &header).await).await["status"], "duplicate");
    assert_eq!(task_kinds(&app).await.len(), 1);

    // A bad command is refused when the endpoint is made, by field.
    let response = app
        .post(
            "/api/v1/system/webhooks/",
            Some(&user.access),
            json!({ "source": "odoo", "command": { "kind": "no.such.kind", "payload": {} } }),
        )
        .await;
    let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
    assert!(errors.get("command.kind").is_some(), "{errors}");
    let response =
        app.post("/api/v1/system/webhooks/", Some(&user.access), json!({ "source": "github" })).await;
    let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
    assert!(errors.get("source").is_some(), "{errors}");

    // Unknown keys and sources are 404; the endpoints and deliveries are the owner's alone.
    let unknown = url.replace("/odoo/", "/gitea/");
    error_of(deliver(&app, &unknown, &body, &header).await, StatusCode::NOT_FOUND).await;
    let other = app.signup().await;
    let listed = app.get("/api/v1/system/webhooks/", &other.access).await;
    let listed: Value = listed.json().await.expect("json");
    assert_eq!(listed["data"], json!([]));
    let own: Value = app.get("/api/v1/system/webhooks/", &user.access).await.json().await.expect("json");
    let id = own["data"][0]["id"].as_i64().expect("id");
    assert!(own["data"][0].get("secret").is_none(), "the secret is shown only once");
    assert_eq!(own["data"][0]["rejected_count"], 3);
    let theirs = app.get(&format!("/api/v1/system/webhooks/{id}/deliveries/"), &other.access).await;
    error_of(theirs, StatusCode::NOT_FOUND).await;
    let mine: Value = app
        .get(&format!("/api/v1/system/webhooks/{id}/deliveries/"), &user.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(mine["count"], 1);
    assert_eq!(mine["results"][0]["headers"]["x-odoo-signature"], format!("sha256={signature}"));
}
