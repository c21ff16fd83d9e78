use super::*;

/// Spellings of 127.0.0.1 that a URL parser turns into that address.
const LOOPBACK_V4: &[&str] = &[
    "http://127.0.0.1/",
    "http://2130706433/",
    "http://127.1/",
    "http://127.0.1/",
    "http://0x7f000001/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://017700000001/",
    "http://127.0.0.1./",
    "http://user:pw@127.0.0.1:8080/",
    "http://example.com@127.0.0.1/",
    "http://127.0.0.1#@example.com/",
    "http://\u{ff11}\u{ff12}\u{ff17}.\u{ff10}.\u{ff10}.\u{ff11}/",
    "HTTP://0X7F000001/",
];

/// IPv6 spellings that lead to 127.0.0.1 (or are loopback themselves).
const LOOPBACK_V6: &[&str] = &[
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::7f00:1]/",
    "http://[::127.0.0.1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:0:127.0.0.1]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[64:ff9b::127.0.0.1]/",
    "http://[2002:7f00:1::]/",
    "http://[2001:0:5ef5:79fb::80ff:fffe]/",
];

/// "This host": 0.0.0.0/8 and ::, however spelt.
const THIS_HOST: &[&str] = &[
    "http://0/",
    "http://0.0.0.0/",
    "http://0x0/",
    "http://00000/",
    "http://0.1/",
    "http://[::]/",
    "http://[::ffff:0.0.0.0]/",
    "http://[::0.0.0.2]/",
];

/// The metadata service and private ranges, however spelt.
const INSIDE: &[&str] = &[
    "http://169.254.169.254/latest/meta-data",
    "http://2852039166/",
    "http://0xa9fea9fe/",
    "http://0251.0376.0251.0376/",
    "http://169.254.43518/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::a9fe:a9fe]/",
    "http://[2002:a9fe:a9fe::]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://10.0.0.1/",
    "http://167772161/",
    "http://0xa.1/",
    "http://012.0.0.1/",
    "http://[::ffff:a00:1]/",
    "http://[2001:0:a00:1::]/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://192.0.0.170/",
    "http://198.18.0.1/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
    "http://[fd00::1]/",
    "http://[fe80::1]/",
    "http://[ff02::1]/",
    "http://[fec0::1]/",
];

const PUBLIC: &[&str] = &[
    "https://api.openai.com/v1",
    "http://93.184.216.34/",
    "http://1572395042/",
    "http://[2606:4700::1111]/",
    "http://[::ffff:93.184.216.34]/",
    "http://[2002:5db8:d822::]/",
];

fn refused(guard: &OutboundGuard, url: &str) -> bool {
    guard.check_str(url).is_err()
}

#[test]
fn the_parser_reads_every_spelling_as_the_address() {
    for url in LOOPBACK_V4 {
        let parsed = Url::parse(url).expect(url);
        assert_eq!(parsed.host(), Some(Host::Ipv4(std::net::Ipv4Addr::LOCALHOST)), "{url}");
    }
    for url in &THIS_HOST[..5] {
        let parsed = Url::parse(url).expect(url);
        assert!(matches!(parsed.host(), Some(Host::Ipv4(ip)) if ip.octets()[0] == 0), "{url}");
    }
}

#[test]
fn the_default_guard_refuses_every_spelling_of_an_inside_address() {
    let guard = OutboundGuard::default();
    for url in LOOPBACK_V4.iter().chain(LOOPBACK_V6).chain(THIS_HOST).chain(INSIDE) {
        assert!(refused(&guard, url), "{url} passed");
    }
    for url in PUBLIC {
        assert!(!refused(&guard, url), "{url} was refused");
    }
}

#[test]
fn an_allowed_address_is_allowed_in_any_spelling_but_not_what_embeds_it() {
    let guard = OutboundGuard::from_list("127.0.0.1, localhost");
    for url in LOOPBACK_V4 {
        assert!(!refused(&guard, url), "{url} was refused");
    }
    // ::1 is another address; the embedding forms are not the allowed one either.
    for url in LOOPBACK_V6.iter().chain(THIS_HOST).chain(INSIDE) {
        assert!(refused(&guard, url), "{url} passed");
    }
    assert!(!refused(&OutboundGuard::from_list("2130706433"), "http://127.0.0.1:9000/v1"));
    assert!(!refused(&OutboundGuard::from_list("[::1]"), "http://[::1]:11434/v1"));
    assert!(!refused(&OutboundGuard::from_list("::1"), "http://[0::1]:11434/v1"));
}

