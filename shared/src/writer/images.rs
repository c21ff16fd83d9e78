//! Images of content: a featured image, one per section and desktop/mobile variants; made
//! `pending`, prompted and drawn by `worker-content`, `published` with their article.

use diesel::{pg::Pg, prelude::*};

use super::{ImageStatus, ImageType, text::h2_headings};
use crate::{
    Result,
    ai::image_providers::ImageSettings,
    db::{
        models::{Content, Image},
        schema::images,
    },
    ids::{AccountId, TaskId},
    tenant::{ListFilter, Scope},
};

crate::owned_table! {
    Image { table: images, what: "image", site: site_id, insert: NewImage, update: ImageChange, filter: ImageFilter }
}

/// Which images a listing covers; newest first.
#[derive(Clone, Debug, Default)]
pub struct ImageFilter {
    pub image_type: Option<ImageType>,
    pub status: Option<ImageStatus>,
    pub content_id: Option<i64>,
    pub writer_task_id: Option<i64>,
    pub site_id: Option<i64>,
    pub sector_id: Option<i64>,
}

type Query = images::BoxedQuery<'static, Pg>;

impl ListFilter<Query> for ImageFilter {
    fn narrow(&self, mut query: Query) -> Query {
        if let Some(image_type) = self.image_type {
            query = query.filter(images::image_type.eq(image_type));
        }
        if let Some(status) = self.status {
            query = query.filter(images::status.eq(status));
        }
        if let Some(content_id) = self.content_id {
            query = query.filter(images::content_id.eq(content_id));
        }
        if let Some(writer_task_id) = self.writer_task_id {
            query = query.filter(images::writer_task_id.eq(writer_task_id));
        }
        if let Some(site_id) = self.site_id {
            query = query.filter(images::site_id.eq(site_id));
        }
        if let Some(sector_id) = self.sector_id {
            query = query.filter(images::sector_id.eq(sector_id));
        }
        query
    }

    fn order(&self, query: Query) -> Query {
        query.order((images::created_at.desc(), images::id.desc()))
    }
}

/// The images of the account's content `content_id`, in reading order.
pub fn of_content(conn: &mut PgConnection, account: AccountId, content_id: i64) -> Result<Vec<Image>> {
    Ok(images::table
        .filter(images::account_id.eq(account))
        .filter(images::content_id.eq(content_id))
        .order((images::position, images::id))
        .select(Image::as_select())
        .load(conn)?)
}

/// A new image row; its site and sector were checked (or taken from its content).
#[derive(Insertable)]
#[diesel(table_name = images)]
pub struct NewImage {
    pub site_id: i64,
    pub sector_id: Option<i64>,
    pub content_id: Option<i64>,
    pub writer_task_id: Option<i64>,
    pub image_type: ImageType,
    pub prompt: String,
    pub position: i32,
    pub status: ImageStatus,
}

/// What an edit changes; `None` keeps the column.
#[derive(AsChangeset, Default)]
#[diesel(table_name = images)]
pub struct ImageChange {
    pub image_type: Option<ImageType>,
    pub prompt: Option<String>,
    pub position: Option<i32>,
    pub status: Option<ImageStatus>,
    pub site_id: Option<i64>,
    pub sector_id: Option<Option<i64>>,
}

/// Which of the account's images a bulk status change covers: the ids named, all of one
/// content item, or the named ones of it.
pub struct Selection {
    pub ids: Option<Vec<i64>>,
    pub content_id: Option<i64>,
}

/// Sets the status of the selected images of the account; how many changed.
pub fn set_status(
    conn: &mut PgConnection,
    scope: &Scope,
    selection: Selection,
    status: ImageStatus,
) -> Result<usize> {
    let mut target = images::table.filter(crate::visible!(images, scope, site_id)).into_boxed();
    if let Some(ids) = selection.ids {
        target = target.filter(images::id.eq_any(ids));
    }
    if let Some(content_id) = selection.content_id {
        target = target.filter(images::content_id.eq(content_id));
    }
    let chosen: Vec<i64> = target.select(images::id).load(conn)?;
    Ok(diesel::update(images::table.filter(images::id.eq_any(chosen)))
        .set((images::status.eq(status), images::updated_at.eq(diesel::dsl::now)))
        .execute(conn)?)
}

/// The featured image's prompt when nothing better is known than the article's title.
pub fn featured_prompt(title: &str) -> String {
    format!("A hero image for an article titled \"{title}\", no text or logos.")
}

/// An in-article image's prompt for the section under `heading`.
pub fn section_prompt(heading: &str, title: &str) -> String {
    format!("An illustration of \"{heading}\" for an article titled \"{title}\", no text or logos.")
}

