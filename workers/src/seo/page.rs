//! What an audit reads off one HTML page, in a single walk of the parsed document (html5ever
//! through `scraper`: the HTML standard's parsing algorithm, so broken markup is read the way
//! browsers and crawlers read it).

use scraper::{Html, Node, node::Element};

type Handle<'a> = ego_tree::NodeRef<'a, Node>;

/// A link on the page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Link {
    /// As written; `None` for an `<a>` without `href`.
    pub href: Option<String>,
    pub text: String,
    pub rel: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Img {
    pub src: String,
    /// `None`: no `alt` attribute at all; `Some("")`: marked decorative.
    pub alt: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hreflang {
    pub lang: String,
    pub href: String,
}

/// Everything the checks look at.
#[derive(Clone, Debug, Default)]
pub struct PageFacts {
    pub titles: Vec<String>,
    pub meta_descriptions: Vec<String>,
    pub robots_meta: Vec<String>,
    pub viewport: Option<String>,
    pub canonicals: Vec<String>,
    pub hreflangs: Vec<Hreflang>,
    pub lang: Option<String>,
    /// (level 1–6, text) in document order.
    pub headings: Vec<(u8, String)>,
    pub images: Vec<Img>,
    pub links: Vec<Link>,
    /// The text of each `application/ld+json` script.
    pub json_ld: Vec<String>,
    /// `og:*` and `twitter:*` meta tags, (property, content).
    pub social_tags: Vec<(String, String)>,
    /// URLs of subresources (img, script, stylesheet, iframe, media, form actions), as written.
    pub resources: Vec<String>,
    /// The visible text (no script, style or template content), whitespace-collapsed.
    pub text: String,
    pub first_paragraph: String,
}

impl PageFacts {
    pub fn parse(html: &str) -> Self {
        let document = Html::parse_document(html);
        let mut facts = PageFacts::default();
        let mut text = String::with_capacity(html.len() / 4);
        walk(document.tree.root(), &mut facts, &mut text, false);
        facts.text = collapse(&text);
        facts
    }

    pub fn words(&self) -> usize {
        self.text.split_whitespace().count()
    }

    pub fn h1s(&self) -> Vec<&str> {
        self.headings.iter().filter(|(level, _)| *level == 1).map(|(_, text)| text.as_str()).collect()
    }

    pub fn social(&self, property: &str) -> Option<&str> {
        self.social_tags.iter().find(|(name, _)| name == property).map(|(_, content)| content.as_str())
    }
}

fn attr(element: &Element, name: &str) -> Option<String> {
    element.attrs().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.to_owned())
}

/// The text under `handle`, whitespace-collapsed.
fn text_of(handle: Handle) -> String {
    let mut text = String::new();
    collect_text(handle, &mut text);
    collapse(&text)
}

fn collect_text(handle: Handle, out: &mut String) {
    match handle.value() {
        Node::Text(contents) => out.push_str(contents),
        Node::Element(element) if is_hidden(element.name()) => {}
        Node::Element(element) => {
            // An image's alt text reads as its text (a linked logo says where it leads).
            if element.name() == "img" {
                if let Some(alt) = attr(element, "alt") {
                    out.push(' ');
                    out.push_str(&alt);
                    out.push(' ');
                }
                return;
            }
            for child in handle.children() {
                collect_text(child, out);
            }
            out.push(' ');
        }
        _ => {
            for child in handle.children() {
                collect_text(child, out);
            }
        }
    }
}

fn is_hidden(tag: &str) -> bool {
    matches!(tag, "script" | "style" | "template" | "noscript" | "head")
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn walk(handle: Handle, facts: &mut PageFacts, text: &mut String, in_head: bool) {
    let mut in_head = in_head;
    match handle.value() {
        Node::Text(contents) if !in_head => text.push_str(contents),
        Node::Element(element) => {
            let tag = element.name();
            match tag {
                "html" => facts.lang = attr(element, "lang").or_else(|| attr(element, "xml:lang")),
                "head" => in_head = true,
                "title" if in_head => facts.titles.push(text_of_all(handle)),
                "meta" => read_meta(element, facts),
                "link" => read_link(element, facts),
                "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                    let level = tag.as_bytes()[1] - b'0';
                    facts.headings.push((level, text_of(handle)));
                }
                "img" => {
                    let src = attr(element, "src").unwrap_or_default();
                    facts.resources.push(src.clone());
                    facts.images.push(Img { src, alt: attr(element, "alt") });
                }
                "a" => facts.links.push(Link {
                    href: attr(element, "href"),
                    text: text_of(handle),
                    rel: attr(element, "rel").unwrap_or_default().to_lowercase(),
                }),
                "p" if facts.first_paragraph.is_empty() => {
                    let paragraph = text_of(handle);
                    if !paragraph.is_empty() {
                        facts.first_paragraph = paragraph;
                    }
                }
                "script" => {
                    let kind = attr(element, "type").unwrap_or_default().to_lowercase();
                    if kind.trim() == "application/ld+json" {
                        facts.json_ld.push(text_of_all(handle));
                    } else if let Some(src) = attr(element, "src") {
                        facts.resources.push(src);
                    }
                    return;
                }
                "iframe" | "audio" | "video" | "source" | "embed" => {
                    if let Some(src) = attr(element, "src") {
                        facts.resources.push(src);
                    }
                }
                "form" => {
                    if let Some(action) = attr(element, "action") {
                        facts.resources.push(action);
                    }
                }
                _ if is_hidden(tag) => return,
                _ => {}
            }
            if !in_head {
                text.push(' ');
            }
        }
        _ => {}
    }
    for child in handle.children() {
        walk(child, facts, text, in_head);
    }
}

