//! CSV import (multipart and raw, line-numbered errors) and the streaming export.

use super::*;

#[tokio::test]
async fn csv_import_reports_each_bad_row_by_line() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let site_id = site(&app, &owner, "S").await;
    let sector_id = sector(&app, &owner, site_id, "Sec").await;
    keyword(&app, &owner, json!({ "keyword": "already here", "site_id": site_id, "sector_id": sector_id }))
        .await;
    let long = "k".repeat(256);
    let file = format!(
        "volume,keyword,difficulty,intent,status,notes\n\
         100,good one,10,commercial,pending,ignored\n\
         ,   ,5,,,\n\
         abc,bad volume,5,,,\n\
         10,too hard,101,,,\n\
         10,strange intent,5,curious,,\n\
         10,Good One,5,,,\n\
         10,{long},5,,,\n\
         \n\
         5,\"quoted, with comma\",7,Navigational,,\n\
         1,already here,1,,,\n\
         2,bad status,1,,done,\n"
    );
    let response = import_multipart(
        &app,
        &owner,
        &[("site_id", site_id.to_string()), ("sector_id", sector_id.to_string())],
        file.as_bytes(),
    )
    .await;
    let body = ok(response).await;
    assert_eq!(
        body["data"],
        json!({
            "imported_count": 2,
            "skipped_count": 8,
            "errors": [
                { "line": 3, "reason": "keyword is empty" },
                { "line": 4, "reason": "volume `abc` is not a whole number of 0 or more" },
                { "line": 5, "reason": "difficulty `101` is not a whole number between 0 and 100" },
                { "line": 6, "reason": "intent `curious` is not one of informational, commercial, transactional, navigational" },
                { "line": 7, "reason": "duplicate of line 2" },
                { "line": 8, "reason": "keyword is longer than 255 characters" },
                { "line": 11, "reason": "keyword already exists" },
                { "line": 12, "reason": "status `done` is not one of active, pending, archived" },
            ],
        })
    );
    let page = get(&app, &owner, "/api/v1/planner/keywords/?ordering=keyword").await;
    assert_eq!(keywords_of(&page), ["already here", "good one", "quoted, with comma"]);
    let good = &page["results"][1];
    assert_eq!(good["volume"], 100);
    assert_eq!(good["difficulty"], 10);
    assert_eq!(good["intent"], "commercial");
    assert_eq!(good["status"], "pending");
    assert_eq!(good["sector_id"], sector_id);
    assert_eq!(page["results"][2]["intent"], "navigational");

    // The same file again: every good row now exists.
    let again = ok(import_multipart(
        &app,
        &owner,
        &[("site_id", site_id.to_string()), ("sector_id", sector_id.to_string())],
        file.as_bytes(),
    )
    .await)
    .await;
    assert_eq!(again["data"]["imported_count"], 0);
    assert_eq!(again["data"]["errors"][0], json!({ "line": 2, "reason": "keyword already exists" }));
}

#[tokio::test]
async fn csv_import_takes_a_raw_body_with_bom_and_crlf() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let site_id = site(&app, &owner, "S").await;
    let file = "\u{feff}Keyword,Volume\r\nespresso,10\r\n\"multi\r\nline\",x\r\nlatte,20\r\n";
    let body = ok(import_raw(&app, &owner, &format!("site_id={site_id}"), file.as_bytes()).await).await;
    assert_eq!(
        body["data"],
        json!({
            "imported_count": 2,
            "skipped_count": 1,
            "errors": [{ "line": 3, "reason": "volume `x` is not a whole number of 0 or more" }],
        })
    );
    let page = get(&app, &owner, "/api/v1/planner/keywords/?ordering=keyword").await;
    assert_eq!(keywords_of(&page), ["espresso", "latte"]);
    assert_eq!(page["results"][0]["sector_id"], Value::Null);
}

