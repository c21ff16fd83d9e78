//! `writer.publish_wordpress`: puts a content item on its site's WordPress.
//!
//! The content's drawn images go to the media library first; each upload is recorded on its
//! image row at once (not with the task's result), so a retry after a failed publish never
//! uploads a picture twice. The featured image becomes the post's featured media and each
//! in-article image is placed after its section's H2. A content item that was published
//! before is updated in place (re-created when someone deleted the post on the site). A
//! create is never retried blindly: when an earlier attempt may have created the post before
//! its answer was lost, the post is looked up by slug and taken over only when its title is
//! ours and it was made after this task was queued.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::json;
use shared::{
    crypto::SecretBox,
    db::models::Content,
    ids::AccountId,
    media::MediaStore,
    net::OutboundGuard,
    tasks::PublishWordpress,
    tasks::writer::{PublishWordpressPayload, WordPressStatus},
    tenant::Scoped,
    wordpress::{self, ClientSettings, Credentials, Post, PostInput, WordPressClient, WordPressError},
    writer::{
        ImageType,
        content::{self, Publication},
        images::{self, ImageFile},
    },
};

use super::html::{Figure, h2_headings, with_figures};
use crate::runtime::{Completion, KindHandler, TaskContext, TaskError};

pub struct PublishWordpressHandler {
    secret_box: SecretBox,
    guard: OutboundGuard,
    media: Arc<dyn MediaStore>,
}

impl PublishWordpressHandler {
    pub fn new(config: &shared::Config, media: Arc<dyn MediaStore>) -> Self {
        Self { secret_box: config.secret_box.clone(), guard: config.ai.outbound.clone(), media }
    }
}

/// A picture in the site's media library.
struct Uploaded {
    image_id: i64,
    image_type: ImageType,
    media_id: i64,
    url: String,
}

fn wordpress_error(error: WordPressError) -> TaskError {
    TaskError::outside(error.is_retryable(), error.code(), error.to_string(), error.retry_after())
}

#[async_trait::async_trait]
impl KindHandler for PublishWordpressHandler {
    type Kind = PublishWordpress;

    async fn run(
        &self,
        ctx: &TaskContext,
        payload: PublishWordpressPayload,
    ) -> Result<Completion, TaskError> {
        let account = AccountId(ctx.task().account_id);
        ctx.progress("LOAD", 5, "Loading the content")?;
        let (article, credentials, pictures) = self.load(ctx, account, payload.content_id).await?;
        let client = self.client(article.site_id, credentials)?;

        let total = pictures.len();
        ctx.progress("UPLOAD", 15, format!("Uploading {total} images"))?;
        let mut uploaded = Vec::with_capacity(total);
        for (index, picture) in pictures.into_iter().enumerate() {
            if let Some(done) = self.upload(ctx, &client, account, &article, picture).await? {
                uploaded.push(done);
            }
            ctx.progress(
                "UPLOAD",
                (15 + 50 * (index + 1) / total) as u8,
                format!("{} of {total} images", index + 1),
            )?;
        }

        ctx.progress("PUBLISH", 70, "Sending the post")?;
        let post = post_input(&article, &uploaded, payload.status);
        let (post, action) = self.send(ctx, &client, &article, &post).await?;
        tracing::info!(content_id = article.id, wp_post_id = post.id, action, "published to WordPress");

        let result = json!({
            "content_id": article.id,
            "wp_post_id": post.id,
            "wp_post_url": post.link,
            "wp_status": post.status,
            "action": action,
            "images_uploaded": uploaded.len(),
        });
        let publication = Publication {
            wp_post_id: post.id,
            wp_post_url: post.link,
            live: payload.status == WordPressStatus::Publish,
            image_ids: uploaded.iter().map(|picture| picture.image_id).collect(),
        };
        Ok(Completion::new(result)
            .with_effects(move |conn| content::record_publication(conn, account, &article, &publication)))
    }
}

impl PublishWordpressHandler {
    fn client(&self, site_id: i64, credentials: Option<Credentials>) -> Result<WordPressClient, TaskError> {
        let Some(credentials) = credentials else {
            return Err(TaskError::fatal(
                "wordpress_not_connected",
                format!(
                    "site {site_id} has no WordPress connection; set it at /api/v1/auth/sites/{site_id}/wordpress/"
                ),
            ));
        };
        let settings = ClientSettings { guard: self.guard.clone(), ..ClientSettings::default() };
        WordPressClient::new(&credentials, settings).map_err(wordpress_error)
    }

