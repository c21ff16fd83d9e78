//! The writer module's endpoints: tasks, content and images (CRUD, filters, ordering, bulk
//! operations, image files), the AI commands up to their 202 (no worker runs here), and
//! tenant isolation.

use diesel::prelude::*;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use shared::db::schema::{accounts, images, tasks};

use crate::helpers::{INVALID, MISSING, TestApp, TestUser, error_of, spawn_app, spawn_app_with};

async fn send(app: &TestApp, user: &TestUser, method: Method, path: &str, body: Value) -> Response {
    app.request(method, path, Some(&user.access)).json(&body).send().await.expect("request")
}

/// POSTs `body` and returns the created row.
async fn create(app: &TestApp, user: &TestUser, path: &str, body: Value) -> Value {
    let response = app.post(path, Some(&user.access), body).await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{path}: {}",
        response.text().await.unwrap_or_default()
    );
    response.json::<Value>().await.expect("json")["data"].clone()
}

async fn ok(response: Response) -> Value {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).expect("json")
}

async fn get(app: &TestApp, user: &TestUser, path: &str) -> Value {
    ok(app.get(path, &user.access).await).await
}

fn ids_of(page: &Value) -> Vec<i64> {
    page["results"].as_array().expect("results").iter().map(|row| row["id"].as_i64().expect("id")).collect()
}

fn id(row: &Value) -> i64 {
    row["id"].as_i64().expect("id")
}

async fn site(app: &TestApp, user: &TestUser, name: &str) -> i64 {
    id(&create(app, user, "/api/v1/auth/sites/", json!({ "name": name })).await)
}

async fn sector(app: &TestApp, user: &TestUser, site_id: i64) -> i64 {
    id(&create(app, user, "/api/v1/auth/sectors/", json!({ "site_id": site_id, "name": "Sec" })).await)
}

async fn set_credits(app: &TestApp, account_id: i64, credits: i64) {
    app.sql(move |conn| {
        diesel::update(accounts::table.find(account_id)).set(accounts::credits.eq(credits)).execute(conn)?;
        Ok(())
    })
    .await;
}

/// Posts a command, checks the 202, and returns the task row's kind and payload.
async fn command(app: &TestApp, user: &TestUser, path: &str, body: Value) -> (String, Value) {
    let response = app.post(path, Some(&user.access), body).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED, "{}", response.text().await.unwrap_or_default());
    let body: Value = response.json().await.expect("json");
    let task_id: uuid::Uuid = body["task_id"].as_str().expect("task id").parse().expect("uuid");
    assert_eq!(body["status_url"], format!("/api/v1/tasks/{task_id}"), "{body}");
    app.sql(move |conn| Ok(tasks::table.find(task_id).select((tasks::kind, tasks::payload)).first(conn)?))
        .await
}