/// Prompts made from the article itself, without a model: the featured image from its title
/// (and primary keyword), then one per H2 up to the account's in-article count, each in the
/// account's style.
pub fn prompts_from_content(article: &Content, settings: &ImageSettings) -> Vec<(ImageType, String)> {
    let title = if article.title.trim().is_empty() { &article.meta_title } else { &article.title };
    let mut featured = featured_prompt(title.trim());
    if !article.primary_keyword.trim().is_empty() {
        featured.push_str(&format!(" Topic: {}.", article.primary_keyword.trim()));
    }
    let sections = h2_headings(&article.html_content)
        .into_iter()
        .take(settings.max_in_article_images as usize)
        .map(|heading| (ImageType::InArticle, settings.styled(&section_prompt(&heading, title.trim()))));
    std::iter::once((ImageType::Featured, settings.styled(&featured))).chain(sections).collect()
}

/// Replaces the `pending` images of the account's article with new ones for `prompts`, in
/// reading order (positions from 0), made by task `task` if one made them. Images already
/// drawn or published stay. The new rows' ids, in reading order.
pub fn replace_pending(
    conn: &mut PgConnection,
    account: AccountId,
    task: Option<TaskId>,
    article: &Content,
    prompts: impl IntoIterator<Item = (ImageType, String)>,
) -> Result<Vec<i64>> {
    diesel::delete(
        images::table
            .filter(images::account_id.eq(account))
            .filter(images::content_id.eq(article.id))
            .filter(images::status.eq(ImageStatus::Pending)),
    )
    .execute(conn)?;
    let rows: Vec<_> = prompts
        .into_iter()
        .enumerate()
        .map(|(position, (image_type, prompt))| {
            let image = NewImage {
                site_id: article.site_id,
                sector_id: article.sector_id,
                content_id: Some(article.id),
                writer_task_id: article.writer_task_id,
                image_type,
                prompt,
                position: i32::try_from(position).unwrap_or(i32::MAX),
                status: ImageStatus::Pending,
            };
            (images::account_id.eq(account), images::task_id.eq(task), image)
        })
        .collect();
    let mut ids: Vec<(i32, i64)> = diesel::insert_into(images::table)
        .values(rows)
        .returning((images::position, images::id))
        .get_results(conn)?;
    ids.sort_unstable();
    Ok(ids.into_iter().map(|(_, id)| id).collect())
}

/// A picture drawn for an image and put in the media store.
pub struct Drawing {
    pub image_id: i64,
    /// Its key in the media store.
    pub file_path: String,
    pub mime_type: String,
    pub width: i32,
    pub height: i32,
}

/// Records what task `task` drew for the account: each drawn image `generated` with its file,
/// the images it could not draw (`failed`) `failed`.
pub fn record_drawings(
    conn: &mut PgConnection,
    account: AccountId,
    task: TaskId,
    drawn: &[Drawing],
    failed: &[i64],
) -> Result<()> {
    for drawing in drawn {
        diesel::update(images::table.find(drawing.image_id).filter(images::account_id.eq(account)))
            .set((
                images::status.eq(ImageStatus::Generated),
                images::file_path.eq(&drawing.file_path),
                images::mime_type.eq(&drawing.mime_type),
                images::width.eq(drawing.width),
                images::height.eq(drawing.height),
                images::task_id.eq(Some(task)),
                images::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
    }
    diesel::update(images::table.filter(images::account_id.eq(account)).filter(images::id.eq_any(failed)))
        .set((images::status.eq(ImageStatus::Failed), images::updated_at.eq(diesel::dsl::now)))
        .execute(conn)?;
    Ok(())
}

/// An image with a file, as a publish uploads it.
#[derive(Debug, Queryable)]
pub struct ImageFile {
    pub id: i64,
    pub image_type: ImageType,
    pub file_path: String,
    pub mime_type: Option<String>,
    /// Set once it is in the site's media library.
    pub wp_media_id: Option<i64>,
    pub wp_media_url: Option<String>,
}

/// The featured and in-article images of the account's content `content_id` that have a
/// file (drawn or published), in reading order.
pub fn files_to_publish(
    conn: &mut PgConnection,
    account: AccountId,
    content_id: i64,
) -> Result<Vec<ImageFile>> {
    Ok(images::table
        .filter(images::account_id.eq(account))
        .filter(images::content_id.eq(content_id))
        .filter(images::status.eq_any([ImageStatus::Generated, ImageStatus::Published]))
        .filter(images::image_type.eq_any([ImageType::Featured, ImageType::InArticle]))
        .filter(images::file_path.is_not_null())
        .order((images::position, images::id))
        .select((
            images::id,
            images::image_type,
            images::file_path.assume_not_null(),
            images::mime_type,
            images::wp_media_id,
            images::wp_media_url,
        ))
        .load(conn)?)
}

/// Records that the account's image `id` is in its site's media library as `media_id`, at
/// `url`.
pub fn record_upload(
    conn: &mut PgConnection,
    account: AccountId,
    id: i64,
    media_id: i64,
    url: &str,
) -> Result<()> {
    diesel::update(images::table.find(id).filter(images::account_id.eq(account)))
        .set((images::wp_media_id.eq(Some(media_id)), images::wp_media_url.eq(Some(url))))
        .execute(conn)?;
    Ok(())
}
