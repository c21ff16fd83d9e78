//! The planner module: keywords, clusters, ideas, the seed library, CSV import and export,
//! and tenant isolation.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, error_of, spawn_app};

async fn send(app: &TestApp, user: &TestUser, method: Method, path: &str, body: Value) -> Response {
    app.request(method, path, Some(&user.access)).json(&body).send().await.expect("request")
}

/// POSTs `body` and returns the created row.
async fn create(app: &TestApp, user: &TestUser, path: &str, body: Value) -> Value {
    let response = app.post(path, Some(&user.access), body).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{}", response.text().await.unwrap_or_default());
    response.json::<Value>().await.expect("json")["data"].clone()
}

/// 200 and the JSON body.
async fn ok(response: Response) -> Value {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).expect("json")
}

async fn get(app: &TestApp, user: &TestUser, path: &str) -> Value {
    ok(app.get(path, &user.access).await).await
}

/// The `keyword` texts of a list page, in order.
fn keywords_of(page: &Value) -> Vec<String> {
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|row| row["keyword"].as_str().expect("keyword").to_owned())
        .collect()
}

fn ids_of(page: &Value) -> Vec<i64> {
    page["results"].as_array().expect("results").iter().map(|row| row["id"].as_i64().expect("id")).collect()
}

async fn site(app: &TestApp, user: &TestUser, name: &str) -> i64 {
    create(app, user, "/api/v1/auth/sites/", json!({ "name": name })).await["id"].as_i64().expect("site id")
}

async fn sector(app: &TestApp, user: &TestUser, site_id: i64, name: &str) -> i64 {
    create(app, user, "/api/v1/auth/sectors/", json!({ "site_id": site_id, "name": name })).await["id"]
        .as_i64()
        .expect("sector id")
}

async fn keyword(app: &TestApp, user: &TestUser, body: Value) -> Value {
    create(app, user, "/api/v1/planner/keywords/", body).await
}

/// A member of `owner`'s account with `role`, logged in.
async fn member(app: &TestApp, owner: &TestUser, email: &str, role: &str) -> TestUser {
    create(
        app,
        owner,
        "/api/v1/auth/users/",
        json!({ "email": email, "password": "pass-word-1", "role": role }),
    )
    .await;
    app.login(email, "pass-word-1").await
}

const BOUNDARY: &str = "switchyard-test-boundary-7MA4YWxkTrZu0gW";

/// A multipart/form-data body with text fields and a `file` field.
fn multipart(fields: &[(&str, String)], file: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"k.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn import_multipart(
    app: &TestApp,
    user: &TestUser,
    fields: &[(&str, String)],
    file: &[u8],
) -> Response {
    app.request(Method::POST, "/api/v1/planner/keywords/import_keywords/", Some(&user.access))
        .header("Content-Type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(multipart(fields, file))
        .send()
        .await
        .expect("request")
}

async fn import_raw(app: &TestApp, user: &TestUser, query: &str, file: &[u8]) -> Response {
    app.request(
        Method::POST,
        &format!("/api/v1/planner/keywords/import_keywords/?{query}"),
        Some(&user.access),
    )
    .header("Content-Type", "text/csv; charset=utf-8")
    .body(file.to_vec())
    .send()
    .await
    .expect("request")
}

async fn export(app: &TestApp, user: &TestUser, query: &str) -> String {
    let response = app.get(&format!("/api/v1/planner/keywords/export/?{query}"), &user.access).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(response.headers()["content-disposition"], "attachment; filename=\"keywords.csv\"");
    response.text().await.expect("body")
}

#[tokio::test]
async fn keyword_crud_validation_and_roles() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let site_id = site(&app, &owner, "Shoes").await;
    let sector_id = sector(&app, &owner, site_id, "Running").await;

    let created = keyword(
        &app,
        &owner,
        json!({ "keyword": "  best running shoes ", "site_id": site_id, "sector_id": sector_id,
                "volume": 5400, "difficulty": 61, "intent": "commercial" }),
    )
    .await;
    let id = created["id"].as_i64().expect("id");
    assert_eq!(created["keyword"], "best running shoes");
    assert_eq!(created["volume"], 5400);
    assert_eq!(created["difficulty"], 61);
    assert_eq!(created["intent"], "commercial");
    assert_eq!(created["status"], "active");
    assert_eq!(created["sector_id"], sector_id);
    assert_eq!(created["cluster_id"], Value::Null);

    // The same text on the same site and sector, in any case, is a conflict on `keyword`.
    let duplicate = app
        .post(
            "/api/v1/planner/keywords/",
            Some(&owner.access),
            json!({ "keyword": "Best Running Shoes", "site_id": site_id, "sector_id": sector_id }),
        )
        .await;
    let (code, errors) = error_of(duplicate, StatusCode::CONFLICT).await;
    assert_eq!(code, "already_exists");
    assert!(errors.get("keyword").is_some(), "{errors}");
    // Without the sector it is another keyword.
    keyword(&app, &owner, json!({ "keyword": "best running shoes", "site_id": site_id })).await;

    let bad_bodies = [
        (json!({ "site_id": site_id }), "keyword"),
        (json!({ "keyword": "x" }), "site_id"),
        (json!({ "keyword": "x", "site_id": site_id, "difficulty": 101 }), "difficulty"),
        (json!({ "keyword": "x", "site_id": site_id, "volume": -1 }), "volume"),
        (json!({ "keyword": "x", "site_id": site_id, "intent": "curious" }), "intent"),
        (json!({ "keyword": "x", "site_id": site_id, "status": "gone" }), "status"),
        (json!({ "keyword": "x".repeat(256), "site_id": site_id }), "keyword"),
        (json!({ "keyword": "x", "site_id": 999_999 }), "site_id"),
        (json!({ "keyword": "x", "site_id": site_id, "sector_id": 999_999 }), "sector_id"),
        (json!({ "keyword": "x", "site_id": site_id, "cluster_id": 999_999 }), "cluster_id"),
        (json!({ "keyword": "x", "site_id": site_id, "colour": "red" }), "colour"),
    ];
    for (body, field) in bad_bodies {
        let response = app.post("/api/v1/planner/keywords/", Some(&owner.access), body.clone()).await;
        let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
        assert!(errors.get(field).is_some(), "{body} → {errors}");
    }

    let fetched = get(&app, &owner, &format!("/api/v1/planner/keywords/{id}/")).await;
    assert_eq!(fetched["data"]["keyword"], "best running shoes");

    let patched = ok(send(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/planner/keywords/{id}"),
        json!({ "volume": 6000, "status": "pending" }),
    )
    .await)
    .await;
    assert_eq!(patched["data"]["volume"], 6000);
    assert_eq!(patched["data"]["status"], "pending");
    assert_eq!(patched["data"]["difficulty"], 61);
    let put = ok(send(
        &app,
        &owner,
        Method::PUT,
        &format!("/api/v1/planner/keywords/{id}/"),
        json!({ "keyword": "best trail shoes", "sector_id": null }),
    )
    .await)
    .await;
    assert_eq!(put["data"]["keyword"], "best trail shoes");
    assert_eq!(put["data"]["sector_id"], Value::Null);
    assert_eq!(put["data"]["volume"], 6000);
    let bad_patch = send(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/planner/keywords/{id}/"),
        json!({ "difficulty": -3 }),
    )
    .await;
    error_of(bad_patch, StatusCode::BAD_REQUEST).await;

    // Viewers read; editors write.
    let viewer = member(&app, &owner, "viewer@example.com", "viewer").await;
    let editor = member(&app, &owner, "editor@example.com", "editor").await;
    assert_eq!(get(&app, &viewer, "/api/v1/planner/keywords/").await["count"], 2);
    let denied = app
        .post(
            "/api/v1/planner/keywords/",
            Some(&viewer.access),
            json!({ "keyword": "v", "site_id": site_id }),
        )
        .await;
    error_of(denied, StatusCode::FORBIDDEN).await;
    for (method, path, body) in [
        (Method::PATCH, format!("/api/v1/planner/keywords/{id}/"), json!({ "volume": 1 })),
        (Method::DELETE, format!("/api/v1/planner/keywords/{id}/"), json!({})),
        (Method::POST, "/api/v1/planner/keywords/bulk_delete/".into(), json!({ "ids": [id] })),
        (
            Method::POST,
            "/api/v1/planner/keywords/bulk_update_status/".into(),
            json!({ "ids": [id], "status": "active" }),
        ),
        (Method::POST, "/api/v1/planner/clusters/".into(), json!({ "name": "c", "site_id": site_id })),
        (Method::POST, "/api/v1/planner/ideas/".into(), json!({ "idea_title": "i", "site_id": site_id })),
    ] {
        let response = send(&app, &viewer, method.clone(), &path, body).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method} {path}");
    }
    keyword(&app, &editor, json!({ "keyword": "editor's keyword", "site_id": site_id })).await;

    let removed =
        send(&app, &editor, Method::DELETE, &format!("/api/v1/planner/keywords/{id}/"), json!({})).await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let gone = app.get(&format!("/api/v1/planner/keywords/{id}/"), &owner.access).await;
    error_of(gone, StatusCode::NOT_FOUND).await;
    let bad_id = app.get("/api/v1/planner/keywords/abc/", &owner.access).await;
    let (_, errors) = error_of(bad_id, StatusCode::BAD_REQUEST).await;
    assert!(errors.get("id").is_some());
}

