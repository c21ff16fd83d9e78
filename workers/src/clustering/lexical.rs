//! Lexical vectors: TF-IDF over stemmed words, word pairs and character n-grams, hashed into
//! a fixed number of dimensions (no vocabulary to keep) with a sign bit so that collisions
//! cancel out on average. The IDF is learnt from the texts being vectorised. Fast and
//! model-free, but blind to synonyms that share no letters.

use rayon::prelude::*;

/// Length of every lexical vector (2^12): large enough that collisions are rare for keyword
/// sets, small enough that 10,000 dense rows stay under 200 MiB.
pub const LEXICAL_DIMENSION: usize = 1 << 12;

/// Weight of each feature family once each family's part of the vector is unit length.
const WORD_WEIGHT: f32 = 1.0;
const PAIR_WEIGHT: f32 = 0.5;
const CHAR_WEIGHT: f32 = 0.8;
/// Character n-gram lengths, taken inside each word padded with `<` and `>`.
const CHAR_GRAMS: std::ops::RangeInclusive<usize> = 3..=5;

/// Words that say nothing about a keyword's topic: function words and the modifiers search
/// queries add to any topic ("best", "near me", "vs", "review").
const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "all", "an", "and", "any", "are", "as", "at", "be", "best", "by", "can",
    "cheapest", "do", "does", "for", "from", "get", "good", "how", "i", "if", "in", "into", "is", "it",
    "its", "me", "much", "my", "near", "new", "of", "on", "or", "review", "reviews", "should", "so", "than",
    "that", "the", "their", "there", "this", "to", "top", "under", "vs", "was", "what", "when", "where",
    "which", "who", "why", "will", "with", "without", "you", "your",
];

#[derive(Clone, Copy)]
enum Family {
    Word = 0,
    Pair = 1,
    Char = 2,
}

const FAMILIES: [(Family, f32); 3] =
    [(Family::Word, WORD_WEIGHT), (Family::Pair, PAIR_WEIGHT), (Family::Char, CHAR_WEIGHT)];

/// One hashed feature occurrence: bucket, sign, family.
type Feature = (u32, f32, Family);

/// Unit-length TF-IDF vectors of [`LEXICAL_DIMENSION`] values for `texts`, in order. A text
/// with no usable word gets the zero vector.
pub fn lexical_vectors(texts: &[&str]) -> Vec<Vec<f32>> {
    let features: Vec<Vec<Feature>> = texts.par_iter().map(|text| features(text)).collect();
    let mut document_frequency = vec![0u32; LEXICAL_DIMENSION];
    for document in &features {
        let mut buckets: Vec<u32> = document.iter().map(|f| f.0).collect();
        buckets.sort_unstable();
        buckets.dedup();
        for bucket in buckets {
            document_frequency[bucket as usize] += 1;
        }
    }
    let n = texts.len() as f32;
    let idf: Vec<f32> =
        document_frequency.iter().map(|&df| ((1.0 + n) / (1.0 + df as f32)).ln() + 1.0).collect();
    features.par_iter().map(|document| vectorise(document, &idf)).collect()
}

fn vectorise(document: &[Feature], idf: &[f32]) -> Vec<f32> {
    let mut vector = vec![0.0f32; LEXICAL_DIMENSION];
    let mut part: Vec<(u32, f32)> = Vec::new();
    for (family, weight) in FAMILIES {
        part.clear();
        for &(bucket, sign, _) in document.iter().filter(|f| f.2 as u8 == family as u8) {
            part.push((bucket, sign));
        }
        part.sort_by_key(|p| p.0);
        // Sublinear term frequency per bucket, times IDF.
        let mut values: Vec<(u32, f32)> = Vec::new();
        for &(bucket, sign) in &part {
            match values.last_mut() {
                Some((last, value)) if *last == bucket => *value += sign,
                _ => values.push((bucket, sign)),
            }
        }
        for (bucket, value) in values.iter_mut() {
            let tf = value.abs();
            *value = if tf > 0.0 { value.signum() * (1.0 + tf.ln()) * idf[*bucket as usize] } else { 0.0 };
        }
        let norm = values.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            for (bucket, value) in values {
                vector[bucket as usize] += weight * value / norm;
            }
        }
    }
    super::vectors::normalise(&mut vector);
    vector
}

