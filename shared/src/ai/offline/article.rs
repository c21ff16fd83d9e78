//! ContentGeneration and ImagePrompts offline: an article of `<h2>`/`<h3>`/`<p>` sections
//! following the outline, close to the asked length, and one image prompt per heading.

use serde::{Deserialize, Serialize};

use super::text::{escape_html, shorten, stable_hash, word_count};

const META_TITLE_MAX: usize = 60;
const META_DESCRIPTION_MAX: usize = 160;
/// A section longer than this is split into two `<h3>` subsections.
const SUBSECTION_WORDS: usize = 220;

#[derive(Deserialize)]
pub(super) struct ArticleInput {
    #[serde(default)]
    title: String,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    outline: Vec<String>,
    #[serde(default)]
    tone: String,
    #[serde(default = "default_word_count")]
    word_count: usize,
}

fn default_word_count() -> usize {
    1200
}

#[derive(Serialize)]
pub(super) struct Article {
    title: String,
    meta_title: String,
    meta_description: String,
    html: String,
    primary_keyword: String,
    secondary_keywords: Vec<String>,
}

/// Sentence patterns; `{h}` is the section heading, `{k}` a keyword, `{t}` the title.
const SENTENCES: &[&str] = &[
    "When it comes to {h}, the details make the difference.",
    "Most readers looking into {k} want clear, practical answers they can act on today.",
    "A good place to start is to understand how {h} fits into the bigger picture of {t}.",
    "Experienced practitioners tend to focus on a few fundamentals and apply them consistently.",
    "It pays to compare a couple of options before committing to one approach to {k}.",
    "Small, regular improvements usually beat a single big change made once and forgotten.",
    "Keep notes on what works for you, because the best approach depends on your situation.",
    "Common pitfalls include rushing the basics and skipping the checks that catch problems early.",
    "If you are short on time, concentrate on the steps that have the biggest effect first.",
    "Looking at real examples of {k} makes the trade-offs much easier to see.",
    "Budget, time and experience all shape which choice makes sense for {h}.",
    "Revisit your decisions after a few weeks and adjust them based on the results you see.",
    "Clear goals make it easier to judge whether your work on {h} is paying off.",
    "Ask people who have done it before; their lessons can save you a lot of trial and error.",
    "Whatever you decide, write down why, so that you can learn from it later.",
    "The simplest version that works is often the right one to begin with.",
];

const SUBHEADINGS: &[(&str, &str)] = &[
    ("Why It Matters", "Putting It Into Practice"),
    ("The Key Points", "Common Mistakes"),
    ("What to Look For", "Practical Tips"),
    ("The Basics", "Going Further"),
];

pub(super) fn article(input: ArticleInput) -> Article {
    let title = match input.title.trim() {
        "" => input.keywords.first().map(|k| super::text::title_case(k)).unwrap_or_else(|| "Untitled".into()),
        title => title.to_owned(),
    };
    let mut keywords: Vec<String> =
        input.keywords.iter().map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()).collect();
    keywords.dedup();
    let primary = keywords.first().cloned().unwrap_or_else(|| title.to_lowercase());
    let secondary: Vec<String> = keywords.iter().skip(1).cloned().collect();
    let outline: Vec<String> =
        match input.outline.iter().map(|h| h.trim()).filter(|h| !h.is_empty()).collect::<Vec<_>>() {
            headings if !headings.is_empty() => headings.into_iter().map(str::to_owned).collect(),
            _ => vec![
                format!("What Is {title}?"),
                "How It Works".into(),
                "Getting Started".into(),
                "Conclusion".into(),
            ],
        };
    let target = input.word_count.clamp(150, 10_000);
    let keyword_at =
        |i: usize| keywords.get(i % keywords.len().max(1)).cloned().unwrap_or_else(|| primary.clone());

    let mut html = String::new();
    let intro_words = (target / 10).max(30);
    let friendly =
        matches!(input.tone.to_lowercase().as_str(), "friendly" | "casual" | "conversational" | "playful");
    let opener = if friendly {
        format!("Let's talk about {primary}. ")
    } else {
        format!("This article explains {primary} in practical terms. ")
    };
    html.push_str(&paragraph(&opener, intro_words, &title, &title, &primary, 0));
    let per_section = (target.saturating_sub(intro_words) / outline.len()).max(30);
    for (index, heading) in outline.iter().enumerate() {
        html.push_str(&format!("<h2>{}</h2>", escape_html(heading)));
        let keyword = keyword_at(index);
        let seed = index * 100 + 1;
        if per_section >= SUBSECTION_WORDS {
            let (first, second) = SUBHEADINGS[index % SUBHEADINGS.len()];
            let half = per_section / 2;
            html.push_str(&paragraph("", half / 2, &title, heading, &keyword, seed));
            html.push_str(&format!("<h3>{first}</h3>"));
            html.push_str(&paragraph("", half - half / 2, &title, heading, &keyword, seed + 20));
            html.push_str(&format!("<h3>{second}</h3>"));
            html.push_str(&paragraph("", per_section - half, &title, heading, &keyword, seed + 40));
        } else {
            html.push_str(&paragraph("", per_section, &title, heading, &keyword, seed));
        }
    }

    let meta_description = shorten(
        &format!(
            "Learn about {primary}: {}. A practical guide to {}.",
            outline
                .iter()
                .take(3)
                .map(|h| h.trim_end_matches('?').to_lowercase())
                .collect::<Vec<_>>()
                .join(", "),
            title.to_lowercase()
        ),
        META_DESCRIPTION_MAX,
    );
    Article {
        meta_title: shorten(&title, META_TITLE_MAX),
        meta_description,
        html,
        primary_keyword: primary,
        secondary_keywords: secondary,
        title,
    }
}

