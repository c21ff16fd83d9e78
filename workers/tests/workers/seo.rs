//! The SEO audit engine against the fake site's corpus on 127.0.0.1: each page's checks come
//! out as the page was built to make them, redirects and refusals behave, and a crawl stays
//! within its budget and finds the site-level problems.

use std::time::Duration;

use shared::net::OutboundGuard;
use testkit::{
    proxy::LoopbackProxy,
    site::{FakeSite, closed_port},
};
use url::Url;
use workers::seo::{
    Auditor, PageAudit, SiteContext,
    checks::Status,
    crawl::{self, CrawlSettings},
    fetch::{FetchError, FetchSettings, Fetcher},
};

/// An auditor whose every connection goes through `proxy`, which dials only loopback; the
/// hosts it audits do not answer on https.
fn auditor(guard: OutboundGuard, proxy: &LoopbackProxy) -> Auditor {
    auditor_with_https(guard, proxy, closed_port())
}

/// An auditor that looks for the https version of a host on `https_port`.
fn auditor_with_https(guard: OutboundGuard, proxy: &LoopbackProxy, https_port: u16) -> Auditor {
    let settings = FetchSettings {
        timeout: Duration::from_secs(1),
        max_bytes: 1_000_000,
        max_redirects: 5,
        guard,
        proxy: Some(proxy.url().to_owned()),
        https_port,
    };
    Auditor::new(Fetcher::new(settings).expect("client"))
}

fn loopback() -> OutboundGuard {
    OutboundGuard::from_list("127.0.0.1")
}

fn keywords() -> Vec<String> {
    vec!["running shoes".to_owned()]
}