#[tokio::test]
async fn writer_tasks_crud_filters_ordering_and_bulk_ops() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let site_id = site(&app, &owner, "S").await;
    let other_site = site(&app, &owner, "T").await;
    let sector_id = sector(&app, &owner, site_id).await;
    let cluster =
        id(&create(&app, &owner, "/api/v1/planner/clusters/", json!({ "name": "C", "site_id": site_id }))
            .await);
    let first = create(
        &app,
        &owner,
        "/api/v1/writer/tasks/",
        json!({ "title": "Running shoes guide", "site_id": site_id, "sector_id": sector_id,
                "cluster_id": cluster, "keywords": ["trail shoes", "fit"], "content_type": "guide",
                "content_structure": "how_to", "outline": ["Intro"], "word_count": 2000,
                "description": "d" }),
    )
    .await;
    assert_eq!(first["status"], "draft");
    assert_eq!(first["keywords"], json!(["trail shoes", "fit"]));
    let first = id(&first);
    let second = id(&create(
        &app,
        &owner,
        "/api/v1/writer/tasks/",
        json!({ "title": "Best socks", "site_id": other_site, "word_count": 500, "status": "review" }),
    )
    .await);
    let third = id(&create(
        &app,
        &owner,
        "/api/v1/writer/tasks/",
        json!({ "title": "Archive me", "site_id": site_id, "word_count": 900, "status": "completed" }),
    )
    .await);
    for (body, field, status) in [
        (json!({ "site_id": site_id }), "title", INVALID),
        (json!({ "title": "x" }), "site_id", INVALID),
        (json!({ "title": "x", "site_id": site_id, "status": "published" }), "status", INVALID),
        (json!({ "title": "x", "site_id": site_id, "cluster_id": 999_999 }), "cluster_id", MISSING),
        (json!({ "title": "x", "site_id": site_id, "sector_id": 999_999 }), "sector_id", MISSING),
        (json!({ "title": "x", "site_id": site_id, "idea_id": 999_999 }), "idea_id", MISSING),
        (json!({ "title": "x", "site_id": site_id, "word_count": -1 }), "word_count", INVALID),
    ] {
        let response = app.post("/api/v1/writer/tasks/", Some(&owner.access), body).await;
        let (_, errors) = error_of(response, status).await;
        assert!(errors.get(field).is_some(), "{field}: {errors}");
    }

    let list = |query: &str| {
        let path = format!("/api/v1/writer/tasks/?{query}");
        let (app, owner) = (&app, &owner);
        async move { ids_of(&get(app, owner, &path).await) }
    };
    assert_eq!(list("").await, [third, second, first]);
    assert_eq!(list("ordering=created_at").await, [first, second, third]);
    assert_eq!(list("ordering=word_count").await, [second, third, first]);
    assert_eq!(list("ordering=-word_count").await, [first, third, second]);
    assert_eq!(list("ordering=title").await, [third, second, first]);
    assert_eq!(list("ordering=status").await, [third, first, second]);
    assert_eq!(list("status=review").await, [second]);
    assert_eq!(list(&format!("cluster_id={cluster}")).await, [first]);
    assert_eq!(list("content_type=guide&content_structure=how_to").await, [first]);
    assert_eq!(list(&format!("site_id={site_id}")).await, [third, first]);
    assert_eq!(list(&format!("sector_id={sector_id}")).await, [first]);
    assert_eq!(list("search=SOCKS").await, [second]);
    assert_eq!(list("search=trail").await, [first], "search reaches the keywords");
    let response = app.get("/api/v1/writer/tasks/?ordering=bogus", &owner.access).await;
    error_of(response, StatusCode::BAD_REQUEST).await;

    let row = get(&app, &owner, &format!("/api/v1/writer/tasks/{first}/")).await;
    assert_eq!(row["data"]["title"], "Running shoes guide");
    let patched = ok(send(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/writer/tasks/{first}/"),
        json!({ "title": "Trail shoes guide", "cluster_id": null, "status": "in_progress" }),
    )
    .await)
    .await;
    assert_eq!(patched["data"]["title"], "Trail shoes guide");
    assert_eq!(patched["data"]["cluster_id"], Value::Null);
    assert_eq!(patched["data"]["word_count"], 2000);
    let put = ok(send(
        &app,
        &owner,
        Method::PUT,
        &format!("/api/v1/writer/tasks/{first}/"),
        json!({ "word_count": 2500 }),
    )
    .await)
    .await;
    assert_eq!(put["data"]["word_count"], 2500);
    assert_eq!(put["data"]["status"], "in_progress");

    let updated = ok(app
        .post(
            "/api/v1/writer/tasks/bulk_update/",
            Some(&owner.access),
            json!({ "ids": [first, second, 999_999], "status": "archived" }),
        )
        .await)
    .await;
    assert_eq!(updated["data"]["updated_count"], 2);
    assert_eq!(list("status=archived").await, [second, first]);
    let response = app
        .post(
            "/api/v1/writer/tasks/bulk_update/",
            Some(&owner.access),
            json!({ "ids": [first], "status": "x" }),
        )
        .await;
    error_of(response, StatusCode::BAD_REQUEST).await;

    let deleted = ok(app
        .post("/api/v1/writer/tasks/bulk_delete/", Some(&owner.access), json!({ "ids": [first, second] }))
        .await)
    .await;
    assert_eq!(deleted["data"]["deleted_count"], 2);
    assert_eq!(deleted["deleted_count"], 2, "and at the top level");
    let response =
        send(&app, &owner, Method::DELETE, &format!("/api/v1/writer/tasks/{third}/"), json!({})).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = app.get(&format!("/api/v1/writer/tasks/{third}/"), &owner.access).await;
    error_of(response, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn auto_generate_content_checks_ids_and_credits_then_enqueues() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let site_id = site(&app, &owner, "S").await;
    let long = id(&create(
        &app,
        &owner,
        "/api/v1/writer/tasks/",
        json!({ "title": "Long", "site_id": site_id, "word_count": 3000 }),
    )
    .await);
    let unsized_task =
        id(&create(&app, &owner, "/api/v1/writer/tasks/", json!({ "title": "Default", "site_id": site_id }))
            .await);
    let path = "/api/v1/writer/tasks/auto_generate_content/";

    // 3000 + 1500 (no word count) words cost 45 credits.
    set_credits(&app, owner.account_id, 44).await;
    let response = app.post(path, Some(&owner.access), json!({ "ids": [long, unsized_task] })).await;
    let (code, _) = error_of(response, StatusCode::PAYMENT_REQUIRED).await;
    assert_eq!(code, "insufficient_credits");
    let queued: i64 = app.sql(|conn| Ok(tasks::table.count().get_result(conn)?)).await;
    assert_eq!(queued, 0, "nothing is enqueued without credits");

    set_credits(&app, owner.account_id, 45).await;
    let (kind, payload) = command(&app, &owner, path, json!({ "ids": [long, unsized_task, long] })).await;
    assert_eq!(kind, "writer.generate_content");
    assert_eq!(payload, json!({ "writer_task_ids": [long, unsized_task] }));

    let response = app.post(path, Some(&owner.access), json!({ "ids": [long, 999_999] })).await;
    let (_, errors) = error_of(response, StatusCode::NOT_FOUND).await;
    assert!(errors["ids"][0].as_str().expect("message").contains("999999"), "{errors}");
    let too_many: Vec<i64> = (1..=51).collect();
    for ids in [json!([]), json!(too_many)] {
        let response = app.post(path, Some(&owner.access), json!({ "ids": ids })).await;
        let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
        assert!(errors.get("ids").is_some(), "{errors}");
    }

    // Another account cannot generate for these tasks.
    let stranger = app.signup().await;
    let response = app.post(path, Some(&stranger.access), json!({ "ids": [long] })).await;
    error_of(response, MISSING).await;
}