#[tokio::test]
async fn keyword_filters_search_and_ordering() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let site_a = site(&app, &owner, "A").await;
    let site_b = site(&app, &owner, "B").await;
    let sector_a = sector(&app, &owner, site_a, "Sector A").await;
    let cluster =
        create(&app, &owner, "/api/v1/planner/clusters/", json!({ "name": "Shoes", "site_id": site_a }))
            .await["id"]
            .as_i64()
            .expect("cluster id");
    // Created in this order: the default ordering is newest first.
    for body in [
        json!({ "keyword": "beta", "site_id": site_a, "volume": 300, "difficulty": 10, "intent": "commercial",
                "cluster_id": cluster }),
        json!({ "keyword": "alpha", "site_id": site_a, "sector_id": sector_a, "volume": 100, "difficulty": 90,
                "intent": "informational", "status": "archived" }),
        json!({ "keyword": "delta shoes", "site_id": site_b, "volume": 200, "difficulty": 50,
                "intent": "transactional", "status": "pending" }),
        json!({ "keyword": "gamma shoes", "site_id": site_a, "volume": 400, "difficulty": 30,
                "intent": "commercial", "cluster_id": cluster }),
    ] {
        keyword(&app, &owner, body).await;
    }
    let list = |query: &str| {
        let path = format!("/api/v1/planner/keywords/?{query}");
        let (app, owner) = (&app, &owner);
        async move { keywords_of(&get(app, owner, &path).await) }
    };
    assert_eq!(list("").await, ["gamma shoes", "delta shoes", "alpha", "beta"]);
    assert_eq!(list("ordering=created_at").await, ["beta", "alpha", "delta shoes", "gamma shoes"]);
    assert_eq!(list("ordering=volume").await, ["alpha", "delta shoes", "beta", "gamma shoes"]);
    assert_eq!(list("ordering=-volume").await, ["gamma shoes", "beta", "delta shoes", "alpha"]);
    assert_eq!(list("ordering=seed_keyword__volume").await, ["alpha", "delta shoes", "beta", "gamma shoes"]);
    assert_eq!(list("ordering=difficulty").await, ["beta", "gamma shoes", "delta shoes", "alpha"]);
    assert_eq!(
        list("ordering=-seed_keyword__difficulty").await,
        ["alpha", "delta shoes", "gamma shoes", "beta"]
    );
    assert_eq!(list("ordering=keyword").await, ["alpha", "beta", "delta shoes", "gamma shoes"]);
    assert_eq!(list("ordering=-keyword").await, ["gamma shoes", "delta shoes", "beta", "alpha"]);

    assert_eq!(list("status=archived").await, ["alpha"]);
    assert_eq!(list("status=pending").await, ["delta shoes"]);
    assert_eq!(list(&format!("cluster_id={cluster}&ordering=keyword")).await, ["beta", "gamma shoes"]);
    assert_eq!(list("intent=commercial&ordering=keyword").await, ["beta", "gamma shoes"]);
    assert_eq!(list("seed_keyword__intent=transactional").await, ["delta shoes"]);
    assert_eq!(
        list("difficulty_min=30&difficulty_max=50&ordering=keyword").await,
        ["delta shoes", "gamma shoes"]
    );
    assert_eq!(list("volume_min=200&volume_max=300&ordering=keyword").await, ["beta", "delta shoes"]);
    assert_eq!(list(&format!("site_id={site_b}")).await, ["delta shoes"]);
    assert_eq!(list(&format!("sector_id={sector_a}")).await, ["alpha"]);
    assert_eq!(list("search=SHOES&ordering=keyword").await, ["delta shoes", "gamma shoes"]);
    assert_eq!(list("search=%25").await, Vec::<String>::new());
    assert_eq!(list(&format!("site_id={site_a}&intent=commercial&volume_min=350")).await, ["gamma shoes"]);

    // Pages follow the ordering.
    let first = get(&app, &owner, "/api/v1/planner/keywords/?ordering=keyword&page_size=3").await;
    assert_eq!(first["count"], 4);
    assert_eq!(keywords_of(&first), ["alpha", "beta", "delta shoes"]);
    assert!(first["next"].as_str().expect("next").contains("ordering=keyword"));
    let second = get(&app, &owner, "/api/v1/planner/keywords/?ordering=keyword&page_size=3&page=2").await;
    assert_eq!(keywords_of(&second), ["gamma shoes"]);

    for (query, field) in [
        ("difficulty_min=60&difficulty_max=10", "difficulty_min"),
        ("volume_min=5&volume_max=1", "volume_min"),
        ("ordering=colour", "ordering"),
        ("status=gone", "status"),
        ("intent=curious", "intent"),
        ("volume_min=many", "volume_min"),
    ] {
        let response = app.get(&format!("/api/v1/planner/keywords/?{query}"), &owner.access).await;
        let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
        assert!(errors.get(field).is_some(), "{query} → {errors}");
    }
}

