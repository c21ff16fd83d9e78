//! Buying credits through the platform's payment account: events signed the way Stripe signs
//! them (`t=…,v1=HMAC-SHA256(secret, "{t}.{body}")`), credits from the price table only, once
//! per payment whatever events arrive, and refunds and disputes taking them back — asserted on
//! balances and ledger rows in the real database.

use diesel::prelude::*;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;
use shared::db::schema::{accounts, credit_transactions, payments};
use testkit::config::PAYMENTS_WEBHOOK_SECRET;

use crate::{
    helpers::{TestApp, error_of, spawn_app, spawn_app_with},
    planner_ai::import,
    writer_worker::{balance, site},
};

const WEBHOOK: &str = "/api/v1/billing/payments/webhook/";

/// The header Stripe's libraries build (`generateTestHeaderString`): the unix time, a dot and
/// the exact body, signed with HMAC-SHA256 and hex-encoded.
fn stripe_signature(secret: &str, body: &str, timestamp: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

fn event(id: &str, event_type: &str, object: Value) -> String {
    json!({
        "id": id,
        "object": "event",
        "api_version": "2024-06-20",
        "type": event_type,
        "data": { "object": object },
    })
    .to_string()
}

async fn send_signed(app: &TestApp, body: &str, secret: &str) -> reqwest::Response {
    let signature = stripe_signature(secret, body, chrono::Utc::now().timestamp());
    app.client
        .post(format!("{}{WEBHOOK}", app.address))
        .header("Content-Type", "application/json")
        .header("Stripe-Signature", signature)
        .body(body.to_owned())
        .send()
        .await
        .expect("delivered")
}

/// The receipt of an event the platform's secret signed.
async fn send(app: &TestApp, body: &str) -> Value {
    let response = send_signed(app, body, PAYMENTS_WEBHOOK_SECRET).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    body["data"].clone()
}

/// (type, amount) of the account's ledger rows, oldest first.
async fn ledger(app: &TestApp, account_id: i64) -> Vec<(String, i64)> {
    app.sql(move |conn| {
        Ok(credit_transactions::table
            .filter(credit_transactions::account_id.eq(account_id))
            .order(credit_transactions::id)
            .select((credit_transactions::transaction_type, credit_transactions::amount))
            .load(conn)?)
    })
    .await
}

fn session(id: &str, intent: &str, account_id: i64, amount: i64, status: &str) -> Value {
    json!({
        "id": id, "object": "checkout.session", "mode": "payment",
        "payment_intent": intent, "payment_status": status,
        "amount_total": amount, "currency": "usd",
        "client_reference_id": account_id.to_string(),
        "metadata": { "credits": "10000000" },
    })
}

fn intent(id: &str, account_id: i64, amount: i64) -> Value {
    json!({
        "id": id, "object": "payment_intent", "status": "succeeded",
        "amount": amount, "amount_received": amount, "currency": "usd",
        "metadata": { "account_id": account_id.to_string(), "credits": "10000000" },
    })
}

fn charge(id: &str, intent: &str, amount: i64, refunded: i64) -> Value {
    json!({
        "id": id, "object": "charge", "payment_intent": intent, "paid": true, "status": "succeeded",
        "amount": amount, "amount_captured": amount, "amount_refunded": refunded, "refunded": refunded >= amount,
        "currency": "usd", "metadata": {},
    })
}

#[tokio::test]
async fn a_paid_checkout_buys_its_packages_credits_never_its_metadatas() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let start = balance(&app, user.account_id).await;
    let signup_ledger = ledger(&app, user.account_id).await;

    // $10.00 is the Starter package: 1,000 credits, whatever metadata claims.
    let paid = send(
        &app,
        &event("evt_1", "checkout.session.completed", session("cs_1", "pi_1", user.account_id, 1000, "paid")),
    )
    .await;
    assert_eq!(paid["status"], "credited");
    assert_eq!(paid["credits"], 1000);
    assert_eq!(balance(&app, user.account_id).await, start + 1000);

    // Nothing paid, or an amount no package costs: nothing credited.
    for (id, amount) in [("cs_zero", 0), ("cs_odd", 1234)] {
        let body = event(
            &format!("evt_{id}"),
            "checkout.session.completed",
            session(id, "", user.account_id, amount, "paid"),
        );
        let answer = send(&app, &body).await;
        assert_eq!(answer["credits"], 0, "{answer}");
    }
    // A payment naming no account we know is recorded and ignored.
    let stranger =
        send(&app, &event("evt_2", "payment_intent.succeeded", intent("pi_2", 999_999_999, 1000))).await;
    assert_eq!(stranger["status"], "ignored");
    assert_eq!(balance(&app, user.account_id).await, start + 1000);

    let mut expected = signup_ledger;
    expected.push(("purchase".to_owned(), 1000));
    assert_eq!(ledger(&app, user.account_id).await, expected);
    let listed: Value = app.get("/api/v1/billing/payments/", &user.access).await.json().await.expect("json");
    let bought =
        listed["results"].as_array().expect("results").iter().find(|p| p["reference"] == "pi_1").cloned();
    let bought = bought.expect("the payment is listed");
    assert_eq!((bought["status"].as_str(), bought["amount"].as_str()), (Some("paid"), Some("10.00")));
    assert_eq!((bought["package"].as_str(), bought["credits"].as_i64()), (Some("starter"), Some(1000)));
    let other = app.signup().await;
    let theirs: Value = app.get("/api/v1/billing/payments/", &other.access).await.json().await.expect("json");
    assert_eq!(theirs["count"], 0, "payments are the account's own");
    let packages: Value =
        app.get("/api/v1/billing/packages/", &user.access).await.json().await.expect("json");
    assert!(
        packages["data"]
            .as_array()
            .expect("packages")
            .iter()
            .any(|p| p["code"] == "starter" && p["price"] == "10.00")
    );
}

