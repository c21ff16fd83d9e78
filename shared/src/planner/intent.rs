//! Search intent from the modifiers keywords carry, for one keyword and for a cluster.
//!
//! Most keywords of a cluster carry no modifier at all ("trail running shoes"), so a majority
//! vote in which an unmarked keyword counts as informational calls nearly every cluster
//! informational. A cluster's intent is instead read from the shares of its keywords that
//! carry each kind of modifier: a kind that marks a large and clear share decides
//! ([`IntentShares::decisive`]); otherwise the model's answer for the cluster (or the offline
//! rules') stands; without one, the most frequent marked kind; informational only when
//! nothing else is signalled.

use super::Intent;

// Phrases are matched on whole words ("sale" does not match "wholesale").
const NAVIGATIONAL: &[&str] = &[
    "login",
    "log in",
    "sign in",
    "signin",
    "sign up",
    "website",
    "official",
    "official site",
    "app download",
    "download app",
    "customer service",
    "customer support",
    "phone number",
    "contact",
    "homepage",
    "portal",
    "account",
    "www",
    "com",
];
const TRANSACTIONAL: &[&str] = &[
    "buy",
    "purchase",
    "price",
    "prices",
    "pricing",
    "cheap",
    "cheapest",
    "deal",
    "deals",
    "discount",
    "discounts",
    "coupon",
    "coupons",
    "promo",
    "promo code",
    "order",
    "for sale",
    "sale",
    "near me",
    "hire",
    "quote",
    "quotes",
    "cost",
    "costs",
    "shop",
    "rent",
    "rental",
    "free shipping",
    "book",
    "booking",
    "apply",
    "subscribe",
];
const COMMERCIAL: &[&str] = &[
    "best",
    "top",
    "review",
    "reviews",
    "vs",
    "versus",
    "compare",
    "comparison",
    "alternative",
    "alternatives",
    "rated",
    "recommended",
    "ranking",
    "worth it",
    "pros and cons",
];
const INFORMATIONAL: &[&str] = &[
    "how",
    "what",
    "why",
    "guide",
    "tutorial",
    "tips",
    "ideas",
    "explained",
    "meaning",
    "definition",
    "examples",
    "learn",
    "step by step",
    "checklist",
    "faq",
];
/// Words that make a keyword a question when it starts with them.
const QUESTION_STARTS: &[&str] = &[
    "how", "what", "why", "when", "where", "who", "which", "is", "are", "can", "do", "does", "should", "will",
];

/// Share of a cluster's keywords one kind of modifier must mark to decide on its own.
const DECISIVE_SHARE: f64 = 0.35;
/// ... and how many times more keywords it must mark than the next kind.
const DECISIVE_LEAD: f64 = 2.0;

/// The intent one keyword's modifiers signal, if any: a question is informational; otherwise
/// the most specific rule that matches (navigational, transactional, commercial, then
/// informational words).
pub fn keyword_signal(keyword: &str) -> Option<Intent> {
    let words: Vec<String> = keyword
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect();
    let padded = format!(" {} ", words.join(" "));
    let has = |phrases: &[&str]| phrases.iter().any(|phrase| padded.contains(&format!(" {phrase} ")));
    if words.first().is_some_and(|w| QUESTION_STARTS.contains(&w.as_str())) {
        Some(Intent::Informational)
    } else if has(NAVIGATIONAL) {
        Some(Intent::Navigational)
    } else if has(TRANSACTIONAL) {
        Some(Intent::Transactional)
    } else if has(COMMERCIAL) {
        Some(Intent::Commercial)
    } else if has(INFORMATIONAL) {
        Some(Intent::Informational)
    } else {
        None
    }
}

/// How many of a cluster's keywords signal each intent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IntentShares {
    /// Keywords counted.
    pub total: usize,
    /// Per intent of [`Intent::ALL`]: the keywords signalling it, and the position of the
    /// first of them (the most representative, when keywords come best first).
    counts: Vec<(Intent, usize, usize)>,
}

