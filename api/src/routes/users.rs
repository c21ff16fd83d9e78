//! `/api/v1/auth/users/`: the account's users, managed by owners and admins.
//!
//! Rules: admins manage editors and viewers; only an owner creates, changes or removes
//! owners and admins; nobody changes their own role or deletes themselves; an account keeps
//! at least one active owner.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, route, web};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use shared::{
    auth::{Role, hash_password, random_token, sha256_hex},
    db::models::{NewUser, User},
    tenant::Listed,
    users::{self, Refused, UserChange, UserFilter},
};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::auth::views::UserView;
use crate::{
    crud,
    error::{ApiError, ErrorBody, FieldErrors},
    extract::{Admin, ApiJson, ApiQuery, PathId, Validate},
    response::{self, Data, DataWithMessage, Page, PageParams},
    state::AppState,
    validation,
};

const INVITE_TTL_DAYS: i64 = 7;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(invite)
        .service(retrieve)
        .service(update)
        .service(remove)
        .service(activate);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only users with this role.
    role: Option<Role>,
    /// Only active (or only inactive) users.
    is_active: Option<bool>,
    /// Part of the email, first or last name.
    search: Option<String>,
}

/// The account's users, by id (admin or owner).
#[utoipa::path(
    tag = "users",
    params(PageParams, ListQuery),
    responses(
        (status = 200, body = Page<UserView>),
        (status = 403, description = "Admins and owners only.", body = ErrorBody),
    ),
)]
#[get("/users")]
async fn list(
    state: web::Data<AppState>,
    auth: Admin,
    req: HttpRequest,
    page: PageParams,
    query: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery { role, is_active, search } = query.0;
    let filter = UserFilter { role, is_active, search };
    let account = auth.account();
    let window = page.window();
    let (rows, count) = state.db(move |conn| User::list(conn, &account.into(), &filter, window)).await?;
    let views: Vec<UserView> = rows.into_iter().map(UserView::from).collect();
    Ok(response::paginated(&req, page, count, views))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateUser {
    #[schema(format = Email, max_length = 254)]
    email: String,
    #[schema(min_length = 8, max_length = 128)]
    password: String,
    role: Role,
    #[serde(default)]
    #[schema(max_length = 150)]
    first_name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 150)]
    last_name: Option<String>,
}

impl Validate for CreateUser {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        validation::email(&mut errors, "email", &self.email);
        validation::password(&mut errors, "password", &self.password);
        validation::optional_text(&mut errors, "first_name", self.first_name.as_deref(), 150);
        validation::optional_text(&mut errors, "last_name", self.last_name.as_deref(), 150);
        validation::finish(errors)
    }
}

/// Who may grant `role`: owners anything, admins editor and viewer.
fn may_grant(caller: Role, role: Role) -> Result<(), ApiError> {
    if caller == Role::Owner || (caller == Role::Admin && !role.at_least(Role::Admin)) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!("Only an owner can grant the {role} role.")))
    }
}

/// Creates an active user with a password in the caller's account (admin or owner; only
/// owners grant owner and admin).
#[utoipa::path(
    tag = "users",
    request_body = CreateUser,
    responses(
        (status = 201, body = Data<UserView>),
        (status = 403, description = "Not an admin or owner, or an admin granting owner or admin.", body = ErrorBody),
        (status = 409, description = "A user with this email already exists (`email_taken`).", body = ErrorBody),
    ),
)]
#[post("/users")]
async fn create(
    state: web::Data<AppState>,
    auth: Admin,
    body: ApiJson<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    may_grant(auth.role, body.role)?;
    let CreateUser { email, password, role, first_name, last_name } = body.0;
    let hash = web::block(move || hash_password(&password)).await.map_err(ApiError::internal)??;
    let new_user = NewUser {
        account_id: auth.account_id,
        email: email.trim().to_lowercase(),
        password_hash: Some(hash),
        role,
        first_name: first_name.unwrap_or_default().trim().to_owned(),
        last_name: last_name.unwrap_or_default().trim().to_owned(),
        is_active: true,
        invite_token_hash: None,
        invite_expires_at: None,
    };
    let user = insert(&state, new_user).await?;
    Ok(response::created(UserView::from(user)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct InviteUser {
    #[schema(format = Email, max_length = 254)]
    email: String,
    role: Role,
    #[serde(default)]
    #[schema(max_length = 150)]
    first_name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 150)]
    last_name: Option<String>,
}

impl Validate for InviteUser {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        validation::email(&mut errors, "email", &self.email);
        validation::optional_text(&mut errors, "first_name", self.first_name.as_deref(), 150);
        validation::optional_text(&mut errors, "last_name", self.last_name.as_deref(), 150);
        validation::finish(errors)
    }
}

