//! Every spelling of an inside address against every client that takes a tenant's URL — the
//! OpenAI base URL, the Odoo URL, the WordPress URL, a social platform's base URL and its media
//! URLs, SEO audits — with the guard refusing (its production default). Each call must come
//! back with the guard's refusal, and a listener on 127.0.0.1 at the port every URL names
//! must have accepted nothing.
//!
//! No test here may dial off the machine, even if the guard regressed. So only spellings that
//! land on this machine when dialled (127.0.0.0/8, 0.0.0.0, ::1, ::, IPv4-mapped) are ever
//! *called*; the IPv6 forms that route elsewhere (IPv4-compatible, NAT64, 6to4, Teredo) and the
//! metadata and private addresses are only given to constructors, which refuse without
//! sending (a constructor that accepted one fails the test before any call), and to the SEO
//! fetcher, which sends through the loopback-only test proxy.

use std::{net::TcpListener, time::Duration};

use shared::{
    ai::{AiError, OpenAiProvider, OpenAiSettings},
    net::OutboundGuard,
    odoo::{Connection as OdooConnection, OdooClient, OdooError},
    social::{self, Outgoing, Platform, SocialError, adapter_for},
    wordpress::{ClientSettings, Credentials, WordPressClient, WordPressError},
};
use testkit::{proxy::LoopbackProxy, social::FakeMastodon};
use url::Url;
use workers::seo::fetch::{FetchError, FetchSettings, Fetcher};

const TIMEOUT: Duration = Duration::from_secs(2);

/// Hosts that reach this machine when dialled: a connection would show on the listener.
const LANDS_HERE: &[&str] = &[
    "127.0.0.1",
    "2130706433",
    "127.1",
    "0x7f000001",
    "0177.0.0.1",
    "0",
    "0.0.0.0",
    "[::1]",
    "[::]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[::ffff:0.0.0.0]",
    // A name: refused by the guard's resolver, not by the URL check.
    "localhost",
];

/// Hosts that lead inside through a translator or a route off this machine; never dialled here.
const LEADS_ELSEWHERE: &[&str] = &[
    "[::7f00:1]",
    "[::127.0.0.1]",
    "[64:ff9b::7f00:1]",
    "[2002:7f00:1::]",
    "[2001:0:5ef5:79fb::80ff:fffe]",
    "[::ffff:169.254.169.254]",
    "[2002:a9fe:a9fe::]",
    "169.254.169.254",
    "2852039166",
    "10.0.0.1",
    "0xa.1",
];

/// A listener on 127.0.0.1 that only counts what connects.
struct Witness {
    listener: TcpListener,
    port: u16,
}

impl Witness {
    fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("address").port();
        Self { listener, port }
    }

    fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.port)
    }

    fn assert_untouched(&self) {
        let accepted = std::iter::from_fn(|| self.listener.accept().ok()).count();
        assert_eq!(accepted, 0, "a refused address was connected to");
    }
}

fn assert_refusal(what: &str, url: &str, message: &str) {
    assert!(message.contains("are refused"), "{what} {url}: not the guard's refusal: {message}");
}

fn openai(base_url: &str) -> Result<OpenAiProvider, AiError> {
    OpenAiProvider::new(OpenAiSettings {
        base_url: base_url.to_owned(),
        timeout: TIMEOUT,
        max_retries: 0,
        outbound_guard: Some(OutboundGuard::default()),
        ..OpenAiSettings::new("sk-test")
    })
}

fn odoo(url: &str) -> Result<OdooClient, OdooError> {
    let connection = OdooConnection {
        url: url.to_owned(),
        database: "db".to_owned(),
        login: "admin".to_owned(),
        api_key: String::from("key").into(),
    };
    OdooClient::new(connection, &OutboundGuard::default(), TIMEOUT, 0)
}

fn wordpress(url: &str) -> Result<WordPressClient, WordPressError> {
    let credentials = Credentials {
        base_url: url.to_owned(),
        username: "editor".to_owned(),
        app_password: String::from("abcd efgh ijkl mnop").into(),
    };
    let settings = ClientSettings { timeout: TIMEOUT, max_retries: 0, ..ClientSettings::default() };
    WordPressClient::new(&credentials, settings)
}

fn social(base_url: &str, guard: &OutboundGuard) -> Result<Box<dyn social::Adapter>, SocialError> {
    let connection =
        social::Connection { platform: Platform::Mastodon, base_url, token: "t", platform_user_id: "" };
    adapter_for(&connection, guard, TIMEOUT)
}