#[tokio::test]
async fn keyword_bulk_actions() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let site_id = site(&app, &owner, "S").await;
    let mut ids = Vec::new();
    for name in ["one", "two", "three", "four"] {
        ids.push(
            keyword(&app, &owner, json!({ "keyword": name, "site_id": site_id })).await["id"]
                .as_i64()
                .expect("id"),
        );
    }
    let updated = ok(app
        .post(
            "/api/v1/planner/keywords/bulk_update_status/",
            Some(&owner.access),
            json!({ "ids": [ids[0], ids[1], 999_999], "status": "archived" }),
        )
        .await)
    .await;
    assert_eq!(updated["data"]["updated_count"], 2);
    assert_eq!(
        keywords_of(&get(&app, &owner, "/api/v1/planner/keywords/?status=archived&ordering=keyword").await),
        ["one", "two"]
    );

    let deleted = ok(app
        .post(
            "/api/v1/planner/keywords/bulk_delete/",
            Some(&owner.access),
            json!({ "ids": [ids[1], ids[2]] }),
        )
        .await)
    .await;
    assert_eq!(deleted["data"]["deleted_count"], 2);
    assert_eq!(
        keywords_of(&get(&app, &owner, "/api/v1/planner/keywords/?ordering=keyword").await),
        ["four", "one"]
    );

    let too_many: Vec<i64> = (1..=1001).collect();
    for path in ["bulk_delete", "bulk_update_status"] {
        for ids in [json!([]), json!(too_many), json!(["a"]), json!("1,2")] {
            let body = if path == "bulk_delete" {
                json!({ "ids": ids })
            } else {
                json!({ "ids": ids, "status": "active" })
            };
            let response =
                app.post(&format!("/api/v1/planner/keywords/{path}/"), Some(&owner.access), body).await;
            let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
            assert!(errors.get("ids").is_some(), "{path}: {errors}");
        }
    }
    let no_status = app
        .post("/api/v1/planner/keywords/bulk_update_status/", Some(&owner.access), json!({ "ids": [ids[0]] }))
        .await;
    let (_, errors) = error_of(no_status, StatusCode::BAD_REQUEST).await;
    assert!(errors.get("status").is_some());
}

