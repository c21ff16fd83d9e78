//! The planner's AI tasks end to end: HTTP in, the real `worker-clustering` handlers, the
//! real database and broker, and (where a provider is configured) a fake OpenAI-compatible
//! server speaking the real protocol.

use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::{
    db::schema::{accounts, clusters, credit_usage_logs, keywords, outbox},
    messaging::CommandMessage,
    tasks::Queue,
};
use testkit::openai::{Failure, FakeOpenAi, RetryAfter};

use crate::helpers::{TestApp, TestUser, error_of, spawn_app};

/// Keywords of three plain topics, as a CSV upload.
const KEYWORDS_CSV: &str = "keyword,volume,difficulty,intent\n\
best running shoes,9000,60,commercial\n\
running shoes for flat feet,2000,40,commercial\n\
trail running shoes,1500,35,commercial\n\
cheap running shoes,1200,30,transactional\n\
running shoes for women,3000,45,commercial\n\
how to make cold brew coffee,5000,30,informational\n\
cold brew coffee ratio,1800,20,informational\n\
best coffee beans for cold brew,900,35,commercial\n\
cold brew coffee maker,2500,40,commercial\n\
iced coffee vs cold brew coffee,1100,25,informational\n\
mortgage refinance rates,8000,70,transactional\n\
should i refinance my mortgage,2200,50,informational\n\
refinance mortgage calculator,4000,60,transactional\n\
cash out mortgage refinance,1600,55,informational\n\
mortgage refinance closing costs,1300,45,informational\n";

async fn site(app: &TestApp, user: &TestUser) -> i64 {
    let response =
        app.post("/api/v1/auth/sites/", Some(&user.access), json!({ "name": "Planner site" })).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.expect("json");
    body["data"]["id"].as_i64().expect("site id")
}

pub(crate) async fn import(app: &TestApp, user: &TestUser, site_id: i64) {
    let response = app
        .request(
            Method::POST,
            &format!("/api/v1/planner/keywords/import_keywords/?site_id={site_id}"),
            Some(&user.access),
        )
        .header("Content-Type", "text/csv")
        .body(KEYWORDS_CSV)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap_or_default());
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["data"]["imported_count"], 15, "{body}");
}

/// Posts a command and returns its task id, checking the 202.
async fn command(app: &TestApp, user: &TestUser, path: &str, body: Value) -> String {
    let response = app.post(path, Some(&user.access), body).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED, "{}", response.text().await.unwrap_or_default());
    let body: Value = response.json().await.expect("json");
    body["task_id"].as_str().expect("task id").to_owned()
}

async fn balance(app: &TestApp, account_id: i64) -> i64 {
    app.sql(move |conn| Ok(accounts::table.find(account_id).select(accounts::credits).first(conn)?)).await
}

async fn usage_rows(app: &TestApp, account_id: i64) -> Vec<(String, i64, i32)> {
    app.sql(move |conn| {
        Ok(credit_usage_logs::table
            .filter(credit_usage_logs::account_id.eq(account_id))
            .order(credit_usage_logs::id)
            .select((
                credit_usage_logs::operation_type,
                credit_usage_logs::credits_used,
                credit_usage_logs::tokens_input,
            ))
            .load(conn)?)
    })
    .await
}

/// The site's clusters as (id, name, keywords_count), and each keyword's cluster.
async fn clustering_of(app: &TestApp, site_id: i64) -> (Vec<(i64, String, i32)>, Vec<(String, Option<i64>)>) {
    app.sql(move |conn| {
        let found = clusters::table
            .filter(clusters::site_id.eq(site_id))
            .order(clusters::id)
            .select((clusters::id, clusters::name, clusters::keywords_count))
            .load(conn)?;
        let assigned = keywords::table
            .filter(keywords::site_id.eq(site_id))
            .order(keywords::keyword)
            .select((keywords::keyword, keywords::cluster_id))
            .load(conn)?;
        Ok((found, assigned))
    })
    .await
}

fn cluster_of(assigned: &[(String, Option<i64>)], keyword: &str) -> Option<i64> {
    assigned.iter().find(|(text, _)| text == keyword).and_then(|(_, cluster)| *cluster)
}

