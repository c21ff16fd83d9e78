//! AutoCluster offline: names from the phrases a cluster's keywords share, intent by rules.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::text::{is_uninformative, title_case, tokens};
use crate::planner::{
    Intent,
    intent::{self, IntentShares},
};

#[derive(Deserialize)]
pub(super) struct Input {
    clusters: Vec<ClusterIn>,
}

#[derive(Deserialize)]
struct ClusterIn {
    id: Value,
    #[serde(default)]
    keywords: Vec<String>,
}

#[derive(Serialize)]
pub(super) struct Output {
    clusters: Vec<ClusterOut>,
}

#[derive(Serialize)]
struct ClusterOut {
    id: Value,
    name: String,
    description: String,
    intent: Intent,
}

/// Intent from the shares of modifiers across the cluster's keywords (see
/// [`crate::planner::intent`]), not a majority vote in which unmarked keywords count as
/// informational.
pub(super) fn cluster_intent(keywords: &[String]) -> Intent {
    intent::cluster_intent(&IntentShares::of(keywords), None)
}

/// A candidate name: a run of 1-3 informative words inside a keyword.
#[derive(Debug)]
struct Phrase {
    text: String,
    words: usize,
    /// How many of the cluster's keywords contain it.
    keywords: usize,
    /// (keyword index, word index) of its first appearance.
    first: (usize, usize),
}

fn phrases(keywords: &[String]) -> Vec<Phrase> {
    let mut found: BTreeMap<String, Phrase> = BTreeMap::new();
    for (k, keyword) in keywords.iter().enumerate() {
        let words = tokens(keyword);
        let mut seen_here = BTreeSet::new();
        for start in 0..words.len() {
            for len in 1..=3 {
                let Some(slice) = words.get(start..start + len) else { break };
                if slice.iter().any(|w| is_uninformative(w)) {
                    break;
                }
                let text = slice.join(" ");
                if !seen_here.insert(text.clone()) {
                    continue;
                }
                found.entry(text.clone()).and_modify(|p| p.keywords += 1).or_insert(Phrase {
                    text,
                    words: len,
                    keywords: 1,
                    first: (k, start),
                });
            }
        }
    }
    found.into_values().collect()
}

/// The cluster's phrases, most characteristic first: shared by many of its keywords, longer
/// when nearly as shared, and rare in the other clusters.
fn ranked(keywords: &[String], clusters_with: &BTreeMap<String, usize>, cluster_count: usize) -> Vec<Phrase> {
    let score = |phrase: &Phrase| {
        let spread = *clusters_with.get(&phrase.text).unwrap_or(&1) as f64;
        let n = cluster_count.max(1) as f64;
        let rarity = (1.0 + n / spread).ln() / (1.0 + n).ln();
        phrase.keywords as f64 * (1.0 + 0.5 * (phrase.words as f64 - 1.0)) * rarity
    };
    let mut phrases = phrases(keywords);
    phrases.sort_by(|a, b| {
        score(b)
            .total_cmp(&score(a))
            .then(b.words.cmp(&a.words))
            .then(a.first.cmp(&b.first))
            .then(a.text.cmp(&b.text))
    });
    phrases
}

pub(super) fn answer(input: Input) -> Output {
    let all_phrases: Vec<BTreeSet<String>> =
        input.clusters.iter().map(|c| phrases(&c.keywords).into_iter().map(|p| p.text).collect()).collect();
    let mut clusters_with: BTreeMap<String, usize> = BTreeMap::new();
    for set in &all_phrases {
        for phrase in set {
            *clusters_with.entry(phrase.clone()).or_default() += 1;
        }
    }
    let count = input.clusters.len();
    let mut used: BTreeSet<String> = BTreeSet::new();
    // Words of the clusters already named, by their undisambiguated name.
    let mut words_by_base: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let clusters = input
        .clusters
        .into_iter()
        .map(|cluster| {
            let ranked = ranked(&cluster.keywords, &clusters_with, count);
            let base = match ranked.first() {
                Some(phrase) => phrase.text.clone(),
                None => cluster.keywords.first().map(|k| k.trim().to_lowercase()).unwrap_or_default(),
            };
            let base = if base.is_empty() { format!("cluster {}", id_text(&cluster.id)) } else { base };
            let others = words_by_base.entry(base.clone()).or_default();
            let name = unique_name(&base, &ranked, others, &used);
            others.extend(cluster.keywords.iter().flat_map(|k| tokens(k)));
            used.insert(name.clone());
            let intent = cluster_intent(&cluster.keywords);
            ClusterOut {
                description: describe(&name, intent, &cluster.keywords),
                name: title_case(&name),
                intent,
                id: cluster.id,
            }
        })
        .collect();
    Output { clusters }
}

/// `base` if free; else a longer phrase of the cluster containing it ("trail running
/// shoes"); else `base` plus the cluster's most characteristic word the earlier namesakes do
/// not use; else a number.
fn unique_name(base: &str, ranked: &[Phrase], others: &BTreeSet<String>, used: &BTreeSet<String>) -> String {
    if !used.contains(base) {
        return base.to_owned();
    }
    let padded_base = format!(" {base} ");
    let longer = ranked
        .iter()
        .map(|p| &p.text)
        .find(|text| format!(" {text} ").contains(&padded_base) && !used.contains(*text));
    if let Some(longer) = longer {
        return longer.clone();
    }
    let base_words: BTreeSet<&str> = base.split(' ').collect();
    let terms: Vec<&str> = ranked
        .iter()
        .filter(|p| p.words == 1 && !base_words.contains(p.text.as_str()))
        .map(|p| p.text.as_str())
        .collect();
    let distinct = terms.iter().filter(|t| !others.contains(**t)).chain(terms.iter());
    for term in distinct {
        let candidate = format!("{base} {term}");
        if !used.contains(&candidate) {
            return candidate;
        }
    }
    (2..).map(|n| format!("{base} {n}")).find(|candidate| !used.contains(candidate)).unwrap_or_default()
}