#[test]
fn this_host_is_refused_even_when_listed() {
    let guard = OutboundGuard::from_list("0.0.0.0, ::, 0");
    for url in THIS_HOST {
        assert!(refused(&guard, url), "{url} passed");
    }
    assert!(guard.check_resolved("blocked.example", ["0.0.0.0".parse().expect("ip")]).is_err());
}

#[test]
fn only_http_urls_with_a_host_pass() {
    let guard = OutboundGuard::default();
    for url in ["ftp://example.com/", "file:///etc/passwd", "gopher://example.com/", "not a url", "http://"] {
        assert!(refused(&guard, url), "{url} passed");
    }
}

#[test]
fn the_refusal_names_the_range_and_the_embedded_address() {
    let guard = OutboundGuard::default();
    let why = guard.check_str("http://[::7f00:1]:8080/").expect_err("refused").to_string();
    assert!(why.contains("loopback") && why.contains("127.0.0.1"), "{why}");
    let why = guard.check_str("http://2852039166/").expect_err("refused").to_string();
    assert!(why.contains("169.254.169.254") && why.contains("metadata"), "{why}");
}

#[test]
fn names_are_judged_by_every_address_they_resolve_to() {
    let ip = |text: &str| text.parse::<IpAddr>().expect("ip");
    let guard = OutboundGuard::from_list("ollama.internal.");
    assert!(guard.check_resolved("example.com", [ip("93.184.216.34")]).is_ok());
    assert!(guard.check_resolved("example.com", [ip("93.184.216.34"), ip("10.0.0.1")]).is_err());
    assert!(guard.check_resolved("localhost", [ip("127.0.0.1")]).is_err());
    assert!(guard.check_resolved("rebind.example", [ip("::ffff:169.254.169.254")]).is_err());
    assert!(guard.check_resolved("OLLAMA.internal", [ip("10.0.0.5")]).is_ok());
    assert!(guard.check_resolved("ollama.internal", [ip("0.0.0.0")]).is_err());
}

#[test]
fn loopback_only_refuses_every_other_host_without_resolving_it() {
    let guard = OutboundGuard::loopback_only();
    for url in
        ["http://127.0.0.1:9000/v1", "http://2130706433/", "http://[::1]:9000/v1", "http://localhost/v1"]
    {
        assert!(!refused(&guard, url), "{url} was refused");
    }
    for url in
        THIS_HOST.iter().chain(INSIDE).chain(PUBLIC).chain(&["http://example.com", "http://[::7f00:1]/"])
    {
        assert!(refused(&guard, url), "{url} passed");
    }
    let ip = |text: &str| text.parse::<IpAddr>().expect("ip");
    assert!(guard.check_resolved("localhost", [ip("127.0.0.1"), ip("::1")]).is_ok());
    assert!(guard.check_resolved("localhost", [ip("10.0.0.1")]).is_err());
    assert!(guard.check_resolved("example.com", [ip("127.0.0.1")]).is_err());
}

/// A proxy from the environment would resolve tenant-chosen names itself, past the guard:
/// guarded clients never use one. The "proxy" here is a loopback listener that counts
/// connections; [`proxy_probe`], run as a child process with `HTTP_PROXY` pointing at it,
/// sends to a closed loopback port the guard allows.
#[tokio::test]
async fn guarded_clients_ignore_proxies_from_the_environment() {
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("listener");
    let proxy_url = format!("http://{}", proxy.local_addr().expect("address"));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let target = format!("http://{}/", closed.local_addr().expect("address"));
    drop(closed);
    let probe = tokio::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "net::tests::proxy_probe", "--nocapture"])
        .env("HTTP_PROXY", &proxy_url)
        .env("http_proxy", &proxy_url)
        .env("PROXY_PROBE_TARGET", &target)
        .output()
        .await
        .expect("probe runs");
    assert!(probe.status.success(), "{}", String::from_utf8_lossy(&probe.stdout));
    assert!(String::from_utf8_lossy(&probe.stdout).contains("1 passed"), "the probe ran");
    let accepted = tokio::time::timeout(std::time::Duration::from_millis(200), proxy.accept()).await;
    assert!(accepted.is_err(), "the environment's proxy was dialled");
}

/// The child half of the test above; a no-op unless it sets `PROXY_PROBE_TARGET`.
#[tokio::test]
async fn proxy_probe() {
    let Ok(target) = std::env::var("PROXY_PROBE_TARGET") else { return };
    let guard = OutboundGuard::new(["127.0.0.1".to_owned()]);
    let client = GuardedClient::new(&guard, |builder| builder.timeout(std::time::Duration::from_secs(2)))
        .expect("client");
    assert!(client.send(client.get(&target)).await.is_err(), "nothing listens at {target}");
}
