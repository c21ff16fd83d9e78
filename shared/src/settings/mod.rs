//! Settings: a key and a JSON value per owner, at five scopes (IGNY8's system, account, user,
//! module and AI settings). `system` settings are the installation's; `account`, `modules`
//! and `ai` ones an account's; `user` ones one user's. Which keys exist, of what kind and with
//! what default is the [`registry`]: nothing else can be stored, and a value is checked (and
//! normalised) against its key's kind before it is.
//!
//! One table holds every scope, so the rule "one row per (scope, owner, module, key)" is one
//! unique index. It is not an [`owned_table!`](crate::owned_table) table: system rows have no
//! account and user rows narrow to one user. Instead every query here starts from an
//! [`Owner`], the way the tenant kit starts from an account, so another account's (or
//! another user's) row is indistinguishable from a missing one.
//!
//! Code that acts on a setting reads it through [`get`] with one of the typed [`Key`]s below:
//! the stored value, else the key it inherits from (a user's time zone is the account's, the
//! account's the installation's), else the registry's default.

pub mod kinds;
mod read;
pub mod registry;

use chrono::{DateTime, Utc};
use diesel::{dsl::now, pg::Pg, prelude::*, sql_types::Bool};
use serde::Serialize;
use serde_json::Value;

pub use self::{
    read::{ACCOUNT_TIMEZONE, FromSetting, Key, PLANNER_IDEAS_PER_CLUSTER, get, module_values},
    registry::{KnownKey, known, known_keys, module_keys},
};
use crate::{
    Result,
    db::{schema::settings, text_enum::text_enum},
    ids::AccountId,
    problems::Problems,
    tenant::Window,
};

text_enum! {
    /// Whose settings a row holds.
    #[schema(as = SettingScope)]
    pub enum Scope {
        System = "system",
        Account = "account",
        User = "user",
        Modules = "modules",
        Ai = "ai",
    }
}

text_enum! {
    /// The modules with settings of their own.
    #[schema(as = SettingModule)]
    pub enum Module {
        Planner = "planner",
        Writer = "writer",
        Social = "social",
        Seo = "seo",
        Odoo = "odoo",
    }
}

/// The owner of a set of settings: every read and write here is narrowed to one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    System,
    Account(AccountId),
    User { account: AccountId, user_id: i64 },
    Modules(AccountId),
    Ai(AccountId),
}

impl Owner {
    pub fn scope(self) -> Scope {
        match self {
            Owner::System => Scope::System,
            Owner::Account(_) => Scope::Account,
            Owner::User { .. } => Scope::User,
            Owner::Modules(_) => Scope::Modules,
            Owner::Ai(_) => Scope::Ai,
        }
    }

    fn account(self) -> Option<AccountId> {
        match self {
            Owner::System => None,
            Owner::Account(account) | Owner::Modules(account) | Owner::Ai(account) => Some(account),
            Owner::User { account, .. } => Some(account),
        }
    }

    fn user(self) -> Option<i64> {
        match self {
            Owner::User { user_id, .. } => Some(user_id),
            _ => None,
        }
    }

    /// The owner of `scope` settings above this one (a user's account, an account's
    /// installation); `None` when `scope` is not above it.
    fn above(self, scope: Scope) -> Option<Owner> {
        match (scope, self.account()) {
            (Scope::System, _) => Some(Owner::System),
            (Scope::Account, Some(account)) => Some(Owner::Account(account)),
            _ => None,
        }
    }
}

/// A stored setting. Its scope and owner are never shown: the path says the one, the token the
/// other.
#[derive(Clone, Debug, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = settings, check_for_backend(diesel::pg::Pg))]
pub struct Setting {
    pub id: i64,
    #[serde(skip)]
    pub scope: Scope,
    #[serde(skip)]
    pub account_id: Option<i64>,
    #[serde(skip)]
    pub user_id: Option<i64>,
    /// The module (module settings only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<Module>,
    pub key: String,
    /// The value, of the key's kind.
    pub value: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A known key with a value of its kind, normalised: the only thing [`create`] and [`update`]
/// store. Made by [`check`].
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    module: Option<Module>,
    key: &'static str,
    value: Value,
}

impl Checked {
    pub fn key(&self) -> &'static str {
        self.key
    }

    pub fn value(&self) -> &Value {
        &self.value
    }
}

/// What the list of one owner's settings may be narrowed by.
#[derive(Clone, Debug, Default)]
pub struct SettingFilter {
    pub key: Option<String>,
    pub module: Option<Module>,
}

/// `value` checked against the key `key` of `scope` (and `module`): the value to store, or
/// problems naming `key` (not a key of the scope, with the keys there are), `module` or
/// `value` (not of the key's kind, with what it takes).
pub fn check(scope: Scope, module: Option<Module>, key: &str, value: &Value) -> Result<Checked, Problems> {
    if scope == Scope::Modules && module.is_none() {
        return Err(Problems::one("module", format!("Required: one of {}.", Module::words())));
    }
    let Some(known) = known(scope, module, key) else {
        let keys: Vec<&str> = known_keys(scope, module).iter().map(|known| known.key).collect();
        let whose = module.map_or_else(|| scope.to_string(), |module| module.to_string());
        return Err(Problems::one(
            "key",
            format!("`{key}` is not a {whose} setting; the known keys are {}.", keys.join(", ")),
        ));
    };
    let stored =
        if value.is_null() && known.nullable { Some(Value::Null) } else { known.kind.normalise(value) };
    let Some(value) = stored else {
        let or_null = if known.nullable { " (or null)" } else { "" };
        return Err(Problems::one("value", format!("`{key}` takes {}{or_null}.", known.kind.allowed())));
    };
    Ok(Checked { module, key: known.key, value })
}