/// Raw text content (for `<title>` and scripts, whose text is not markup).
fn text_of_all(handle: Handle) -> String {
    let mut out = String::new();
    for child in handle.children() {
        if let Node::Text(contents) = child.value() {
            out.push_str(contents);
        }
    }
    out.trim().to_owned()
}

fn read_meta(handle: &Element, facts: &mut PageFacts) {
    let content = attr(handle, "content").unwrap_or_default();
    let name = attr(handle, "name").unwrap_or_default().to_lowercase();
    let property = attr(handle, "property").unwrap_or_default().to_lowercase();
    match name.as_str() {
        "description" => facts.meta_descriptions.push(content.trim().to_owned()),
        "robots" | "googlebot" => facts.robots_meta.push(content.to_lowercase()),
        "viewport" => facts.viewport = Some(content.clone()),
        _ => {}
    }
    for key in [&property, &name] {
        if key.starts_with("og:") || key.starts_with("twitter:") {
            facts.social_tags.push((key.clone(), content.trim().to_owned()));
            break;
        }
    }
}

fn read_link(handle: &Element, facts: &mut PageFacts) {
    let rel = attr(handle, "rel").unwrap_or_default().to_lowercase();
    let href = attr(handle, "href").unwrap_or_default();
    let rels: Vec<&str> = rel.split_whitespace().collect();
    if rels.contains(&"canonical") {
        facts.canonicals.push(href.trim().to_owned());
    }
    if rels.contains(&"alternate")
        && let Some(lang) = attr(handle, "hreflang")
    {
        facts.hreflangs.push(Hreflang { lang: lang.trim().to_owned(), href: href.trim().to_owned() });
    }
    if rels.contains(&"stylesheet") || rels.contains(&"preload") || rels.contains(&"icon") {
        facts.resources.push(href);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_facts_of_a_page_are_read_in_one_walk() {
        let html = r#"<!doctype html><html lang="en"><head>
            <title> Running Shoes Guide </title>
            <meta name="description" content="How to choose running shoes.">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="NOINDEX, follow">
            <meta property="og:title" content="Shoes"><meta name="twitter:card" content="summary">
            <link rel="canonical" href="https://shop.test/guide">
            <link rel="alternate" hreflang="de" href="https://shop.test/de/guide">
            <link rel="stylesheet" href="http://cdn.test/a.css">
            <script type="application/ld+json">{"@type": "Article"}</script>
            <script src="/app.js"></script>
            </head><body>
            <h1>Running <em>Shoes</em></h1><p></p><p>First words here.</p>
            <h3>Skipped</h3>
            <img src="/a.png"><img src="/b.png" alt="">
            <a href="/x">click here</a><a>no href</a><a href="/y" rel="nofollow"><img src="l.png" alt="Logo"></a>
            <style>.x{}</style><script>var hidden = 1;</script>
            </body></html>"#;
        let facts = PageFacts::parse(html);
        assert_eq!(facts.titles, vec!["Running Shoes Guide"]);
        assert_eq!(facts.lang.as_deref(), Some("en"));
        assert_eq!(facts.meta_descriptions, vec!["How to choose running shoes."]);
        assert_eq!(facts.robots_meta, vec!["noindex, follow"]);
        assert!(facts.viewport.as_deref().is_some_and(|v| v.contains("device-width")));
        assert_eq!(facts.canonicals, vec!["https://shop.test/guide"]);
        assert_eq!(facts.hreflangs[0].lang, "de");
        assert_eq!(facts.headings, vec![(1, "Running Shoes".to_owned()), (3, "Skipped".to_owned())]);
        assert_eq!(facts.images.len(), 3);
        assert_eq!(facts.images[0].alt, None);
        assert_eq!(facts.images[1].alt.as_deref(), Some(""));
        assert_eq!(facts.links.len(), 3);
        assert_eq!(facts.links[0].text, "click here");
        assert_eq!(facts.links[1].href, None);
        assert_eq!(facts.links[2].text, "Logo");
        assert_eq!(facts.links[2].rel, "nofollow");
        assert_eq!(facts.json_ld, vec![r#"{"@type": "Article"}"#]);
        assert_eq!(facts.social("og:title"), Some("Shoes"));
        assert_eq!(facts.social("twitter:card"), Some("summary"));
        assert!(facts.resources.contains(&"http://cdn.test/a.css".to_owned()));
        assert!(facts.resources.contains(&"/app.js".to_owned()));
        assert_eq!(facts.first_paragraph, "First words here.");
        assert!(!facts.text.contains("hidden") && !facts.text.contains(".x{}"), "{}", facts.text);
        assert!(!facts.text.contains("Running Shoes Guide"), "the title is not body text");
        assert!(facts.text.starts_with("Running Shoes First words here."), "{}", facts.text);
    }
}
