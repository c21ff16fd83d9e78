//! X: `POST /2/tweets`, images uploaded first through `POST /2/media/upload`. X has no
//! idempotency key, so an attempt whose outcome is unknown is settled by looking through the
//! account's tweets since the first attempt began.

use async_trait::async_trait;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use super::{Adapter, Api, Insights, Outgoing, Published, count, lookup_since, same_text};
use crate::social::{MediaKind, SocialError};

pub(super) struct XTweets {
    api: Api,
    /// The account's user id: given at connect, or asked of `/2/users/me` once.
    user_id: OnceCell<String>,
}

impl XTweets {
    pub(super) fn new(api: Api, user_id: String) -> Self {
        let known = OnceCell::new();
        if !user_id.is_empty() {
            let _ = known.set(user_id);
        }
        Self { api, user_id: known }
    }

    async fn me(&self) -> Result<Value, SocialError> {
        self.api.json(self.api.get("/2/users/me")).await
    }

    async fn user_id(&self) -> Result<&str, SocialError> {
        self.user_id
            .get_or_try_init(|| async {
                let me = self.me().await?;
                me["data"]["id"]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| SocialError::Malformed("no user id".into()))
            })
            .await
            .map(String::as_str)
    }

    async fn upload(&self, index: usize, url: &str) -> Result<String, SocialError> {
        let file = self.api.fetch_media(index, url).await?;
        if file.kind != MediaKind::Image {
            return Err(SocialError::Rejected(format!("media item {index}: x takes images only here")));
        }
        let part = Part::bytes(file.bytes)
            .file_name(format!("media-{index}"))
            .mime_str(&file.mime)
            .map_err(|error| SocialError::Rejected(format!("media item {index}: {error}")))?;
        let form = Form::new().part("media", part).text("media_category", "tweet_image");
        let body = self.api.json(self.api.post("/2/media/upload").multipart(form)).await?;
        body["data"]["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| SocialError::Malformed("no media id".into()))
    }
}

fn tweet_url(id: &str) -> String {
    format!("https://x.com/i/web/status/{id}")
}

#[async_trait]
impl Adapter for XTweets {
    async fn publish(&self, post: &Outgoing<'_>) -> Result<Published, SocialError> {
        let mut tweet = json!({ "text": post.content });
        if !post.media.is_empty() {
            let mut ids = Vec::with_capacity(post.media.len());
            for (index, url) in post.media.iter().enumerate() {
                ids.push(self.upload(index, url).await?);
            }
            tweet["media"] = json!({ "media_ids": ids });
        }
        let body = self.api.json(self.api.post("/2/tweets").json(&tweet)).await?;
        let id = body["data"]["id"]
            .as_str()
            .ok_or_else(|| SocialError::Malformed("no tweet id".into()))?
            .to_owned();
        Ok(Published { url: tweet_url(&id), remote_id: id })
    }

    async fn find_published(&self, post: &Outgoing<'_>) -> Result<Option<Published>, SocialError> {
        let user_id = self.user_id().await?;
        let since = lookup_since(post).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let request = self.api.get(&format!("/2/users/{user_id}/tweets")).query(&[
            ("max_results", "20"),
            ("start_time", since.as_str()),
            ("tweet.fields", "created_at"),
        ]);
        let body = self.api.json(request).await?;
        let found = body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|tweet| tweet["text"].as_str().is_some_and(|text| same_text(post.content, text)));
        Ok(found
            .and_then(|tweet| tweet["id"].as_str())
            .map(|id| Published { url: tweet_url(id), remote_id: id.to_owned() }))
    }

    async fn check(&self) -> Result<String, SocialError> {
        let me = self.me().await?;
        Ok(format!("@{}", me["data"]["username"].as_str().unwrap_or_default()))
    }

    async fn insights(&self, remote_id: &str) -> Result<Insights, SocialError> {
        let request =
            self.api.get(&format!("/2/tweets/{remote_id}")).query(&[("tweet.fields", "public_metrics")]);
        let body = self.api.json(request).await?;
        // X answers a missing tweet with 200 and an `errors` list.
        if body["data"].is_null() {
            let why = super::error_message(&body["errors"][0]).unwrap_or_else(|| "no such tweet".to_owned());
            return Err(SocialError::Rejected(why));
        }
        let metrics = &body["data"]["public_metrics"];
        Ok(Insights {
            likes: count(&metrics["like_count"]),
            shares: count(&metrics["retweet_count"]),
            replies: count(&metrics["reply_count"]),
            impressions: metrics["impression_count"].as_i64().and_then(|n| i32::try_from(n).ok()),
        })
    }
}
