//! SEO audits of live pages: fetch (`fetch`), read the HTML (`page`), run the checks
//! (`checks`), read robots.txt and the sitemap (`robots`), look for an https version of a
//! plain-http host (`probe`), crawl a site (`crawl`), and score
//! and prioritise (`report`). The `seo.audit` handler (`handlers::seo`) puts them together.

pub mod checks;
pub mod crawl;
pub mod fetch;
pub mod page;
pub mod probe;
pub mod report;
pub mod robots;

use std::collections::BTreeMap;

use futures_util::{StreamExt, stream};
use serde::Serialize;
use serde_json::{Value, json};
use url::Url;

use self::{
    checks::{Category, Check, Page, Status},
    fetch::{BOT_TOKEN, FetchError, Fetched, Fetcher},
    page::PageFacts,
    robots::{Robots, Sitemap},
};

/// Internal links checked per page at most, and how many at once.
const MAX_LINK_CHECKS: usize = 50;
const LINK_CHECK_CONCURRENCY: usize = 4;
/// Child sitemaps of a sitemap index read at most.
const MAX_CHILD_SITEMAPS: usize = 10;

/// What robots.txt and the sitemap say about a host, read once per audit.
#[derive(Clone, Debug)]
pub struct SiteContext {
    pub robots_url: String,
    pub robots: RobotsState,
    pub sitemap: SitemapState,
    /// The host is served over https, or accepts connections on the https port
    /// (`Fetcher::answers_on_https`): a plain-http page of it could be on https.
    pub answers_https: bool,
}

#[derive(Clone, Debug)]
pub enum RobotsState {
    Found(Robots),
    /// 404 and the like: everything may be crawled.
    Missing(u16),
    /// 5xx or no answer: crawlers hold back.
    Broken(String),
}

impl RobotsState {
    pub fn allows(&self, url: &Url) -> bool {
        let path = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        match self {
            RobotsState::Found(robots) => robots.allows(&path),
            RobotsState::Missing(_) => true,
            RobotsState::Broken(_) => false,
        }
    }
}

#[derive(Clone, Debug)]
pub enum SitemapState {
    Valid { url: String, urls: Vec<String> },
    Missing,
    Invalid { url: String, reason: String },
}

/// A page's audit.
#[derive(Clone, Debug, Serialize)]
pub struct PageAudit {
    pub url: String,
    pub final_url: String,
    pub status: u16,
    pub score: u8,
    pub category_scores: BTreeMap<Category, u8>,
    pub checks: Vec<Check>,
    pub title: String,
    pub meta_description: String,
    pub word_count: usize,
    pub response_ms: u64,
    pub bytes: usize,
    pub structured_data: Vec<String>,
    /// Same-host links found on the page (absolute, without fragment).
    #[serde(skip)]
    pub internal_links: Vec<Url>,
    #[serde(skip)]
    pub keyword_hits: usize,
}

impl PageAudit {
    pub fn issues(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|check| check.status != Status::Pass)
    }
}

/// Runs audits with one fetcher.
#[derive(Clone, Debug)]
pub struct Auditor {
    pub fetcher: Fetcher,
}

impl Auditor {
    pub fn new(fetcher: Fetcher) -> Self {
        Self { fetcher }
    }

    /// robots.txt and the sitemap of `url`'s host.
    pub async fn site_context(&self, url: &Url) -> SiteContext {
        let root = url.join("/").unwrap_or_else(|_| url.clone());
        let robots_url = root.join("/robots.txt").unwrap_or_else(|_| root.clone());
        let robots = match self.fetcher.get(&robots_url).await {
            Ok(fetched) if (200..300).contains(&fetched.status) => {
                RobotsState::Found(Robots::parse(&fetched.text(), BOT_TOKEN))
            }
            Ok(fetched) if fetched.status >= 500 => {
                RobotsState::Broken(format!("robots.txt answers {}", fetched.status))
            }
            Ok(fetched) => RobotsState::Missing(fetched.status),
            Err(error) => RobotsState::Broken(format!("robots.txt: {error}")),
        };
        let declared = match &robots {
            RobotsState::Found(robots) => robots.sitemaps.iter().filter_map(|s| Url::parse(s).ok()).next(),
            _ => None,
        };
        let sitemap_url =
            declared.unwrap_or_else(|| root.join("/sitemap.xml").unwrap_or_else(|_| root.clone()));
        let sitemap = self.sitemap(&sitemap_url).await;
        let answers_https = url.scheme() == "https" || self.fetcher.answers_on_https(url).await;
        SiteContext { robots_url: robots_url.to_string(), robots, sitemap, answers_https }
    }

