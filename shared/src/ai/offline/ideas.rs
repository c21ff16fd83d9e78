//! GenerateIdeas offline: templated ideas (guide, listicle, how-to, comparison, FAQ, review,
//! case study, explainer) around the cluster's top keywords by volume.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::text::title_case;

/// More ideas than this in one call would only repeat the templates.
const MAX_IDEAS: usize = 50;

#[derive(Deserialize)]
pub(super) struct Input {
    #[serde(default)]
    cluster_name: String,
    #[serde(default)]
    cluster_description: String,
    #[serde(default)]
    keywords: Vec<KeywordIn>,
    #[serde(default = "default_count")]
    count: usize,
}

fn default_count() -> usize {
    3
}

#[derive(Deserialize)]
#[serde(untagged)]
enum KeywordIn {
    WithVolume {
        keyword: String,
        #[serde(default)]
        volume: Option<i64>,
    },
    Plain(String),
}

#[derive(Serialize)]
pub(super) struct Output {
    ideas: Vec<Idea>,
}

#[derive(Serialize)]
struct Idea {
    title: String,
    description: String,
    content_type: &'static str,
    content_structure: &'static str,
    target_keywords: Vec<String>,
    outline: Vec<String>,
    estimated_word_count: u32,
}

/// What a template fills in.
struct Slots {
    /// Title case: the topic, or for later rounds a keyword.
    focus: String,
    /// Title case: other keywords (at least two, padded with the focus).
    second: String,
    third: String,
}

struct Template {
    content_type: &'static str,
    content_structure: &'static str,
    words: u32,
    pitch: &'static str,
    title: fn(&Slots) -> String,
    outline: fn(&Slots) -> Vec<String>,
}

const TEMPLATES: [Template; 8] = [
    Template {
        content_type: "guide",
        content_structure: "article",
        words: 2500,
        pitch: "A comprehensive guide that answers every major question a reader has",
        title: |s| format!("The Ultimate Guide to {}", s.focus),
        outline: |s| {
            vec![
                format!("What Is {}?", s.focus),
                format!("Why {} Matters", s.focus),
                format!("Key Things to Know About {}", s.second),
                format!("How to Get Started With {}", s.focus),
                format!("{}: Tips From Experience", s.third),
                "Common Mistakes to Avoid".to_owned(),
                "Frequently Asked Questions".to_owned(),
            ]
        },
    },
    Template {
        content_type: "listicle",
        content_structure: "list",
        words: 1800,
        pitch: "A scannable list of practical tips",
        title: |s| format!("7 {} Tips That Actually Work", s.focus),
        outline: |s| {
            vec![
                format!("Why These {} Tips Matter", s.focus),
                "1-2: Start With the Basics".to_owned(),
                format!("3-4: Make the Most of {}", s.second),
                format!("5-6: Go Further With {}", s.third),
                "7: Measure Your Results".to_owned(),
                "Wrapping Up".to_owned(),
            ]
        },
    },
    Template {
        content_type: "how_to",
        content_structure: "tutorial",
        words: 1500,
        pitch: "A step-by-step tutorial for beginners",
        title: |s| format!("How to Get Started With {}: A Step-by-Step Guide", s.focus),
        outline: |s| {
            vec![
                "What You Need Before You Start".to_owned(),
                format!("Step 1: Understand the Basics of {}", s.focus),
                format!("Step 2: Choose Your Approach to {}", s.second),
                "Step 3: Put It Into Practice".to_owned(),
                "Step 4: Review and Improve".to_owned(),
                "Troubleshooting Common Problems".to_owned(),
            ]
        },
    },
    Template {
        content_type: "comparison",
        content_structure: "comparison",
        words: 1600,
        pitch: "A side-by-side comparison that helps readers choose",
        title: |s| {
            if s.second.eq_ignore_ascii_case(&s.third) {
                format!("{}: Comparing Your Options", s.focus)
            } else {
                format!("{} vs {}: Which Is Right for You?", s.second, s.third)
            }
        },
        outline: |s| {
            vec![
                format!("{} at a Glance", s.second),
                format!("{} at a Glance", s.third),
                "Key Differences".to_owned(),
                "Pros and Cons".to_owned(),
                "Which Should You Choose?".to_owned(),
            ]
        },
    },
    Template {
        content_type: "post",
        content_structure: "faq",
        words: 1200,
        pitch: "Short, direct answers to the questions people search for",
        title: |s| format!("{} FAQ: Answers to the Most Common Questions", s.focus),
        outline: |s| {
            vec![
                format!("What Is {}?", s.focus),
                format!("How Does {} Work?", s.second),
                format!("How Much Does {} Cost?", s.focus),
                format!("Is {} Worth It?", s.third),
                "Where Can I Learn More?".to_owned(),
            ]
        },
    },
    Template {
        content_type: "review",
        content_structure: "article",
        words: 1400,
        pitch: "An honest review with a clear verdict",
        title: |s| format!("{} Review: What Works and What Doesn't", s.focus),
        outline: |s| {
            vec![
                "Overview".to_owned(),
                "What We Liked".to_owned(),
                "What Could Be Better".to_owned(),
                format!("How It Compares to {}", s.second),
                "The Verdict".to_owned(),
            ]
        },
    },
    Template {
        content_type: "post",
        content_structure: "case_study",
        words: 1300,
        pitch: "A real-world story that shows the results",
        title: |s| format!("{} in Practice: A Case Study", s.focus),
        outline: |s| {
            vec![
                "The Challenge".to_owned(),
                format!("Why We Chose {}", s.focus),
                format!("Putting {} to Work", s.second),
                "The Results".to_owned(),
                "Lessons Learned".to_owned(),
            ]
        },
    },
    Template {
        content_type: "page",
        content_structure: "article",
        words: 1400,
        pitch: "An evergreen explainer page",
        title: |s| format!("{}: Everything You Need to Know", s.focus),
        outline: |s| {
            vec![
                format!("Introduction to {}", s.focus),
                format!("Benefits of {}", s.focus),
                format!("{} Explained", s.second),
                format!("{} Explained", s.third),
                format!("Getting the Most From {}", s.focus),
                "Summary".to_owned(),
            ]
        },
    },
];