/// The hashed features of one text.
fn features(text: &str) -> Vec<Feature> {
    let words = content_words(text);
    let mut features = Vec::new();
    for word in &words {
        features.push(hashed(Family::Word, &[stem(word).as_bytes()]));
        let padded: Vec<char> =
            std::iter::once('<').chain(word.chars()).chain(std::iter::once('>')).collect();
        for length in CHAR_GRAMS {
            for gram in padded.windows(length) {
                let gram: String = gram.iter().collect();
                features.push(hashed(Family::Char, &[gram.as_bytes()]));
            }
        }
    }
    for pair in words.windows(2) {
        features.push(hashed(Family::Pair, &[stem(&pair[0]).as_bytes(), b" ", stem(&pair[1]).as_bytes()]));
    }
    features
}

/// Lower-cased words of `text` without stop words or years; punctuation splits words,
/// apostrophes vanish ("where's" is "wheres").
fn content_words(text: &str) -> Vec<String> {
    let cleaned: String = text
        .to_lowercase()
        .chars()
        .filter(|c| *c != '\'' && *c != '’')
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    cleaned
        .split_whitespace()
        .filter(|word| !STOP_WORDS.contains(word) && !is_year(word))
        .map(str::to_owned)
        .collect()
}

fn is_year(word: &str) -> bool {
    word.len() == 4
        && (word.starts_with("19") || word.starts_with("20"))
        && word.bytes().all(|b| b.is_ascii_digit())
}

/// A light English stemmer: plural and -ing/-ed endings, so that "plants", "planting" and
/// "planted" meet. Deliberately timid; the character n-grams catch the rest.
pub(crate) fn stem(word: &str) -> String {
    let w = word;
    let strip = |suffix: &str, keep: usize| -> Option<&str> {
        w.strip_suffix(suffix).filter(|stem| stem.chars().count() >= keep)
    };
    if let Some(stem) = strip("ies", 2) {
        return format!("{stem}y");
    }
    for suffix in ["sses", "xes", "ches", "shes"] {
        if let Some(stem) = strip(suffix, 2) {
            return format!("{stem}{}", &suffix[..suffix.len() - 2]);
        }
    }
    if let Some(stem) = strip("ing", 4).or_else(|| strip("ed", 4)) {
        return undouble(stem);
    }
    if !w.ends_with("ss")
        && !w.ends_with("us")
        && !w.ends_with("is")
        && let Some(stem) = strip("s", 3)
    {
        return stem.to_owned();
    }
    w.to_owned()
}

/// "runn" → "run", "plann" → "plan"; keeps "ll", "ss" and "zz" ("install", "express").
fn undouble(stem: &str) -> String {
    let bytes = stem.as_bytes();
    let n = bytes.len();
    if n >= 2 && bytes[n - 1] == bytes[n - 2] && !matches!(bytes[n - 1], b'l' | b's' | b'z') {
        return stem[..n - 1].to_owned();
    }
    stem.to_owned()
}

/// FNV-1a over the family tag and the parts: bucket from the low bits, sign from the top bit.
fn hashed(family: Family, parts: &[&[u8]]) -> Feature {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in std::iter::once(family as u8).chain(parts.iter().flat_map(|p| p.iter().copied())) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // FNV's low bits mix poorly for short inputs: fold the high half in first.
    let mixed = hash ^ (hash >> 29);
    let bucket = (mixed % LEXICAL_DIMENSION as u64) as u32;
    let sign = if hash >> 63 == 0 { 1.0 } else { -1.0 };
    (bucket, sign, family)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clustering::vectors::dot;

    #[test]
    fn stems_meet() {
        assert_eq!(stem("plants"), "plant");
        assert_eq!(stem("running"), "run");
        assert_eq!(stem("batteries"), "battery");
        assert_eq!(stem("taxes"), "tax");
        assert_eq!(stem("installed"), "install");
        assert_eq!(stem("glass"), "glass");
        assert_eq!(stem("bus"), "bus");
    }

    #[test]
    fn stop_words_and_years_are_dropped() {
        assert_eq!(content_words("Best running shoes 2024 near me!"), ["running", "shoes"]);
        assert_eq!(content_words("where's my refund"), ["wheres", "refund"]);
    }

    #[test]
    fn vectors_are_unit_and_share_words() {
        let vectors = lexical_vectors(&["running shoes", "best running shoe", "vegan lasagna recipe", "the"]);
        for vector in &vectors[..3] {
            assert!((dot(vector, vector) - 1.0).abs() < 1e-4);
        }
        assert!(vectors[3].iter().all(|v| *v == 0.0));
        assert!(dot(&vectors[0], &vectors[1]) > 0.6);
        assert!(dot(&vectors[0], &vectors[2]).abs() < 0.2);
    }
}
