//! Whether search engines may index the page: its status, robots directives, canonical URL
//! and language alternates.

use serde_json::{Value, json};
use url::Url;

use super::{Category, Check, Page, some};
use crate::seo::SitemapState;

pub(super) fn http_status(page: &Page) -> Check {
    let check = Check::new("http_status", Category::Indexability, 10.0);
    let status = page.fetched.status;
    if (200..300).contains(&status) {
        check.pass(format!("The page answers {status}."), json!(status))
    } else {
        check.fail(
            format!("The page answers {status}; search engines do not index it."),
            json!(status),
            "Serve the page with a 200 status, or remove links to it.",
        )
    }
}

pub(super) fn noindex(page: &Page) -> Check {
    let check = Check::new("noindex", Category::Indexability, 10.0);
    let directives = robots_directives(page);
    let says = |word: &str| says(&directives, word);
    if says("noindex") {
        check.fail(
            "The page asks search engines not to index it.",
            json!(directives),
            "Remove `noindex` from the robots meta tag and the X-Robots-Tag header if the page should rank.",
        )
    } else if says("nofollow") {
        check.warn(
            "The page asks search engines not to follow its links.",
            json!(directives),
            "Remove `nofollow` unless the links must not pass authority.",
        )
    } else {
        check.pass("Nothing keeps the page out of the index.", json!(directives))
    }
}

/// The robots meta tags and the `X-Robots-Tag` header.
fn robots_directives(page: &Page) -> Vec<String> {
    let mut directives: Vec<String> = page.facts.robots_meta.clone();
    if let Some(header) = &page.fetched.x_robots_tag {
        directives.push(format!("X-Robots-Tag: {header}"));
    }
    directives
}

/// Whether a directive says `word` (or `none`, which means noindex and nofollow).
fn says(directives: &[String], word: &str) -> bool {
    directives
        .iter()
        .any(|d| d.to_lowercase().split([',', ' ', ':']).any(|t| t.trim() == word || t.trim() == "none"))
}

pub(super) fn canonical(page: &Page) -> Check {
    let check = Check::new("canonical", Category::Indexability, 5.0);
    let fix = "Add one <link rel=\"canonical\" href=\"…\"> with the page's absolute URL.";
    match page.facts.canonicals.as_slice() {
        [] => check.warn("The page has no canonical URL.", Value::Null, fix),
        [only] => match Url::parse(only) {
            Err(_) => check.fail(
                format!("The canonical URL `{only}` is not absolute."),
                json!(only),
                "Write the canonical URL in full, with scheme and host.",
            ),
            Ok(target) if same_page(&target, &page.fetched.url) => {
                check.pass("The canonical URL is the page itself.", json!(only))
            }
            Ok(target) if https_twin(&target, &page.fetched.url) => {
                check.pass("The canonical URL is the page's HTTPS version.", json!(only))
            }
            Ok(target) if target.host_str() != page.fetched.url.host_str() => check.warn(
                format!(
                    "The canonical URL points to another host ({})",
                    target.host_str().unwrap_or_default()
                ),
                json!(only),
                "Make sure the other host is meant to rank instead of this page.",
            ),
            Ok(_) => check.warn(
                "The canonical URL points to another page of the site; this page will not rank itself.",
                json!(only),
                "Keep it only if this page duplicates that one.",
            ),
        },
        several => check.fail(
            "The page declares several canonical URLs.",
            some(several),
            "Keep exactly one canonical link.",
        ),
    }
}

/// Equal but for a trailing slash and the fragment.
pub(super) fn same_page(a: &Url, b: &Url) -> bool {
    let normal = |url: &Url| {
        let mut url = url.clone();
        url.set_fragment(None);
        url.as_str().trim_end_matches('/').to_owned()
    };
    normal(a) == normal(b)
}

/// `target` is `page` with https for http (any port): the canonical of a page still served
/// over plain HTTP.
fn https_twin(target: &Url, page: &Url) -> bool {
    target.scheme() == "https"
        && page.scheme() == "http"
        && target.host_str() == page.host_str()
        && target.path().trim_end_matches('/') == page.path().trim_end_matches('/')
        && target.query() == page.query()
}

/// The canonical URL the page names for itself, when it names one: itself or its https twin.
fn self_canonical(page: &Page) -> Option<Url> {
    match page.facts.canonicals.as_slice() {
        [only] => Url::parse(only.trim())
            .ok()
            .filter(|target| same_page(target, &page.fetched.url) || https_twin(target, &page.fetched.url)),
        _ => None,
    }
}

/// What search engines may index: a 2xx page without noindex, allowed by robots.txt, that is
/// its own canonical (or names none).
fn indexable(page: &Page) -> bool {
    (200..300).contains(&page.fetched.status)
        && !says(&robots_directives(page), "noindex")
        && page.site.robots.allows(&page.fetched.url)
        && (page.facts.canonicals.is_empty() || self_canonical(page).is_some())
}

