//! Images and WordPress publishing end to end: the HTTP commands, the real `worker-content`
//! handlers, the real database, broker and media directory, a fake OpenAI-compatible images
//! API and a fake WordPress REST API.

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::{
    db::schema::{content, images, writer_tasks},
    tasks::{GenerateImages, ImagePrompts, Queue, TaskKind},
};
use testkit::{
    openai::FakeOpenAi,
    wordpress::{Failure, FakeWordPress},
};

use crate::{
    helpers::{TestApp, TestUser, error_of, spawn_app},
    writer_worker::{balance, enqueue, redeliver, site, usage_rows, use_fake, writer_task},
};

const ARTICLE_HTML: &str =
    "<h2>Why It Matters</h2><p>Good shoes help.</p><h2>How to Choose</h2><p>Fit first.</p>";

/// A content item of a writer task, as `generate_content` leaves it.
async fn article(app: &TestApp, user: &TestUser, site_id: i64, title: &str) -> (i64, i64) {
    let writer_task_id = writer_task(app, user, site_id, title, 300).await;
    let (account_id, title) = (user.account_id, title.to_owned());
    let content_id = app
        .sql(move |conn| {
            Ok(diesel::insert_into(content::table)
                .values((
                    content::account_id.eq(account_id),
                    content::site_id.eq(site_id),
                    content::writer_task_id.eq(Some(writer_task_id)),
                    content::title.eq(title),
                    content::meta_description.eq("All about running shoes."),
                    content::html_content.eq(ARTICLE_HTML),
                    content::word_count.eq(6),
                    content::status.eq("review"),
                ))
                .returning(content::id)
                .get_result(conn)?)
        })
        .await;
    (writer_task_id, content_id)
}

/// Image rows for `content_id` from `writer.image_prompts` (offline): featured + one per H2.
async fn image_rows(app: &TestApp, user: &TestUser, content_id: i64) -> Vec<i64> {
    let task = enqueue(app, user, ImagePrompts::NAME, json!({ "content_ids": [content_id] })).await;
    app.wait_for_state(user, &task, "SUCCESS").await;
    app.sql(move |conn| {
        Ok(images::table
            .filter(images::content_id.eq(content_id))
            .order((images::position, images::id))
            .select(images::id)
            .load(conn)?)
    })
    .await
}

async fn generate_images(app: &TestApp, user: &TestUser, ids: &[i64]) -> Value {
    let response =
        app.post("/api/v1/writer/images/generate_images/", Some(&user.access), json!({ "ids": ids })).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED, "{}", response.text().await.unwrap_or_default());
    let body: Value = response.json().await.expect("json");
    let task_id = body["task_id"].as_str().expect("task id").to_owned();
    app.wait_for_state(user, &task_id, "SUCCESS").await
}

/// (status, file_path, mime_type, width, height) per image id.
type ImageState = (String, Option<String>, Option<String>, Option<i32>, Option<i32>);

async fn image_states(app: &TestApp, ids: Vec<i64>) -> Vec<ImageState> {
    app.sql(move |conn| {
        Ok(images::table
            .filter(images::id.eq_any(ids))
            .order(images::id)
            .select((images::status, images::file_path, images::mime_type, images::width, images::height))
            .load(conn)?)
    })
    .await
}

