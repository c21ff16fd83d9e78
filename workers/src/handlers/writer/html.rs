//! What the writer does to a model's HTML before it is stored: an allow-list sanitizer, the
//! word count of what is left, meta fields cut to their limits, and the H2 headings; and for
//! publishing, the article with its pictures placed after their sections' headings.

use std::{
    collections::{HashMap, HashSet},
    sync::LazyLock,
};

pub use shared::writer::text::{h2_headings, text_of};

/// The tags an article may keep; everything else is dropped (its text kept, except for the
/// tags in `DROPPED_WITH_CONTENT`).
const TAGS: [&str; 24] = [
    "h2",
    "h3",
    "h4",
    "p",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "b",
    "i",
    "a",
    "blockquote",
    "code",
    "pre",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "img",
    "br",
    "hr",
];
/// Tags removed together with their text.
const DROPPED_WITH_CONTENT: [&str; 6] = ["script", "style", "noscript", "iframe", "object", "template"];

pub const META_TITLE_MAX: usize = 60;
pub const META_DESCRIPTION_MAX: usize = 160;

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(HashSet::from(TAGS))
        .clean_content_tags(HashSet::from(DROPPED_WITH_CONTENT))
        .tag_attributes(HashMap::from([
            ("a", HashSet::from(["href", "title"])),
            ("img", HashSet::from(["src", "alt", "title", "width", "height"])),
            ("th", HashSet::from(["colspan", "rowspan"])),
            ("td", HashSet::from(["colspan", "rowspan"])),
        ]))
        // No `javascript:`, `data:` or `vbscript:`: only these schemes (and relative URLs).
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true);
    builder
});

/// The article's HTML with only allow-listed tags and attributes: no scripts, styles, event
/// handlers or script URLs; links get `rel="noopener noreferrer"`.
pub fn sanitize(html: &str) -> String {
    SANITIZER.clean(html).to_string()
}

/// Words in sanitized HTML: runs of text that hold a letter or a digit.
pub fn word_count(html: &str) -> usize {
    text_of(html).split_whitespace().filter(|word| word.chars().any(char::is_alphanumeric)).count()
}

/// `text` trimmed to at most `max` characters, cut at the last word boundary that fits
/// (mid-word only when a single word is longer than `max`).
pub fn truncate_at_word(text: &str, max: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max {
        return text;
    }
    let cut: String = text.chars().take(max + 1).collect();
    let kept = match cut.rfind(' ') {
        Some(space) if space > 0 => &cut[..space],
        _ => return text.chars().take(max).collect(),
    };
    kept.trim_end_matches([',', ';', ':', '-', ' ']).to_owned()
}

/// A picture for a published article.
pub struct Figure {
    /// After which H2 (0 = the first) it goes.
    pub after_h2: usize,
    pub src: String,
    pub alt: String,
}

/// Sanitized HTML with each figure placed right after its H2 (figures for H2s the article
/// does not have are left out). The URL and alt text are escaped for the attribute.
pub fn with_figures(html: &str, figures: &[Figure]) -> String {
    let mut out = String::with_capacity(html.len() + figures.len() * 160);
    let mut rest = html;
    let mut index = 0;
    while let Some(end) = rest.find("</h2>") {
        let (head, tail) = rest.split_at(end + "</h2>".len());
        out.push_str(head);
        for figure in figures.iter().filter(|figure| figure.after_h2 == index) {
            out.push_str(&format!(
                "<figure class=\"wp-block-image\"><img src=\"{}\" alt=\"{}\"/></figure>",
                escape_attribute(&figure.src),
                escape_attribute(&figure.alt)
            ));
        }
        rest = tail;
        index += 1;
    }
    out.push_str(rest);
    out
}

fn escape_attribute(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_handlers_and_script_urls_are_removed() {
        let dirty = r#"<h2 onclick="steal()">Intro</h2><script>alert(1)</script><style>p{}</style>
            <p style="color:red" onmouseover="x()">Hi <a href="javascript:alert(1)">bad</a>
            <a href="https://example.com" target="_blank">good</a></p><div><span>kept text</span></div>
            <img src="x.png" onerror="alert(2)" alt="pic"><iframe src="https://evil"></iframe>"#;
        let clean = sanitize(dirty);
        for banned in [
            "<script",
            "alert(1)",
            "onclick",
            "onmouseover",
            "onerror",
            "style",
            "javascript:",
            "iframe",
            "<div",
            "<span",
        ] {
            assert!(!clean.contains(banned), "{banned} survived: {clean}");
        }
        assert!(clean.contains("<h2>Intro</h2>"), "{clean}");
        assert!(
            clean.contains(r#"<a href="https://example.com" rel="noopener noreferrer">good</a>"#),
            "{clean}"
        );
        assert!(clean.contains("kept text"));
        assert!(clean.contains(r#"<img src="x.png" alt="pic">"#), "{clean}");
    }

    #[test]
    fn words_are_counted_from_text_only() {
        assert_eq!(word_count("<h2>Two words</h2><p>and three <strong>more</strong> — here</p>"), 6);
        assert_eq!(word_count(""), 0);
    }

    #[test]
    fn meta_fields_are_cut_at_a_word_boundary() {
        assert_eq!(truncate_at_word("short title", 60), "short title");
        assert_eq!(truncate_at_word("one two three", 9), "one two");
        assert_eq!(truncate_at_word("one two, three", 9), "one two");
        assert_eq!(truncate_at_word("abcdefghij", 4), "abcd");
        let long = "word ".repeat(50);
        let cut = truncate_at_word(&long, META_DESCRIPTION_MAX);
        assert!(cut.chars().count() <= META_DESCRIPTION_MAX);
        assert!(cut.ends_with("word"));
    }

    #[test]
    fn h2_headings_are_found_in_order() {
        let html = "<h2>First &amp; best</h2><p>x</p><h3>Not me</h3><h2> <em>Second</em> </h2><h2></h2>";
        assert_eq!(h2_headings(html), vec!["First & best".to_owned(), "Second".to_owned()]);
    }

    #[test]
    fn figures_follow_their_headings_with_escaped_attributes() {
        let html = "<h2>One</h2><p>a</p><h2>Two</h2><p>b</p>";
        let figures = [
            Figure { after_h2: 1, src: "https://x.test/b.png".into(), alt: "say \"hi\" <now>".into() },
            Figure { after_h2: 0, src: "https://x.test/a.png?x=1&y=2".into(), alt: "a".into() },
            Figure { after_h2: 5, src: "https://x.test/none.png".into(), alt: "gone".into() },
        ];
        assert_eq!(
            with_figures(html, &figures),
            "<h2>One</h2><figure class=\"wp-block-image\"><img src=\"https://x.test/a.png?x=1&amp;y=2\" alt=\"a\"/></figure>\
             <p>a</p><h2>Two</h2><figure class=\"wp-block-image\"><img src=\"https://x.test/b.png\" \
             alt=\"say &quot;hi&quot; &lt;now&gt;\"/></figure><p>b</p>"
        );
    }
}
