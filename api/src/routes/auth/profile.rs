//! The caller's own user and profile in the seeds' shapes: OmniSell's `GET auth/user/me/`
//! (the user's fields at the top level) and `PUT auth/profile/`, the agency's
//! `GET`/`PUT auth/profile/`.

use actix_web::{HttpResponse, get, route, web};
use diesel::Connection;
use serde::Deserialize;
use shared::{
    user_profiles::{self, BusinessType, ProfileChange},
    users::{self, UserChange},
};

use super::{account::me_of, views::Me};
use crate::{
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, AuthUser, Validate},
    response::{self, Flat},
    state::AppState,
    validation,
};

/// The caller as `me` shows them, with every field at the top level too.
#[utoipa::path(tag = "auth", responses((status = 200, body = Flat<Me>)))]
#[get("/user/me")]
pub async fn user_me(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(response::flat(me_of(&state, &auth).await?))
}

/// The caller's user and profile (the same answer as `auth/user/me/`).
#[utoipa::path(tag = "auth", responses((status = 200, body = Flat<Me>)))]
#[get("/profile")]
pub async fn profile(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(response::flat(me_of(&state, &auth).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "first_name": "John",
    "last_name": "Doe",
    "bio": "Seller of premium electronics",
    "company_name": "TechGear Hub",
    "business_type": "business",
    "country": "Ghana",
    "city": "Accra",
    "currency": "GHS",
    "dark_mode": false
}))]
pub struct ProfileInput {
    #[schema(max_length = 150)]
    first_name: Option<String>,
    #[schema(max_length = 150)]
    last_name: Option<String>,
    /// Digits, spaces, `()-`, optionally a leading `+`.
    #[schema(max_length = 20)]
    phone: Option<String>,
    #[schema(max_length = 2000)]
    bio: Option<String>,
    #[schema(max_length = 200)]
    company_name: Option<String>,
    #[schema(max_length = 150)]
    industry: Option<String>,
    business_type: Option<BusinessType>,
    #[schema(max_length = 100)]
    country: Option<String>,
    #[schema(max_length = 100)]
    city: Option<String>,
    /// ISO 4217 code, e.g. `GHS`.
    #[schema(pattern = "^[A-Za-z]{3}$")]
    currency: Option<String>,
    dark_mode: Option<bool>,
    onboarding_completed: Option<bool>,
    ai_description_enabled: Option<bool>,
    ai_hashtags_enabled: Option<bool>,
    ai_replies_enabled: Option<bool>,
}

/// A phone number as the seeds write it (`+233501234567`): 400 naming `field` otherwise.
pub fn phone(errors: &mut FieldErrors, field: &str, value: &str) -> String {
    let value = value.trim();
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value
        .char_indices()
        .all(|(at, c)| c.is_ascii_digit() || matches!(c, ' ' | '(' | ')' | '-') || (c == '+' && at == 0));
    if !value.is_empty() && (!allowed || !(6..=15).contains(&digits) || value.len() > 20) {
        validation::push(errors, field, "Enter a phone number of 6 to 15 digits, e.g. +233501234567.");
    }
    value.to_owned()
}

impl Validate for ProfileInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        let texts = [
            ("first_name", &self.first_name, 150),
            ("last_name", &self.last_name, 150),
            ("bio", &self.bio, 2000),
            ("company_name", &self.company_name, 200),
            ("industry", &self.industry, 150),
            ("country", &self.country, 100),
            ("city", &self.city, 100),
        ];
        for (field, value, max) in texts {
            validation::optional_text(&mut errors, field, value.as_deref(), max);
        }
        if let Some(value) = &self.phone {
            phone(&mut errors, "phone", value);
        }
        if let Some(currency) = &self.currency
            && !(currency.len() == 3 && currency.chars().all(|c| c.is_ascii_alphabetic()))
        {
            validation::push(&mut errors, "currency", "Must be a three-letter ISO 4217 code, e.g. GHS.");
        }
        validation::finish(errors)
    }
}

fn trimmed(value: Option<String>) -> Option<String> {
    value.map(|value| value.trim().to_owned())
}

/// Changes the caller's name and profile; absent fields are kept. Answers as
/// `auth/user/me/`.
#[utoipa::path(
    tag = "auth",
    request_body = ProfileInput,
    responses(
        (status = 200, body = Flat<Me>),
        (status = 400, description = "A field is too long, `phone` or `currency` malformed, `business_type` not `individual` or `business`, or a field unknown (each named).", body = ErrorBody),
    ),
)]
#[route("/profile", method = "PUT", method = "PATCH")]
pub async fn update_profile(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: ApiJson<ProfileInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let name = UserChange {
        first_name: trimmed(input.first_name),
        last_name: trimmed(input.last_name),
        ..UserChange::default()
    };
    let change = ProfileChange {
        phone: trimmed(input.phone),
        bio: trimmed(input.bio),
        company_name: trimmed(input.company_name),
        industry: trimmed(input.industry),
        business_type: input.business_type,
        country: trimmed(input.country),
        city: trimmed(input.city),
        currency: input.currency.map(|code| code.to_ascii_uppercase()),
        dark_mode: input.dark_mode,
        onboarding_completed: input.onboarding_completed,
        ai_description_enabled: input.ai_description_enabled,
        ai_hashtags_enabled: input.ai_hashtags_enabled,
        ai_replies_enabled: input.ai_replies_enabled,
    };
    let user_id = auth.user_id;
    state
        .db(move |conn| {
            conn.transaction(|conn| {
                users::rename(conn, user_id, name)?;
                user_profiles::save(conn, user_id, change).map(drop)
            })
        })
        .await?;
    Ok(response::flat(me_of(&state, &auth).await?))
}
