//! The checks of one page. Each has a stable id, a category, a weight, an outcome
//! (`pass`, `warning`, `fail`), the evidence (the offending element or value) and the fix.
//!
//! | id | category | weight | fails when (warns when) |
//! |---|---|---|---|
//! | `http_status` | indexability | 10 | the final status is not 2xx |
//! | `noindex` | indexability | 10 | robots meta or `X-Robots-Tag` says `noindex` (or `nofollow`) |
//! | `canonical` | indexability | 5 | several, relative or unparsable (missing; points to another URL) |
//! | `robots_txt` | indexability | 3 | 5xx or the page is disallowed (missing) |
//! | `sitemap` | indexability | 3 | not a valid sitemap (none found) |
//! | `hreflang` | indexability | 2 | a bad language code or a relative URL (no self-reference) |
//! | `title` | content | 8 | missing or several (shorter than 30 or longer than 60 characters) |
//! | `meta_description` | content | 6 | missing or several (outside 70–160 characters) |
//! | `h1` | content | 6 | none (more than one) |
//! | `heading_order` | content | 2 | — (a level is skipped, or the first heading is not an H1) |
//! | `image_alt` | content | 4 | an image has no `alt` attribute |
//! | `lang` | content | 2 | `<html>` has no `lang` |
//! | `https` | technical | 8 | the page is served over http |
//! | `viewport` | technical | 4 | no viewport meta (no `width=device-width`) |
//! | `structured_data` | technical | 4 | JSON-LD that does not parse or has no `@type` (none) |
//! | `mixed_content` | technical | 4 | an https page loads http:// resources |
//! | `redirects` | technical | 3 | — (more than one redirect before the page) |
//! | `broken_links` | links | 8 | an internal link answers 4xx/5xx or not at all |
//! | `crawlable_anchors` | links | 3 | — (an `<a>` without a real href: none, `#`, `javascript:`) |
//! | `link_text` | links | 2 | — (link text that says nothing: "click here", "read more"…) |
//! | `open_graph` | social | 3 | — (og:title, og:description, og:image or og:url missing) |
//! | `twitter_card` | social | 1 | — (no twitter:card) |
//! | `page_weight` | performance | 4 | HTML over 2 MB or cut at the cap (over 500 KB) |
//! | `response_time` | performance | 4 | over 2 s (over 800 ms) |
//! | `keyword:<kw>` | keywords | 8 shared | the keyword is not in the body (missing from title, H1 or first paragraph; density outside 0.5–3%) |
//!
//! A pass counts 1, a warning ½, a failure 0; the score is the weighted mean × 100.

use serde::Serialize;
use serde_json::{Value, json};
use url::Url;

use super::{RobotsState, SiteContext, SitemapState, fetch::Fetched, page::PageFacts};

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

/// The page as the checks see it.
pub struct Page<'a> {
    pub fetched: &'a Fetched,
    pub facts: &'a PageFacts,
}

/// Evidence lists stop here.
const MAX_EVIDENCE: usize = 10;

fn some<T: Serialize>(items: impl IntoIterator<Item = T>) -> Value {
    json!(items.into_iter().take(MAX_EVIDENCE).collect::<Vec<_>>())
}

