//! Settings at their five scopes: typed known keys (400 naming `key` or `value`), one row per
//! key (409), who reads and writes each scope, a module's settings in effect, and the code
//! that reads a setting (the planner's ideas per cluster, the account's time zone).

use diesel::prelude::*;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use shared::db::schema::accounts;

use crate::helpers::{PASSWORD, TestApp, TestUser, error_of, spawn_app};

const ACCOUNT: &str = "/api/v1/system/settings/account/";
const SYSTEM: &str = "/api/v1/system/settings/system/";
const USER: &str = "/api/v1/system/settings/user/";
const MODULES: &str = "/api/v1/system/settings/modules/";
const AI: &str = "/api/v1/system/settings/ai/";

async fn json_of(response: Response, status: StatusCode) -> Value {
    let actual = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(actual, status, "{body}");
    body
}

async fn send(app: &TestApp, method: Method, path: &str, user: &TestUser, body: Value) -> Response {
    app.request(method, path, Some(&user.access)).json(&body).send().await.expect("sent")
}

/// A member of `owner`'s account with `role`, logged in.
async fn member(app: &TestApp, owner: &TestUser, role: &str) -> TestUser {
    let email = format!("{role}-{}@example.com", uuid::Uuid::new_v4().simple());
    let created = app
        .post(
            "/api/v1/auth/users/",
            Some(&owner.access),
            json!({ "email": email, "password": PASSWORD, "role": role }),
        )
        .await;
    json_of(created, StatusCode::CREATED).await;
    app.login(&email, PASSWORD).await
}

async fn make_operator(app: &TestApp, user: &TestUser) {
    let account_id = user.account_id;
    app.sql(move |conn| {
        diesel::update(accounts::table.find(account_id)).set(accounts::is_system.eq(true)).execute(conn)?;
        Ok(())
    })
    .await;
}

/// Creates a setting and returns its row.
async fn create(app: &TestApp, user: &TestUser, path: &str, body: Value) -> Value {
    json_of(app.post(path, Some(&user.access), body).await, StatusCode::CREATED).await["data"].clone()
}

#[tokio::test]
async fn account_settings_take_known_keys_with_values_of_their_kind_once_each() {
    let app = spawn_app().await;
    let owner = app.signup().await;

    let row = create(&app, &owner, ACCOUNT, json!({ "key": "timezone", "value": "Europe/Berlin" })).await;
    assert_eq!((row["key"].as_str(), row["value"].as_str()), (Some("timezone"), Some("Europe/Berlin")));
    assert!(row["id"].is_i64() && row["created_at"].is_string() && row["updated_at"].is_string(), "{row}");
    assert!(row.get("module").is_none(), "only module settings show a module: {row}");
    let id = row["id"].as_i64().expect("id");

    let again = app.post(ACCOUNT, Some(&owner.access), json!({ "key": "timezone", "value": "UTC" })).await;
    let (code, errors) = error_of(again, StatusCode::CONFLICT).await;
    assert_eq!(code, "already_exists");
    assert!(errors["key"][0].as_str().is_some_and(|message| message.contains("timezone")), "{errors}");

    let unknown = app.post(ACCOUNT, Some(&owner.access), json!({ "key": "colour", "value": "red" })).await;
    let (_, errors) = error_of(unknown, StatusCode::BAD_REQUEST).await;
    let message = errors["key"][0].as_str().unwrap_or_default();
    assert!(message.contains("colour") && message.contains("week_start"), "names the known keys: {message}");
    for (key, value, allowed) in [
        ("language", json!("xx"), "ISO 639-1"),
        ("week_start", json!("friday"), "monday, sunday"),
        ("notification_email", json!("not an email"), "email"),
        ("currency", json!(1), "usd, eur"),
    ] {
        let refused = app.post(ACCOUNT, Some(&owner.access), json!({ "key": key, "value": value })).await;
        let (_, errors) = error_of(refused, StatusCode::BAD_REQUEST).await;
        let message = errors["value"][0].as_str().unwrap_or_default();
        assert!(message.contains(key) && message.contains(allowed), "{key}: {message}");
    }
    let missing = app.post(ACCOUNT, Some(&owner.access), json!({ "key": "language" })).await;
    assert!(error_of(missing, StatusCode::BAD_REQUEST).await.1.get("value").is_some());
    let email = create(&app, &owner, ACCOUNT, json!({ "key": "notification_email", "value": null })).await;
    assert_eq!(email["value"], Value::Null, "a nullable key stores null");

    let item = format!("{ACCOUNT}{id}/");
    let changed =
        send(&app, Method::PUT, &item, &owner, json!({ "key": "timezone", "value": "Asia/Tokyo" })).await;
    assert_eq!(json_of(changed, StatusCode::OK).await["data"]["value"], "Asia/Tokyo");
    let renamed = send(&app, Method::PATCH, &item, &owner, json!({ "key": "language", "value": "en" })).await;
    assert!(error_of(renamed, StatusCode::BAD_REQUEST).await.1.get("key").is_some(), "a key does not change");
    let mistyped = send(&app, Method::PATCH, &item, &owner, json!({ "value": 7 })).await;
    let (_, errors) = error_of(mistyped, StatusCode::BAD_REQUEST).await;
    assert!(errors["value"][0].as_str().is_some_and(|message| message.contains("IANA")), "{errors}");

    let listed =
        json_of(app.get(&format!("{ACCOUNT}?key=timezone"), &owner.access).await, StatusCode::OK).await;
    assert_eq!(listed["count"], 1, "{listed}");
    assert_eq!(listed["results"][0]["value"], "Asia/Tokyo");
    let deleted = app.request(Method::DELETE, &item, Some(&owner.access)).send().await.expect("sent");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    error_of(app.get(&item, &owner.access).await, StatusCode::NOT_FOUND).await;
    create(&app, &owner, ACCOUNT, json!({ "key": "timezone", "value": "UTC" })).await;
}

