//! An HTTP proxy for tests that dials only loopback. Clients under test send every request
//! through it (`FetchSettings::proxy`, `OUTBOUND_PROXY`): requests for 127.0.0.0/8, ::1 or
//! `localhost` are forwarded unchanged; anything else is answered 502 without a connection
//! and recorded, so a guard that let an inside or outside address through fails the test
//! instead of sending traffic off the machine.

use std::{
    net::IpAddr,
    sync::{Arc, Mutex, PoisonError},
};

use actix_web::{HttpRequest, HttpResponse, dev::ServerHandle, http::StatusCode, web};

/// Headers that belong to one hop, not to the request or answer.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "proxy-connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "upgrade",
    "proxy-authorization",
    "content-length",
];

struct Inner {
    client: reqwest::Client,
    refused: Mutex<Vec<String>>,
}

/// The running proxy; stops when dropped.
pub struct LoopbackProxy {
    url: String,
    inner: Arc<Inner>,
    handle: ServerHandle,
}

impl LoopbackProxy {
    pub async fn start() -> Self {
        let client = reqwest::Client::builder()
            .no_proxy()
            .no_gzip()
            .no_brotli()
            .no_deflate()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("proxy client");
        let (listener, port) = super::loopback_listener();
        let inner = Arc::new(Inner { client, refused: Mutex::new(Vec::new()) });
        let handle = super::serve_fake(listener, inner.clone(), forward);
        Self { url: format!("http://127.0.0.1:{port}"), inner, handle }
    }

    /// `http://127.0.0.1:<port>`
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The targets it refused to dial, in order.
    pub fn refused(&self) -> Vec<String> {
        self.inner.refused.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Drop for LoopbackProxy {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost") || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

async fn forward(request: HttpRequest, body: web::Bytes, inner: web::Data<Inner>) -> HttpResponse {
    let target = request.uri().to_string();
    let host = request.uri().host().unwrap_or_default().to_owned();
    if request.uri().scheme().is_none() || !is_loopback(&host) {
        inner.refused.lock().unwrap_or_else(PoisonError::into_inner).push(target.clone());
        return HttpResponse::BadGateway().body(format!("the test proxy dials only loopback, not {target}"));
    }
    let method =
        reqwest::Method::from_bytes(request.method().as_str().as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut outgoing = inner.client.request(method, &target).body(body.to_vec());
    for (name, value) in request.headers() {
        if !HOP_BY_HOP.contains(&name.as_str()) && name.as_str() != "host" {
            outgoing = outgoing.header(name.as_str(), value.as_bytes());
        }
    }
    let answer = match outgoing.send().await {
        Ok(answer) => answer,
        Err(error) => {
            return HttpResponse::BadGateway()
                .body(format!("the test proxy could not reach {target}: {error}"));
        }
    };
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = HttpResponse::build(status);
    for (name, value) in answer.headers() {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            response.append_header((name.as_str(), value.as_bytes()));
        }
    }
    match answer.bytes().await {
        Ok(bytes) => response.body(bytes),
        Err(error) => HttpResponse::BadGateway().body(format!("the test proxy lost the answer: {error}")),
    }
}
