//! IGNY8's plans, subscriptions and accounts: the public plan list, the plan's limits held on
//! every create (the last unit raced for by two requests), operators subscribing accounts and
//! moving subscriptions through their lifecycle, the monthly credits granted once per month.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::{db::schema::accounts, ids::AccountId};

use crate::helpers::{TestApp, TestUser, error_of, spawn_app};

async fn json_of(response: reqwest::Response, status: StatusCode) -> Value {
    let got = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(got, status, "{body}");
    body
}

async fn make_operator(app: &TestApp, user: &TestUser) {
    let account_id = user.account_id;
    app.sql(move |conn| {
        diesel::update(accounts::table.find(account_id)).set(accounts::is_system.eq(true)).execute(conn)?;
        Ok(())
    })
    .await;
}

async fn send(app: &TestApp, method: Method, path: &str, user: &TestUser, body: Value) -> reqwest::Response {
    app.request(method, path, Some(&user.access)).json(&body).send().await.expect("sent")
}

async fn plan_id(app: &TestApp, slug: &str) -> i64 {
    let plans = json_of(
        app.request(Method::GET, "/api/v1/auth/plans/", None).send().await.expect("sent"),
        StatusCode::OK,
    )
    .await;
    plans["results"]
        .as_array()
        .expect("plans")
        .iter()
        .find(|plan| plan["slug"] == slug)
        .and_then(|plan| plan["id"].as_i64())
        .expect("plan")
}

async fn new_site(app: &TestApp, user: &TestUser, name: &str) -> reqwest::Response {
    app.post("/api/v1/auth/sites/", Some(&user.access), json!({ "name": name })).await
}

#[tokio::test]
async fn plans_are_public_with_decimal_prices() {
    let app = spawn_app().await;
    let plans = json_of(
        app.request(Method::GET, "/api/v1/auth/plans/", None).send().await.expect("sent"),
        StatusCode::OK,
    )
    .await;
    let slugs: Vec<&str> =
        plans["results"].as_array().expect("plans").iter().filter_map(|p| p["slug"].as_str()).collect();
    assert_eq!(slugs, ["free", "starter", "growth", "agency"], "cheapest first");
    let starter = &plans["results"][1];
    assert_eq!(starter["price"], "29.00", "money is a decimal string");
    assert_eq!(starter["monthly_credits"], 5000);
    let id = starter["id"].as_i64().expect("id");
    let one =
        app.request(Method::GET, &format!("/api/v1/auth/plans/{id}/"), None).send().await.expect("sent");
    assert_eq!(json_of(one, StatusCode::OK).await["data"]["slug"], "starter");
    let missing = app.request(Method::GET, "/api/v1/auth/plans/999999/", None).send().await.expect("sent");
    error_of(missing, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn the_plan_limits_creates_and_the_last_site_goes_to_one_of_two_racers() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let limits =
        json_of(app.get("/api/v1/billing/credits/usage/limits/", &user.access).await, StatusCode::OK).await;
    assert_eq!(limits["data"]["plan"], "free");
    assert_eq!(limits["data"]["plan_limits"]["max_sites"], 2);
    assert_eq!(limits["data"]["current_usage"]["sites"], 0);

    assert_eq!(new_site(&app, &user, "First").await.status(), StatusCode::CREATED);
    let (first, second) = tokio::join!(new_site(&app, &user, "Racer A"), new_site(&app, &user, "Racer B"));
    let mut statuses = [first.status(), second.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::PAYMENT_REQUIRED], "one racer gets the last site");
    let (code, errors) = error_of(new_site(&app, &user, "Fourth").await, StatusCode::PAYMENT_REQUIRED).await;
    assert_eq!(code, "plan_limit_reached");
    assert!(errors["sites"][0].as_str().unwrap_or_default().contains("at most 2"), "{errors}");
    let limits =
        json_of(app.get("/api/v1/billing/credits/usage/limits/", &user.access).await, StatusCode::OK).await;
    assert_eq!(limits["data"]["current_usage"]["sites"], 2);

    // Keywords past the plan's 2,000 in one import: nothing of the import is kept.
    let site: Value = json_of(app.get("/api/v1/auth/sites/", &user.access).await, StatusCode::OK).await;
    let site_id = site["results"][0]["id"].as_i64().expect("site");
    let account = AccountId(user.account_id);
    let refused = app
        .sql(move |conn| {
            let forms = (0..2_001)
                .map(|n| shared::planner::keywords::KeywordInsertForm {
                    site_id,
                    sector_id: None,
                    cluster_id: None,
                    seed_keyword_id: None,
                    keyword: format!("keyword {n}"),
                    volume: 10,
                    difficulty: 1,
                    intent: shared::planner::Intent::Informational,
                    status: shared::planner::KeywordStatus::Active,
                })
                .collect();
            Ok(shared::planner::keywords::insert_missing(conn, account, forms)
                .err()
                .map(|error| error.to_string()))
        })
        .await;
    assert!(refused.is_some_and(|error| error.contains("2000 keywords")), "the import is refused");
    let limits =
        json_of(app.get("/api/v1/billing/credits/usage/limits/", &user.access).await, StatusCode::OK).await;
    assert_eq!(limits["data"]["current_usage"]["keywords"], 0, "and rolled back");
}

