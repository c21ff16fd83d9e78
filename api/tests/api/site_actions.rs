//! IGNY8's site actions: `set_active` and `select_sectors`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, error_of, spawn_app};

async fn json_of(response: reqwest::Response, status: StatusCode) -> Value {
    let got = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(got, status, "{body}");
    body
}

async fn site(app: &TestApp, user: &TestUser, name: &str) -> i64 {
    let response = app.post("/api/v1/auth/sites/", Some(&user.access), json!({ "name": name })).await;
    json_of(response, StatusCode::CREATED).await["data"]["id"].as_i64().expect("id")
}

#[tokio::test]
async fn set_active_and_select_sectors_do_what_igny8_asks() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let (first, second) = (site(&app, &user, "First").await, site(&app, &user, "Second").await);
    let activated =
        app.post(&format!("/api/v1/auth/sites/{second}/set_active/"), Some(&user.access), json!({})).await;
    assert_eq!(json_of(activated, StatusCode::OK).await["data"]["is_active"], true);
    let sites =
        json_of(app.get("/api/v1/auth/sites/?ordering=name", &user.access).await, StatusCode::OK).await;
    let active: Vec<(i64, bool)> = sites["results"]
        .as_array()
        .expect("sites")
        .iter()
        .map(|site| (site["id"].as_i64().expect("id"), site["is_active"].as_bool().expect("flag")))
        .collect();
    assert_eq!(active, [(first, false), (second, true)], "one active site");

    let select_path = format!("/api/v1/auth/sites/{first}/select_sectors/");
    let select = |body: Value| app.post(&select_path, Some(&user.access), body);
    let chosen = json_of(
        select(json!({ "industry_slug": "coffee", "sector_slugs": ["espresso", "home-brewing"] })).await,
        StatusCode::OK,
    )
    .await;
    let names: Vec<&str> =
        chosen["data"].as_array().expect("sectors").iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names, ["Espresso", "Home brewing"]);
    let site_row =
        json_of(app.get(&format!("/api/v1/auth/sites/{first}/"), &user.access).await, StatusCode::OK).await;
    assert_eq!(site_row["data"]["industry"], "Coffee");

    let again = json_of(select(json!({ "sector_slugs": ["espresso", "beans"] })).await, StatusCode::OK).await;
    let slugs: Vec<&str> =
        again["data"].as_array().expect("sectors").iter().filter_map(|s| s["slug"].as_str()).collect();
    assert_eq!(slugs, ["espresso", "beans"], "home-brewing is deactivated, espresso kept");
    let all =
        json_of(app.get(&format!("/api/v1/auth/sites/{first}/sectors/"), &user.access).await, StatusCode::OK)
            .await;
    assert_eq!(all["count"], 3, "a deselected sector keeps its rows");

    for (body, field) in [
        (json!({ "sector_slugs": [] }), "sector_slugs"),
        (json!({ "sector_slugs": ["a", "b", "c", "d", "e", "f"] }), "sector_slugs"),
        (json!({ "sector_slugs": ["Not A Slug"] }), "sector_slugs"),
        (json!({ "industry_slug": "no-such-industry", "sector_slugs": ["a"] }), "industry_slug"),
    ] {
        let (_, errors) = error_of(select(body.clone()).await, StatusCode::BAD_REQUEST).await;
        assert!(errors.get(field).is_some(), "{body} should name {field}: {errors}");
    }
    let other = app.signup().await;
    let theirs =
        app.post(&format!("/api/v1/auth/sites/{first}/set_active/"), Some(&other.access), json!({})).await;
    error_of(theirs, StatusCode::NOT_FOUND).await;
}
