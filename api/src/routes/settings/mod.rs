//! `/api/v1/system/settings/{system,account,user,modules,ai}/`: settings at five scopes, each a
//! list, create, read, update (PUT and PATCH: the value) and delete, and
//! `settings/modules/module/{module_name}/` (every key of a module with its value in effect).
//! Keys and their kinds are `shared::settings`' registry; an unknown key or a value of the
//! wrong kind is 400 naming `key` or `value`, a second row for a key 409 naming `key`.
//!
//! Who may: every signed-in user reads `system` settings and only operators write them;
//! members read their account's `account`, `modules` and `ai` settings and its admins and
//! owners write them; `user` settings are the caller's own. Another account's (or user's) row
//! is 404.

mod input;
mod schema;

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use serde_json::Value;
use shared::settings::{self, Module, Owner, Scope, Setting, SettingFilter};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use self::{input::*, schema::*};
use super::admin::require_operator;
use crate::{
    error::ApiError,
    extract::{Admin, ApiJson, ApiQuery, AuthUser, PathId},
    response::{self, Flat, PageParams},
    state::AppState,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(by_module)
        .configure(system::configure)
        .configure(account::configure)
        .configure(user::configure)
        .configure(modules::configure)
        .configure(ai::configure);
}

/// The owner of the caller's `scope` settings.
fn owner(scope: Scope, auth: &AuthUser) -> Owner {
    let account = auth.account();
    match scope {
        Scope::System => Owner::System,
        Scope::Account => Owner::Account(account),
        Scope::User => Owner::User { account, user_id: auth.user_id },
        Scope::Modules => Owner::Modules(account),
        Scope::Ai => Owner::Ai(account),
    }
}

/// Writes of system settings: operators only.
async fn operators(state: &AppState, auth: &Admin) -> Result<(), ApiError> {
    require_operator(state, auth).await
}

/// Writes the extractor already allowed (account admins, or the user of their own settings).
async fn allowed<T>(_: &AppState, _: &T) -> Result<(), ApiError> {
    Ok(())
}

const WHAT: &str = "setting";

async fn list_in(
    state: &AppState,
    owner: Owner,
    req: &HttpRequest,
    page: PageParams,
    filter: SettingFilter,
) -> Result<HttpResponse, ApiError> {
    let window = page.window();
    let (rows, count) = state.db(move |conn| settings::list(conn, owner, &filter, window)).await?;
    Ok(response::paginated(req, page, count, rows))
}

async fn retrieve_in(state: &AppState, owner: Owner, id: i64) -> Result<HttpResponse, ApiError> {
    let row = state.db(move |conn| settings::find(conn, owner, id)).await?;
    Ok(response::ok(row.ok_or(ApiError::NotFound { what: WHAT })?))
}

async fn create_in(state: &AppState, owner: Owner, body: impl SettingBody) -> Result<HttpResponse, ApiError> {
    let (module, key, value) = body.parts();
    let key = key.unwrap_or_default();
    let checked = settings::check(owner.scope(), module, &key, &value.unwrap_or(Value::Null))?;
    match state.db(move |conn| settings::create(conn, owner, checked)).await {
        Ok(row) => Ok(response::created(row)),
        Err(ApiError::Conflict { .. }) => Err(ApiError::conflict(
            "already_exists",
            "key",
            format!("There is already a `{key}` setting here; change it (PUT or PATCH) or delete it."),
        )),
        Err(other) => Err(other),
    }
}