async fn audit(auditor: &Auditor, site: &FakeSite, context: &SiteContext, path: &str) -> PageAudit {
    let url = Url::parse(&site.url(path)).expect("url");
    auditor.audit_page(&url, &keywords(), context, true).await.unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn status(audit: &PageAudit, id: &str) -> Status {
    audit
        .checks
        .iter()
        .find(|check| check.id == id)
        .map(|check| check.status)
        .unwrap_or_else(|| panic!("{}: no check {id}", audit.url))
}

#[tokio::test]
async fn every_page_of_the_corpus_gets_the_outcomes_it_was_built_for() {
    let site = FakeSite::start().await;
    let proxy = LoopbackProxy::start().await;
    let auditor = auditor(loopback(), &proxy);
    let context = auditor.site_context(&Url::parse(&site.url("/")).expect("url")).await;

    let good = audit(&auditor, &site, &context, "/good").await;
    let problems: Vec<String> =
        good.issues().map(|check| format!("{} {:?}: {}", check.id, check.status, check.message)).collect();
    // Plain HTTP is the one thing the local site cannot do right; with no https in sight it
    // is a warning.
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(status(&good, "https"), Status::Warning);
    assert_eq!(status(&good, "sitemap_listed"), Status::Pass);
    assert_eq!(status(&good, "sitemap_in_robots"), Status::Pass);
    assert_eq!(status(&good, "keyword:running shoes"), Status::Pass);
    assert_eq!(status(&good, "robots_txt"), Status::Pass);
    assert_eq!(status(&good, "sitemap"), Status::Pass);
    assert_eq!(status(&good, "broken_links"), Status::Pass);
    assert_eq!(good.structured_data, vec!["Article"]);
    assert!(good.score >= 90, "{}", good.score);

    let expectations: &[(&str, &[(&str, Status)])] = &[
        ("/no-title", &[("title", Status::Fail)]),
        ("/long-title", &[("title", Status::Warning)]),
        ("/no-description", &[("meta_description", Status::Fail)]),
        ("/no-h1", &[("h1", Status::Fail), ("keyword:running shoes", Status::Warning)]),
        ("/two-h1", &[("h1", Status::Warning)]),
        ("/skipped-headings", &[("heading_order", Status::Warning)]),
        ("/relative-canonical", &[("canonical", Status::Fail)]),
        ("/other-canonical", &[("canonical", Status::Warning)]),
        ("/noindex-header", &[("noindex", Status::Fail)]),
        ("/noindex-meta", &[("noindex", Status::Fail)]),
        ("/bad-hreflang", &[("hreflang", Status::Fail)]),
        (
            "/bare",
            &[
                ("lang", Status::Fail),
                ("viewport", Status::Fail),
                ("open_graph", Status::Warning),
                ("twitter_card", Status::Warning),
                ("structured_data", Status::Warning),
            ],
        ),
        ("/images-no-alt", &[("image_alt", Status::Fail)]),
        ("/vague-links", &[("link_text", Status::Warning), ("crawlable_anchors", Status::Warning)]),
        ("/broken-link", &[("broken_links", Status::Fail)]),
        ("/broken-jsonld", &[("structured_data", Status::Fail)]),
        ("/jsonld-no-type", &[("structured_data", Status::Fail)]),
        ("/stuffed", &[("keyword:running shoes", Status::Warning)]),
        ("/missing", &[("http_status", Status::Fail)]),
        ("/server-error", &[("http_status", Status::Fail)]),
        ("/private/page", &[("robots_txt", Status::Fail)]),
        ("/huge", &[("page_weight", Status::Fail)]),
        ("/unlisted", &[("sitemap_listed", Status::Warning)]),
        // The site header's paragraph is not the first paragraph of the content.
        ("/header-paragraph", &[("keyword:running shoes", Status::Pass)]),
        ("/mixed-https-canonical", &[("mixed_content", Status::Fail), ("https", Status::Fail)]),
    ];
    for (path, wanted) in expectations {
        let audit = audit(&auditor, &site, &context, path).await;
        for (id, outcome) in *wanted {
            assert_eq!(
                status(&audit, id),
                *outcome,
                "{path}: {id}: {:?}",
                audit.checks.iter().find(|c| c.id == *id)
            );
        }
        // Everything not built to fail passes, as on /good.
        let unexpected: Vec<&str> = audit
            .issues()
            .map(|check| check.id.as_str())
            .filter(|id| *id != "https" && !wanted.iter().any(|(w, _)| w == id))
            .collect();
        let allowed_side_effects: &[&str] = match *path {
            // An error page is thin: no title, no H1, no keyword...
            "/missing" | "/server-error" => &unexpected,
            "/no-title" => &["keyword:running shoes"],
            // Without an H1 the first heading is an H2.
            "/no-h1" => &["heading_order"],
            "/huge" => &["keyword:running shoes"],
            _ => &[],
        };
        let surprising: Vec<&&str> =
            unexpected.iter().filter(|id| !allowed_side_effects.contains(id)).collect();
        assert!(surprising.is_empty(), "{path}: unexpected issues {surprising:?}");
        assert!(
            audit.score < good.score || ["/other-canonical", "/header-paragraph"].contains(path),
            "{path}: {} vs {}",
            audit.score,
            good.score
        );
    }
    let gzipped = audit(&auditor, &site, &context, "/gzipped").await;
    assert_eq!(gzipped.title, good.title, "a gzip-compressed page is read decompressed");
    let huge = audit(&auditor, &site, &context, "/huge").await;
    assert_eq!(huge.bytes, 1_000_000, "the body stops at the cap");
    assert!(proxy.refused().is_empty());
}

#[tokio::test]
async fn redirects_are_followed_recorded_and_bounded() {
    let site = FakeSite::start().await;
    let proxy = LoopbackProxy::start().await;
    let auditor = auditor(loopback(), &proxy);
    let context = auditor.site_context(&Url::parse(&site.url("/")).expect("url")).await;

    let chain = audit(&auditor, &site, &context, "/redirect-chain").await;
    assert_eq!(chain.final_url, site.url("/good"));
    assert_eq!(status(&chain, "redirects"), Status::Warning);
    assert_eq!(status(&chain, "http_status"), Status::Pass);
    let hops = &chain.checks.iter().find(|c| c.id == "redirects").expect("check").evidence;
    assert_eq!(hops[0]["status"], 301);
    assert_eq!(hops[1]["status"], 302);

    let url = Url::parse(&site.url("/redirect-loop")).expect("url");
    match auditor.audit_page(&url, &[], &context, false).await {
        Err(FetchError::TooManyRedirects { limit: 5, hops }) => assert_eq!(hops.len(), 6),
        other => panic!("expected too many redirects, got {other:?}"),
    }
    assert_eq!(site.requests_for("/redirect-loop"), 6, "no request beyond the limit");

    let slow = Url::parse(&site.url("/slow")).expect("url");
    assert!(matches!(auditor.audit_page(&slow, &[], &context, false).await, Err(FetchError::Timeout(_))));
}

#[tokio::test]
async fn inside_addresses_are_refused_before_any_connection() {
    let site = FakeSite::start().await;
    // The allow-list off: the site's own literal address, a name for it and a hop to a
    // private range are all refused.
    let proxy = LoopbackProxy::start().await;
    let strict = auditor(OutboundGuard::default(), &proxy);
    let context = strict.site_context(&Url::parse(&site.url("/")).expect("url")).await;
    for url in [
        site.url("/good"),
        format!("http://localhost:{}/good", site.port()),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[::1]:9/".to_owned(),
        "http://10.1.2.3/".to_owned(),
    ] {
        let parsed = Url::parse(&url).expect("url");
        let outcome = strict.audit_page(&parsed, &[], &context, false).await;
        assert!(matches!(outcome, Err(FetchError::Refused(_))), "{url}: {outcome:?}");
    }
    assert_eq!(site.requests(), 0, "nothing reached the site");

    // Allowed to reach 127.0.0.1, a redirect into a private range is still refused at the hop.
    let loopback = auditor(loopback(), &proxy);
    let url = Url::parse(&site.url("/to-private")).expect("url");
    let outcome = loopback.audit_page(&url, &[], &context, false).await;
    assert!(matches!(outcome, Err(FetchError::Refused(_))), "{outcome:?}");
    assert!(proxy.refused().is_empty(), "the guard refused everything itself: {:?}", proxy.refused());
}

#[tokio::test]
async fn a_guard_that_lets_an_inside_address_through_is_stopped_by_the_test_proxy() {
    // A deliberately broken guard: it allows a private address. The test proxy, not the
    // network, receives the request and refuses to dial it.
    let proxy = LoopbackProxy::start().await;
    let broken = auditor(OutboundGuard::from_list("10.255.255.1"), &proxy);
    let url = Url::parse("http://10.255.255.1/admin").expect("url");
    let context = SiteContext {
        robots_url: String::new(),
        robots: workers::seo::RobotsState::Missing(404),
        sitemap: workers::seo::SitemapState::Missing,
        answers_https: false,
    };
    let audit = broken.audit_page(&url, &[], &context, false).await.expect("the proxy answers");
    assert_eq!(audit.status, 502);
    assert_eq!(proxy.refused(), vec!["http://10.255.255.1/admin".to_owned()]);
}

#[tokio::test]
async fn a_crawl_stays_within_its_budget_and_reports_site_findings() {
    let site = FakeSite::start().await;
    let proxy = LoopbackProxy::start().await;
    let auditor = auditor(loopback(), &proxy);
    let start = Url::parse(&site.url("/tree/0")).expect("url");
    let context = auditor.site_context(&start).await;
    let first = auditor.audit_page(&start, &keywords(), &context, false).await.expect("first page");
    let settings = CrawlSettings { max_pages: 25, max_depth: 10, concurrency: 4, delay: Duration::ZERO };
    let mut reported = 0;
    let crawled =
        crawl::crawl(&auditor, first, &keywords(), &context, &settings, |done, _| reported = done).await;

    assert_eq!(crawled.pages.len(), 25);
    assert_eq!(crawled.audits.len(), 25);
    assert_eq!(reported, 25);
    // Breadth first: depth d holds pages 2^d - 1 .. 2^(d+1) - 2.
    assert!(crawled.pages.iter().all(|page| page.depth <= 4));
    let titles = &crawled.findings.duplicate_titles["Tree page"];
    assert_eq!(titles.len(), 25);
    assert!(crawled.findings.orphan_pages.contains(&site.url("/orphan")));
    assert!(crawled.findings.broken_pages.is_empty());
    let tree_requests: usize = (0..100).map(|n| site.requests_for(&format!("/tree/{n}"))).sum();
    assert_eq!(tree_requests, 25, "each page fetched once, none beyond the budget");
    assert!(proxy.refused().is_empty());
}

#[tokio::test]
async fn a_plain_http_page_fails_https_only_where_the_host_answers_on_https() {
    let site = FakeSite::start().await;
    let proxy = LoopbackProxy::start().await;
    let root = Url::parse(&site.url("/")).expect("url");

    let without = auditor(loopback(), &proxy);
    let context = without.site_context(&root).await;
    assert!(!context.answers_https);
    let plain = audit(&without, &site, &context, "/good").await;
    let check = plain.checks.iter().find(|check| check.id == "https").expect("https");
    assert_eq!(check.status, Status::Warning, "{check:?}");
    assert!(check.fix.contains("certificate"), "{}", check.fix);

    let with = auditor_with_https(loopback(), &proxy, site.https_port());
    let context = with.site_context(&root).await;
    assert!(context.answers_https, "the stand-in https port accepts connections");
    let twin = audit(&with, &site, &context, "/good").await;
    let check = twin.checks.iter().find(|check| check.id == "https").expect("https");
    assert_eq!(check.status, Status::Fail, "{check:?}");
    assert!(twin.score < plain.score);
    assert!(proxy.refused().is_empty(), "{:?}", proxy.refused());
}

#[tokio::test]
async fn a_crawl_audits_only_html_documents() {
    let site = FakeSite::start().await;
    let proxy = LoopbackProxy::start().await;
    let auditor = auditor(loopback(), &proxy);
    let start = Url::parse(&site.url("/media-links")).expect("url");
    let context = auditor.site_context(&start).await;
    let first = auditor.audit_page(&start, &keywords(), &context, false).await.expect("first page");
    let settings = CrawlSettings { max_pages: 10, max_depth: 3, concurrency: 4, delay: Duration::ZERO };
    let crawled = crawl::crawl(&auditor, first, &keywords(), &context, &settings, |_, _| {}).await;

    let urls: Vec<&str> = crawled.pages.iter().map(|page| page.url.as_str()).collect();
    assert_eq!(urls, vec![site.url("/media-links"), site.url("/about"), site.url("/good")], "{urls:?}");
    assert_eq!(crawled.audits.len(), 3);
    let mut non_html = crawled.findings.non_html_links.clone();
    non_html.sort();
    let mut expected: Vec<String> = ["/feed", "/feed.xml", "/guide.pdf", "/shoe.png", "/sitemap.xml"]
        .iter()
        .map(|p| site.url(p))
        .collect();
    expected.sort();
    assert_eq!(non_html, expected);
    // Told by their extension, these are not even requested; /feed is told by its Content-Type.
    assert_eq!(site.requests_for("/guide.pdf"), 0);
    assert_eq!(site.requests_for("/feed.xml"), 0);
    assert_eq!(site.requests_for("/shoe.png"), 0);
    assert_eq!(site.requests_for("/feed"), 1);
    assert!(crawled.findings.broken_pages.is_empty());
    assert!(proxy.refused().is_empty());
}
