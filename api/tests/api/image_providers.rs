//! Image providers end to end: the catalogue (`system/integrations/image_generation/`), test
//! pictures (`system/settings/integrations/{pk}/generate/`) through the fake Runware, and
//! `writer/images/auto_generate/` drawn by the real `worker-content`, against the real
//! Postgres and RabbitMQ. Nothing leaves 127.0.0.1: Runware's production URL is never dialled
//! (every Runware integration here names the fake's base URL, and the server has no key).

use diesel::prelude::*;
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use shared::{
    db::schema::{accounts, content, credit_usage_logs, images},
    tasks::Queue,
};
use testkit::runware::FakeRunware;

use crate::{
    helpers::{TestApp, TestUser, error_of, spawn_app},
    writer_worker::site,
};

const SAVE: &str = "/api/v1/system/settings/integrations";
const CATALOGUE: &str = "/api/v1/system/integrations/image_generation/";

async fn save(app: &TestApp, user: &TestUser, kind: &str, config: Value) -> reqwest::Response {
    app.post(&format!("{SAVE}/{kind}/save/"), Some(&user.access), json!({ "config": config })).await
}

async fn use_runware(app: &TestApp, user: &TestUser, fake: &FakeRunware) {
    let response =
        save(app, user, "runware", json!({ "apiKey": fake.api_key(), "base_url": fake.base_url() })).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap_or_default());
}

async fn json_of(response: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    response.json().await.expect("json")
}

async fn generate(app: &TestApp, user: &TestUser, kind: &str, body: Value) -> reqwest::Response {
    app.post(&format!("{SAVE}/{kind}/generate/"), Some(&user.access), body).await
}

/// (operation, credits, cost_usd, model) of the account's usage rows.
async fn usage(app: &TestApp, account_id: i64) -> Vec<(String, i64, Decimal, String)> {
    app.sql(move |conn| {
        Ok(credit_usage_logs::table
            .filter(credit_usage_logs::account_id.eq(account_id))
            .order(credit_usage_logs::id)
            .select((
                credit_usage_logs::operation_type,
                credit_usage_logs::credits_used,
                credit_usage_logs::cost_usd,
                credit_usage_logs::model_used,
            ))
            .load(conn)?)
    })
    .await
}

/// A content item with three H2 sections.
async fn article(app: &TestApp, user: &TestUser, site_id: i64, title: &str) -> i64 {
    let (account_id, title) = (user.account_id, title.to_owned());
    app.sql(move |conn| {
        Ok(diesel::insert_into(content::table)
            .values((
                content::account_id.eq(account_id),
                content::site_id.eq(site_id),
                content::title.eq(title),
                content::primary_keyword.eq("trail shoes"),
                content::html_content.eq(
                    "<p>Intro</p><h2>Grip on Rock</h2><p>a</p><h2>Drop &amp; Stack</h2><p>b</p><h2>Care</h2>",
                ),
                content::word_count.eq(4),
                content::status.eq("review"),
            ))
            .returning(content::id)
            .get_result(conn)?)
    })
    .await
}

