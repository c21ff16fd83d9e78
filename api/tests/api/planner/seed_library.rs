//! The seed keyword library and copying from it.

use super::*;

#[tokio::test]
async fn seed_library_reads_and_filters() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    // Public reference data: it answers without a token too.
    let industries: Value = app
        .request(Method::GET, "/api/v1/auth/industries/?page_size=100", None)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(industries["count"], 10);
    let coffee = industries["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|industry| industry["slug"] == "coffee")
        .expect("coffee industry")
        .clone();
    let coffee_id = coffee["id"].as_i64().expect("id");
    let one = get(&app, &owner, &format!("/api/v1/auth/industries/{coffee_id}/")).await;
    assert_eq!(one["data"]["name"], "Coffee");
    error_of(app.get("/api/v1/auth/industries/999999/", &owner.access).await, StatusCode::NOT_FOUND).await;
    let searched = get(&app, &owner, "/api/v1/auth/industries/?search=coff").await;
    assert_eq!(searched["count"], 1);

    let page =
        get(&app, &owner, &format!("/api/v1/auth/seed-keywords/?industry_id={coffee_id}&page_size=100"))
            .await;
    let rows = page["results"].as_array().expect("results");
    assert!(rows.len() >= 10);
    assert!(rows.iter().all(|row| row["industry_id"] == coffee_id));
    let keywords: Vec<&str> = rows.iter().map(|row| row["keyword"].as_str().expect("keyword")).collect();
    let mut sorted = keywords.clone();
    sorted.sort_unstable();
    assert_eq!(keywords, sorted, "ordered by keyword by default");

    let by_volume = get(
        &app,
        &owner,
        &format!("/api/v1/auth/seed-keywords/?industry_id={coffee_id}&ordering=-volume&page_size=100"),
    )
    .await;
    let volumes: Vec<i64> = by_volume["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|row| row["volume"].as_i64().expect("volume"))
        .collect();
    assert!(volumes.windows(2).all(|pair| pair[0] >= pair[1]), "{volumes:?}");

    let filtered = get(
        &app,
        &owner,
        &format!(
            "/api/v1/auth/seed-keywords/?industry_id={coffee_id}&intent=informational&volume_min=5000&\
             difficulty_max=25&search=COFFEE&page_size=100"
        ),
    )
    .await;
    assert_eq!(keywords_of(&filtered), ["how to descale a coffee maker", "pour over coffee ratio"]);
    let seed_id = filtered["results"][0]["id"].as_i64().expect("id");
    let one = get(&app, &owner, &format!("/api/v1/auth/seed-keywords/{seed_id}/")).await;
    assert_eq!(one["data"]["volume"], 14800);
    let upside_down = get(&app, &owner, "/api/v1/auth/seed-keywords/?volume_min=10&volume_max=1").await;
    assert_eq!(upside_down["count"], 0);
    error_of(app.get("/api/v1/auth/seed-keywords/999999/", &owner.access).await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn bulk_add_from_seed_copies_each_seed_once() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let site_id = site(&app, &owner, "Coffee blog").await;
    let sector_id = sector(&app, &owner, site_id, "Brewing").await;
    let seeds =
        get(&app, &owner, "/api/v1/auth/seed-keywords/?search=coffee&ordering=keyword&page_size=3").await;
    let seeds = seeds["results"].as_array().expect("results").clone();
    assert_eq!(seeds.len(), 3);
    let seed_ids: Vec<i64> = seeds.iter().map(|seed| seed["id"].as_i64().expect("id")).collect();
    // One of them is already on the sector, typed by hand in another case.
    let typed = seeds[0]["keyword"].as_str().expect("keyword").to_uppercase();
    keyword(&app, &owner, json!({ "keyword": typed, "site_id": site_id, "sector_id": sector_id })).await;

    let body = json!({ "seed_keyword_ids": seed_ids, "site_id": site_id, "sector_id": sector_id });
    let added =
        ok(app.post("/api/v1/planner/keywords/bulk_add_from_seed/", Some(&owner.access), body.clone()).await)
            .await;
    assert_eq!(added["data"]["added_count"], 2);
    let rows = added["data"]["keywords"].as_array().expect("keywords");
    for seed in &seeds[1..] {
        let row = rows.iter().find(|row| row["seed_keyword_id"] == seed["id"]).expect("copied seed");
        assert_eq!(row["keyword"], seed["keyword"]);
        assert_eq!(row["volume"], seed["volume"]);
        assert_eq!(row["difficulty"], seed["difficulty"]);
        assert_eq!(row["intent"], seed["intent"]);
        assert_eq!(row["seed_keyword_id"], seed["id"]);
        assert_eq!(row["sector_id"], sector_id);
    }
    // Again: nothing new.
    let again =
        ok(app.post("/api/v1/planner/keywords/bulk_add_from_seed/", Some(&owner.access), body).await).await;
    assert_eq!(again["data"]["added_count"], 0);
    assert_eq!(get(&app, &owner, "/api/v1/planner/keywords/").await["count"], 3);
    let by_seed =
        get(&app, &owner, &format!("/api/v1/planner/keywords/?seed_keyword_id={}", seed_ids[1])).await;
    assert_eq!(by_seed["count"], 1);

    for (body, field, status) in [
        (json!({ "seed_keyword_ids": [], "site_id": site_id }), "seed_keyword_ids", INVALID),
        (json!({ "seed_keyword_ids": seed_ids }), "site_id", INVALID),
        (json!({ "seed_keyword_ids": seed_ids, "site_id": 999_999 }), "site_id", MISSING),
    ] {
        let response =
            app.post("/api/v1/planner/keywords/bulk_add_from_seed/", Some(&owner.access), body).await;
        let (_, errors) = error_of(response, status).await;
        assert!(errors.get(field).is_some(), "{errors}");
    }
}
