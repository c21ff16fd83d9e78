//! Reading settings where code acts on them: [`get`] with a typed [`Key`] (the stored value,
//! else the key it inherits, else the registry's default) and [`module_values`] (every key of
//! a module in effect).

use std::{collections::BTreeMap, marker::PhantomData};

use diesel::prelude::*;
use serde_json::Value;

use super::{KnownKey, Module, Owner, Scope, module_keys, of, registry};
use crate::{Result, db::schema::settings, ids::AccountId};

/// The owner's stored value of a known key, if it stores one that (still) fits the key's
/// kind; a value the registry no longer takes is logged and ignored.
fn stored(
    conn: &mut PgConnection,
    owner: Owner,
    module: Option<Module>,
    known: &KnownKey,
) -> Result<Option<Value>> {
    let value: Option<Value> = settings::table
        .filter(of(owner))
        .filter(settings::module.is_not_distinct_from(module))
        .filter(settings::key.eq(known.key))
        .select(settings::value)
        .first(conn)
        .optional()?;
    Ok(value.and_then(|value| fitting(owner, known, value)))
}

fn fitting(owner: Owner, known: &KnownKey, value: Value) -> Option<Value> {
    if value.is_null() && known.nullable {
        return Some(value);
    }
    let fits = known.kind.normalise(&value);
    if fits.is_none() {
        tracing::warn!(scope = %owner.scope(), key = known.key, %value, "stored setting no longer fits its key; using the default");
    }
    fits
}

/// A known key's value for the owner: stored, else inherited, else the default.
fn effective(
    conn: &mut PgConnection,
    owner: Owner,
    module: Option<Module>,
    known: &KnownKey,
) -> Result<Value> {
    if let Some(value) = stored(conn, owner, module, known)? {
        return Ok(value);
    }
    if let Some((scope, parent_key)) = known.inherits
        && let (Some(parent), Some(parent_known)) =
            (owner.above(scope), registry::known(scope, module, parent_key))
    {
        return effective(conn, parent, module, parent_known);
    }
    Ok(known.default.to_value())
}

/// Every known key of an account's module with its value: stored, else the default.
pub fn module_values(
    conn: &mut PgConnection,
    account: AccountId,
    module: Module,
) -> Result<BTreeMap<&'static str, Value>> {
    let owner = Owner::Modules(account);
    let rows: Vec<(String, Value)> = settings::table
        .filter(of(owner))
        .filter(settings::module.eq(module))
        .select((settings::key, settings::value))
        .load(conn)?;
    Ok(module_keys(module)
        .iter()
        .map(|known| {
            let saved = rows.iter().find(|(key, _)| key == known.key).map(|(_, value)| value.clone());
            let value = saved.and_then(|value| fitting(owner, known, value));
            (known.key, value.unwrap_or_else(|| known.default.to_value()))
        })
        .collect())
}

/// A known key, typed by what code reads it as.
#[derive(Debug)]
pub struct Key<T> {
    pub scope: Scope,
    pub module: Option<Module>,
    pub key: &'static str,
    read: PhantomData<fn() -> T>,
}

impl<T> Clone for Key<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Key<T> {}

impl<T> Key<T> {
    const fn of(scope: Scope, key: &'static str) -> Self {
        Self { scope, module: None, key, read: PhantomData }
    }

    const fn module(module: Module, key: &'static str) -> Self {
        Self { scope: Scope::Modules, module: Some(module), key, read: PhantomData }
    }
}

/// What a setting's JSON value is read as.
pub trait FromSetting: Sized {
    fn from_setting(value: &Value) -> Option<Self>;
}

impl FromSetting for i64 {
    fn from_setting(value: &Value) -> Option<Self> {
        value.as_i64()
    }
}

impl FromSetting for f64 {
    fn from_setting(value: &Value) -> Option<Self> {
        value.as_f64()
    }
}

impl FromSetting for bool {
    fn from_setting(value: &Value) -> Option<Self> {
        value.as_bool()
    }
}

impl FromSetting for String {
    fn from_setting(value: &Value) -> Option<Self> {
        value.as_str().map(str::to_owned)
    }
}

/// The account's time zone (inherits the installation's `default_timezone`).
pub const ACCOUNT_TIMEZONE: Key<String> = Key::of(Scope::Account, "timezone");
/// Ideas per cluster when `auto_generate_ideas` does not say.
pub const PLANNER_IDEAS_PER_CLUSTER: Key<i64> = Key::module(Module::Planner, "ideas_per_cluster");

/// The value of `key` for `owner` (whose scope must be the key's): stored, else inherited,
/// else the registry's default. A key missing from the registry is a programming error,
/// reported as one.
pub fn get<T: FromSetting>(conn: &mut PgConnection, owner: Owner, key: Key<T>) -> Result<T> {
    let unknown = || crate::Error::Config {
        name: format!("setting {}.{}", key.scope, key.key),
        reason: "is read but not a known key of its kind".to_owned(),
    };
    let known = registry::known(key.scope, key.module, key.key)
        .filter(|_| owner.scope() == key.scope)
        .ok_or_else(unknown)?;
    let value = effective(conn, owner, key.module, known)?;
    T::from_setting(&value).ok_or_else(unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_typed_key_is_known_and_reads_its_default() {
        fn reads<T: FromSetting>(key: Key<T>) {
            let known = registry::known(key.scope, key.module, key.key).expect("known");
            assert!(T::from_setting(&known.default.to_value()).is_some(), "{}", key.key);
        }
        reads(ACCOUNT_TIMEZONE);
        reads(PLANNER_IDEAS_PER_CLUSTER);
    }
}
