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
    helpers::{TestApp, TestUser, error_of, spawn_app, spawn_app_with},
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

/// The hole a hostile tenant found: its own endpoint's secret signed a session that paid
/// nothing and claimed ten million credits in metadata.
#[tokio::test]
async fn a_tenants_own_payment_events_never_move_credits() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let (url, secret) = endpoint(&app, &user, json!({ "source": "payments" })).await;
    let body = json!({
        "id": "evt_1001",
        "type": "checkout.session.completed",
        "data": { "object": {
            "id": "cs_77", "payment_status": "paid", "amount_total": 0, "currency": "usd",
            "client_reference_id": user.account_id.to_string(),
            "metadata": { "credits": "10000000" },
        } },
    })
    .to_string();
    let before = balance(&app, user.account_id).await;
    let ledger_before = ledger_rows(&app, user.account_id).await;
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

    let answer = status_of(deliver(&app, &url, &body, &[("Stripe-Signature", signed.clone())]).await).await;
    assert_eq!(answer["status"], "recorded");
    let replay = status_of(deliver(&app, &url, &body, &[("Stripe-Signature", signed)]).await).await;
    assert_eq!(replay["status"], "duplicate");
    assert_eq!(balance(&app, user.account_id).await, before, "no credits from a tenant's signature");
    assert_eq!(ledger_rows(&app, user.account_id).await, ledger_before, "no ledger rows either");
    assert_eq!(deliveries(&app).await, vec![("evt_1001".to_owned(), "recorded".to_owned())]);
}

async fn ledger_rows(app: &TestApp, account_id: i64) -> i64 {
    use shared::db::schema::credit_transactions as t;
    app.sql(move |conn| Ok(t::table.filter(t::account_id.eq(account_id)).count().get_result(conn)?)).await
}

/// NUL in a signed body's id, type or any other text: 400 naming it, nothing stored.
#[tokio::test]
async fn a_signed_delivery_holding_nul_is_400_naming_the_field_and_not_stored() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let (url, secret) = endpoint(&app, &user, json!({ "source": "payments" })).await;
    let now = chrono::Utc::now().timestamp();
    for (body, field) in [
        (json!({ "id": "evt_\u{0}1", "type": "charge.succeeded" }), "id"),
        (json!({ "id": "evt_2", "type": "charge.\u{0}succeeded" }), "type"),
        (
            json!({ "id": "evt_3", "type": "x", "data": { "object": { "name": "a\u{0}b" } } }),
            "data.object.name",
        ),
    ] {
        let body = body.to_string();
        assert!(body.contains("\\u0000"), "serde escapes NUL: {body}");
        let header = webhooks::payment_header(secret.as_bytes(), body.as_bytes(), now);
        let (_, errors) = error_of(
            deliver(&app, &url, &body, &[("Stripe-Signature", header)]).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(errors.get(field).is_some(), "{field}: {errors}");
    }
    assert!(deliveries(&app).await.is_empty());
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

/// A captured push replayed under a new delivery id is still the same commit range; pushes
/// of new ranges re-audit a site at most once per interval, even when they arrive together.
#[tokio::test]
async fn a_replayed_push_is_a_duplicate_and_re_audits_wait_their_interval() {
    for interval in [std::time::Duration::from_secs(600), std::time::Duration::ZERO] {
        let app = spawn_app_with(|config| config.push_audit_interval = interval).await;
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
        let push = |before: &str, after: &str| {
            json!({ "ref": "refs/heads/main", "before": before, "after": after, "repository": { "full_name": "team/shop" } })
                .to_string()
        };
        let headers = |body: &str, delivery: &str| {
            vec![
                ("X-Gitea-Signature", webhooks::sign(secret.as_bytes(), body.as_bytes())),
                ("X-Gitea-Event", "push".to_owned()),
                ("X-Gitea-Delivery", delivery.to_owned()),
            ]
        };
        let first = push("a1", "b1");
        assert_eq!(
            status_of(deliver(&app, &url, &first, &headers(&first, "d-1")).await).await["status"],
            "enqueued"
        );
        let replay = status_of(deliver(&app, &url, &first, &headers(&first, "d-forged")).await).await;
        assert_eq!(replay["status"], "duplicate", "a new delivery id does not make a new push");

        let later: Vec<String> = (0..4).map(|n| push("b1", &format!("c{n}"))).collect();
        let answers = futures_util::future::join_all(later.iter().enumerate().map(|(n, body)| {
            let (app, url, headers) = (&app, &url, headers(body, &format!("d-{}", n + 2)));
            async move { status_of(deliver(app, url, body, &headers).await).await }
        }))
        .await;
        let audits = task_kinds(&app).await.into_iter().filter(|(kind, _)| kind == "seo.audit").count();
        if interval.is_zero() {
            assert_eq!(audits, 5, "{answers:?}");
        } else {
            assert_eq!(audits, 1, "{answers:?}");
            assert!(answers.iter().all(|a| a["status"] == "recorded"), "{answers:?}");
        }
    }
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

    // A bad command is refused when the endpoint is made, by field: every kind's payload is
    // read by its own type, including kinds no endpoint of the seeds names.
    for (command, field) in [
        (json!({ "kind": "no.such.kind", "payload": {} }), "command.kind"),
        (json!({ "kind": "social.publish", "payload": { "post_id": "seven" } }), "command.payload.post_id"),
        (
            json!({ "kind": "seo.audit", "payload": { "url": "http://169.254.169.254/" } }),
            "command.payload.url",
        ),
        (
            json!({ "kind": "writer.generate_content", "payload": { "writer_task_ids": [] } }),
            "command.payload.writer_task_ids",
        ),
        (
            json!({ "kind": "odoo.push_lead", "payload": { "name": "A", "email": "x", "extra": 1 } }),
            "command.payload.extra",
        ),
    ] {
        let response = app
            .post(
                "/api/v1/system/webhooks/",
                Some(&user.access),
                json!({ "source": "odoo", "command": command }),
            )
            .await;
        let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
        assert!(errors.get(field).is_some(), "{command} should name {field}: {errors}");
    }
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
