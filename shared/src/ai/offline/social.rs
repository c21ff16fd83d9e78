//! SocialCompose and SeoRecommendations offline.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::text::{capitalise, char_count, is_uninformative, shorten, tokens};

#[derive(Deserialize)]
pub(super) struct SocialInput {
    #[serde(default)]
    text: String,
    #[serde(default)]
    platforms: Vec<PlatformIn>,
    #[serde(default = "default_max_hashtags")]
    max_hashtags: usize,
}

fn default_max_hashtags() -> usize {
    3
}

#[derive(Deserialize)]
struct PlatformIn {
    name: String,
    #[serde(default)]
    max_chars: Option<usize>,
}

#[derive(Serialize)]
pub(super) struct SocialOutput {
    variants: Vec<Variant>,
}

#[derive(Serialize)]
struct Variant {
    platform: String,
    /// The post as published, hashtags included, within the platform's limit.
    text: String,
    hashtags: Vec<String>,
}

/// Limits for platforms the caller gave none for.
fn default_limit(platform: &str) -> usize {
    match platform.to_lowercase().as_str() {
        "twitter" | "x" => 280,
        "bluesky" => 300,
        "threads" | "mastodon" | "pinterest" => 500,
        "instagram" | "tiktok" => 2200,
        "linkedin" => 3000,
        "facebook" | "youtube" => 5000,
        _ => 500,
    }
}

/// Hashtags from the text: word pairs used at least twice, then the most frequent words.
fn hashtags(text: &str, max: usize) -> Vec<String> {
    let words = tokens(text);
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut note = |phrase: String, position: usize| {
        counts.entry(phrase).and_modify(|(count, _)| *count += 1).or_insert((1, position));
    };
    for (position, pair) in words.windows(2).enumerate() {
        if pair.iter().all(|w| !is_uninformative(w) && w.chars().count() >= 3) {
            note(pair.join(" "), position);
        }
    }
    for (position, word) in words.iter().enumerate() {
        if !is_uninformative(word) && word.chars().count() >= 3 {
            note(word.clone(), position);
        }
    }
    let mut ranked: Vec<(String, usize, usize)> = counts
        .into_iter()
        .filter(|(phrase, (count, _))| !phrase.contains(' ') || *count >= 2)
        .map(|(phrase, (count, first))| (phrase, count, first))
        .collect();
    // Pairs first among equals: "#RunningShoes" says more than "#Running".
    ranked.sort_by(|a, b| {
        b.1.cmp(&a.1).then(b.0.contains(' ').cmp(&a.0.contains(' '))).then(a.2.cmp(&b.2)).then(a.0.cmp(&b.0))
    });
    let mut chosen: Vec<String> = Vec::new();
    for (phrase, _, _) in ranked {
        if chosen.len() >= max {
            break;
        }
        // Skip a word already inside a chosen pair, and the reverse.
        let overlaps = chosen.iter().any(|c| c.split(' ').any(|w| phrase.split(' ').any(|p| p == w)));
        if !overlaps {
            chosen.push(phrase);
        }
    }
    chosen
        .into_iter()
        .map(|phrase| format!("#{}", phrase.split(' ').map(capitalise).collect::<String>()))
        .collect()
}

pub(super) fn social(input: SocialInput) -> SocialOutput {
    let body = input.text.split_whitespace().collect::<Vec<_>>().join(" ");
    let all_tags = hashtags(&body, input.max_hashtags);
    let variants = input
        .platforms
        .into_iter()
        .map(|platform| {
            let limit = platform.max_chars.unwrap_or_else(|| default_limit(&platform.name));
            let mut tags = all_tags.clone();
            // Drop hashtags (last first) until the text keeps a fair share of the room.
            loop {
                let tag_line = tags.join(" ");
                let reserve = if tags.is_empty() { 0 } else { char_count(&tag_line) + 2 };
                if tags.is_empty()
                    || (reserve <= limit && limit - reserve >= (limit / 2).min(char_count(&body)))
                {
                    break;
                }
                tags.pop();
            }
            let text = if tags.is_empty() {
                shorten(&body, limit)
            } else {
                let tag_line = tags.join(" ");
                let room = limit - char_count(&tag_line) - 2;
                let shortened = shorten(&body, room);
                if shortened.is_empty() { tag_line } else { format!("{shortened}\n\n{tag_line}") }
            };
            debug_assert!(char_count(&text) <= limit, "{text:?} exceeds {limit}");
            Variant { platform: platform.name, text, hashtags: tags }
        })
        .collect();
    SocialOutput { variants }
}

#[derive(Deserialize)]
pub(super) struct SeoInput {
    #[serde(default)]
    url: String,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    findings: Vec<Finding>,
}

#[derive(Deserialize)]
struct Finding {
    #[serde(default)]
    severity: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    fix: String,
}

#[derive(Serialize)]
pub(super) struct SeoOutput {
    plan: Vec<Step>,
}

#[derive(Serialize)]
struct Step {
    priority: u32,
    action: String,
    why: String,
}

/// The prompt asks for at most eight steps.
const MAX_STEPS: usize = 8;