#[tokio::test]
async fn csv_import_refuses_unusable_uploads() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    let site_id = site(&app, &owner, "S").await;
    let query = format!("site_id={site_id}");

    let (_, errors) = error_of(
        import_raw(&app, &owner, &query, b"volume,intent\n1,commercial\n").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(errors.get("file").is_some());
    let (_, errors) =
        error_of(import_raw(&app, &owner, "", b"keyword\nx\n").await, StatusCode::BAD_REQUEST).await;
    assert!(errors.get("site_id").is_some());
    let (_, errors) =
        error_of(import_raw(&app, &owner, "site_id=999999", b"keyword\nx\n").await, StatusCode::NOT_FOUND)
            .await;
    assert!(errors.get("site_id").is_some());
    let (_, errors) = error_of(
        import_multipart(&app, &owner, &[("site_id", "abc".into())], b"keyword\nx\n").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(errors.get("site_id").is_some());
    // A form field the import does not take is refused by name, as in JSON bodies.
    let fields = [("site_id", site_id.to_string()), ("sector", "1".into())];
    let (_, errors) = error_of(
        import_multipart(
            &app,
            &owner,
            &fields,
            b"keyword
x
",
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(errors.get("sector").is_some(), "{errors}");
    let json_body = app
        .post(&format!("/api/v1/planner/keywords/import_keywords/?{query}"), Some(&owner.access), json!({}))
        .await;
    error_of(json_body, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;

    let big = format!("keyword\n{}", "x".repeat(6 * 1024 * 1024));
    error_of(import_raw(&app, &owner, &query, big.as_bytes()).await, StatusCode::PAYLOAD_TOO_LARGE).await;
    let many: String =
        std::iter::once("keyword\n".to_owned()).chain((0..20_001).map(|i| format!("k{i}\n"))).collect();
    let (_, errors) =
        error_of(import_raw(&app, &owner, &query, many.as_bytes()).await, StatusCode::BAD_REQUEST).await;
    assert!(errors.get("file").is_some());
    assert_eq!(get(&app, &owner, "/api/v1/planner/keywords/").await["count"], 0);

    for (file, line) in
        [(&b"keyword\nfine\nbad\0cell\n"[..], "Line 3"), (b"keyword\nok\n\"open\nnever closed\n", "line 3")]
    {
        let (_, errors) =
            error_of(import_raw(&app, &owner, &query, file).await, StatusCode::BAD_REQUEST).await;
        let problem = errors["file"][0].as_str().unwrap_or_default();
        assert!(problem.contains(line), "{problem}");
    }
    assert_eq!(get(&app, &owner, "/api/v1/planner/keywords/").await["count"], 0);

    let viewer = member(&app, &owner, "viewer@example.com", "viewer").await;
    error_of(import_raw(&app, &viewer, &query, b"keyword\nx\n").await, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn export_streams_the_filtered_list_and_defuses_formulas() {
    let app = spawn_app().await;
    let owner = app.signup().await;
    app.on_plan(&owner, "agency").await;
    let site_id = site(&app, &owner, "S").await;
    let other_site = site(&app, &owner, "Other").await;
    let cluster =
        create(&app, &owner, "/api/v1/planner/clusters/", json!({ "name": "=Cluster", "site_id": site_id }))
            .await["id"]
            .as_i64()
            .expect("id");
    for (text, volume) in
        [("=HYPERLINK(\"x\")", 30), ("+1", 20), ("-2", 10), ("@sum", 40), ("plain, \"quoted\"", 50)]
    {
        keyword(
            &app,
            &owner,
            json!({ "keyword": text, "site_id": site_id, "volume": volume, "cluster_id": cluster }),
        )
        .await;
    }
    keyword(&app, &owner, json!({ "keyword": "elsewhere", "site_id": other_site, "volume": 99 })).await;

    let csv = export(&app, &owner, &format!("site_id={site_id}&ordering=-volume")).await;
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], "keyword,volume,difficulty,intent,status,cluster,site_id,sector_id,created_at");
    let firsts: Vec<String> =
        lines[1..6].iter().map(|line| line.rsplitn(9, ',').last().unwrap_or_default().to_owned()).collect();
    assert_eq!(firsts, ["\"plain, \"\"quoted\"\"\"", "'@sum", "\"'=HYPERLINK(\"\"x\"\")\"", "'+1", "'-2"]);
    assert!(lines[1].contains(&format!(",50,0,informational,active,'=Cluster,{site_id},,")), "{}", lines[1]);
    assert_eq!(lines[6], "");
    assert_eq!(lines.len(), 7, "{csv}");
    // The list's filters apply: a volume range and a search.
    let csv = export(&app, &owner, "volume_min=20&volume_max=40&ordering=volume").await;
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 3);
    assert!(
        rows[0].starts_with("'+1,20,")
            && rows[1].starts_with("\"'=HYPERLINK")
            && rows[2].starts_with("'@sum,40,")
    );
    let csv = export(&app, &owner, "search=elsewhere").await;
    assert_eq!(csv.lines().count(), 2);
    // An upside-down range matches nothing, as in the seed: just the header.
    assert_eq!(export(&app, &owner, "volume_min=9&volume_max=1").await.lines().count(), 1);

    // More rows than one batch: every row once, in order, across the keyset batches.
    let file: String = std::iter::once("keyword,volume\n".to_owned())
        .chain((0..2_500).map(|i| format!("bulk {i:04},{}\n", i % 7)))
        .collect();
    let imported =
        ok(import_raw(&app, &owner, &format!("site_id={other_site}"), file.as_bytes()).await).await;
    assert_eq!(imported["data"]["imported_count"], 2_500);
    let csv = export(&app, &owner, &format!("site_id={other_site}&search=bulk&ordering=volume")).await;
    let rows: Vec<(i64, String)> = csv
        .lines()
        .skip(1)
        .map(|line| {
            let mut cells = line.split(',');
            let keyword = cells.next().expect("keyword").to_owned();
            (cells.next().expect("volume").parse().expect("number"), keyword)
        })
        .collect();
    assert_eq!(rows.len(), 2_500);
    assert!(rows.windows(2).all(|pair| pair[0].0 <= pair[1].0), "ordered by volume");
    let mut names: Vec<&String> = rows.iter().map(|(_, keyword)| keyword).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 2_500, "no row twice");
}
