//! What the page says and how: title, description, headings, image text, language and the
//! social cards.

use serde_json::{Value, json};

use super::{Category, Check, Page, some};

pub(super) fn title(page: &Page) -> Check {
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

pub(super) fn meta_description(page: &Page) -> Check {
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

pub(super) fn h1(page: &Page) -> Check {
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

pub(super) fn heading_order(page: &Page) -> Check {
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

pub(super) fn image_alt(page: &Page) -> Check {
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

pub(super) fn lang(page: &Page) -> Check {
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

pub(super) fn open_graph(page: &Page) -> Check {
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

pub(super) fn twitter_card(page: &Page) -> Check {
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