fn severity_rank(severity: &str) -> u8 {
    match severity.to_lowercase().as_str() {
        "critical" | "blocker" => 0,
        "high" | "error" | "major" => 1,
        "medium" | "warning" | "moderate" => 2,
        "low" | "minor" => 3,
        "info" | "notice" | "information" => 4,
        _ => 3,
    }
}

pub(super) fn seo(input: SeoInput) -> SeoOutput {
    let url = if input.url.trim().is_empty() { "the site".to_owned() } else { input.url.trim().to_owned() };
    let mut findings = input.findings;
    // Stable: equal severities keep the audit's order.
    findings.sort_by_key(|f| severity_rank(&f.severity));
    let mut plan: Vec<Step> = Vec::new();
    for finding in findings {
        let action = match finding.fix.trim() {
            "" => format!("Fix: {}", finding.message.trim()),
            fix => fix.to_owned(),
        };
        // The same fix for several findings is one step.
        if plan.iter().any(|step| step.action == action) {
            continue;
        }
        if plan.len() == MAX_STEPS {
            break;
        }
        let severity = if finding.severity.trim().is_empty() { "unrated" } else { finding.severity.trim() };
        let message = finding.message.trim().trim_end_matches('.');
        let why = match (severity_rank(severity), input.keywords.first()) {
            (0 | 1, Some(keyword)) => format!(
                "{message} ({severity} severity); it holds back how {url} ranks for \"{}\".",
                keyword.trim()
            ),
            _ => format!("{message} ({severity} severity)."),
        };
        plan.push(Step { priority: u32::try_from(plan.len() + 1).unwrap_or(u32::MAX), action, why });
    }
    if plan.is_empty() {
        plan.push(Step {
            priority: 1,
            action: "Keep publishing and re-run the audit every month".to_owned(),
            why: format!("The audit of {url} found no problems to fix."),
        });
    }
    SeoOutput { plan }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn variants(input: Value) -> Vec<Value> {
        let input: SocialInput = serde_json::from_value(input).expect("input");
        serde_json::to_value(social(input)).expect("json")["variants"].as_array().expect("variants").clone()
    }

    #[test]
    fn posts_fit_each_platform_with_hashtags() {
        let text = "Our new guide to running shoes is live. We tested forty running shoes on road and trail \
                    so you do not have to, and picked the best running shoes for beginners, marathoners and \
                    trail runners alike. Read the full guide on our blog and tell us which running shoes you love.";
        let out = variants(json!({
            "text": text,
            "platforms": [{"name": "twitter", "max_chars": 280}, {"name": "linkedin", "max_chars": 3000},
                          {"name": "tiny", "max_chars": 30}, {"name": "mastodon"}],
            "max_hashtags": 3,
        }));
        assert_eq!(out.len(), 4);
        for (variant, limit) in out.iter().zip([280, 3000, 30, 500]) {
            let posted = variant["text"].as_str().expect("text");
            assert!(char_count(posted) <= limit, "{posted:?} over {limit}");
            for tag in variant["hashtags"].as_array().expect("tags") {
                assert!(posted.contains(tag.as_str().expect("tag")));
            }
        }
        assert_eq!(out[0]["hashtags"][0], "#RunningShoes");
        assert!(out[0]["hashtags"].as_array().expect("tags").len() <= 3);
        assert!(
            out[1]["text"].as_str().expect("text").starts_with(text.split_whitespace().next().expect("word"))
        );
    }

    #[test]
    fn plan_is_ordered_by_severity_and_capped() {
        let mut findings = vec![
            json!({"id": "a", "severity": "low", "message": "Images lack alt text", "fix": "Add alt text"}),
            json!({"id": "b", "severity": "critical", "message": "Page is noindex", "fix": "Remove the noindex tag"}),
            json!({"id": "c", "severity": "medium", "message": "Title too long", "fix": "Shorten the title"}),
        ];
        for i in 0..10 {
            findings.push(json!({"id": i, "severity": "info", "message": format!("Note {i}"), "fix": format!("Do {i}")}));
        }
        let input: SeoInput = serde_json::from_value(json!({
            "url": "https://example.com/", "keywords": ["running shoes"], "findings": findings,
        }))
        .expect("input");
        let plan = serde_json::to_value(seo(input)).expect("json")["plan"].clone();
        let plan = plan.as_array().expect("plan");
        assert_eq!(plan.len(), MAX_STEPS);
        assert_eq!(plan[0]["action"], "Remove the noindex tag");
        assert_eq!(plan[0]["priority"], 1);
        assert!(plan[0]["why"].as_str().expect("why").contains("running shoes"));
        assert_eq!(plan[1]["action"], "Shorten the title");
        assert_eq!(plan[2]["action"], "Add alt text");
    }

    #[test]
    fn no_findings_still_gives_a_plan() {
        let input: SeoInput = serde_json::from_value(json!({"url": "https://example.com/"})).expect("input");
        let plan = serde_json::to_value(seo(input)).expect("json")["plan"].clone();
        assert_eq!(plan.as_array().expect("plan").len(), 1);
    }
}