#[tokio::test]
async fn every_spelling_is_refused_by_every_client_before_connecting() {
    let witness = Witness::new();
    for host in LANDS_HERE {
        let url = witness.url(host, "/v1");
        let refused = match openai(&url) {
            Err(error) => error,
            Ok(provider) => provider.check().await.expect_err("refused"),
        };
        assert!(matches!(refused, AiError::Config(_)), "openai {url}: {refused:?}");
        assert_refusal("openai", &url, &refused.to_string());

        let url = witness.url(host, "");
        let refused = match odoo(&url) {
            Err(error) => error,
            Ok(client) => client.version().await.expect_err("refused"),
        };
        assert!(matches!(refused, OdooError::Config(_)), "odoo {url}: {refused:?}");
        assert_refusal("odoo", &url, &refused.to_string());

        let refused = match wordpress(&url) {
            Err(error) => error,
            Ok(client) => client.me().await.expect_err("refused"),
        };
        assert!(matches!(refused, WordPressError::Config(_)), "wordpress {url}: {refused:?}");
        assert_refusal("wordpress", &url, &refused.to_string());

        let refused = match social(&url, &OutboundGuard::default()) {
            Err(error) => error,
            Ok(adapter) => adapter.check().await.expect_err("refused"),
        };
        assert!(matches!(refused, SocialError::Refused(_)), "social {url}: {refused:?}");
        assert!(!refused.is_retryable());
        assert_refusal("social", &url, &refused.to_string());
    }
    for host in LEADS_ELSEWHERE {
        // Constructors only: they check before building anything, and must refuse.
        let url = witness.url(host, "");
        let refused = openai(&format!("{url}/v1")).err().unwrap_or_else(|| panic!("openai took {url}"));
        assert_refusal("openai", &url, &refused.to_string());
        let refused = odoo(&url).err().unwrap_or_else(|| panic!("odoo took {url}"));
        assert_refusal("odoo", &url, &refused.to_string());
        let refused = wordpress(&url).err().unwrap_or_else(|| panic!("wordpress took {url}"));
        assert_refusal("wordpress", &url, &refused.to_string());
        let refused =
            social(&url, &OutboundGuard::default()).err().unwrap_or_else(|| panic!("social took {url}"));
        assert_refusal("social", &url, &refused.to_string());
    }
    witness.assert_untouched();
}

#[tokio::test]
async fn media_urls_in_any_spelling_are_refused_before_fetching_and_nothing_is_posted() {
    let witness = Witness::new();
    let mastodon = FakeMastodon::start().await;
    // The platform is reached by name; the guard allows that name and no address, so every
    // literal spelling below is refused as it would be in production.
    let base = mastodon.base_url().replace("127.0.0.1", "localhost");
    let guard = OutboundGuard::from_list("localhost");
    let adapter = social(&base, &guard).expect("adapter");
    for host in LANDS_HERE.iter().filter(|host| **host != "localhost") {
        let media = [witness.url(host, "/photo.png")];
        let post = Outgoing { content: "Hello", media: &media, marker: "m", since: chrono::Utc::now() };
        let refused = adapter.publish(&post).await.expect_err("refused");
        assert!(matches!(refused, SocialError::Refused(_)), "{}: {refused:?}", media[0]);
        assert!(!refused.is_retryable());
        assert_refusal("media", &media[0], &refused.to_string());
    }
    assert!(mastodon.statuses().is_empty() && mastodon.media().is_empty());
    witness.assert_untouched();
}

#[tokio::test]
async fn seo_audits_refuse_every_spelling_through_the_loopback_proxy() {
    let witness = Witness::new();
    let proxy = LoopbackProxy::start().await;
    let fetcher = Fetcher::new(FetchSettings {
        timeout: TIMEOUT,
        guard: OutboundGuard::default(),
        proxy: Some(proxy.url().to_owned()),
        ..FetchSettings::default()
    })
    .expect("fetcher");
    for host in LANDS_HERE.iter().chain(LEADS_ELSEWHERE) {
        let url = Url::parse(&witness.url(host, "/")).expect("url");
        let refused = fetcher.get(&url).await.expect_err("refused");
        assert!(matches!(refused, FetchError::Refused(_)), "{url}: {refused:?}");
        assert_eq!(refused.code(), "address_refused");
    }
    assert!(proxy.refused().is_empty(), "sent to the proxy: {:?}", proxy.refused());
    witness.assert_untouched();
}