#[tokio::test]
async fn content_crud_filters_script_check_and_image_prompts() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let site_id = site(&app, &owner, "S").await;
    let sector_id = sector(&app, &owner, site_id).await;
    let first = create(
        &app,
        &owner,
        "/api/v1/writer/content/",
        json!({ "title": "Coffee guide", "site_id": site_id, "sector_id": sector_id,
                "html_content": "<h2>Cold brew</h2><p>Steep it <b>long</b> and slow.</p>",
                "primary_keyword": "cold brew", "secondary_keywords": ["iced"],
                "meta_title": "Coffee", "content_type": "guide" }),
    )
    .await;
    assert_eq!(first["word_count"], 7);
    assert_eq!(first["status"], "draft");
    let first = id(&first);
    let second = id(&create(
        &app,
        &owner,
        "/api/v1/writer/content/",
        json!({ "title": "Alpha tea", "site_id": site_id, "html_content": "<p>one two</p>", "status": "review" }),
    )
    .await);
    for (body, field) in [
        (
            json!({ "title": "x", "site_id": site_id, "html_content": "<p>a</p><SCRIPT>alert(1)</SCRIPT>" }),
            "html_content",
        ),
        (json!({ "title": "x", "site_id": site_id }), "html_content"),
        (json!({ "title": "x", "html_content": "" }), "site_id"),
        (
            json!({ "title": "x", "site_id": site_id, "html_content": "", "meta_title": "m".repeat(61) }),
            "meta_title",
        ),
        (json!({ "title": "x", "site_id": site_id, "html_content": "", "status": "completed" }), "status"),
    ] {
        let response = app.post("/api/v1/writer/content/", Some(&owner.access), body).await;
        let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
        assert!(errors.get(field).is_some(), "{field}: {errors}");
    }

    let list = |query: &str| {
        let path = format!("/api/v1/writer/content/?{query}");
        let (app, owner) = (&app, &owner);
        async move { ids_of(&get(app, owner, &path).await) }
    };
    assert_eq!(list("").await, [second, first]);
    assert_eq!(list("ordering=created_at").await, [first, second]);
    assert_eq!(list("ordering=title").await, [second, first]);
    assert_eq!(list("ordering=-word_count").await, [first, second]);
    assert_eq!(list("status=review").await, [second]);
    assert_eq!(list("content_type=guide").await, [first]);
    assert_eq!(list(&format!("sector_id={sector_id}")).await, [first]);
    assert_eq!(list(&format!("site_id={site_id}&search=COLD")).await, [first], "search reaches the keyword");

    let patched = ok(send(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/writer/content/{second}/"),
        json!({ "html_content": "<p>one two three</p>", "status": "published" }),
    )
    .await)
    .await;
    assert_eq!(patched["data"]["word_count"], 3);
    assert_eq!(patched["data"]["title"], "Alpha tea");
    let response = send(
        &app,
        &owner,
        Method::PUT,
        &format!("/api/v1/writer/content/{second}/"),
        json!({ "html_content": "<script src=x></script>" }),
    )
    .await;
    error_of(response, StatusCode::BAD_REQUEST).await;

    let path = "/api/v1/writer/content/generate_image_prompts/";
    let (kind, payload) = command(&app, &owner, path, json!({ "ids": [first, second] })).await;
    assert_eq!(kind, "writer.image_prompts");
    assert_eq!(payload, json!({ "content_ids": [first, second] }));
    let response = app.post(path, Some(&owner.access), json!({ "ids": [first, 424_242] })).await;
    let (_, errors) = error_of(response, MISSING).await;
    assert!(errors["ids"][0].as_str().expect("message").contains("424242"), "{errors}");

    let response =
        send(&app, &owner, Method::DELETE, &format!("/api/v1/writer/content/{first}/"), json!({})).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(list("").await, [second]);
}