/// Creates an inactive user in the caller's account with a one-time invitation token, which
/// the invitee redeems at `POST /api/v1/auth/accept-invite/` with a password of their choice.
#[utoipa::path(
    tag = "users",
    request_body = InviteUser,
    responses(
        (status = 201, body = DataWithMessage<Invitation>),
        (status = 403, description = "Not an admin or owner, or an admin granting owner or admin.", body = ErrorBody),
        (status = 409, description = "A user with this email already exists (`email_taken`).", body = ErrorBody),
    ),
)]
#[post("/users/invite")]
async fn invite(
    state: web::Data<AppState>,
    auth: Admin,
    body: ApiJson<InviteUser>,
) -> Result<HttpResponse, ApiError> {
    may_grant(auth.role, body.role)?;
    let InviteUser { email, role, first_name, last_name } = body.0;
    let token = random_token(40);
    let expires_at = Utc::now() + Duration::days(INVITE_TTL_DAYS);
    let new_user = NewUser {
        account_id: auth.account_id,
        email: email.trim().to_lowercase(),
        password_hash: None,
        role,
        first_name: first_name.unwrap_or_default().trim().to_owned(),
        last_name: last_name.unwrap_or_default().trim().to_owned(),
        is_active: false,
        invite_token_hash: Some(sha256_hex(&token)),
        invite_expires_at: Some(expires_at),
    };
    let user = insert(&state, new_user).await?;
    Ok(HttpResponse::Created().json(DataWithMessage {
        success: true,
        data: Invitation { user: UserView::from(user), invite_token: token, invite_expires_at: expires_at },
        message: "Invitation created".to_owned(),
    }))
}

/// The invited user and the one-time token to hand to them (shown only here).
#[derive(Serialize, ToSchema)]
struct Invitation {
    user: UserView,
    invite_token: String,
    invite_expires_at: DateTime<Utc>,
}

async fn insert(state: &AppState, new_user: NewUser) -> Result<User, ApiError> {
    state.db(move |conn| users::add(conn, new_user)).await.map_err(|error| match error {
        ApiError::Conflict { .. } => {
            ApiError::conflict("email_taken", "email", "A user with this email already exists.")
        }
        other => other,
    })
}

