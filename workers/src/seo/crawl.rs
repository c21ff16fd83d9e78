//! Crawl mode: breadth first from the audited page over same-host links, within a page budget
//! and a depth, a few requests at a time with a politeness delay between request starts
//! (robots.txt's `Crawl-delay` when it asks for more), skipping what robots.txt disallows.
//! Only HTML documents are pages: a link whose path ends in a non-HTML extension (a sitemap,
//! feed, PDF, image…) is not requested, and a response that is not HTML is not audited; both
//! are listed as `non_html_links`, neither scored nor in the plan.
//! Then the findings only a crawl can make: duplicate titles and descriptions, sitemap pages
//! no crawled page links to (orphans), and pages that answer with an error.

use std::{
    collections::{BTreeMap, HashSet},
    time::Duration,
};

use futures_util::{StreamExt, stream};
use serde::Serialize;
use tokio::{sync::Mutex, time::Instant};
use url::Url;

use super::{Auditor, PageAudit, RobotsState, SiteContext, SitemapState};

#[derive(Clone, Debug)]
pub struct CrawlSettings {
    pub max_pages: usize,
    pub max_depth: usize,
    pub concurrency: usize,
    pub delay: Duration,
}

impl Default for CrawlSettings {
    fn default() -> Self {
        Self { max_pages: 25, max_depth: 3, concurrency: 4, delay: Duration::from_millis(100) }
    }
}