async fn update_in(
    state: &AppState,
    owner: Owner,
    id: i64,
    body: impl SettingBody,
) -> Result<HttpResponse, ApiError> {
    let (module, key, value) = body.parts();
    let row = state
        .db(move |conn| settings::find(conn, owner, id))
        .await?
        .ok_or(ApiError::NotFound { what: WHAT })?;
    if let Some(key) = key.filter(|key| *key != row.key) {
        return Err(ApiError::field(
            "key",
            format!("A setting's key does not change: this one is `{}`; create `{key}` instead.", row.key),
        ));
    }
    if let Some(module) = module.filter(|module| Some(*module) != row.module) {
        return Err(ApiError::field(
            "module",
            format!("A setting's module does not change; create a {module} setting instead."),
        ));
    }
    let checked = settings::check(owner.scope(), row.module, &row.key, &value.unwrap_or(Value::Null))?;
    let updated = state.db(move |conn| settings::update(conn, owner, id, checked)).await?;
    Ok(response::ok(updated.ok_or(ApiError::NotFound { what: WHAT })?))
}

async fn delete_in(state: &AppState, owner: Owner, id: i64) -> Result<HttpResponse, ApiError> {
    if state.db(move |conn| settings::delete(conn, owner, id)).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound { what: WHAT })
    }
}

/// The five handlers of one scope: list and read for any signed-in caller (narrowed to the
/// caller's owner of the scope), create, update and delete for a `writer` that passes `gate`.
macro_rules! scope_routes {
    (
        $module:ident {
            scope: $scope:expr, collection: $collection:literal, item: $item:literal,
            list: $query:ty, new: $new:ty as $new_doc:ty, change: $change:ty as $change_doc:ty,
            writer: $writer:ty, gate: $gate:path, who: $who:literal $(,)?
        }
    ) => {
        mod $module {
            use actix_web::{HttpRequest, HttpResponse, delete, get, post, route, web};

            use super::*;
            use crate::{
                error::ErrorBody,
                response::{Data, Page},
            };

            pub(super) fn configure(cfg: &mut ServiceConfig) {
                cfg.service(list).service(create).service(retrieve).service(update).service(remove);
            }

            /// One page of the settings, by module and key.
            #[utoipa::path(
                                                tag = "settings",
                                                params(PageParams, $query),
                                                responses((status = 200, body = Page<Setting>)),
                                            )]
            #[get($collection)]
            async fn list(
                state: web::Data<AppState>,
                auth: AuthUser,
                req: HttpRequest,
                page: PageParams,
                query: ApiQuery<$query>,
            ) -> Result<HttpResponse, ApiError> {
                list_in(&state, owner($scope, &auth), &req, page, query.0.into()).await
            }

            /// Stores a known key's value: 400 naming `key` (not a key here) or `value` (not of
            /// the key's kind), 409 naming `key` when it is already stored.
            #[utoipa::path(
                                                tag = "settings",
                                                description = $who,
                                                request_body = $new_doc,
                                                responses(
                                                    (status = 201, body = Data<Setting>),
                                                    (status = 403, description = $who, body = ErrorBody),
                                                ),
                                            )]
            #[post($collection)]
            async fn create(
                state: web::Data<AppState>,
                auth: $writer,
                body: ApiJson<$new>,
            ) -> Result<HttpResponse, ApiError> {
                $gate(&state, &auth).await?;
                create_in(&state, owner($scope, &auth), body.0).await
            }

            /// One setting.
            #[utoipa::path(
                                                tag = "settings",
                                                params(("id" = i64, Path, description = "The setting id.")),
                                                responses((status = 200, body = Data<Setting>)),
                                            )]
            #[get($item)]
            async fn retrieve(
                state: web::Data<AppState>,
                auth: AuthUser,
                id: PathId<i64>,
            ) -> Result<HttpResponse, ApiError> {
                retrieve_in(&state, owner($scope, &auth), id.0).await
            }

            /// Gives a setting a new value (PUT and PATCH alike), checked against its key.
            #[utoipa::path(
                                                tag = "settings",
                                                description = $who,
                                                params(("id" = i64, Path, description = "The setting id.")),
                                                request_body = $change_doc,
                                                responses(
                                                    (status = 200, body = Data<Setting>),
                                                    (status = 403, description = $who, body = ErrorBody),
                                                ),
                                            )]
            #[route($item, method = "PUT", method = "PATCH")]
            async fn update(
                state: web::Data<AppState>,
                auth: $writer,
                id: PathId<i64>,
                body: ApiJson<$change>,
            ) -> Result<HttpResponse, ApiError> {
                $gate(&state, &auth).await?;
                update_in(&state, owner($scope, &auth), id.0, body.0).await
            }

            /// Deletes a setting: its key is back to its default.
            #[utoipa::path(
                                                tag = "settings",
                                                description = $who,
                                                params(("id" = i64, Path, description = "The setting id.")),
                                                responses(
                                                    (status = 204, description = "Deleted."),
                                                    (status = 403, description = $who, body = ErrorBody),
                                                ),
                                            )]
            #[delete($item)]
            async fn remove(
                state: web::Data<AppState>,
                auth: $writer,
                id: PathId<i64>,
            ) -> Result<HttpResponse, ApiError> {
                $gate(&state, &auth).await?;
                delete_in(&state, owner($scope, &auth), id.0).await
            }
        }
    };
}

