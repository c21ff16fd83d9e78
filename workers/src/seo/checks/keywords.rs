//! Keyword placement: each requested keyword in the title, the H1, the first paragraph of
//! the main content and the body, at a natural density.

use serde_json::json;

use super::{Category, Check, Page};

/// How often `keyword` occurs in `text` as whole words, case-insensitively.
pub fn occurrences(text: &str, keyword: &str) -> usize {
    let words: Vec<String> = tokens(text);
    let wanted: Vec<String> = tokens(keyword);
    if wanted.is_empty() || words.len() < wanted.len() {
        return 0;
    }
    words.windows(wanted.len()).filter(|window| *window == wanted.as_slice()).count()
}

pub(super) fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

pub(super) fn keyword_check(page: &Page, keyword: &str, weight: f64) -> Check {
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
    use super::occurrences;

    #[test]
    fn keywords_are_counted_as_whole_words() {
        assert_eq!(occurrences("Running shoes: the best RUNNING SHOES, shoes.", "running shoes"), 2);
        assert_eq!(occurrences("runningshoes", "running shoes"), 0);
        assert_eq!(occurrences("", "x"), 0);
    }
}
