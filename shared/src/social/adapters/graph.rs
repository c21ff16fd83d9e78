//! Meta's Graph API: Facebook Pages (`/{page}/feed`, `/photos`, `/videos`) and Instagram
//! (a media container, then `/{ig-user}/media_publish`). Graph has no idempotency key: an
//! attempt whose outcome is unknown is settled by looking through the account's recent
//! posts. Graph answers most errors with 400 and a code in the body; [`classify`] reads it.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::{StatusCode, header::HeaderMap};
use serde_json::{Value, json};

use super::{
    Adapter, Api, Insights, Outgoing, PROCESSING_POLL, PROCESSING_POLLS, Published, count, lookup_since,
    same_text,
};
use crate::social::{MediaKind, SocialError};

/// The error a Graph error object means, when it carries a code.
pub(super) fn classify(
    error: &Value,
    headers: &HeaderMap,
    status: StatusCode,
    message: &str,
) -> Option<SocialError> {
    let code = error["code"].as_i64()?;
    let message = message.to_owned();
    Some(match code {
        // An expired, revoked or under-scoped token.
        190 | 102 | 10 | 200..=299 => SocialError::Auth(message),
        // Application, user, page and business throttling.
        4 | 17 | 32 | 613 | 80_001..=80_014 => {
            SocialError::RateLimited { retry_after: regain_access(headers) }
        }
        1 | 2 => SocialError::Server { status: status.as_u16(), message },
        _ if error["is_transient"] == true || status.is_server_error() => {
            SocialError::Server { status: status.as_u16(), message }
        }
        _ => SocialError::Rejected(message),
    })
}

/// The longest `estimated_time_to_regain_access` (minutes) in `X-Business-Use-Case-Usage`.
fn regain_access(headers: &HeaderMap) -> Option<Duration> {
    let usage: Value = serde_json::from_str(headers.get("x-business-use-case-usage")?.to_str().ok()?).ok()?;
    let minutes = usage
        .as_object()?
        .values()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|entry| entry["estimated_time_to_regain_access"].as_u64())
        .max()?;
    (minutes > 0).then(|| Duration::from_secs(minutes * 60))
}

/// Graph's timestamps: `2026-11-29T10:00:00+0000`.
fn graph_time(value: &Value) -> Option<DateTime<Utc>> {
    let text = value.as_str()?;
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z").ok().map(|at| at.with_timezone(&Utc))
}

/// The field names of a listing of an account's posts: the text, the time and the address.
struct Listing {
    text: &'static str,
    time: &'static str,
    url: &'static str,
}

/// The newest of `items` with our text, made since the first attempt.
fn find_ours(items: &Value, post: &Outgoing<'_>, listing: Listing) -> Option<Published> {
    let since = lookup_since(post);
    let found = items["data"].as_array()?.iter().find(|item| {
        item[listing.text].as_str().is_some_and(|found| same_text(post.content, found))
            && graph_time(&item[listing.time]).is_none_or(|at| at >= since)
    })?;
    Some(Published {
        remote_id: found["id"].as_str()?.to_owned(),
        url: found[listing.url].as_str().unwrap_or_default().to_owned(),
    })
}

fn id_of(body: &Value, what: &str) -> Result<String, SocialError> {
    body["id"].as_str().map(str::to_owned).ok_or_else(|| SocialError::Malformed(format!("no {what} id")))
}

pub(super) struct FacebookPage {
    api: Api,
    page_id: String,
}

impl FacebookPage {
    pub(super) fn new(api: Api, page_id: String) -> Self {
        Self { api, page_id }
    }

    async fn form(&self, edge: &str, params: &[(String, String)]) -> Result<Value, SocialError> {
        self.api.json(self.api.post(&format!("/{}/{edge}", self.page_id)).form(params)).await
    }

    /// The post's public address; a guess from its id when Graph does not say.
    async fn permalink(&self, post_id: &str) -> String {
        let request = self.api.get(&format!("/{post_id}")).query(&[("fields", "permalink_url")]);
        match self.api.json(request).await {
            Ok(body) if body["permalink_url"].is_string() => {
                body["permalink_url"].as_str().unwrap_or_default().to_owned()
            }
            _ => format!("https://www.facebook.com/{post_id}"),
        }
    }
}

fn param(name: &str, value: impl Into<String>) -> (String, String) {
    (name.to_owned(), value.into())
}

#[async_trait]
impl Adapter for FacebookPage {
    async fn publish(&self, post: &Outgoing<'_>) -> Result<Published, SocialError> {
        let message = param("message", post.content);
        let post_id = match post.media {
            [] => id_of(&self.form("feed", &[message]).await?, "post")?,
            [video] if MediaKind::of(video) == Some(MediaKind::Video) => {
                let params = [param("file_url", video.as_str()), param("description", post.content)];
                id_of(&self.form("videos", &params).await?, "video")?
            }
            [image] => {
                let body = self.form("photos", &[param("url", image.as_str()), message]).await?;
                body["post_id"].as_str().map(str::to_owned).map_or_else(|| id_of(&body, "photo"), Ok)?
            }
            images => {
                // Several pictures: each uploaded unpublished, then one post attaching them.
                let mut params = vec![message];
                for (index, image) in images.iter().enumerate() {
                    let photo = self
                        .form("photos", &[param("url", image.as_str()), param("published", "false")])
                        .await?;
                    params.push(param(
                        &format!("attached_media[{index}]"),
                        json!({ "media_fbid": id_of(&photo, "photo")? }).to_string(),
                    ));
                }
                id_of(&self.form("feed", &params).await?, "post")?
            }
        };
        Ok(Published { url: self.permalink(&post_id).await, remote_id: post_id })
    }

