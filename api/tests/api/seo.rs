//! SEO audits end to end: the HTTP command, the real `worker-seo` handler, the real database
//! and broker, and the fake site on 127.0.0.1 as the audited website.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::net::OutboundGuard;
use testkit::{openai::FakeOpenAi, site::FakeSite};

use crate::{
    helpers::{TestApp, TestUser, error_of, spawn_app, spawn_app_with},
    writer_worker::{balance, site, use_fake},
};

async fn audit(app: &TestApp, user: &TestUser, body: Value) -> String {
    let response = app.post("/api/v1/analytics/seo/audit/", Some(&user.access), body).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED, "{}", response.text().await.unwrap_or_default());
    let body: Value = response.json().await.expect("json");
    body["task_id"].as_str().expect("task id").to_owned()
}

async fn get(app: &TestApp, user: &TestUser, path: &str) -> Value {
    let response = app.get(path, &user.access).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.expect("json")
}

#[tokio::test]
async fn an_audit_with_crawl_and_competitors_is_reported_and_charged() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let site_id = site(&app, &user).await;
    let website = FakeSite::start().await;
    let before = balance(&app, user.account_id).await;

    let task_id = audit(
        &app,
        &user,
        json!({
            "url": website.url("/good"),
            "keywords": ["running shoes", "trail shoes"],
            "competitors": [website.url("/bare"), website.url("/missing-page-of-a-rival")],
            "site_id": site_id,
            "crawl": { "max_pages": 3 },
        }),
    )
    .await;
    let task = app.finish(&user, &task_id).await;
    let result = &task["result"];
    // /good links to /about only, which links back: the crawl ends at two pages.
    assert_eq!(result["pages_audited"], 2, "{task}");
    // 2 pages crawled and 2 competitor pages fetched (the rival's 404 page is still a page).
    assert_eq!(result["credits_charged"], 4);
    assert_eq!(balance(&app, user.account_id).await, before - 4);

    let audit_id = result["audit_id"].as_i64().expect("audit id");
    let listed = get(&app, &user, "/api/v1/analytics/seo/audits/").await;
    assert_eq!(listed["count"], 1, "{listed}");
    assert_eq!(listed["results"][0]["id"], audit_id);
    assert_eq!(listed["results"][0]["site_id"], site_id);

    let full = get(&app, &user, &format!("/api/v1/analytics/seo/audits/{audit_id}/")).await;
    let report = &full["data"]["report"];
    assert_eq!(report["page"]["final_url"], website.url("/good"));
    let checks = report["page"]["checks"].as_array().expect("checks");
    assert!(checks.iter().any(|c| c["id"] == "keyword:trail shoes" && c["status"] == "fail"));
    assert!(checks.iter().all(|c| c["evidence"].is_null() || !c["id"].as_str().unwrap_or("").is_empty()));
    assert_eq!(report["crawl"]["pages"].as_array().expect("pages").len(), 2);
    assert!(
        report["crawl"]["findings"]["orphan_pages"]
            .as_array()
            .expect("orphans")
            .contains(&json!(website.url("/orphan")))
    );
    let competitors = report["competitors"].as_array().expect("competitors");
    assert_eq!(competitors.len(), 3, "the page itself, then each competitor");
    assert!(competitors[0]["score"].as_i64() > competitors[1]["score"].as_i64());
    assert_eq!(competitors[0]["keyword_coverage"], 0.5);
    assert_eq!(competitors[0]["structured_data"], json!(["Article"]));
    assert!(report["recommendations"].as_array().is_some_and(|r| !r.is_empty()));
    assert_eq!(report["plan_source"], "rules", "offline, the rules write the plan");
    assert!(report["plan"][0]["action"].is_string());

    // Another account sees none of it.
    assert!(app.proxy.refused().is_empty(), "{:?}", app.proxy.refused());
    let other = app.signup().await;
    let response = app.get(&format!("/api/v1/analytics/seo/audits/{audit_id}/"), &other.access).await;
    error_of(response, StatusCode::NOT_FOUND).await;
    assert_eq!(get(&app, &other, "/api/v1/analytics/seo/audits/").await["count"], 0);
}

