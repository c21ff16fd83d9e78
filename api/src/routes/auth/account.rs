//! register, me, change-password, accept-invite.

use actix_web::{HttpResponse, get, post, web};
use diesel::Connection;
use serde::Deserialize;
use shared::{
    auth::{Role, hash_password, sha256_hex, verify_password},
    db::models::NewUser,
    user_profiles::{self, ProfileChange},
    users,
};

use super::{
    throttle,
    views::{AccessibleSite, Me, MeAnswer, UserAnswer, UserData, UserView},
};
use crate::{
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{ApiJson, AuthUser, Validate},
    state::AppState,
    validation,
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({
    "email": "ada@example.com",
    "password": "correct horse battery",
    "password_confirm": "correct horse battery",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "account_name": "Analytical Engines Ltd"
}))]
pub struct RegisterRequest {
    #[schema(format = Email, max_length = 254)]
    email: String,
    #[schema(min_length = 8, max_length = 128)]
    password: String,
    /// The same as `password`.
    #[schema(min_length = 8, max_length = 128)]
    password_confirm: String,
    #[serde(default)]
    #[schema(max_length = 150)]
    first_name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 150)]
    last_name: Option<String>,
    /// Digits, spaces, `()-`, optionally a leading `+` (OmniSell).
    #[serde(default)]
    #[schema(max_length = 20, example = "+233501234567")]
    phone: Option<String>,
    /// The new account's name (default: "<email user>'s account").
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    account_name: Option<String>,
}

impl Validate for RegisterRequest {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        validation::email(&mut errors, "email", &self.email);
        validation::password(&mut errors, "password", &self.password);
        validation::confirmation(&mut errors, "password_confirm", &self.password_confirm, &self.password);
        validation::optional_text(&mut errors, "first_name", self.first_name.as_deref(), 150);
        validation::optional_text(&mut errors, "last_name", self.last_name.as_deref(), 150);
        if let Some(phone) = &self.phone {
            super::profile::phone(&mut errors, "phone", phone);
        }
        if let Some(name) = &self.account_name {
            validation::text(&mut errors, "account_name", name, 200);
        }
        validation::finish(errors)
    }
}

/// Creates an account and its owner (no token needed); log in afterwards.
#[utoipa::path(
    tag = "auth",
    security(()),
    request_body = RegisterRequest,
    responses(
        (status = 201, body = UserAnswer),
        (status = 409, description = "A user with this email already exists (`email_taken`).", body = ErrorBody),
    ),
)]
#[post("/register")]
pub async fn register(
    state: web::Data<AppState>,
    body: ApiJson<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    let email = request.email.trim().to_lowercase();
    throttle::spend(&state, &email)?;
    let password = request.password;
    let hash = web::block(move || hash_password(&password)).await.map_err(ApiError::internal)??;
    let account_name = request
        .account_name
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|| format!("{}'s account", email.split('@').next().unwrap_or("New")));
    let new_user = NewUser {
        account_id: 0,
        email,
        password_hash: Some(hash),
        role: Role::Owner,
        first_name: request.first_name.unwrap_or_default().trim().to_owned(),
        last_name: request.last_name.unwrap_or_default().trim().to_owned(),
        is_active: true,
        invite_token_hash: None,
        invite_expires_at: None,
    };
    let phone = request.phone.map(|phone| phone.trim().to_owned()).filter(|phone| !phone.is_empty());
    let view = state
        .db(move |conn| {
            conn.transaction(|conn| {
                let owner = users::register(conn, &account_name, new_user)?;
                if phone.is_some() {
                    user_profiles::save(conn, owner.id, ProfileChange { phone, ..ProfileChange::default() })?;
                }
                UserView::with_account(owner, conn)
            })
        })
        .await
        .map_err(|error| match error {
            ApiError::Conflict { .. } => {
                ApiError::conflict("email_taken", "email", "A user with this email already exists.")
            }
            other => other,
        })?;
    Ok(HttpResponse::Created().json(UserAnswer::new(view, "Registration successful")))
}

/// The caller, their account and profile, and the sites they can work on.
#[utoipa::path(tag = "auth", responses((status = 200, body = MeAnswer)))]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let user = me_of(&state, &auth).await?;
    Ok(HttpResponse::Ok().json(MeAnswer { success: true, user: user.clone(), data: UserData { user } }))
}