    async fn sitemap(&self, url: &Url) -> SitemapState {
        let fetched = match self.fetcher.get(url).await {
            Ok(fetched) if (200..300).contains(&fetched.status) => fetched,
            Ok(_) | Err(_) => return SitemapState::Missing,
        };
        match robots::parse_sitemap(&fetched.text()) {
            Ok(Sitemap::Urls(urls)) => SitemapState::Valid { url: url.to_string(), urls },
            Ok(Sitemap::Index(children)) => {
                SitemapState::Valid { url: url.to_string(), urls: self.child_sitemaps(&children).await }
            }
            Err(reason) => SitemapState::Invalid { url: url.to_string(), reason },
        }
    }

    /// One level of index: the pages of its first `MAX_CHILD_SITEMAPS` child sitemaps (a page
    /// in a child not read would be reported missing from the sitemap).
    async fn child_sitemaps(&self, children: &[String]) -> Vec<String> {
        let mut urls = Vec::new();
        for child in children.iter().filter_map(|child| Url::parse(child).ok()).take(MAX_CHILD_SITEMAPS) {
            if let Ok(fetched) = self.fetcher.get(&child).await
                && let Ok(Sitemap::Urls(found)) = robots::parse_sitemap(&fetched.text())
            {
                urls.extend(found);
            }
        }
        urls
    }

    /// Fetches and audits one page; `check_links` also requests its internal links.
    pub async fn audit_page(
        &self,
        url: &Url,
        keywords: &[String],
        site: &SiteContext,
        check_links: bool,
    ) -> Result<PageAudit, FetchError> {
        let fetched = self.fetcher.get(url).await?;
        Ok(self.analyze(url, fetched, keywords, site, check_links).await)
    }

    /// Audits an already fetched page.
    pub async fn analyze(
        &self,
        url: &Url,
        fetched: Fetched,
        keywords: &[String],
        site: &SiteContext,
        check_links: bool,
    ) -> PageAudit {
        let html = if fetched.is_html() { fetched.text() } else { String::new() };
        let facts = PageFacts::parse(&html);
        let page = Page { fetched: &fetched, facts: &facts, site };
        let mut checks = checks::page_checks(&page, keywords);
        checks.extend(site_checks(site, &fetched.url));
        let internal_links = internal_links(&fetched.url, &facts);
        if check_links {
            checks.push(self.broken_links(&internal_links).await);
        }
        let (score, category_scores) = report::score(&checks);
        let structured_data = facts
            .json_ld
            .iter()
            .filter_map(|script| serde_json::from_str::<Value>(script).ok())
            .flat_map(|value| checks::schema_types(&value))
            .collect();
        let keyword_hits = keywords.iter().filter(|k| checks::occurrences(&facts.text, k) > 0).count();
        PageAudit {
            url: url.to_string(),
            final_url: fetched.url.to_string(),
            status: fetched.status,
            score,
            category_scores,
            checks,
            title: facts.titles.first().cloned().unwrap_or_default(),
            meta_description: facts.meta_descriptions.first().cloned().unwrap_or_default(),
            word_count: facts.words(),
            response_ms: u64::try_from(fetched.elapsed.as_millis()).unwrap_or(u64::MAX),
            bytes: fetched.body.len(),
            structured_data,
            internal_links,
            keyword_hits,
        }
    }

    /// Requests up to `MAX_LINK_CHECKS` internal links, a few at a time.
    async fn broken_links(&self, links: &[Url]) -> Check {
        let fetcher = &self.fetcher;
        let statuses: Vec<(String, Result<u16, FetchError>)> =
            stream::iter(links.iter().take(MAX_LINK_CHECKS).cloned())
                .map(|link: Url| async move {
                    let status = fetcher.status_of(&link).await;
                    (link.to_string(), status)
                })
                .buffered(LINK_CHECK_CONCURRENCY)
                .collect()
                .await;
        let broken: Vec<Value> = statuses
            .iter()
            .filter_map(|(link, status)| match status {
                Ok(code) if *code < 400 => None,
                Ok(code) => Some(json!({ "url": link, "status": code })),
                Err(error) => Some(json!({ "url": link, "error": error.code() })),
            })
            .collect();
        checks::broken_links(statuses.len(), broken)
    }
}

/// Same-host http(s) links of the page, absolute, without fragment, each once.
fn internal_links(base: &Url, facts: &PageFacts) -> Vec<Url> {
    let mut seen = std::collections::HashSet::new();
    facts
        .links
        .iter()
        .filter(|link| !link.rel.split_whitespace().any(|rel| rel == "nofollow"))
        .filter_map(|link| link.href.as_deref())
        .filter_map(|href| base.join(href.trim()).ok())
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str() == base.host_str())
        .map(|mut url| {
            url.set_fragment(None);
            url
        })
        .filter(|url| seen.insert(url.to_string()))
        .collect()
}

/// robots.txt and sitemap checks for a page of the site.
pub fn site_checks(site: &SiteContext, page: &Url) -> Vec<Check> {
    vec![checks::robots_txt(site, page), checks::sitemap(site), checks::sitemap_in_robots(site)]
}
