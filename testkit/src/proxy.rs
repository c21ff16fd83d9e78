//! Proxies for tests. [`LoopbackProxy`] is an HTTP proxy that dials only loopback. Clients
//! under test send every request through it (`FetchSettings::proxy`, `OUTBOUND_PROXY`):
//! requests for 127.0.0.0/8, ::1 or `localhost` are forwarded unchanged; anything else is
//! answered 502 without a connection and recorded, so a guard that let an inside or outside
//! address through fails the test instead of sending traffic off the machine. A `CONNECT` to a
//! loopback port is answered 200 when the port accepts a connection and 502 when not, and
//! nothing is tunnelled: enough for the audit's https probe, which only asks. [`TcpProxy`]
//! stands in front of a real service (the broker) so a test can take it down and bring it
//! back.

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
        let (listener, port) = crate::serve::loopback_listener();
        let inner = Arc::new(Inner { client, refused: Mutex::new(Vec::new()) });
        let handle = crate::serve::serve_fake(listener, inner.clone(), forward);
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

/// Answers a `CONNECT`: whether the loopback target accepts a connection.
async fn connect(request: &HttpRequest, inner: &Inner) -> HttpResponse {
    let authority = request.uri().authority().map(ToString::to_string).unwrap_or_default();
    let host = request.uri().host().unwrap_or_default();
    if !is_loopback(host) {
        inner.refused.lock().unwrap_or_else(PoisonError::into_inner).push(authority.clone());
        return HttpResponse::BadGateway()
            .body(format!("the test proxy dials only loopback, not {authority}"));
    }
    match tokio::net::TcpStream::connect(authority.as_str()).await {
        Ok(_) => HttpResponse::Ok().finish(),
        Err(error) => {
            HttpResponse::BadGateway().body(format!("the test proxy could not reach {authority}: {error}"))
        }
    }
}

async fn forward(request: HttpRequest, payload: web::Payload, inner: web::Data<Inner>) -> HttpResponse {
    // Before reading a body: a CONNECT's body is the tunnel, which never ends.
    if request.method() == actix_web::http::Method::CONNECT {
        return connect(&request, &inner).await;
    }
    let body = match payload.to_bytes().await {
        Ok(body) => body,
        Err(error) => {
            return HttpResponse::BadRequest()
                .body(format!("the test proxy could not read the body: {error}"));
        }
    };
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

/// A TCP proxy in front of a real service that a test can take down and bring back, to see
/// how the system behaves while the service is unreachable (without stopping the service
/// other tests share).
pub struct TcpProxy {
    pub addr: std::net::SocketAddr,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    generation: tokio::sync::watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl TcpProxy {
    /// Listens on 127.0.0.1 and forwards to `target` while up.
    pub async fn start(target: std::net::SocketAddr, up: bool) -> Self {
        use std::sync::{Arc, atomic::AtomicBool};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let up = Arc::new(AtomicBool::new(up));
        let (generation, _) = tokio::sync::watch::channel(0u64);
        let (flag, generations) = (up.clone(), generation.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !flag.load(std::sync::atomic::Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let mut cut = generations.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self { addr, up, generation, task }
    }

    /// Refuses new connections and cuts the open ones.
    pub fn down(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        self.generation.send_modify(|generation| *generation += 1);
    }

    pub fn up(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// An AMQP URL that goes through this proxy.
    pub fn amqp_url(&self) -> String {
        format!("amqp://guest:guest@{}/%2f", self.addr)
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