pub(super) fn answer(input: Input) -> Output {
    let mut keywords: Vec<(String, i64)> = input
        .keywords
        .into_iter()
        .map(|k| match k {
            KeywordIn::WithVolume { keyword, volume } => (keyword.trim().to_owned(), volume.unwrap_or(0)),
            KeywordIn::Plain(keyword) => (keyword.trim().to_owned(), 0),
        })
        .filter(|(keyword, _)| !keyword.is_empty())
        .collect();
    // By volume, then alphabetically, so equal volumes still give one order.
    keywords.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    keywords.dedup_by(|a, b| a.0.eq_ignore_ascii_case(&b.0));
    let keywords: Vec<String> = keywords.into_iter().map(|(keyword, _)| keyword).collect();

    let topic = match (input.cluster_name.trim(), keywords.first()) {
        ("", Some(top)) => title_case(top),
        ("", None) => "This Topic".to_owned(),
        (name, _) => title_case(name),
    };
    let about = input.cluster_description.trim().trim_end_matches('.');
    let mut titles = BTreeSet::new();
    let ideas = (0..input.count.min(MAX_IDEAS))
        .map(|index| {
            let template = &TEMPLATES[index % TEMPLATES.len()];
            let round = index / TEMPLATES.len();
            // First round: about the topic; later rounds: about one keyword each.
            let focus = match round {
                0 => topic.clone(),
                _ if keywords.is_empty() => topic.clone(),
                _ => title_case(&keywords[(round - 1) % keywords.len()]),
            };
            let pick = |offset: usize| -> String {
                if keywords.is_empty() {
                    return topic.clone();
                }
                let candidate = title_case(&keywords[(index + offset) % keywords.len()]);
                if candidate.eq_ignore_ascii_case(&focus) && keywords.len() > 1 {
                    title_case(&keywords[(index + offset + 1) % keywords.len()])
                } else {
                    candidate
                }
            };
            let slots = Slots { second: pick(0), third: pick(1), focus };
            let mut title = (template.title)(&slots);
            if !titles.insert(title.clone()) {
                title = format!("{title} (Part {})", round + 1);
                titles.insert(title.clone());
            }
            let target_keywords: Vec<String> = if keywords.is_empty() {
                vec![topic.to_lowercase()]
            } else {
                (0..keywords.len().min(4)).map(|j| keywords[(index + j) % keywords.len()].clone()).collect()
            };
            let context = if about.is_empty() { String::new() } else { format!(" ({about})") };
            Idea {
                description: format!(
                    "{} on {}{context}, targeting \"{}\".",
                    template.pitch,
                    slots.focus.to_lowercase(),
                    target_keywords.first().map(String::as_str).unwrap_or_default()
                ),
                title,
                content_type: template.content_type,
                content_structure: template.content_structure,
                target_keywords,
                outline: (template.outline)(&slots),
                estimated_word_count: template.words,
            }
        })
        .collect();
    Output { ideas }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn ideas(input: Value) -> Vec<Value> {
        let input: Input = serde_json::from_value(input).expect("input");
        let out = serde_json::to_value(answer(input)).expect("json");
        out["ideas"].as_array().expect("ideas").clone()
    }

    #[test]
    fn count_varied_ideas_with_outlines_of_four_to_eight_headings() {
        let out = ideas(json!({
            "cluster_name": "running shoes", "cluster_description": "Shoes for runners.",
            "keywords": [{"keyword": "trail running shoes", "volume": 50}, {"keyword": "best running shoes", "volume": 900},
                         {"keyword": "running shoes for women", "volume": 300}],
            "count": 12,
        }));
        assert_eq!(out.len(), 12);
        assert_eq!(out[0]["title"], "The Ultimate Guide to Running Shoes");
        assert_eq!(out[0]["target_keywords"][0], "best running shoes");
        let titles: BTreeSet<&str> = out.iter().map(|idea| idea["title"].as_str().expect("title")).collect();
        assert_eq!(titles.len(), 12, "{titles:?}");
        let types: BTreeSet<&str> = out.iter().map(|i| i["content_type"].as_str().expect("type")).collect();
        assert!(types.len() >= 5);
        for idea in &out {
            let headings = idea["outline"].as_array().expect("outline").len();
            assert!((4..=8).contains(&headings), "{idea}");
            assert!(idea["estimated_word_count"].as_u64().expect("words") >= 1000);
        }
    }

    #[test]
    fn works_without_keywords_or_name() {
        let out = ideas(json!({"count": 2}));
        assert_eq!(out.len(), 2);
        assert_eq!(out[0]["target_keywords"], json!(["this topic"]));
    }
}