type Condition = Box<dyn BoxableExpression<settings::table, Pg, SqlType = Bool>>;

/// The rows of `owner`, and only them.
fn of(owner: Owner) -> Condition {
    let scope: Condition = Box::new(settings::scope.eq(owner.scope()));
    let account: Condition = match owner.account() {
        Some(account) => Box::new(settings::account_id.assume_not_null().eq(account.0)),
        None => Box::new(settings::account_id.is_null()),
    };
    let user: Condition = match owner.user() {
        Some(user_id) => Box::new(settings::user_id.assume_not_null().eq(user_id)),
        None => Box::new(settings::user_id.is_null()),
    };
    Box::new(scope.and(account).and(user))
}

/// One page of the owner's settings matching `filter` (by module, key), and how many match.
pub fn list(
    conn: &mut PgConnection,
    owner: Owner,
    filter: &SettingFilter,
    window: Window,
) -> Result<(Vec<Setting>, i64)> {
    let narrowed = || {
        let mut query = settings::table.filter(of(owner)).into_boxed();
        if let Some(key) = &filter.key {
            query = query.filter(settings::key.eq(key.clone()));
        }
        if let Some(module) = filter.module {
            query = query.filter(settings::module.eq(module));
        }
        query
    };
    let count = narrowed().count().get_result(conn)?;
    let rows = narrowed()
        .order((settings::module, settings::key, settings::id))
        .offset(window.offset)
        .limit(window.limit)
        .select(Setting::as_select())
        .load(conn)?;
    Ok((rows, count))
}

/// The owner's setting `id`, if it has one.
pub fn find(conn: &mut PgConnection, owner: Owner, id: i64) -> Result<Option<Setting>> {
    Ok(settings::table
        .filter(of(owner))
        .filter(settings::id.eq(id))
        .select(Setting::as_select())
        .first(conn)
        .optional()?)
}

/// Stores a new setting of the owner. A second row for the same key (and module) violates
/// `settings_owner_key`.
pub fn create(conn: &mut PgConnection, owner: Owner, setting: Checked) -> Result<Setting> {
    Ok(diesel::insert_into(settings::table)
        .values((
            settings::scope.eq(owner.scope()),
            settings::account_id.eq(owner.account().map(|account| account.0)),
            settings::user_id.eq(owner.user()),
            settings::module.eq(setting.module),
            settings::key.eq(setting.key),
            settings::value.eq(setting.value),
        ))
        .returning(Setting::as_returning())
        .get_result(conn)?)
}

/// Gives the owner's setting `id` the value of `setting` (checked for that row's key);
/// `None` if the owner has no such row, or it is not `setting`'s key.
pub fn update(conn: &mut PgConnection, owner: Owner, id: i64, setting: Checked) -> Result<Option<Setting>> {
    Ok(diesel::update(
        settings::table
            .filter(of(owner))
            .filter(settings::id.eq(id))
            .filter(settings::key.eq(setting.key))
            .filter(settings::module.is_not_distinct_from(setting.module)),
    )
    .set((settings::value.eq(setting.value), settings::updated_at.eq(now)))
    .returning(Setting::as_returning())
    .get_result(conn)
    .optional()?)
}

/// Deletes the owner's setting `id`; whether it had one.
pub fn delete(conn: &mut PgConnection, owner: Owner, id: i64) -> Result<bool> {
    let deleted =
        diesel::delete(settings::table.filter(of(owner)).filter(settings::id.eq(id))).execute(conn)?;
    Ok(deleted > 0)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_check_names_the_key_the_module_or_the_value_with_what_is_allowed() {
        let unknown = check(Scope::Account, None, "colour", &json!("red")).expect_err("unknown key");
        let (field, problem) = unknown.first().expect("a problem");
        assert_eq!(field, "key");
        assert!(problem.contains("timezone") && problem.contains("week_start"), "{problem}");

        let wrong = check(Scope::User, None, "items_per_page", &json!(500)).expect_err("out of bounds");
        assert_eq!(wrong.first(), Some(("value", "`items_per_page` takes a whole number from 1 to 100.")));

        let no_module = check(Scope::Modules, None, "max_pages", &json!(5)).expect_err("no module");
        assert_eq!(no_module.first().map(|(field, _)| field), Some("module"));
        let other_module = check(Scope::Modules, Some(Module::Writer), "max_pages", &json!(5));
        assert_eq!(other_module.expect_err("a seo key").first().map(|(field, _)| field), Some("key"));

        let zone = check(Scope::Account, None, "timezone", &json!("Asia/Tokyo")).expect("a zone");
        assert_eq!(zone.value(), &json!("Asia/Tokyo"));
        let null = check(Scope::Account, None, "notification_email", &Value::Null).expect("nullable");
        assert_eq!(null.value(), &Value::Null);
        assert!(check(Scope::Account, None, "timezone", &Value::Null).is_err());
    }
}
