//! The Odoo integration end to end: settings and their real login test, `odoo.sync` on the
//! real worker against a fake Odoo speaking JSON-RPC, the mirror's read endpoints and the
//! portal dashboard.

use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::odoo::FakeOdoo;

use crate::helpers::{TestApp, TestUser, error_of, spawn_app};

async fn connect(app: &TestApp, user: &TestUser, odoo: &FakeOdoo, key: &str) {
    let response = app
        .post(
            "/api/v1/system/settings/integrations/odoo/save/",
            Some(&user.access),
            json!({ "config": { "url": odoo.url(), "database": odoo.database(), "login": odoo.login(), "apiKey": key }, "is_active": true }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap_or_default());
}

async fn sync(app: &TestApp, user: &TestUser, body: Value) -> String {
    let response = app.post("/api/v1/odoo/sync/", Some(&user.access), body).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED, "{}", response.text().await.unwrap_or_default());
    let body: Value = response.json().await.expect("json");
    body["task_id"].as_str().expect("task id").to_owned()
}

async fn list(app: &TestApp, user: &TestUser, path: &str) -> Value {
    let response = app.get(path, &user.access).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.expect("json")
}

fn names(listed: &Value) -> Vec<String> {
    listed["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["name"].as_str().map(str::to_owned))
        .collect()
}

/// A small company: three clients (one archived), a project with tasks, invoices.
fn seed(odoo: &FakeOdoo) -> (i64, i64) {
    let acme =
        odoo.insert("res.partner", json!({ "name": "Acme", "email": "ops@acme.test", "is_company": true }));
    let globex = odoo.insert("res.partner", json!({ "name": "Globex", "is_company": true }));
    odoo.insert("res.partner", json!({ "name": "Old Client", "active": false }));
    let project =
        odoo.insert("project.project", json!({ "name": "Website relaunch", "partner_id": [acme, "Acme"] }));
    for name in ["Wireframes", "Copy", "Launch"] {
        odoo.insert("project.task", json!({ "name": name, "project_id": [project, "Website relaunch"] }));
    }
    odoo.insert("account.move", json!({
        "name": "INV/2026/0001", "partner_id": [acme, "Acme"], "move_type": "out_invoice", "state": "posted",
        "payment_state": "not_paid", "amount_total": 1200.0, "amount_residual": 1200.0, "invoice_date_due": "2026-12-15",
    }));
    odoo.insert("account.move", json!({
        "name": "INV/2026/0002", "partner_id": [globex, "Globex"], "move_type": "out_invoice", "state": "posted",
        "payment_state": "paid", "amount_total": 300.0, "amount_residual": 0.0, "invoice_date_due": "2026-11-01",
    }));
    // A vendor bill is not a client invoice: never mirrored.
    odoo.insert(
        "account.move",
        json!({ "name": "BILL/2026/0001", "move_type": "in_invoice", "state": "posted" }),
    );
    (acme, globex)
}

#[tokio::test]
async fn first_sync_then_incremental_changes_archives_and_deletions() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let odoo = FakeOdoo::start().await;
    let (acme, globex) = seed(&odoo);
    connect(&app, &user, &odoo, odoo.api_key()).await;
    let tested =
        app.post("/api/v1/system/settings/integrations/odoo/test/", Some(&user.access), json!({})).await;
    assert_eq!(tested.status(), StatusCode::OK);
    let tested: Value = tested.json().await.expect("json");
    assert_eq!(tested["data"]["server_version"], "17.0");

    let task = app.finish(&user, &sync(&app, &user, json!({})).await).await;
    assert_eq!(task["result"]["synced"], 3 + 1 + 3 + 2, "{task}");
    assert_eq!(names(&list(&app, &user, "/api/v1/odoo/clients/").await), vec!["Acme", "Globex"]);
    let everyone = list(&app, &user, "/api/v1/odoo/clients/?include_archived=true").await;
    assert_eq!(everyone["count"], 3);
    let invoices = list(&app, &user, "/api/v1/odoo/invoices/").await;
    assert_eq!(names(&invoices), vec!["INV/2026/0001", "INV/2026/0002"]);
    assert_eq!(invoices["results"][0]["partner_id"], json!({ "id": acme, "name": "Acme" }));
    let status = list(&app, &user, "/api/v1/odoo/sync/").await;
    let partners = &status["data"]["models"][0];
    assert_eq!(partners["model"], "res.partner");
    assert_eq!(partners["last_status"], "succeeded");
    assert_eq!(partners["mirrored"], 3);
    assert!(partners["cursor"].is_string());

    // Changes in Odoo: a rename, a new client, an archive, a deletion.
    odoo.update("res.partner", globex, json!({ "name": "Globex Corporation" }));
    odoo.insert("res.partner", json!({ "name": "Initech" }));
    odoo.update("res.partner", acme, json!({ "active": false }));
    let calls_before = odoo.calls();
    let task = app.finish(&user, &sync(&app, &user, json!({ "models": ["res.partner"] })).await).await;
    assert_eq!(task["result"]["synced"], 3, "only what changed since the cursor: {task}");
    assert!(odoo.calls() - calls_before <= 3, "login and one page");
    assert_eq!(
        names(&list(&app, &user, "/api/v1/odoo/clients/").await),
        vec!["Globex Corporation", "Initech"]
    );

    odoo.delete("res.partner", globex);
    let task = app.finish(&user, &sync(&app, &user, json!({ "models": ["res.partner"] })).await).await;
    assert_eq!(task["result"]["synced"], 0, "a deletion leaves nothing for an incremental pull");
    let task =
        app.finish(&user, &sync(&app, &user, json!({ "models": ["res.partner"], "full": true })).await).await;
    assert_eq!(task["result"]["full"], true);
    assert_eq!(names(&list(&app, &user, "/api/v1/odoo/clients/").await), vec!["Initech"]);
    let status = list(&app, &user, "/api/v1/odoo/sync/").await;
    assert_eq!(status["data"]["models"][0]["deleted"], 1);

    let dashboard = list(&app, &user, "/api/v1/portal/dashboard/").await;
    assert_eq!(dashboard["data"]["projects"][0]["name"], "Website relaunch");
    assert_eq!(dashboard["data"]["open_invoices"].as_array().map(Vec::len), Some(1));
    assert_eq!(dashboard["data"]["open_invoices_total"], "1200.00", "money as a decimal string");
    assert_eq!(dashboard["data"]["recent_tasks"].as_array().map(Vec::len), Some(3));

    // Another account sees none of it.
    let other = app.signup().await;
    assert_eq!(list(&app, &other, "/api/v1/odoo/clients/").await["count"], 0);
    assert_eq!(list(&app, &other, "/api/v1/portal/dashboard/").await["data"]["projects"], json!([]));
}