    /// The picture in the site's media library: uploaded now and recorded at once, or as an
    /// earlier run uploaded it. `None` when its file is gone.
    async fn upload(
        &self,
        ctx: &TaskContext,
        client: &WordPressClient,
        account: AccountId,
        article: &Content,
        picture: ImageFile,
    ) -> Result<Option<Uploaded>, TaskError> {
        if let (Some(media_id), Some(url)) = (picture.wp_media_id, picture.wp_media_url.clone()) {
            return Ok(Some(Uploaded {
                image_id: picture.id,
                image_type: picture.image_type,
                media_id,
                url,
            }));
        }
        let Some(bytes) = self.media.get(&picture.file_path).await? else {
            tracing::warn!(
                image_id = picture.id,
                file = picture.file_path,
                "image file missing; not uploaded"
            );
            return Ok(None);
        };
        let extension = picture.file_path.rsplit_once('.').map_or("png", |(_, extension)| extension);
        let filename = format!(
            "{}-{}-{}.{extension}",
            wordpress::slugify(&article.title),
            picture.image_type,
            picture.id
        );
        let mime_type = picture.mime_type.clone().unwrap_or_else(|| "image/png".to_owned());
        let media = client
            .upload_media(bytes, &filename, &mime_type, &article.title)
            .await
            .map_err(wordpress_error)?;
        let (image_id, media_id, url) = (picture.id, media.id, media.source_url.clone());
        shared::db::run(ctx.pool(), move |conn| {
            images::record_upload(conn, account, image_id, media_id, &url)
        })
        .await?;
        Ok(Some(Uploaded {
            image_id: picture.id,
            image_type: picture.image_type,
            media_id: media.id,
            url: media.source_url,
        }))
    }

    /// Updates the post we made before, or creates one; says which it did.
    async fn send(
        &self,
        ctx: &TaskContext,
        client: &WordPressClient,
        article: &Content,
        post: &PostInput,
    ) -> Result<(Post, &'static str), TaskError> {
        let existing = match article.wp_post_id {
            Some(id) => Some(id),
            // An earlier attempt may have created the post and lost the answer.
            None if ctx.task().attempts > 1 => self.created_earlier(ctx, client, post).await?,
            None => None,
        };
        if let Some(id) = existing {
            match client.update_post(id, post).await {
                Ok(updated) => return Ok((updated, "updated")),
                // Deleted on the site: publish it again.
                Err(WordPressError::NotFound(_)) => {
                    tracing::info!(wp_post_id = id, "post deleted on the site; creating it again");
                }
                Err(error) => return Err(wordpress_error(error)),
            }
        }
        let created = client.create_post(post).await.map_err(wordpress_error)?;
        Ok((created, "created"))
    }

    async fn created_earlier(
        &self,
        ctx: &TaskContext,
        client: &WordPressClient,
        post: &PostInput,
    ) -> Result<Option<i64>, TaskError> {
        let queued_at = ctx.task().created_at;
        let candidates = client.posts_with_slug(&post.slug).await.map_err(wordpress_error)?;
        Ok(candidates
            .into_iter()
            .find(|candidate| {
                candidate.title.raw.as_deref() == Some(post.title.as_str())
                    && candidate.date_gmt.as_deref().and_then(parse_gmt).is_some_and(|date| date >= queued_at)
            })
            .map(|candidate| candidate.id))
    }
}

fn parse_gmt(value: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S").ok().map(|naive| naive.and_utc())
}

/// The post: the article with its in-article pictures after their H2s (the k-th in reading
/// order after the k-th H2), the first featured picture as featured media.
fn post_input(article: &Content, uploaded: &[Uploaded], status: WordPressStatus) -> PostInput {
    let headings = h2_headings(&article.html_content);
    let figures: Vec<Figure> = uploaded
        .iter()
        .filter(|picture| picture.image_type == ImageType::InArticle)
        .enumerate()
        .map(|(index, picture)| Figure {
            after_h2: index,
            src: picture.url.clone(),
            alt: headings.get(index).cloned().unwrap_or_else(|| article.title.clone()),
        })
        .collect();
    let featured_media = uploaded
        .iter()
        .find(|picture| picture.image_type == ImageType::Featured)
        .map_or(0, |picture| picture.media_id);
    PostInput {
        title: article.title.clone(),
        content: with_figures(&article.html_content, &figures),
        excerpt: article.meta_description.clone(),
        status: status.as_str().to_owned(),
        slug: wordpress::slugify(&article.title),
        featured_media,
    }
}

impl PublishWordpressHandler {
    async fn load(
        &self,
        ctx: &TaskContext,
        account: AccountId,
        content_id: i64,
    ) -> Result<(Content, Option<Credentials>, Vec<ImageFile>), TaskError> {
        let secret_box = self.secret_box.clone();
        let found = shared::db::run(ctx.pool(), move |conn| {
            let Some(article) = Content::find(conn, &account.into(), content_id)? else {
                return Ok(None);
            };
            let credentials = wordpress::site_credentials(conn, &secret_box, account.0, article.site_id)?;
            let pictures = images::files_to_publish(conn, account, article.id)?;
            Ok(Some((article, credentials, pictures)))
        })
        .await?;
        found.ok_or_else(|| TaskError::fatal("no_content", "the content item does not exist in this account"))
    }
}
