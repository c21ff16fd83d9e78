//! A fake Mastodon instance for tests (`testing` feature): `POST /api/v1/statuses` and
//! `GET /api/v1/accounts/verify_credentials` on
//! 127.0.0.1 with bearer tokens, `Idempotency-Key` (the same key answers the status it already
//! made), and scripted failures — 429 with `X-RateLimit-Reset`, 500 — as Mastodon sends them.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use actix_web::{HttpRequest, HttpResponse, dev::ServerHandle, web};
use serde_json::{Value, json};

#[derive(Clone, Debug)]
pub enum Failure {
    /// 429 with `X-RateLimit-Reset` this far ahead.
    RateLimited(Duration),
    ServerError,
}

struct State {
    token: String,
    statuses: Vec<Value>,
    by_key: BTreeMap<String, Value>,
    failures: VecDeque<Failure>,
    requests: usize,
}

struct Inner {
    base: String,
    state: Mutex<State>,
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub struct FakeMastodon {
    inner: Arc<Inner>,
    handle: ServerHandle,
}

impl FakeMastodon {
    pub async fn start() -> Self {
        let (listener, port) = crate::testing::loopback_listener();
        let inner = Arc::new(Inner {
            base: format!("http://127.0.0.1:{port}"),
            state: Mutex::new(State {
                token: format!("masto-{}", uuid::Uuid::new_v4().simple()),
                statuses: Vec::new(),
                by_key: BTreeMap::new(),
                failures: VecDeque::new(),
                requests: 0,
            }),
        });
        let handle = crate::testing::serve_fake(listener, inner.clone(), handle);
        Self { inner, handle }
    }

    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    pub fn token(&self) -> String {
        self.inner.state().token.clone()
    }

    /// The token stops working, as when the user revokes the app.
    pub fn revoke(&self) {
        self.inner.state().token = "revoked".to_owned();
    }

    pub fn push_failure(&self, failure: Failure) {
        self.inner.state().failures.push_back(failure);
    }

    /// Statuses made, in order.
    pub fn statuses(&self) -> Vec<Value> {
        self.inner.state().statuses.clone()
    }

    /// Sets a status's counts, as readers would.
    pub fn react(&self, id: &str, favourites: i64, reblogs: i64, replies: i64) {
        let mut state = self.inner.state();
        if let Some(status) = state.statuses.iter_mut().find(|status| status["id"] == id) {
            status["favourites_count"] = json!(favourites);
            status["reblogs_count"] = json!(reblogs);
            status["replies_count"] = json!(replies);
        }
    }

    pub fn requests(&self) -> usize {
        self.inner.state().requests
    }
}

impl Drop for FakeMastodon {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

async fn handle(request: HttpRequest, body: web::Bytes, inner: web::Data<Inner>) -> HttpResponse {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut state = inner.state();
    state.requests += 1;
    if header("authorization") != Some(format!("Bearer {}", state.token)) {
        return HttpResponse::Unauthorized().json(json!({ "error": "The access token is invalid" }));
    }
    if request.method() == actix_web::http::Method::GET
        && request.path() == "/api/v1/accounts/verify_credentials"
    {
        return HttpResponse::Ok().json(json!({ "id": "1", "username": "switchyard", "acct": "switchyard" }));
    }
    if request.method() == actix_web::http::Method::GET
        && let Some(id) = request.path().strip_prefix("/api/v1/statuses/")
    {
        return match state.statuses.iter().find(|status| status["id"] == id) {
            Some(status) => HttpResponse::Ok().json(status),
            None => HttpResponse::NotFound().json(json!({ "error": "Record not found" })),
        };
    }
    if request.method() != actix_web::http::Method::POST || request.path() != "/api/v1/statuses" {
        return HttpResponse::NotFound().json(json!({ "error": "Record not found" }));
    }
    match state.failures.pop_front() {
        Some(Failure::RateLimited(wait)) => {
            let reset = chrono::Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
            return HttpResponse::TooManyRequests()
                .insert_header(("X-RateLimit-Limit", "300"))
                .insert_header(("X-RateLimit-Remaining", "0"))
                .insert_header((
                    "X-RateLimit-Reset",
                    reset.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                ))
                .json(json!({ "error": "Too many requests" }));
        }
        Some(Failure::ServerError) => {
            return HttpResponse::InternalServerError().json(json!({ "error": "Something went wrong" }));
        }
        None => {}
    }
    let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let text = input["status"].as_str().unwrap_or_default().to_owned();
    if text.is_empty() {
        return HttpResponse::UnprocessableEntity()
            .json(json!({ "error": "Validation failed: Text can't be blank" }));
    }
    if text.chars().count() > 500 {
        return HttpResponse::UnprocessableEntity()
            .json(json!({ "error": "Validation failed: Text character limit of 500 exceeded" }));
    }
    if let Some(key) = header("idempotency-key")
        && let Some(existing) = state.by_key.get(&key)
    {
        return HttpResponse::Ok().json(existing.clone());
    }
    let id = format!("{}", 109_000_000_000_000_000u64 + state.statuses.len() as u64);
    let status = json!({
        "id": id,
        "uri": format!("{}/users/switchyard/statuses/{id}", inner.base),
        "url": format!("{}/@switchyard/{id}", inner.base),
        "content": format!("<p>{text}</p>"),
        "visibility": input["visibility"],
        "created_at": chrono::Utc::now().to_rfc3339(),
        "favourites_count": 0,
        "reblogs_count": 0,
        "replies_count": 0,
    });
    if let Some(key) = header("idempotency-key") {
        state.by_key.insert(key, status.clone());
    }
    state.statuses.push(status.clone());
    HttpResponse::Ok().json(status)
}
