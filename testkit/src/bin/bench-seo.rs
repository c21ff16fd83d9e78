//! `bench-seo`: the SEO audit engine's cost (run it through `scripts/bench-seo`, which builds
//! it in release mode).
//!
//!   bench-seo analyze [N]   time to audit a fetched page, network excluded: N (200) rounds over
//!                           the fake site's corpus, each page parsed and checked from memory
//!   bench-seo crawl [N]     wall time and peak memory of an N-page (100) crawl of the fake
//!                           site on 127.0.0.1, 4 requests at a time, no politeness delay
//!
//! `crawl` is meant to run alone in its process, so that the peak resident size it reports
//! (`VmHWM`) is the crawl's.

#![expect(clippy::print_stdout, reason = "the report is the output of this tool")]

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use shared::net::OutboundGuard;
use testkit::{proxy::LoopbackProxy, site::FakeSite};
use url::Url;
use workers::seo::{
    Auditor, SiteContext,
    crawl::{self, CrawlSettings},
    fetch::{FetchSettings, Fetched, Fetcher},
};

const CORPUS: [&str; 20] = [
    "/good",
    "/about",
    "/no-title",
    "/long-title",
    "/no-description",
    "/no-h1",
    "/two-h1",
    "/skipped-headings",
    "/relative-canonical",
    "/noindex-meta",
    "/bad-hreflang",
    "/bare",
    "/images-no-alt",
    "/vague-links",
    "/broken-link",
    "/broken-jsonld",
    "/stuffed",
    "/tree/0",
    "/tree/7",
    "/orphan",
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |default: usize| -> anyhow::Result<usize> {
        match args.get(1) {
            Some(n) => n.parse().context("N must be a number"),
            None => Ok(default),
        }
    };
    match args.first().map(String::as_str) {
        Some("analyze") => analyze(number(200)?).await,
        Some("crawl") => crawl_site(number(100)?).await,
        _ => bail!("usage: bench-seo analyze [N] | crawl [N]"),
    }
}

async fn auditor(proxy: &LoopbackProxy) -> anyhow::Result<Auditor> {
    let settings = FetchSettings {
        timeout: Duration::from_secs(10),
        guard: OutboundGuard::from_list("127.0.0.1"),
        proxy: Some(proxy.url().to_owned()),
        ..FetchSettings::default()
    };
    Ok(Auditor::new(Fetcher::new(settings).map_err(|e| anyhow::anyhow!("{e}"))?))
}

async fn analyze(rounds: usize) -> anyhow::Result<()> {
    let site = FakeSite::start().await;
    let proxy = LoopbackProxy::start().await;
    let auditor = auditor(&proxy).await?;
    let root = Url::parse(&site.url("/"))?;
    let context = auditor.site_context(&root).await;
    let keywords = vec!["running shoes".to_owned(), "trail shoes".to_owned()];
    let mut pages = Vec::new();
    for path in CORPUS {
        let url = Url::parse(&site.url(path))?;
        let fetched = auditor.fetcher.get(&url).await.map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
        pages.push((url, fetched));
    }
    report("corpus", &measure(&auditor, &pages, &context, &keywords, rounds).await, &pages);
    for path in ["/long-article", "/huge"] {
        let url = Url::parse(&site.url(path))?;
        let fetched = auditor.fetcher.get(&url).await.map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
        let single = vec![(url, fetched)];
        let times = measure(&auditor, &single, &context, &keywords, (rounds / 10).max(3)).await;
        report(path, &times, &single);
    }
    Ok(())
}

/// Audits each fetched page `rounds` times from memory; the sorted times.
async fn measure(
    auditor: &Auditor,
    pages: &[(Url, Fetched)],
    context: &SiteContext,
    keywords: &[String],
    rounds: usize,
) -> Vec<Duration> {
    let mut times = Vec::with_capacity(rounds * pages.len());
    for _ in 0..rounds {
        for (url, fetched) in pages {
            let started = Instant::now();
            let audit = auditor.analyze(url, fetched.clone(), keywords, context, false).await;
            times.push(started.elapsed());
            std::hint::black_box(audit);
        }
    }
    times.sort();
    times
}

fn report(what: &str, times: &[Duration], pages: &[(Url, Fetched)]) {
    let bytes: usize = pages.iter().map(|(_, fetched)| fetched.body.len()).sum();
    let total: Duration = times.iter().sum();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize].as_secs_f64() * 1000.0;
    println!(
        "analyze {what}: {} audits of {} pages ({} KB each on average): mean {:.2} ms, p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        times.len(),
        pages.len(),
        bytes / pages.len().max(1) / 1000,
        total.as_secs_f64() * 1000.0 / times.len().max(1) as f64,
        at(0.5),
        at(0.95),
        at(1.0),
    );
}

async fn crawl_site(pages: usize) -> anyhow::Result<()> {
    let site = FakeSite::start().await;
    let proxy = LoopbackProxy::start().await;
    let auditor = auditor(&proxy).await?;
    let keywords = vec!["running shoes".to_owned()];
    let started = Instant::now();
    let start = Url::parse(&site.url("/tree/0"))?;
    let context = auditor.site_context(&start).await;
    let first =
        auditor.audit_page(&start, &keywords, &context, false).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let settings = CrawlSettings { max_pages: pages, max_depth: 10, concurrency: 4, delay: Duration::ZERO };
    let crawled = crawl::crawl(&auditor, first, &keywords, &context, &settings, |_, _| {}).await;
    let elapsed = started.elapsed();
    println!(
        "crawl: {} pages in {:.2} s ({:.1} ms a page, 4 at a time, through the loopback proxy), peak RSS {} MiB",
        crawled.pages.len(),
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / crawled.pages.len().max(1) as f64,
        workers::peak_rss_mib().unwrap_or(0),
    );
    Ok(())
}
