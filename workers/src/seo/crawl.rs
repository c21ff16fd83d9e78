//! Crawl mode: breadth first from the audited page over same-host links, within a page budget
//! and a depth, a few requests at a time with a politeness delay between request starts
//! (robots.txt's `Crawl-delay` when it asks for more), skipping what robots.txt disallows.
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
    let mut seen: HashSet<String> = HashSet::from([key(&first.final_url), key(&first.url)]);
    let mut linked: HashSet<String> = HashSet::new();
    let mut pages = vec![page_entry(&first, 0)];
    let mut blocked = Vec::new();
    let mut frontier: Vec<Url> = Vec::new();
    enqueue(&first, &mut seen, &mut linked, &mut frontier, site, &mut blocked);
    let mut audits = vec![first];

    let mut depth = 1;
    while depth <= settings.max_depth && !frontier.is_empty() && pages.len() < settings.max_pages {
        let room = settings.max_pages - pages.len();
        let level: Vec<Url> = frontier.drain(..).take(room).collect();
        let results: Vec<(Url, Result<PageAudit, String>)> = stream::iter(level)
            .map(|url| {
                let politeness = &politeness;
                async move {
                    politeness.wait_turn().await;
                    let audit =
                        auditor.audit_page(&url, keywords, site, false).await.map_err(|e| e.to_string());
                    (url, audit)
                }
            })
            .buffered(settings.concurrency.max(1))
            .collect()
            .await;
        for (url, result) in results {
            match result {
                Ok(audit) => {
                    pages.push(page_entry(&audit, depth));
                    enqueue(&audit, &mut seen, &mut linked, &mut frontier, site, &mut blocked);
                    audits.push(audit);
                }
                Err(error) => pages.push(CrawledPage {
                    url: url.to_string(),
                    depth,
                    status: None,
                    score: None,
                    title: String::new(),
                    issues: Vec::new(),
                    error: Some(error),
                }),
            }
            on_page(pages.len(), settings.max_pages);
        }
        depth += 1;
    }
    let findings = findings(&audits, &pages, &linked, site, blocked);
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

fn enqueue(
    audit: &PageAudit,
    seen: &mut HashSet<String>,
    linked: &mut HashSet<String>,
    frontier: &mut Vec<Url>,
    site: &SiteContext,
    blocked: &mut Vec<String>,
) {
    for link in &audit.internal_links {
        let link_key = key(link.as_str());
        linked.insert(link_key.clone());
        if !seen.insert(link_key) {
            continue;
        }
        if site.robots.allows(link) {
            frontier.push(link.clone());
        } else {
            blocked.push(link.to_string());
        }
    }
}

fn findings(
    audits: &[PageAudit],
    pages: &[CrawledPage],
    linked: &HashSet<String>,
    site: &SiteContext,
    blocked_by_robots: Vec<String>,
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
    }
}
