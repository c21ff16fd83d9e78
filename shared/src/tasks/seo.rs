//! The SEO audit, run by `worker-seo`.

use serde::{Deserialize, Serialize};
use url::Url;

use super::Payload;
use crate::{net::OutboundGuard, problems::Problems};

pub const MAX_COMPETITORS: usize = 5;
pub const MAX_KEYWORDS: usize = 50;
pub const MAX_KEYWORD_CHARS: usize = 100;
pub const DEFAULT_CRAWL_PAGES: usize = 25;
pub const MAX_CRAWL_PAGES: usize = 200;
pub const DEFAULT_CRAWL_DEPTH: usize = 3;
pub const MAX_CRAWL_DEPTH: usize = 10;

/// Audits `url` for `keywords`, side by side with `competitors`; `crawl` also follows the
/// site's internal links.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditPayload {
    pub url: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub competitors: Vec<String>,
    /// The account's site the audit belongs to, for its score history.
    #[serde(default)]
    pub site_id: Option<i64>,
    #[serde(default)]
    pub crawl: Option<CrawlOptions>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CrawlOptions {
    #[serde(default = "default_pages")]
    pub max_pages: usize,
    #[serde(default = "default_depth")]
    pub max_depth: usize,
}

fn default_pages() -> usize {
    DEFAULT_CRAWL_PAGES
}

fn default_depth() -> usize {
    DEFAULT_CRAWL_DEPTH
}

/// An http(s) URL with a host that is not a literal address the guard refuses.
pub fn audit_url(raw: &str, guard: &OutboundGuard) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|error| format!("not a valid URL ({error})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("the scheme must be http or https, not `{}`", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the URL must not carry credentials".to_owned());
    }
    guard.check_url(&url).map_err(|refused| refused.to_string())?;
    Ok(url)
}

impl Payload for AuditPayload {
    fn problems(&self, guard: &OutboundGuard) -> Problems {
        let mut problems = Problems::new();
        if let Err(problem) = audit_url(&self.url, guard) {
            problems.push("url", problem);
        }
        if self.competitors.len() > MAX_COMPETITORS {
            problems.push("competitors", format!("at most {MAX_COMPETITORS} competitors"));
        }
        for (index, competitor) in self.competitors.iter().enumerate() {
            if let Err(problem) = audit_url(competitor, guard) {
                problems.push(format!("competitors[{index}]"), problem);
            }
        }
        if self.keywords.len() > MAX_KEYWORDS {
            problems.push("keywords", format!("at most {MAX_KEYWORDS} keywords"));
        }
        for (index, keyword) in self.keywords.iter().enumerate() {
            let length = keyword.trim().chars().count();
            if length == 0 || length > MAX_KEYWORD_CHARS {
                problems.push(
                    format!("keywords[{index}]"),
                    format!("must be 1 to {MAX_KEYWORD_CHARS} characters"),
                );
            }
        }
        if let Some(crawl) = self.crawl {
            if !(1..=MAX_CRAWL_PAGES).contains(&crawl.max_pages) {
                problems.push("crawl.max_pages", format!("must be 1 to {MAX_CRAWL_PAGES}"));
            }
            if crawl.max_depth > MAX_CRAWL_DEPTH {
                problems.push("crawl.max_depth", format!("must be at most {MAX_CRAWL_DEPTH}"));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(url: &str) -> AuditPayload {
        AuditPayload { url: url.into(), keywords: vec![], competitors: vec![], site_id: None, crawl: None }
    }

    #[test]
    fn urls_must_be_public_http() {
        let guard = OutboundGuard::default();
        assert!(payload("https://example.com/page").problems(&guard).is_empty());
        for bad in [
            "example.com",
            "ftp://example.com/",
            "http://127.0.0.1/",
            "http://10.0.0.8/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]:8080/",
            "http://[fd00::1]/",
            "http://user:pw@example.com/",
        ] {
            let problems = payload(bad).problems(&guard);
            assert_eq!(problems.first().map(|(field, _)| field), Some("url"), "{bad}: {problems:?}");
        }
        assert!(
            payload("http://127.0.0.1:8080/").problems(&OutboundGuard::from_list("127.0.0.1")).is_empty()
        );
    }

    #[test]
    fn limits_name_their_field() {
        let guard = OutboundGuard::default();
        let mut many = payload("https://example.com/");
        many.competitors = vec!["https://a.example/".into(); 6];
        many.keywords = vec!["k".into(); 51];
        many.crawl = Some(CrawlOptions { max_pages: 0, max_depth: 11 });
        let fields: Vec<String> = many.problems(&guard).into_iter().map(|p| p.0).collect();
        assert_eq!(fields, vec!["competitors", "keywords", "crawl.max_pages", "crawl.max_depth"]);
    }
}
