//! LinkedIn's versioned REST API: `POST /rest/posts` as the member or organization the
//! account's URN names, images uploaded first (`/rest/images?action=initializeUpload`, then a
//! PUT of the bytes). LinkedIn has no idempotency key: an attempt whose outcome is unknown is
//! settled by looking through the author's recent posts.

use async_trait::async_trait;
use reqwest::RequestBuilder;
use serde_json::{Value, json};

use super::{Adapter, Api, Insights, Outgoing, Published, count, lookup_since, same_text};
use crate::social::{MediaKind, SocialError};

/// The API version every `/rest` call names.
const VERSION: &str = "202411";

pub(super) struct LinkedIn {
    api: Api,
    author: String,
}

impl LinkedIn {
    pub(super) fn new(api: Api, author: String) -> Self {
        Self { api, author }
    }

    fn rest(&self, request: RequestBuilder) -> RequestBuilder {
        request.header("LinkedIn-Version", VERSION).header("X-Restli-Protocol-Version", "2.0.0")
    }

    async fn upload(&self, index: usize, url: &str) -> Result<String, SocialError> {
        let file = self.api.fetch_media(index, url).await?;
        if file.kind != MediaKind::Image {
            return Err(SocialError::Rejected(format!(
                "media item {index}: linkedin takes images only here"
            )));
        }
        let start = json!({ "initializeUploadRequest": { "owner": self.author } });
        let body = self
            .api
            .json(self.rest(self.api.post("/rest/images?action=initializeUpload")).json(&start))
            .await?;
        let (Some(upload_url), Some(image)) =
            (body["value"]["uploadUrl"].as_str(), body["value"]["image"].as_str())
        else {
            return Err(SocialError::Malformed("no upload URL or image URN".into()));
        };
        let put = self.api.http.put(upload_url).bearer_auth(&self.api.token).body(file.bytes);
        self.api.call(put).await?;
        Ok(image.to_owned())
    }
}

/// LinkedIn's "little text" commentary: reserved characters escaped, `#word` a hashtag.
fn little_text(content: &str) -> String {
    const RESERVED: &[char] = &['\\', '|', '{', '}', '@', '[', ']', '(', ')', '<', '>', '#', '*', '_', '~'];
    let escape = |text: &str| {
        text.chars().fold(String::with_capacity(text.len()), |mut out, c| {
            if RESERVED.contains(&c) {
                out.push('\\');
            }
            out.push(c);
            out
        })
    };
    let mut out = String::with_capacity(content.len() + 16);
    let mut rest = content;
    while let Some(at) = rest.find('#') {
        out.push_str(&escape(&rest[..at]));
        let tag: String = rest[at + 1..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if tag.is_empty() {
            out.push_str("\\#");
        } else {
            out.push_str(&format!("{{hashtag|\\#|{}}}", escape(&tag)));
        }
        rest = &rest[at + 1 + tag.len()..];
    }
    out.push_str(&escape(rest));
    out
}

fn post_url(urn: &str) -> String {
    format!("https://www.linkedin.com/feed/update/{urn}/")
}

fn encoded(urn: &str) -> String {
    url::form_urlencoded::byte_serialize(urn.as_bytes()).collect()
}

#[async_trait]
impl Adapter for LinkedIn {
    async fn publish(&self, post: &Outgoing<'_>) -> Result<Published, SocialError> {
        let mut images = Vec::with_capacity(post.media.len());
        for (index, url) in post.media.iter().enumerate() {
            images.push(self.upload(index, url).await?);
        }
        let mut body = json!({
            "author": self.author,
            "commentary": little_text(post.content),
            "visibility": "PUBLIC",
            "distribution": { "feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": [] },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": false,
        });
        match images.as_slice() {
            [] => {}
            [image] => body["content"] = json!({ "media": { "id": image } }),
            several => {
                let images: Vec<Value> = several.iter().map(|id| json!({ "id": id })).collect();
                body["content"] = json!({ "multiImage": { "images": images } });
            }
        }
        let reply = self.api.call(self.rest(self.api.post("/rest/posts")).json(&body)).await?;
        // The new post's URN comes in a header; the body is empty.
        let urn = reply
            .headers
            .get("x-restli-id")
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| SocialError::Malformed("no x-restli-id".into()))?
            .to_owned();
        Ok(Published { url: post_url(&urn), remote_id: urn })
    }

    async fn find_published(&self, post: &Outgoing<'_>) -> Result<Option<Published>, SocialError> {
        let request = self.rest(self.api.get("/rest/posts")).query(&[
            ("author", self.author.as_str()),
            ("q", "author"),
            ("count", "20"),
            ("sortBy", "LAST_MODIFIED"),
        ]);
        let posts = self.api.json(request).await?;
        let since = lookup_since(post).timestamp_millis();
        let sent = little_text(post.content);
        let found = posts["elements"].as_array().into_iter().flatten().find(|found| {
            found["commentary"].as_str().is_some_and(|text| same_text(&sent, text))
                && found["createdAt"].as_i64().is_none_or(|at| at >= since)
        });
        Ok(found
            .and_then(|found| found["id"].as_str())
            .map(|urn| Published { url: post_url(urn), remote_id: urn.to_owned() }))
    }

    async fn check(&self) -> Result<String, SocialError> {
        let me = self.api.json(self.api.get("/v2/userinfo")).await?;
        Ok(me["name"].as_str().unwrap_or_default().to_owned())
    }

    async fn insights(&self, remote_id: &str) -> Result<Insights, SocialError> {
        let request = self.rest(self.api.get(&format!("/rest/socialActions/{}", encoded(remote_id))));
        let body = self.api.json(request).await?;
        Ok(Insights {
            likes: count(&body["likesSummary"]["totalLikes"]),
            shares: 0,
            replies: count(&body["commentsSummary"]["aggregatedTotalComments"]),
            impressions: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commentary_escapes_reserved_characters_and_keeps_hashtags() {
        assert_eq!(little_text("Big (news) #launch today"), "Big \\(news\\) {hashtag|\\#|launch} today");
        assert_eq!(little_text("# alone"), "\\# alone");
    }
}
