//! Clusters: CRUD, filters and ordering, and totals that follow their keywords.

use super::*;

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
        StatusCode::NOT_FOUND,
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
    assert_eq!(bulk["deleted_count"], 2, "IGNY8 reads the count at the top level");
    assert_eq!(get(&app, &owner, "/api/v1/planner/clusters/").await["count"], 0);
}