#[tokio::test]
async fn offline_images_are_written_served_and_charged_once() {
    let mut app = spawn_app().await;
    app.start_worker(Queue::Content);
    let user = app.signup().await;
    let site_id = site(&app, &user).await;
    let (_, content_id) = article(&app, &user, site_id, "Running Shoes").await;
    let ids = image_rows(&app, &user, content_id).await;
    assert_eq!(ids.len(), 3, "featured + two H2s");
    let before = balance(&app, user.account_id).await;

    let task = generate_images(&app, &user, &ids).await;
    assert_eq!(task["result"]["succeeded"], 3, "{task}");
    assert_eq!(task["result"]["credits_charged"], 15);
    assert_eq!(balance(&app, user.account_id).await, before - 15);
    for (status, path, mime, width, height) in image_states(&app, ids.clone()).await {
        assert_eq!(status, "generated");
        assert!(path.expect("file path").starts_with(&format!("images/{}/", user.account_id)));
        assert_eq!(mime.as_deref(), Some("image/png"));
        // Offline placeholders are half the provider's landscape size.
        assert_eq!((width, height), (Some(768), Some(512)));
    }

    let file = app.get(&format!("/api/v1/writer/images/{}/file/", ids[0]), &user.access).await;
    assert_eq!(file.status(), StatusCode::OK);
    let file: Value = file.json().await.expect("json");
    let url = file["data"]["image_url"].as_str().expect("url").to_owned();
    let served = app.get(&url, &user.access).await;
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");
    let bytes = served.bytes().await.expect("bytes");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(shared::ai::images::sniff(&bytes).map(|(_, w, h)| (w, h)), Some((768, 512)));

    // Another account sees none of it.
    let other = app.signup().await;
    for suffix in ["file/", "download/"] {
        let response = app.get(&format!("/api/v1/writer/images/{}/{suffix}", ids[0]), &other.access).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }

    let task_id = task["task_id"].as_str().expect("task id").to_owned();
    redeliver(&app, &user, &task_id, GenerateImages::NAME).await;
    assert_eq!(balance(&app, user.account_id).await, before - 15);
    let images_charges =
        usage_rows(&app, user.account_id).await.into_iter().filter(|row| row.0 == "images").count();
    assert_eq!(images_charges, 1);
}

#[tokio::test]
async fn provider_images_use_the_images_api_and_a_non_image_answer_fails_only_its_row() {
    let mut app = spawn_app().await;
    app.start_worker(Queue::Content);
    let user = app.signup().await;
    let site_id = site(&app, &user).await;
    let (_, content_id) = article(&app, &user, site_id, "Trail Shoes").await;
    // Prompts offline; the pictures from the provider.
    let ids = image_rows(&app, &user, content_id).await;
    let fake = FakeOpenAi::start().await;
    use_fake(&app, &user, &fake).await;
    // A mobile variant is drawn in portrait; the second row's drawing comes back as markup.
    let (account_id, markup, mobile) = (user.account_id, ids[1], ids[2]);
    app.sql(move |conn| {
        let own = images::account_id.eq(account_id);
        diesel::update(images::table.filter(images::id.eq(mobile).and(own)))
            .set(images::image_type.eq("mobile"))
            .execute(conn)?;
        diesel::update(images::table.filter(images::id.eq(markup).and(own)))
            .set(images::prompt.eq("answer with markup"))
            .execute(conn)?;
        Ok(())
    })
    .await;
    fake.answer_images_with(|body| {
        (body["prompt"] == "answer with markup")
            .then(|| b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".to_vec())
    });

    let task = generate_images(&app, &user, &ids).await;
    assert_eq!(task["result"]["succeeded"], 2, "{task}");
    assert_eq!(task["result"]["failed_ids"], json!([ids[1]]));
    assert_eq!(task["result"]["items"][1]["error"]["code"], "ai_malformed_response");
    assert_eq!(task["result"]["credits_charged"], 10);
    let states = image_states(&app, ids.clone()).await;
    assert_eq!(states[1].0, "failed");
    assert_eq!(states[1].1, None, "nothing stored for the failed row");
    // The fake draws at an eighth of the size asked for.
    assert_eq!((states[2].3, states[2].4), (Some(128), Some(192)), "portrait for mobile");

    let sent: Vec<Value> = fake
        .requests()
        .into_iter()
        .filter(|request| request.path == "/v1/images/generations")
        .map(|request| request.body)
        .collect();
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|body| body["model"] == "gpt-image-1-mini" && body["n"] == 1));
    assert!(sent.iter().all(|body| body.get("response_format").is_none()), "GPT image models refuse it");
    let sizes: Vec<&str> = sent.iter().filter_map(|body| body["size"].as_str()).collect();
    assert_eq!(sizes.iter().filter(|size| **size == "1024x1536").count(), 1);
}

/// Connects the user's site to the fake WordPress.
async fn connect(app: &TestApp, user: &TestUser, site_id: i64, wordpress: &FakeWordPress, password: &str) {
    let response = app
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/auth/sites/{site_id}/wordpress/"),
            Some(&user.access),
        )
        .json(&json!({
            "wp_url": wordpress.base_url(),
            "wp_username": wordpress.username(),
            "wp_app_password": password,
        }))
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap_or_default());
}