#[tokio::test]
async fn refused_credentials_and_an_odoo_down_mid_sync_write_nothing_and_keep_the_cursor() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let odoo = FakeOdoo::start().await;
    seed(&odoo);

    let response = app.post("/api/v1/odoo/sync/", Some(&user.access), json!({})).await;
    let (_, errors) = error_of(response, StatusCode::CONFLICT).await;
    assert!(errors.get("integration").is_some(), "{errors}");
    let response =
        app.post("/api/v1/odoo/sync/", Some(&user.access), json!({ "models": ["sale.order"] })).await;
    let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
    assert!(errors.get("models").is_some(), "{errors}");

    connect(&app, &user, &odoo, "wrong-key").await;
    let tested =
        app.post("/api/v1/system/settings/integrations/odoo/test/", Some(&user.access), json!({})).await;
    let (code, _) = error_of(tested, StatusCode::BAD_GATEWAY).await;
    assert_eq!(code, "odoo_auth_failed");
    let task = app.finish_failed(&user, &sync(&app, &user, json!({})).await).await;
    assert_eq!(task["error"]["code"], "odoo_auth_failed", "{task}");
    assert_eq!(task["attempts"], 1, "refused credentials are not retried");

    connect(&app, &user, &odoo, odoo.api_key()).await;
    let task = app.finish(&user, &sync(&app, &user, json!({})).await).await;
    assert_eq!(task["result"]["synced"], 9);
    let before = list(&app, &user, "/api/v1/odoo/sync/").await["data"]["models"].clone();

    odoo.insert("res.partner", json!({ "name": "Umbrella" }));
    odoo.insert("project.project", json!({ "name": "Second project" }));
    // Login and the first model's page go through; then Odoo goes down for good.
    odoo.fail_after(2);
    let task = app.finish_failed(&user, &sync(&app, &user, json!({})).await).await;
    assert_eq!(task["error"]["code"], "odoo_unreachable", "{task}");
    assert_eq!(
        names(&list(&app, &user, "/api/v1/odoo/clients/").await),
        vec!["Acme", "Globex"],
        "nothing half-written"
    );
    let after = list(&app, &user, "/api/v1/odoo/sync/").await["data"]["models"].clone();
    for (old, new) in before.as_array().into_iter().flatten().zip(after.as_array().into_iter().flatten()) {
        assert_eq!(old["cursor"], new["cursor"], "cursor not advanced for {}", old["model"]);
        assert_eq!(new["last_status"], "failed");
    }

    odoo.set_down(false);
    let task = app.finish(&user, &sync(&app, &user, json!({})).await).await;
    assert_eq!(task["result"]["synced"], 2, "the next run picks up exactly what was missed");
}

