//! Compression and caching headers, as the seeds' clients and caches read them.

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::spawn_app;

#[tokio::test]
async fn answers_are_compressed_on_request_and_cached_by_whom_they_belong_to() {
    let app = spawn_app().await;
    let user = app.signup().await;
    // A client that shows the bytes as sent (the test helpers' client decompresses).
    let raw = reqwest::Client::builder().no_gzip().no_brotli().no_deflate().build().expect("client");
    let url = |path: &str| format!("{}{path}", app.address);

    for encoding in ["gzip", "br"] {
        let response = raw
            .get(url("/api/v1/auth/industries/"))
            .header(header::ACCEPT_ENCODING, encoding)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_ENCODING], encoding);
    }
    let plain = raw.get(url("/api/v1/auth/industries/")).send().await.expect("sent");
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none(), "only when asked");
    // The public catalogue may be kept by any cache for an hour.
    assert_eq!(plain.headers()[header::CACHE_CONTROL], "public, max-age=3600");

    // The caller's own rows: private, revalidated, with an ETag and the row's Last-Modified.
    let created: Value = app
        .post("/api/v1/auth/sites/", Some(&user.access), json!({ "name": "Cached site" }))
        .await
        .json()
        .await
        .expect("json");
    let path = format!("/api/v1/auth/sites/{}/", created["data"]["id"]);
    let first = app.get(&path, &user.access).await;
    assert_eq!(first.headers()[header::CACHE_CONTROL], "private, no-cache");
    let etag = first.headers()[header::ETAG].to_str().expect("etag").to_owned();
    assert!(etag.starts_with("W/\""), "{etag}");
    assert!(first.headers().get(header::LAST_MODIFIED).is_some());
    let again = app
        .request(reqwest::Method::GET, &path, Some(&user.access))
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .expect("sent");
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.bytes().await.expect("body").is_empty());

    // A change makes a new tag: the old one no longer matches.
    app.request(reqwest::Method::PATCH, &path, Some(&user.access))
        .json(&json!({ "name": "Renamed site" }))
        .send()
        .await
        .expect("sent");
    let changed = app
        .request(reqwest::Method::GET, &path, Some(&user.access))
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .expect("sent");
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(changed.headers()[header::ETAG].to_str().expect("etag"), etag);
}