/// An app with a content worker, a user, and a site of theirs connected to a fresh fake
/// WordPress with its password (or `password`).
async fn connected_site(password: Option<&str>) -> (TestApp, TestUser, FakeWordPress, i64) {
    let mut app = spawn_app().await;
    app.start_worker(Queue::Content);
    let user = app.signup().await;
    let wordpress = FakeWordPress::start().await;
    let site_id = site(&app, &user).await;
    connect(&app, &user, site_id, &wordpress, password.unwrap_or(wordpress.app_password())).await;
    (app, user, wordpress, site_id)
}

async fn publish(app: &TestApp, user: &TestUser, content_id: i64, body: Value) -> String {
    let response =
        app.post(&format!("/api/v1/writer/content/{content_id}/publish/"), Some(&user.access), body).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED, "{}", response.text().await.unwrap_or_default());
    let body: Value = response.json().await.expect("json");
    body["task_id"].as_str().expect("task id").to_owned()
}

/// (status, wp_post_id, wp_post_url) of a content item.
async fn published_state(app: &TestApp, content_id: i64) -> (String, Option<i64>, Option<String>) {
    app.sql(move |conn| {
        Ok(content::table
            .find(content_id)
            .select((content::status, content::wp_post_id, content::wp_post_url))
            .first(conn)?)
    })
    .await
}

#[tokio::test]
async fn publishing_uploads_images_creates_the_post_and_publishing_again_updates_it() {
    let (app, user, wordpress, site_id) = connected_site(None).await;
    let (writer_task_id, content_id) = article(&app, &user, site_id, "Choosing Running Shoes").await;
    let ids = image_rows(&app, &user, content_id).await;
    generate_images(&app, &user, &ids).await;

    let tested = app
        .post(&format!("/api/v1/auth/sites/{site_id}/wordpress/test/"), Some(&user.access), json!({}))
        .await;
    assert_eq!(tested.status(), StatusCode::OK);
    let tested: Value = tested.json().await.expect("json");
    assert_eq!(tested["data"]["user"]["roles"], json!(["editor"]));

    let task_id = publish(&app, &user, content_id, json!({})).await;
    let task = app.wait_for_state(&user, &task_id, "SUCCESS").await;
    assert_eq!(task["result"]["action"], "created", "{task}");
    assert_eq!(task["result"]["images_uploaded"], 3);
    let posts = wordpress.posts();
    assert_eq!(posts.len(), 1);
    let (&post_id, post) = posts.iter().next().expect("post");
    assert_eq!(post["status"], "publish");
    assert_eq!(post["slug"], "choosing-running-shoes");
    assert_eq!(post["excerpt"]["raw"], "All about running shoes.");
    let media = wordpress.media();
    assert_eq!(media.len(), 3);
    assert!(media.contains_key(&post["featured_media"].as_i64().expect("featured")));
    // Each in-article picture follows its section's heading.
    let body = post["content"]["raw"].as_str().expect("content");
    let first_figure = body.find("<figure").expect("a figure");
    assert!(body.find("</h2>").expect("h2") < first_figure);
    assert_eq!(body.matches("<img ").count(), 2, "{body}");
    assert!(body.contains("alt=\"How to Choose\""));
    let uploads = wordpress.requests().into_iter().filter(|r| r.route == "/media").collect::<Vec<_>>();
    assert!(uploads.iter().all(|r| r.content_type.as_deref() == Some("image/png")));
    assert!(
        uploads.iter().all(|r| r.content_disposition.as_deref().is_some_and(|d| d.contains("filename=")))
    );

    let (status, wp_post_id, wp_post_url) = published_state(&app, content_id).await;
    assert_eq!((status.as_str(), wp_post_id), ("published", Some(post_id)));
    assert_eq!(wp_post_url.as_deref(), post["link"].as_str());
    let writer_status: String = app
        .sql(move |conn| {
            Ok(writer_tasks::table.find(writer_task_id).select(writer_tasks::status).first(conn)?)
        })
        .await;
    assert_eq!(writer_status, "completed");
    assert!(image_states(&app, ids.clone()).await.iter().all(|state| state.0 == "published"));

    // An edit, then publishing again: the same post is updated, no picture is sent twice.
    app.sql(move |conn| {
        diesel::update(content::table.find(content_id))
            .set(
                content::html_content
                    .eq("<h2>Why It Matters</h2><p>Updated.</p><h2>How to Choose</h2><p>Fit.</p>"),
            )
            .execute(conn)?;
        Ok(())
    })
    .await;
    let again = publish(&app, &user, content_id, json!({ "status": "publish" })).await;
    let task = app.wait_for_state(&user, &again, "SUCCESS").await;
    assert_eq!(task["result"]["action"], "updated");
    assert_eq!(task["result"]["wp_post_id"], post_id);
    let posts = wordpress.posts();
    assert_eq!(posts.len(), 1, "updated, not duplicated");
    assert!(posts[&post_id]["content"]["raw"].as_str().expect("content").contains("Updated."));
    assert_eq!(wordpress.media().len(), 3, "no second upload");

    // Deleted on the site: publishing makes it again.
    wordpress.delete_post(post_id);
    let third = publish(&app, &user, content_id, json!({})).await;
    let task = app.wait_for_state(&user, &third, "SUCCESS").await;
    assert_eq!(task["result"]["action"], "created");
    let new_id = task["result"]["wp_post_id"].as_i64().expect("id");
    assert_ne!(new_id, post_id);
    assert_eq!(published_state(&app, content_id).await.1, Some(new_id));
}

