//! Users, sites and sectors: CRUD, role rules and conflicts.

use chrono::{Datelike, Timelike};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, error_of, spawn_app};

async fn send(app: &TestApp, user: &TestUser, method: Method, path: &str, body: Value) -> reqwest::Response {
    app.request(method, path, Some(&user.access)).json(&body).send().await.expect("request")
}

async fn make_user(app: &TestApp, by: &TestUser, email: &str, role: &str) -> (i64, TestUser) {
    let response = send(
        app,
        by,
        Method::POST,
        "/api/v1/auth/users/",
        json!({ "email": email, "password": "pass-word-1", "role": role }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED, "{}", response.text().await.unwrap_or_default());
    let id = response.json::<Value>().await.expect("json")["data"]["id"].as_i64().expect("id");
    (id, app.login(email, "pass-word-1").await)
}

#[tokio::test]
async fn role_rules_for_managing_users() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    app.on_plan(&owner, "agency").await;
    let (admin_id, admin) = make_user(&app, &owner, "admin@example.com", "admin").await;
    let (editor_id, editor) = make_user(&app, &admin, "editor@example.com", "editor").await;

    // Admins manage editors and viewers, not owners or admins.
    let grant_owner = send(
        &app,
        &admin,
        Method::POST,
        "/api/v1/auth/users/",
        json!({ "email": "x@example.com", "password": "pass-word-1", "role": "owner" }),
    )
    .await;
    assert_eq!(grant_owner.status(), StatusCode::FORBIDDEN);
    let promote = send(
        &app,
        &admin,
        Method::PATCH,
        &format!("/api/v1/auth/users/{editor_id}/"),
        json!({ "role": "admin" }),
    )
    .await;
    assert_eq!(promote.status(), StatusCode::FORBIDDEN);
    let demote = send(
        &app,
        &admin,
        Method::PATCH,
        &format!("/api/v1/auth/users/{editor_id}/"),
        json!({ "role": "viewer", "first_name": "Eve" }),
    )
    .await;
    assert_eq!(demote.status(), StatusCode::OK);
    let body: Value = demote.json().await.expect("json");
    assert_eq!(body["data"]["role"], "viewer");
    assert_eq!(body["data"]["first_name"], "Eve");
    // The demotion applies to the live token at once.
    let ping = app.post("/api/v1/system/ping/", Some(&editor.access), json!({})).await;
    assert_eq!(ping.status(), StatusCode::FORBIDDEN);

    // Editors and viewers do not manage users.
    let listing =
        app.request(Method::GET, "/api/v1/auth/users/", Some(&editor.access)).send().await.expect("request");
    assert_eq!(listing.status(), StatusCode::FORBIDDEN);
    // The same answer whether the user exists or not: a non-admin learns nothing of ids.
    for id in [admin_id, 999_999] {
        for (method, path) in [
            (Method::PATCH, format!("/api/v1/auth/users/{id}/")),
            (Method::DELETE, format!("/api/v1/auth/users/{id}/")),
            (Method::POST, format!("/api/v1/auth/users/{id}/activate/")),
        ] {
            let response = send(&app, &editor, method.clone(), &path, json!({ "first_name": "x" })).await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method} {path}");
        }
    }

    // Nobody changes their own role or deletes themselves; the last owner stays.
    let own_role = send(
        &app,
        &admin,
        Method::PATCH,
        &format!("/api/v1/auth/users/{admin_id}/"),
        json!({ "role": "owner" }),
    )
    .await;
    assert_eq!(own_role.status(), StatusCode::FORBIDDEN);
    let self_delete =
        send(&app, &owner, Method::DELETE, &format!("/api/v1/auth/users/{}/", owner.user_id), json!({}))
            .await;
    assert_eq!(self_delete.status(), StatusCode::FORBIDDEN);
    let (second_owner_id, _) = make_user(&app, &owner, "owner2@example.com", "owner").await;
    let demote_owner = send(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/auth/users/{second_owner_id}/"),
        json!({ "role": "editor" }),
    )
    .await;
    assert_eq!(demote_owner.status(), StatusCode::OK, "another owner remains");

    let list: Value =
        app.get("/api/v1/auth/users/?role=admin", &owner.access).await.json().await.expect("json");
    assert_eq!(list["count"], 1);
    let search: Value =
        app.get("/api/v1/auth/users/?search=editor%40", &owner.access).await.json().await.expect("json");
    assert_eq!(search["count"], 1);

    let duplicate = send(
        &app,
        &owner,
        Method::POST,
        "/api/v1/auth/users/",
        json!({ "email": "ADMIN@example.com", "password": "pass-word-1", "role": "viewer" }),
    )
    .await;
    assert_eq!(error_of(duplicate, StatusCode::CONFLICT).await.0, "email_taken");

    let removed =
        send(&app, &owner, Method::DELETE, &format!("/api/v1/auth/users/{admin_id}/"), json!({})).await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let gone = app.get(&format!("/api/v1/auth/users/{admin_id}/"), &owner.access).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_last_owner_cannot_be_demoted() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let (_, second) = make_user(&app, &owner, "o2@example.com", "owner").await;
    let demote_first = send(
        &app,
        &second,
        Method::PATCH,
        &format!("/api/v1/auth/users/{}/", owner.user_id),
        json!({ "role": "admin" }),
    )
    .await;
    assert_eq!(demote_first.status(), StatusCode::OK);
    let demote_second = send(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/auth/users/{}/", second.user_id),
        json!({ "role": "admin" }),
    )
    .await;
    assert_eq!(demote_second.status(), StatusCode::FORBIDDEN, "admins cannot touch owners");
}

