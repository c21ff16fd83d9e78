//! `auth/site-access/`: owners and admins grant editors and viewers sites, and a user limited
//! to one site never sees, changes or deletes another site's rows — over every item path of
//! the OpenAPI document, every site-owned list and the bulk actions.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, TestUser, error_of, spawn_app},
    isolation::{Probed, probe, snapshot, victims_rows},
};

/// The path prefixes of site-owned rows.
const SITE_OWNED: [&str; 8] = [
    "/api/v1/auth/sites",
    "/api/v1/auth/sectors",
    "/api/v1/planner/clusters",
    "/api/v1/planner/keywords",
    "/api/v1/planner/ideas",
    "/api/v1/writer/tasks",
    "/api/v1/writer/content",
    "/api/v1/writer/images",
];

async fn created(app: &TestApp, user: &TestUser, path: &str, body: Value) -> Value {
    let response = app.post(path, Some(&user.access), body).await;
    let status = response.status();
    let answer: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{path}: {answer}");
    answer["data"].clone()
}

/// A user of `owner`'s account with `role`, logged in.
async fn member(app: &TestApp, owner: &TestUser, role: &str) -> TestUser {
    let email = format!("{role}-{}@example.com", uuid::Uuid::new_v4().simple());
    let body = json!({ "email": email, "password": "long-enough", "role": role });
    created(app, owner, "/api/v1/auth/users/", body).await;
    app.login(&email, "long-enough").await
}

async fn grant(app: &TestApp, admin: &TestUser, user: &TestUser, site: i64) -> Value {
    created(app, admin, "/api/v1/auth/site-access/", json!({ "user": user.user_id, "site": site })).await
}

async fn send(app: &TestApp, method: Method, path: &str, user: &TestUser, body: Value) -> reqwest::Response {
    app.request(method, path, Some(&user.access)).json(&body).send().await.expect("request")
}

#[tokio::test]
async fn owners_and_admins_grant_move_and_revoke_site_access() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    app.on_plan(&owner, "growth").await;
    let site_a = created(&app, &owner, "/api/v1/auth/sites/", json!({ "name": "A" })).await["id"]
        .as_i64()
        .expect("id");
    let site_b = created(&app, &owner, "/api/v1/auth/sites/", json!({ "name": "B" })).await["id"]
        .as_i64()
        .expect("id");
    let editor = member(&app, &owner, "editor").await;
    let admin = member(&app, &owner, "admin").await;

    let first = grant(&app, &admin, &editor, site_a).await;
    assert_eq!(first["user"], editor.user_id);
    assert_eq!(first["user_email"], editor.email.as_str());
    assert_eq!(first["site"], site_a);
    assert_eq!(first["site_name"], "A");
    assert_eq!(first["granted_by"], admin.user_id);
    let first_id = first["id"].as_i64().expect("id");

    let again = app
        .post(
            "/api/v1/auth/site-access/",
            Some(&owner.access),
            json!({ "user_id": editor.user_id, "site_id": site_a }),
        )
        .await;
    let (code, body) = error_of(again, StatusCode::CONFLICT).await;
    assert_eq!(code, "already_granted", "{body}");
    let to_admin = app
        .post(
            "/api/v1/auth/site-access/",
            Some(&owner.access),
            json!({ "user": admin.user_id, "site": site_a }),
        )
        .await;
    let (_, body) = error_of(to_admin, StatusCode::BAD_REQUEST).await;
    assert!(body["user"].is_array(), "{body}");
    let stranger = app.signup().await;
    let foreign_site =
        created(&app, &stranger, "/api/v1/auth/sites/", json!({ "name": "Theirs" })).await["id"]
            .as_i64()
            .expect("id");
    let foreign = app
        .post(
            "/api/v1/auth/site-access/",
            Some(&owner.access),
            json!({ "user": editor.user_id, "site": foreign_site }),
        )
        .await;
    let (_, body) = error_of(foreign, StatusCode::NOT_FOUND).await;
    assert!(body["site"].is_array(), "{body}");
    let no_site =
        app.post("/api/v1/auth/site-access/", Some(&owner.access), json!({ "user": editor.user_id })).await;
    let (_, body) = error_of(no_site, StatusCode::BAD_REQUEST).await;
    assert!(body["site"].is_array(), "{body}");
    let by_editor = app
        .post(
            "/api/v1/auth/site-access/",
            Some(&editor.access),
            json!({ "user": editor.user_id, "site": site_b }),
        )
        .await;
    assert_eq!(by_editor.status(), StatusCode::FORBIDDEN);
    let seen_by_stranger = app.get(&format!("/api/v1/auth/site-access/{first_id}/"), &stranger.access).await;
    assert_eq!(seen_by_stranger.status(), StatusCode::NOT_FOUND);

    let last =
        send(&app, Method::DELETE, &format!("/api/v1/auth/site-access/{first_id}/"), &owner, json!({})).await;
    let (code, _) = error_of(last, StatusCode::CONFLICT).await;
    assert_eq!(code, "last_site_access");

    let moved = send(
        &app,
        Method::PUT,
        &format!("/api/v1/auth/site-access/{first_id}/"),
        &owner,
        json!({ "user": editor.user_id, "site": site_b }),
    )
    .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let moved: Value = moved.json().await.expect("json");
    assert_eq!(moved["data"]["site"], site_b);
    let other_user = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/auth/site-access/{first_id}/"),
        &owner,
        json!({ "user": admin.user_id, "site": site_a }),
    )
    .await;
    let (_, body) = error_of(other_user, StatusCode::BAD_REQUEST).await;
    assert!(body["user"].is_array(), "{body}");

    let second = grant(&app, &owner, &editor, site_a).await;
    let listed: Value = app
        .get(&format!("/api/v1/auth/site-access/?user={}", editor.user_id), &owner.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed["count"], 2, "{listed}");
    let revoked =
        send(&app, Method::DELETE, &format!("/api/v1/auth/site-access/{}/", second["id"]), &owner, json!({}))
            .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let sites: Value = app.get("/api/v1/auth/sites/", &editor.access).await.json().await.expect("json");
    let ids: Vec<&Value> =
        sites["results"].as_array().expect("results").iter().map(|site| &site["id"]).collect();
    assert_eq!(ids, [&json!(site_b)], "the editor reaches B only: {sites}");
}

