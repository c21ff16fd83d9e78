//! The hand-labelled keyword set (`workers/data/keywords_labelled.csv`: 475 search keywords in
//! 19 topics) that tests and the benchmark measure clustering quality on, and a larger set
//! synthesised from it by adding the modifiers real queries carry.

use super::kmeans::SplitMix64;

const LABELLED_CSV: &str = include_str!("../../data/keywords_labelled.csv");

/// Keywords with the topic index of each (topics numbered in order of first appearance).
#[derive(Clone, Debug)]
pub struct LabelledSet {
    pub keywords: Vec<String>,
    pub labels: Vec<usize>,
    pub topics: Vec<String>,
}

/// The hand-labelled set, in file order.
pub fn labelled() -> LabelledSet {
    let mut set = LabelledSet { keywords: Vec::new(), labels: Vec::new(), topics: Vec::new() };
    for line in LABELLED_CSV.lines().skip(1).filter(|line| !line.trim().is_empty()) {
        let (keyword, topic) = line.rsplit_once(',').unwrap_or((line, ""));
        let label = match set.topics.iter().position(|t| t == topic) {
            Some(label) => label,
            None => {
                set.topics.push(topic.to_owned());
                set.topics.len() - 1
            }
        };
        set.keywords.push(keyword.to_owned());
        set.labels.push(label);
    }
    set
}

/// Modifiers that search keywords carry whatever their topic.
const SUFFIXES: &[&str] = &[
    "2025",
    "near me",
    "reddit",
    "for beginners",
    "uk",
    "australia",
    "canada",
    "in texas",
    "in london",
    "guide",
    "tips",
    "online",
    "cost",
    "price",
    "youtube",
    "for women",
    "for men",
    "for seniors",
    "on a budget",
    "step by step",
    "explained",
    "checklist",
    "ideas",
    "comparison",
    "pros and cons",
    "for students",
    "forum",
    "faq",
];
const PREFIXES: &[&str] = &["best", "top", "affordable", "cheap"];
/// Keywords starting with these read badly with a prefix ("best how to ...").
const QUESTION_WORDS: &[&str] =
    &["how", "what", "why", "when", "where", "where's", "is", "are", "do", "does", "should", "can"];

impl LabelledSet {
    /// Two disjoint sets by topic: even-numbered topics (for calibrating) and odd-numbered ones
    /// (held out, for reporting), each with its labels renumbered from 0.
    pub fn split(&self) -> (LabelledSet, LabelledSet) {
        (self.topics_where(|t| t % 2 == 0), self.topics_where(|t| t % 2 == 1))
    }

    fn topics_where(&self, keep: impl Fn(usize) -> bool) -> LabelledSet {
        let kept: Vec<usize> = (0..self.topics.len()).filter(|&t| keep(t)).collect();
        let mut set = LabelledSet {
            keywords: Vec::new(),
            labels: Vec::new(),
            topics: kept.iter().map(|&t| self.topics[t].clone()).collect(),
        };
        for (keyword, label) in self.keywords.iter().zip(&self.labels) {
            if let Some(new) = kept.iter().position(|t| t == label) {
                set.keywords.push(keyword.clone());
                set.labels.push(new);
            }
        }
        set
    }
}

/// `n` distinct keywords (or as many as can be made) synthesised from the whole labelled set.
pub fn synthetic(n: usize) -> LabelledSet {
    synthetic_from(&labelled(), n)
}

/// `n` distinct keywords (or as many as can be made): `base` first, then seeded random
/// variants of its keywords with a prefix, a suffix or both; labels are the topics of the
/// keywords they came from.
pub fn synthetic_from(base: &LabelledSet, n: usize) -> LabelledSet {
    let base = base.clone();
    let mut variants: Vec<(String, usize)> = Vec::new();
    for (keyword, &label) in base.keywords.iter().zip(&base.labels) {
        let question = keyword.split(' ').next().is_some_and(|first| QUESTION_WORDS.contains(&first));
        for suffix in SUFFIXES {
            variants.push((format!("{keyword} {suffix}"), label));
        }
        if !question {
            for prefix in PREFIXES {
                if !keyword.starts_with(prefix) {
                    variants.push((format!("{prefix} {keyword}"), label));
                    for suffix in SUFFIXES {
                        variants.push((format!("{prefix} {keyword} {suffix}"), label));
                    }
                }
            }
        }
    }
    let mut rng = SplitMix64(0x6b65_7977_6f72_6473);
    for i in (1..variants.len()).rev() {
        variants.swap(i, rng.below(i + 1));
    }
    let mut seen: std::collections::HashSet<String> = base.keywords.iter().cloned().collect();
    let mut set = LabelledSet { keywords: base.keywords, labels: base.labels, topics: base.topics };
    set.keywords.truncate(n);
    set.labels.truncate(n);
    for (keyword, label) in variants {
        if set.keywords.len() >= n {
            break;
        }
        if seen.insert(keyword.clone()) {
            set.keywords.push(keyword);
            set.labels.push(label);
        }
    }
    set
}

#[cfg(test)]
mod tests {
    #[test]
    fn labelled_set_has_enough_keywords_and_topics() {
        let set = super::labelled();
        assert!(set.keywords.len() >= 300);
        assert!(set.topics.len() >= 15);
        assert_eq!(set.keywords.len(), set.labels.len());
        let unique: std::collections::HashSet<_> = set.keywords.iter().collect();
        assert_eq!(unique.len(), set.keywords.len());
    }

    #[test]
    fn synthetic_set_is_distinct_and_repeatable() {
        let a = super::synthetic(2000);
        assert_eq!(a.keywords.len(), 2000);
        let unique: std::collections::HashSet<_> = a.keywords.iter().collect();
        assert_eq!(unique.len(), 2000);
        assert_eq!(a.keywords, super::synthetic(2000).keywords);
    }

    #[test]
    fn the_split_is_disjoint_and_covers_every_topic() {
        let set = super::labelled();
        let (calibration, held_out) = set.split();
        assert_eq!(calibration.topics.len() + held_out.topics.len(), set.topics.len());
        assert_eq!(calibration.keywords.len() + held_out.keywords.len(), set.keywords.len());
        assert!(calibration.keywords.iter().all(|k| !held_out.keywords.contains(k)));
        assert!(held_out.labels.iter().all(|&l| l < held_out.topics.len()));
    }
}