#[tokio::test]
async fn history_shows_scores_and_the_issues_opened_and_fixed_between_audits() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let site_id = site(&app, &user).await;
    let website = FakeSite::start().await;

    for path in ["/bare", "/good", "/no-title"] {
        let task_id = audit(&app, &user, json!({ "url": website.url(path), "site_id": site_id })).await;
        app.finish(&user, &task_id).await;
    }
    let today = chrono::Utc::now().date_naive();
    let metrics =
        get(&app, &user, &format!("/api/v1/analytics/seo/?start_date={today}&end_date={today}")).await;
    let sites = metrics["data"]["sites"].as_array().expect("sites");
    assert_eq!(sites.len(), 1, "{metrics}");
    let history = sites[0]["history"].as_array().expect("history");
    assert_eq!(history.len(), 3);
    assert!(history[0]["opened"].is_null(), "the first audit has nothing to compare with");
    let fixed: Vec<&str> =
        history[1]["fixed"].as_array().expect("fixed").iter().filter_map(Value::as_str).collect();
    assert!(fixed.contains(&"lang") && fixed.contains(&"viewport"), "{fixed:?}");
    let opened: Vec<&str> =
        history[2]["opened"].as_array().expect("opened").iter().filter_map(Value::as_str).collect();
    assert!(opened.contains(&"title"), "{opened:?}");
    assert!(history[1]["score"].as_i64() > history[0]["score"].as_i64());

    let score = get(&app, &user, "/api/v1/marketing/seo-score/").await;
    let latest = &score["data"]["sites"][0];
    assert_eq!(latest["site_id"], site_id);
    assert_eq!(latest["score"], history[2]["score"]);
    assert_eq!(
        latest["change"].as_i64(),
        Some(history[2]["score"].as_i64().expect("score") - history[1]["score"].as_i64().expect("score"))
    );
    assert_eq!(score["data"]["score"], latest["score"]);

    let response =
        app.get("/api/v1/analytics/seo/?start_date=2026-12-02&end_date=2026-12-01", &user.access).await;
    assert_eq!(response.status(), StatusCode::OK, "an end before the start is an empty range");
}

