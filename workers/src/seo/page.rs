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
    /// The first non-empty paragraph of the main content: inside `<main>` or `<article>` when
    /// the page has one with a paragraph, else the first outside the site's chrome (`<header>`,
    /// `<nav>`, `<footer>`, `<aside>`).
    pub first_paragraph: String,
}

/// Where the walk is: what encloses the current node.
#[derive(Clone, Copy, Debug, Default)]
struct Scope {
    head: bool,
    /// Inside `<main>` or `<article>`.
    main: bool,
    /// Inside `<header>`, `<nav>`, `<footer>` or `<aside>`.
    chrome: bool,
}

impl Scope {
    fn enter(mut self, tag: &str) -> Self {
        match tag {
            "head" => self.head = true,
            "main" | "article" => self.main = true,
            "header" | "nav" | "footer" | "aside" => self.chrome = true,
            _ => {}
        }
        self
    }
}

/// The first paragraphs seen, by where they were.
#[derive(Default)]
struct Paragraphs {
    main: Option<String>,
    outside_chrome: Option<String>,
}

impl Paragraphs {
    fn offer(&mut self, scope: Scope, handle: Handle) {
        let wanted_main = scope.main && !scope.chrome && self.main.is_none();
        let wanted_body = !scope.chrome && self.outside_chrome.is_none();
        if !wanted_main && !wanted_body {
            return;
        }
        let paragraph = text_of(handle);
        if paragraph.is_empty() {
            return;
        }
        if wanted_main {
            self.main = Some(paragraph.clone());
        }
        if wanted_body {
            self.outside_chrome = Some(paragraph);
        }
    }

    fn first(self) -> String {
        self.main.or(self.outside_chrome).unwrap_or_default()
    }
}

impl PageFacts {
    pub fn parse(html: &str) -> Self {
        let document = Html::parse_document(html);
        let mut facts = PageFacts::default();
        let mut text = String::with_capacity(html.len() / 4);
        let mut paragraphs = Paragraphs::default();
        let mut walker = Walker { facts: &mut facts, text: &mut text, paragraphs: &mut paragraphs };
        walker.walk(document.tree.root(), Scope::default());
        facts.text = collapse(&text);
        facts.first_paragraph = paragraphs.first();
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

/// The one walk of the document, writing into the facts, the body text and the paragraphs.
struct Walker<'w> {
    facts: &'w mut PageFacts,
    text: &'w mut String,
    paragraphs: &'w mut Paragraphs,
}

impl Walker<'_> {
    fn walk(&mut self, handle: Handle, scope: Scope) {
        let mut scope = scope;
        match handle.value() {
            Node::Text(contents) if !scope.head => self.text.push_str(contents),
            Node::Element(element) => {
                let tag = element.name();
                scope = scope.enter(tag);
                if !self.element(handle, element, scope) {
                    return;
                }
                if !scope.head {
                    self.text.push(' ');
                }
            }
            _ => {}
        }
        for child in handle.children() {
            self.walk(child, scope);
        }
    }

    /// Reads one element; false when its children are not to be walked.
    fn element(&mut self, handle: Handle, element: &Element, scope: Scope) -> bool {
        let facts = &mut *self.facts;
        let tag = element.name();
        match tag {
            "html" => facts.lang = attr(element, "lang").or_else(|| attr(element, "xml:lang")),
            "title" if scope.head => facts.titles.push(text_of_all(handle)),
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
            "p" => self.paragraphs.offer(scope, handle),
            "script" => {
                let kind = attr(element, "type").unwrap_or_default().to_lowercase();
                if kind.trim() == "application/ld+json" {
                    facts.json_ld.push(text_of_all(handle));
                } else if let Some(src) = attr(element, "src") {
                    facts.resources.push(src);
                }
                return false;
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
            "head" => {}
            _ if is_hidden(tag) => return false,
            _ => {}
        }
        true
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

    #[test]
    fn the_first_paragraph_is_the_main_contents_not_the_sites_header() {
        let with_main = "<body><header><p>Free shipping over $50</p></header><nav><p>Menu</p></nav>\
            <main><header><p>By Ann</p></header><h1>Shoes</h1><p>Running shoes first.</p></main></body>";
        assert_eq!(PageFacts::parse(with_main).first_paragraph, "Running shoes first.");
        let with_article = "<body><aside><p>Sale</p></aside><article><p>The article.</p></article></body>";
        assert_eq!(PageFacts::parse(with_article).first_paragraph, "The article.");
        let no_main = "<body><header><p>Free shipping</p></header><div><p>The body.</p></div>\
            <footer><p>Contact</p></footer></body>";
        assert_eq!(PageFacts::parse(no_main).first_paragraph, "The body.");
        let only_chrome = "<body><header><p>Free shipping</p></header></body>";
        assert_eq!(PageFacts::parse(only_chrome).first_paragraph, "");
    }
}