    async fn find_published(&self, post: &Outgoing<'_>) -> Result<Option<Published>, SocialError> {
        let since = lookup_since(post).timestamp().to_string();
        let request = self.api.get(&format!("/{}/published_posts", self.page_id)).query(&[
            ("fields", "id,message,created_time,permalink_url"),
            ("since", since.as_str()),
            ("limit", "25"),
        ]);
        let posts = self.api.json(request).await?;
        Ok(find_ours(&posts, post, Listing { text: "message", time: "created_time", url: "permalink_url" }))
    }

    async fn check(&self) -> Result<String, SocialError> {
        let request = self.api.get(&format!("/{}", self.page_id)).query(&[("fields", "id,name")]);
        let page = self.api.json(request).await?;
        Ok(page["name"].as_str().unwrap_or_default().to_owned())
    }

    async fn insights(&self, remote_id: &str) -> Result<Insights, SocialError> {
        let fields = "shares,reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)";
        let body = self.api.json(self.api.get(&format!("/{remote_id}")).query(&[("fields", fields)])).await?;
        Ok(Insights {
            likes: count(&body["reactions"]["summary"]["total_count"]),
            shares: count(&body["shares"]["count"]),
            replies: count(&body["comments"]["summary"]["total_count"]),
            impressions: None,
        })
    }
}

pub(super) struct Instagram {
    api: Api,
    user_id: String,
}

impl Instagram {
    pub(super) fn new(api: Api, user_id: String) -> Self {
        Self { api, user_id }
    }

    /// A media container for one image or video (a carousel item when `caption` is `None`).
    async fn container(&self, url: &str, caption: Option<&str>) -> Result<(String, bool), SocialError> {
        let video = MediaKind::of(url) == Some(MediaKind::Video);
        let mut params = if video {
            vec![
                param("media_type", if caption.is_some() { "REELS" } else { "VIDEO" }),
                param("video_url", url),
            ]
        } else {
            vec![param("image_url", url)]
        };
        match caption {
            Some(caption) => params.push(param("caption", caption)),
            None => params.push(param("is_carousel_item", "true")),
        }
        let body = self.api.json(self.api.post(&format!("/{}/media", self.user_id)).form(&params)).await?;
        Ok((id_of(&body, "container")?, video))
    }

    /// Waits while Instagram fetches and processes a video container.
    async fn finished(&self, container: &str) -> Result<(), SocialError> {
        for _ in 0..PROCESSING_POLLS {
            let request = self.api.get(&format!("/{container}")).query(&[("fields", "status_code")]);
            match self.api.json(request).await?["status_code"].as_str().unwrap_or_default() {
                "FINISHED" | "PUBLISHED" => return Ok(()),
                "ERROR" | "EXPIRED" => {
                    return Err(SocialError::Rejected(format!(
                        "Instagram could not process media container {container}"
                    )));
                }
                _ => tokio::time::sleep(PROCESSING_POLL).await,
            }
        }
        Err(SocialError::Timeout(PROCESSING_POLL * PROCESSING_POLLS))
    }
}

#[async_trait]
impl Adapter for Instagram {
    async fn publish(&self, post: &Outgoing<'_>) -> Result<Published, SocialError> {
        let container = match post.media {
            [] => {
                return Err(SocialError::Rejected(
                    "instagram posts need at least one image or video".to_owned(),
                ));
            }
            [single] => {
                let (id, video) = self.container(single, Some(post.content)).await?;
                if video {
                    self.finished(&id).await?;
                }
                id
            }
            items => {
                let mut children = Vec::with_capacity(items.len());
                for item in items {
                    let (id, video) = self.container(item, None).await?;
                    if video {
                        self.finished(&id).await?;
                    }
                    children.push(id);
                }
                let params = [
                    param("media_type", "CAROUSEL"),
                    param("children", children.join(",")),
                    param("caption", post.content),
                ];
                id_of(
                    &self.api.json(self.api.post(&format!("/{}/media", self.user_id)).form(&params)).await?,
                    "container",
                )?
            }
        };
        let request = self
            .api
            .post(&format!("/{}/media_publish", self.user_id))
            .form(&[param("creation_id", container)]);
        let media_id = id_of(&self.api.json(request).await?, "media")?;
        let permalink =
            self.api.json(self.api.get(&format!("/{media_id}")).query(&[("fields", "permalink")])).await;
        let url = permalink.ok().and_then(|body| body["permalink"].as_str().map(str::to_owned));
        Ok(Published {
            url: url.unwrap_or_else(|| "https://www.instagram.com/".to_owned()),
            remote_id: media_id,
        })
    }

    async fn find_published(&self, post: &Outgoing<'_>) -> Result<Option<Published>, SocialError> {
        let request = self
            .api
            .get(&format!("/{}/media", self.user_id))
            .query(&[("fields", "id,caption,permalink,timestamp"), ("limit", "25")]);
        let media = self.api.json(request).await?;
        Ok(find_ours(&media, post, Listing { text: "caption", time: "timestamp", url: "permalink" }))
    }

    async fn check(&self) -> Result<String, SocialError> {
        let request = self.api.get(&format!("/{}", self.user_id)).query(&[("fields", "id,username")]);
        let user = self.api.json(request).await?;
        Ok(format!("@{}", user["username"].as_str().unwrap_or_default()))
    }

    async fn insights(&self, remote_id: &str) -> Result<Insights, SocialError> {
        let request =
            self.api.get(&format!("/{remote_id}")).query(&[("fields", "like_count,comments_count")]);
        let body = self.api.json(request).await?;
        Ok(Insights {
            likes: count(&body["like_count"]),
            shares: 0,
            replies: count(&body["comments_count"]),
            impressions: None,
        })
    }
}
