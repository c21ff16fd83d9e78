//! The writer's settings: author profiles (the voice: tone, persona, language) and strategies
//! (audience and guidelines). A site may name one of each; the writer reads them when it
//! writes for that site. Both are named, can be switched off, and list by name.

use diesel::{pg::Pg, prelude::*};

use crate::{
    db::{
        models::{AuthorProfile, Strategy},
        schema::{author_profiles, strategies},
    },
    owned_table,
    tenant::ListFilter,
};

/// A list of named settings, by name: by activity and a pattern on the name.
#[derive(Debug, Default)]
pub struct NamedFilter {
    pub is_active: Option<bool>,
    /// An ILIKE pattern ([`crate::tenant::contains`]).
    pub name: Option<String>,
}

/// The same narrowing and order for every table of named settings.
macro_rules! named_filter {
    ($table:ident) => {
        impl ListFilter<$table::BoxedQuery<'static, Pg>> for NamedFilter {
            fn narrow(&self, mut query: $table::BoxedQuery<'static, Pg>) -> $table::BoxedQuery<'static, Pg> {
                if let Some(active) = self.is_active {
                    query = query.filter($table::is_active.eq(active));
                }
                if let Some(pattern) = &self.name {
                    query = query.filter($table::name.ilike(pattern.clone()));
                }
                query
            }

            fn order(&self, query: $table::BoxedQuery<'static, Pg>) -> $table::BoxedQuery<'static, Pg> {
                query.order(($table::name, $table::id))
            }
        }
    };
}

/// The columns of a new author profile.
#[derive(Debug, Insertable)]
#[diesel(table_name = author_profiles)]
pub struct AuthorProfileInsertForm {
    pub name: String,
    pub description: String,
    pub tone: String,
    pub persona: String,
    pub language: String,
    pub is_active: bool,
}

/// The columns an update of an author profile may change.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = author_profiles)]
pub struct AuthorProfileUpdateForm {
    pub name: Option<String>,
    pub description: Option<String>,
    pub tone: Option<String>,
    pub persona: Option<String>,
    pub language: Option<String>,
    pub is_active: Option<bool>,
}

/// The tone of a profile created without one.
pub const DEFAULT_TONE: &str = "professional";
/// The language of a profile created without one.
pub const DEFAULT_LANGUAGE: &str = "en";

named_filter!(author_profiles);
owned_table! {
    AuthorProfile {
        table: author_profiles,
        what: "author profile",
        insert: AuthorProfileInsertForm,
        update: AuthorProfileUpdateForm,
        filter: NamedFilter,
    }
}

/// The columns of a new strategy.
#[derive(Debug, Insertable)]
#[diesel(table_name = strategies)]
pub struct StrategyInsertForm {
    pub name: String,
    pub description: String,
    pub target_audience: String,
    pub guidelines: String,
    pub is_active: bool,
}

/// The columns an update of a strategy may change.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = strategies)]
pub struct StrategyUpdateForm {
    pub name: Option<String>,
    pub description: Option<String>,
    pub target_audience: Option<String>,
    pub guidelines: Option<String>,
    pub is_active: Option<bool>,
}

named_filter!(strategies);
owned_table! {
    Strategy { table: strategies, what: "strategy", insert: StrategyInsertForm, update: StrategyUpdateForm, filter: NamedFilter }
}
