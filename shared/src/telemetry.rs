//! Tracing set-up shared by every binary: `RUST_LOG` filters, `LOG_FORMAT=json` switches to
//! JSON lines for log shippers. And the trace id (W3C Trace Context) that follows a request
//! into the commands it enqueues: the API serves each request inside [`with_trace_id`],
//! [`crate::tasks::NewTask`] picks the id up, the relay sends it as the message's `traceparent`
//! and the worker puts it in the task's span.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Installs the global subscriber. Safe to call more than once (later calls are no-ops), which
/// test harnesses rely on.
pub fn init(default_filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|format| format == "json");
    let registry = tracing_subscriber::registry().with(filter);
    let _ = if json {
        registry.with(fmt::layer().json().with_current_span(true)).try_init()
    } else {
        // Colours only for a terminal: piped logs (scripts/run, files) stay plain text.
        let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
        registry.with(fmt::layer().with_target(false).with_ansi(ansi)).try_init()
    };
}

tokio::task_local! {
    static TRACE_ID: String;
}

/// The trace id of the request being served, when there is one.
pub fn current_trace_id() -> Option<String> {
    TRACE_ID.try_with(Clone::clone).ok()
}

/// Runs `future` with `trace_id` as the current trace id.
pub async fn with_trace_id<F: std::future::Future>(trace_id: String, future: F) -> F::Output {
    TRACE_ID.scope(trace_id, future).await
}

/// A new trace id: 32 lowercase hex digits.
pub fn new_trace_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The trace id of a `traceparent` header (`00-<32 hex>-<16 hex>-<2 hex>`), if it is well
/// formed and not all zeros.
pub fn trace_id_of(traceparent: &str) -> Option<String> {
    let mut parts = traceparent.trim().split('-');
    let (version, trace_id, parent_id, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |text: &str, len: usize| {
        text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let valid = hex(version, 2)
        && version != "ff"
        && hex(trace_id, 32)
        && trace_id.bytes().any(|b| b != b'0')
        && hex(parent_id, 16)
        && hex(flags, 2);
    valid.then(|| trace_id.to_owned())
}

/// A `traceparent` that continues `trace_id` from a new parent.
pub fn traceparent(trace_id: &str) -> String {
    let parent = uuid::Uuid::new_v4().simple().to_string();
    format!("00-{trace_id}-{}-01", &parent[..16])
}

/// For test harnesses: logs only when `TEST_LOG` is set, so passing tests stay quiet.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some() {
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
        let _ = tracing_subscriber::registry().with(filter).with(fmt::layer().with_test_writer()).try_init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparents_round_trip_and_bad_ones_are_ignored() {
        let trace_id = new_trace_id();
        assert_eq!(trace_id_of(&traceparent(&trace_id)), Some(trace_id));
        assert_eq!(
            trace_id_of("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        for bad in [
            "",
            "00-abc-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(trace_id_of(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn the_current_trace_id_is_the_scopes() {
        assert_eq!(current_trace_id(), None);
        let inside = with_trace_id("abc".to_owned(), async { current_trace_id() }).await;
        assert_eq!(inside.as_deref(), Some("abc"));
    }
}
