//! Tenant isolation over every endpoint of the OpenAPI document: each operation whose path
//! names a resource is called by another tenant with the victim's real id and must answer
//! 404, and afterwards every one of the victim's rows reads as it did before. A path
//! parameter this test does not know fails it, until it is added below as a victim's
//! resource or, with the reason, as one that is not a tenant's id.

use std::collections::BTreeMap;

use diesel::{RunQueryDsl, sql_types::BigInt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, spawn_app};

/// Path parameters that do not name a row of the caller's account, and where their
/// protection is tested instead.
const NOT_TENANT_IDS: [(&str, &str); 11] = [
    ("/api/v1/auth/industries/{id}", "the seed library is shared by every account"),
    ("/api/v1/auth/plans/{id}", "the plans on sale are the same for every account"),
    ("/api/v1/auth/seed-keywords/{id}", "the seed library is shared by every account"),
    ("/api/v1/system/prompts/by_type/{prompt_type}", "a prompt type: the caller's own text or the default"),
    (
        "/api/v1/system/settings/integrations/{integration_type}",
        "an integration type: the caller's own settings",
    ),
    ("/api/v1/odoo/{collection}", "a collection name: the caller's own mirror"),
    (
        "/api/v1/system/settings/system/{id}",
        "the installation's settings: every user reads them, only operators write; tests/api/settings.rs",
    ),
    ("/api/v1/system/settings/modules/module/{module_name}", "a module name: the caller's own settings"),
    (
        "/api/v1/system/request-metrics/{request_id}",
        "operators only (this process's requests, 403 for the rest); tests/api/request_metrics.rs",
    ),
    (
        "/api/v1/system/admin/",
        "operators only (any account's by design, 403 for the rest); tests/api/admin.rs",
    ),
    (
        "/api/v1/webhooks/{source}/{key}",
        "authenticated by the endpoint's secret and signature; tests/api/webhooks.rs",
    ),
];

/// The victim's rows, by the path prefix that names them (`<prefix>/{id}`), with a body that
/// would be a valid update.
pub struct Resource {
    pub id: String,
    update: Value,
}

/// A valid body for the operation at `<prefix>/{id}<rest>`: the row's update, or the
/// action's own body.
fn body_for(update: &Value, rest: &str) -> Value {
    match rest {
        "" => update.clone(),
        "/wordpress" => json!({ "wp_url": "https://mallory.example" }),
        "/reconnect" => json!({ "access_token": "mallory-token" }),
        "/publish" => json!({ "status": "draft" }),
        "/select_sectors" => json!({ "sector_slugs": ["mallory"] }),
        _ => json!({}),
    }
}

/// Where the victim reads a row to see it unchanged: its item path, or its list where the
/// row has no item read.
fn read_path(prefix: &str, id: &str) -> String {
    match prefix {
        "/api/v1/system/webhooks" | "/api/v1/social/accounts" => format!("{prefix}/"),
        _ => format!("{prefix}/{id}"),
    }
}

async fn created(app: &TestApp, user: &TestUser, path: &str, body: Value) -> i64 {
    let response = app.post(path, Some(&user.access), body).await;
    let status = response.status();
    let answer: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{path}: {answer}");
    answer["data"]["id"].as_i64().expect("id")
}

