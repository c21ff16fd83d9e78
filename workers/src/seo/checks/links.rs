//! The page's links: crawlable hrefs, meaningful text, and whether the internal ones answer.

use serde_json::{Value, json};

use super::{Category, Check, Page, some};

pub(super) fn crawlable_anchors(page: &Page) -> Check {
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

pub(super) fn link_text(page: &Page) -> Check {
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
