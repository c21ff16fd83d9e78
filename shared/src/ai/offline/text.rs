//! Small, deterministic text tools the offline answers are built from.

/// Words that carry no topic.
const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been", "before",
    "but", "by", "can", "could", "do", "does", "doing", "for", "from", "get", "has", "have", "i", "if", "in",
    "into", "is", "it", "its", "just", "make", "may", "more", "most", "much", "my", "no", "not", "of", "on",
    "or", "our", "out", "should", "so", "some", "than", "that", "the", "their", "them", "then", "there",
    "these", "they", "this", "those", "through", "to", "up", "use", "using", "very", "was", "we", "were",
    "will", "with", "without", "would", "you", "your",
];

/// Words that say what a searcher wants (intent, format, freshness) rather than what about;
/// a cluster is not named after them.
const MODIFIERS: &[&str] = &[
    "account",
    "alternative",
    "alternatives",
    "best",
    "buy",
    "cheap",
    "cheapest",
    "compare",
    "comparison",
    "cost",
    "costs",
    "coupon",
    "coupons",
    "deal",
    "deals",
    "discount",
    "download",
    "easy",
    "free",
    "good",
    "great",
    "guide",
    "how",
    "latest",
    "list",
    "login",
    "me",
    "near",
    "new",
    "official",
    "online",
    "order",
    "price",
    "prices",
    "pricing",
    "promo",
    "rated",
    "review",
    "reviews",
    "sale",
    "sign",
    "tips",
    "top",
    "versus",
    "vs",
    "website",
    "what",
    "when",
    "where",
    "which",
    "who",
    "why",
];

/// Kept upper case in titles.
const ACRONYMS: &[&str] =
    &["ai", "api", "b2b", "b2c", "crm", "diy", "faq", "pdf", "seo", "uk", "us", "usa", "vpn"];

/// Kept lower case inside titles.
const SMALL_WORDS: &[&str] =
    &["a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "vs", "with"];

/// Lower-case words: runs of letters and digits.
pub(super) fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()).map(str::to_lowercase).collect()
}

pub(super) fn is_stop_word(token: &str) -> bool {
    STOP_WORDS.contains(&token)
}

/// Stop words, modifiers and numbers (years, "10 best ...").
pub(super) fn is_uninformative(token: &str) -> bool {
    is_stop_word(token) || MODIFIERS.contains(&token) || token.chars().all(|c| c.is_ascii_digit())
}

/// "best running shoes for women" → "Best Running Shoes for Women".
pub(super) fn title_case(text: &str) -> String {
    text.split_whitespace()
        .enumerate()
        .map(|(index, word)| {
            let lower = word.to_lowercase();
            if ACRONYMS.contains(&lower.as_str()) {
                lower.to_uppercase()
            } else if index > 0 && SMALL_WORDS.contains(&lower.as_str()) {
                lower
            } else {
                capitalise(word)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Upper-cases the first letter and leaves the rest alone.
pub(super) fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub(super) fn char_count(text: &str) -> usize {
    text.chars().count()
}

pub(super) fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// At most `max` characters, cut at a word boundary with "…" when anything was cut.
pub(super) fn shorten(text: &str, max: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if char_count(&text) <= max {
        return text;
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    for word in text.split(' ') {
        let candidate_len = char_count(&out) + usize::from(!out.is_empty()) + char_count(word);
        if candidate_len + 1 > max {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.is_empty() {
        // One word longer than the limit: cut inside it.
        out = text.chars().take(max - 1).collect();
    }
    let out = out.trim_end_matches([',', ';', ':', '-', '–']).to_owned();
    format!("{out}…")
}

/// `&`, `<`, `>` and `"` escaped for HTML text and attribute values.
pub(super) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// FNV-1a: stable across Rust releases and platforms, unlike `DefaultHasher`.
pub(crate) fn stable_hash(text: &str) -> u64 {
    text.bytes()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// A unit vector from hashed words and word pairs (stop words skipped); texts that share
/// words point the same way. Empty or stop-word-only text gives the zero vector.
pub fn hashed_embedding(text: &str, dimensions: usize) -> Vec<f32> {
    let mut vector = vec![0f32; dimensions.max(1)];
    let words: Vec<String> = tokens(text).into_iter().filter(|t| !is_stop_word(t)).collect();
    let pairs = words.windows(2).map(|pair| format!("{} {}", pair[0], pair[1]));
    for (feature, weight) in words.iter().cloned().map(|w| (w, 1.0)).chain(pairs.map(|p| (p, 0.5))) {
        let hash = stable_hash(&feature);
        let bucket = usize::try_from(hash % vector.len() as u64).unwrap_or(0);
        let sign = if hash >> 63 == 0 { 1.0 } else { -1.0 };
        vector[bucket] += sign * weight;
    }
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
    vector
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_case_keeps_small_words_and_acronyms() {
        assert_eq!(title_case("best running shoes for women"), "Best Running Shoes for Women");
        assert_eq!(title_case("seo tools for b2b"), "SEO Tools for B2B");
    }

    #[test]
    fn shorten_respects_the_limit_on_word_boundaries() {
        assert_eq!(shorten("short  text", 20), "short text");
        let cut = shorten("one two three four five", 12);
        assert!(char_count(&cut) <= 12, "{cut}");
        assert_eq!(cut, "one two…");
        assert_eq!(char_count(&shorten("incomprehensibilities", 5)), 5);
        assert_eq!(shorten("anything", 0), "");
    }

    #[test]
    fn embeddings_are_unit_length_and_similar_for_shared_words() {
        let a = hashed_embedding("running shoes for women", 64);
        let b = hashed_embedding("women running shoes", 64);
        let c = hashed_embedding("sourdough bread recipe", 64);
        let dot = |x: &[f32], y: &[f32]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f32>();
        assert!((dot(&a, &a) - 1.0).abs() < 1e-5);
        assert!(dot(&a, &b) > dot(&a, &c));
        assert!(hashed_embedding("the of", 8).iter().all(|x| *x == 0.0));
    }
}