#[tokio::test]
async fn sites_and_sectors_crud() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let created = send(
        &app,
        &owner,
        Method::POST,
        "/api/v1/auth/sites/",
        json!({ "name": "My Shop!", "domain": "shop.example.com" }),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let site: Value = created.json().await.expect("json");
    let site_id = site["data"]["id"].as_i64().expect("id");
    assert_eq!(site["data"]["slug"], "my-shop");
    assert_eq!(site["data"]["is_active"], true);

    let clash = send(&app, &owner, Method::POST, "/api/v1/auth/sites/", json!({ "name": "My shop" })).await;
    let (code, errors) = error_of(clash, StatusCode::CONFLICT).await;
    assert_eq!(code, "already_exists");
    assert!(errors["slug"].is_array());

    let sector = send(
        &app,
        &owner,
        Method::POST,
        "/api/v1/auth/sectors/",
        json!({ "site_id": site_id, "name": "Running Shoes" }),
    )
    .await;
    assert_eq!(sector.status(), StatusCode::CREATED);
    let sector_id = sector.json::<Value>().await.expect("json")["data"]["id"].as_i64().expect("id");

    let renamed = send(
        &app,
        &owner,
        Method::PUT,
        &format!("/api/v1/auth/sectors/{sector_id}/"),
        json!({ "name": "Trail Shoes" }),
    )
    .await;
    assert_eq!(renamed.json::<Value>().await.expect("json")["data"]["name"], "Trail Shoes");
    let listed: Value = app
        .get(&format!("/api/v1/auth/sites/{site_id}/sectors/"), &owner.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed["count"], 1);
    let by_site: Value = app
        .get(&format!("/api/v1/auth/sectors/?site_id={site_id}"), &owner.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(by_site["count"], 1);

    let patched = send(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/auth/sites/{site_id}/"),
        json!({ "is_active": false }),
    )
    .await;
    assert_eq!(patched.json::<Value>().await.expect("json")["data"]["is_active"], false);
    let inactive: Value = app
        .get("/api/v1/auth/sites/?is_active=false&ordering=name", &owner.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(inactive["count"], 1);

    // Viewers read but do not write.
    let (_, viewer) = make_user(&app, &owner, "viewer@example.com", "viewer").await;
    assert_eq!(
        app.get(&format!("/api/v1/auth/sites/{site_id}/"), &viewer.access).await.status(),
        StatusCode::OK
    );
    let denied = send(&app, &viewer, Method::POST, "/api/v1/auth/sites/", json!({ "name": "Nope" })).await;
    assert_eq!(error_of(denied, StatusCode::FORBIDDEN).await.0, "permission_denied");

    // Deleting the site takes its sectors with it.
    let deleted =
        send(&app, &owner, Method::DELETE, &format!("/api/v1/auth/sites/{site_id}/"), json!({})).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/api/v1/auth/sectors/{sector_id}/"), &owner.access).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn schedules_are_validated_and_show_their_next_fire_times() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let created = send(
        &app,
        &owner,
        Method::POST,
        "/api/v1/system/schedules/",
        json!({ "name": "Nightly ping", "cron": "0 3 * * *", "timezone": "Europe/Paris", "kind": "system.ping", "payload": { "steps": 2 } }),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let body: Value = created.json().await.expect("json");
    let id = body["data"]["id"].as_i64().expect("id");
    let times = body["data"]["next_fire_times"].as_array().expect("times");
    assert_eq!(times.len(), 5);
    assert_eq!(body["data"]["next_fire_at"], times[0]);
    // 03:00 in Paris is 01:00 or 02:00 UTC depending on the season.
    assert!(
        times[0].as_str().expect("time").contains("T01:00:00")
            || times[0].as_str().expect("time").contains("T02:00:00")
    );

    // Crontab's weekdays (1-5 is Monday to Friday; Quartz would read Sunday to Thursday), at
    // 09:00 on the Paris wall clock.
    let weekdays = send(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/system/schedules/{id}/"),
        json!({ "cron": "0 9 * * 1-5" }),
    )
    .await;
    let body: Value = weekdays.json().await.expect("json");
    let paris: chrono_tz::Tz = "Europe/Paris".parse().expect("zone");
    for time in body["data"]["next_fire_times"].as_array().expect("times") {
        let at = chrono::DateTime::parse_from_rfc3339(time.as_str().expect("time")).expect("rfc3339");
        let local = at.with_timezone(&paris);
        assert!(local.weekday().num_days_from_monday() < 5, "{local} is a weekday");
        assert_eq!((local.hour(), local.minute()), (9, 0), "{local}");
    }
    for sunday in ["0 9 * * 0", "0 9 * * 7", "0 9 * * SUN"] {
        let response = send(
            &app,
            &owner,
            Method::PATCH,
            &format!("/api/v1/system/schedules/{id}/"),
            json!({ "cron": sunday }),
        )
        .await;
        let body: Value = response.json().await.expect("json");
        let first = body["data"]["next_fire_times"][0].as_str().expect("time").to_owned();
        let local = chrono::DateTime::parse_from_rfc3339(&first).expect("rfc3339").with_timezone(&paris);
        assert_eq!(local.weekday(), chrono::Weekday::Sun, "{sunday}: {local}");
    }

    for (change, field) in [
        (json!({ "cron": "every day" }), "cron"),
        (json!({ "cron": "0 9 * * 8" }), "cron"),
        (json!({ "cron": "61 * * * *" }), "cron"),
        (json!({ "timezone": "Mars/Olympus" }), "timezone"),
        (json!({ "kind": "no.such.kind" }), "kind"),
        (json!({ "payload": { "steps": 0 } }), "payload.steps"),
        (json!({ "payload": [1] }), "payload"),
        // Every kind's payload is read by its own type, not just the ones the API enqueues.
        (json!({ "kind": "social.publish", "payload": { "post_id": "seven" } }), "payload.post_id"),
        (json!({ "kind": "seo.audit", "payload": { "url": "http://169.254.169.254/" } }), "payload.url"),
        (json!({ "kind": "writer.generate_images", "payload": { "image_ids": [] } }), "payload.image_ids"),
    ] {
        let response =
            send(&app, &owner, Method::PATCH, &format!("/api/v1/system/schedules/{id}/"), change.clone())
                .await;
        let (_, errors) = error_of(response, StatusCode::BAD_REQUEST).await;
        assert!(errors[field].is_array(), "{change} should name {field}: {errors}");
    }

    let paused = send(
        &app,
        &owner,
        Method::PATCH,
        &format!("/api/v1/system/schedules/{id}/"),
        json!({ "enabled": false }),
    )
    .await;
    let body: Value = paused.json().await.expect("json");
    assert!(body["data"]["next_fire_at"].is_null());
    assert_eq!(body["data"]["next_fire_times"], json!([]));

    let list: Value =
        app.get("/api/v1/system/schedules/?enabled=false", &owner.access).await.json().await.expect("json");
    assert_eq!(list["count"], 1);
    let (_, viewer) = make_user(&app, &owner, "sched-viewer@example.com", "viewer").await;
    assert_eq!(
        app.get(&format!("/api/v1/system/schedules/{id}/"), &viewer.access).await.status(),
        StatusCode::OK
    );
    let denied =
        send(&app, &viewer, Method::DELETE, &format!("/api/v1/system/schedules/{id}/"), json!({})).await;
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    let removed =
        send(&app, &owner, Method::DELETE, &format!("/api/v1/system/schedules/{id}/"), json!({})).await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
}
