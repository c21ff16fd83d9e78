//! The writer: writer tasks (what to write), the content written for them and its images —
//! their states, stored as text with one mapping each, and their queries. The API and
//! `worker-content` both go through here.

pub mod auto_images;
pub mod content;
pub mod images;
pub mod tasks;
pub mod text;

use crate::db::text_enum::text_enum;

/// The words an article gets when its writer task does not say.
pub const DEFAULT_WORDS: i32 = 1_500;

text_enum! {
    /// Where a writer task stands.
    #[schema(as = WriterTaskStatus)]
    pub enum TaskStatus {
        Draft = "draft",
        /// Its article is being written.
        InProgress = "in_progress",
        /// Written; waiting for a person.
        Review = "review",
        /// Published.
        Completed = "completed",
        Archived = "archived",
    }
}

text_enum! {
    /// Where an article stands.
    #[schema(as = WriterContentStatus)]
    pub enum ContentStatus {
        Draft = "draft",
        Review = "review",
        Published = "published",
        Archived = "archived",
    }
}

text_enum! {
    /// What an image is for.
    #[schema(as = WriterImageType)]
    pub enum ImageType {
        Featured = "featured",
        InArticle = "in_article",
        Desktop = "desktop",
        Mobile = "mobile",
    }
}

text_enum! {
    /// Where an image stands.
    #[schema(as = WriterImageStatus)]
    pub enum ImageStatus {
        /// Waiting for its prompt or its drawing.
        Pending = "pending",
        Generated = "generated",
        Failed = "failed",
        Published = "published",
    }
}
