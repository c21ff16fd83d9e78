//! `writer.generate_content`: an article per writer task, sanitized before it is stored, each
//! item on its own (see the module docs of `writer`). The writer tasks are `in_progress` while
//! the task runs; the ones not written go back to `review` (they have an article) or `draft`.
//! The articles, the writer tasks' move to `review` and one `content` charge for the words
//! written go in the task's transaction.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};
use shared::{
    ai::{self, ChatRequest, PromptType, TokenUsage, prompts::render},
    billing::{self, Charge, Operation},
    ids::{AccountId, TaskId},
    tasks::GenerateContent,
    tasks::writer::GenerateContentPayload,
    writer::{
        TaskStatus,
        content::{self, GeneratedArticle},
        tasks::{self, TaskBrief},
    },
    writer_settings::DEFAULT_TONE,
};

use super::{
    Outcome, all_failed, batch_result,
    html::{META_DESCRIPTION_MAX, META_TITLE_MAX, sanitize, truncate_at_word, word_count},
    item_error,
};
use crate::{
    handlers::planner::{AiAccess, ensure_affordable},
    runtime::{Completion, KindHandler, TaskContext, TaskError},
};

/// Keywords shown to the model: the task's own, then its cluster's by volume.
const PROMPT_KEYWORDS: usize = 15;

pub struct GenerateContentHandler {
    ai: Arc<AiAccess>,
}

impl GenerateContentHandler {
    pub fn new(ai: Arc<AiAccess>) -> Self {
        Self { ai }
    }
}

/// A writer task with what shapes its article.
struct Brief {
    id: i64,
    site_id: i64,
    sector_id: Option<i64>,
    title: String,
    content_type: String,
    keywords: Vec<String>,
    outline: Vec<String>,
    word_count: i32,
    tone: String,
    persona: String,
    audience: String,
    guidelines: String,
}

#[derive(Debug, Deserialize)]
struct ArticleAnswer {
    #[serde(default)]
    title: String,
    #[serde(default)]
    meta_title: String,
    #[serde(default)]
    meta_description: String,
    html: String,
    #[serde(default)]
    primary_keyword: String,
    #[serde(default)]
    secondary_keywords: Vec<String>,
}

#[async_trait::async_trait]
impl KindHandler for GenerateContentHandler {
    type Kind = GenerateContent;

    async fn run(&self, ctx: &TaskContext, payload: GenerateContentPayload) -> Result<Completion, TaskError> {
        let account_id = ctx.task().account_id;
        let account = AccountId(account_id);
        ctx.progress("LOAD", 5, "Loading writer tasks")?;
        let briefs = load_briefs(ctx, account, payload.writer_task_ids).await?;
        let ids: Vec<i64> = briefs.iter().map(|brief| brief.id).collect();
        let in_progress = ids.clone();
        shared::db::run(ctx.pool(), move |conn| {
            tasks::set_status(conn, &account.into(), &in_progress, TaskStatus::InProgress)
        })
        .await?;
        let written = self.write(ctx, account_id, briefs).await;
        if written.is_err() {
            // Not written after all: back to where they stood (best effort; a redelivery
            // starts over anyway).
            let settled =
                shared::db::run(ctx.pool(), move |conn| tasks::settle_in_progress(conn, account, &ids)).await;
            if let Err(error) = settled {
                tracing::warn!(%error, "writer tasks left in progress");
            }
        }
        written
    }
}