#[tokio::test]
async fn operators_subscribe_accounts_and_the_lifecycle_is_enforced() {
    let app = spawn_app().await;
    let tenant = app.signup().await;
    let operator = app.signup().await;
    make_operator(&app, &operator).await;
    let starter = plan_id(&app, "starter").await;
    let body = json!({ "account_id": tenant.account_id, "plan_id": starter });

    let (code, _) = error_of(
        send(&app, Method::POST, "/api/v1/auth/subscriptions/", &tenant, body.clone()).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(code, "not_operator", "a tenant cannot give itself a plan");
    let created = json_of(
        send(&app, Method::POST, "/api/v1/auth/subscriptions/", &operator, body.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    let id = created["data"]["id"].as_i64().expect("id");
    assert_eq!(created["data"]["status"], "active");
    let (code, _) = error_of(
        send(&app, Method::POST, "/api/v1/auth/subscriptions/", &operator, body).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(code, "already_subscribed");

    let limits =
        json_of(app.get("/api/v1/billing/credits/usage/limits/", &tenant.access).await, StatusCode::OK).await;
    assert_eq!(limits["data"]["plan"], "starter");
    assert_eq!(limits["data"]["plan_limits"]["max_sites"], 3);
    let balance =
        json_of(app.get("/api/v1/billing/credits/balance/balance/", &tenant.access).await, StatusCode::OK)
            .await;
    assert_eq!(balance["data"]["plan_credits_per_month"], 5000);

    let own = json_of(app.get("/api/v1/auth/subscriptions/", &tenant.access).await, StatusCode::OK).await;
    assert_eq!(own["count"], 1);
    let path = format!("/api/v1/auth/subscriptions/by-account/{}/", tenant.account_id);
    assert_eq!(json_of(app.get(&path, &tenant.access).await, StatusCode::OK).await["count"], 1);
    let other = app.signup().await;
    error_of(app.get(&path, &other.access).await, StatusCode::NOT_FOUND).await;
    error_of(
        app.get(&format!("/api/v1/auth/subscriptions/{id}/"), &other.access).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        json_of(app.get("/api/v1/auth/subscriptions/", &other.access).await, StatusCode::OK).await["count"],
        0
    );

    let item = format!("/api/v1/auth/subscriptions/{id}/");
    let past_due = send(&app, Method::PATCH, &item, &operator, json!({ "status": "past_due" })).await;
    assert_eq!(json_of(past_due, StatusCode::OK).await["data"]["status"], "past_due");
    let cancelled = send(&app, Method::PATCH, &item, &operator, json!({ "status": "cancelled" })).await;
    assert_eq!(json_of(cancelled, StatusCode::OK).await["data"]["status"], "cancelled");
    let (code, errors) = error_of(
        send(&app, Method::PATCH, &item, &operator, json!({ "status": "active" })).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(code, "illegal_transition");
    assert!(errors["status"][0].as_str().unwrap_or_default().contains("cancelled"), "{errors}");
    let limits =
        json_of(app.get("/api/v1/billing/credits/usage/limits/", &tenant.access).await, StatusCode::OK).await;
    assert_eq!(limits["data"]["plan"], "free", "a cancelled subscription leaves the account on free");
}

#[tokio::test]
async fn accounts_are_the_operators_and_owners_see_only_theirs() {
    let app = spawn_app().await;
    let tenant = app.signup().await;
    let operator = app.signup().await;
    make_operator(&app, &operator).await;

    let own = json_of(app.get("/api/v1/auth/accounts/", &tenant.access).await, StatusCode::OK).await;
    assert_eq!(own["count"], 1);
    assert_eq!(own["results"][0]["id"], tenant.account_id);
    let all = json_of(app.get("/api/v1/auth/accounts/", &operator.access).await, StatusCode::OK).await;
    assert_eq!(all["count"], 2);
    error_of(
        app.get(&format!("/api/v1/auth/accounts/{}/", operator.account_id), &tenant.access).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    let mine = format!("/api/v1/auth/accounts/{}/", tenant.account_id);
    let renamed = send(&app, Method::PUT, &mine, &tenant, json!({ "name": "Renamed Co" })).await;
    assert_eq!(json_of(renamed, StatusCode::OK).await["data"]["name"], "Renamed Co");
    let (code, _) = error_of(
        send(&app, Method::PUT, &mine, &tenant, json!({ "status": "active" })).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(code, "not_operator");
    let (code, _) =
        error_of(send(&app, Method::DELETE, &mine, &tenant, json!({})).await, StatusCode::FORBIDDEN).await;
    assert_eq!(code, "not_operator");

    let suspended = send(&app, Method::PATCH, &mine, &operator, json!({ "status": "suspended" })).await;
    assert_eq!(json_of(suspended, StatusCode::OK).await["data"]["status"], "suspended");
    let (code, _) =
        error_of(app.get("/api/v1/auth/sites/", &tenant.access).await, StatusCode::FORBIDDEN).await;
    assert_eq!(code, "account_suspended");

    let growth = plan_id(&app, "growth").await;
    let opened = send(
        &app,
        Method::POST,
        "/api/v1/auth/accounts/",
        &operator,
        json!({ "name": "New Co", "plan_id": growth }),
    )
    .await;
    let opened = json_of(opened, StatusCode::CREATED).await;
    assert_eq!(opened["data"]["plan_id"], growth);
    assert_eq!(opened["data"]["credits"], 20000, "the plan's first month");
    let (_, errors) = error_of(
        send(
            &app,
            Method::POST,
            "/api/v1/auth/accounts/",
            &operator,
            json!({ "name": "X", "plan_id": 424242 }),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(errors.get("plan_id").is_some(), "{errors}");

    let system = format!("/api/v1/auth/accounts/{}/", operator.account_id);
    let (code, _) =
        error_of(send(&app, Method::DELETE, &system, &operator, json!({})).await, StatusCode::CONFLICT).await;
    assert_eq!(code, "system_account");
    let new_id = opened["data"]["id"].as_i64().expect("id");
    let gone =
        send(&app, Method::DELETE, &format!("/api/v1/auth/accounts/{new_id}/"), &operator, json!({})).await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
}

async fn credits(app: &TestApp, user: &TestUser) -> i64 {
    let response = app.get("/api/v1/billing/credits/balance/balance/", &user.access).await;
    json_of(response, StatusCode::OK).await["data"]["credits"].as_i64().expect("credits")
}

#[tokio::test]
async fn monthly_plan_credits_are_granted_once_per_account_and_month() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let start = credits(&app, &user).await;
    assert_eq!(start, 1000, "the first month at sign-up");
    let now = Utc::now();
    let this_month = app.sql(move |conn| shared::plans::grant_due_months(conn, now)).await;
    assert_eq!(this_month, 0, "sign-up already granted this month");

    let next_month = now + Duration::days(32);
    let pool = app.pool.clone();
    let racers = (0..4).map(|_| {
        let pool = pool.clone();
        tokio::spawn(async move {
            shared::db::run(&pool, move |conn| shared::plans::grant_due_months(conn, next_month)).await
        })
    });
    let granted: usize = futures_util::future::join_all(racers)
        .await
        .into_iter()
        .map(|r| r.expect("joined").expect("granted"))
        .sum();
    assert_eq!(granted, 1, "four schedulers at once grant the month once");
    assert_eq!(credits(&app, &user).await, start + 1000);
    assert_eq!(app.sql(move |conn| shared::plans::grant_due_months(conn, next_month)).await, 0);
    assert_eq!(credits(&app, &user).await, start + 1000);
}
