//! `writer.generate_content`: an article per writer task, sanitized before it is stored, each
//! item on its own (see the module docs of `writer`). The writer tasks are `in_progress` while
//! the task runs; the ones not written go back to `review` (they have an article) or `draft`. The articles, the writer tasks' move to
//! `review` and one `content` charge for the words written go in the task's transaction.

use std::sync::Arc;

use diesel::{prelude::*, upsert::excluded};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::{
    ai::{self, ChatRequest, PromptType, TokenUsage, prompts::render},
    billing::{self, Charge, Operation},
    db::schema::{author_profiles, content, keywords, sites, strategies, writer_tasks},
    tasks::GenerateContent,
    tasks::writer::GenerateContentPayload,
    writer::{DEFAULT_WORDS, TaskStatus},
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

/// Words assumed for a writer task that does not say how long it should be.
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

/// An article ready to store.
struct Article {
    writer_task: usize,
    content_id: i64,
    title: String,
    meta_title: String,
    meta_description: String,
    html: String,
    words: i32,
    primary_keyword: String,
    secondary_keywords: Value,
}

#[async_trait::async_trait]
impl KindHandler for GenerateContentHandler {
    type Kind = GenerateContent;

    async fn run(&self, ctx: &TaskContext, payload: GenerateContentPayload) -> Result<Completion, TaskError> {
        let account_id = ctx.task().account_id;
        ctx.progress("LOAD", 5, "Loading writer tasks")?;
        let briefs = load_briefs(ctx, account_id, payload.writer_task_ids).await?;
        let ids: Vec<i64> = briefs.iter().map(|brief| brief.id).collect();
        let in_progress = ids.clone();
        shared::db::run(ctx.pool(), move |conn| {
            diesel::update(writer_tasks::table.filter(writer_tasks::account_id.eq(account_id)))
                .filter(writer_tasks::id.eq_any(in_progress))
                .set((
                    writer_tasks::status.eq(TaskStatus::InProgress),
                    writer_tasks::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await?;
        let written = self.write(ctx, account_id, briefs).await;
        if written.is_err() {
            // Not written after all: back to where they stood (best effort; a redelivery
            // starts over anyway).
            let settled = shared::db::run(ctx.pool(), move |conn| settle(conn, account_id, &ids)).await;
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
        let mut articles: Vec<Article> = Vec::new();
        let mut usage = TokenUsage::default();
        for (index, brief) in briefs.iter().enumerate() {
            let answer =
                ai::chat_json::<ArticleAnswer>(clients.generator.as_ref(), request(&template, brief)).await;
            let result = match answer {
                Ok(answer) => {
                    usage += answer.usage;
                    match clean(index, brief, answer.value) {
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
        let ids = reserve_content_ids(ctx, &briefs, &mut articles).await?;
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
        let words: u64 = articles.iter().map(|article| u64::try_from(article.words).unwrap_or(0)).sum();
        let task_id = ctx.task().id;
        let charge = Charge {
            account_id,
            operation: Operation::Content,
            units: words,
            task_id: Some(task_id),
            model: clients.generator.model().to_owned(),
            usage,
            related: None,
        };
        let mut result = batch_result("writer_task_id", &outcomes);
        if let Some(fields) = result.as_object_mut() {
            fields.insert("words".into(), json!(words));
            fields.insert("model".into(), json!(charge.model));
            fields.insert("credits_charged".into(), json!(charge.credits()));
            fields.insert("tokens".into(), json!(usage.total()));
        }
        let failed: Vec<i64> = outcomes.iter().filter(|o| o.result.is_err()).map(|o| o.id).collect();
        Ok(Completion::new(result).with_effects(move |conn| {
            for article in articles {
                let brief = &briefs[article.writer_task];
                store(conn, account_id, task_id, brief, article)?;
            }
            settle(conn, account_id, &failed)?;
            if charge.units > 0 {
                billing::charge(conn, &charge)?;
            }
            Ok(())
        }))
    }
}

async fn load_briefs(ctx: &TaskContext, account_id: i64, ids: Vec<i64>) -> Result<Vec<Brief>, TaskError> {
    type Row = (i64, i64, Option<i64>, Option<i64>, String, String, Value, Value, i32);
    let briefs = shared::db::run(ctx.pool(), move |conn| {
        // Another account's ids match nothing here.
        let rows: Vec<Row> = writer_tasks::table
            .filter(writer_tasks::account_id.eq(account_id))
            .filter(writer_tasks::id.eq_any(ids))
            .order(writer_tasks::id)
            .select((
                writer_tasks::id,
                writer_tasks::site_id,
                writer_tasks::sector_id,
                writer_tasks::cluster_id,
                writer_tasks::title,
                writer_tasks::content_type,
                writer_tasks::keywords,
                writer_tasks::outline,
                writer_tasks::word_count,
            ))
            .load(conn)?;
        rows.into_iter()
            .map(
                |(
                    id,
                    site_id,
                    sector_id,
                    cluster_id,
                    title,
                    content_type,
                    own_keywords,
                    outline,
                    word_count,
                )| {
                    let mut keywords = strings(&own_keywords);
                    if let Some(cluster_id) = cluster_id {
                        let cluster: Vec<String> = keywords::table
                            .filter(keywords::account_id.eq(account_id))
                            .filter(keywords::cluster_id.eq(cluster_id))
                            .order((keywords::volume.desc(), keywords::id))
                            .limit(PROMPT_KEYWORDS as i64)
                            .select(keywords::keyword)
                            .load(conn)?;
                        keywords.extend(cluster);
                    }
                    let mut seen = std::collections::HashSet::new();
                    keywords.retain(|keyword| seen.insert(keyword.to_lowercase()));
                    keywords.truncate(PROMPT_KEYWORDS);
                    let (profile, strategy): (Option<i64>, Option<i64>) = sites::table
                        .find(site_id)
                        .filter(sites::account_id.eq(account_id))
                        .select((sites::author_profile_id, sites::strategy_id))
                        .first(conn)?;
                    let (tone, persona): (String, String) = match profile {
                        Some(profile) => author_profiles::table
                            .find(profile)
                            .filter(author_profiles::account_id.eq(account_id))
                            .select((author_profiles::tone, author_profiles::persona))
                            .first(conn)
                            .optional()?
                            .unwrap_or_default(),
                        None => Default::default(),
                    };
                    let (audience, guidelines): (String, String) = match strategy {
                        Some(strategy) => strategies::table
                            .find(strategy)
                            .filter(strategies::account_id.eq(account_id))
                            .select((strategies::target_audience, strategies::guidelines))
                            .first(conn)
                            .optional()?
                            .unwrap_or_default(),
                        None => Default::default(),
                    };
                    Ok(Brief {
                        id,
                        site_id,
                        sector_id,
                        title,
                        content_type,
                        keywords,
                        outline: strings(&outline),
                        word_count: if word_count > 0 { word_count } else { DEFAULT_WORDS },
                        tone: if tone.trim().is_empty() {
                            shared::writer_settings::DEFAULT_TONE.to_owned()
                        } else {
                            tone
                        },
                        persona,
                        audience,
                        guidelines,
                    })
                },
            )
            .collect::<shared::Result<Vec<_>>>()
    })
    .await?;
    if briefs.is_empty() {
        return Err(TaskError::fatal("no_writer_tasks", "none of the writer tasks exist in this account"));
    }
    Ok(briefs)
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
fn clean(writer_task: usize, brief: &Brief, answer: ArticleAnswer) -> Result<Article, (String, String)> {
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
    Ok(Article {
        writer_task,
        content_id: 0,
        title,
        meta_title,
        meta_description: truncate_at_word(&answer.meta_description, META_DESCRIPTION_MAX),
        html,
        words: i32::try_from(words).unwrap_or(i32::MAX),
        primary_keyword: primary,
        secondary_keywords: Value::from(secondary),
    })
}

/// Gives each article its content id before the result is written: the existing row of its
/// writer task (generating again replaces it), else a fresh id from the sequence. Returns
/// (writer task id, content id, words) per article.
async fn reserve_content_ids(
    ctx: &TaskContext,
    briefs: &[Brief],
    articles: &mut [Article],
) -> Result<Vec<(i64, i64, i32)>, TaskError> {
    let writer_task_ids: Vec<i64> = articles.iter().map(|article| briefs[article.writer_task].id).collect();
    let ids = shared::db::run(ctx.pool(), move |conn| {
        let existing: Vec<(Option<i64>, i64)> = content::table
            .filter(content::writer_task_id.eq_any(&writer_task_ids))
            .select((content::writer_task_id, content::id))
            .load(conn)?;
        writer_task_ids
            .iter()
            .map(|writer_task_id| match existing.iter().find(|row| row.0 == Some(*writer_task_id)) {
                Some((_, id)) => Ok(*id),
                None => Ok(diesel::select(next_content_id()).get_result::<i64>(conn)?),
            })
            .collect::<shared::Result<Vec<i64>>>()
    })
    .await?;
    Ok(articles
        .iter_mut()
        .zip(ids)
        .map(|(article, id)| {
            article.content_id = id;
            (briefs[article.writer_task].id, id, article.words)
        })
        .collect())
}

/// A fresh id from the `content` table's sequence.
fn next_content_id() -> diesel::expression::SqlLiteral<diesel::sql_types::BigInt> {
    diesel::dsl::sql::<diesel::sql_types::BigInt>("nextval('content_id_seq')")
}

/// Writer tasks still `in_progress` go back to where they stand without this run: `review`
/// when they have an article, else `draft`.
fn settle(conn: &mut PgConnection, account_id: i64, ids: &[i64]) -> shared::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let with_article: Vec<i64> = content::table
        .filter(content::account_id.eq(account_id))
        .filter(content::writer_task_id.eq_any(ids))
        .select(content::writer_task_id.assume_not_null())
        .load(conn)?;
    for (status, wanted) in [(TaskStatus::Review, true), (TaskStatus::Draft, false)] {
        let chosen: Vec<i64> = ids.iter().copied().filter(|id| with_article.contains(id) == wanted).collect();
        diesel::update(writer_tasks::table.filter(writer_tasks::account_id.eq(account_id)))
            .filter(writer_tasks::id.eq_any(chosen))
            .filter(writer_tasks::status.eq(TaskStatus::InProgress))
            .set((writer_tasks::status.eq(status), writer_tasks::updated_at.eq(diesel::dsl::now)))
            .execute(conn)?;
    }
    Ok(())
}

/// Writes one article (replacing its writer task's earlier one) and moves the task to review.
fn store(
    conn: &mut PgConnection,
    account_id: i64,
    task_id: uuid::Uuid,
    brief: &Brief,
    article: Article,
) -> shared::Result<()> {
    let stored_id: i64 = diesel::insert_into(content::table)
        .values((
            content::id.eq(article.content_id),
            content::account_id.eq(account_id),
            content::site_id.eq(brief.site_id),
            content::sector_id.eq(brief.sector_id),
            content::writer_task_id.eq(Some(brief.id)),
            content::title.eq(&article.title),
            content::meta_title.eq(&article.meta_title),
            content::meta_description.eq(&article.meta_description),
            content::html_content.eq(&article.html),
            content::word_count.eq(article.words),
            content::primary_keyword.eq(&article.primary_keyword),
            content::secondary_keywords.eq(&article.secondary_keywords),
            content::content_type.eq(&brief.content_type),
            content::task_id.eq(Some(task_id)),
        ))
        .on_conflict(content::writer_task_id)
        .do_update()
        .set((
            content::title.eq(excluded(content::title)),
            content::meta_title.eq(excluded(content::meta_title)),
            content::meta_description.eq(excluded(content::meta_description)),
            content::html_content.eq(excluded(content::html_content)),
            content::word_count.eq(excluded(content::word_count)),
            content::primary_keyword.eq(excluded(content::primary_keyword)),
            content::secondary_keywords.eq(excluded(content::secondary_keywords)),
            content::task_id.eq(excluded(content::task_id)),
            content::updated_at.eq(diesel::dsl::now),
        ))
        .returning(content::id)
        .get_result(conn)?;
    if stored_id != article.content_id {
        // Another run wrote this writer task's article in between; ours replaced it in place.
        tracing::warn!(
            writer_task_id = brief.id,
            stored_id,
            reported = article.content_id,
            "content id changed"
        );
    }
    diesel::update(writer_tasks::table.find(brief.id).filter(writer_tasks::account_id.eq(account_id)))
        .set((
            writer_tasks::status.eq(TaskStatus::Review),
            writer_tasks::word_count.eq(article.words),
            writer_tasks::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(())
}