#[tokio::test]
async fn leads_webhook_targeted_syncs_and_the_built_in_schedule() {
    let app = spawn_app().await;
    let user = app.signup().await;
    let odoo = FakeOdoo::start().await;
    let (acme, _) = seed(&odoo);
    connect(&app, &user, &odoo, odoo.api_key()).await;

    // Connecting Odoo brings its 15-minute sync schedule.
    let schedules = list(&app, &user, "/api/v1/system/schedules/").await;
    let builtin = schedules["results"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["name"] == "Odoo sync (built-in)"))
        .cloned()
        .expect("built-in schedule");
    assert_eq!(builtin["kind"], "odoo.sync");
    assert_eq!(builtin["enabled"], true);

    // A contact-form submission becomes a CRM lead.
    let response = app
        .post("/api/v1/odoo/leads/", Some(&user.access), json!({ "name": "Ada", "email": "not-an-email" }))
        .await;
    let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
    assert!(errors.get("email").is_some(), "{errors}");
    let response = app
        .post(
            "/api/v1/odoo/leads/",
            Some(&user.access),
            json!({ "name": "Ada Lovelace", "email": "ada@example.com", "company": "Analytical", "message": "A quote, please." }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.expect("json");
    let task = app.finish(&user, body["task_id"].as_str().expect("task id")).await;
    let leads = odoo.records("crm.lead");
    assert_eq!(leads.len(), 1);
    assert_eq!(task["result"]["lead_id"], leads[0]["id"]);
    assert_eq!(leads[0]["email_from"], "ada@example.com");
    assert_eq!(leads[0]["name"], "Website enquiry: Ada Lovelace");

    // First sync, then an Odoo webhook about one record syncs just that record.
    app.finish(&user, &sync(&app, &user, json!({})).await).await;
    let cursor = list(&app, &user, "/api/v1/odoo/sync/").await["data"]["models"][0]["cursor"].clone();
    odoo.update("res.partner", acme, json!({ "name": "Acme Holdings" }));
    let response =
        app.post("/api/v1/system/webhooks/", Some(&user.access), json!({ "source": "odoo" })).await;
    let endpoint: Value = response.json().await.expect("json");
    let (url, secret) = (
        endpoint["data"]["url"].as_str().expect("url").to_owned(),
        endpoint["data"]["secret"].as_str().expect("secret").to_owned(),
    );
    let event =
        json!({ "id": "evt-77", "event": "write", "model": "res.partner", "record_id": acme }).to_string();
    let signature = shared::webhooks::sign(secret.as_bytes(), event.as_bytes());
    let answer: Value = app
        .client
        .post(format!("{}{url}", app.address))
        .header("Content-Type", "application/json")
        .header("X-Odoo-Signature", signature)
        .body(event)
        .send()
        .await
        .expect("delivered")
        .json()
        .await
        .expect("json");
    assert_eq!(answer["data"]["status"], "enqueued", "{answer}");
    let task = app.finish(&user, answer["data"]["task_id"].as_str().expect("task")).await;
    assert_eq!(task["result"]["synced"], 1, "{task}");
    assert_eq!(names(&list(&app, &user, "/api/v1/odoo/clients/").await), vec!["Acme Holdings", "Globex"]);
    let after = list(&app, &user, "/api/v1/odoo/sync/").await["data"]["models"][0]["cursor"].clone();
    assert_eq!(after, cursor, "a targeted sync leaves the cursor alone");
}