#[tokio::test]
async fn a_user_limited_to_one_site_never_sees_or_touches_another_sites_rows() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    app.on_plan(&owner, "growth").await;
    // Every site-owned row of `victims_rows` is on the owner's first site.
    let rows = victims_rows(&app, &owner).await;
    let site_b = rows["/api/v1/auth/sites"].id.parse::<i64>().expect("id");
    let site_a = created(&app, &owner, "/api/v1/auth/sites/", json!({ "name": "Mine" })).await["id"]
        .as_i64()
        .expect("id");
    let own_keyword =
        created(&app, &owner, "/api/v1/planner/keywords/", json!({ "keyword": "mine", "site_id": site_a }))
            .await;
    let editor = member(&app, &owner, "editor").await;
    grant(&app, &owner, &editor, site_a).await;
    let before = snapshot(&app, &owner, &rows).await;

    let Probed { leaks, probed, .. } =
        probe(&app, &rows, &editor, |prefix| SITE_OWNED.contains(&prefix)).await;
    assert!(leaks.is_empty(), "another site's ids not answered 404:\n{}", leaks.join("\n"));
    assert!(probed >= 30, "only {probed} operations probed");

    for list in [
        "auth/sites",
        "auth/sectors",
        "planner/keywords",
        "planner/clusters",
        "planner/ideas",
        "writer/tasks",
        "writer/content",
        "writer/images",
    ] {
        let seen: Value =
            app.get(&format!("/api/v1/{list}/"), &editor.access).await.json().await.expect("json");
        for row in seen["results"].as_array().unwrap_or_else(|| panic!("{list}: {seen}")) {
            let site = if list == "auth/sites" { &row["id"] } else { &row["site_id"] };
            assert_eq!(site, &json!(site_a), "{list} shows another site's row: {row}");
        }
        if list != "auth/sites" {
            let path = format!("/api/v1/{list}/?site_id={site_b}");
            let filtered: Value = app.get(&path, &editor.access).await.json().await.expect("json");
            assert_eq!(filtered["count"], 0, "{path}: {filtered}");
        }
    }
    let keywords: Value =
        app.get("/api/v1/planner/keywords/", &editor.access).await.json().await.expect("json");
    assert_eq!(keywords["count"], 1);
    assert_eq!(keywords["results"][0]["id"], own_keyword["id"]);

    let onto_b = app
        .post(
            "/api/v1/planner/keywords/",
            Some(&editor.access),
            json!({ "keyword": "sneaky", "site_id": site_b }),
        )
        .await;
    let (_, body) = error_of(onto_b, StatusCode::NOT_FOUND).await;
    assert!(body["site_id"].is_array(), "{body}");
    let moved = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/planner/keywords/{}/", own_keyword["id"]),
        &editor,
        json!({ "site_id": site_b }),
    )
    .await;
    assert_eq!(moved.status(), StatusCode::NOT_FOUND);
    let victim_keyword: i64 = rows["/api/v1/planner/keywords"].id.parse().expect("id");
    let bulk = app
        .post(
            "/api/v1/planner/keywords/bulk_delete/",
            Some(&editor.access),
            json!({ "ids": [victim_keyword] }),
        )
        .await;
    let bulk: Value = bulk.json().await.expect("json");
    assert_eq!(bulk["deleted_count"], 0, "{bulk}");
    let status = app
        .post(
            "/api/v1/planner/keywords/bulk_update_status/",
            Some(&editor.access),
            json!({ "ids": [victim_keyword], "status": "archived" }),
        )
        .await;
    let status: Value = status.json().await.expect("json");
    assert_eq!(status["updated_count"], 0, "{status}");
    let cluster_b = rows["/api/v1/planner/clusters"].id.parse::<i64>().expect("id");
    let ideas = app
        .post(
            "/api/v1/planner/clusters/auto_generate_ideas/",
            Some(&editor.access),
            json!({ "ids": [cluster_b] }),
        )
        .await;
    assert!(ideas.status().is_client_error(), "ideas for another site's cluster: {}", ideas.status());
    let clustering = app
        .post(
            "/api/v1/planner/keywords/auto_cluster/",
            Some(&editor.access),
            json!({ "ids": [victim_keyword] }),
        )
        .await;
    assert!(
        clustering.status().is_client_error(),
        "clustering another site's keywords: {}",
        clustering.status()
    );
    let export = app
        .get(&format!("/api/v1/planner/keywords/export/?site_id={site_b}"), &editor.access)
        .await
        .text()
        .await
        .expect("text");
    assert!(!export.contains("secret"), "the export shows another site's keyword: {export}");

    let after = snapshot(&app, &owner, &rows).await;
    for (path, seen) in &before {
        assert_eq!(&after[path], seen, "{path} changed");
    }
    // The owner, and an editor without grants, still reach both sites.
    let other_editor = member(&app, &owner, "editor").await;
    for user in [&owner, &other_editor] {
        let sites: Value = app.get("/api/v1/auth/sites/", &user.access).await.json().await.expect("json");
        assert_eq!(sites["count"], 2, "{sites}");
    }
}
