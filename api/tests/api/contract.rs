//! What the OpenAPI document states of a request, the API holds to: a request the schema
//! accepts is not refused for a rule the document leaves out.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, error_of, spawn_app};

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    &doc["components"]["schemas"][name]
}

fn required(schema: &Value) -> Vec<&str> {
    schema["required"]
        .as_array()
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

async fn site(app: &TestApp, user: &TestUser) -> i64 {
    let response = app.post("/api/v1/auth/sites/", Some(&user.access), json!({"name": "Shop"})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.expect("json")["data"]["id"].as_i64().expect("id")
}

#[tokio::test]
async fn creating_requires_what_the_document_says_and_changing_requires_nothing() {
    let app = spawn_app().await;
    let doc = app.openapi_document().await;
    let create =
        &doc["paths"]["/api/v1/auth/sites"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(create["$ref"], "#/components/schemas/NewSite");
    assert_eq!(required(schema(&doc, "NewSite")), ["name"]);
    assert!(required(schema(&doc, "SiteInput")).is_empty());
    let name = &schema(&doc, "NewSite")["properties"]["name"];
    assert_eq!((name["minLength"].as_u64(), name["maxLength"].as_u64()), (Some(1), Some(200)));
    assert_eq!(name["pattern"], r"\S");
    for (schema_name, field) in
        [("NewKeyword", "keyword"), ("NewKeyword", "site_id"), ("NewWriterContent", "html_content")]
    {
        assert!(required(schema(&doc, schema_name)).contains(&field), "{schema_name}.{field}");
    }

    let owner = app.signup().await;
    let (_, errors) = error_of(
        app.post("/api/v1/auth/sites/", Some(&owner.access), json!({})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(errors.get("name").is_some(), "{errors}");
    let (_, errors) = error_of(
        app.post("/api/v1/auth/sites/", Some(&owner.access), json!({"name": "x".repeat(201)})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(errors.get("name").is_some(), "{errors}");
}

#[tokio::test]
async fn whole_numbers_written_as_floats_fill_integer_fields() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let site_id = site(&app, &owner).await;
    let body = format!(r#"{{"keyword": "running shoes", "site_id": {site_id}.0, "volume": 1e3}}"#);
    let created = app
        .request(Method::POST, "/api/v1/planner/keywords/", Some(&owner.access))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .expect("sent");
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.expect("json");
    assert_eq!(created["data"]["volume"], 1000);
    let fraction = app
        .post("/api/v1/planner/keywords/", Some(&owner.access), json!({"keyword": "x", "site_id": 1.5}))
        .await;
    let (_, errors) = error_of(fraction, StatusCode::BAD_REQUEST).await;
    assert!(errors.get("site_id").is_some(), "{errors}");
    let listed = app
        .request(Method::POST, "/api/v1/planner/keywords/bulk_delete/", Some(&owner.access))
        .header("Content-Type", "application/json")
        .body(r#"{"ids": [544016738534.0, -3463.0, -2177174662582261.0, 1775.0]}"#)
        .send()
        .await
        .expect("sent");
    assert_eq!(listed.status(), StatusCode::OK, "{}", listed.text().await.unwrap_or_default());
}

#[tokio::test]
async fn a_row_the_body_names_that_the_account_lacks_is_404_naming_the_field() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let stranger = app.signup().await;
    let theirs = site(&app, &stranger).await;
    for site_id in [theirs, 999_999_999] {
        let response = app
            .post(
                "/api/v1/planner/keywords/",
                Some(&owner.access),
                json!({"keyword": "x", "site_id": site_id}),
            )
            .await;
        let (code, errors) = error_of(response, StatusCode::NOT_FOUND).await;
        assert_eq!(code, "not_found");
        assert!(errors.get("site_id").is_some(), "{errors}");
    }
    let response =
        app.post("/api/v1/planner/keywords/auto_cluster/", Some(&owner.access), json!({"ids": [7]})).await;
    let (_, errors) = error_of(response, StatusCode::NOT_FOUND).await;
    assert!(errors.get("ids").is_some(), "{errors}");
}

#[tokio::test]
async fn contradictory_filters_match_nothing_as_in_the_seeds() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let site_id = site(&app, &owner).await;
    let created = app
        .post(
            "/api/v1/planner/keywords/",
            Some(&owner.access),
            json!({"keyword": "x", "site_id": site_id, "volume": 7}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    for path in [
        "/api/v1/planner/keywords/?volume_min=10&volume_max=5",
        "/api/v1/planner/keywords/?difficulty_min=90&difficulty_max=10",
        "/api/v1/auth/seed-keywords/?volume_min=10&volume_max=5",
    ] {
        let page = app.get(path, &owner.access).await;
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        assert_eq!(page.json::<Value>().await.expect("json")["count"], 0, "{path}");
    }
    let summary = app
        .get(
            "/api/v1/billing/credits/usage/summary/?start_date=2026-05-02&end_date=2026-05-01",
            &owner.access,
        )
        .await;
    assert_eq!(summary.status(), StatusCode::OK);
}

#[tokio::test]
async fn pages_run_to_the_documented_maximum() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let doc = app.openapi_document().await;
    let page = doc["paths"]["/api/v1/auth/sites"]["get"]["parameters"]
        .as_array()
        .and_then(|parameters| parameters.iter().find(|parameter| parameter["name"] == "page"))
        .expect("page parameter")
        .clone();
    let maximum = page["schema"]["maximum"].as_i64().expect("maximum");
    let last = app.get(&format!("/api/v1/auth/sites/?page={maximum}&page_size=100"), &owner.access).await;
    assert_eq!(last.status(), StatusCode::OK);
    assert_eq!(last.json::<Value>().await.expect("json")["results"], json!([]));
    let past = app.get(&format!("/api/v1/auth/sites/?page={}", maximum + 1), &owner.access).await;
    let (_, errors) = error_of(past, StatusCode::BAD_REQUEST).await;
    assert!(errors.get("page").is_some(), "{errors}");
}

#[tokio::test]
async fn a_name_with_no_letters_or_digits_still_gets_a_slug() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let mut slugs = Vec::new();
    for _ in 0..2 {
        let created = app.post("/api/v1/auth/sites/", Some(&owner.access), json!({"name": "日本"})).await;
        assert_eq!(created.status(), StatusCode::CREATED);
        let slug =
            created.json::<Value>().await.expect("json")["data"]["slug"].as_str().expect("slug").to_owned();
        assert!(slug.starts_with("site-"), "{slug}");
        slugs.push(slug);
    }
    assert_ne!(slugs[0], slugs[1]);
}

#[tokio::test]
async fn the_document_describes_task_events_and_names_every_task_kind() {
    let app = spawn_app().await;
    let doc = app.openapi_document().await;
    let events =
        &doc["paths"]["/api/v1/tasks/{id}/events"]["get"]["responses"]["200"]["content"]["text/event-stream"];
    assert_eq!(events["schema"]["$ref"], "#/components/schemas/TaskEvent");
    let data = &schema(&doc, "TaskEvent")["properties"]["data"];
    assert_eq!(data["contentMediaType"], "application/json");
    assert!(data["contentSchema"]["oneOf"].to_string().contains("TaskProgress"), "{data}");
    let kinds = &schema(&doc, "CancelKindInput")["properties"]["kind"]["enum"];
    let kinds: Vec<&str> = kinds.as_array().expect("enum").iter().filter_map(Value::as_str).collect();
    assert_eq!(kinds, shared::tasks::kind_names().collect::<Vec<_>>());
}