#[tokio::test]
async fn image_generation_catalogue_lists_providers_models_and_what_is_configured() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let fresh = json_of(app.get(CATALOGUE, &user.access).await, StatusCode::OK).await;
    assert_eq!(fresh["providers"], json!(["openai", "runware", "offline"]), "{fresh}");
    assert_eq!(fresh["available_providers"], json!(["offline"]));
    assert_eq!((fresh["provider"].as_str(), fresh["model"].as_str()), (Some("offline"), Some("offline")));
    assert_eq!(fresh["data"]["providers"], fresh["providers"], "also under data");
    assert!(fresh["models"]["openai"].as_array().is_some_and(|m| m.contains(&json!("dall-e-3"))));
    assert!(fresh["models"]["runware"].as_array().is_some_and(|m| m.contains(&json!("runware:100@1"))));
    assert_eq!(fresh["max_in_article_images"], 2);

    let fake = FakeRunware::start().await;
    use_runware(&app, &user, &fake).await;
    let saved = save(
        &app,
        &user,
        "image_generation",
        json!({ "provider": "runware", "model": "runware:101@1", "max_in_article_images": 4, "image_type": "watercolour" }),
    )
    .await;
    assert_eq!(saved.status(), StatusCode::OK, "{}", saved.text().await.unwrap_or_default());
    let now = json_of(app.get(CATALOGUE, &user.access).await, StatusCode::OK).await;
    assert_eq!(now["available_providers"], json!(["runware", "offline"]), "{now}");
    assert_eq!((now["provider"].as_str(), now["model"].as_str()), (Some("runware"), Some("runware:101@1")));
    assert_eq!(
        (now["max_in_article_images"].as_u64(), now["image_type"].as_str()),
        (Some(4), Some("watercolour"))
    );
    let runware = &now["details"][1];
    assert_eq!((runware["key_source"].as_str(), runware["active"].as_bool()), (Some("account"), Some(true)));
    assert!(fake.requests().is_empty(), "listing calls no provider");

    // Another account sees none of it.
    let other = app.signup().await;
    let theirs = json_of(app.get(CATALOGUE, &other.access).await, StatusCode::OK).await;
    assert_eq!(theirs["available_providers"], json!(["offline"]));
}

#[tokio::test]
async fn image_settings_are_validated_field_by_field() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let cases = [
        ("image_generation", json!({ "apiKey": "sk-x" }), "config.apiKey"),
        ("image_generation", json!({ "provider": "dalle" }), "config.provider"),
        ("image_generation", json!({ "max_in_article_images": 11 }), "config.max_in_article_images"),
        ("image_generation", json!({ "provider": "openai", "model": "runware:100@1" }), "config.model"),
        ("image_generation", json!({ "color": "red" }), "config.color"),
        ("runware", json!({ "model": "flux-schnell" }), "config.model"),
        ("runware", json!({ "base_url": "ftp://runware" }), "config.base_url"),
    ];
    for (kind, config, field) in cases {
        let (code, errors) =
            error_of(save(&app, &user, kind, config.clone()).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(code, "validation_error", "{kind} {config}");
        assert!(errors.get(field).is_some(), "{kind} {config}: {errors}");
    }
}

#[tokio::test]
async fn runware_test_image_is_drawn_through_the_fake_and_charged_with_its_decimal_cost() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let fake = FakeRunware::start().await;
    use_runware(&app, &user, &fake).await;
    fake.set_cost("0.0042");
    let before: i64 = balance(&app, user.account_id).await;

    let body = json!({ "prompt": "A red fox in snow", "provider": "runware", "size": "1024x1024" });
    let drawn = json_of(generate(&app, &user, "runware", body).await, StatusCode::OK).await;
    let url = drawn["image_url"].as_str().expect("image_url at the top level, as the seed has it");
    assert!(url.starts_with(&format!("{}/images/", fake.base_url().trim_end_matches("/v1"))), "{drawn}");
    assert_eq!(drawn["data"]["image_url"], drawn["image_url"]);
    assert_eq!(
        (drawn["provider"].as_str(), drawn["model"].as_str()),
        (Some("runware"), Some("runware:100@1"))
    );
    assert_eq!(drawn["cost_usd"], "0.0042");
    assert_eq!(drawn["credits_charged"], 5);
    let task = &fake.tasks()[0];
    assert_eq!((task["width"].as_u64(), task["height"].as_u64()), (Some(1024), Some(1024)));
    assert_eq!(task["positivePrompt"], "A red fox in snow");

    assert_eq!(balance(&app, user.account_id).await, before - 5);
    let rows = usage(&app, user.account_id).await;
    assert_eq!(rows, vec![("images".to_owned(), 5, Decimal::new(42, 4), "runware:100@1".to_owned())]);

    // The model asked for is sent; the image_generation route picks the provider from the body.
    let body = json!({ "prompt": "A red fox", "provider": "runware", "model": "runware:101@1" });
    json_of(generate(&app, &user, "image_generation", body).await, StatusCode::OK).await;
    assert_eq!(fake.tasks()[1]["model"], "runware:101@1");
}