/// One of each of the victim's resources (the site-owned ones all on the victim's first site).
pub async fn victims_rows(app: &TestApp, victim: &TestUser) -> BTreeMap<&'static str, Resource> {
    let mut rows = BTreeMap::new();
    let mut add = |prefix: &'static str, id: String, update: Value| {
        rows.insert(prefix, Resource { id, update });
    };
    let site = created(app, victim, "/api/v1/auth/sites/", json!({ "name": "Victim site" })).await;
    add("/api/v1/auth/sites", site.to_string(), json!({ "name": "mine" }));
    let sector =
        created(app, victim, "/api/v1/auth/sectors/", json!({ "site_id": site, "name": "Shoes" })).await;
    add("/api/v1/auth/sectors", sector.to_string(), json!({ "name": "mine" }));
    let user = created(
        app,
        victim,
        "/api/v1/auth/users/",
        json!({ "email": "victim-editor@example.com", "password": "long-enough", "role": "editor" }),
    )
    .await;
    add("/api/v1/auth/users", user.to_string(), json!({ "role": "viewer" }));
    let grant =
        created(app, victim, "/api/v1/auth/site-access/", json!({ "user": user, "site": site })).await;
    add("/api/v1/auth/site-access", grant.to_string(), json!({ "site": site }));
    add("/api/v1/auth/accounts", victim.account_id.to_string(), json!({ "name": "mine" }));
    add("/api/v1/auth/subscriptions/by-account", victim.account_id.to_string(), json!({}));
    let account_id = victim.account_id;
    let subscription: i64 = app
        .sql(move |conn| {
            let starter = shared::plans::by_slug(conn, "starter")?;
            let now = chrono::Utc::now();
            let new = shared::plans::subscriptions::NewSubscription {
                account_id,
                plan_id: starter.id,
                status: shared::plans::subscriptions::SubscriptionStatus::Active,
                current_period_start: now,
                current_period_end: now + chrono::Duration::days(30),
            };
            Ok(shared::plans::subscriptions::create(conn, new)?.id)
        })
        .await;
    add("/api/v1/auth/subscriptions", subscription.to_string(), json!({ "cancel_at_period_end": true }));
    let task = app.ping(victim, json!({})).await;
    add("/api/v1/tasks", task.clone(), json!({}));
    add("/api/v1/system/settings/task_progress", task, json!({}));
    let schedule = created(
        app,
        victim,
        "/api/v1/system/schedules/",
        json!({ "name": "s", "cron": "0 3 * * *", "kind": "system.ping" }),
    )
    .await;
    add("/api/v1/system/schedules", schedule.to_string(), json!({ "enabled": false }));
    let prompt = created(
        app,
        victim,
        "/api/v1/system/prompts/",
        json!({ "prompt_type": "auto_cluster", "prompt_value": "Victim's prompt {keywords}" }),
    )
    .await;
    add("/api/v1/system/prompts", prompt.to_string(), json!({ "prompt_value": "mine" }));
    for (prefix, body) in [
        ("/api/v1/system/author-profiles", json!({ "name": "Voice" })),
        ("/api/v1/system/strategies", json!({ "name": "Plan" })),
    ] {
        let id = created(app, victim, &format!("{prefix}/"), body).await;
        add(prefix, id.to_string(), json!({ "name": "mine" }));
    }
    for (prefix, body, update) in [
        (
            "/api/v1/system/settings/account",
            json!({ "key": "timezone", "value": "Europe/Berlin" }),
            json!({ "value": "Asia/Tokyo" }),
        ),
        (
            "/api/v1/system/settings/user",
            json!({ "key": "theme", "value": "dark" }),
            json!({ "value": "light" }),
        ),
        (
            "/api/v1/system/settings/modules",
            json!({ "module": "seo", "key": "max_pages", "value": 40 }),
            json!({ "value": 5 }),
        ),
        (
            "/api/v1/system/settings/ai",
            json!({ "key": "temperature", "value": 0.2 }),
            json!({ "value": 1.5 }),
        ),
    ] {
        let id = created(app, victim, &format!("{prefix}/"), body).await;
        add(prefix, id.to_string(), update);
    }
    let webhook = created(app, victim, "/api/v1/system/webhooks/", json!({ "source": "gitea" })).await;
    add("/api/v1/system/webhooks", webhook.to_string(), json!({}));
    let cluster =
        created(app, victim, "/api/v1/planner/clusters/", json!({ "name": "C", "site_id": site })).await;
    add("/api/v1/planner/clusters", cluster.to_string(), json!({ "name": "mine" }));
    let keyword =
        created(app, victim, "/api/v1/planner/keywords/", json!({ "keyword": "secret", "site_id": site }))
            .await;
    add("/api/v1/planner/keywords", keyword.to_string(), json!({ "volume": 1 }));
    let idea =
        created(app, victim, "/api/v1/planner/ideas/", json!({ "idea_title": "Secret", "site_id": site }))
            .await;
    add("/api/v1/planner/ideas", idea.to_string(), json!({ "idea_title": "mine" }));
    let writer_task =
        created(app, victim, "/api/v1/writer/tasks/", json!({ "title": "Guide", "site_id": site })).await;
    add("/api/v1/writer/tasks", writer_task.to_string(), json!({ "title": "mine" }));
    let content = created(
        app,
        victim,
        "/api/v1/writer/content/",
        json!({ "title": "Article", "site_id": site, "html_content": "<p>Victim's words</p>" }),
    )
    .await;
    add("/api/v1/writer/content", content.to_string(), json!({ "title": "mine" }));
    let image =
        created(app, victim, "/api/v1/writer/images/", json!({ "content_id": content, "prompt": "A cup" }))
            .await;
    add("/api/v1/writer/images", image.to_string(), json!({ "prompt": "mine" }));
    let account = created(
        app,
        victim,
        "/api/v1/social/accounts/",
        json!({ "platform": "sandbox", "handle": "victim", "access_token": "victim-token" }),
    )
    .await;
    add("/api/v1/social/accounts", account.to_string(), json!({}));
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let post = created(
        app,
        victim,
        "/api/v1/social/posts/",
        json!({ "social_account_id": account, "content": "Victim's post", "scheduled_time": later }),
    )
    .await;
    add("/api/v1/social/posts", post.to_string(), json!({ "content": "mine" }));
    let transactions: Value =
        app.get("/api/v1/billing/credits/transactions/", &victim.access).await.json().await.expect("json");
    let transaction = transactions["results"][0]["id"].as_i64().expect("the sign-up grant");
    add("/api/v1/billing/credits/transactions", transaction.to_string(), json!({}));
    let (audit, usage) = rows_written_by_workers(app, victim.user_id).await;
    add("/api/v1/analytics/seo/audits", audit.to_string(), json!({}));
    add("/api/v1/billing/credits/usage", usage.to_string(), json!({}));
    rows
}

