//! Caching headers, by the seeds' strategy: reads of the public catalogue (the same for every
//! caller) may be kept for an hour by any cache; everything else is the caller's own data,
//! `private, no-cache`. A JSON read gets an ETag of its body (`If-None-Match` with it answers
//! 304 and no body) and, when it is one row with an `updated_at`, a `Last-Modified`.

use actix_web::{
    Error, HttpResponse,
    body::{self, BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{
        Method, StatusCode,
        header::{self, HeaderValue},
    },
    middleware::Next,
};

/// Paths whose answers hold no tenant's data.
const PUBLIC_CATALOGUE: [&str; 3] =
    ["/api/v1/auth/industries", "/api/v1/auth/seed-keywords", "/api/v1/billing/packages"];
/// How long the public catalogue may be kept ("dynamic content: 1 hour").
const PUBLIC_MAX_AGE: &str = "public, max-age=3600";
/// Bodies above this are sent without an ETag rather than hashed.
const MAX_TAGGED_BODY: usize = 4 * 1024 * 1024;

pub async fn caching(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let is_read = matches!(*req.method(), Method::GET | Method::HEAD);
    let public = PUBLIC_CATALOGUE.iter().any(|prefix| req.path().starts_with(prefix));
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
    let response = next.call(req).await?.map_into_boxed_body();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !is_read
        || response.status() != StatusCode::OK
        || response.headers().contains_key(header::CACHE_CONTROL)
    {
        return Ok(response);
    }
    let policy = if public { PUBLIC_MAX_AGE } else { "private, no-cache" };
    let (request, mut answer) = response.into_parts();
    answer.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    if !is_json {
        return Ok(ServiceResponse::new(request, answer));
    }
    let head = answer.head().clone();
    let bytes = match body::to_bytes_limited(answer.into_body(), MAX_TAGGED_BODY).await {
        Ok(Ok(bytes)) => bytes,
        // Too big to hash, or a body that failed: keep what can be kept.
        _ => return Ok(ServiceResponse::new(request, rebuild(&head, BoxBody::new(())))),
    };
    let etag = format!("W/\"{}\"", &shared::auth::sha256_hex(&bytes)[..32]);
    if if_none_match.as_ref().and_then(|value| value.to_str().ok()).is_some_and(|sent| matches(sent, &etag)) {
        let mut not_modified = rebuild(&head, BoxBody::new(()));
        *not_modified.status_mut() = StatusCode::NOT_MODIFIED;
        not_modified.headers_mut().remove(header::CONTENT_TYPE);
        not_modified.headers_mut().remove(header::CONTENT_LENGTH);
        set_etag(&mut not_modified, &etag);
        return Ok(ServiceResponse::new(request, not_modified));
    }
    let modified = last_modified(&bytes);
    let mut full = rebuild(&head, BoxBody::new(bytes));
    set_etag(&mut full, &etag);
    if let Some(modified) = modified.and_then(|text| HeaderValue::from_str(&text).ok()) {
        full.headers_mut().insert(header::LAST_MODIFIED, modified);
    }
    Ok(ServiceResponse::new(request, full))
}

fn rebuild(head: &actix_web::dev::ResponseHead, body: BoxBody) -> HttpResponse {
    let mut response = HttpResponse::with_body(head.status, body);
    for (name, value) in head.headers.iter() {
        response.headers_mut().append(name.clone(), value.clone());
    }
    response
}

fn set_etag(response: &mut HttpResponse, etag: &str) {
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
}

/// `If-None-Match`: `*`, or a list of tags compared weakly (RFC 9110 §13.1.2).
fn matches(sent: &str, etag: &str) -> bool {
    let bare = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    sent.trim() == "*" || sent.split(',').any(|tag| bare(tag) == bare(etag))
}

/// The HTTP date of a single row's `data.updated_at`, if the answer is one row. Only that
/// field is kept while the body is read: a page of rows costs a scan, not a copy.
fn last_modified(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Answer {
        data: Option<Row>,
    }
    #[derive(serde::Deserialize)]
    struct Row {
        updated_at: Option<chrono::DateTime<chrono::Utc>>,
    }
    let Answer { data } = serde_json::from_slice(body).ok()?;
    let updated = data?.updated_at?;
    Some(updated.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_compare_weakly_and_dates_are_http_dates() {
        assert!(matches("W/\"abc\"", "W/\"abc\""));
        assert!(matches("\"x\", \"abc\"", "W/\"abc\""));
        assert!(matches("*", "W/\"abc\""));
        assert!(!matches("\"abd\"", "W/\"abc\""));
        let body = br#"{"success":true,"data":{"id":1,"updated_at":"2026-12-07T13:45:10.123Z"}}"#;
        assert_eq!(last_modified(body).as_deref(), Some("Mon, 07 Dec 2026 13:45:10 GMT"));
        assert_eq!(last_modified(br#"{"count":1,"results":[]}"#), None);
    }
}