/// A media directory of the test's own under /tmp.
fn media_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("switchyard-media-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("images")).expect("media dir");
    dir
}

#[tokio::test]
async fn images_crud_filters_files_bulk_update_and_generation() {
    let media = media_dir();
    let media_for_config = media.clone();
    let app = spawn_app_with(move |config| config.media_dir = media_for_config).await;
    let owner = app.signup().await;
    let site_id = site(&app, &owner, "S").await;
    let writer_task =
        id(&create(&app, &owner, "/api/v1/writer/tasks/", json!({ "title": "T", "site_id": site_id })).await);
    let content = id(&create(
        &app,
        &owner,
        "/api/v1/writer/content/",
        json!({ "title": "C", "site_id": site_id, "html_content": "<p>x</p>" }),
    )
    .await);
    // The worker links content to its task; the API does not, so the test does.
    app.sql(move |conn| {
        use shared::db::schema::content as c;
        diesel::update(c::table.find(content)).set(c::writer_task_id.eq(writer_task)).execute(conn)?;
        Ok(())
    })
    .await;
    let featured = create(
        &app,
        &owner,
        "/api/v1/writer/images/",
        json!({ "content_id": content, "image_type": "featured", "prompt": "A cup", "position": 0 }),
    )
    .await;
    assert_eq!(featured["site_id"], site_id);
    assert_eq!(featured["writer_task_id"], writer_task);
    assert_eq!(featured["status"], "pending");
    let featured = id(&featured);
    let inline = id(&create(
        &app,
        &owner,
        "/api/v1/writer/images/",
        json!({ "content_id": content, "image_type": "in_article", "prompt": "Beans", "position": 1 }),
    )
    .await);
    let loose = id(&create(
        &app,
        &owner,
        "/api/v1/writer/images/",
        json!({ "site_id": site_id, "image_type": "mobile", "prompt": "Loose" }),
    )
    .await);
    for (body, field, status) in [
        (json!({ "prompt": "x" }), "site_id", INVALID),
        (json!({ "content_id": 999_999 }), "content_id", MISSING),
        (json!({ "site_id": site_id, "image_type": "banner" }), "image_type", INVALID),
    ] {
        let response = app.post("/api/v1/writer/images/", Some(&owner.access), body).await;
        let (_, errors) = error_of(response, status).await;
        assert!(errors.get(field).is_some(), "{field}: {errors}");
    }

    let list = |query: &str| {
        let path = format!("/api/v1/writer/images/?{query}");
        let (app, owner) = (&app, &owner);
        async move { ids_of(&get(app, owner, &path).await) }
    };
    assert_eq!(list("").await, [loose, inline, featured]);
    assert_eq!(list("image_type=in_article").await, [inline]);
    assert_eq!(list(&format!("content_id={content}")).await, [inline, featured]);
    assert_eq!(list(&format!("task_id={writer_task}")).await, [inline, featured]);
    assert_eq!(list(&format!("site_id={site_id}&status=pending")).await, [loose, inline, featured]);

    let by_content =
        get(&app, &owner, &format!("/api/v1/writer/images/content_images/?content_id={content}")).await;
    let in_order: Vec<i64> =
        by_content["data"]["images"].as_array().expect("images").iter().map(id).collect();
    assert_eq!(in_order, [featured, inline]);
    let response = app.get("/api/v1/writer/images/content_images/", &owner.access).await;
    let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
    assert!(errors.get("content_id").is_some(), "{errors}");

    let patched = ok(send(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/writer/images/{inline}/"),
        json!({ "prompt": "Roasted beans", "position": 2 }),
    )
    .await)
    .await;
    assert_eq!(patched["data"]["prompt"], "Roasted beans");
    let response = send(
        &app,
        &owner,
        Method::PUT,
        &format!("/api/v1/writer/images/{inline}/"),
        json!({ "site_id": site(&app, &owner, "Elsewhere").await }),
    )
    .await;
    error_of(response, StatusCode::BAD_REQUEST).await;

    // No file yet: 404 for both.
    for suffix in ["file", "download"] {
        let response = app.get(&format!("/api/v1/writer/images/{featured}/{suffix}/"), &owner.access).await;
        error_of(response, StatusCode::NOT_FOUND).await;
    }
    let png = b"\x89PNG\r\n\x1a\nnot-really-a-png".to_vec();
    std::fs::write(media.join("images/featured.png"), &png).expect("file written");
    std::fs::write(std::env::temp_dir().join("switchyard-outside.txt"), b"secret").expect("file written");
    let set_file = |image: i64, path: &'static str| {
        app.sql(move |conn| {
            diesel::update(images::table.find(image))
                .set((
                    images::file_path.eq(path),
                    images::mime_type.eq("image/png"),
                    images::status.eq("generated"),
                ))
                .execute(conn)?;
            Ok(())
        })
    };
    set_file(featured, "images/featured.png").await;
    let file = get(&app, &owner, &format!("/api/v1/writer/images/{featured}/file/")).await;
    assert_eq!(file["data"]["image_url"], format!("/api/v1/writer/images/{featured}/download/"));
    let response = app.get(&format!("/api/v1/writer/images/{featured}/download/"), &owner.access).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.bytes().await.expect("body").to_vec(), png);
    // A path out of the media directory is never served.
    for escape in ["../switchyard-outside.txt", "/etc/hostname"] {
        set_file(loose, escape).await;
        for suffix in ["file", "download"] {
            let response = app.get(&format!("/api/v1/writer/images/{loose}/{suffix}/"), &owner.access).await;
            error_of(response, StatusCode::NOT_FOUND).await;
        }
    }

    let updated = ok(app
        .post(
            "/api/v1/writer/images/bulk_update/",
            Some(&owner.access),
            json!({ "content_id": content, "status": "published" }),
        )
        .await)
    .await;
    assert_eq!(updated["data"]["updated_count"], 2);
    assert_eq!(list("status=published").await, [inline, featured]);
    let updated = ok(app
        .post(
            "/api/v1/writer/images/bulk_update/",
            Some(&owner.access),
            json!({ "ids": [loose], "status": "failed" }),
        )
        .await)
    .await;
    assert_eq!(updated["data"]["updated_count"], 1);
    let response = app
        .post("/api/v1/writer/images/bulk_update/", Some(&owner.access), json!({ "status": "failed" }))
        .await;
    error_of(response, StatusCode::BAD_REQUEST).await;

    // Two images cost 10 credits.
    let path = "/api/v1/writer/images/generate_images/";
    set_credits(&app, owner.account_id, 9).await;
    let response = app.post(path, Some(&owner.access), json!({ "ids": [featured, inline] })).await;
    let (code, _) = error_of(response, StatusCode::PAYMENT_REQUIRED).await;
    assert_eq!(code, "insufficient_credits");
    set_credits(&app, owner.account_id, 10).await;
    let (kind, payload) = command(&app, &owner, path, json!({ "ids": [featured, inline] })).await;
    assert_eq!(kind, "writer.generate_images");
    assert_eq!(payload, json!({ "image_ids": [featured, inline] }));

    let response =
        send(&app, &owner, Method::DELETE, &format!("/api/v1/writer/images/{loose}/"), json!({})).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    std::fs::remove_dir_all(&media).ok();
}

