//! The checks of one page, by topic: `indexability`, `content` (with the social cards),
//! `technical`, `links`, `keywords`, and `site` (robots.txt and the sitemap, the same for
//! every page of a host). Each has a stable id, a category, a weight, an outcome
//! (`pass`, `warning`, `fail`), the evidence (the offending element or value) and the fix.
//!
//! | id | category | weight | fails when (warns when) |
//! |---|---|---|---|
//! | `http_status` | indexability | 10 | the final status is not 2xx |
//! | `noindex` | indexability | 10 | robots meta or `X-Robots-Tag` says `noindex` (or `nofollow`) |
//! | `canonical` | indexability | 5 | several, relative or unparsable (missing; points to another URL) |
//! | `robots_txt` | indexability | 3 | 5xx or the page is disallowed (missing) |
//! | `sitemap` | indexability | 3 | not a valid sitemap (none found) |
//! | `sitemap_in_robots` | indexability | 2 | — (robots.txt names no sitemap, or there is no robots.txt) |
//! | `sitemap_listed` | indexability | 2 | — (an indexable page missing from the site's sitemap) |
//! | `hreflang` | indexability | 2 | a bad language code or a relative URL (no self-reference) |
//! | `title` | content | 8 | missing or several (shorter than 30 or longer than 60 characters) |
//! | `meta_description` | content | 6 | missing or several (outside 70–160 characters) |
//! | `h1` | content | 6 | none (more than one) |
//! | `heading_order` | content | 2 | — (a level is skipped, or the first heading is not an H1) |
//! | `image_alt` | content | 4 | an image has no `alt` attribute |
//! | `lang` | content | 2 | `<html>` has no `lang` |
//! | `https` | technical | 8 | served over http while the host answers on https or the canonical is https (served over http, no https in sight) |
//! | `viewport` | technical | 4 | no viewport meta (no `width=device-width`) |
//! | `structured_data` | technical | 4 | JSON-LD that does not parse or has no `@type` (none) |
//! | `mixed_content` | technical | 4 | a page served over, or canonicalised or declared (`og:url`) as, https loads http:// resources |
//! | `redirects` | technical | 3 | — (more than one redirect before the page) |
//! | `broken_links` | links | 8 | an internal link answers 4xx/5xx or not at all |
//! | `crawlable_anchors` | links | 3 | — (an `<a>` without a real href: none, `#`, `javascript:`) |
//! | `link_text` | links | 2 | — (link text that says nothing: "click here", "read more"…) |
//! | `open_graph` | social | 3 | — (og:title, og:description, og:image or og:url missing) |
//! | `twitter_card` | social | 1 | — (no twitter:card) |
//! | `page_weight` | performance | 4 | HTML over 2 MB or cut at the cap (over 500 KB) |
//! | `response_time` | performance | 4 | over 2 s (over 800 ms) |
//! | `keyword:<kw>` | keywords | 8 shared | the keyword is not in the body (missing from title, H1 or the main content's first paragraph; density outside 0.5–3%) |
//!
//! A pass counts 1, a warning ½, a failure 0; the score is the weighted mean × 100.

use serde::Serialize;
use serde_json::{Value, json};

mod content;
mod indexability;
mod keywords;
mod links;
mod site;
mod technical;

use self::{
    content::{h1, heading_order, image_alt, lang, meta_description, open_graph, title, twitter_card},
    indexability::{canonical, hreflang, http_status, noindex, sitemap_listed},
    keywords::keyword_check,
    links::{crawlable_anchors, link_text},
    technical::{https, mixed_content, page_weight, redirects, response_time, structured_data, viewport},
};
pub use self::{
    keywords::occurrences,
    links::broken_links,
    site::{robots_txt, sitemap, sitemap_in_robots},
    technical::schema_types,
};
use super::{SiteContext, fetch::Fetched, page::PageFacts};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Indexability,
    Content,
    Technical,
    Links,
    Social,
    Performance,
    Keywords,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::Indexability,
        Category::Content,
        Category::Technical,
        Category::Links,
        Category::Social,
        Category::Performance,
        Category::Keywords,
    ];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warning,
    Fail,
}

