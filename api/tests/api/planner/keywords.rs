//! Keywords: CRUD, validation, roles, filters, search, ordering and bulk actions.

use super::*;

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
        (json!({ "site_id": site_id }), "keyword", INVALID),
        (json!({ "keyword": "x" }), "site_id", INVALID),
        (json!({ "keyword": "x", "site_id": site_id, "difficulty": 101 }), "difficulty", INVALID),
        (json!({ "keyword": "x", "site_id": site_id, "volume": -1 }), "volume", INVALID),
        (json!({ "keyword": "x", "site_id": site_id, "intent": "curious" }), "intent", INVALID),
        (json!({ "keyword": "x", "site_id": site_id, "status": "gone" }), "status", INVALID),
        (json!({ "keyword": "x".repeat(256), "site_id": site_id }), "keyword", INVALID),
        (json!({ "keyword": "x", "site_id": 999_999 }), "site_id", MISSING),
        (json!({ "keyword": "x", "site_id": site_id, "sector_id": 999_999 }), "sector_id", MISSING),
        (json!({ "keyword": "x", "site_id": site_id, "cluster_id": 999_999 }), "cluster_id", MISSING),
        (json!({ "keyword": "x", "site_id": site_id, "colour": "red" }), "colour", INVALID),
    ];
    for (body, field, status) in bad_bodies {
        let response = app.post("/api/v1/planner/keywords/", Some(&owner.access), body.clone()).await;
        let (_, errors) = error_of(response, status).await;
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

    for query in ["difficulty_min=60&difficulty_max=10", "volume_min=5&volume_max=1"] {
        assert!(list(query).await.is_empty(), "{query}");
    }
    for (query, field) in [
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
    assert_eq!(updated["updated_count"], 2, "and at the top level");
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
    assert_eq!(deleted["deleted_count"], 2, "and at the top level");
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