pub(super) fn sitemap_listed(page: &Page) -> Check {
    let check = Check::new("sitemap_listed", Category::Indexability, 2.0);
    let SitemapState::Valid { url: sitemap, urls } = &page.site.sitemap else {
        return check.pass("The site has no valid sitemap to list the page in.", Value::Null);
    };
    if !indexable(page) {
        return check.pass("The page is not meant to be indexed; it need not be listed.", Value::Null);
    }
    let canonical = self_canonical(page);
    let listed = urls.iter().filter_map(|loc| Url::parse(loc.trim()).ok()).any(|loc| {
        same_page(&loc, &page.fetched.url) || canonical.as_ref().is_some_and(|c| same_page(&loc, c))
    });
    let evidence = json!({ "page": page.fetched.url.as_str(), "sitemap": sitemap });
    if listed {
        check.pass("The sitemap lists the page.", evidence)
    } else {
        check.warn(
            "The page can be indexed but the sitemap does not list it.",
            evidence,
            "Add the page's canonical URL to the sitemap as a <url><loc>.",
        )
    }
}

pub(super) fn hreflang(page: &Page) -> Check {
    let check = Check::new("hreflang", Category::Indexability, 2.0);
    let links = &page.facts.hreflangs;
    if links.is_empty() {
        return check.pass("The page declares no language alternates.", Value::Null);
    }
    let bad: Vec<String> = links
        .iter()
        .filter(|link| !valid_language(&link.lang) || Url::parse(&link.href).is_err())
        .map(|link| format!("hreflang=\"{}\" href=\"{}\"", link.lang, link.href))
        .collect();
    if !bad.is_empty() {
        return check.fail(
            "Some hreflang links have an invalid language code or a relative URL.",
            some(bad),
            "Use ISO 639-1 codes (optionally with an ISO 3166-1 region, or x-default) and absolute URLs.",
        );
    }
    let self_listed =
        links.iter().any(|link| Url::parse(&link.href).is_ok_and(|url| same_page(&url, &page.fetched.url)));
    if !self_listed {
        return check.warn(
            "The hreflang set does not list the page itself.",
            some(links.iter().map(|l| format!("{} → {}", l.lang, l.href))),
            "Add a hreflang link for the page's own language pointing to itself.",
        );
    }
    check.pass("The hreflang links are valid.", some(links.iter().map(|l| l.lang.clone())))
}

pub(super) fn valid_language(code: &str) -> bool {
    if code.eq_ignore_ascii_case("x-default") {
        return true;
    }
    let mut parts = code.split('-');
    let language = parts.next().unwrap_or_default();
    let region_ok = match parts.next() {
        None => true,
        Some(region) => {
            (region.len() == 2 && region.chars().all(|c| c.is_ascii_alphabetic()))
                || (region.len() == 4 && region.chars().all(|c| c.is_ascii_alphabetic()))
        }
    };
    language.len() == 2
        && language.chars().all(|c| c.is_ascii_alphabetic())
        && region_ok
        && parts.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::super::{
        Status,
        test_support::{check_on, site},
    };
    use super::valid_language;
    use crate::seo::{SiteContext, SitemapState};

    #[test]
    fn language_codes() {
        for good in ["en", "en-GB", "x-default", "zh-Hant", "de-ch"] {
            assert!(valid_language(good), "{good}");
        }
        for bad in ["english", "e", "en-", "en_GB", "en-GB-x", "12"] {
            assert!(!valid_language(bad), "{bad}");
        }
    }

    #[test]
    fn an_indexable_page_missing_from_the_sitemap_warns() {
        let mapped = SiteContext {
            sitemap: SitemapState::Valid {
                url: "http://shop.test/sitemap.xml".into(),
                urls: vec!["http://shop.test/listed/".into(), "https://shop.test/secure".into()],
            },
            ..site()
        };
        let status = |url: &str, html: &str| check_on(&mapped, url, html, "sitemap_listed").status;
        assert_eq!(status("http://shop.test/listed", "<p>x</p>"), Status::Pass);
        assert_eq!(status("http://shop.test/unlisted", "<p>x</p>"), Status::Warning);
        let https_canonical = r#"<link rel="canonical" href="https://shop.test/secure">"#;
        assert_eq!(
            status("http://shop.test/secure", https_canonical),
            Status::Pass,
            "listed by its canonical"
        );
        let noindex = r#"<meta name="robots" content="noindex">"#;
        assert_eq!(status("http://shop.test/unlisted", noindex), Status::Pass, "not indexable");
        let elsewhere = r#"<link rel="canonical" href="http://shop.test/listed">"#;
        assert_eq!(status("http://shop.test/unlisted", elsewhere), Status::Pass, "canonicalised away");
        assert_eq!(
            check_on(&site(), "http://shop.test/unlisted", "<p>x</p>", "sitemap_listed").status,
            Status::Pass
        );
    }
}
