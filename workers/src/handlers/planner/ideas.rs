//! `planner.generate_ideas`: content ideas for each cluster from its keywords, written with
//! the charge in the task's transaction (one charge per idea actually written).

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};
use shared::{
    ai::{self, ChatRequest, PromptType, TokenUsage, prompts::render},
    billing::{self, Charge, Operation},
    ids::AccountId,
    planner::{
        clusters::{self, ClusterBrief},
        ideas::{self, IdeaInsertForm, IdeaStatus},
    },
    tasks::GenerateIdeas,
    tasks::planner::GenerateIdeasPayload,
};

use super::{AiAccess, ai_error, ensure_affordable};
use crate::runtime::{Completion, KindHandler, TaskContext, TaskError};

/// Keywords of a cluster shown to the model, by volume.
const PROMPT_KEYWORDS: i64 = 25;
const CONTENT_TYPES: [&str; 7] = ["post", "page", "guide", "listicle", "comparison", "how_to", "review"];
const STRUCTURES: [&str; 6] = ["article", "list", "tutorial", "faq", "case_study", "comparison"];

pub struct GenerateIdeasHandler {
    ai: Arc<AiAccess>,
}

impl GenerateIdeasHandler {
    pub fn new(ai: Arc<AiAccess>) -> Self {
        Self { ai }
    }
}

#[derive(Debug, Deserialize)]
struct IdeasAnswer {
    ideas: Vec<RawIdea>,
}

#[derive(Debug, Deserialize)]
struct RawIdea {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    content_type: String,
    #[serde(default)]
    content_structure: String,
    #[serde(default)]
    target_keywords: Vec<String>,
    #[serde(default)]
    outline: Vec<String>,
    #[serde(default)]
    estimated_word_count: Option<i64>,
}

/// An idea ready to insert.
struct NewIdea {
    cluster: usize,
    title: String,
    description: String,
    content_type: String,
    content_structure: String,
    target_keywords: Value,
    outline: Value,
    estimated_word_count: i32,
}

#[async_trait::async_trait]
impl KindHandler for GenerateIdeasHandler {
    type Kind = GenerateIdeas;

    async fn run(&self, ctx: &TaskContext, payload: GenerateIdeasPayload) -> Result<Completion, TaskError> {
        let account_id = ctx.task().account_id;
        ctx.progress("LOAD", 5, "Loading clusters")?;
        let briefs = load_clusters(ctx, account_id, &payload.cluster_ids).await?;
        let per_cluster = payload.ideas_per_cluster;
        ensure_affordable(
            ctx.pool(),
            account_id,
            Operation::Ideas.cost(u64::from(per_cluster) * briefs.len() as u64),
        )
        .await?;
        let (clients, template) =
            self.ai.for_account(ctx.pool(), account_id, PromptType::GenerateIdeas).await?;

        let mut ideas = Vec::new();
        let mut usage = TokenUsage::default();
        for (index, brief) in briefs.iter().enumerate() {
            let request = ideas_request(&template, brief, per_cluster);
            let answer =
                ai::chat_json::<IdeasAnswer>(clients.generator.as_ref(), request).await.map_err(ai_error)?;
            usage += answer.usage;
            ideas.extend(
                answer.value.ideas.into_iter().take(per_cluster as usize).filter_map(|raw| clean(index, raw)),
            );
            let percentage = 10 + 80 * (index + 1) / briefs.len();
            ctx.progress(
                "AI_CALL",
                percentage as u8,
                format!("{} of {} clusters done", index + 1, briefs.len()),
            )?;
        }
        if ideas.is_empty() {
            return Err(TaskError::retryable("ai_malformed_response", "the model returned no usable ideas"));
        }
        ctx.progress("SAVE", 95, format!("Saving {} ideas", ideas.len()))?;
        let charge = Charge {
            account_id,
            operation: Operation::Ideas,
            units: ideas.len() as u64,
            task_id: Some(ctx.task().id),
            model: clients.generator.model().to_owned(),
            usage,
            related: None,
            cost_usd: None,
        };
        let result = json!({
            "ideas_created": ideas.len(),
            "clusters": briefs.iter().map(|brief| json!({ "id": brief.id, "name": brief.name })).collect::<Vec<_>>(),
            "titles": ideas.iter().map(|idea| &idea.title).collect::<Vec<_>>(),
            "model": charge.model,
            "credits_charged": charge.credits(),
            "tokens": usage.total(),
        });
        let task_id = ctx.task().id;
        Ok(Completion::new(result).with_effects(move |conn| {
            let forms = ideas
                .into_iter()
                .map(|idea| {
                    let brief = &briefs[idea.cluster];
                    IdeaInsertForm {
                        site_id: brief.site_id,
                        sector_id: brief.sector_id,
                        cluster_id: Some(brief.id),
                        idea_title: idea.title,
                        description: idea.description,
                        content_type: idea.content_type,
                        content_structure: idea.content_structure,
                        target_keywords: idea.target_keywords,
                        outline: idea.outline,
                        estimated_word_count: idea.estimated_word_count,
                        status: IdeaStatus::New,
                    }
                })
                .collect();
            ideas::add_generated(conn, AccountId(account_id), task_id, forms)?;
            billing::charge(conn, &charge)?;
            Ok(())
        }))
    }
}

