//! Another account's planner rows are not found, not listed, not exported, not touched.

use super::*;

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
        let (_, errors) = error_of(response, StatusCode::NOT_FOUND).await;
        assert!(errors.get(field).is_some(), "{path}: {errors}");
    }
    let body = json!({ "seed_keyword_ids": [1], "site_id": site_id });
    let (_, errors) = error_of(
        app.post("/api/v1/planner/keywords/bulk_add_from_seed/", Some(&mallory.access), body).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(errors.get("site_id").is_some());
    let (_, errors) = error_of(
        import_raw(&app, &mallory, &format!("site_id={site_id}"), b"keyword\nx\n").await,
        StatusCode::NOT_FOUND,
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