#[tokio::test]
async fn members_read_the_accounts_settings_and_only_admins_write_them() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let viewer = member(&app, &owner, "viewer").await;
    let admin = member(&app, &owner, "admin").await;
    for path in [ACCOUNT, AI] {
        let body = if path == AI {
            json!({ "key": "temperature", "value": 0.3 })
        } else {
            json!({ "key": "week_start", "value": "sunday" })
        };
        let row = create(&app, &admin, path, body.clone()).await;
        let read =
            json_of(app.get(&format!("{path}{}/", row["id"]), &viewer.access).await, StatusCode::OK).await;
        assert_eq!(read["data"], row);
        error_of(app.post(path, Some(&viewer.access), body).await, StatusCode::FORBIDDEN).await;
        let item = format!("{path}{}/", row["id"]);
        error_of(
            send(&app, Method::PATCH, &item, &viewer, json!({ "value": row["value"] })).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let deleted = app.request(Method::DELETE, &item, Some(&viewer.access)).send().await.expect("sent");
        assert_eq!(deleted.status(), StatusCode::FORBIDDEN);
    }
    let hot = app.post(AI, Some(&owner.access), json!({ "key": "max_tokens", "value": "a lot" })).await;
    assert!(error_of(hot, StatusCode::BAD_REQUEST).await.1.get("value").is_some());
    let too_hot = app.post(AI, Some(&owner.access), json!({ "key": "temperature", "value": 2.5 })).await;
    let (_, errors) = error_of(too_hot, StatusCode::BAD_REQUEST).await;
    assert!(errors["value"][0].as_str().is_some_and(|message| message.contains("0 to 2")), "{errors}");

    let stranger = app.signup().await;
    let listed = json_of(app.get(ACCOUNT, &stranger.access).await, StatusCode::OK).await;
    assert_eq!(listed["count"], 0, "another account sees none of them: {listed}");
}