#[derive(diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// An audit and a usage record, as the workers write them (no outside site or AI call needed).
async fn rows_written_by_workers(app: &TestApp, user_id: i64) -> (i64, i64) {
    app.sql(move |conn| {
        let audit: Id = diesel::sql_query(
            "INSERT INTO seo_audits (account_id, task_id, url, final_url, host, keywords, score, \
                 category_scores, issue_ids, issues, pages_audited, report) \
             SELECT account_id, gen_random_uuid(), 'https://victim.example/', 'https://victim.example/', \
                 'victim.example', '[]', 80, '{}', '[]', 0, 1, '{}' FROM users WHERE id = $1 RETURNING id",
        )
        .bind::<BigInt, _>(user_id)
        .get_result(conn)?;
        let usage: Id = diesel::sql_query(
            "INSERT INTO credit_usage_logs (account_id, operation_type, credits_used, cost_usd, model_used, \
                 tokens_input, tokens_output, units) \
             SELECT account_id, 'clustering', 1, 0.0, 'offline', 10, 10, 1 FROM users WHERE id = $1 RETURNING id",
        )
        .bind::<BigInt, _>(user_id)
        .get_result(conn)?;
        Ok((audit.id, usage.id))
    })
    .await
}

/// Every operation of the document whose path has a parameter: (method, path template).
async fn operations_with_ids(app: &TestApp) -> Vec<(Method, String)> {
    let doc = app.openapi_document().await;
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if !path.contains('{') {
            continue;
        }
        for method in item.as_object().expect("item").keys() {
            operations.push((method.to_uppercase().parse().expect("method"), path.clone()));
        }
    }
    operations
}

/// What the victim reads at each item path now.
pub async fn snapshot(
    app: &TestApp,
    victim: &TestUser,
    rows: &BTreeMap<&str, Resource>,
) -> BTreeMap<String, Value> {
    let mut seen = BTreeMap::new();
    for (prefix, row) in rows {
        let path = read_path(prefix, &row.id);
        let response = app.get(&path, &victim.access).await;
        assert_eq!(response.status(), StatusCode::OK, "the victim reads {path}");
        seen.insert(path, response.json().await.expect("json"));
    }
    seen
}

/// What probing found: operations under no known prefix, operations that did not answer 404,
/// and how many were called.
pub struct Probed {
    pub unknown: Vec<String>,
    pub leaks: Vec<String>,
    pub probed: usize,
}

/// Calls, as `caller`, every operation of the document whose path names one of `rows` by id
/// (under a prefix `covers` accepts), with the victim's real id and a valid body.
pub async fn probe(
    app: &TestApp,
    rows: &BTreeMap<&str, Resource>,
    caller: &TestUser,
    covers: impl Fn(&str) -> bool,
) -> Probed {
    let mut found = Probed { unknown: Vec::new(), leaks: Vec::new(), probed: 0 };
    for (method, template) in operations_with_ids(app).await {
        if NOT_TENANT_IDS.iter().any(|(prefix, _)| template.starts_with(prefix)) {
            continue;
        }
        let Some((prefix, row)) =
            rows.iter().find(|(prefix, _)| template.starts_with(&format!("{prefix}/{{")))
        else {
            found.unknown.push(format!("{method} {template}"));
            continue;
        };
        if !covers(prefix) {
            continue;
        }
        let rest = template[prefix.len() + 1..].split_once('}').map_or("", |(_, rest)| rest);
        let path = format!("{prefix}/{}{rest}/", row.id);
        let mut request = app.request(method.clone(), &path, Some(&caller.access));
        if method != Method::GET && method != Method::DELETE {
            request = request.json(&body_for(&row.update, rest));
        }
        let status = request.send().await.expect("request").status();
        found.probed += 1;
        if status != StatusCode::NOT_FOUND {
            found.leaks.push(format!("{method} {path} answered {status}"));
        }
    }
    found
}

#[tokio::test]
async fn every_endpoint_answers_404_for_another_tenants_ids_and_changes_nothing() {
    let app = spawn_app().await;
    let victim = app.signup().await;
    let mallory = app.signup().await;
    let rows = victims_rows(&app, &victim).await;
    let before = snapshot(&app, &victim, &rows).await;

    let Probed { unknown, leaks, probed } = probe(&app, &rows, &mallory, |_| true).await;
    assert!(unknown.is_empty(), "path parameters this test does not know:\n{}", unknown.join("\n"));
    assert!(leaks.is_empty(), "another tenant's ids not answered 404:\n{}", leaks.join("\n"));
    assert!(probed >= 80, "only {probed} operations probed");

    let after = snapshot(&app, &victim, &rows).await;
    for (path, seen) in &before {
        assert_eq!(&after[path], seen, "{path} changed");
    }
}
