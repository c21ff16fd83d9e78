//! `writer.image_prompts`: a featured-image prompt and one per H2 for each content item. In
//! the task's transaction each item's `pending` image rows are replaced by the new ones
//! (images already generated or published stay). Writing prompts costs no credits: the
//! images themselves are charged when `writer.generate_images` makes them.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;
use shared::{
    ai::{self, ChatRequest, PromptType, TokenUsage, prompts::render},
    db::models::Content,
    ids::{AccountId, TaskId},
    tasks::ImagePrompts,
    tasks::writer::ImagePromptsPayload,
    tenant::Scoped,
    writer::{ImageType, images},
};

use super::{
    Outcome, all_failed, batch_result,
    html::{h2_headings, text_of},
    item_error,
};
use crate::{
    handlers::planner::AiAccess,
    runtime::{Completion, KindHandler, TaskContext, TaskError},
};

/// How much of the article's text the prompt shows the model.
const ARTICLE_EXCERPT_CHARS: usize = 6_000;
const PROMPT_MAX_CHARS: usize = 1_000;

pub struct ImagePromptsHandler {
    ai: Arc<AiAccess>,
}

impl ImagePromptsHandler {
    pub fn new(ai: Arc<AiAccess>) -> Self {
        Self { ai }
    }
}

#[derive(Debug, Deserialize)]
struct PromptsAnswer {
    featured: String,
    #[serde(default)]
    in_article: Vec<String>,
}

/// One content item's new image rows: the featured prompt, then one per H2 in order.
struct Prompts {
    item: usize,
    featured: String,
    in_article: Vec<String>,
}

#[async_trait::async_trait]
impl KindHandler for ImagePromptsHandler {
    type Kind = ImagePrompts;

    async fn run(&self, ctx: &TaskContext, payload: ImagePromptsPayload) -> Result<Completion, TaskError> {
        let account_id = ctx.task().account_id;
        ctx.progress("LOAD", 5, "Loading content")?;
        let items = load_items(ctx, account_id, payload.content_ids).await?;
        let (clients, template) =
            self.ai.for_account(ctx.pool(), account_id, PromptType::ImagePrompts).await?;

        let mut outcomes = Vec::with_capacity(items.len());
        let mut written: Vec<Prompts> = Vec::new();
        let mut usage = TokenUsage::default();
        for (index, item) in items.iter().enumerate() {
            let headings = h2_headings(&item.html_content);
            let answer = ai::chat_json::<PromptsAnswer>(
                clients.generator.as_ref(),
                request(&template, item, &headings),
            )
            .await;
            let result = match answer {
                Ok(answer) => {
                    usage += answer.usage;
                    let prompts = clean(index, item, &headings, answer.value);
                    let extra = json!({ "images": 1 + prompts.in_article.len() });
                    written.push(prompts);
                    Ok(extra)
                }
                Err(error) => Err(item_error(error, !written.is_empty())?),
            };
            if let Err((code, message)) = &result {
                tracing::warn!(content_id = item.id, code, message, "image prompts not written");
            }
            outcomes.push(Outcome { id: item.id, result });
            ctx.progress(
                "AI_CALL",
                (10 + 80 * (index + 1) / items.len()) as u8,
                format!("{} of {} items done", index + 1, items.len()),
            )?;
        }
        if written.is_empty() {
            return Err(all_failed(&outcomes));
        }

        let mut result = batch_result("content_id", &outcomes);
        if let Some(fields) = result.as_object_mut() {
            fields.insert("model".into(), json!(clients.generator.model()));
            fields.insert("tokens".into(), json!(usage.total()));
            fields.insert("credits_charged".into(), json!(0));
        }
        let (account, task) = (AccountId(account_id), TaskId(ctx.task().id));
        Ok(Completion::new(result).with_effects(move |conn| {
            for prompts in written {
                let in_reading_order = std::iter::once((ImageType::Featured, prompts.featured))
                    .chain(prompts.in_article.into_iter().map(|prompt| (ImageType::InArticle, prompt)));
                images::replace_pending(conn, account, Some(task), &items[prompts.item], in_reading_order)?;
            }
            Ok(())
        }))
    }
}

async fn load_items(ctx: &TaskContext, account_id: i64, ids: Vec<i64>) -> Result<Vec<Content>, TaskError> {
    let account = AccountId(account_id);
    let items =
        shared::db::run(ctx.pool(), move |conn| Content::find_many(conn, &account.into(), &ids)).await?;
    if items.is_empty() {
        return Err(TaskError::fatal("no_content", "none of the content items exist in this account"));
    }
    Ok(items)
}

fn request(template: &str, item: &Content, headings: &[String]) -> ChatRequest {
    let text = text_of(&item.html_content).split_whitespace().collect::<Vec<_>>().join(" ");
    let excerpt: String = text.chars().take(ARTICLE_EXCERPT_CHARS).collect();
    let article = format!("Title: {}\nSections: {}\n\n{excerpt}", item.title, headings.join("; "));
    ChatRequest {
        prompt_type: PromptType::ImagePrompts,
        system: "You write prompts for an image model. Answer with JSON only.".to_owned(),
        user: render(template, &[("content", &article), ("title", &item.title)]),
        context: json!({ "title": item.title, "headings": headings }),
        json: true,
        max_tokens: Some(2_000),
        temperature: Some(0.7),
    }
}

/// One prompt per H2: the model's, in order, or one made from the heading when it gave fewer.
fn clean(index: usize, item: &Content, headings: &[String], answer: PromptsAnswer) -> Prompts {
    let bounded = |prompt: &str| prompt.trim().chars().take(PROMPT_MAX_CHARS).collect::<String>();
    let featured = match bounded(&answer.featured) {
        prompt if prompt.is_empty() => images::featured_prompt(&item.title),
        prompt => prompt,
    };
    let in_article = headings
        .iter()
        .enumerate()
        .map(|(position, heading)| match answer.in_article.get(position).map(|prompt| bounded(prompt)) {
            Some(prompt) if !prompt.is_empty() => prompt,
            _ => images::section_prompt(heading, &item.title),
        })
        .collect();
    Prompts { item: index, featured, in_article }
}
