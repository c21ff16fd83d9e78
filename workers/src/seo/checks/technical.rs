//! How the page is served and built: HTTPS, viewport, structured data, mixed content,
//! redirects, weight and response time.

use serde_json::{Value, json};
use url::Url;

use super::{Category, Check, Page, some};

pub(super) fn https(page: &Page) -> Check {
    let check = Check::new("https", Category::Technical, 8.0);
    let url = page.fetched.url.as_str();
    if page.fetched.url.scheme() == "https" {
        return check.pass("The page is served over HTTPS.", json!(url));
    }
    let canonical = https_canonical(page);
    let evidence = json!({
        "url": url,
        "https_canonical": canonical.as_ref().map(Url::as_str),
        "host_answers_https": page.site.answers_https,
    });
    if canonical.is_some() || page.site.answers_https {
        check.fail(
            "The page is served over plain HTTP although the site has an HTTPS version.",
            evidence,
            "Redirect every http:// URL to its https:// twin with a 301, and link to the https:// URLs.",
        )
    } else {
        check.warn(
            "The page is served over plain HTTP and the host does not answer on HTTPS.",
            evidence,
            "Get a TLS certificate (Let's Encrypt issues them free), serve the site over HTTPS, \
             then redirect http:// to https:// with a 301.",
        )
    }
}

/// The page's canonical URL when it is an https one.
fn https_canonical(page: &Page) -> Option<Url> {
    let canonical = page.facts.canonicals.first()?;
    Url::parse(canonical.trim()).ok().filter(|url| url.scheme() == "https")
}

/// Served over https, or canonicalised (`rel=canonical`) or declared (`og:url`) as https.
fn meant_as_https(page: &Page) -> bool {
    let declared =
        page.facts.social("og:url").is_some_and(|url| url.trim().to_lowercase().starts_with("https://"));
    page.fetched.url.scheme() == "https" || https_canonical(page).is_some() || declared
}

pub(super) fn viewport(page: &Page) -> Check {
    let check = Check::new("viewport", Category::Technical, 4.0);
    match &page.facts.viewport {
        None => check.fail(
            "The page has no viewport meta tag; phones show it zoomed out.",
            Value::Null,
            "Add <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">.",
        ),
        Some(content) if !content.replace(' ', "").contains("width=device-width") => check.warn(
            "The viewport does not follow the device width.",
            json!(content),
            "Use content=\"width=device-width, initial-scale=1\".",
        ),
        Some(content) => check.pass("The page has a responsive viewport.", json!(content)),
    }
}

pub(super) fn structured_data(page: &Page) -> Check {
    let check = Check::new("structured_data", Category::Technical, 4.0);
    if page.facts.json_ld.is_empty() {
        return check.warn(
            "The page has no JSON-LD structured data.",
            Value::Null,
            "Describe the page with schema.org JSON-LD (Article, Product, Organization…).",
        );
    }
    let mut types = Vec::new();
    let mut problems = Vec::new();
    for (index, script) in page.facts.json_ld.iter().enumerate() {
        match serde_json::from_str::<Value>(script) {
            Err(error) => problems.push(format!("block {}: does not parse: {error}", index + 1)),
            Ok(value) => {
                let found = schema_types(&value);
                if found.is_empty() {
                    problems.push(format!("block {}: no @type", index + 1));
                }
                types.extend(found);
            }
        }
    }
    if problems.is_empty() {
        check.pass(format!("Structured data: {}.", types.join(", ")), some(types))
    } else {
        check.fail(
            "Some structured data is invalid.",
            some(problems),
            "Fix the JSON-LD so it parses and every item has an @type.",
        )
    }
}

/// The `@type`s of a JSON-LD value (an object, an array, or an `@graph`).
pub fn schema_types(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().flat_map(schema_types).collect(),
        Value::Object(object) => {
            let mut types: Vec<String> = match object.get("@type") {
                Some(Value::String(kind)) => vec![kind.clone()],
                Some(Value::Array(kinds)) => {
                    kinds.iter().filter_map(|k| k.as_str().map(str::to_owned)).collect()
                }
                _ => Vec::new(),
            };
            if let Some(graph) = object.get("@graph") {
                types.extend(schema_types(graph));
            }
            types
        }
        _ => Vec::new(),
    }
}

pub(super) fn mixed_content(page: &Page) -> Check {
    let check = Check::new("mixed_content", Category::Technical, 4.0);
    if !meant_as_https(page) {
        return check.pass("Neither served over HTTPS nor declared as an HTTPS page.", Value::Null);
    }
    // Judged from the markup, whatever scheme the audit fetched it over: relative URLs follow
    // the page's scheme, an explicit http:// stays insecure on the https page.
    let insecure: Vec<&String> =
        page.facts.resources.iter().filter(|src| src.trim().to_lowercase().starts_with("http://")).collect();
    if insecure.is_empty() {
        check.pass("Every resource loads over HTTPS.", Value::Null)
    } else {
        check.fail(
            format!("{} resources load over plain HTTP on an HTTPS page.", insecure.len()),
            some(insecure),
            "Load every image, script, stylesheet and frame over HTTPS.",
        )
    }
}

pub(super) fn redirects(page: &Page) -> Check {
    let check = Check::new("redirects", Category::Technical, 3.0);
    let hops = &page.fetched.redirects;
    match hops.len() {
        0 => check.pass("No redirects.", Value::Null),
        1 => check.pass("One redirect.", json!(hops)),
        n => check.warn(
            format!("A chain of {n} redirects."),
            json!(hops),
            "Link and redirect straight to the final URL.",
        ),
    }
}

