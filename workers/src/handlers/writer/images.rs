//! `writer.generate_images`: draws each image row's prompt with the account's image provider,
//! a few at a time, and stores the file in the media store under
//! `images/{account}/{image}.{ext}` (drawing again replaces it). In the task's transaction the
//! drawn rows become `generated` with their file, type and size, the rows that could not be
//! drawn become `failed`, and one `images` charge covers the pictures made (with the
//! provider's own price when it reports one, as Runware does).

use std::sync::Arc;

use futures_util::{StreamExt, stream};
use rust_decimal::Decimal;
use serde_json::json;
use shared::{
    ai::{ImageGenerator, ImageRequest, ImageShape},
    billing::{self, Charge, Operation},
    db::models::Image,
    ids::{AccountId, TaskId},
    media::MediaStore,
    tasks::GenerateImages,
    tasks::writer::GenerateImagesPayload,
    tenant::Scoped,
    writer::{
        ImageStatus, ImageType,
        images::{self, Drawing},
    },
};

use super::{Outcome, all_failed, batch_result, item_error};
use crate::{
    handlers::planner::{AiAccess, ensure_affordable},
    runtime::{Completion, KindHandler, TaskContext, TaskError},
};

/// Pictures drawn at once: image models take seconds each, providers limit concurrency.
const CONCURRENT_DRAWINGS: usize = 3;

pub struct GenerateImagesHandler {
    ai: Arc<AiAccess>,
    media: Arc<dyn MediaStore>,
}

impl GenerateImagesHandler {
    pub fn new(ai: Arc<AiAccess>, media: Arc<dyn MediaStore>) -> Self {
        Self { ai, media }
    }
}

fn shape_of(image_type: ImageType) -> ImageShape {
    match image_type {
        ImageType::Mobile => ImageShape::Portrait,
        ImageType::Featured | ImageType::InArticle | ImageType::Desktop => ImageShape::Landscape,
    }
}

#[async_trait::async_trait]
impl KindHandler for GenerateImagesHandler {
    type Kind = GenerateImages;

    async fn run(&self, ctx: &TaskContext, payload: GenerateImagesPayload) -> Result<Completion, TaskError> {
        let account_id = ctx.task().account_id;
        ctx.progress("LOAD", 5, "Loading images")?;
        let items = load_items(ctx, account_id, payload.image_ids).await?;
        let drawable = items.iter().filter(|item| problem_of(item).is_none()).count();
        ensure_affordable(ctx.pool(), account_id, Operation::Images.cost(drawable as u64)).await?;
        let generator = self.ai.images(ctx.pool(), account_id).await?;

        let mut drawings = stream::iter(items.clone())
            .map(|item| self.draw(generator.clone(), account_id, item))
            .buffered(CONCURRENT_DRAWINGS);
        let mut outcomes = Vec::with_capacity(items.len());
        let mut drawn: Vec<Drawing> = Vec::new();
        // What the provider says the pictures cost, when it says.
        let mut cost_usd: Option<Decimal> = None;
        while let Some((image_id, result)) = drawings.next().await {
            let result = match result {
                Ok((picture, cost)) => {
                    if let Some(cost) = cost {
                        cost_usd = Some(cost_usd.unwrap_or_default() + cost);
                    }
                    let extra = json!({
                        "file_path": picture.file_path,
                        "mime_type": picture.mime_type,
                        "width": picture.width,
                        "height": picture.height,
                    });
                    drawn.push(picture);
                    Ok(extra)
                }
                Err(Problem::Item(code, message)) => Err((code, message)),
                Err(Problem::Ai(error)) => Err(item_error(error, !drawn.is_empty())?),
                Err(Problem::Task(error)) => return Err(error),
            };
            if let Err((code, message)) = &result {
                tracing::warn!(image_id, code, message, "image not drawn");
            }
            outcomes.push(Outcome { id: image_id, result });
            ctx.progress(
                "AI_CALL",
                (10 + 80 * outcomes.len() / items.len()) as u8,
                format!("{} of {} images done", outcomes.len(), items.len()),
            )?;
        }
        drop(drawings);
        if drawn.is_empty() {
            return Err(all_failed(&outcomes));
        }

        let task_id = ctx.task().id;
        let charge = Charge {
            account_id,
            operation: Operation::Images,
            units: drawn.len() as u64,
            task_id: Some(task_id),
            model: generator.model().to_owned(),
            usage: Default::default(),
            related: None,
            cost_usd,
        };
        let mut result = batch_result("image_id", &outcomes);
        if let Some(fields) = result.as_object_mut() {
            fields.insert("model".into(), json!(charge.model));
            fields.insert("credits_charged".into(), json!(charge.credits()));
        }
        let failed: Vec<i64> = outcomes.iter().filter(|o| o.result.is_err()).map(|o| o.id).collect();
        ctx.progress("SAVE", 95, format!("Saving {} images", drawn.len()))?;
        Ok(Completion::new(result).with_effects(move |conn| {
            images::record_drawings(conn, AccountId(account_id), TaskId(task_id), &drawn, &failed)?;
            billing::charge(conn, &charge)?;
            Ok(())
        }))
    }
}

/// Why one image was not drawn.
enum Problem {
    /// The row cannot be drawn as it is; recorded against it.
    Item(String, String),
    /// The provider failed; `item_error` decides what that does to the batch.
    Ai(shared::ai::AiError),
    /// Stops the task (the media store failed).
    Task(TaskError),
}

/// Why a row cannot be drawn, before asking any provider.
fn problem_of(item: &Image) -> Option<(&'static str, &'static str)> {
    if item.prompt.trim().is_empty() {
        Some(("no_prompt", "the image has no prompt; write image prompts first"))
    } else if item.status == ImageStatus::Published {
        Some(("already_published", "the image is published; create a new image instead"))
    } else {
        None
    }
}

impl GenerateImagesHandler {
    /// Draws and stores one row's picture; gives back the row's id with the outcome.
    async fn draw(
        &self,
        generator: Arc<dyn ImageGenerator>,
        account_id: i64,
        item: Image,
    ) -> (i64, Result<(Drawing, Option<Decimal>), Problem>) {
        if let Some((code, message)) = problem_of(&item) {
            return (item.id, Err(Problem::Item(code.to_owned(), message.to_owned())));
        }
        let request = ImageRequest { prompt: item.prompt.clone(), shape: shape_of(item.image_type) };
        let picture = match generator.generate(&request).await {
            Ok(picture) => picture,
            Err(error) => return (item.id, Err(Problem::Ai(error))),
        };
        let key = format!("images/{account_id}/{}.{}", item.id, picture.format.extension());
        if let Err(error) = self.media.put(&key, picture.bytes).await {
            return (
                item.id,
                Err(Problem::Task(TaskError::retryable("media_store_failed", error.to_string()))),
            );
        }
        let drawn = Drawing {
            image_id: item.id,
            file_path: key,
            mime_type: picture.format.mime_type().to_owned(),
            width: i32::try_from(picture.width).unwrap_or(i32::MAX),
            height: i32::try_from(picture.height).unwrap_or(i32::MAX),
        };
        (item.id, Ok((drawn, picture.cost_usd)))
    }
}

async fn load_items(ctx: &TaskContext, account_id: i64, ids: Vec<i64>) -> Result<Vec<Image>, TaskError> {
    let account = AccountId(account_id);
    let items =
        shared::db::run(ctx.pool(), move |conn| Image::find_many(conn, &account.into(), &ids)).await?;
    if items.is_empty() {
        return Err(TaskError::fatal("no_images", "none of the images exist in this account"));
    }
    Ok(items)
}
