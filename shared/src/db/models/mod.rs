//! Row structs, one file per table group. Enums stored as text (`TaskState`, `Role`) map
//! through [`text_enum`] so a bad value in the database is an error, not a panic.

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
pub use planner::{Cluster, ContentIdea, Industry, Keyword, SeedKeyword, WriterTask};
pub use schedule::Schedule;
pub use seo::SeoAuditSummary;
pub use site::{Sector, Site};
pub use system::{AiPrompt, IntegrationSetting};
pub use task::{NewTaskRow, Task, TaskAttempt};
pub use writer::{AuthorProfile, Content, Image, Strategy};

/// Implements diesel's text conversions for an enum that has `as_str` and `FromStr`.
macro_rules! text_enum {
    ($ty:ty) => {
        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $ty {
            fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    diesel::pg::Pg,
                >>::from_sql(bytes)?;
                text.parse::<$ty>().map_err(Into::into)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }
    };
}
pub(crate) use text_enum;
