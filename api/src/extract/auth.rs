use std::{future::Future, pin::Pin};

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use shared::{
    auth::{JwtError, Role, TokenType, sessions},
    site_access,
    tenant::{Scope, SiteAccess},
};
use uuid::Uuid;

use crate::{error::ApiError, state::AppState};

/// The authenticated caller. Built from a valid access token whose user still exists, is
/// active, and whose login session has not been revoked; the role is read fresh from the
/// database so a demotion takes effect at once.
#[derive(Clone, Debug)]
pub struct AuthUser {
    pub user_id: i64,
    pub account_id: i64,
    pub role: Role,
    pub session_id: Uuid,
    pub email: String,
    /// The sites of the account the caller reaches (all but for an editor or viewer granted
    /// some sites).
    pub sites: SiteAccess,
}

impl AuthUser {
    /// The caller's account: the scope of every tenant-owned query.
    pub fn account(&self) -> shared::ids::AccountId {
        shared::ids::AccountId(self.account_id)
    }

    /// What the caller's queries reach: the account, and of its sites those the caller may
    /// see. The scope of every site-owned query.
    pub fn scope(&self) -> Scope {
        Scope::new(self.account(), self.sites.clone())
    }

    /// 404 naming the site unless the caller reaches `site_id` (a site the caller may not see
    /// is, to them, no site at all). The site's account is the query's to check.
    pub fn require_site(&self, site_id: i64) -> Result<(), ApiError> {
        if self.sites.allows(site_id) { Ok(()) } else { Err(ApiError::NotFound { what: "site" }) }
    }

    /// 403 unless the caller's role is at least `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role.at_least(role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("This action needs the {role} role or higher.")))
        }
    }
}

/// Declares an extractor for callers with at least one role: it is an [`AuthUser`] (through
/// `Deref`) whose role was checked before the handler runs, so a handler that takes one cannot
/// forget the check, and a caller below the role gets 403 before the body is read.
macro_rules! role_extractor {
    ($(#[$meta:meta])* $name:ident, $role:expr) => {
        $(#[$meta])*
        #[derive(Clone, Debug)]
        pub struct $name(pub AuthUser);

        impl std::ops::Deref for $name {
            type Target = AuthUser;

            fn deref(&self) -> &AuthUser {
                &self.0
            }
        }

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

            fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
                let user = AuthUser::from_request(req, payload);
                Box::pin(async move {
                    let user = user.await?;
                    user.require($role)?;
                    Ok($name(user))
                })
            }
        }
    };
}

role_extractor!(
    /// A caller who may change the account's content: editor, admin or owner.
    Editor,
    Role::Editor
);
role_extractor!(
    /// A caller who may manage the account: admin or owner.
    Admin,
    Role::Admin
);

/// The token of an `Authorization: Bearer …` header.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|token| !token.is_empty())
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req).map(str::to_owned);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let token = token.ok_or_else(|| {
                ApiError::unauthorized("token_missing", "Authentication credentials were not provided.")
            })?;
            let claims = state.jwt.verify(&token, TokenType::Access).map_err(jwt_error)?;
            let (user_id, session_id) = (claims.user_id, claims.sid);
            let found = current_holder(&state, user_id, session_id).await?;
            let role: Role = found.role.parse().map_err(ApiError::internal)?;
            let sites = site_access::reach(role, found.granted_sites);
            Ok(AuthUser {
                user_id,
                account_id: found.account_id,
                role,
                session_id,
                email: found.email,
                sites,
            })
        })
    }
}

/// The user and session a token names, if they may still act: the user exists and is active,
/// the session is open and the account not suspended (a 401 or 403 naming which otherwise).
pub async fn current_holder(
    state: &AppState,
    user_id: i64,
    session_id: Uuid,
) -> Result<sessions::Holder, ApiError> {
    let found = state.db(move |conn| sessions::holder(conn, user_id, session_id)).await?;
    let Some(found) = found else {
        return Err(ApiError::unauthorized("user_not_found", "The user of this token no longer exists."));
    };
    if !found.is_active {
        return Err(ApiError::unauthorized("user_inactive", "This user is deactivated."));
    }
    if !found.session_active {
        return Err(ApiError::unauthorized("session_revoked", "This session has been logged out."));
    }
    if !found.account_active {
        return Err(ApiError::Forbidden {
            code: "account_suspended",
            message: "This account is suspended.".to_owned(),
        });
    }
    Ok(found)
}

/// Maps token verification failures onto 401s with distinct codes.
pub fn jwt_error(error: JwtError) -> ApiError {
    match error {
        JwtError::Expired => ApiError::unauthorized("token_expired", "The token has expired."),
        JwtError::Invalid => ApiError::unauthorized("token_invalid", "The token is invalid."),
        JwtError::WrongType { .. } => {
            ApiError::unauthorized("token_type_invalid", "This token type cannot be used here.")
        }
    }
}
