//! Content ideas: CRUD, filters, ordering, and queueing to the writer once.

use super::*;

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
    for (body, field, status) in [
        (json!({ "site_id": site_id }), "idea_title", INVALID),
        (json!({ "idea_title": "x", "site_id": site_id, "status": "draft" }), "status", INVALID),
        (
            json!({ "idea_title": "x", "site_id": site_id, "target_keywords": "a,b" }),
            "target_keywords",
            INVALID,
        ),
        (
            json!({ "idea_title": "x", "site_id": site_id, "estimated_word_count": -5 }),
            "estimated_word_count",
            INVALID,
        ),
        (json!({ "idea_title": "x", "site_id": site_id, "cluster_id": 999_999 }), "cluster_id", MISSING),
    ] {
        let response = app.post("/api/v1/planner/ideas/", Some(&owner.access), body).await;
        let (_, errors) = error_of(response, status).await;
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
    assert_eq!(queued["tasks_created"], 2, "and at the top level");
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