#[tokio::test]
async fn test_image_errors_are_clear_4xx_and_502_with_codes() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let fake = FakeRunware::start().await;
    let prompt = json!({ "prompt": "A lighthouse" });

    let (code, errors) =
        error_of(generate(&app, &user, "runware", prompt.clone()).await, StatusCode::CONFLICT).await;
    assert_eq!(code, "integration_not_connected");
    assert!(errors.get("config.apiKey").is_some(), "{errors}");

    use_runware(&app, &user, &fake).await;
    let bad_inputs = [
        ("runware", json!({ "prompt": "" }), "prompt"),
        ("runware", json!({ "prompt": "A lighthouse", "model": "dall-e-3" }), "model"),
        ("runware", json!({ "prompt": "A lighthouse", "provider": "openai" }), "provider"),
        ("runware", json!({ "prompt": "A lighthouse", "size": "big" }), "size"),
        ("runware", json!({ "prompt": "A lighthouse", "steps": 4 }), "steps"),
        ("odoo", prompt.clone(), "integration_type"),
    ];
    for (kind, body, field) in bad_inputs {
        let (_, errors) =
            error_of(generate(&app, &user, kind, body.clone()).await, StatusCode::BAD_REQUEST).await;
        assert!(errors.get(field).is_some(), "{kind} {body}: {errors}");
    }
    assert!(fake.requests().is_empty(), "bad input never reaches the provider");

    // Runware refuses a model it does not have: 400 naming the model, with its words.
    fake.set_models(&["runware:100@1"]);
    let body = json!({ "prompt": "A lighthouse", "model": "civitai:4384@128713" });
    let (_, errors) = error_of(generate(&app, &user, "runware", body).await, StatusCode::BAD_REQUEST).await;
    assert!(errors["model"][0].as_str().is_some_and(|m| m.contains("invalidModel")), "{errors}");

    // A key Runware refuses: 502 with the provider's code.
    let saved = save(&app, &user, "runware", json!({ "apiKey": "rw-revoked" })).await;
    assert_eq!(saved.status(), StatusCode::OK);
    let (code, _) =
        error_of(generate(&app, &user, "runware", prompt.clone()).await, StatusCode::BAD_GATEWAY).await;
    assert_eq!(code, "ai_auth_failed");
    use_runware(&app, &user, &fake).await;
    fake.push_failure(testkit::runware::Failure::ServerError);
    let (code, _) =
        error_of(generate(&app, &user, "runware", prompt.clone()).await, StatusCode::BAD_GATEWAY).await;
    assert_eq!(code, "ai_provider_error", "a test is not retried: the person waits");

    // Credits: 402 before the provider is asked.
    let account_id = user.account_id;
    app.sql(move |conn| {
        diesel::update(accounts::table.find(account_id)).set(accounts::credits.eq(4)).execute(conn)?;
        Ok(())
    })
    .await;
    let asked = fake.tasks().len();
    let (code, _) =
        error_of(generate(&app, &user, "runware", prompt).await, StatusCode::PAYMENT_REQUIRED).await;
    assert_eq!(code, "insufficient_credits");
    assert_eq!(fake.tasks().len(), asked);
    assert!(usage(&app, user.account_id).await.is_empty(), "failed pictures cost nothing");
}

#[tokio::test]
async fn image_generation_test_without_any_key_is_drawn_offline_as_a_data_url() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let drawn = json_of(
        generate(&app, &user, "image_generation", json!({ "prompt": "A lighthouse", "shape": "landscape" }))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(drawn["provider"], "offline");
    assert!(drawn["image_url"].as_str().is_some_and(|url| url.starts_with("data:image/png;base64,")));
    assert!(drawn["width"].as_u64() > drawn["height"].as_u64(), "{}", drawn["width"]);
    assert_eq!(drawn["cost_usd"], Value::Null);
}