impl Status {
    pub fn value(self) -> f64 {
        match self {
            Status::Pass => 1.0,
            Status::Warning => 0.5,
            Status::Fail => 0.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    pub id: String,
    pub category: Category,
    pub weight: f64,
    pub status: Status,
    pub message: String,
    pub evidence: Value,
    /// What to do; empty when it passed.
    pub fix: String,
}

impl Check {
    fn new(id: &str, category: Category, weight: f64) -> Self {
        Self {
            id: id.to_owned(),
            category,
            weight,
            status: Status::Pass,
            message: String::new(),
            evidence: Value::Null,
            fix: String::new(),
        }
    }

    fn pass(mut self, message: impl Into<String>, evidence: Value) -> Self {
        self.message = message.into();
        self.evidence = evidence;
        self
    }

    fn problem(mut self, status: Status, message: impl Into<String>, evidence: Value, fix: &str) -> Self {
        self.status = status;
        self.message = message.into();
        self.evidence = evidence;
        self.fix = fix.to_owned();
        self
    }

    fn fail(self, message: impl Into<String>, evidence: Value, fix: &str) -> Self {
        self.problem(Status::Fail, message, evidence, fix)
    }

    fn warn(self, message: impl Into<String>, evidence: Value, fix: &str) -> Self {
        self.problem(Status::Warning, message, evidence, fix)
    }
}

/// The page as the checks see it, with what is known of its site.
pub struct Page<'a> {
    pub fetched: &'a Fetched,
    pub facts: &'a PageFacts,
    pub site: &'a SiteContext,
}

/// Evidence lists stop here.
const MAX_EVIDENCE: usize = 10;

fn some<T: Serialize>(items: impl IntoIterator<Item = T>) -> Value {
    json!(items.into_iter().take(MAX_EVIDENCE).collect::<Vec<_>>())
}

/// Every check of the page that needs no further request (the site checks and the link
/// check are added by the auditor).
pub fn page_checks(page: &Page, keywords: &[String]) -> Vec<Check> {
    let mut checks = vec![
        http_status(page),
        noindex(page),
        canonical(page),
        hreflang(page),
        sitemap_listed(page),
        title(page),
        meta_description(page),
        h1(page),
        heading_order(page),
        image_alt(page),
        lang(page),
        https(page),
        viewport(page),
        structured_data(page),
        mixed_content(page),
        redirects(page),
        crawlable_anchors(page),
        link_text(page),
        open_graph(page),
        twitter_card(page),
        page_weight(page),
        response_time(page),
    ];
    let share = if keywords.is_empty() { 0.0 } else { 8.0 / keywords.len() as f64 };
    checks.extend(keywords.iter().map(|keyword| keyword_check(page, keyword, share)));
    checks
}

/// What the topic modules' tests build pages from.
#[cfg(test)]
mod test_support {
    use url::Url;

    use super::{Check, Page, page_checks};
    use crate::seo::{
        RobotsState, SiteContext, SitemapState, fetch::Fetched, page::PageFacts, robots::Robots,
    };

    pub fn fetched(url: &str, html: &str) -> Fetched {
        Fetched {
            url: Url::parse(url).expect("url"),
            status: 200,
            redirects: Vec::new(),
            content_type: "text/html".into(),
            x_robots_tag: None,
            body: html.as_bytes().to_vec(),
            truncated: false,
            elapsed: std::time::Duration::from_millis(120),
        }
    }

    /// A site with a robots.txt that allows everything, no sitemap and no https.
    pub fn site() -> SiteContext {
        SiteContext {
            robots_url: "http://shop.test/robots.txt".into(),
            robots: RobotsState::Found(Robots::parse("User-agent: *\nAllow: /\n", "SwitchyardBot")),
            sitemap: SitemapState::Missing,
            answers_https: false,
        }
    }

    /// The check `id` of the page at `url` with `html`, on `site`.
    pub fn check_on(site: &SiteContext, url: &str, html: &str, id: &str) -> Check {
        let fetched = fetched(url, html);
        let facts = PageFacts::parse(html);
        let checks = page_checks(&Page { fetched: &fetched, facts: &facts, site }, &[]);
        checks.into_iter().find(|check| check.id == id).expect("check")
    }
}