#[tokio::test]
async fn writer_rows_stay_within_their_account() {
    let media = media_dir();
    std::fs::write(media.join("images/a.png"), b"png").expect("file written");
    let media_for_config = media.clone();
    let app = spawn_app_with(move |config| config.media_dir = media_for_config).await;
    let owner = app.signup().await;
    let stranger = app.signup().await;
    let site_id = site(&app, &owner, "S").await;
    let task =
        id(&create(&app, &owner, "/api/v1/writer/tasks/", json!({ "title": "T", "site_id": site_id })).await);
    let content = id(&create(
        &app,
        &owner,
        "/api/v1/writer/content/",
        json!({ "title": "C", "site_id": site_id, "html_content": "<p>x</p>" }),
    )
    .await);
    let image = id(&create(&app, &owner, "/api/v1/writer/images/", json!({ "content_id": content })).await);
    app.sql(move |conn| {
        diesel::update(images::table.find(image))
            .set((images::file_path.eq("images/a.png"), images::mime_type.eq("image/png")))
            .execute(conn)?;
        Ok(())
    })
    .await;

    for kind in ["tasks", "content", "images"] {
        let page = get(&app, &stranger, &format!("/api/v1/writer/{kind}/")).await;
        assert_eq!(page["count"], 0, "{kind}: {page}");
    }
    for (path, row) in [("tasks", task), ("content", content), ("images", image)] {
        let item = format!("/api/v1/writer/{path}/{row}/");
        error_of(app.get(&item, &stranger.access).await, StatusCode::NOT_FOUND).await;
        let response = send(&app, &stranger, Method::PATCH, &item, json!({ "status": "archived" })).await;
        assert!(
            [StatusCode::NOT_FOUND, StatusCode::BAD_REQUEST].contains(&response.status()),
            "{path}: {}",
            response.status()
        );
        let response = send(&app, &stranger, Method::DELETE, &item, json!({})).await;
        error_of(response, StatusCode::NOT_FOUND).await;
    }
    for suffix in ["file", "download"] {
        let response = app.get(&format!("/api/v1/writer/images/{image}/{suffix}/"), &stranger.access).await;
        error_of(response, StatusCode::NOT_FOUND).await;
    }
    let response = app
        .get(&format!("/api/v1/writer/images/content_images/?content_id={content}"), &stranger.access)
        .await;
    error_of(response, StatusCode::NOT_FOUND).await;
    // Someone else's site or content cannot be written to.
    for (path, body, field) in [
        ("tasks", json!({ "title": "x", "site_id": site_id }), "site_id"),
        ("content", json!({ "title": "x", "site_id": site_id, "html_content": "" }), "site_id"),
        ("images", json!({ "content_id": content }), "content_id"),
    ] {
        let response = app.post(&format!("/api/v1/writer/{path}/"), Some(&stranger.access), body).await;
        let (_, errors) = error_of(response, MISSING).await;
        assert!(errors.get(field).is_some(), "{path}: {errors}");
    }
    let bulk = ok(app
        .post("/api/v1/writer/tasks/bulk_delete/", Some(&stranger.access), json!({ "ids": [task] }))
        .await)
    .await;
    assert_eq!(bulk["data"]["deleted_count"], 0);
    let bulk = ok(app
        .post(
            "/api/v1/writer/images/bulk_update/",
            Some(&stranger.access),
            json!({ "ids": [image], "status": "failed" }),
        )
        .await)
    .await;
    assert_eq!(bulk["data"]["updated_count"], 0);
    for (path, ids) in
        [("content/generate_image_prompts", json!([content])), ("images/generate_images", json!([image]))]
    {
        let response =
            app.post(&format!("/api/v1/writer/{path}/"), Some(&stranger.access), json!({ "ids": ids })).await;
        error_of(response, MISSING).await;
    }
    // The rows are untouched.
    let row = get(&app, &owner, &format!("/api/v1/writer/images/{image}/")).await;
    assert_eq!(row["data"]["status"], "pending");

    // A viewer of the account reads but does not write.
    create(
        &app,
        &owner,
        "/api/v1/auth/users/",
        json!({ "email": "viewer-writer@example.com", "password": "pass-word-1", "role": "viewer" }),
    )
    .await;
    let viewer = app.login("viewer-writer@example.com", "pass-word-1").await;
    assert_eq!(get(&app, &viewer, "/api/v1/writer/tasks/").await["count"], 1);
    let response = app
        .post("/api/v1/writer/tasks/", Some(&viewer.access), json!({ "title": "x", "site_id": site_id }))
        .await;
    error_of(response, StatusCode::FORBIDDEN).await;
    let response = app
        .post("/api/v1/writer/tasks/auto_generate_content/", Some(&viewer.access), json!({ "ids": [task] }))
        .await;
    error_of(response, StatusCode::FORBIDDEN).await;
    std::fs::remove_dir_all(&media).ok();
}

