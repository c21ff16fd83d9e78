//! Phrasing variants: keywords that say the same thing with a modifier added ("best X",
//! "X near me", "cheap X uk"). They are many in large keyword sets and form tight sub-groups
//! that the silhouette mistakes for topics, so the number of clusters is chosen over groups of
//! variants rather than over keywords.
//!
//! Modifiers are learnt from the keywords themselves, not from a list: a prefix or suffix of
//! one to three words is a modifier when adding it to a keyword of the set gives another
//! keyword of the set for at least [`MIN_AFFIX_BASES`] different keywords. A keyword's core is
//! what is left once learnt modifiers are stripped from both ends (never the whole keyword);
//! keywords with the same set of stemmed core words are variants of one another.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::lexical::stem;

/// Distinct keywords an affix must turn into other keywords before it counts as a modifier:
/// a word that qualifies only a few keywords ("trail" in "trail running shoes") is part of
/// the topic, one that qualifies many ("near me", "2025", "for beginners") is phrasing.
pub(crate) const MIN_AFFIX_BASES: usize = 5;
/// Longest affix considered, in words.
const MAX_AFFIX_WORDS: usize = 3;

/// The variant group of each text, numbered `0..` by first appearance.
pub(crate) fn variant_groups<S: AsRef<str>>(texts: &[S]) -> Vec<usize> {
    let tokenised: Vec<Vec<String>> = texts.iter().map(|text| words(text.as_ref())).collect();
    let modifiers = learn_modifiers(&tokenised);
    let mut numbering: HashMap<BTreeSet<String>, usize> = HashMap::new();
    tokenised
        .iter()
        .map(|tokens| {
            let next = numbering.len();
            *numbering.entry(core(tokens, &modifiers)).or_insert(next)
        })
        .collect()
}

/// Lower-cased, stemmed words (apostrophes dropped, other punctuation splits).
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .chars()
        .filter(|c| *c != '\'' && *c != '’')
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .map(stem)
        .collect()
}

/// Learnt prefixes and suffixes (word sequences joined by spaces).
#[derive(Debug, Default)]
struct Modifiers {
    prefixes: HashSet<String>,
    suffixes: HashSet<String>,
}

/// Affixes that turn at least [`MIN_AFFIX_BASES`] distinct keywords into other keywords.
fn learn_modifiers(keywords: &[Vec<String>]) -> Modifiers {
    let present: HashSet<String> = keywords.iter().map(|tokens| tokens.join(" ")).collect();
    let mut prefix_bases: HashMap<String, HashSet<String>> = HashMap::new();
    let mut suffix_bases: HashMap<String, HashSet<String>> = HashMap::new();
    for tokens in keywords {
        for cut in 1..=MAX_AFFIX_WORDS.min(tokens.len().saturating_sub(1)) {
            let (head, rest) = tokens.split_at(cut);
            let rest = rest.join(" ");
            if present.contains(&rest) {
                prefix_bases.entry(head.join(" ")).or_default().insert(rest);
            }
            let (rest, tail) = tokens.split_at(tokens.len() - cut);
            let rest = rest.join(" ");
            if present.contains(&rest) {
                suffix_bases.entry(tail.join(" ")).or_default().insert(rest);
            }
        }
    }
    let frequent = |bases: HashMap<String, HashSet<String>>| {
        bases.into_iter().filter(|(_, b)| b.len() >= MIN_AFFIX_BASES).map(|(affix, _)| affix).collect()
    };
    Modifiers { prefixes: frequent(prefix_bases), suffixes: frequent(suffix_bases) }
}

/// The keyword's words once learnt modifiers are stripped from either end (longest first),
/// as a set; a keyword that is all modifiers keeps its last word.
fn core(tokens: &[String], modifiers: &Modifiers) -> BTreeSet<String> {
    let (mut start, mut end) = (0, tokens.len());
    loop {
        let before = (start, end);
        if let Some(cut) = strip(&tokens[start..end], &modifiers.prefixes, |s, n| s[..n].join(" ")) {
            start += cut;
        }
        if let Some(cut) = strip(&tokens[start..end], &modifiers.suffixes, |s, n| s[s.len() - n..].join(" "))
        {
            end -= cut;
        }
        if (start, end) == before {
            break;
        }
    }
    tokens[start..end].iter().cloned().collect()
}

/// The length of the longest affix of `span` found in `affixes`, leaving at least one word.
fn strip(
    span: &[String],
    affixes: &HashSet<String>,
    affix: impl Fn(&[String], usize) -> String,
) -> Option<usize> {
    (1..=MAX_AFFIX_WORDS.min(span.len().saturating_sub(1))).rev().find(|&n| affixes.contains(&affix(span, n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Five topics' head terms, each with the same phrasing added: the modifiers are learnt.
    fn set() -> Vec<String> {
        let heads = ["running shoes", "espresso machine", "solar panels", "yoga mat", "tax refund"];
        let mut texts: Vec<String> = heads.iter().map(|h| (*h).to_owned()).collect();
        for head in heads {
            texts.push(format!("best {head}"));
            texts.push(format!("{head} near me"));
            texts.push(format!("best {head} near me"));
            texts.push(format!("{head} for beginners 2025"));
        }
        texts.push("trail running shoes".to_owned());
        texts
    }

    #[test]
    fn variants_of_one_keyword_share_a_group() {
        let texts = set();
        let groups = variant_groups(&texts);
        let distinct: HashSet<usize> = groups.iter().copied().collect();
        // Five heads plus "trail running shoes" ("trail" qualifies one keyword only).
        assert_eq!(distinct.len(), 6, "{groups:?}");
        let of = |text: &str| groups[texts.iter().position(|t| t == text).expect("present")];
        assert_eq!(of("best running shoes near me"), of("running shoes"));
        assert_eq!(of("solar panels for beginners 2025"), of("solar panels"));
        assert_ne!(of("running shoes"), of("yoga mat"));
        assert_ne!(of("trail running shoes"), of("running shoes"));
    }

    #[test]
    fn without_repeated_phrasing_every_keyword_is_its_own_group() {
        let texts = ["running shoes", "best running shoes", "yoga mat", "cheap yoga mat"];
        assert_eq!(variant_groups(&texts), [0, 1, 2, 3]);
    }
}