#[tokio::test]
async fn one_payment_credits_once_whatever_events_arrive_in_any_order_and_number() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let account = user.account_id;
    let start = balance(&app, account).await;
    let events = [
        ("charge.succeeded", charge("ch_1", "pi_1", 5000, 0)),
        ("payment_intent.succeeded", intent("pi_1", account, 5000)),
        ("checkout.session.completed", session("cs_1", "pi_1", account, 5000, "paid")),
    ];
    for round in 0..2 {
        for (index, (event_type, object)) in events.iter().enumerate() {
            let body = event(&format!("evt_{round}_{index}"), event_type, object.clone());
            send(&app, &body).await;
            // The provider redelivers the very same event: a duplicate.
            assert_eq!(send(&app, &body).await["status"], "duplicate");
        }
    }
    assert_eq!(balance(&app, account).await, start + 6000, "Growth, once");
    let purchases = ledger(&app, account).await.into_iter().filter(|(kind, _)| kind == "purchase").count();
    assert_eq!(purchases, 1);

    // Twelve events of another payment at once: still one purchase.
    let concurrent = (0..12).map(|n| {
        let (event_type, object) = match n % 3 {
            0 => ("payment_intent.succeeded", intent("pi_2", account, 1000)),
            1 => ("charge.succeeded", charge(&format!("ch_2_{n}"), "pi_2", 1000, 0)),
            _ => ("checkout.session.completed", session("cs_2", "pi_2", account, 1000, "paid")),
        };
        let body = event(&format!("evt_c{n}"), event_type, object);
        let app = &app;
        async move { send(app, &body).await }
    });
    let answers = futures_util::future::join_all(concurrent).await;
    let credited: Vec<&Value> = answers.iter().filter(|a| a["status"] == "credited").collect();
    assert_eq!(credited.len(), 1, "{answers:?}");
    assert_eq!(balance(&app, account).await, start + 7000);
    let rows: i64 = app.sql(|conn| Ok(payments::table.count().get_result(conn)?)).await;
    assert_eq!(rows, 2);
}

#[tokio::test]
async fn an_unpaid_session_credits_only_when_its_delayed_payment_succeeds() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let start = balance(&app, user.account_id).await;
    let unpaid = session("cs_9", "pi_9", user.account_id, 1000, "unpaid");
    let answer = send(&app, &event("evt_1", "checkout.session.completed", unpaid)).await;
    assert_eq!(answer["status"], "ignored");
    assert_eq!(balance(&app, user.account_id).await, start);

    let settled = session("cs_9", "pi_9", user.account_id, 1000, "paid");
    let answer = send(&app, &event("evt_2", "checkout.session.async_payment_succeeded", settled)).await;
    assert_eq!(answer["status"], "credited");
    assert_eq!(balance(&app, user.account_id).await, start + 1000);
}