#[tokio::test]
async fn author_profiles_and_strategies_crud_search_and_isolation() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let stranger = app.signup().await;
    for (path, extra) in [
        (
            "/api/v1/system/author-profiles/",
            json!({ "tone": "friendly", "persona": "A barista", "language": "de" }),
        ),
        (
            "/api/v1/system/strategies/",
            json!({ "target_audience": "Home brewers", "guidelines": "Short sentences" }),
        ),
    ] {
        let mut body = extra.clone();
        body["name"] = json!("Coffee voice");
        let first = create(&app, &owner, path, body).await;
        for (field, value) in extra.as_object().expect("object") {
            assert_eq!(&first[field], value, "{path} {field}");
        }
        assert_eq!(first["is_active"], true);
        let first = id(&first);
        let second = id(&create(&app, &owner, path, json!({ "name": "Alpha", "is_active": false })).await);
        let response = app.post(path, Some(&owner.access), json!({ "description": "x" })).await;
        let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
        assert!(errors.get("name").is_some(), "{errors}");

        assert_eq!(ids_of(&get(&app, &owner, path).await), [second, first]);
        assert_eq!(ids_of(&get(&app, &owner, &format!("{path}?search=COFFEE")).await), [first]);
        assert_eq!(ids_of(&get(&app, &owner, &format!("{path}?is_active=false")).await), [second]);
        let patched =
            ok(send(&app, &owner, Method::PATCH, &format!("{path}{first}/"), json!({ "name": "Tea voice" }))
                .await)
            .await;
        assert_eq!(patched["data"]["name"], "Tea voice");
        assert_eq!(get(&app, &owner, &format!("{path}{first}/")).await["data"]["name"], "Tea voice");

        assert_eq!(get(&app, &stranger, path).await["count"], 0);
        error_of(app.get(&format!("{path}{first}/"), &stranger.access).await, StatusCode::NOT_FOUND).await;
        let response =
            send(&app, &stranger, Method::PUT, &format!("{path}{first}/"), json!({ "name": "x" })).await;
        error_of(response, StatusCode::NOT_FOUND).await;
        let response = send(&app, &stranger, Method::DELETE, &format!("{path}{first}/"), json!({})).await;
        error_of(response, StatusCode::NOT_FOUND).await;

        let response = send(&app, &owner, Method::DELETE, &format!("{path}{second}/"), json!({})).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert_eq!(ids_of(&get(&app, &owner, path).await), [first]);
    }
}

