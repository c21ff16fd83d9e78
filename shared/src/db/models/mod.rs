//! Row structs, one file per table group. Enums stored as text (`TaskState`, `Role`) map
//! through [`crate::db::text_enum::text_sql`] so a bad value in the database is an error, not a panic.

mod account;
mod billing;
mod outbox;
mod planner;
mod schedule;
mod seo;
mod site;
mod system;
mod task;
mod writer;

pub use account::{Account, AuthSession, NewUser, RefreshToken, User};
pub use billing::{CreditTransaction, CreditUsageLog};
pub use outbox::{NewOutboxRow, OutboxRow};
pub use planner::{Industry, SeedKeyword, WriterTask};
pub use schedule::Schedule;
pub use seo::SeoAuditSummary;
pub use site::{Sector, Site};
pub use system::{AiPrompt, IntegrationSetting};
pub use task::{NewTaskRow, Task, TaskAttempt};
pub use writer::{AuthorProfile, Content, Image, Strategy};

// The planner's rows live with their rules; re-exported here with the other rows.
pub use crate::planner::{Cluster, ContentIdea, Keyword};