/// `<p>` blocks of about `words` words (paragraphs of four sentences), picked from the
/// sentence patterns by a hash of the inputs, so the same inputs give the same text.
fn paragraph(opener: &str, words: usize, title: &str, heading: &str, keyword: &str, seed: usize) -> String {
    let heading_text = heading.trim_end_matches(['?', '!', '.', ':']).to_lowercase();
    let base = stable_hash(&format!("{title}|{heading}|{seed}"));
    let mut out = String::new();
    let mut current = opener.to_owned();
    let mut written = word_count(opener);
    let mut sentences_in_paragraph = usize::from(!opener.is_empty());
    let mut n = 0u64;
    while written < words {
        let index =
            usize::try_from(base.wrapping_add(n.wrapping_mul(7)) % SENTENCES.len() as u64).unwrap_or(0);
        n += 1;
        let sentence = SENTENCES[index]
            .replace("{h}", &heading_text)
            .replace("{k}", keyword)
            .replace("{t}", &title.to_lowercase());
        written += word_count(&sentence);
        current.push_str(&sentence);
        current.push(' ');
        sentences_in_paragraph += 1;
        if sentences_in_paragraph == 4 {
            out.push_str(&format!("<p>{}</p>", escape_html(current.trim_end())));
            current.clear();
            sentences_in_paragraph = 0;
        }
    }
    if !current.trim().is_empty() {
        out.push_str(&format!("<p>{}</p>", escape_html(current.trim_end())));
    }
    out
}

#[derive(Deserialize)]
pub(super) struct ImageInput {
    #[serde(default)]
    title: String,
    #[serde(default)]
    headings: Vec<String>,
}

#[derive(Serialize)]
pub(super) struct ImagePrompts {
    featured: String,
    in_article: Vec<String>,
}

const STYLES: &[&str] = &[
    "a bright editorial photograph",
    "a clean flat-style illustration",
    "a detailed close-up photograph",
    "a minimalist isometric illustration",
    "a wide-angle lifestyle photograph",
];

pub(super) fn image_prompts(input: ImageInput) -> ImagePrompts {
    let title = input.title.trim();
    let topic = if title.is_empty() { "the article's topic".to_owned() } else { format!("\"{title}\"") };
    let start = usize::try_from(stable_hash(title) % STYLES.len() as u64).unwrap_or(0);
    let finish = "natural colours, uncluttered composition, no text, letters or logos";
    let in_article = input
        .headings
        .iter()
        .enumerate()
        .map(|(index, heading)| {
            let style = STYLES[(start + index + 1) % STYLES.len()];
            format!(
                "{} showing {} for an article about {topic}; {finish}.",
                super::text::capitalise(style),
                heading.trim().trim_end_matches(['?', '!', '.', ':']).to_lowercase()
            )
        })
        .collect();
    ImagePrompts {
        featured: format!(
            "A striking hero image for an article titled {topic}: {}, {finish}.",
            STYLES[start]
        ),
        in_article,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::ai::offline::text::char_count;

    fn strip_tags(html: &str) -> String {
        let mut out = String::new();
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' => {
                    in_tag = false;
                    out.push(' ');
                }
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out
    }

    #[test]
    fn article_follows_the_outline_and_the_length() {
        let input: ArticleInput = serde_json::from_value(json!({
            "title": "The Ultimate Guide to Running Shoes for Every Kind of Runner and Budget",
            "keywords": ["running shoes", "trail running shoes", "running shoes for women"],
            "outline": ["What Are Running Shoes?", "How to Choose", "Caring for <Your> Shoes", "Conclusion"],
            "tone": "friendly", "word_count": 1500,
        }))
        .expect("input");
        let article = serde_json::to_value(article(input)).expect("json");
        let html = article["html"].as_str().expect("html");
        assert_eq!(html.matches("<h2>").count(), 4);
        assert!(html.contains("<h3>"), "long sections are split");
        assert!(html.contains("<h2>Caring for &lt;Your&gt; Shoes</h2>"));
        let words = word_count(&strip_tags(html));
        assert!((1350..=1700).contains(&words), "{words} words");
        assert!(char_count(article["meta_title"].as_str().expect("meta title")) <= 60);
        assert!(char_count(article["meta_description"].as_str().expect("meta description")) <= 160);
        assert_eq!(article["primary_keyword"], "running shoes");
        assert_eq!(article["secondary_keywords"], json!(["trail running shoes", "running shoes for women"]));
    }

    #[test]
    fn short_articles_and_missing_fields_still_work() {
        let input: ArticleInput =
            serde_json::from_value(json!({"title": "Tiny", "word_count": 200})).expect("input");
        let article = serde_json::to_value(article(input)).expect("json");
        let words = word_count(&strip_tags(article["html"].as_str().expect("html")));
        assert!((150..=320).contains(&words), "{words} words");
        assert_eq!(article["primary_keyword"], "tiny");
    }

    #[test]
    fn one_image_prompt_per_heading() {
        let input: ImageInput = serde_json::from_value(
            json!({"title": "Sourdough at Home", "headings": ["Starter", "Baking", "Storing"]}),
        )
        .expect("input");
        let prompts: Value = serde_json::to_value(image_prompts(input)).expect("json");
        assert_eq!(prompts["in_article"].as_array().expect("list").len(), 3);
        assert!(prompts["featured"].as_str().expect("featured").contains("Sourdough at Home"));
    }
}