#[tokio::test]
async fn wordpress_settings_are_sealed_masked_and_guarded() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let stranger = app.signup().await;
    let site_id = site(&app, &owner, "Blog").await;
    let path = format!("/api/v1/auth/sites/{site_id}/wordpress/");
    let empty = get(&app, &owner, &path).await;
    assert_eq!(empty["data"]["wp_url"], Value::Null, "{empty}");
    let profile =
        id(&create(&app, &owner, "/api/v1/system/author-profiles/", json!({ "name": "Voice" })).await);
    let password = "abcd efgh ijkl mnop";
    let saved = ok(send(
        &app,
        &owner,
        Method::PUT,
        &path,
        json!({ "wp_url": "https://blog.example.com/", "wp_username": "editor",
                "wp_app_password": password, "author_profile_id": profile }),
    )
    .await)
    .await;
    let data = &saved["data"];
    assert_eq!(data["wp_url"], "https://blog.example.com");
    assert_eq!(data["wp_username"], "editor");
    assert_eq!(data["wp_app_password_hint"], "abc…mnop");
    assert_eq!(data["author_profile_id"], profile);
    assert!(!saved.to_string().contains(password), "{saved}");
    assert!(!get(&app, &owner, &path).await.to_string().contains(password));
    let sealed: Option<Vec<u8>> = app
        .sql(move |conn| {
            use shared::db::schema::sites;
            Ok(sites::table.find(site_id).select(sites::wp_app_password).first(conn)?)
        })
        .await;
    let sealed = sealed.expect("sealed password");
    assert!(!String::from_utf8_lossy(&sealed).contains("efgh"));
    let owner_tag = format!("site:{site_id}:wordpress");
    assert_eq!(app.config.secret_box.open(&sealed, &owner_tag).expect("opens"), password);
    assert!(app.config.secret_box.open(&sealed, "site:0:wordpress").is_err(), "bound to the site");

    for (body, field, status) in [
        (json!({ "wp_url": "ftp://blog.example.com" }), "wp_url", INVALID),
        (json!({ "wp_url": "http://169.254.169.254/latest" }), "wp_url", INVALID),
        (json!({ "wp_url": "http://10.0.0.5" }), "wp_url", INVALID),
        (json!({ "strategy_id": 999_999 }), "strategy_id", MISSING),
    ] {
        let response = send(&app, &owner, Method::PATCH, &path, body).await;
        let (_, errors) = error_of(response, status).await;
        assert!(errors.get(field).is_some(), "{field}: {errors}");
    }
    let cleared = ok(send(
        &app,
        &owner,
        Method::PATCH,
        &path,
        json!({ "wp_app_password": null, "author_profile_id": null }),
    )
    .await)
    .await;
    assert_eq!(cleared["data"]["wp_app_password_hint"], Value::Null);
    assert_eq!(cleared["data"]["author_profile_id"], Value::Null);
    assert_eq!(cleared["data"]["wp_url"], "https://blog.example.com");

    error_of(app.get(&path, &stranger.access).await, StatusCode::NOT_FOUND).await;
    let response = send(&app, &stranger, Method::PUT, &path, json!({ "wp_username": "x" })).await;
    error_of(response, StatusCode::NOT_FOUND).await;
    // Another account's profile cannot be linked.
    let foreign =
        id(&create(&app, &stranger, "/api/v1/system/author-profiles/", json!({ "name": "Theirs" })).await);
    let response = send(&app, &owner, Method::PATCH, &path, json!({ "author_profile_id": foreign })).await;
    let (_, errors) = error_of(response, StatusCode::NOT_FOUND).await;
    assert!(errors.get("author_profile_id").is_some(), "{errors}");
}
