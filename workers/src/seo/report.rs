//! Scores and the prioritised list of what to fix.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{
    PageAudit,
    checks::{Category, Check, Status},
};

/// The weighted mean of the checks (pass 1, warning ½, fail 0) × 100, overall and per
/// category (categories without checks are left out).
pub fn score(checks: &[Check]) -> (u8, BTreeMap<Category, u8>) {
    let mean = |selected: &mut dyn Iterator<Item = &Check>| {
        let (mut earned, mut possible) = (0.0, 0.0);
        for check in selected {
            earned += check.weight * check.status.value();
            possible += check.weight;
        }
        (possible > 0.0).then(|| (earned / possible * 100.0).round() as u8)
    };
    let overall = mean(&mut checks.iter()).unwrap_or(100);
    let categories = Category::ALL
        .into_iter()
        .filter_map(|category| {
            mean(&mut checks.iter().filter(|c| c.category == category)).map(|s| (category, s))
        })
        .collect();
    (overall, categories)
}

/// How urgent a finding is, from its weight and outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

impl Severity {
    pub fn of(check: &Check) -> Severity {
        match (check.status, check.weight) {
            (Status::Fail, weight) if weight >= 8.0 => Severity::Critical,
            (Status::Fail, weight) if weight >= 4.0 => Severity::High,
            (Status::Fail, _) => Severity::Medium,
            (_, weight) if weight >= 5.0 => Severity::Medium,
            _ => Severity::Low,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

/// One thing to fix, with every page where it was found.
#[derive(Clone, Debug, Serialize)]
pub struct Recommendation {
    pub check_id: String,
    pub severity: Severity,
    pub message: String,
    pub fix: String,
    pub pages: Vec<String>,
}

/// The findings of all audited pages, one per check, most severe (then most widespread)
/// first.
pub fn recommendations(pages: &[&PageAudit]) -> Vec<Recommendation> {
    let mut by_check: BTreeMap<String, Recommendation> = BTreeMap::new();
    for page in pages {
        for check in page.issues() {
            let entry = by_check.entry(check.id.clone()).or_insert_with(|| Recommendation {
                check_id: check.id.clone(),
                severity: Severity::of(check),
                message: check.message.clone(),
                fix: check.fix.clone(),
                pages: Vec::new(),
            });
            entry.severity = entry.severity.min(Severity::of(check));
            entry.pages.push(page.final_url.clone());
        }
    }
    let mut list: Vec<Recommendation> = by_check.into_values().collect();
    list.sort_by(|a, b| a.severity.cmp(&b.severity).then(b.pages.len().cmp(&a.pages.len())));
    list
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn check(id: &str, category: Category, weight: f64, status: Status) -> Check {
        Check {
            id: id.into(),
            category,
            weight,
            status,
            message: String::new(),
            evidence: Value::Null,
            fix: String::new(),
        }
    }

    #[test]
    fn scores_are_weighted_means() {
        let checks = vec![
            check("a", Category::Content, 6.0, Status::Pass),
            check("b", Category::Content, 2.0, Status::Fail),
            check("c", Category::Technical, 4.0, Status::Warning),
        ];
        let (overall, categories) = score(&checks);
        assert_eq!(overall, 67); // (6 + 0 + 2) / 12
        assert_eq!(categories[&Category::Content], 75);
        assert_eq!(categories[&Category::Technical], 50);
        assert!(!categories.contains_key(&Category::Social));
        assert_eq!(score(&[]).0, 100);
    }

    #[test]
    fn severity_follows_weight_and_outcome() {
        assert_eq!(Severity::of(&check("x", Category::Content, 10.0, Status::Fail)), Severity::Critical);
        assert_eq!(Severity::of(&check("x", Category::Content, 4.0, Status::Fail)), Severity::High);
        assert_eq!(Severity::of(&check("x", Category::Content, 2.0, Status::Fail)), Severity::Medium);
        assert_eq!(Severity::of(&check("x", Category::Content, 2.0, Status::Warning)), Severity::Low);
    }
}