scope_routes! {
    system {
        scope: Scope::System, collection: "/settings/system", item: "/settings/system/{id}",
        list: KeyQuery, new: NewSettingBody as NewSystemSetting, change: SettingChangeBody as SystemSettingChange,
        writer: Admin, gate: operators,
        who: "The installation's settings: every signed-in user reads them; only operators (owners and admins of a system account) write.",
    }
}

scope_routes! {
    account {
        scope: Scope::Account, collection: "/settings/account", item: "/settings/account/{id}",
        list: KeyQuery, new: NewSettingBody as NewAccountSetting, change: SettingChangeBody as AccountSettingChange,
        writer: Admin, gate: allowed,
        who: "The account's settings: members read them; admins and owners write.",
    }
}

scope_routes! {
    user {
        scope: Scope::User, collection: "/settings/user", item: "/settings/user/{id}",
        list: KeyQuery, new: NewSettingBody as NewUserSetting, change: SettingChangeBody as UserSettingChange,
        writer: AuthUser, gate: allowed,
        who: "The caller's own settings: only they read and write them.",
    }
}

scope_routes! {
    modules {
        scope: Scope::Modules, collection: "/settings/modules", item: "/settings/modules/{id}",
        list: ModuleKeyQuery, new: NewModuleSettingBody as NewModuleSetting,
        change: ModuleSettingChangeBody as ModuleSettingChange,
        writer: Admin, gate: allowed,
        who: "The account's settings of each module: members read them; admins and owners write.",
    }
}

scope_routes! {
    ai {
        scope: Scope::Ai, collection: "/settings/ai", item: "/settings/ai/{id}",
        list: KeyQuery, new: NewSettingBody as NewAiSetting, change: SettingChangeBody as AiSettingChange,
        writer: Admin, gate: allowed,
        who: "The account's AI settings: members read them; admins and owners write.",
    }
}

/// A module's settings in effect.
#[derive(Clone, Debug, Serialize, ToSchema)]
struct ModuleSettings {
    module: Module,
    /// Every known key of the module with its value: the account's, or the default.
    #[schema(value_type = Object)]
    settings: BTreeMap<&'static str, Value>,
}

/// Every known key of a module with the account's value or its default, at the top level as
/// IGNY8 shows it (`{"module", "settings"}`) and under `data`.
#[utoipa::path(
    tag = "settings",
    params(("module_name" = Module, Path, description = "The module.")),
    responses((status = 200, body = Flat<ModuleSettings>)),
)]
#[get("/settings/modules/module/{module_name}")]
async fn by_module(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let module = Module::parse(&path).ok_or_else(|| {
        ApiError::field("module_name", format!("Unknown module; use one of {}.", Module::words()))
    })?;
    let account = auth.account();
    let values = state.db(move |conn| settings::module_values(conn, account, module)).await?;
    Ok(response::flat(ModuleSettings { module, settings: values }))
}