#[tokio::test]
async fn import_cluster_name_generate_ideas_and_queue_to_writer_offline() {
    let mut app = spawn_app().await;
    app.start_worker(Queue::Clustering);
    let user = app.signup().await;
    let site_id = site(&app, &user).await;
    import(&app, &user, site_id).await;
    let before = balance(&app, user.account_id).await;

    let task_id =
        command(&app, &user, "/api/v1/planner/keywords/auto_cluster/", json!({ "site_id": site_id })).await;
    let task = app.wait_for_state(&user, &task_id, "SUCCESS").await;
    assert_eq!(task["result"]["keywords_clustered"], 15, "{task}");
    assert_eq!(task["result"]["mode"], "semantic");
    assert_eq!(task["result"]["naming_model"], "offline");

    let (found, assigned) = clustering_of(&app, site_id).await;
    assert_eq!(found.len(), 3, "three topics make three clusters: {found:?}");
    assert_eq!(found.iter().map(|c| c.2).sum::<i32>(), 15);
    assert!(assigned.iter().all(|(_, cluster)| cluster.is_some()));
    // Each topic lands in one cluster of its own.
    let shoes = cluster_of(&assigned, "best running shoes");
    let coffee = cluster_of(&assigned, "cold brew coffee maker");
    let mortgage = cluster_of(&assigned, "mortgage refinance rates");
    assert_eq!(cluster_of(&assigned, "cheap running shoes"), shoes);
    assert_eq!(cluster_of(&assigned, "iced coffee vs cold brew coffee"), coffee);
    assert_eq!(cluster_of(&assigned, "cash out mortgage refinance"), mortgage);
    assert!(shoes != coffee && coffee != mortgage && shoes != mortgage);
    // 15 keywords cost 2 credits (1 per 10 begun).
    assert_eq!(balance(&app, user.account_id).await, before - 2);

    // The cluster API shows names and totals.
    let response =
        app.get(&format!("/api/v1/planner/clusters/?site_id={site_id}&ordering=-volume"), &user.access).await;
    let listed: Value = response.json().await.expect("json");
    assert_eq!(listed["count"], 3, "{listed}");
    let first = &listed["results"][0];
    assert!(!first["name"].as_str().unwrap_or_default().is_empty());
    assert!(first["intent"].is_string());

    // Re-running on the same keywords lands on the same clusters.
    let again =
        command(&app, &user, "/api/v1/planner/keywords/auto_cluster/", json!({ "site_id": site_id })).await;
    app.wait_for_state(&user, &again, "SUCCESS").await;
    let (found_again, assigned_again) = clustering_of(&app, site_id).await;
    assert_eq!(found_again, found);
    assert_eq!(assigned_again, assigned);

    // Ideas for one cluster, then queued to the writer.
    let shoes = shoes.expect("clustered");
    let ideas_task = command(
        &app,
        &user,
        "/api/v1/planner/clusters/auto_generate_ideas/",
        json!({ "ids": [shoes], "ideas_per_cluster": 3 }),
    )
    .await;
    let done = app.wait_for_state(&user, &ideas_task, "SUCCESS").await;
    assert_eq!(done["result"]["ideas_created"], 3, "{done}");
    let response = app.get(&format!("/api/v1/planner/ideas/?cluster_id={shoes}"), &user.access).await;
    let ideas: Value = response.json().await.expect("json");
    assert_eq!(ideas["count"], 3, "{ideas}");
    let idea_ids: Vec<i64> =
        ideas["results"].as_array().expect("list").iter().filter_map(|i| i["id"].as_i64()).collect();
    assert!(ideas["results"][0]["outline"].as_array().is_some_and(|outline| outline.len() >= 4));
    let response = app
        .post("/api/v1/planner/ideas/bulk_queue_to_writer/", Some(&user.access), json!({ "ids": idea_ids }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let queued: Value = response.json().await.expect("json");
    assert_eq!(queued["data"]["tasks_created"], 3, "{queued}");

    let operations: Vec<String> =
        usage_rows(&app, user.account_id).await.into_iter().map(|row| row.0).collect();
    assert_eq!(operations, ["clustering", "clustering", "ideas"]);
    assert_eq!(balance(&app, user.account_id).await, before - 2 - 2 - 6);
}

#[tokio::test]
async fn lexical_mode_honours_a_requested_cluster_count() {
    let mut app = spawn_app().await;
    app.start_worker(Queue::Clustering);
    let user = app.signup().await;
    let site_id = site(&app, &user).await;
    import(&app, &user, site_id).await;
    let task_id = command(
        &app,
        &user,
        "/api/v1/planner/keywords/auto_cluster/",
        json!({ "site_id": site_id, "mode": "lexical", "cluster_count": 5 }),
    )
    .await;
    let task = app.wait_for_state(&user, &task_id, "SUCCESS").await;
    assert_eq!(task["result"]["clusters_count"], 5, "{task}");
    assert_eq!(task["result"]["embedding_model"], "lexical");
    let (found, _) = clustering_of(&app, site_id).await;
    assert_eq!(found.len(), 5);
}

#[tokio::test]
async fn a_redelivered_task_is_charged_once() {
    let mut app = spawn_app().await;
    app.start_worker(Queue::Clustering);
    let user = app.signup().await;
    let site_id = site(&app, &user).await;
    import(&app, &user, site_id).await;
    let task_id =
        command(&app, &user, "/api/v1/planner/keywords/auto_cluster/", json!({ "site_id": site_id })).await;
    app.wait_for_state(&user, &task_id, "SUCCESS").await;
    let balance_after_first = balance(&app, user.account_id).await;

    // The broker delivers the same command again (as after a lost acknowledgement).
    let id: uuid::Uuid = task_id.parse().expect("uuid");
    let account_id = user.account_id;
    app.sql(move |conn| {
        let message = CommandMessage::new(
            id,
            <shared::tasks::AutoCluster as shared::tasks::TaskKind>::NAME,
            account_id,
        );
        diesel::insert_into(outbox::table)
            .values((
                outbox::task_id.eq(id),
                outbox::routing_key.eq("clustering"),
                outbox::body.eq(serde_json::to_value(&message)?),
            ))
            .execute(conn)?;
        Ok(())
    })
    .await;
    // A ping queued behind the duplicate finishes after it was taken off the queue.
    let ping = app.ping(&user, json!({ "queue": "clustering", "steps": 1 })).await;
    app.wait_for_state(&user, &ping, "SUCCESS").await;
    testkit::eventually(std::time::Duration::from_secs(20), "the duplicate to leave the outbox", || async {
        let left: i64 = app
            .sql(move |conn| Ok(outbox::table.filter(outbox::task_id.eq(id)).count().get_result(conn)?))
            .await;
        (left == 0).then_some(())
    })
    .await;

    assert_eq!(balance(&app, user.account_id).await, balance_after_first);
    assert_eq!(usage_rows(&app, user.account_id).await.len(), 1);
    let task = app.task(&user, &task_id).await;
    assert_eq!(task["attempts"], 1, "{task}");
}

#[tokio::test]
async fn without_enough_credits_nothing_is_enqueued_or_done() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let site_id = site(&app, &user).await;
    import(&app, &user, site_id).await;
    let account_id = user.account_id;
    app.sql(move |conn| {
        diesel::update(accounts::table.find(account_id)).set(accounts::credits.eq(1)).execute(conn)?;
        Ok(())
    })
    .await;

    // Up front: 402 and no task.
    let response = app
        .post("/api/v1/planner/keywords/auto_cluster/", Some(&user.access), json!({ "site_id": site_id }))
        .await;
    let (code, _) = error_of(response, StatusCode::PAYMENT_REQUIRED).await;
    assert_eq!(code, "insufficient_credits");

    // At run time: the balance fell after the task was accepted.
    app.sql(move |conn| {
        diesel::update(accounts::table.find(account_id)).set(accounts::credits.eq(2)).execute(conn)?;
        Ok(())
    })
    .await;
    let task_id =
        command(&app, &user, "/api/v1/planner/keywords/auto_cluster/", json!({ "site_id": site_id })).await;
    app.sql(move |conn| {
        diesel::update(accounts::table.find(account_id)).set(accounts::credits.eq(1)).execute(conn)?;
        Ok(())
    })
    .await;
    let task = app.finish_failed(&user, &task_id).await;
    assert_eq!(task["error"]["code"], "insufficient_credits", "{task}");
    let (found, _) = clustering_of(&app, site_id).await;
    assert!(found.is_empty());
    assert_eq!(balance(&app, account_id).await, 1);

    // The tenant's own reason: FAILURE with its code, and nothing for the operators. The
    // drain has published whatever it dead-lettered before returning.
    app.sql(move |conn| {
        diesel::update(accounts::table.find(account_id)).set(accounts::is_system.eq(true)).execute(conn)?;
        Ok(())
    })
    .await;
    let letters: Value = app
        .get("/api/v1/system/admin/dead-letters/clustering/", &user.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(letters["count"], 0, "not dead-lettered: {letters}");
}

/// Names every cluster the prompt lists as "Fake <first keyword>", intent commercial.
fn fake_namer(body: &Value) -> String {
    let prompt =
        body["messages"].as_array().and_then(|m| m.last()).and_then(|m| m["content"].as_str()).unwrap_or("");
    let clusters: Vec<Value> = prompt
        .lines()
        .filter_map(|line| {
            let (id, keywords) = line.split_once(": ")?;
            let id: usize = id.trim().parse().ok()?;
            let first = keywords.split(", ").next()?;
            Some(json!({ "id": id, "name": format!("Fake {first}"), "description": "d", "intent": "commercial" }))
        })
        .collect();
    json!({ "clusters": clusters }).to_string()
}

#[tokio::test]
async fn an_account_provider_clusters_and_names_through_the_openai_protocol() {
    let fake = FakeOpenAi::start().await;
    let mut app = spawn_app().await;
    app.start_worker(Queue::Clustering);
    let user = app.signup().await;
    let site_id = site(&app, &user).await;
    import(&app, &user, site_id).await;

    // Settings: the key is sealed and only ever shown masked.
    let response = app
        .post(
            "/api/v1/system/settings/integrations/openai/save/",
            Some(&user.access),
            json!({ "config": { "apiKey": fake.api_key(), "base_url": fake.base_url(), "model": "gpt-4o-mini" }, "is_active": true }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let saved: Value = response.json().await.expect("json");
    let shown = saved["integration"]["config"]["apiKey"].as_str().expect("masked key").to_owned();
    assert_ne!(shown, fake.api_key());
    assert!(!saved.to_string().contains(fake.api_key()));
    let stored: Vec<u8> = app
        .sql(|conn| {
            use shared::db::schema::integration_settings as s;
            Ok(s::table.select(s::secret).first::<Option<Vec<u8>>>(conn)?.unwrap_or_default())
        })
        .await;
    assert!(!stored.windows(fake.api_key().len()).any(|w| w == fake.api_key().as_bytes()));

    // The test action really calls the provider.
    let response =
        app.post("/api/v1/system/settings/integrations/openai/test/", Some(&user.access), json!({})).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap_or_default());
    assert!(fake.count("/v1/models") + fake.count("/v1/chat/completions") >= 1);

    // Another account sees none of it.
    let other = app.signup().await;
    let body: Value = app
        .get("/api/v1/system/settings/integrations/openai/", &other.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(body["data"]["has_api_key"], false, "{body}");

    // The account's own naming prompt is the one sent.
    let response = app
        .post(
            "/api/v1/system/prompts/save/",
            Some(&user.access),
            json!({ "prompt_type": "auto_cluster", "prompt_value": "Our house style. Groups:\n{clusters}" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    // Clustering uses its embeddings and its names; a 429 on the way is waited out.
    fake.answer_with(fake_namer);
    fake.push_failure(Failure::RateLimited { retry_after: Some(RetryAfter::Seconds(1)) });
    let task_id =
        command(&app, &user, "/api/v1/planner/keywords/auto_cluster/", json!({ "site_id": site_id })).await;
    let task = app.wait_for_state(&user, &task_id, "SUCCESS").await;
    assert_eq!(task["result"]["embedding_model"], "text-embedding-3-small", "{task}");
    assert_eq!(task["result"]["naming_model"], "gpt-4o-mini");
    assert!(fake.count("/v1/embeddings") >= 1);
    let (found, _) = clustering_of(&app, site_id).await;
    assert!(!found.is_empty());
    assert!(found.iter().all(|(_, name, _)| name.starts_with("Fake ")), "{found:?}");
    let chats: Vec<Value> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .map(|r| r.body)
        .collect();
    assert!(
        chats.iter().any(|body| body.to_string().contains("Our house style. Groups:")),
        "the account's prompt is used"
    );
    let usage = usage_rows(&app, user.account_id).await;
    assert_eq!(usage.len(), 1);
    assert!(usage[0].2 > 0, "provider tokens are recorded: {usage:?}");

    // A rejected key: the test answers 502 with the provider's reason.
    let response = app
        .post(
            "/api/v1/system/settings/integrations/openai/save/",
            Some(&user.access),
            json!({ "config": { "apiKey": "sk-wrong-key-0000000000" } }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response =
        app.post("/api/v1/system/settings/integrations/openai/test/", Some(&user.access), json!({})).await;
    let (code, _) = error_of(response, StatusCode::BAD_GATEWAY).await;
    assert_eq!(code, "ai_auth_failed");
}

#[tokio::test]
async fn prompts_fall_back_to_defaults_and_reset() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let response = app.get("/api/v1/system/prompts/by_type/auto_cluster/", &user.access).await;
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["data"]["is_default"], true);
    let default_text = body["data"]["prompt_value"].as_str().expect("text").to_owned();

    let response = app
        .post(
            "/api/v1/system/prompts/save/",
            Some(&user.access),
            json!({ "prompt_type": "auto_cluster", "prompt_value": "Name these: {clusters}" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = app
        .get("/api/v1/system/prompts/by_type/auto_cluster/", &user.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(body["data"]["prompt_value"], "Name these: {clusters}");
    assert_eq!(body["data"]["is_default"], false);

    let response = app
        .post("/api/v1/system/prompts/reset/", Some(&user.access), json!({ "prompt_type": "auto_cluster" }))
        .await;
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["prompt"]["prompt_value"], default_text);

    // Another account neither sees nor reaches this account's prompts.
    let response = app
        .post(
            "/api/v1/system/prompts/",
            Some(&user.access),
            json!({ "prompt_type": "generate_ideas", "prompt_value": "Ideas for {cluster_name}" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.expect("json");
    let prompt_id = created["data"]["id"].as_i64().expect("id");
    let other = app.signup().await;
    error_of(
        app.get(&format!("/api/v1/system/prompts/{prompt_id}/"), &other.access).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let listed: Value = app.get("/api/v1/system/prompts/", &other.access).await.json().await.expect("json");
    assert_eq!(listed["count"], 0);
    let theirs: Value = app
        .get("/api/v1/system/prompts/by_type/generate_ideas/", &other.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(theirs["data"]["is_default"], true);

    let response = app.get("/api/v1/system/prompts/by_type/nonsense/", &user.access).await;
    let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
    assert!(errors["prompt_type"].is_array());
    let response = app
        .post(
            "/api/v1/system/prompts/save/",
            Some(&user.access),
            json!({ "prompt_type": "auto_cluster", "prompt_value": " " }),
        )
        .await;
    let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
    assert!(errors["prompt_value"].is_array());
}

#[tokio::test]
async fn credits_endpoints_show_balance_usage_and_transactions() {
    let mut app = spawn_app().await;
    app.start_worker(Queue::Clustering);
    let user = app.signup().await;
    let site_id = site(&app, &user).await;
    import(&app, &user, site_id).await;
    let task_id =
        command(&app, &user, "/api/v1/planner/keywords/auto_cluster/", json!({ "site_id": site_id })).await;
    app.wait_for_state(&user, &task_id, "SUCCESS").await;

    let body: Value =
        app.get("/api/v1/billing/credits/balance/balance/", &user.access).await.json().await.expect("json");
    assert_eq!(body["data"]["credits"], 998, "{body}");
    assert_eq!(body["data"]["credits_used_this_month"], 2);

    let body: Value = app
        .get("/api/v1/billing/credits/usage/?operation_type=clustering", &user.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(body["count"], 1, "{body}");
    assert_eq!(body["results"][0]["credits_used"], 2);
    let body: Value = app
        .get("/api/v1/billing/credits/usage/?operation_type=images", &user.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(body["count"], 0);

    let body: Value =
        app.get("/api/v1/billing/credits/usage/summary/", &user.access).await.json().await.expect("json");
    assert_eq!(body["data"]["total_credits_used"], 2, "{body}");
    assert_eq!(body["data"]["by_operation"]["clustering"], 2);

    let body: Value =
        app.get("/api/v1/billing/credits/usage/limits/", &user.access).await.json().await.expect("json");
    assert_eq!(body["data"]["current_usage"]["keywords"], 15, "{body}");
    assert_eq!(body["data"]["plan"], "free");
    assert_eq!(body["data"]["plan_limits"]["max_keywords"], 2_000, "the free plan's");

    let body: Value =
        app.get("/api/v1/billing/credits/transactions/", &user.access).await.json().await.expect("json");
    let types: Vec<&str> = body["results"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|t| t["transaction_type"].as_str())
        .collect();
    assert_eq!(types, ["deduction", "subscription"], "{body}");
    assert_eq!(body["results"][0]["balance_after"], 998);

    // Bad filters name the parameter; another account sees nothing of this one.
    let response = app.get("/api/v1/billing/credits/usage/?operation_type=magic", &user.access).await;
    let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
    assert!(errors["operation_type"].is_array());
    let response = app.get("/api/v1/billing/credits/usage/?start_date=2026-02-30", &user.access).await;
    let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
    assert!(errors["start_date"].is_array(), "{errors}");
    let response = app
        .get("/api/v1/billing/credits/transactions/?start_date=2026-03-02&end_date=2026-03-01", &user.access)
        .await;
    let empty: Value = response.json().await.expect("json");
    assert_eq!(empty["count"], 0, "an end before the start is an empty range");
    let other = app.signup().await;
    let body: Value =
        app.get("/api/v1/billing/credits/usage/", &other.access).await.json().await.expect("json");
    assert_eq!(body["count"], 0);
    let usage_id = usage_rows_ids(&app, user.account_id).await[0];
    let response = app.get(&format!("/api/v1/billing/credits/usage/{usage_id}/"), &other.access).await;
    error_of(response, StatusCode::NOT_FOUND).await;
}

async fn usage_rows_ids(app: &TestApp, account_id: i64) -> Vec<i64> {
    app.sql(move |conn| {
        Ok(credit_usage_logs::table
            .filter(credit_usage_logs::account_id.eq(account_id))
            .select(credit_usage_logs::id)
            .load(conn)?)
    })
    .await
}

#[tokio::test]
async fn a_tenant_base_url_cannot_reach_inside_addresses() {
    let fake = FakeOpenAi::start().await;
    let app = spawn_app().await;
    let user = app.signup().await;
    let save = |base_url: String| {
        app.post(
            "/api/v1/system/settings/integrations/openai/save/",
            Some(&user.access),
            json!({ "config": { "apiKey": fake.api_key(), "base_url": base_url } }),
        )
    };

    // Literal inside addresses are refused when saved.
    for inside in
        ["http://169.254.169.254/latest/meta-data", "http://10.0.0.7:11434/v1", "http://[::1]:8080/v1"]
    {
        let (_, errors) = error_of(save(inside.to_owned()).await, StatusCode::BAD_REQUEST).await;
        assert!(errors["config.base_url"].is_array(), "{inside}: {errors}");
    }

    // A name that resolves to loopback (not on the allow-list) is refused when resolved,
    // before any connection: the fake server behind it never hears from us.
    let port = fake.base_url().rsplit(':').next().and_then(|rest| rest.split('/').next()).expect("port");
    assert_eq!(save(format!("http://localhost:{port}/v1")).await.status(), StatusCode::OK);
    let response =
        app.post("/api/v1/system/settings/integrations/openai/test/", Some(&user.access), json!({})).await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(body["error"].as_str().is_some_and(|error| error.contains("refused")), "{body}");
    assert!(fake.requests().is_empty(), "no request may reach the inside address");
}

#[tokio::test]
async fn a_repeated_command_answers_its_task_even_when_credits_ran_out_since() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let site_id = site(&app, &user).await;
    import(&app, &user, site_id).await;
    let send = || {
        app.request(reqwest::Method::POST, "/api/v1/planner/keywords/auto_cluster/", Some(&user.access))
            .header("Idempotency-Key", "cluster-once")
            .json(&json!({ "site_id": site_id }))
            .send()
    };
    let first = send().await.expect("request");
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let first: serde_json::Value = first.json().await.expect("json");
    let account_id = user.account_id;
    app.sql(move |conn| {
        diesel::update(accounts::table.find(account_id)).set(accounts::credits.eq(0)).execute(conn)?;
        Ok(())
    })
    .await;

    let repeat = send().await.expect("request");
    assert_eq!(repeat.status(), StatusCode::ACCEPTED, "a retry is not a new purchase");
    let repeat: serde_json::Value = repeat.json().await.expect("json");
    assert_eq!(repeat["task_id"], first["task_id"]);
    let fresh = app
        .post("/api/v1/planner/keywords/auto_cluster/", Some(&user.access), json!({ "site_id": site_id }))
        .await;
    assert_eq!(error_of(fresh, StatusCode::PAYMENT_REQUIRED).await.0, "insufficient_credits");
}
