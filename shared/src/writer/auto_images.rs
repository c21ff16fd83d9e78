//! `writer/images/auto_generate/`: for each article, pending image rows with prompts made from
//! the article itself (a featured image, then one per H2 up to the account's in-article count)
//! and one `writer.generate_images` task to draw them, all in one transaction so the rows and
//! their tasks exist together or not at all.
//!
//! With an `Idempotency-Key`, each article's task carries `<key>:content:<id>`; a retried
//! request finds those tasks and answers them again without touching the images.

use diesel::prelude::*;

use super::images::{self, prompts_from_content};
use crate::{
    Result,
    ai::image_providers::ImageSettings,
    billing::{self, Operation},
    db::models::{Content, Task},
    ids::AccountId,
    plans::{self, Limited},
    tasks::{Enqueued, GenerateImages, NewTask, writer::GenerateImagesPayload},
};

/// One article's drawing task.
#[derive(Debug)]
pub struct Queued {
    pub content_id: i64,
    pub task: Task,
    /// The image rows the task draws, in reading order.
    pub image_ids: Vec<i64>,
    /// The outbox row to hand to the relay after commit; `None` for a replayed request.
    pub outbox_id: Option<i64>,
}

/// Who asks, for the tasks' rows.
#[derive(Clone, Debug)]
pub struct Requester {
    pub account: AccountId,
    pub user_id: Option<i64>,
    pub idempotency_key: Option<String>,
}

impl Requester {
    fn key_for(&self, content_id: i64) -> Option<String> {
        self.idempotency_key.as_ref().map(|key| format!("{key}:content:{content_id}"))
    }
}

/// Makes the images and their tasks for `articles` (already checked to be the account's).
/// Fails with `InsufficientCredits` or `PlanLimit` before writing anything when the account
/// cannot pay for the new images or start the new tasks.
pub fn auto_generate(
    conn: &mut PgConnection,
    who: &Requester,
    articles: &[Content],
    settings: &ImageSettings,
) -> Result<Vec<Queued>> {
    conn.transaction(|conn| {
        let mut queued = Vec::with_capacity(articles.len());
        let mut fresh = Vec::new();
        for article in articles {
            let replay = match who.key_for(article.id) {
                Some(key) => crate::tasks::find_by_idempotency_key(conn, who.account.0, &key)?,
                None => None,
            };
            match replay {
                Some(task) => queued.push(replayed(article.id, task)),
                None => fresh.push((article, prompts_from_content(article, settings))),
            }
        }
        let new_images: usize = fresh.iter().map(|(_, prompts)| prompts.len()).sum();
        if !fresh.is_empty() {
            billing::ensure_affordable(conn, who.account.0, Operation::Images.cost(new_images as u64))?;
            plans::ensure_room(conn, who.account, Limited::AiRequests, fresh.len() as i64)?;
        }
        for (article, prompts) in fresh {
            let image_ids = images::replace_pending(conn, who.account, None, article, prompts)?;
            let payload = GenerateImagesPayload { image_ids: image_ids.clone() };
            let mut task = NewTask::of::<GenerateImages>(who.account.0, &payload);
            task.created_by = who.user_id;
            task.idempotency_key = who.key_for(article.id);
            let Enqueued { task, outbox_id, .. } = crate::tasks::enqueue(conn, task)?;
            queued.push(Queued { content_id: article.id, task, image_ids, outbox_id });
        }
        queued.sort_by_key(|item| articles.iter().position(|article| article.id == item.content_id));
        Ok(queued)
    })
}

fn replayed(content_id: i64, task: Task) -> Queued {
    let image_ids = serde_json::from_value::<GenerateImagesPayload>(task.payload.clone())
        .map(|payload| payload.image_ids)
        .unwrap_or_default();
    Queued { content_id, task, image_ids, outbox_id: None }
}