#[tokio::test]
async fn auto_generate_images_makes_featured_and_in_article_rows_and_one_runware_task_per_article() {
    let mut app = spawn_app().await;
    app.start_worker(Queue::Content);
    let user = app.signup().await;
    let fake = FakeRunware::start().await;
    use_runware(&app, &user, &fake).await;
    let saved = save(
        &app,
        &user,
        "image_generation",
        json!({ "provider": "runware", "max_in_article_images": 2, "image_type": "watercolour" }),
    )
    .await;
    assert_eq!(saved.status(), StatusCode::OK);
    let site_id = site(&app, &user).await;
    let (first, second) = (
        article(&app, &user, site_id, "Trail Shoes").await,
        article(&app, &user, site_id, "Road Shoes").await,
    );

    let response = app
        .post(
            "/api/v1/writer/images/auto_generate/",
            Some(&user.access),
            json!({ "ids": [first, second, first] }),
        )
        .await;
    let answer = json_of(response, StatusCode::ACCEPTED).await;
    assert_eq!(
        (answer["images_created"].as_u64(), answer["tasks_created"].as_u64()),
        (Some(6), Some(2)),
        "{answer}"
    );
    assert_eq!(answer["data"]["images_created"], 6, "also under data");
    let tasks = answer["tasks"].as_array().expect("tasks").clone();
    assert_eq!(tasks[0]["content_id"], first);
    assert_eq!(tasks[1]["content_id"], second);

    for task in &tasks {
        let done = app.wait_for_state(&user, task["task_id"].as_str().expect("id"), "SUCCESS").await;
        assert_eq!(done["result"]["succeeded"], 3, "{done}");
    }
    let rows: Vec<(String, i32, String, String)> = app
        .sql(move |conn| {
            Ok(images::table
                .filter(images::content_id.eq(first))
                .order(images::position)
                .select((images::image_type, images::position, images::prompt, images::status))
                .load(conn)?)
        })
        .await;
    let kinds: Vec<&str> = rows.iter().map(|row| row.0.as_str()).collect();
    assert_eq!(kinds, ["featured", "in_article", "in_article"], "{rows:?}");
    assert!(rows[0].2.contains("Trail Shoes") && rows[0].2.contains("trail shoes"), "{rows:?}");
    assert!(rows[1].2.contains("Grip on Rock") && rows[2].2.contains("Drop & Stack"), "{rows:?}");
    assert!(rows.iter().all(|row| row.2.ends_with("Style: watercolour.") && row.3 == "generated"));
    assert_eq!(fake.tasks().len(), 6, "every picture through Runware");

    // Each task's charge carries Runware's own price: 3 pictures × 0.0013.
    let rows = usage(&app, user.account_id).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|row| row.1 == 15 && row.2 == Decimal::new(39, 4)), "{rows:?}");
}