#[tokio::test]
async fn system_settings_are_read_by_everyone_and_written_by_operators_only() {
    let app = spawn_app().await;
    let operator = app.signup().await;
    let body = json!({ "key": "support_email", "value": "Help@Example.com" });
    let (code, _) =
        error_of(app.post(SYSTEM, Some(&operator.access), body.clone()).await, StatusCode::FORBIDDEN).await;
    assert_eq!(code, "not_operator", "an ordinary account's owner is not an operator");
    make_operator(&app, &operator).await;
    let row = create(&app, &operator, SYSTEM, body).await;
    assert_eq!(row["value"], "help@example.com", "emails are stored lower-cased");

    let anyone = app.signup().await;
    let viewer = member(&app, &anyone, "viewer").await;
    let item = format!("{SYSTEM}{}/", row["id"]);
    assert_eq!(json_of(app.get(&item, &viewer.access).await, StatusCode::OK).await["data"], row);
    assert_eq!(json_of(app.get(SYSTEM, &anyone.access).await, StatusCode::OK).await["count"], 1);
    let (code, _) = error_of(
        send(&app, Method::PUT, &item, &anyone, json!({ "value": "me@example.com" })).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(code, "not_operator");
    error_of(
        send(&app, Method::PUT, &item, &viewer, json!({ "value": "me@example.com" })).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let deleted = app.request(Method::DELETE, &item, Some(&operator.access)).send().await.expect("sent");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn user_settings_are_the_callers_own() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let editor = member(&app, &owner, "editor").await;
    let row = create(&app, &editor, USER, json!({ "key": "theme", "value": "dark" })).await;
    let item = format!("{USER}{}/", row["id"]);
    assert_eq!(json_of(app.get(&item, &editor.access).await, StatusCode::OK).await["data"], row);

    // The account's owner cannot see or touch it; the owner's own list is empty.
    error_of(app.get(&item, &owner.access).await, StatusCode::NOT_FOUND).await;
    error_of(
        send(&app, Method::PUT, &item, &owner, json!({ "value": "light" })).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let deleted = app.request(Method::DELETE, &item, Some(&owner.access)).send().await.expect("sent");
    assert_eq!(deleted.status(), StatusCode::NOT_FOUND);
    assert_eq!(json_of(app.get(USER, &owner.access).await, StatusCode::OK).await["count"], 0);
    // The owner may store the same key for themselves.
    create(&app, &owner, USER, json!({ "key": "theme", "value": "light" })).await;
    assert_eq!(json_of(app.get(&item, &editor.access).await, StatusCode::OK).await["data"]["value"], "dark");

    let refused =
        app.post(USER, Some(&editor.access), json!({ "key": "items_per_page", "value": 500 })).await;
    let (_, errors) = error_of(refused, StatusCode::BAD_REQUEST).await;
    assert!(errors["value"][0].as_str().is_some_and(|message| message.contains("1 to 100")), "{errors}");
    let typed = send(&app, Method::PATCH, &item, &editor, json!({ "value": true })).await;
    assert!(error_of(typed, StatusCode::BAD_REQUEST).await.1.get("value").is_some());
}

#[tokio::test]
async fn module_settings_name_their_module_and_answer_every_key_of_a_module() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let viewer = member(&app, &owner, "viewer").await;
    let row =
        create(&app, &owner, MODULES, json!({ "module": "planner", "key": "ideas_per_cluster", "value": 5 }))
            .await;
    assert_eq!(row["module"], "planner", "{row}");
    for (body, field) in [
        (json!({ "key": "ideas_per_cluster", "value": 5 }), "module"),
        (json!({ "module": "writer", "key": "ideas_per_cluster", "value": 5 }), "key"),
        (json!({ "module": "shop", "key": "ideas_per_cluster", "value": 5 }), "module"),
        (json!({ "module": "planner", "key": "ideas_per_cluster", "value": 11 }), "value"),
    ] {
        let refused = app.post(MODULES, Some(&owner.access), body.clone()).await;
        assert!(error_of(refused, StatusCode::BAD_REQUEST).await.1.get(field).is_some(), "{body}");
    }
    // The same key in another module is another row.
    create(&app, &owner, MODULES, json!({ "module": "seo", "key": "max_pages", "value": 50 })).await;
    let listed =
        json_of(app.get(&format!("{MODULES}?module=seo"), &viewer.access).await, StatusCode::OK).await;
    assert_eq!(listed["count"], 1, "{listed}");

    let planner =
        json_of(app.get(&format!("{MODULES}module/planner/"), &viewer.access).await, StatusCode::OK).await;
    assert_eq!(planner["module"], "planner");
    assert_eq!(
        planner["settings"],
        json!({ "ideas_per_cluster": 5, "clustering_mode": "semantic" }),
        "{planner}"
    );
    assert_eq!(planner["data"]["settings"], planner["settings"]);
    assert_eq!(planner["data"]["module"], "planner");
    let writer =
        json_of(app.get(&format!("{MODULES}module/writer/"), &owner.access).await, StatusCode::OK).await;
    assert_eq!(writer["settings"], json!({ "default_word_count": 1500, "default_tone": "professional" }));
    let stranger = app.signup().await;
    let theirs =
        json_of(app.get(&format!("{MODULES}module/planner/"), &stranger.access).await, StatusCode::OK).await;
    assert_eq!(theirs["settings"]["ideas_per_cluster"], 3, "another account has the defaults");
    let unknown = app.get(&format!("{MODULES}module/shop/"), &owner.access).await;
    assert!(error_of(unknown, StatusCode::BAD_REQUEST).await.1.get("module_name").is_some());

    let item = format!("{MODULES}{}/", row["id"]);
    let moved = send(&app, Method::PUT, &item, &owner, json!({ "module": "seo", "value": 4 })).await;
    assert!(error_of(moved, StatusCode::BAD_REQUEST).await.1.get("module").is_some());
    let changed = send(&app, Method::PUT, &item, &owner, json!({ "module": "planner", "value": 4 })).await;
    assert_eq!(json_of(changed, StatusCode::OK).await["data"]["value"], 4);
    error_of(send(&app, Method::PUT, &item, &viewer, json!({ "value": 2 })).await, StatusCode::FORBIDDEN)
        .await;
}

#[tokio::test]
async fn commands_and_schedules_read_the_settings_they_default_to() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    create(&app, &owner, MODULES, json!({ "module": "planner", "key": "ideas_per_cluster", "value": 2 }))
        .await;
    let site = create(&app, &owner, "/api/v1/auth/sites/", json!({ "name": "Shop" })).await;
    let cluster = create(
        &app,
        &owner,
        "/api/v1/planner/clusters/",
        json!({ "name": "Cold brew", "site_id": site["id"] }),
    )
    .await;
    let ideas = |count: Option<u32>| {
        let mut body = json!({ "ids": [cluster["id"]] });
        if let Some(count) = count {
            body["ideas_per_cluster"] = json!(count);
        }
        body
    };
    for (body, expected) in [(ideas(None), 2), (ideas(Some(4)), 4)] {
        let accepted =
            app.post("/api/v1/planner/clusters/auto_generate_ideas/", Some(&owner.access), body).await;
        let task_id =
            json_of(accepted, StatusCode::ACCEPTED).await["task_id"].as_str().expect("task").to_owned();
        let task = app.task(&owner, &task_id).await;
        assert_eq!(task["payload"]["ideas_per_cluster"], expected, "{task}");
    }

    // The account's time zone is the installation's until it sets its own.
    let operator = app.signup().await;
    make_operator(&app, &operator).await;
    create(&app, &operator, SYSTEM, json!({ "key": "default_timezone", "value": "Asia/Tokyo" })).await;
    let nightly = json!({ "name": "nightly", "cron": "0 3 * * *", "kind": "system.ping" });
    let schedule = create(&app, &owner, "/api/v1/system/schedules/", nightly.clone()).await;
    assert_eq!(schedule["timezone"], "Asia/Tokyo");
    create(&app, &owner, ACCOUNT, json!({ "key": "timezone", "value": "Europe/Amsterdam" })).await;
    let schedule = create(&app, &owner, "/api/v1/system/schedules/", nightly).await;
    assert_eq!(schedule["timezone"], "Europe/Amsterdam");
    let explicit = app
        .post(
            "/api/v1/system/schedules/",
            Some(&owner.access),
            json!({ "name": "n", "cron": "0 3 * * *", "kind": "system.ping", "timezone": "UTC" }),
        )
        .await;
    assert_eq!(json_of(explicit, StatusCode::CREATED).await["data"]["timezone"], "UTC");
}

#[tokio::test]
async fn the_document_states_each_keys_type_and_bounds() {
    let app = spawn_app().await;
    let doc = app.openapi_document().await;
    let schemas = &doc["components"]["schemas"];
    let user = schemas["NewUserSetting"]["oneOf"].as_array().expect("one alternative per key");
    let items = user
        .iter()
        .find(|body| body["properties"]["key"]["enum"] == json!(["items_per_page"]))
        .expect("items_per_page");
    let value = &items["properties"]["value"];
    assert_eq!((value["minimum"].as_f64(), value["maximum"].as_f64()), (Some(1.0), Some(100.0)), "{value}");
    assert_eq!(value["default"], 10);
    let zones = schemas["IanaTimeZone"]["enum"].as_array().expect("time zones");
    assert!(zones.contains(&json!("Europe/Berlin")) && zones.len() > 300);
    let modules = schemas["NewModuleSetting"]["oneOf"].as_array().expect("per module and key");
    assert!(modules.iter().any(|body| body["properties"]["module"]["enum"] == json!(["seo"])
        && body["properties"]["key"]["enum"] == json!(["max_pages"])));
}
