//! Mastodon: `POST /api/v1/statuses`, with the post's marker as `Idempotency-Key` (kept by
//! the instance for an hour, so a retried call answers the status it already made) and media
//! uploaded first through `POST /api/v2/media`.

use async_trait::async_trait;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use super::{Adapter, Api, Insights, Outgoing, PROCESSING_POLL, PROCESSING_POLLS, Published, count};
use crate::social::SocialError;

pub(super) struct Mastodon {
    api: Api,
}

impl Mastodon {
    pub(super) fn new(api: Api) -> Self {
        Self { api }
    }

    /// Uploads media item `index`; its id once the instance has processed it.
    async fn upload(&self, index: usize, url: &str) -> Result<String, SocialError> {
        let file = self.api.fetch_media(index, url).await?;
        let part = Part::bytes(file.bytes)
            .file_name(format!("media-{index}"))
            .mime_str(&file.mime)
            .map_err(|error| SocialError::Rejected(format!("media item {index}: {error}")))?;
        let reply =
            self.api.call(self.api.post("/api/v2/media").multipart(Form::new().part("file", part))).await?;
        let id =
            reply.body["id"].as_str().ok_or_else(|| SocialError::Malformed("no media id".into()))?.to_owned();
        // A large file is processed after the upload answers (202, no URL yet); a status
        // cannot attach it until it is done.
        let mut processed = !reply.body["url"].is_null();
        for _ in 0..PROCESSING_POLLS {
            if processed {
                break;
            }
            tokio::time::sleep(PROCESSING_POLL).await;
            let response = self.api.send(self.api.get(&format!("/api/v1/media/{id}"))).await?;
            processed = response.status() == reqwest::StatusCode::OK;
            if !processed && response.status() != reqwest::StatusCode::PARTIAL_CONTENT {
                super::read(response, self.api.dialect).await?;
            }
        }
        if processed { Ok(id) } else { Err(SocialError::Timeout(PROCESSING_POLL * PROCESSING_POLLS)) }
    }
}

#[async_trait]
impl Adapter for Mastodon {
    async fn publish(&self, post: &Outgoing<'_>) -> Result<Published, SocialError> {
        let mut media_ids = Vec::with_capacity(post.media.len());
        for (index, url) in post.media.iter().enumerate() {
            media_ids.push(self.upload(index, url).await?);
        }
        let request = self
            .api
            .post("/api/v1/statuses")
            .header("Idempotency-Key", post.marker)
            .json(&json!({ "status": post.content, "visibility": "public", "media_ids": media_ids }));
        let body = self.api.json(request).await?;
        Ok(Published {
            remote_id: body["id"]
                .as_str()
                .ok_or_else(|| SocialError::Malformed("no status id".into()))?
                .to_owned(),
            url: body["url"].as_str().unwrap_or_default().to_owned(),
        })
    }

    async fn check(&self) -> Result<String, SocialError> {
        let body = self.api.json(self.api.get("/api/v1/accounts/verify_credentials")).await?;
        Ok(format!("@{}", body["acct"].as_str().unwrap_or_default()))
    }

    async fn insights(&self, remote_id: &str) -> Result<Insights, SocialError> {
        let body = self.api.json(self.api.get(&format!("/api/v1/statuses/{remote_id}"))).await?;
        Ok(Insights {
            likes: count(&body["favourites_count"]),
            shares: count(&body["reblogs_count"]),
            replies: count(&body["replies_count"]),
            impressions: None,
        })
    }
}