impl IntentShares {
    /// The shares over `keywords` (most representative first).
    pub fn of<S: AsRef<str>>(keywords: &[S]) -> Self {
        let mut counts: Vec<(Intent, usize, usize)> =
            Intent::ALL.iter().map(|&i| (i, 0, usize::MAX)).collect();
        for (position, keyword) in keywords.iter().enumerate() {
            if let Some(intent) = keyword_signal(keyword.as_ref()) {
                let entry = counts.iter_mut().find(|(i, _, _)| *i == intent);
                if let Some((_, count, first)) = entry {
                    *count += 1;
                    *first = (*first).min(position);
                }
            }
        }
        // Most keywords first; a tie goes to the kind the more representative keyword has.
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
        IntentShares { total: keywords.len(), counts }
    }

    /// The share of keywords signalling `intent`.
    pub fn share(&self, intent: Intent) -> f64 {
        let count = self.counts.iter().find(|(i, _, _)| *i == intent).map_or(0, |c| c.1);
        if self.total == 0 { 0.0 } else { count as f64 / self.total as f64 }
    }

    /// The intent most keywords signal, if any does.
    pub fn leading(&self) -> Option<Intent> {
        self.counts.first().filter(|c| c.1 > 0).map(|c| c.0)
    }

    /// The leading intent when it marks at least [`DECISIVE_SHARE`] of the keywords and
    /// [`DECISIVE_LEAD`] times as many as the next.
    pub fn decisive(&self) -> Option<Intent> {
        let lead = self.leading()?;
        let next = self.counts.get(1).map_or(0, |c| c.1) as f64;
        let count = self.counts[0].1 as f64;
        (self.share(lead) >= DECISIVE_SHARE && count >= DECISIVE_LEAD * next).then_some(lead)
    }

    /// One line for a prompt: the shares that are not zero ("commercial 40%, transactional 10%").
    pub fn describe(&self) -> String {
        self.counts
            .iter()
            .filter(|c| c.1 > 0)
            .map(|c| format!("{} {:.0}%", c.0.as_str(), 100.0 * self.share(c.0)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A cluster's intent from its keywords' modifiers and, when there is one, the model's answer
/// for the cluster: decisive modifiers win, then the model, then the leading modifier, then
/// informational.
pub fn cluster_intent(shares: &IntentShares, model: Option<Intent>) -> Intent {
    shares.decisive().or(model).or(shares.leading()).unwrap_or(Intent::Informational)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_signal_by_their_modifiers() {
        let cases = [
            ("netflix login", Some(Intent::Navigational)),
            ("buy running shoes", Some(Intent::Transactional)),
            ("plumber near me", Some(Intent::Transactional)),
            ("best crm software", Some(Intent::Commercial)),
            ("notion vs obsidian", Some(Intent::Commercial)),
            ("how much does solar cost", Some(Intent::Informational)),
            ("is yoga good for back pain", Some(Intent::Informational)),
            ("wholesale flowers guide", Some(Intent::Informational)),
            ("trail running shoes", None),
        ];
        for (keyword, intent) in cases {
            assert_eq!(keyword_signal(keyword), intent, "{keyword}");
        }
    }

    #[test]
    fn the_model_decides_unless_the_modifiers_are_clear() {
        let unclear =
            IntentShares::of(&["espresso machine", "best espresso machine", "espresso machine price"]);
        assert_eq!(cluster_intent(&unclear, Some(Intent::Transactional)), Intent::Transactional);
        let clear = IntentShares::of(&["buy espresso machine", "espresso machine price", "espresso machine"]);
        assert_eq!(cluster_intent(&clear, Some(Intent::Informational)), Intent::Transactional);
        assert_eq!(cluster_intent(&IntentShares::of::<&str>(&[]), None), Intent::Informational);
        assert_eq!(cluster_intent(&IntentShares::of(&["yoga mat"]), None), Intent::Informational);
    }
}