pub(super) fn page_weight(page: &Page) -> Check {
    let check = Check::new("page_weight", Category::Performance, 4.0);
    let bytes = page.fetched.body.len();
    let evidence = json!({ "bytes": bytes, "truncated": page.fetched.truncated });
    if page.fetched.truncated || bytes > 2_000_000 {
        check.fail(
            format!(
                "The HTML is too heavy ({} KB{}).",
                bytes / 1000,
                if page.fetched.truncated { ", cut at the cap" } else { "" }
            ),
            evidence,
            "Cut inline data, scripts and markup; aim for under 500 KB of HTML.",
        )
    } else if bytes > 500_000 {
        check.warn(
            format!("The HTML is heavy ({} KB).", bytes / 1000),
            evidence,
            "Aim for under 500 KB of HTML.",
        )
    } else {
        check.pass(format!("The HTML weighs {} KB.", bytes.div_ceil(1000)), evidence)
    }
}

pub(super) fn response_time(page: &Page) -> Check {
    let check = Check::new("response_time", Category::Performance, 4.0);
    let ms = page.fetched.elapsed.as_millis() as u64;
    if ms > 2_000 {
        check.fail(
            format!("The page took {ms} ms."),
            json!(ms),
            "Speed up the server: caching, a CDN, fewer redirects.",
        )
    } else if ms > 800 {
        check.warn(format!("The page took {ms} ms."), json!(ms), "Aim for under 800 ms to the last byte.")
    } else {
        check.pass(format!("The page took {ms} ms."), json!(ms))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::{
        Page, Status, page_checks,
        test_support::{check_on, fetched, site},
    };
    use super::schema_types;
    use crate::seo::page::PageFacts;

    fn outcome(url: &str, html: &str, id: &str) -> (Status, Value) {
        let check = check_on(&site(), url, html, id);
        (check.status, check.evidence)
    }

    #[test]
    fn an_https_page_loading_http_resources_is_mixed_content() {
        let html = r#"<html><body><img src="http://cdn.test/a.png" alt="a"><script src="https://cdn.test/app.js"></script>
                      <iframe src="http://video.test/embed"></iframe><a href="http://other.test/">a plain link</a></body></html>"#;
        let (status, evidence) = outcome("https://shop.test/", html, "mixed_content");
        assert_eq!(status, Status::Fail);
        assert_eq!(
            evidence,
            json!(["http://cdn.test/a.png", "http://video.test/embed"]),
            "links are not resources"
        );
        assert_eq!(outcome("https://shop.test/", html, "https").0, Status::Pass);
        assert_eq!(
            outcome("https://shop.test/", "<img src=\"/a.png\" alt=\"\">", "mixed_content").0,
            Status::Pass
        );
    }

    #[test]
    fn a_page_fetched_over_http_that_canonicalises_or_declares_https_is_checked_for_mixed_content() {
        let resources = r#"<img src="http://cdn.test/a.png" alt="a"><img src="/b.png" alt="b">"#;
        let canonical = format!(r#"<link rel="canonical" href="https://shop.test/p">{resources}"#);
        let (status, evidence) = outcome("http://shop.test/p", &canonical, "mixed_content");
        assert_eq!(status, Status::Fail);
        assert_eq!(evidence, json!(["http://cdn.test/a.png"]));
        let declared = format!(r#"<meta property="og:url" content="https://shop.test/p">{resources}"#);
        assert_eq!(outcome("http://shop.test/p", &declared, "mixed_content").0, Status::Fail);
        assert_eq!(
            outcome("http://shop.test/p", resources, "mixed_content").0,
            Status::Pass,
            "plain http throughout"
        );
    }

    #[test]
    fn a_plain_http_page_fails_https_only_where_https_is_there() {
        let plain = check_on(&site(), "http://shop.test/p", "<p>x</p>", "https");
        assert_eq!(plain.status, Status::Warning, "{plain:?}");
        assert!(plain.fix.contains("certificate"), "{}", plain.fix);
        let answering = crate::seo::SiteContext { answers_https: true, ..site() };
        assert_eq!(check_on(&answering, "http://shop.test/p", "<p>x</p>", "https").status, Status::Fail);
        let canonical = r#"<link rel="canonical" href="https://shop.test/p">"#;
        let canonicalised = check_on(&site(), "http://shop.test/p", canonical, "https");
        assert_eq!(canonicalised.status, Status::Fail);
        assert!(canonicalised.fix.contains("301"), "{}", canonicalised.fix);
    }

    #[test]
    fn slow_pages_warn_then_fail() {
        let mut slow = fetched("https://shop.test/", "<p>x</p>");
        slow.elapsed = std::time::Duration::from_millis(2_500);
        let facts = PageFacts::parse("<p>x</p>");
        let checks = page_checks(&Page { fetched: &slow, facts: &facts, site: &site() }, &[]);
        let timing = checks.iter().find(|check| check.id == "response_time").expect("check");
        assert_eq!(timing.status, Status::Fail);
        assert_eq!(timing.evidence, json!(2500));
    }

    #[test]
    fn schema_types_are_found_in_graphs_and_arrays() {
        let value: Value = serde_json::from_str(
            r#"{"@context":"https://schema.org","@graph":[{"@type":"Organization"},{"@type":["Article","NewsArticle"]}]}"#,
        )
        .expect("json");
        assert_eq!(schema_types(&value), vec!["Organization", "Article", "NewsArticle"]);
    }
}