#[tokio::test]
async fn seed_library_reads_and_filters() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    // Public reference data: it answers without a token too.
    let industries: Value = app
        .request(Method::GET, "/api/v1/auth/industries/?page_size=100", None)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(industries["count"], 10);
    let coffee = industries["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|industry| industry["slug"] == "coffee")
        .expect("coffee industry")
        .clone();
    let coffee_id = coffee["id"].as_i64().expect("id");
    let one = get(&app, &owner, &format!("/api/v1/auth/industries/{coffee_id}/")).await;
    assert_eq!(one["data"]["name"], "Coffee");
    error_of(app.get("/api/v1/auth/industries/999999/", &owner.access).await, StatusCode::NOT_FOUND).await;
    let searched = get(&app, &owner, "/api/v1/auth/industries/?search=coff").await;
    assert_eq!(searched["count"], 1);

    let page =
        get(&app, &owner, &format!("/api/v1/auth/seed-keywords/?industry_id={coffee_id}&page_size=100"))
            .await;
    let rows = page["results"].as_array().expect("results");
    assert!(rows.len() >= 10);
    assert!(rows.iter().all(|row| row["industry_id"] == coffee_id));
    let keywords: Vec<&str> = rows.iter().map(|row| row["keyword"].as_str().expect("keyword")).collect();
    let mut sorted = keywords.clone();
    sorted.sort_unstable();
    assert_eq!(keywords, sorted, "ordered by keyword by default");

    let by_volume = get(
        &app,
        &owner,
        &format!("/api/v1/auth/seed-keywords/?industry_id={coffee_id}&ordering=-volume&page_size=100"),
    )
    .await;
    let volumes: Vec<i64> = by_volume["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|row| row["volume"].as_i64().expect("volume"))
        .collect();
    assert!(volumes.windows(2).all(|pair| pair[0] >= pair[1]), "{volumes:?}");

    let filtered = get(
        &app,
        &owner,
        &format!(
            "/api/v1/auth/seed-keywords/?industry_id={coffee_id}&intent=informational&volume_min=5000&\
             difficulty_max=25&search=COFFEE&page_size=100"
        ),
    )
    .await;
    assert_eq!(keywords_of(&filtered), ["how to descale a coffee maker", "pour over coffee ratio"]);
    let seed_id = filtered["results"][0]["id"].as_i64().expect("id");
    let one = get(&app, &owner, &format!("/api/v1/auth/seed-keywords/{seed_id}/")).await;
    assert_eq!(one["data"]["volume"], 14800);
    let (_, errors) = error_of(
        app.get("/api/v1/auth/seed-keywords/?volume_min=10&volume_max=1", &owner.access).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(errors.get("volume_min").is_some());
    error_of(app.get("/api/v1/auth/seed-keywords/999999/", &owner.access).await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn bulk_add_from_seed_copies_each_seed_once() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let site_id = site(&app, &owner, "Coffee blog").await;
    let sector_id = sector(&app, &owner, site_id, "Brewing").await;
    let seeds =
        get(&app, &owner, "/api/v1/auth/seed-keywords/?search=coffee&ordering=keyword&page_size=3").await;
    let seeds = seeds["results"].as_array().expect("results").clone();
    assert_eq!(seeds.len(), 3);
    let seed_ids: Vec<i64> = seeds.iter().map(|seed| seed["id"].as_i64().expect("id")).collect();
    // One of them is already on the sector, typed by hand in another case.
    let typed = seeds[0]["keyword"].as_str().expect("keyword").to_uppercase();
    keyword(&app, &owner, json!({ "keyword": typed, "site_id": site_id, "sector_id": sector_id })).await;

    let body = json!({ "seed_keyword_ids": seed_ids, "site_id": site_id, "sector_id": sector_id });
    let added =
        ok(app.post("/api/v1/planner/keywords/bulk_add_from_seed/", Some(&owner.access), body.clone()).await)
            .await;
    assert_eq!(added["data"]["added_count"], 2);
    let rows = added["data"]["keywords"].as_array().expect("keywords");
    for seed in &seeds[1..] {
        let row = rows.iter().find(|row| row["seed_keyword_id"] == seed["id"]).expect("copied seed");
        assert_eq!(row["keyword"], seed["keyword"]);
        assert_eq!(row["volume"], seed["volume"]);
        assert_eq!(row["difficulty"], seed["difficulty"]);
        assert_eq!(row["intent"], seed["intent"]);
        assert_eq!(row["seed_keyword_id"], seed["id"]);
        assert_eq!(row["sector_id"], sector_id);
    }
    // Again: nothing new.
    let again =
        ok(app.post("/api/v1/planner/keywords/bulk_add_from_seed/", Some(&owner.access), body).await).await;
    assert_eq!(again["data"]["added_count"], 0);
    assert_eq!(get(&app, &owner, "/api/v1/planner/keywords/").await["count"], 3);
    let by_seed =
        get(&app, &owner, &format!("/api/v1/planner/keywords/?seed_keyword_id={}", seed_ids[1])).await;
    assert_eq!(by_seed["count"], 1);

    for (body, field) in [
        (json!({ "seed_keyword_ids": [], "site_id": site_id }), "seed_keyword_ids"),
        (json!({ "seed_keyword_ids": seed_ids }), "site_id"),
        (json!({ "seed_keyword_ids": seed_ids, "site_id": 999_999 }), "site_id"),
    ] {
        let response =
            app.post("/api/v1/planner/keywords/bulk_add_from_seed/", Some(&owner.access), body).await;
        let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
        assert!(errors.get(field).is_some(), "{errors}");
    }
}

#[tokio::test]
async fn csv_import_reports_each_bad_row_by_line() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let site_id = site(&app, &owner, "S").await;
    let sector_id = sector(&app, &owner, site_id, "Sec").await;
    keyword(&app, &owner, json!({ "keyword": "already here", "site_id": site_id, "sector_id": sector_id }))
        .await;
    let long = "k".repeat(256);
    let file = format!(
        "volume,keyword,difficulty,intent,status,notes\n\
         100,good one,10,commercial,pending,ignored\n\
         ,   ,5,,,\n\
         abc,bad volume,5,,,\n\
         10,too hard,101,,,\n\
         10,strange intent,5,curious,,\n\
         10,Good One,5,,,\n\
         10,{long},5,,,\n\
         \n\
         5,\"quoted, with comma\",7,Navigational,,\n\
         1,already here,1,,,\n\
         2,bad status,1,,done,\n"
    );
    let response = import_multipart(
        &app,
        &owner,
        &[("site_id", site_id.to_string()), ("sector_id", sector_id.to_string())],
        file.as_bytes(),
    )
    .await;
    let body = ok(response).await;
    assert_eq!(
        body["data"],
        json!({
            "imported_count": 2,
            "skipped_count": 8,
            "errors": [
                { "line": 3, "reason": "keyword is empty" },
                { "line": 4, "reason": "volume `abc` is not a whole number of 0 or more" },
                { "line": 5, "reason": "difficulty `101` is not a whole number between 0 and 100" },
                { "line": 6, "reason": "intent `curious` is not one of informational, commercial, transactional, navigational" },
                { "line": 7, "reason": "duplicate of line 2" },
                { "line": 8, "reason": "keyword is longer than 255 characters" },
                { "line": 11, "reason": "keyword already exists" },
                { "line": 12, "reason": "status `done` is not one of active, pending, archived" },
            ],
        })
    );
    let page = get(&app, &owner, "/api/v1/planner/keywords/?ordering=keyword").await;
    assert_eq!(keywords_of(&page), ["already here", "good one", "quoted, with comma"]);
    let good = &page["results"][1];
    assert_eq!(good["volume"], 100);
    assert_eq!(good["difficulty"], 10);
    assert_eq!(good["intent"], "commercial");
    assert_eq!(good["status"], "pending");
    assert_eq!(good["sector_id"], sector_id);
    assert_eq!(page["results"][2]["intent"], "navigational");

    // The same file again: every good row now exists.
    let again = ok(import_multipart(
        &app,
        &owner,
        &[("site_id", site_id.to_string()), ("sector_id", sector_id.to_string())],
        file.as_bytes(),
    )
    .await)
    .await;
    assert_eq!(again["data"]["imported_count"], 0);
    assert_eq!(again["data"]["errors"][0], json!({ "line": 2, "reason": "keyword already exists" }));
}

#[tokio::test]
async fn csv_import_takes_a_raw_body_with_bom_and_crlf() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let site_id = site(&app, &owner, "S").await;
    let file = "\u{feff}Keyword,Volume\r\nespresso,10\r\n\"multi\r\nline\",x\r\nlatte,20\r\n";
    let body = ok(import_raw(&app, &owner, &format!("site_id={site_id}"), file.as_bytes()).await).await;
    assert_eq!(
        body["data"],
        json!({
            "imported_count": 2,
            "skipped_count": 1,
            "errors": [{ "line": 3, "reason": "volume `x` is not a whole number of 0 or more" }],
        })
    );
    let page = get(&app, &owner, "/api/v1/planner/keywords/?ordering=keyword").await;
    assert_eq!(keywords_of(&page), ["espresso", "latte"]);
    assert_eq!(page["results"][0]["sector_id"], Value::Null);
}

#[tokio::test]
async fn csv_import_refuses_unusable_uploads() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let site_id = site(&app, &owner, "S").await;
    let query = format!("site_id={site_id}");

    let (_, errors) = error_of(
        import_raw(&app, &owner, &query, b"volume,intent\n1,commercial\n").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(errors.get("file").is_some());
    let (_, errors) =
        error_of(import_raw(&app, &owner, "", b"keyword\nx\n").await, StatusCode::BAD_REQUEST).await;
    assert!(errors.get("site_id").is_some());
    let (_, errors) =
        error_of(import_raw(&app, &owner, "site_id=999999", b"keyword\nx\n").await, StatusCode::BAD_REQUEST)
            .await;
    assert!(errors.get("site_id").is_some());
    let (_, errors) = error_of(
        import_multipart(&app, &owner, &[("site_id", "abc".into())], b"keyword\nx\n").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(errors.get("site_id").is_some());
    let json_body = app
        .post(&format!("/api/v1/planner/keywords/import_keywords/?{query}"), Some(&owner.access), json!({}))
        .await;
    error_of(json_body, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;

    let big = format!("keyword\n{}", "x".repeat(6 * 1024 * 1024));
    error_of(import_raw(&app, &owner, &query, big.as_bytes()).await, StatusCode::PAYLOAD_TOO_LARGE).await;
    let many: String =
        std::iter::once("keyword\n".to_owned()).chain((0..20_001).map(|i| format!("k{i}\n"))).collect();
    let (_, errors) =
        error_of(import_raw(&app, &owner, &query, many.as_bytes()).await, StatusCode::BAD_REQUEST).await;
    assert!(errors.get("file").is_some());
    assert_eq!(get(&app, &owner, "/api/v1/planner/keywords/").await["count"], 0);

    let viewer = member(&app, &owner, "viewer@example.com", "viewer").await;
    error_of(import_raw(&app, &viewer, &query, b"keyword\nx\n").await, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn export_streams_the_filtered_list_and_defuses_formulas() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let site_id = site(&app, &owner, "S").await;
    let other_site = site(&app, &owner, "Other").await;
    let cluster =
        create(&app, &owner, "/api/v1/planner/clusters/", json!({ "name": "=Cluster", "site_id": site_id }))
            .await["id"]
            .as_i64()
            .expect("id");
    for (text, volume) in
        [("=HYPERLINK(\"x\")", 30), ("+1", 20), ("-2", 10), ("@sum", 40), ("plain, \"quoted\"", 50)]
    {
        keyword(
            &app,
            &owner,
            json!({ "keyword": text, "site_id": site_id, "volume": volume, "cluster_id": cluster }),
        )
        .await;
    }
    keyword(&app, &owner, json!({ "keyword": "elsewhere", "site_id": other_site, "volume": 99 })).await;

    let csv = export(&app, &owner, &format!("site_id={site_id}&ordering=-volume")).await;
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], "keyword,volume,difficulty,intent,status,cluster,site_id,sector_id,created_at");
    let firsts: Vec<String> =
        lines[1..6].iter().map(|line| line.rsplitn(9, ',').last().unwrap_or_default().to_owned()).collect();
    assert_eq!(firsts, ["\"plain, \"\"quoted\"\"\"", "'@sum", "\"'=HYPERLINK(\"\"x\"\")\"", "'+1", "'-2"]);
    assert!(lines[1].contains(&format!(",50,0,informational,active,'=Cluster,{site_id},,")), "{}", lines[1]);
    assert_eq!(lines[6], "");
    assert_eq!(lines.len(), 7, "{csv}");
    // The list's filters apply: a volume range and a search.
    let csv = export(&app, &owner, "volume_min=20&volume_max=40&ordering=volume").await;
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 3);
    assert!(
        rows[0].starts_with("'+1,20,")
            && rows[1].starts_with("\"'=HYPERLINK")
            && rows[2].starts_with("'@sum,40,")
    );
    let csv = export(&app, &owner, "search=elsewhere").await;
    assert_eq!(csv.lines().count(), 2);
    let (_, errors) = error_of(
        app.get("/api/v1/planner/keywords/export/?volume_min=9&volume_max=1", &owner.access).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(errors.get("volume_min").is_some());

    // More rows than one batch: every row once, in order, across the keyset batches.
    let file: String = std::iter::once("keyword,volume\n".to_owned())
        .chain((0..2_500).map(|i| format!("bulk {i:04},{}\n", i % 7)))
        .collect();
    let imported =
        ok(import_raw(&app, &owner, &format!("site_id={other_site}"), file.as_bytes()).await).await;
    assert_eq!(imported["data"]["imported_count"], 2_500);
    let csv = export(&app, &owner, &format!("site_id={other_site}&search=bulk&ordering=volume")).await;
    let rows: Vec<(i64, String)> = csv
        .lines()
        .skip(1)
        .map(|line| {
            let mut cells = line.split(',');
            let keyword = cells.next().expect("keyword").to_owned();
            (cells.next().expect("volume").parse().expect("number"), keyword)
        })
        .collect();
    assert_eq!(rows.len(), 2_500);
    assert!(rows.windows(2).all(|pair| pair[0].0 <= pair[1].0), "ordered by volume");
    let mut names: Vec<&String> = rows.iter().map(|(_, keyword)| keyword).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 2_500, "no row twice");
}

#[tokio::test]
async fn clusters_crud_and_totals_stay_true() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let site_id = site(&app, &owner, "S").await;
    let sector_id = sector(&app, &owner, site_id, "Sec").await;
    let cluster = |body: Value| {
        let (app, owner) = (&app, &owner);
        async move { create(app, owner, "/api/v1/planner/clusters/", body).await["id"].as_i64().expect("id") }
    };
    let shoes = cluster(json!({ "name": "Shoes", "site_id": site_id, "intent": "commercial",
                                "description": "All shoes" }))
    .await;
    let socks =
        cluster(json!({ "name": "Socks", "site_id": site_id, "sector_id": sector_id, "status": "archived" }))
            .await;
    let duplicate = app
        .post(
            "/api/v1/planner/clusters/",
            Some(&owner.access),
            json!({ "name": "shoes", "site_id": site_id }),
        )
        .await;
    let (_, errors) = error_of(duplicate, StatusCode::CONFLICT).await;
    assert!(errors.get("name").is_some());
    let (_, errors) = error_of(
        app.post("/api/v1/planner/clusters/", Some(&owner.access), json!({ "site_id": site_id })).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(errors.get("name").is_some());

    let totals = |id: i64| {
        let (app, owner) = (&app, &owner);
        async move {
            let row = get(app, owner, &format!("/api/v1/planner/clusters/{id}/")).await;
            (
                row["data"]["keywords_count"].as_i64().expect("count"),
                row["data"]["volume"].as_i64().expect("volume"),
            )
        }
    };
    let a = keyword(
        &app,
        &owner,
        json!({ "keyword": "a", "site_id": site_id, "volume": 100, "cluster_id": shoes }),
    )
    .await["id"]
        .as_i64()
        .expect("id");
    let b = keyword(
        &app,
        &owner,
        json!({ "keyword": "b", "site_id": site_id, "volume": 50, "cluster_id": shoes }),
    )
    .await["id"]
        .as_i64()
        .expect("id");
    let c = keyword(&app, &owner, json!({ "keyword": "c", "site_id": site_id, "volume": 7 })).await["id"]
        .as_i64()
        .expect("id");
    assert_eq!(totals(shoes).await, (2, 150));
    // Volume changes, assignment, moving between clusters, unassigning.
    ok(send(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/planner/keywords/{a}/"),
        json!({ "volume": 120 }),
    )
    .await)
    .await;
    assert_eq!(totals(shoes).await, (2, 170));
    ok(send(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/planner/keywords/{c}/"),
        json!({ "cluster_id": socks }),
    )
    .await)
    .await;
    ok(send(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/planner/keywords/{b}/"),
        json!({ "cluster_id": socks }),
    )
    .await)
    .await;
    assert_eq!(totals(shoes).await, (1, 120));
    assert_eq!(totals(socks).await, (2, 57));
    ok(send(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/planner/keywords/{c}/"),
        json!({ "cluster_id": null }),
    )
    .await)
    .await;
    assert_eq!(totals(socks).await, (1, 50));
    let deleted =
        send(&app, &owner, Method::DELETE, &format!("/api/v1/planner/keywords/{b}/"), json!({})).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(totals(socks).await, (0, 0));
    ok(app.post("/api/v1/planner/keywords/bulk_delete/", Some(&owner.access), json!({ "ids": [a] })).await)
        .await;
    assert_eq!(totals(shoes).await, (0, 0));
    // A cluster of another site is refused.
    let other_site = site(&app, &owner, "Other").await;
    let (_, errors) = error_of(
        app.post(
            "/api/v1/planner/keywords/",
            Some(&owner.access),
            json!({ "keyword": "x", "site_id": other_site, "cluster_id": shoes }),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(errors.get("cluster_id").is_some());

    // Filters, search and ordering.
    for (keyword_text, volume) in [("d", 10), ("e", 20), ("f", 30)] {
        keyword(
            &app,
            &owner,
            json!({ "keyword": keyword_text, "site_id": site_id, "volume": volume, "cluster_id": socks }),
        )
        .await;
    }
    keyword(&app, &owner, json!({ "keyword": "g", "site_id": site_id, "volume": 1000, "cluster_id": shoes }))
        .await;
    let boots = cluster(json!({ "name": "Boots", "site_id": site_id, "intent": "transactional" })).await;
    let names = |query: &str| {
        let path = format!("/api/v1/planner/clusters/?{query}");
        let (app, owner) = (&app, &owner);
        async move {
            let page = get(app, owner, &path).await;
            page["results"]
                .as_array()
                .expect("results")
                .iter()
                .map(|row| row["name"].as_str().expect("name").to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names("").await, ["Boots", "Socks", "Shoes"]);
    assert_eq!(names("ordering=name").await, ["Boots", "Shoes", "Socks"]);
    assert_eq!(names("ordering=-keywords_count").await, ["Socks", "Shoes", "Boots"]);
    assert_eq!(names("ordering=keywords_count").await, ["Boots", "Shoes", "Socks"]);
    assert_eq!(names("ordering=-volume").await, ["Shoes", "Socks", "Boots"]);
    assert_eq!(names("ordering=created_at").await, ["Shoes", "Socks", "Boots"]);
    assert_eq!(names("status=archived").await, ["Socks"]);
    assert_eq!(names(&format!("sector_id={sector_id}")).await, ["Socks"]);
    assert_eq!(names("intent=commercial").await, ["Shoes"]);
    assert_eq!(names("search=sHo").await, ["Shoes"]);
    assert_eq!(names(&format!("site_id={other_site}")).await, Vec::<String>::new());
    error_of(
        app.get("/api/v1/planner/clusters/?ordering=size", &owner.access).await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    let members =
        get(&app, &owner, &format!("/api/v1/planner/clusters/{socks}/keywords/?ordering=-volume")).await;
    assert_eq!(keywords_of(&members), ["f", "e", "d"]);

    let updated = ok(send(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/planner/clusters/{boots}/"),
        json!({ "name": "Winter boots", "intent": null, "status": "archived", "sector_id": sector_id }),
    )
    .await)
    .await;
    assert_eq!(updated["data"]["name"], "Winter boots");
    assert_eq!(updated["data"]["intent"], Value::Null);
    assert_eq!(updated["data"]["sector_id"], sector_id);
    let (_, errors) = error_of(
        send(
            &app,
            &owner,
            Method::PUT,
            &format!("/api/v1/planner/clusters/{boots}/"),
            json!({ "site_id": other_site }),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(errors.get("site_id").is_some());

    // Deleting a cluster leaves its keywords, unclustered.
    let removed =
        send(&app, &owner, Method::DELETE, &format!("/api/v1/planner/clusters/{socks}/"), json!({})).await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    error_of(
        app.get(&format!("/api/v1/planner/clusters/{socks}/"), &owner.access).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let page = get(&app, &owner, "/api/v1/planner/keywords/?ordering=keyword&page_size=100").await;
    assert_eq!(keywords_of(&page), ["c", "d", "e", "f", "g"]);
    assert!(page["results"].as_array().expect("rows")[..4].iter().all(|row| row["cluster_id"].is_null()));
    assert_eq!(page["results"][4]["cluster_id"], shoes);
    let bulk = ok(app
        .post(
            "/api/v1/planner/clusters/bulk_delete/",
            Some(&owner.access),
            json!({ "ids": [shoes, boots, 999_999] }),
        )
        .await)
    .await;
    assert_eq!(bulk["data"]["deleted_count"], 2);
    assert_eq!(get(&app, &owner, "/api/v1/planner/clusters/").await["count"], 0);
}

#[tokio::test]
async fn ideas_crud_filters_and_queue_to_writer_once() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let site_id = site(&app, &owner, "S").await;
    let sector_id = sector(&app, &owner, site_id, "Sec").await;
    let cluster = create(
        &app,
        &owner,
        "/api/v1/planner/clusters/",
        json!({ "name": "C", "site_id": site_id }),
    )
    .await["id"]
        .as_i64()
        .expect("id");
    let idea = create(
        &app,
        &owner,
        "/api/v1/planner/ideas/",
        json!({ "idea_title": "How to choose running shoes", "description": "A guide", "content_type": "guide",
                "content_structure": "how_to", "target_keywords": ["running shoes", "shoe fit"],
                "outline": ["Intro", "Fit", "Budget"], "estimated_word_count": 1800, "cluster_id": cluster,
                "site_id": site_id, "sector_id": sector_id }),
    )
    .await;
    assert_eq!(idea["status"], "new");
    assert_eq!(idea["target_keywords"], json!(["running shoes", "shoe fit"]));
    let first = idea["id"].as_i64().expect("id");
    let second = create(
        &app,
        &owner,
        "/api/v1/planner/ideas/",
        json!({ "idea_title": "Best socks", "site_id": site_id, "estimated_word_count": 900 }),
    )
    .await["id"]
        .as_i64()
        .expect("id");
    let third = create(
        &app,
        &owner,
        "/api/v1/planner/ideas/",
        json!({ "idea_title": "Archive me", "site_id": site_id, "status": "published", "estimated_word_count": 3000 }),
    )
    .await["id"]
        .as_i64()
        .expect("id");
    for (body, field) in [
        (json!({ "site_id": site_id }), "idea_title"),
        (json!({ "idea_title": "x", "site_id": site_id, "status": "draft" }), "status"),
        (json!({ "idea_title": "x", "site_id": site_id, "target_keywords": "a,b" }), "target_keywords"),
        (
            json!({ "idea_title": "x", "site_id": site_id, "estimated_word_count": -5 }),
            "estimated_word_count",
        ),
        (json!({ "idea_title": "x", "site_id": site_id, "cluster_id": 999_999 }), "cluster_id"),
    ] {
        let response = app.post("/api/v1/planner/ideas/", Some(&owner.access), body).await;
        let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
        assert!(errors.get(field).is_some(), "{errors}");
    }

    let list = |query: &str| {
        let path = format!("/api/v1/planner/ideas/?{query}");
        let (app, owner) = (&app, &owner);
        async move { ids_of(&get(app, owner, &path).await) }
    };
    assert_eq!(list("").await, [third, second, first]);
    assert_eq!(list("ordering=estimated_word_count").await, [second, first, third]);
    assert_eq!(list("ordering=-estimated_word_count").await, [third, first, second]);
    assert_eq!(list("ordering=idea_title").await, [third, second, first]);
    assert_eq!(list("ordering=created_at").await, [first, second, third]);
    assert_eq!(list("status=published").await, [third]);
    assert_eq!(list(&format!("cluster_id={cluster}")).await, [first]);
    assert_eq!(list("content_type=guide").await, [first]);
    assert_eq!(list(&format!("sector_id={sector_id}")).await, [first]);
    assert_eq!(list(&format!("site_id={site_id}&search=SOCKS")).await, [second]);

    let patched = ok(send(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/planner/ideas/{second}/"),
        json!({ "outline": ["One", "Two"], "cluster_id": cluster, "idea_title": "Best wool socks" }),
    )
    .await)
    .await;
    assert_eq!(patched["data"]["outline"], json!(["One", "Two"]));
    assert_eq!(patched["data"]["cluster_id"], cluster);
    assert_eq!(patched["data"]["estimated_word_count"], 900);

    // Queued twice: one task per idea.
    let queued = ok(app
        .post(
            "/api/v1/planner/ideas/bulk_queue_to_writer/",
            Some(&owner.access),
            json!({ "ids": [first, second] }),
        )
        .await)
    .await;
    assert_eq!(queued["data"]["tasks_created"], 2);
    let task = queued["data"]["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|task| task["idea_id"] == first)
        .expect("task of the first idea")
        .clone();
    assert_eq!(task["title"], "How to choose running shoes");
    assert_eq!(task["keywords"], json!(["running shoes", "shoe fit"]));
    assert_eq!(task["outline"], json!(["Intro", "Fit", "Budget"]));
    assert_eq!(task["content_type"], "guide");
    assert_eq!(task["content_structure"], "how_to");
    assert_eq!(task["cluster_id"], cluster);
    assert_eq!(task["sector_id"], sector_id);
    assert_eq!(task["status"], "draft");
    assert_eq!(list("status=scheduled&ordering=created_at").await, [first, second]);
    let again = ok(app
        .post(
            "/api/v1/planner/ideas/bulk_queue_to_writer/",
            Some(&owner.access),
            json!({ "ids": [first, second, third] }),
        )
        .await)
    .await;
    assert_eq!(again["data"]["tasks_created"], 1);
    assert_eq!(again["data"]["tasks"][0]["idea_id"], third);
    let count = app
        .sql(|conn| {
            use diesel::prelude::*;
            Ok(shared::db::schema::writer_tasks::table.count().get_result::<i64>(conn)?)
        })
        .await;
    assert_eq!(count, 3);
    let (_, errors) = error_of(
        app.post("/api/v1/planner/ideas/bulk_queue_to_writer/", Some(&owner.access), json!({ "ids": [] }))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(errors.get("ids").is_some());

    let removed =
        send(&app, &owner, Method::DELETE, &format!("/api/v1/planner/ideas/{third}/"), json!({})).await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let bulk = ok(app
        .post("/api/v1/planner/ideas/bulk_delete/", Some(&owner.access), json!({ "ids": [first, second] }))
        .await)
    .await;
    assert_eq!(bulk["data"]["deleted_count"], 2);
    assert_eq!(get(&app, &owner, "/api/v1/planner/ideas/").await["count"], 0);
}

#[tokio::test]
async fn planner_is_tenant_isolated() {
    let app = spawn_app().await;
    let victim = app.signup().await;
    let mallory = app.signup().await;
    let site_id = site(&app, &victim, "Victim").await;
    let cluster =
        create(&app, &victim, "/api/v1/planner/clusters/", json!({ "name": "C", "site_id": site_id })).await
            ["id"]
            .as_i64()
            .expect("id");
    let kw = keyword(
        &app,
        &victim,
        json!({ "keyword": "secret", "site_id": site_id, "volume": 5, "cluster_id": cluster }),
    )
    .await["id"]
        .as_i64()
        .expect("id");
    let idea = create(
        &app,
        &victim,
        "/api/v1/planner/ideas/",
        json!({ "idea_title": "Secret", "site_id": site_id }),
    )
    .await["id"]
        .as_i64()
        .expect("id");

    let mut probes: Vec<(Method, String, Value)> = Vec::new();
    for (resource, id, body) in [
        ("keywords", kw, json!({ "volume": 1 })),
        ("clusters", cluster, json!({ "name": "mine" })),
        ("ideas", idea, json!({ "idea_title": "mine" })),
    ] {
        let path = format!("/api/v1/planner/{resource}/{id}/");
        probes.push((Method::GET, path.clone(), json!({})));
        probes.push((Method::PUT, path.clone(), body.clone()));
        probes.push((Method::PATCH, path.clone(), body));
        probes.push((Method::DELETE, path, json!({})));
    }
    probes.push((Method::GET, format!("/api/v1/planner/clusters/{cluster}/keywords/"), json!({})));
    for (method, path, body) in probes {
        let response = send(&app, &mallory, method.clone(), &path, body).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
    }

    // Lists, filters and the export show nothing of the victim's.
    for path in [
        "/api/v1/planner/keywords/".to_owned(),
        format!("/api/v1/planner/keywords/?site_id={site_id}"),
        format!("/api/v1/planner/keywords/?cluster_id={cluster}"),
        "/api/v1/planner/clusters/".to_owned(),
        format!("/api/v1/planner/clusters/?site_id={site_id}"),
        "/api/v1/planner/ideas/".to_owned(),
        format!("/api/v1/planner/ideas/?site_id={site_id}"),
    ] {
        assert_eq!(get(&app, &mallory, &path).await["count"], 0, "{path}");
    }
    let csv = export(&app, &mallory, &format!("site_id={site_id}")).await;
    assert_eq!(csv.lines().count(), 1, "{csv}");

    // Bulk actions on the victim's ids touch nothing.
    for (path, body, counter) in [
        ("keywords/bulk_delete", json!({ "ids": [kw] }), "deleted_count"),
        ("keywords/bulk_update_status", json!({ "ids": [kw], "status": "archived" }), "updated_count"),
        ("clusters/bulk_delete", json!({ "ids": [cluster] }), "deleted_count"),
        ("ideas/bulk_delete", json!({ "ids": [idea] }), "deleted_count"),
        ("ideas/bulk_queue_to_writer", json!({ "ids": [idea] }), "tasks_created"),
    ] {
        let body = ok(app.post(&format!("/api/v1/planner/{path}/"), Some(&mallory.access), body).await).await;
        assert_eq!(body["data"][counter], 0, "{path}");
    }

    // The victim's site and cluster cannot be written into.
    let own_site = site(&app, &mallory, "Mine").await;
    for (path, body, field) in [
        ("keywords", json!({ "keyword": "x", "site_id": site_id }), "site_id"),
        ("keywords", json!({ "keyword": "x", "site_id": own_site, "cluster_id": cluster }), "cluster_id"),
        ("clusters", json!({ "name": "x", "site_id": site_id }), "site_id"),
        ("ideas", json!({ "idea_title": "x", "site_id": site_id }), "site_id"),
        ("ideas", json!({ "idea_title": "x", "site_id": own_site, "cluster_id": cluster }), "cluster_id"),
    ] {
        let response = app.post(&format!("/api/v1/planner/{path}/"), Some(&mallory.access), body).await;
        let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
        assert!(errors.get(field).is_some(), "{path}: {errors}");
    }
    let body = json!({ "seed_keyword_ids": [1], "site_id": site_id });
    let (_, errors) = error_of(
        app.post("/api/v1/planner/keywords/bulk_add_from_seed/", Some(&mallory.access), body).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(errors.get("site_id").is_some());
    let (_, errors) = error_of(
        import_raw(&app, &mallory, &format!("site_id={site_id}"), b"keyword\nx\n").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(errors.get("site_id").is_some());

    // All still there for the victim.
    let row = get(&app, &victim, &format!("/api/v1/planner/keywords/{kw}/")).await;
    assert_eq!(row["data"]["status"], "active");
    assert_eq!(row["data"]["cluster_id"], cluster);
    let cluster_row = get(&app, &victim, &format!("/api/v1/planner/clusters/{cluster}/")).await;
    assert_eq!(cluster_row["data"]["name"], "C");
    assert_eq!(cluster_row["data"]["keywords_count"], 1);
    assert_eq!(get(&app, &victim, &format!("/api/v1/planner/ideas/{idea}/")).await["data"]["status"], "new");
}