/// The caller as `me` shows them.
pub(super) async fn me_of(state: &AppState, auth: &AuthUser) -> Result<Me, ApiError> {
    let (user_id, account) = (auth.user_id, auth.account());
    let (view, sites) = state
        .db(move |conn| {
            let user = users::get(conn, user_id)?;
            let sites = shared::sites::of_account(conn, account)?;
            Ok((UserView::with_account(user, conn)?, sites))
        })
        .await?;
    let accessible_sites = sites
        .into_iter()
        .map(|site| AccessibleSite {
            id: site.id,
            name: site.name,
            slug: site.slug,
            is_active: site.is_active,
        })
        .collect();
    Ok(Me { user: view, accessible_sites })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ChangePasswordRequest {
    #[schema(min_length = 1)]
    old_password: String,
    #[schema(min_length = 8, max_length = 128)]
    new_password: String,
    /// The same as `new_password`.
    #[schema(min_length = 8, max_length = 128)]
    new_password_confirm: String,
}

impl Validate for ChangePasswordRequest {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.old_password.is_empty() {
            validation::push(&mut errors, "old_password", "This field may not be blank.");
        }
        validation::password(&mut errors, "new_password", &self.new_password);
        validation::confirmation(
            &mut errors,
            "new_password_confirm",
            &self.new_password_confirm,
            &self.new_password,
        );
        validation::finish(errors)
    }
}

/// Changes the password and logs out every other session of the user. A wrong
/// `old_password` is a 400 naming it.
#[utoipa::path(
    tag = "auth",
    request_body = ChangePasswordRequest,
    responses((status = 200, body = crate::response::Message)),
)]
#[post("/change-password")]
pub async fn change_password(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: ApiJson<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let ChangePasswordRequest { old_password, new_password, .. } = body.0;
    let (user_id, now) = (auth.user_id, state.clock.now());
    let (email, current, locked) = state
        .db(move |conn| {
            let user = users::get(conn, user_id)?;
            let (email, hash) = (user.email.to_lowercase(), user.password_hash);
            let locked = throttle::locked_for(conn, &email, now)?;
            Ok((email, hash, locked))
        })
        .await?;
    throttle::spend(&state, &email)?;
    if let Some(retry_after) = locked {
        return Err(throttle::locked(retry_after));
    }
    let new_hash = web::block(move || {
        let matches = current.as_deref().is_some_and(|hash| verify_password(&old_password, hash));
        matches.then(|| hash_password(&new_password))
    })
    .await
    .map_err(ApiError::internal)?;
    let Some(new_hash) = new_hash.transpose()? else {
        // A stolen access token must not become a way to guess the password.
        state.db(move |conn| throttle::record_failure(conn, &email, now)).await?;
        return Err(ApiError::field("old_password", "The current password is incorrect."));
    };
    let session_id = auth.session_id;
    state.db(move |conn| users::set_password(conn, user_id, new_hash, session_id)).await?;
    Ok(crate::response::message("Password changed successfully"))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AcceptInviteRequest {
    /// The invitation token of `POST /api/v1/auth/users/invite`.
    #[schema(min_length = 1, pattern = r"\S")]
    token: String,
    #[schema(min_length = 8, max_length = 128)]
    password: String,
    /// The same as `password`.
    #[schema(min_length = 8, max_length = 128)]
    password_confirm: String,
}

impl Validate for AcceptInviteRequest {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.token.trim().is_empty() {
            validation::push(&mut errors, "token", "This field may not be blank.");
        }
        validation::password(&mut errors, "password", &self.password);
        validation::confirmation(&mut errors, "password_confirm", &self.password_confirm, &self.password);
        validation::finish(errors)
    }
}

/// An invited user chooses a password (no token needed); the user becomes active. An
/// invalid or expired invitation is a 400 naming `token`.
#[utoipa::path(
    tag = "auth",
    security(()),
    request_body = AcceptInviteRequest,
    responses((status = 200, body = UserAnswer)),
)]
#[post("/accept-invite")]
pub async fn accept_invite(
    state: web::Data<AppState>,
    body: ApiJson<AcceptInviteRequest>,
) -> Result<HttpResponse, ApiError> {
    let AcceptInviteRequest { token, password, .. } = body.0;
    let token_hash = sha256_hex(token.trim());
    let hash = web::block(move || hash_password(&password)).await.map_err(ApiError::internal)??;
    let accepted = state
        .db(move |conn| users::accept_invite(conn, &token_hash, hash))
        .await?
        .ok_or_else(|| ApiError::field("token", "This invitation is invalid or has expired."))?;
    Ok(HttpResponse::Ok().json(UserAnswer::new(UserView::from(accepted), "Invitation accepted")))
}