impl GenerateContentHandler {
    async fn write(
        &self,
        ctx: &TaskContext,
        account_id: i64,
        briefs: Vec<Brief>,
    ) -> Result<Completion, TaskError> {
        let estimate: u64 = briefs.iter().map(|brief| u64::try_from(brief.word_count).unwrap_or(0)).sum();
        ensure_affordable(ctx.pool(), account_id, Operation::Content.cost(estimate)).await?;
        let (clients, template) =
            self.ai.for_account(ctx.pool(), account_id, PromptType::ContentGeneration).await?;

        let mut outcomes = Vec::with_capacity(briefs.len());
        let mut articles: Vec<GeneratedArticle> = Vec::new();
        let mut usage = TokenUsage::default();
        for (index, brief) in briefs.iter().enumerate() {
            let answer =
                ai::chat_json::<ArticleAnswer>(clients.generator.as_ref(), request(&template, brief)).await;
            let result = match answer {
                Ok(answer) => {
                    usage += answer.usage;
                    match clean(brief, answer.value) {
                        Ok(article) => {
                            articles.push(article);
                            Ok(())
                        }
                        Err(problem) => Err(problem),
                    }
                }
                Err(error) => Err(item_error(error, !articles.is_empty())?),
            };
            if let Err((code, message)) = &result {
                tracing::warn!(writer_task_id = brief.id, code, message, "article not written");
            }
            outcomes.push((brief.id, result));
            ctx.progress(
                "AI_CALL",
                (10 + 80 * (index + 1) / briefs.len()) as u8,
                format!("{} of {} articles done", index + 1, briefs.len()),
            )?;
        }
        if articles.is_empty() {
            let outcomes: Vec<Outcome> = outcomes
                .into_iter()
                .map(|(id, result)| Outcome { id, result: result.map(|()| Value::Null) })
                .collect();
            return Err(all_failed(&outcomes));
        }

        ctx.progress("SAVE", 95, format!("Saving {} articles", articles.len()))?;
        let ids = reserve_content_ids(ctx, account_id, &mut articles).await?;
        let outcomes: Vec<Outcome> = outcomes
            .into_iter()
            .map(|(id, result)| Outcome {
                id,
                result: result.map(|()| {
                    let (content_id, words) =
                        ids.iter().find(|entry| entry.0 == id).map_or((0, 0), |e| (e.1, e.2));
                    json!({ "content_id": content_id, "word_count": words })
                }),
            })
            .collect();
        let words: u64 = articles.iter().map(|article| u64::try_from(article.word_count).unwrap_or(0)).sum();
        let task_id = ctx.task().id;
        let charge = Charge {
            account_id,
            operation: Operation::Content,
            units: words,
            task_id: Some(task_id),
            model: clients.generator.model().to_owned(),
            usage,
            related: None,
            cost_usd: None,
        };
        let mut result = batch_result("writer_task_id", &outcomes);
        if let Some(fields) = result.as_object_mut() {
            fields.insert("words".into(), json!(words));
            fields.insert("model".into(), json!(charge.model));
            fields.insert("credits_charged".into(), json!(charge.credits()));
            fields.insert("tokens".into(), json!(usage.total()));
        }
        let failed: Vec<i64> = outcomes.iter().filter(|o| o.result.is_err()).map(|o| o.id).collect();
        let account = AccountId(account_id);
        Ok(Completion::new(result).with_effects(move |conn| {
            for article in &articles {
                let stored_id = content::save_generated(conn, account, TaskId(task_id), article)?;
                if stored_id != article.id {
                    // Another run wrote this writer task's article in between; ours replaced it
                    // in place.
                    tracing::warn!(
                        writer_task_id = article.writer_task_id,
                        stored_id,
                        reported = article.id,
                        "content id changed"
                    );
                }
            }
            tasks::settle_in_progress(conn, account, &failed)?;
            if charge.units > 0 {
                billing::charge(conn, &charge)?;
            }
            Ok(())
        }))
    }
}

async fn load_briefs(ctx: &TaskContext, account: AccountId, ids: Vec<i64>) -> Result<Vec<Brief>, TaskError> {
    let found =
        shared::db::run(ctx.pool(), move |conn| tasks::briefs(conn, account, &ids, PROMPT_KEYWORDS as i64))
            .await?;
    if found.is_empty() {
        return Err(TaskError::fatal("no_writer_tasks", "none of the writer tasks exist in this account"));
    }
    Ok(found.into_iter().map(brief).collect())
}

/// The brief as the prompt shows it: the task's own keywords then its cluster's, each once;
/// the default tone when the site's profile sets none.
fn brief(found: TaskBrief) -> Brief {
    let TaskBrief { task, cluster_keywords, author_profile, strategy } = found;
    let mut keywords = strings(&task.keywords);
    keywords.extend(cluster_keywords);
    let mut seen = std::collections::HashSet::new();
    keywords.retain(|keyword| seen.insert(keyword.to_lowercase()));
    keywords.truncate(PROMPT_KEYWORDS);
    let (tone, persona) = author_profile.map(|profile| (profile.tone, profile.persona)).unwrap_or_default();
    let (audience, guidelines) =
        strategy.map(|strategy| (strategy.target_audience, strategy.guidelines)).unwrap_or_default();
    Brief {
        id: task.id,
        site_id: task.site_id,
        sector_id: task.sector_id,
        word_count: task.words_to_write(),
        title: task.title,
        content_type: task.content_type,
        keywords,
        outline: strings(&task.outline),
        tone: if tone.trim().is_empty() { DEFAULT_TONE.to_owned() } else { tone },
        persona,
        audience,
        guidelines,
    }
}

