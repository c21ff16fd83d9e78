//! The writer's tasks on `worker-content`: `writer.generate_content`, `writer.image_prompts`,
//! `writer.generate_images` and `writer.publish_wordpress`.
//!
//! The three AI tasks work item by item: one item's failure (a malformed answer, a request
//! the provider refuses) is recorded in the result and the others go on. The result lists
//! every item's outcome with `succeeded`/`failed` counts and `failed_ids`, so the failed ones
//! can be sent again alone. A retryable provider error (429, 5xx, timeout) retries the whole task while no
//! item has succeeded yet; after that it fails only its item. An account-wide problem (the
//! key is refused, the settings cannot work) fails the task at once. When every item fails,
//! the task FAILs with `all_items_failed` (its message lists each item's error), so SUCCESS
//! always means something was written.

mod content;
mod html;
mod image_prompts;
mod images;
mod publish;

pub use content::GenerateContentHandler;
pub use image_prompts::ImagePromptsHandler;
pub use images::GenerateImagesHandler;
pub use publish::PublishWordpressHandler;
use serde_json::{Value, json};
use shared::ai::AiError;

use super::planner::ai_error;
use crate::runtime::TaskError;

/// One item's outcome in a batch result.
struct Outcome {
    id: i64,
    result: Result<Value, (String, String)>,
}

/// What a batch reports: each item's outcome (`extra` merged into a success), the counts and
/// the ids to send again.
fn batch_result(id_field: &str, outcomes: &[Outcome]) -> Value {
    let items: Vec<Value> = outcomes
        .iter()
        .map(|outcome| match &outcome.result {
            Ok(extra) => {
                let mut item = json!({ id_field: outcome.id, "status": "succeeded" });
                if let (Some(item), Some(extra)) = (item.as_object_mut(), extra.as_object()) {
                    item.extend(extra.clone());
                }
                item
            }
            Err((code, message)) => json!({
                id_field: outcome.id,
                "status": "failed",
                "error": { "code": code, "message": message },
            }),
        })
        .collect();
    let failed_ids: Vec<i64> = outcomes.iter().filter(|o| o.result.is_err()).map(|o| o.id).collect();
    json!({
        "items": items,
        "succeeded": outcomes.len() - failed_ids.len(),
        "failed": failed_ids.len(),
        "failed_ids": failed_ids,
    })
}

/// Decides what an item's AI error does to the batch: `Err` stops the task (retry it while
/// nothing has succeeded, or an account-wide failure), `Ok` records it against the item.
fn item_error(error: AiError, any_succeeded: bool) -> Result<(String, String), TaskError> {
    let account_wide = matches!(error, AiError::Auth(_) | AiError::Config(_));
    if account_wide || (error.is_retryable() && !any_succeeded) {
        return Err(ai_error(error));
    }
    Ok((error.code().to_owned(), error.to_string()))
}

/// The task's error when no item succeeded.
fn all_failed(outcomes: &[Outcome]) -> TaskError {
    let listing: Vec<String> = outcomes
        .iter()
        .filter_map(|outcome| {
            outcome.result.as_ref().err().map(|(code, message)| (outcome.id, code, message))
        })
        .map(|(id, code, message)| format!("{id}: {code}: {message}"))
        .collect();
    TaskError::fatal("all_items_failed", format!("every item failed: {}", listing.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_result_lists_outcomes_and_failed_ids() {
        let outcomes = vec![
            Outcome { id: 1, result: Ok(json!({ "content_id": 10 })) },
            Outcome { id: 2, result: Err(("ai_malformed_response".into(), "bad".into())) },
        ];
        let result = batch_result("writer_task_id", &outcomes);
        assert_eq!(result["succeeded"], 1);
        assert_eq!(result["failed"], 1);
        assert_eq!(result["failed_ids"], json!([2]));
        assert_eq!(
            result["items"][0],
            json!({ "writer_task_id": 1, "status": "succeeded", "content_id": 10 })
        );
        assert_eq!(result["items"][1]["error"]["code"], "ai_malformed_response");
    }

    #[test]
    fn retryable_errors_retry_the_task_only_before_a_success() {
        let limited = || AiError::RateLimited { retry_after: None };
        assert!(item_error(limited(), false).is_err());
        assert_eq!(item_error(limited(), true).map(|e| e.0), Ok("ai_rate_limited".to_owned()));
        assert!(item_error(AiError::Malformed("x".into()), false).is_ok());
        assert!(item_error(AiError::Auth("no".into()), true).is_err());
    }
}