#[tokio::test]
async fn refunds_and_disputes_take_credits_back_even_below_zero_and_commands_are_then_402() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let account = user.account_id;
    let site_id = site(&app, &user).await;
    import(&app, &user, site_id).await;
    app.sql(move |conn| {
        diesel::update(accounts::table.find(account)).set(accounts::credits.eq(0)).execute(conn)?;
        Ok(())
    })
    .await;
    send(&app, &event("evt_buy", "payment_intent.succeeded", intent("pi_5", account, 1000))).await;
    assert_eq!(balance(&app, account).await, 1000);

    // A partial refund takes back its share; Stripe resends the running total.
    let partial = send(&app, &event("evt_r1", "charge.refunded", charge("ch_5", "pi_5", 1000, 250))).await;
    assert_eq!((partial["status"].as_str(), partial["credits"].as_i64()), (Some("reversed"), Some(-250)));
    assert_eq!(balance(&app, account).await, 750);

    // The account spends most of it, then the rest of the money is disputed.
    app.sql(move |conn| {
        shared::billing::grant(conn, account, -700, shared::billing::TransactionType::Deduction, "spent")?;
        Ok(())
    })
    .await;
    let dispute = json!({ "id": "dp_5", "object": "dispute", "charge": "ch_5", "payment_intent": "pi_5", "amount": 750, "currency": "usd", "status": "needs_response" });
    let answer = send(&app, &event("evt_d1", "charge.dispute.created", dispute.clone())).await;
    assert_eq!(answer["credits"], -750);
    assert_eq!(balance(&app, account).await, -700, "the money is gone, so the balance goes below zero");

    let response = app
        .post("/api/v1/planner/keywords/auto_cluster/", Some(&user.access), json!({ "site_id": site_id }))
        .await;
    assert_eq!(error_of(response, StatusCode::PAYMENT_REQUIRED).await.0, "insufficient_credits");

    // The dispute is won: the credits return; a late copy of its opening changes nothing.
    let mut won = dispute.clone();
    won["status"] = json!("won");
    assert_eq!(send(&app, &event("evt_d2", "charge.dispute.closed", won)).await["credits"], 750);
    assert_eq!(send(&app, &event("evt_d3", "charge.dispute.created", dispute)).await["credits"], 0);
    assert_eq!(balance(&app, account).await, 50);
    let kinds: Vec<(String, i64)> = ledger(&app, account).await.into_iter().skip(1).collect();
    assert_eq!(
        kinds,
        vec![
            ("purchase".to_owned(), 1000),
            ("refund".to_owned(), -250),
            ("deduction".to_owned(), -700),
            ("refund".to_owned(), -750),
            ("adjustment".to_owned(), 750),
        ]
    );
    let balances: Vec<i64> = app
        .sql(move |conn| {
            Ok(credit_transactions::table
                .filter(credit_transactions::account_id.eq(account))
                .order(credit_transactions::id)
                .select(credit_transactions::balance_after)
                .load(conn)?)
        })
        .await;
    assert_eq!(balances.last(), Some(&50));
}

#[tokio::test]
async fn only_the_operators_secret_signs_payment_events() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let start = balance(&app, user.account_id).await;
    let body = event("evt_1", "payment_intent.succeeded", intent("pi_1", user.account_id, 1000));

    // A tenant's own webhook secret, or a forged one, does not sign for the platform.
    let tenant: Value = app
        .post("/api/v1/system/webhooks/", Some(&user.access), json!({ "source": "payments" }))
        .await
        .json()
        .await
        .expect("json");
    let tenant_secret = tenant["data"]["secret"].as_str().expect("secret").to_owned();
    for secret in [tenant_secret.as_str(), "whsec_forged"] {
        let (code, _) = error_of(send_signed(&app, &body, secret).await, StatusCode::UNAUTHORIZED).await;
        assert_eq!(code, "invalid_signature");
    }
    let stale = stripe_signature(PAYMENTS_WEBHOOK_SECRET, &body, chrono::Utc::now().timestamp() - 301);
    let response = app
        .client
        .post(format!("{}{WEBHOOK}", app.address))
        .header("Content-Type", "application/json")
        .header("Stripe-Signature", stale)
        .body(body.clone())
        .send()
        .await
        .expect("sent");
    assert_eq!(error_of(response, StatusCode::UNAUTHORIZED).await.0, "stale_signature");
    assert_eq!(balance(&app, user.account_id).await, start);

    // A deployment without a payment account takes no payments at all.
    let unconfigured = spawn_app_with(|config| config.payments_webhook_secret = None).await;
    let response = send_signed(&unconfigured, &body, PAYMENTS_WEBHOOK_SECRET).await;
    assert_eq!(error_of(response, StatusCode::SERVICE_UNAVAILABLE).await.0, "payments_not_configured");
}