#[tokio::test]
async fn refused_credentials_fail_the_task_and_change_nothing() {
    let (app, user, wordpress, site_id) = connected_site(Some("wrong wrong wrong wrong")).await;
    let (_, content_id) = article(&app, &user, site_id, "Refused").await;

    let tested = app
        .post(&format!("/api/v1/auth/sites/{site_id}/wordpress/test/"), Some(&user.access), json!({}))
        .await;
    let (code, _) = error_of(tested, StatusCode::BAD_GATEWAY).await;
    assert_eq!(code, "wordpress_auth_failed");

    let task_id = publish(&app, &user, content_id, json!({})).await;
    let task = app.wait_for_state(&user, &task_id, "FAILURE").await;
    assert_eq!(task["error"]["code"], "wordpress_auth_failed", "{task}");
    assert_eq!(task["attempts"], 1, "not retried");
    assert!(wordpress.posts().is_empty());
    assert_eq!(published_state(&app, content_id).await, ("review".to_owned(), None, None));
}

#[tokio::test]
async fn server_errors_are_retried_without_duplicating_the_post() {
    let (app, user, wordpress, site_id) = connected_site(None).await;
    let (_, content_id) = article(&app, &user, site_id, "Retried Post").await;
    // A busy site (503 with Retry-After: the client waits and tries again), then a 500 on
    // the create itself, which is not repeated blindly: the task's next attempt looks for the
    // post first and creates it once.
    wordpress.push_failure(Failure::Unavailable { retry_after_secs: 0 });
    wordpress.push_failure(Failure::Status(500));

    let task_id = publish(&app, &user, content_id, json!({ "status": "draft" })).await;
    let task = app.wait_for_state(&user, &task_id, "SUCCESS").await;
    assert_eq!(task["attempts"], 2, "{task}");
    assert_eq!(task["result"]["action"], "created");
    assert_eq!(task["result"]["wp_status"], "draft");
    assert_eq!(wordpress.posts().len(), 1);
    let lookups =
        wordpress.requests().into_iter().filter(|r| r.method == "GET" && r.route == "/posts").count();
    assert_eq!(lookups, 1, "the second attempt looked for the post first");
    // A draft on the site leaves the article in review, with the post recorded.
    let (status, wp_post_id, _) = published_state(&app, content_id).await;
    assert_eq!(status, "review");
    assert!(wp_post_id.is_some());
}

#[tokio::test]
async fn publishing_needs_a_connection_and_the_callers_own_content() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let other = app.signup().await;
    let site_id = site(&app, &user).await;
    let (_, content_id) = article(&app, &user, site_id, "Unconnected").await;

    let response = app
        .post(&format!("/api/v1/writer/content/{content_id}/publish/"), Some(&user.access), json!({}))
        .await;
    let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
    assert!(errors.get("site_id").is_some(), "{errors}");

    let response = app
        .post(&format!("/api/v1/writer/content/{content_id}/publish/"), Some(&other.access), json!({}))
        .await;
    error_of(response, StatusCode::NOT_FOUND).await;

    let response = app
        .post(
            &format!("/api/v1/writer/content/{content_id}/publish/"),
            Some(&user.access),
            json!({ "status": "live" }),
        )
        .await;
    error_of(response, StatusCode::BAD_REQUEST).await;
}