/// One user of the account (admin or owner).
#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path, description = "The user id.")),
    responses(
        (status = 200, body = Data<UserView>),
        (status = 403, description = "Admins and owners only.", body = ErrorBody),
    ),
)]
#[get("/users/{id}")]
async fn retrieve(
    state: web::Data<AppState>,
    auth: Admin,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(response::ok(UserView::from(crud::find::<User>(&state, auth.scope(), id.0).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateUser {
    role: Option<Role>,
    #[schema(max_length = 150)]
    first_name: Option<String>,
    #[schema(max_length = 150)]
    last_name: Option<String>,
    is_active: Option<bool>,
}

impl Validate for UpdateUser {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        validation::optional_text(&mut errors, "first_name", self.first_name.as_deref(), 150);
        validation::optional_text(&mut errors, "last_name", self.last_name.as_deref(), 150);
        validation::finish(errors)
    }
}

/// Checks that the caller may manage `target` at all (admins only manage editors and viewers).
fn may_manage(auth: &Admin, target: &User) -> Result<(), ApiError> {
    may_grant(auth.role, target.role)
}

/// Changes a user's role, names or active flag; PUT and PATCH both apply the fields sent
/// (partial update).
#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path, description = "The user id.")),
    request_body = UpdateUser,
    responses(
        (status = 200, body = Data<UserView>),
        (status = 403, description = "Not allowed to manage this user or grant this role, or a change of one's own role or a self-deactivation.", body = ErrorBody),
        (status = 422, description = "The account would lose its last active owner (`last_owner`).", body = ErrorBody),
    ),
)]
#[route("/users/{id}", method = "PUT", method = "PATCH")]
async fn update(
    state: web::Data<AppState>,
    auth: Admin,
    id: PathId<i64>,
    body: ApiJson<UpdateUser>,
) -> Result<HttpResponse, ApiError> {
    // The role first: whether an id exists is not a non-admin's to learn.
    let (user_id, change) = (id.0, body.0);
    let target = crud::find::<User>(&state, auth.scope(), user_id).await?;
    may_manage(&auth, &target)?;
    if let Some(role) = change.role {
        if target.id == auth.user_id && role != target.role {
            return Err(ApiError::forbidden("You cannot change your own role."));
        }
        may_grant(auth.role, role)?;
    }
    if target.id == auth.user_id && change.is_active == Some(false) {
        return Err(ApiError::forbidden("You cannot deactivate yourself."));
    }
    let demotes_owner = target.role == Role::Owner
        && (change.role.is_some_and(|role| role != Role::Owner) || change.is_active == Some(false));
    let trimmed = |name: String| name.trim().to_owned();
    let change = UserChange {
        role: change.role,
        first_name: change.first_name.map(trimmed),
        last_name: change.last_name.map(trimmed),
        is_active: change.is_active,
    };
    let account = auth.account();
    let user = state.db(move |conn| users::change(conn, account, user_id, change, demotes_owner)).await?;
    Ok(response::ok(UserView::from(user.map_err(refused)?)))
}

/// Deletes a user (not oneself, not the last active owner).
#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path, description = "The user id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "Not allowed to manage this user, or deleting oneself.", body = ErrorBody),
        (status = 422, description = "The account would lose its last active owner (`last_owner`).", body = ErrorBody),
    ),
)]
#[delete("/users/{id}")]
async fn remove(state: web::Data<AppState>, auth: Admin, id: PathId<i64>) -> Result<HttpResponse, ApiError> {
    let target = crud::find::<User>(&state, auth.scope(), id.0).await?;
    may_manage(&auth, &target)?;
    if target.id == auth.user_id {
        return Err(ApiError::forbidden("You cannot delete yourself."));
    }
    let (account, user_id, owner) = (auth.account(), target.id, target.role == Role::Owner);
    state.db(move |conn| users::remove(conn, account, user_id, owner)).await?.map_err(refused)?;
    Ok(HttpResponse::NoContent().finish())
}

/// Activates a user who has a password (a pending invitation cannot be activated).
#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path, description = "The user id.")),
    responses(
        (status = 200, body = DataWithMessage<UserView>),
        (status = 403, description = "Not allowed to manage this user.", body = ErrorBody),
        (status = 409, description = "The user has not accepted the invitation yet (`invitation_pending`).", body = ErrorBody),
    ),
)]
#[post("/users/{id}/activate")]
async fn activate(
    state: web::Data<AppState>,
    auth: Admin,
    id: PathId<i64>,
) -> Result<HttpResponse, ApiError> {
    let target = crud::find::<User>(&state, auth.scope(), id.0).await?;
    may_manage(&auth, &target)?;
    if target.password_hash.is_none() {
        return Err(ApiError::Conflict {
            code: "invitation_pending",
            message: "This user has not accepted the invitation yet.".into(),
            errors: Default::default(),
        });
    }
    let activate = UserChange { is_active: Some(true), ..UserChange::default() };
    let (account, user_id) = (auth.account(), target.id);
    let user = state.db(move |conn| users::change(conn, account, user_id, activate, false)).await?;
    Ok(response::ok_with_message(UserView::from(user.map_err(refused)?), "User activated"))
}

fn refused(refused: Refused) -> ApiError {
    match refused {
        Refused::LastOwner => ApiError::Unprocessable {
            code: "last_owner",
            message: "An account needs at least one active owner.".into(),
        },
        Refused::NotFound => ApiError::NotFound { what: "user" },
    }
}
