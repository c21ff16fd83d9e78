//! A user's profile: the seeds' personal and business fields (003's seller profile, 000's
//! client profile) and their AI preferences. One row per user, made on the first write; until
//! then the user reads the defaults.

use diesel::prelude::*;
use serde::Serialize;

use crate::{Result, db::schema::user_profiles};

crate::db::text_enum::text_enum! {
    /// Whether the user sells as a person or as a company.
    pub enum BusinessType {
        Individual = "individual",
        Business = "business",
    }
}

#[derive(Clone, Debug, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = user_profiles, check_for_backend(diesel::pg::Pg))]
pub struct Profile {
    pub phone: String,
    pub bio: String,
    pub company_name: String,
    pub industry: String,
    pub business_type: BusinessType,
    pub country: String,
    pub city: String,
    /// ISO 4217, upper case.
    pub currency: String,
    pub dark_mode: bool,
    /// Whether the user proved they own their email.
    pub is_verified: bool,
    pub onboarding_completed: bool,
    pub ai_description_enabled: bool,
    pub ai_hashtags_enabled: bool,
    pub ai_replies_enabled: bool,
}

impl Default for Profile {
    /// What a user without a row reads: the table's defaults.
    fn default() -> Self {
        Profile {
            phone: String::new(),
            bio: String::new(),
            company_name: String::new(),
            industry: String::new(),
            business_type: BusinessType::Individual,
            country: String::new(),
            city: String::new(),
            currency: "USD".to_owned(),
            dark_mode: false,
            is_verified: false,
            onboarding_completed: false,
            ai_description_enabled: true,
            ai_hashtags_enabled: true,
            ai_replies_enabled: true,
        }
    }
}

/// What a profile update sets; `None` keeps the field.
#[derive(AsChangeset, Clone, Debug, Default)]
#[diesel(table_name = user_profiles)]
pub struct ProfileChange {
    pub phone: Option<String>,
    pub bio: Option<String>,
    pub company_name: Option<String>,
    pub industry: Option<String>,
    pub business_type: Option<BusinessType>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub currency: Option<String>,
    pub dark_mode: Option<bool>,
    pub onboarding_completed: Option<bool>,
    pub ai_description_enabled: Option<bool>,
    pub ai_hashtags_enabled: Option<bool>,
    pub ai_replies_enabled: Option<bool>,
}

/// The user's profile, or the defaults when they never wrote one.
pub fn of(conn: &mut PgConnection, user_id: i64) -> Result<Profile> {
    let row = user_profiles::table.find(user_id).select(Profile::as_select()).first(conn).optional()?;
    Ok(row.unwrap_or_default())
}

/// Applies `change` to the user's profile, making the row first if there is none.
pub fn save(conn: &mut PgConnection, user_id: i64, change: ProfileChange) -> Result<Profile> {
    use user_profiles as p;
    conn.transaction(|conn| {
        diesel::insert_into(p::table)
            .values(p::user_id.eq(user_id))
            .on_conflict_do_nothing()
            .execute(conn)?;
        Ok(diesel::update(p::table.find(user_id))
            .set((change, p::updated_at.eq(diesel::dsl::now)))
            .returning(Profile::as_returning())
            .get_result(conn)?)
    })
}