#[tokio::test]
async fn bad_audit_requests_name_the_field() {
    let app = spawn_app_with(|config| config.ai.outbound = OutboundGuard::default()).await;
    let user = app.signup().await;
    let other = app.signup().await;
    let their_site = site(&app, &other).await;
    let cases = [
        (json!({ "url": "not a url" }), "url"),
        (json!({ "url": "ftp://example.com/file" }), "url"),
        (json!({ "url": "http://127.0.0.1:8080/" }), "url"),
        (json!({ "url": "http://169.254.169.254/latest/meta-data/" }), "url"),
        (json!({ "url": "http://[::1]/" }), "url"),
        (json!({ "url": "http://192.168.1.10/" }), "url"),
        (
            json!({ "url": "https://example.com/", "competitors": vec!["https://example.org/"; 6] }),
            "competitors",
        ),
        (json!({ "url": "https://example.com/", "competitors": ["http://10.0.0.1/"] }), "competitors[0]"),
        (json!({ "url": "https://example.com/", "keywords": vec!["shoes"; 51] }), "keywords"),
        (json!({ "url": "https://example.com/", "keywords": [""] }), "keywords[0]"),
        (json!({ "url": "https://example.com/", "crawl": { "max_pages": 1000 } }), "crawl.max_pages"),
    ];
    for (body, field) in cases {
        let response = app.post("/api/v1/analytics/seo/audit/", Some(&user.access), body.clone()).await;
        let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
        assert!(errors.get(field).is_some(), "{body}: {errors}");
    }
    let response = app
        .post(
            "/api/v1/analytics/seo/audit/",
            Some(&user.access),
            json!({ "url": "https://example.com/", "site_id": their_site }),
        )
        .await;
    assert!(
        matches!(response.status(), StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND),
        "{}",
        response.status()
    );
    let response = app
        .post(
            "/api/v1/analytics/seo/audit/",
            Some(&user.access),
            json!({ "url": "https://example.com/", "depth": 2 }),
        )
        .await;
    error_of(response, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn names_and_redirects_that_lead_inside_fail_the_audit_before_connecting() {
    // The allow-list off: a name that resolves to loopback passes the API (it is a name)
    // and is refused when it resolves, before any connection.
    let strict = spawn_app_with(|config| config.ai.outbound = OutboundGuard::default()).await;
    let user = strict.signup().await;
    let website = FakeSite::start().await;
    let task_id =
        audit(&strict, &user, json!({ "url": format!("http://localhost:{}/good", website.port()) })).await;
    let task = strict.finish_failed(&user, &task_id).await;
    assert_eq!(task["error"]["code"], "address_refused", "{task}");
    assert_eq!(website.requests(), 0, "nothing reached the site");

    // Loopback allowed (as in every test): a page that redirects into a private range.
    let app = spawn_app().await;
    let user = app.signup().await;
    let task_id = audit(&app, &user, json!({ "url": website.url("/to-private") })).await;
    let task = app.finish_failed(&user, &task_id).await;
    assert_eq!(task["error"]["code"], "address_refused", "{task}");
    assert_eq!(task["attempts"], 1, "a refusal is not retried");
    assert!(
        app.proxy.refused().is_empty() && strict.proxy.refused().is_empty(),
        "the guard refused it first"
    );
}

#[tokio::test]
async fn with_an_ai_provider_the_plan_is_written_by_the_model_from_the_findings() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let fake = FakeOpenAi::start().await;
    use_fake(&app, &user, &fake).await;
    fake.answer_with(|_| {
        json!({ "plan": [{ "priority": 1, "action": "Add a title naming running shoes", "why": "It has none." }] })
            .to_string()
    });
    let website = FakeSite::start().await;
    let task_id =
        audit(&app, &user, json!({ "url": website.url("/no-title"), "keywords": ["running shoes"] })).await;
    let task = app.finish(&user, &task_id).await;
    let audit_id = task["result"]["audit_id"].as_i64().expect("audit id");
    let full = get(&app, &user, &format!("/api/v1/analytics/seo/audits/{audit_id}/")).await;
    let report = &full["data"]["report"];
    assert_eq!(report["plan_source"], "ai", "{report}");
    assert_eq!(report["plan"][0]["action"], "Add a title naming running shoes");
    // The model saw the findings, the URL and the keywords.
    let prompt = fake.requests().last().map(|r| r.body.to_string()).unwrap_or_default();
    assert!(prompt.contains("running shoes") && prompt.contains("no title"), "{prompt}");

    // When the model fails, the rules still write a plan.
    fake.answer_with(|_| "not json".to_owned());
    let task_id = audit(&app, &user, json!({ "url": website.url("/no-title") })).await;
    let task = app.finish(&user, &task_id).await;
    let audit_id = task["result"]["audit_id"].as_i64().expect("audit id");
    let full = get(&app, &user, &format!("/api/v1/analytics/seo/audits/{audit_id}/")).await;
    assert_eq!(full["data"]["report"]["plan_source"], "rules");
    assert!(full["data"]["report"]["plan"][0]["action"].is_string());
}

#[tokio::test]
async fn a_crawl_charges_and_plans_only_html_pages() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let website = FakeSite::start().await;
    let before = balance(&app, user.account_id).await;

    let task_id =
        audit(&app, &user, json!({ "url": website.url("/media-links"), "crawl": { "max_pages": 10 } })).await;
    let task = app.finish(&user, &task_id).await;
    // /media-links, /about and /good; the sitemap, feeds, PDF and image it links to are not pages.
    assert_eq!(task["result"]["pages_audited"], 3, "{task}");
    assert_eq!(task["result"]["credits_charged"], 3);
    assert_eq!(balance(&app, user.account_id).await, before - 3);

    let audit_id = task["result"]["audit_id"].as_i64().expect("audit id");
    let full = get(&app, &user, &format!("/api/v1/analytics/seo/audits/{audit_id}/")).await;
    let report = &full["data"]["report"];
    let non_html = report["crawl"]["findings"]["non_html_links"].as_array().expect("non_html_links");
    assert_eq!(non_html.len(), 5, "{non_html:?}");
    assert!(non_html.contains(&json!(website.url("/feed"))));
    let planned: Vec<&str> = report["recommendations"]
        .as_array()
        .expect("recommendations")
        .iter()
        .flat_map(|r| r["pages"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    assert!(planned.iter().all(|page| !page.ends_with(".xml") && !page.ends_with("/feed")), "{planned:?}");
    let checks = report["page"]["checks"].as_array().expect("checks");
    for id in ["sitemap_listed", "sitemap_in_robots"] {
        assert!(checks.iter().any(|c| c["id"] == id && c["status"] == "pass"), "{id}: {checks:?}");
    }
    assert!(app.proxy.refused().is_empty(), "{:?}", app.proxy.refused());
}