/// The non-empty strings of a JSON array (writer tasks store keywords and outlines so).
fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(|item| item.trim().to_owned())
                .filter(|item| !item.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn request(template: &str, brief: &Brief) -> ChatRequest {
    let mut system =
        "You are an expert content writer for an SEO team. Write in clean HTML using h2, h3, p, \
                      ul, ol, li, strong, em, a and blockquote only. Answer with JSON only."
            .to_owned();
    for (label, value) in
        [("Write as", &brief.persona), ("Audience", &brief.audience), ("Guidelines", &brief.guidelines)]
    {
        if !value.trim().is_empty() {
            system.push_str(&format!("\n{label}: {}", value.trim()));
        }
    }
    system.push_str(&format!("\nLength: about {} words.", brief.word_count));
    ChatRequest {
        prompt_type: PromptType::ContentGeneration,
        system,
        user: render(
            template,
            &[
                ("title", &brief.title),
                ("keywords", &brief.keywords.join(", ")),
                ("outline", &brief.outline.join("; ")),
                ("tone", &brief.tone),
            ],
        ),
        context: json!({
            "title": brief.title,
            "keywords": brief.keywords,
            "outline": brief.outline,
            "tone": brief.tone,
            "word_count": brief.word_count,
        }),
        json: true,
        max_tokens: Some(
            u32::try_from(brief.word_count).unwrap_or(1_500).saturating_mul(2).clamp(1_000, 16_000),
        ),
        temperature: Some(0.7),
    }
}

/// The answer as it will be stored: sanitized HTML, meta fields within their limits, words
/// counted from what is left. An article with no text left is the item's failure.
/// Its id is reserved later ([`reserve_content_ids`]).
fn clean(brief: &Brief, answer: ArticleAnswer) -> Result<GeneratedArticle, (String, String)> {
    let html = sanitize(&answer.html);
    let words = word_count(&html);
    if words == 0 {
        return Err((
            "ai_empty_article".to_owned(),
            "the model's article has no text once sanitized".to_owned(),
        ));
    }
    let title = match answer.title.trim() {
        "" => brief.title.clone(),
        title => title.chars().take(300).collect(),
    };
    let meta_title = match answer.meta_title.trim() {
        "" => truncate_at_word(&title, META_TITLE_MAX),
        meta => truncate_at_word(meta, META_TITLE_MAX),
    };
    let primary = match answer.primary_keyword.trim() {
        "" => brief.keywords.first().cloned().unwrap_or_default(),
        keyword => keyword.chars().take(200).collect(),
    };
    let secondary: Vec<String> = answer
        .secondary_keywords
        .into_iter()
        .map(|keyword| keyword.trim().chars().take(200).collect::<String>())
        .filter(|keyword| !keyword.is_empty())
        .take(20)
        .collect();
    Ok(GeneratedArticle {
        id: 0,
        site_id: brief.site_id,
        sector_id: brief.sector_id,
        writer_task_id: brief.id,
        title,
        meta_title,
        meta_description: truncate_at_word(&answer.meta_description, META_DESCRIPTION_MAX),
        html_content: html,
        word_count: i32::try_from(words).unwrap_or(i32::MAX),
        primary_keyword: primary,
        secondary_keywords: Value::from(secondary),
        content_type: brief.content_type.clone(),
    })
}

/// Gives each article its content id before the result is written (see
/// [`content::reserve_ids`]). Returns (writer task id, content id, words) per article.
async fn reserve_content_ids(
    ctx: &TaskContext,
    account_id: i64,
    articles: &mut [GeneratedArticle],
) -> Result<Vec<(i64, i64, i32)>, TaskError> {
    let account = AccountId(account_id);
    let writer_task_ids: Vec<i64> = articles.iter().map(|article| article.writer_task_id).collect();
    let ids = shared::db::run(ctx.pool(), move |conn| content::reserve_ids(conn, account, &writer_task_ids))
        .await?;
    Ok(articles
        .iter_mut()
        .zip(ids)
        .map(|(article, id)| {
            article.id = id;
            (article.writer_task_id, id, article.word_count)
        })
        .collect())
}