/// Every check that needs only the page itself.
pub fn page_checks(page: &Page, keywords: &[String]) -> Vec<Check> {
    let mut checks = vec![
        http_status(page),
        noindex(page),
        canonical(page),
        hreflang(page),
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

fn http_status(page: &Page) -> Check {
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

fn noindex(page: &Page) -> Check {
    let check = Check::new("noindex", Category::Indexability, 10.0);
    let mut directives: Vec<String> = page.facts.robots_meta.clone();
    if let Some(header) = &page.fetched.x_robots_tag {
        directives.push(format!("X-Robots-Tag: {header}"));
    }
    let says = |word: &str| {
        directives
            .iter()
            .any(|d| d.to_lowercase().split([',', ' ', ':']).any(|t| t.trim() == word || t.trim() == "none"))
    };
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

fn canonical(page: &Page) -> Check {
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
fn same_page(a: &Url, b: &Url) -> bool {
    let normal = |url: &Url| {
        let mut url = url.clone();
        url.set_fragment(None);
        url.as_str().trim_end_matches('/').to_owned()
    };
    normal(a) == normal(b)
}

fn hreflang(page: &Page) -> Check {
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

fn valid_language(code: &str) -> bool {
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

fn title(page: &Page) -> Check {
    let check = Check::new("title", Category::Content, 8.0);
    match page.facts.titles.as_slice() {
        [] => check.fail(
            "The page has no title.",
            Value::Null,
            "Add a <title> of 30–60 characters naming the topic.",
        ),
        [title] if title.is_empty() => check.fail(
            "The title is empty.",
            json!(title),
            "Write a <title> of 30–60 characters naming the topic.",
        ),
        [title] => {
            let length = title.chars().count();
            if length < 30 {
                check.warn(
                    format!("The title is short ({length} characters)."),
                    json!(title),
                    "Lengthen the title to 30–60 characters with the main keyword.",
                )
            } else if length > 60 {
                check.warn(
                    format!("The title is long ({length} characters); results cut it."),
                    json!(title),
                    "Shorten the title to at most 60 characters.",
                )
            } else {
                check.pass(format!("The title has {length} characters."), json!(title))
            }
        }
        several => check.fail("The page has several titles.", some(several), "Keep exactly one <title>."),
    }
}

fn meta_description(page: &Page) -> Check {
    let check = Check::new("meta_description", Category::Content, 6.0);
    match page.facts.meta_descriptions.as_slice() {
        [] => check.fail(
            "The page has no meta description.",
            Value::Null,
            "Add a meta description of 70–160 characters that sells the click.",
        ),
        [description] => {
            let length = description.chars().count();
            if length < 70 {
                check.warn(
                    format!("The meta description is short ({length} characters)."),
                    json!(description),
                    "Write 70–160 characters.",
                )
            } else if length > 160 {
                check.warn(
                    format!("The meta description is long ({length} characters); results cut it."),
                    json!(description),
                    "Shorten it to at most 160 characters.",
                )
            } else {
                check.pass(format!("The meta description has {length} characters."), json!(description))
            }
        }
        several => check.fail(
            "The page has several meta descriptions.",
            some(several),
            "Keep exactly one meta description.",
        ),
    }
}

fn h1(page: &Page) -> Check {
    let check = Check::new("h1", Category::Content, 6.0);
    match page.facts.h1s().as_slice() {
        [] => check.fail("The page has no H1.", Value::Null, "Add one <h1> stating the page's topic."),
        [one] => check.pass("The page has one H1.", json!(one)),
        several => check.warn(
            format!("The page has {} H1 headings.", several.len()),
            some(several),
            "Keep one <h1>; make the others <h2>.",
        ),
    }
}

fn heading_order(page: &Page) -> Check {
    let check = Check::new("heading_order", Category::Content, 2.0);
    let headings = &page.facts.headings;
    let mut skips = Vec::new();
    let mut previous = 0u8;
    for (level, text) in headings {
        if *level > previous + 1 && previous != 0 {
            skips.push(format!("h{previous} → h{level} \"{text}\""));
        }
        previous = *level;
    }
    let starts_wrong = headings.first().is_some_and(|(level, _)| *level != 1);
    if skips.is_empty() && !starts_wrong {
        return check.pass("Headings follow their levels.", Value::Null);
    }
    if starts_wrong && let Some((level, text)) = headings.first() {
        skips.insert(0, format!("first heading is h{level} \"{text}\""));
    }
    check.warn("Heading levels are skipped.", some(skips), "Nest headings in order: h1, then h2, then h3.")
}

fn image_alt(page: &Page) -> Check {
    let check = Check::new("image_alt", Category::Content, 4.0);
    let missing: Vec<&str> = page
        .facts
        .images
        .iter()
        .filter(|image| image.alt.is_none())
        .map(|image| image.src.as_str())
        .collect();
    if missing.is_empty() {
        check.pass(format!("All {} images have alt text.", page.facts.images.len()), Value::Null)
    } else {
        check.fail(
            format!("{} of {} images have no alt attribute.", missing.len(), page.facts.images.len()),
            some(missing),
            "Describe each image in its alt attribute (alt=\"\" for decorative ones).",
        )
    }
}

fn lang(page: &Page) -> Check {
    let check = Check::new("lang", Category::Content, 2.0);
    match page.facts.lang.as_deref().map(str::trim) {
        Some(lang) if !lang.is_empty() => {
            check.pass(format!("The page declares lang=\"{lang}\"."), json!(lang))
        }
        _ => check.fail(
            "<html> has no lang attribute.",
            Value::Null,
            "Add lang=\"en\" (or the page's language) to <html>.",
        ),
    }
}

fn https(page: &Page) -> Check {
    let check = Check::new("https", Category::Technical, 8.0);
    let url = page.fetched.url.as_str();
    if page.fetched.url.scheme() == "https" {
        check.pass("The page is served over HTTPS.", json!(url))
    } else {
        check.fail(
            "The page is served over plain HTTP.",
            json!(url),
            "Serve the site over HTTPS and redirect HTTP to it.",
        )
    }
}

fn viewport(page: &Page) -> Check {
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

fn structured_data(page: &Page) -> Check {
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

fn mixed_content(page: &Page) -> Check {
    let check = Check::new("mixed_content", Category::Technical, 4.0);
    if page.fetched.url.scheme() != "https" {
        return check.pass("Not an HTTPS page.", Value::Null);
    }
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

fn redirects(page: &Page) -> Check {
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

fn crawlable_anchors(page: &Page) -> Check {
    let check = Check::new("crawlable_anchors", Category::Links, 3.0);
    let bad: Vec<String> = page
        .facts
        .links
        .iter()
        .filter(|link| match link.href.as_deref().map(str::trim) {
            None | Some("") | Some("#") => true,
            Some(href) => href.to_lowercase().starts_with("javascript:"),
        })
        .map(|link| format!("<a href=\"{}\">{}</a>", link.href.as_deref().unwrap_or(""), link.text))
        .collect();
    if bad.is_empty() {
        check.pass("Every link has a crawlable href.", Value::Null)
    } else {
        check.warn(
            format!("{} links cannot be followed by crawlers.", bad.len()),
            some(bad),
            "Give each link a real URL in href; use buttons for actions.",
        )
    }
}

const EMPTY_LINK_TEXTS: [&str; 11] = [
    "click here",
    "here",
    "read more",
    "more",
    "link",
    "this",
    "learn more",
    "click",
    "go",
    "details",
    "this page",
];

fn link_text(page: &Page) -> Check {
    let check = Check::new("link_text", Category::Links, 2.0);
    let vague: Vec<String> = page
        .facts
        .links
        .iter()
        .filter(|link| link.href.is_some())
        .filter(|link| {
            let text = link.text.trim().trim_end_matches(['.', '!', '…']).to_lowercase();
            text.is_empty() || EMPTY_LINK_TEXTS.contains(&text.as_str())
        })
        .map(|link| format!("\"{}\" → {}", link.text, link.href.as_deref().unwrap_or_default()))
        .collect();
    if vague.is_empty() {
        check.pass("Link texts say where they lead.", Value::Null)
    } else {
        check.warn(
            format!("{} links have text that says nothing.", vague.len()),
            some(vague),
            "Write link text that names the target (\"running shoe sizes\", not \"click here\").",
        )
    }
}

fn open_graph(page: &Page) -> Check {
    let check = Check::new("open_graph", Category::Social, 3.0);
    let missing: Vec<&str> = ["og:title", "og:description", "og:image", "og:url"]
        .into_iter()
        .filter(|tag| page.facts.social(tag).is_none_or(str::is_empty))
        .collect();
    if missing.is_empty() {
        check.pass("Open Graph tags are complete.", Value::Null)
    } else {
        check.warn(
            "Some Open Graph tags are missing; shares look bare.",
            json!(missing),
            "Add the missing og: meta tags.",
        )
    }
}

fn twitter_card(page: &Page) -> Check {
    let check = Check::new("twitter_card", Category::Social, 1.0);
    match page.facts.social("twitter:card") {
        Some(card) if !card.is_empty() => check.pass(format!("Twitter card: {card}."), json!(card)),
        _ => check.warn(
            "No twitter:card tag.",
            Value::Null,
            "Add <meta name=\"twitter:card\" content=\"summary_large_image\">.",
        ),
    }
}

fn page_weight(page: &Page) -> Check {
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

fn response_time(page: &Page) -> Check {
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

pub fn robots_txt(site: &SiteContext, page: &Url) -> Check {
    let check = Check::new("robots_txt", Category::Indexability, 3.0);
    let evidence = json!(site.robots_url);
    match &site.robots {
        RobotsState::Broken(reason) => check.fail(
            format!("robots.txt cannot be read ({reason}); crawlers hold back from the whole site."),
            evidence,
            "Serve robots.txt with 200 (or 404 when there is none); never 5xx.",
        ),
        RobotsState::Missing(status) => check.warn(
            format!("The site has no robots.txt ({status})."),
            evidence,
            "Add a robots.txt that names the sitemap.",
        ),
        RobotsState::Found(_) if !site.robots.allows(page) => check.fail(
            "robots.txt forbids crawling this page.",
            json!({ "robots": site.robots_url, "page": page.as_str() }),
            "Remove the Disallow rule that matches the page, if it should rank.",
        ),
        RobotsState::Found(_) => check.pass("robots.txt allows the page.", evidence),
    }
}

pub fn sitemap(site: &SiteContext) -> Check {
    let check = Check::new("sitemap", Category::Indexability, 3.0);
    match &site.sitemap {
        SitemapState::Valid { url, urls } => check.pass(
            format!("The sitemap lists {} URLs.", urls.len()),
            json!({ "url": url, "urls": urls.len() }),
        ),
        SitemapState::Missing => check.warn(
            "No sitemap was found (robots.txt names none and /sitemap.xml is missing).",
            Value::Null,
            "Publish an XML sitemap and name it in robots.txt.",
        ),
        SitemapState::Invalid { url, reason } => check.fail(
            format!("The sitemap is not valid: {reason}."),
            json!({ "url": url, "reason": reason }),
            "Serve a <urlset> of absolute <loc> URLs (sitemaps.org protocol).",
        ),
    }
}

/// The outcome of requesting `checked` internal links, `broken` of which failed.
pub fn broken_links(checked: usize, broken: Vec<Value>) -> Check {
    let check = Check::new("broken_links", Category::Links, 8.0);
    if broken.is_empty() {
        check.pass(format!("All {checked} internal links checked answer."), json!(checked))
    } else {
        check.fail(
            format!("{} of {checked} internal links are broken.", broken.len()),
            some(broken),
            "Fix or remove links to pages that answer 4xx/5xx.",
        )
    }
}

/// How often `keyword` occurs in `text` as whole words, case-insensitively.
pub fn occurrences(text: &str, keyword: &str) -> usize {
    let words: Vec<String> = tokens(text);
    let wanted: Vec<String> = tokens(keyword);
    if wanted.is_empty() || words.len() < wanted.len() {
        return 0;
    }
    words.windows(wanted.len()).filter(|window| *window == wanted.as_slice()).count()
}

fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

fn keyword_check(page: &Page, keyword: &str, weight: f64) -> Check {
    let check = Check::new(&format!("keyword:{keyword}"), Category::Keywords, weight);
    let facts = page.facts;
    let in_title = facts.titles.iter().any(|title| occurrences(title, keyword) > 0);
    let in_h1 = facts.h1s().iter().any(|h1| occurrences(h1, keyword) > 0);
    let in_first_paragraph = occurrences(&facts.first_paragraph, keyword) > 0;
    let count = occurrences(&facts.text, keyword);
    let words = facts.words().max(1);
    let keyword_words = tokens(keyword).len().max(1);
    let density = (count * keyword_words) as f64 / words as f64 * 100.0;
    let density = (density * 100.0).round() / 100.0;
    let evidence = json!({
        "title": in_title, "h1": in_h1, "first_paragraph": in_first_paragraph,
        "body_count": count, "density_percent": density,
    });
    if count == 0 {
        return check.fail(
            format!("\"{keyword}\" does not appear in the page's text."),
            evidence,
            "Cover the keyword in the body, the title and the H1.",
        );
    }
    let mut missing = Vec::new();
    for (found, place) in [(in_title, "title"), (in_h1, "H1"), (in_first_paragraph, "first paragraph")] {
        if !found {
            missing.push(place);
        }
    }
    if !missing.is_empty() {
        return check.warn(
            format!("\"{keyword}\" is missing from the {}.", missing.join(", ")),
            evidence,
            "Use the keyword in the title, the H1 and the first paragraph.",
        );
    }
    if density > 3.0 {
        return check.warn(
            format!("\"{keyword}\" makes up {density}% of the words; that reads as stuffing."),
            evidence,
            "Use the keyword naturally; vary with synonyms.",
        );
    }
    if density < 0.5 {
        return check.warn(
            format!("\"{keyword}\" makes up only {density}% of the words."),
            evidence,
            "Mention the keyword a few more times where it fits.",
        );
    }
    check.pass(format!("\"{keyword}\" is in the title, H1 and first paragraph ({density}%)."), evidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetched(url: &str, html: &str) -> Fetched {
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

    fn outcome(url: &str, html: &str, id: &str) -> (Status, Value) {
        let fetched = fetched(url, html);
        let facts = PageFacts::parse(html);
        let checks = page_checks(&Page { fetched: &fetched, facts: &facts }, &[]);
        let check = checks.into_iter().find(|check| check.id == id).expect("check");
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
    fn slow_pages_warn_then_fail() {
        let mut slow = fetched("https://shop.test/", "<p>x</p>");
        slow.elapsed = std::time::Duration::from_millis(2_500);
        let facts = PageFacts::parse("<p>x</p>");
        let checks = page_checks(&Page { fetched: &slow, facts: &facts }, &[]);
        let timing = checks.iter().find(|check| check.id == "response_time").expect("check");
        assert_eq!(timing.status, Status::Fail);
        assert_eq!(timing.evidence, json!(2500));
    }

    #[test]
    fn keywords_are_counted_as_whole_words() {
        assert_eq!(occurrences("Running shoes: the best RUNNING SHOES, shoes.", "running shoes"), 2);
        assert_eq!(occurrences("runningshoes", "running shoes"), 0);
        assert_eq!(occurrences("", "x"), 0);
    }

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
    fn schema_types_are_found_in_graphs_and_arrays() {
        let value: Value = serde_json::from_str(
            r#"{"@context":"https://schema.org","@graph":[{"@type":"Organization"},{"@type":["Article","NewsArticle"]}]}"#,
        )
        .expect("json");
        assert_eq!(schema_types(&value), vec!["Organization", "Article", "NewsArticle"]);
    }
}
