//! How every fake server listens: a loopback port of its own and a one-worker actix server.

/// A loopback listener on a free port, for a fake outside service; with its port.
pub fn loopback_listener() -> (std::net::TcpListener, u16) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("local address").port();
    (listener, port)
}

/// Serves every request on `listener` with `handler` in the background (one worker, no
/// signal handling, 64 MiB bodies), `state` as its `web::Data`. Stop it with the handle.
pub fn serve_fake<T, F, Args>(
    listener: std::net::TcpListener,
    state: std::sync::Arc<T>,
    handler: F,
) -> actix_web::dev::ServerHandle
where
    T: Send + Sync + 'static,
    F: actix_web::Handler<Args> + Clone + Send + 'static,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    use actix_web::{App, HttpServer, web};
    let data = web::Data::from(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
            .default_service(web::to(handler.clone()))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(0)
    .listen(listener)
    .expect("listen")
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    handle
}