fn describe(name: &str, intent: Intent, keywords: &[String]) -> String {
    let examples: Vec<String> = keywords.iter().take(3).map(|k| format!("\"{}\"", k.trim())).collect();
    let examples = match examples.as_slice() {
        [] => String::new(),
        [one] => format!(", such as {one}"),
        [init @ .., last] => format!(", such as {} and {last}", init.join(", ")),
    };
    let n = keywords.len();
    let plural = if n == 1 { "" } else { "s" };
    let topic = name.to_lowercase();
    match intent {
        Intent::Informational => {
            format!("{n} informational search{plural} from people learning about {topic}{examples}.")
        }
        Intent::Commercial => {
            format!("{n} search{plural} from people comparing and researching {topic} options{examples}.")
        }
        Intent::Transactional => {
            format!("{n} search{plural} from people ready to buy or book {topic}{examples}.")
        }
        Intent::Navigational => {
            format!(
                "{n} search{plural} from people looking for a specific {topic} site or account{examples}."
            )
        }
    }
}

fn id_text(id: &Value) -> String {
    match id {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn keywords(list: &[&str]) -> Vec<String> {
        list.iter().map(|k| (*k).to_owned()).collect()
    }

    fn names(input: Value) -> Vec<(String, Intent)> {
        let input: Input = serde_json::from_value(input).expect("input");
        answer(input).clusters.into_iter().map(|c| (c.name, c.intent)).collect()
    }

    #[test]
    fn names_come_from_the_shared_phrase() {
        let out = names(json!({"clusters": [
            {"id": 0, "keywords": ["best running shoes", "top running shoes for women", "trail running shoes",
                                   "nike running shoes review", "running shoes 2025"]},
            {"id": 1, "keywords": ["how to make sourdough bread", "sourdough starter", "sourdough bread recipe"]},
        ]}));
        assert_eq!(out[0], ("Running Shoes".to_owned(), Intent::Commercial));
        assert_eq!(out[1].0, "Sourdough Bread");
        assert_eq!(out[1].1, Intent::Informational);
    }

    #[test]
    fn coinciding_names_are_told_apart() {
        let out = names(json!({"clusters": [
            {"id": "a", "keywords": ["running shoes", "best running shoes", "running shoes sale"]},
            {"id": "b", "keywords": ["trail running shoes", "running shoes", "waterproof trail running shoes"]},
            {"id": "c", "keywords": ["running shoes", "kids running shoes", "running shoes for kids"]},
            {"id": "d", "keywords": ["running shoes", "cheap running shoes"]},
        ]}));
        let names: Vec<&str> = out.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names[0], "Running Shoes");
        assert_eq!(names[1], "Trail Running Shoes");
        assert_eq!(names[2], "Kids Running Shoes");
        assert_eq!(names[3], "Running Shoes 2");
        assert_eq!(names.iter().collect::<BTreeSet<_>>().len(), names.len());
    }

    #[test]
    fn intents_follow_the_rules() {
        assert_eq!(
            cluster_intent(&keywords(&["buy shoes", "shoe price", "best shoes", "shoe guide"])),
            Intent::Transactional
        );
        // Tie: the earliest keyword's intent wins.
        assert_eq!(cluster_intent(&keywords(&["best shoes", "buy shoes"])), Intent::Commercial);
        assert_eq!(cluster_intent(&[]), Intent::Informational);
    }

    /// A mixed set: four clusters whose keywords are mostly unmarked. The majority vote that
    /// counted an unmarked keyword as informational tagged all four informational.
    #[test]
    fn mixed_clusters_get_the_intent_their_modifiers_share() {
        let out = names(json!({"clusters": [
            {"id": 0, "keywords": ["trail running shoes", "best running shoes", "nike pegasus 41 review",
                                   "brooks ghost vs glycerin", "zero drop running shoes",
                                   "running shoes for flat feet", "lightweight road running shoes"]},
            {"id": 1, "keywords": ["breville barista express", "buy espresso machine", "espresso machine price",
                                   "delonghi dedica", "espresso machine deals", "rancilio silvia",
                                   "gaggia classic pro"]},
            {"id": 2, "keywords": ["netflix", "netflix login", "netflix account", "netflix uk", "netflix shows",
                                   "netflix plans"]},
            {"id": 3, "keywords": ["espresso grind size", "how to pull a shot", "what is crema", "espresso ratio"]},
        ]}));
        let intents: Vec<Intent> = out.into_iter().map(|(_, intent)| intent).collect();
        assert_eq!(
            intents,
            [Intent::Commercial, Intent::Transactional, Intent::Navigational, Intent::Informational]
        );
    }

    #[test]
    fn clusters_without_informative_words_still_get_a_name() {
        let out =
            names(json!({"clusters": [{"id": 7, "keywords": ["best 2025"]}, {"id": 8, "keywords": []}]}));
        assert_eq!(out[0].0, "Best 2025");
        assert_eq!(out[1].0, "Cluster 8");
    }
}