#[tokio::test]
async fn auto_generate_images_is_tenant_scoped_idempotent_and_checked() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let site_id = site(&app, &user).await;
    let mine = article(&app, &user, site_id, "Mine").await;
    let other = app.signup().await;
    let other_site = site(&app, &other).await;
    let theirs = article(&app, &other, other_site, "Theirs").await;
    let path = "/api/v1/writer/images/auto_generate/";

    let (_, errors) = error_of(
        app.post(path, Some(&user.access), json!({ "ids": [mine, theirs] })).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(errors["ids"][0].as_str().is_some_and(|m| m.contains(&theirs.to_string())), "{errors}");
    for body in
        [json!({}), json!({ "ids": [] }), json!({ "ids": ["x"] }), json!({ "ids": [mine], "more": 1 })]
    {
        let response = app.post(path, Some(&user.access), body.clone()).await;
        error_of(response, StatusCode::BAD_REQUEST).await;
    }
    let count = |account_id: i64| {
        app.sql(move |conn| {
            Ok(images::table.filter(images::account_id.eq(account_id)).count().get_result::<i64>(conn)?)
        })
    };
    assert_eq!((count(user.account_id).await, count(other.account_id).await), (0, 0), "nothing half-made");

    let send = || {
        app.request(reqwest::Method::POST, path, Some(&user.access))
            .header("Idempotency-Key", "auto-images-1")
            .json(&json!({ "ids": [mine] }))
            .send()
    };
    let first = json_of(send().await.expect("request"), StatusCode::ACCEPTED).await;
    let again = json_of(send().await.expect("request"), StatusCode::ACCEPTED).await;
    assert_eq!(first["tasks_created"], 1);
    assert_eq!((again["tasks_created"].as_u64(), again["images_created"].as_u64()), (Some(0), Some(0)));
    assert_eq!(again["tasks"][0]["task_id"], first["tasks"][0]["task_id"], "the same task again");
    assert_eq!(again["tasks"][0]["image_ids"], first["tasks"][0]["image_ids"]);
    assert_eq!(count(user.account_id).await, 3, "a featured image and two in-article ones by default");

    // Not enough credits for the pictures: 402, nothing written.
    let account_id = user.account_id;
    app.sql(move |conn| {
        diesel::update(accounts::table.find(account_id)).set(accounts::credits.eq(1)).execute(conn)?;
        Ok(())
    })
    .await;
    let (code, _) = error_of(
        app.post(path, Some(&user.access), json!({ "ids": [mine] })).await,
        StatusCode::PAYMENT_REQUIRED,
    )
    .await;
    assert_eq!(code, "insufficient_credits");
    assert_eq!(count(user.account_id).await, 3);
}

#[tokio::test]
async fn image_tasks_of_a_provider_chosen_without_a_key_fail_at_once_and_openai_choice_is_honoured() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let site_id = site(&app, &user).await;
    let id = article(&app, &user, site_id, "Trail Shoes").await;
    let saved = save(&app, &user, "image_generation", json!({ "provider": "runware" })).await;
    assert_eq!(saved.status(), StatusCode::OK);
    let response =
        app.post("/api/v1/writer/images/auto_generate/", Some(&user.access), json!({ "ids": [id] })).await;
    let answer = json_of(response, StatusCode::ACCEPTED).await;
    let task_id = answer["tasks"][0]["task_id"].as_str().expect("task id").to_owned();
    let failed = app.finish_failed(&user, &task_id).await;
    assert_eq!(failed["state"], "FAILURE");
    assert_eq!(failed["error"]["code"], "ai_misconfigured", "{failed}");
    assert_eq!(failed["attempts"], 1, "a missing key is not retried: {failed}");
    assert!(usage(&app, user.account_id).await.is_empty());

    // Chosen OpenAI through the account's own key: its images API draws, with the model saved.
    let openai = testkit::openai::FakeOpenAi::start().await;
    crate::writer_worker::use_fake(&app, &user, &openai).await;
    let saved =
        save(&app, &user, "image_generation", json!({ "provider": "openai", "model": "dall-e-3" })).await;
    assert_eq!(saved.status(), StatusCode::OK);
    let response =
        app.post("/api/v1/writer/images/auto_generate/", Some(&user.access), json!({ "ids": [id] })).await;
    let answer = json_of(response, StatusCode::ACCEPTED).await;
    let task_id = answer["tasks"][0]["task_id"].as_str().expect("task id").to_owned();
    app.finish(&user, &task_id).await;
    let asked: Vec<Value> = openai
        .requests()
        .into_iter()
        .filter(|request| request.path == "/v1/images/generations")
        .map(|request| request.body)
        .collect();
    assert_eq!(asked.len(), 3, "featured + two in-article");
    assert!(asked.iter().all(|body| body["model"] == "dall-e-3" && body["size"] == "1792x1024"), "{asked:?}");
}

async fn balance(app: &TestApp, account_id: i64) -> i64 {
    app.sql(move |conn| Ok(accounts::table.find(account_id).select(accounts::credits).first(conn)?)).await
}
