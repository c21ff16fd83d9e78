//! The operations dashboard: its files as served, and the page itself in a real headless
//! Chromium — sign in through the form, start a ping, watch its progress bar reach 100 %, open
//! the task, and keep a screenshot of the run.

use std::{path::PathBuf, time::Duration};

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::{db::schema::accounts, tasks::Queue};
use testkit::eventually;

use crate::{
    helpers::{PASSWORD, TestApp, TestUser, spawn_app, spawn_app_with},
    webdriver::{ChromeDriver, Session},
};

const PAGE_LOAD: Duration = Duration::from_secs(15);
/// A five-step ping sleeps 2 s in all; the rest is room for a loaded machine.
const PING_DONE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn dashboard_files_are_served_with_their_types_a_self_only_csp_and_revalidation() {
    let app = spawn_app().await;
    for (path, content_type) in [
        ("/dashboard/", "text/html"),
        ("/dashboard", "text/html"),
        ("/dashboard/app.js", "text/javascript"),
        ("/dashboard/app.css", "text/css"),
        ("/dashboard/favicon.svg", "image/svg+xml"),
    ] {
        let response = app.client.get(format!("{}{path}", app.address)).send().await.expect("request");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default();
        assert!(header("content-type").starts_with(content_type), "{path}: {}", header("content-type"));
        let csp = header("content-security-policy");
        assert!(csp.starts_with("default-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("http"), "{csp}");
        assert_eq!(header("cache-control"), "no-cache", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff");
        let etag = header("etag").to_owned();
        assert!(etag.starts_with('"'), "{path}: {etag}");

        let body = response.text().await.expect("body");
        if content_type == "text/html" {
            assert!(body.contains(r#"src="/dashboard/app.js""#), "absolute asset paths: {body}");
            assert!(body.contains(r#"href="/dashboard/app.css""#));
        }
        if content_type != "text/javascript" {
            // Nothing fetched from elsewhere (the script names the SVG namespace, no host).
            assert!(!body.contains("https:"), "{path} refers outside");
        }

        let again = app
            .client
            .get(format!("{}{path}", app.address))
            .header("If-None-Match", &etag)
            .send()
            .await
            .expect("request");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
    }
    let missing =
        app.client.get(format!("{}/dashboard/secrets.txt", app.address)).send().await.expect("request");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let traversal =
        app.client.get(format!("{}/dashboard/..%2FCargo.toml", app.address)).send().await.expect("request");
    assert_eq!(traversal.status(), StatusCode::NOT_FOUND);
}

async fn make_operator(app: &TestApp, user: &TestUser) {
    let account_id = user.account_id;
    app.sql(move |conn| {
        diesel::update(accounts::table.find(account_id)).set(accounts::is_system.eq(true)).execute(conn)?;
        Ok(())
    })
    .await;
}

/// Signs in through the form of the page on screen.
async fn sign_in(browser: &Session, user: &TestUser) {
    let email = browser.wait_for_element("[data-testid=login-email]", PAGE_LOAD).await;
    browser.type_into(&email, &user.email).await;
    let password = browser.wait_for_element("[data-testid=login-password]", PAGE_LOAD).await;
    browser.type_into(&password, PASSWORD).await;
    let submit = browser.wait_for_element("[data-testid=login-submit]", PAGE_LOAD).await;
    browser.click(&submit).await;
    eventually(PAGE_LOAD, "the signed-in user's email", || async {
        (text_of(browser, "[data-testid=user-email]").await? == user.email).then_some(())
    })
    .await;
}

/// Whether the element matching `css` is on the page and not `hidden`.
async fn shown(browser: &Session, css: &str) -> bool {
    match browser.find(css).await {
        Some(element) => browser.attribute(&element, "hidden").await.is_none(),
        None => false,
    }
}

/// The text of the element matching `css`, once it is on the page.
async fn text_of(browser: &Session, css: &str) -> Option<String> {
    let element = browser.find(css).await?;
    browser.text(&element).await
}

#[tokio::test]
async fn dashboard_in_chromium_signs_in_runs_a_ping_to_100_percent_and_shows_the_task() {
    let mut app = spawn_app().await;
    app.start_worker(Queue::Clustering);
    let user = app.signup().await;

    let driver = ChromeDriver::start().await;
    let browser = driver.session().await;
    let page = format!("{}/dashboard/", app.address);
    browser.navigate(&page).await;

    sign_in(&browser, &user).await;
    eventually(PAGE_LOAD, "the clustering worker shown alive", || async {
        let count =
            text_of(&browser, "[data-testid=worker-row][data-queue=clustering] [data-testid=worker-count]")
                .await?;
        (count == "1").then_some(())
    })
    .await;
    // An account's owner is no operator: no queues, a note instead.
    eventually(PAGE_LOAD, "the note for non-operators", || async {
        shown(&browser, "[data-testid=operator-note]").await.then_some(())
    })
    .await;
    assert!(browser.find("[data-testid=queue-row]").await.is_none());

    // Made an operator, after a reload (the session survives it), the queues are shown.
    make_operator(&app, &user).await;
    browser.navigate(&page).await;
    browser.wait_for_element("[data-testid=queue-row][data-queue=clustering]", PAGE_LOAD).await;
    assert!(!shown(&browser, "[data-testid=operator-note]").await, "no note for operators");

    let start_ping = browser.wait_for_element("[data-testid=start-ping]", PAGE_LOAD).await;
    browser.click(&start_ping).await;
    let started = browser.wait_for_element("[data-testid=ping-result][data-task-id]", PAGE_LOAD).await;
    let task_id = browser.attribute(&started, "data-task-id").await.expect("the started task's id");
    let row = format!("[data-testid=task-row][data-task-id='{task_id}']");

    // Watch the bar: the stream moves it through the steps, then the task is SUCCESS at 100.
    let seen = std::cell::RefCell::new(Vec::new());
    eventually(PING_DONE, "the ping's progress bar at 100 and SUCCESS", || async {
        let bar = browser.find(&format!("{row} [data-testid=task-progress]")).await?;
        let value = browser.attribute(&bar, "aria-valuenow").await?;
        let state = text_of(&browser, &format!("{row} [data-testid=task-state]")).await?;
        let mut seen = seen.borrow_mut();
        if seen.last() != Some(&value) {
            seen.push(value.clone());
        }
        (value == "100" && state == "SUCCESS").then_some(())
    })
    .await;
    let seen = seen.into_inner();
    assert!(
        seen.iter().any(|value| value != "0" && value != "100"),
        "the bar showed progress between 0 and 100 on its way: {seen:?}"
    );

    // The task's detail: its payload and result.
    let task_row = browser.wait_for_element(&row, PAGE_LOAD).await;
    browser.click(&task_row).await;
    let result = eventually(PAGE_LOAD, "the task's result in its detail", || async {
        let result = text_of(&browser, "[data-testid=detail-result]").await?;
        result.contains("pong").then_some(result)
    })
    .await;
    let result: Value = serde_json::from_str(&result).expect("the result as JSON");
    assert_eq!(result["pong"], true, "{result}");
    let payload = text_of(&browser, "[data-testid=detail-payload]").await.expect("payload shown");
    assert!(payload.contains("\"sleep_ms\": 400"), "{payload}");
    let detail_bar = browser.wait_for_element("[data-testid=detail-progress]", PAGE_LOAD).await;
    assert_eq!(browser.attribute(&detail_bar, "aria-valuenow").await.as_deref(), Some("100"));
    eventually(PAGE_LOAD, "the task's one attempt, succeeded", || async {
        let outcome = text_of(&browser, "[data-testid=attempt-row] [data-testid=attempt-outcome]").await?;
        (outcome == "succeeded").then_some(())
    })
    .await;

    // The last hour counts it; both charts are drawn.
    eventually(PAGE_LOAD, "one succeeded task in the last hour", || async {
        (text_of(&browser, "[data-testid=total-succeeded]").await? == "1").then_some(())
    })
    .await;
    assert_eq!(text_of(&browser, "[data-testid=failure-rate]").await.as_deref(), Some("0.0%"));
    browser
        .wait_for_element("[data-testid=throughput-chart] svg rect.ok:not([height=\"0\"])", PAGE_LOAD)
        .await;
    browser.wait_for_element("[data-testid=failure-chart] svg circle", PAGE_LOAD).await;

    let screenshot = browser.screenshot().await;
    let path = screenshot_path();
    std::fs::create_dir_all(path.parent().expect("a parent directory")).expect("target directory");
    std::fs::write(&path, &screenshot).expect("screenshot saved");
    assert_png_of_the_window(&screenshot);

    // Script errors and CSP violations land in the console; failed requests (the panels
    // that answer 4xx, such as an endpoint this server lacks) are the page's to show.
    let errors: Vec<Value> = browser
        .console_log()
        .await
        .into_iter()
        .filter(|entry| entry["level"] == "SEVERE" && entry["source"] != "network")
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.quit().await;
}

#[tokio::test]
async fn dashboard_in_chromium_requeues_a_dead_letter_renews_its_token_and_signs_out() {
    // Access tokens that expire (past the verifier's 5 s leeway) while the page is open.
    let mut app = spawn_app_with(|config| config.access_token_ttl = Duration::from_secs(1)).await;
    app.start_worker(Queue::Seo);
    let user = app.signup().await;
    make_operator(&app, &user).await;
    // Fails its one attempt; sent back, it has a fresh budget and succeeds.
    let task_id =
        app.ping(&user, json!({ "fail_times": 1, "max_attempts": 1, "queue": "seo", "steps": 1 })).await;
    app.wait_for_state(&user, &task_id, "FAILURE").await;
    // Another account's task dies too: the operator can open it, read-only.
    let customer = app.signup().await;
    let customers_task =
        app.ping(&customer, json!({ "fail_times": 1, "max_attempts": 1, "queue": "seo", "steps": 1 })).await;
    app.wait_for_state(&customer, &customers_task, "FAILURE").await;
    eventually(PAGE_LOAD, "both failed pings among seo's dead letters", || async {
        let access = app.login(&user.email, PASSWORD).await.access;
        let listed: Value =
            app.get("/api/v1/system/admin/dead-letters/seo/", &access).await.json().await.ok()?;
        (listed["count"] == 2).then_some(())
    })
    .await;

    let driver = ChromeDriver::start().await;
    let browser = driver.session().await;
    browser.navigate(&format!("{}/dashboard/", app.address)).await;
    sign_in(&browser, &user).await;
    let first_token = browser.execute("return sessionStorage.getItem('switchyard.access');").await;
    assert!(first_token.is_string(), "the access token is kept in the tab: {first_token}");

    // The customer's letter opens its task through the admin API: its failed attempt, no cancel.
    browser
        .click(
            &browser
                .wait_for_element(
                    &format!("[data-testid=dead-letter-row] a[title='{customers_task}']"),
                    PAGE_LOAD,
                )
                .await,
        )
        .await;
    eventually(PAGE_LOAD, "another account's task opened by the operator", || async {
        let state = text_of(&browser, "[data-testid=detail-state]").await?;
        let outcomes = browser.execute(
            "return [...document.querySelectorAll('[data-testid=attempt-outcome]')].map((node) => node.textContent);",
        ).await;
        (state == "FAILURE" && outcomes == json!(["failed"])).then_some(())
    })
    .await;
    assert!(!shown(&browser, "[data-testid=detail-cancel]").await, "another account's task is read-only");

    // The panel opens on the queue that has dead letters; requeue the operator's own.
    let checkbox = browser
        .wait_for_element(
            &format!("[data-testid=dead-letter-row]:has(a[title='{task_id}']) input[type=checkbox]"),
            PAGE_LOAD,
        )
        .await;
    let queue =
        browser.execute("return document.querySelector('[data-testid=dead-letters-queue]').value;").await;
    assert_eq!(queue, "seo");
    browser.click(&checkbox).await;
    browser.click(&browser.wait_for_element("[data-testid=requeue-selected]", PAGE_LOAD).await).await;
    eventually(PAGE_LOAD, "the requeue's outcome", || async {
        let result = text_of(&browser, "[data-testid=requeue-result]").await?;
        result.starts_with("Requeued 1 of 1").then_some(())
    })
    .await;

    // Run again: its detail shows the failed attempt and the one that succeeded.
    browser
        .click(
            &browser
                .wait_for_element(&format!("[data-testid=task-row][data-task-id='{task_id}'] a"), PAGE_LOAD)
                .await,
        )
        .await;
    eventually(PING_DONE, "the requeued task's two attempts", || async {
        let state = text_of(&browser, "[data-testid=detail-state]").await?;
        let outcomes = browser.execute(
            "return [...document.querySelectorAll('[data-testid=attempt-outcome]')].map((node) => node.textContent);",
        ).await;
        (state == "SUCCESS" && outcomes == json!(["failed", "succeeded"])).then_some(())
    })
    .await;

    // Past the first token's life the page renewed it and stayed signed in.
    eventually(Duration::from_secs(30), "the page to renew its access token", || async {
        let token = browser.execute("return sessionStorage.getItem('switchyard.access');").await;
        (token.is_string() && token != first_token).then_some(())
    })
    .await;
    assert!(shown(&browser, "[data-testid=dashboard]").await, "still signed in after the renewal");

    browser.click(&browser.wait_for_element("[data-testid=logout]", PAGE_LOAD).await).await;
    eventually(PAGE_LOAD, "the sign-in form after logging out", || async {
        shown(&browser, "[data-testid=login-view]").await.then_some(())
    })
    .await;
    assert_eq!(browser.execute("return sessionStorage.length;").await, json!(0), "tokens forgotten");
    browser.quit().await;
}

/// `dashboard-screenshot.png` in the workspace's target directory.
fn screenshot_path() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace.join(dir),
        None => workspace.join("target"),
    };
    target.join("dashboard-screenshot.png")
}

/// A PNG of the 1400×1000 window with something drawn on it (a blank page compresses to a
/// few kilobytes).
fn assert_png_of_the_window(png: &[u8]) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let dimension = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().expect("four bytes"));
    let (width, height) = (dimension(16), dimension(20));
    assert!(width >= 1000 && height >= 600, "{width}×{height}");
    assert!(png.len() > 20_000, "a nearly empty screenshot: {} bytes", png.len());
}