/// A crawled page in the report.
#[derive(Clone, Debug, Serialize)]
pub struct CrawledPage {
    pub url: String,
    pub depth: usize,
    pub status: Option<u16>,
    pub score: Option<u8>,
    pub title: String,
    /// Ids of the checks that did not pass.
    pub issues: Vec<String>,
    /// Why the page could not be fetched.
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct SiteFindings {
    /// Titles shared by several pages, with the pages.
    pub duplicate_titles: BTreeMap<String, Vec<String>>,
    pub duplicate_descriptions: BTreeMap<String, Vec<String>>,
    /// Sitemap URLs that no crawled page links to.
    pub orphan_pages: Vec<String>,
    /// Pages that answered 4xx/5xx or not at all.
    pub broken_pages: Vec<String>,
    /// Links not followed because robots.txt disallows them.
    pub blocked_by_robots: Vec<String>,
    /// Same-host links to documents that are not HTML (by extension, or by the Content-Type
    /// they answered with): not pages, so not audited.
    pub non_html_links: Vec<String>,
}

/// Path endings of documents that are not web pages; links to them are not requested.
const NON_HTML_EXTENSIONS: [&str; 40] = [
    "xml", "rss", "atom", "json", "txt", "csv", "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "png",
    "jpg", "jpeg", "gif", "webp", "avif", "svg", "ico", "bmp", "css", "js", "mjs", "woff", "woff2", "ttf",
    "otf", "zip", "gz", "tar", "7z", "mp3", "mp4", "webm", "ogg", "wav", "mov", "exe",
];

/// The link's path ends in a non-HTML extension.
fn looks_non_html(url: &Url) -> bool {
    let last = url.path().rsplit('/').next().unwrap_or_default();
    last.rsplit_once('.')
        .is_some_and(|(_, extension)| NON_HTML_EXTENSIONS.contains(&extension.to_ascii_lowercase().as_str()))
}

/// What came of one link of the crawl.
enum Visit {
    Page(Box<PageAudit>),
    NotHtml,
    Failed(String),
}

/// Fetches `url` and audits it if it is an HTML document. A non-HTML answer that is an error
/// is still audited, so the broken page is reported.
async fn visit(auditor: &Auditor, url: &Url, keywords: &[String], site: &SiteContext) -> Visit {
    match auditor.fetcher.get(url).await {
        Err(error) => Visit::Failed(error.to_string()),
        Ok(fetched) if !fetched.is_html() && fetched.status < 400 => {
            tracing::debug!(url = %url, content_type = %fetched.content_type, "not an HTML page");
            Visit::NotHtml
        }
        Ok(fetched) => Visit::Page(Box::new(auditor.analyze(url, fetched, keywords, site, false).await)),
    }
}

/// Links found so far and what the crawl did with them.
#[derive(Default)]
struct Links {
    seen: HashSet<String>,
    linked: HashSet<String>,
    frontier: Vec<Url>,
    blocked: Vec<String>,
    non_html: Vec<String>,
}

pub struct Crawl {
    /// The audited pages (the start page first).
    pub audits: Vec<PageAudit>,
    pub pages: Vec<CrawledPage>,
    pub findings: SiteFindings,
}

/// Spaces request starts at least `delay` apart.
struct Politeness {
    next: Mutex<Instant>,
    delay: Duration,
}

impl Politeness {
    async fn wait_turn(&self) {
        let start = {
            let mut next = self.next.lock().await;
            let start = (*next).max(Instant::now());
            *next = start + self.delay;
            start
        };
        tokio::time::sleep_until(start).await;
    }
}

/// Crawls from `start` (already audited as `first`).
pub async fn crawl(
    auditor: &Auditor,
    first: PageAudit,
    keywords: &[String],
    site: &SiteContext,
    settings: &CrawlSettings,
    mut on_page: impl FnMut(usize, usize),
) -> Crawl {
    let crawl_delay = match &site.robots {
        RobotsState::Found(robots) => {
            robots.crawl_delay_secs.map(|secs| Duration::from_secs_f64(secs.clamp(0.0, 10.0)))
        }
        _ => None,
    };
    let politeness = Politeness {
        next: Mutex::new(Instant::now()),
        delay: settings.delay.max(crawl_delay.unwrap_or_default()),
    };
    let mut links =
        Links { seen: HashSet::from([key(&first.final_url), key(&first.url)]), ..Links::default() };
    let mut pages = vec![page_entry(&first, 0)];
    links.enqueue(&first, site);
    let mut audits = vec![first];

    let mut depth = 1;
    while depth <= settings.max_depth && !links.frontier.is_empty() && pages.len() < settings.max_pages {
        let room = settings.max_pages - pages.len();
        let level: Vec<Url> = links.frontier.drain(..).take(room).collect();
        let results: Vec<(Url, Visit)> = stream::iter(level)
            .map(|url| {
                let politeness = &politeness;
                async move {
                    politeness.wait_turn().await;
                    let visited = visit(auditor, &url, keywords, site).await;
                    (url, visited)
                }
            })
            .buffered(settings.concurrency.max(1))
            .collect()
            .await;
        for (url, visited) in results {
            match visited {
                Visit::Page(audit) => {
                    pages.push(page_entry(&audit, depth));
                    links.enqueue(&audit, site);
                    audits.push(*audit);
                }
                Visit::NotHtml => {
                    links.non_html.push(url.to_string());
                    continue;
                }
                Visit::Failed(error) => pages.push(failed_entry(&url, depth, error)),
            }
            on_page(pages.len(), settings.max_pages);
        }
        depth += 1;
    }
    let findings = findings(&audits, &pages, &links.linked, site, links.blocked, links.non_html);
    Crawl { audits, pages, findings }
}

/// A URL as the crawl compares them: no fragment, no trailing slash.
fn key(url: &str) -> String {
    url.split('#').next().unwrap_or_default().trim_end_matches('/').to_owned()
}

fn page_entry(audit: &PageAudit, depth: usize) -> CrawledPage {
    CrawledPage {
        url: audit.final_url.clone(),
        depth,
        status: Some(audit.status),
        score: Some(audit.score),
        title: audit.title.clone(),
        issues: audit.issues().map(|check| check.id.clone()).collect(),
        error: None,
    }
}

fn failed_entry(url: &Url, depth: usize, error: String) -> CrawledPage {
    CrawledPage {
        url: url.to_string(),
        depth,
        status: None,
        score: None,
        title: String::new(),
        issues: Vec::new(),
        error: Some(error),
    }
}

impl Links {
    /// Puts the page's new links on the frontier, unless robots.txt disallows them or they
    /// are plainly not HTML.
    fn enqueue(&mut self, audit: &PageAudit, site: &SiteContext) {
        for link in &audit.internal_links {
            let link_key = key(link.as_str());
            self.linked.insert(link_key.clone());
            if !self.seen.insert(link_key) {
                continue;
            }
            if looks_non_html(link) {
                self.non_html.push(link.to_string());
            } else if site.robots.allows(link) {
                self.frontier.push(link.clone());
            } else {
                self.blocked.push(link.to_string());
            }
        }
    }
}

fn findings(
    audits: &[PageAudit],
    pages: &[CrawledPage],
    linked: &HashSet<String>,
    site: &SiteContext,
    blocked_by_robots: Vec<String>,
    non_html_links: Vec<String>,
) -> SiteFindings {
    let duplicates = |field: fn(&PageAudit) -> &str| {
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for audit in audits.iter().filter(|audit| (200..300).contains(&audit.status)) {
            let value = field(audit).trim();
            if !value.is_empty() {
                groups.entry(value.to_owned()).or_default().push(audit.final_url.clone());
            }
        }
        groups.retain(|_, urls| urls.len() > 1);
        groups
    };
    let start = audits.first().map(|audit| key(&audit.final_url)).unwrap_or_default();
    let orphan_pages = match &site.sitemap {
        SitemapState::Valid { urls, .. } => {
            urls.iter().filter(|url| key(url) != start && !linked.contains(&key(url))).cloned().collect()
        }
        _ => Vec::new(),
    };
    SiteFindings {
        duplicate_titles: duplicates(|audit| &audit.title),
        duplicate_descriptions: duplicates(|audit| &audit.meta_description),
        orphan_pages,
        broken_pages: pages
            .iter()
            .filter(|page| page.error.is_some() || page.status.is_some_and(|status| status >= 400))
            .map(|page| page.url.clone())
            .collect(),
        blocked_by_robots,
        non_html_links,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_that_are_not_pages_are_told_by_their_extension() {
        for url in [
            "http://s.test/sitemap.xml",
            "http://s.test/a/Guide.PDF",
            "http://s.test/i.png?v=2",
            "http://s.test/feed.rss",
        ] {
            assert!(looks_non_html(&Url::parse(url).expect("url")), "{url}");
        }
        for url in
            ["http://s.test/", "http://s.test/about", "http://s.test/page.html", "http://s.test/v1.2/notes"]
        {
            assert!(!looks_non_html(&Url::parse(url).expect("url")), "{url}");
        }
    }
}