async fn load_clusters(
    ctx: &TaskContext,
    account_id: i64,
    ids: &[i64],
) -> Result<Vec<ClusterBrief>, TaskError> {
    let (account, ids) = (AccountId(account_id), ids.to_vec());
    let briefs =
        shared::db::run(ctx.pool(), move |conn| clusters::briefs(conn, account, &ids, PROMPT_KEYWORDS))
            .await?;
    if briefs.is_empty() {
        return Err(TaskError::fatal("no_clusters", "none of the clusters exist any more"));
    }
    Ok(briefs)
}

fn ideas_request(template: &str, brief: &ClusterBrief, count: u32) -> ChatRequest {
    let keywords: Vec<Value> = brief
        .keywords
        .iter()
        .map(|(keyword, volume)| json!({ "keyword": keyword, "volume": volume }))
        .collect();
    let listing: Vec<String> =
        brief.keywords.iter().map(|(keyword, volume)| format!("{keyword} ({volume})")).collect();
    let count_text = count.to_string();
    ChatRequest {
        prompt_type: PromptType::GenerateIdeas,
        system: "You plan content for an SEO team. Answer with JSON only.".to_owned(),
        user: render(
            template,
            &[
                ("count", &count_text),
                ("cluster_name", &brief.name),
                ("cluster_description", &brief.description),
                ("keywords", &listing.join(", ")),
            ],
        ),
        context: json!({
            "cluster_name": brief.name,
            "cluster_description": brief.description,
            "keywords": keywords,
            "count": count,
        }),
        json: true,
        max_tokens: Some(3_000),
        temperature: Some(0.7),
    }
}

/// Keeps an idea within what the table and the writer expect; drops one without a title.
fn clean(cluster: usize, raw: RawIdea) -> Option<NewIdea> {
    let title: String = raw.title.trim().chars().take(300).collect();
    if title.is_empty() {
        return None;
    }
    let known = |value: &str, allowed: &[&str], default: &str| {
        let value = value.trim().to_lowercase().replace(['-', ' '], "_");
        if allowed.contains(&value.as_str()) { value } else { default.to_owned() }
    };
    let strings = |items: Vec<String>, max: usize| -> Value {
        Value::from(
            items
                .into_iter()
                .map(|item| item.trim().chars().take(200).collect::<String>())
                .filter(|item| !item.is_empty())
                .take(max)
                .collect::<Vec<_>>(),
        )
    };
    Some(NewIdea {
        cluster,
        title,
        description: raw.description.trim().chars().take(2_000).collect(),
        content_type: known(&raw.content_type, &CONTENT_TYPES, "post"),
        content_structure: known(&raw.content_structure, &STRUCTURES, "article"),
        target_keywords: strings(raw.target_keywords, 20),
        outline: strings(raw.outline, 20),
        estimated_word_count: raw.estimated_word_count.unwrap_or(1_500).clamp(300, 10_000) as i32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ideas_are_kept_within_bounds() {
        let raw = RawIdea {
            title: "  The Guide  ".into(),
            description: String::new(),
            content_type: "How-To".into(),
            content_structure: "novel".into(),
            target_keywords: vec!["a".into(), " ".into()],
            outline: vec![],
            estimated_word_count: Some(50_000),
        };
        let idea = clean(0, raw).expect("kept");
        assert_eq!(idea.title, "The Guide");
        assert_eq!(idea.content_type, "how_to");
        assert_eq!(idea.content_structure, "article");
        assert_eq!(idea.target_keywords, json!(["a"]));
        assert_eq!(idea.estimated_word_count, 10_000);
        let untitled = RawIdea {
            title: " ".into(),
            description: String::new(),
            content_type: String::new(),
            content_structure: String::new(),
            target_keywords: vec![],
            outline: vec![],
            estimated_word_count: None,
        };
        assert!(clean(0, untitled).is_none());
    }
}
