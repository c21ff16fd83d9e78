//! The bodies and queries of the settings endpoints, as they are read. Their documented
//! shapes are in `schema` (made from the registry); the key and value are checked against the
//! registry by the handlers, which know the scope.

use serde::{Deserialize, Deserializer};
use serde_json::Value;
use shared::settings::{Module, SettingFilter};
use utoipa::IntoParams;

use crate::{error::FieldErrors, extract::Validate, validation};

/// A present `value`, `null` included (absent is `None`).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

fn require_value(value: &Option<Value>) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    if value.is_none() {
        validation::push(&mut errors, "value", "This field is required.");
    }
    validation::finish(errors)
}

/// What a body names: the module, the key and the value.
pub(super) trait SettingBody {
    fn parts(self) -> (Option<Module>, Option<String>, Option<Value>);
}

/// Create: a key of the scope and its value.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewSettingBody {
    key: String,
    #[serde(default, deserialize_with = "present")]
    value: Option<Value>,
}

/// Create: a module, one of its keys and the value.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewModuleSettingBody {
    module: Module,
    key: String,
    #[serde(default, deserialize_with = "present")]
    value: Option<Value>,
}

/// Update: the new value; the key (and module), if sent, must be the row's.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SettingChangeBody {
    key: Option<String>,
    #[serde(default, deserialize_with = "present")]
    value: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ModuleSettingChangeBody {
    module: Option<Module>,
    key: Option<String>,
    #[serde(default, deserialize_with = "present")]
    value: Option<Value>,
}

impl Validate for NewSettingBody {
    fn validate(&self) -> Result<(), FieldErrors> {
        require_value(&self.value)
    }
}

impl SettingBody for NewSettingBody {
    fn parts(self) -> (Option<Module>, Option<String>, Option<Value>) {
        (None, Some(self.key), self.value)
    }
}

impl Validate for NewModuleSettingBody {
    fn validate(&self) -> Result<(), FieldErrors> {
        require_value(&self.value)
    }
}

impl SettingBody for NewModuleSettingBody {
    fn parts(self) -> (Option<Module>, Option<String>, Option<Value>) {
        (Some(self.module), Some(self.key), self.value)
    }
}

impl Validate for SettingChangeBody {
    fn validate(&self) -> Result<(), FieldErrors> {
        require_value(&self.value)
    }
}

impl SettingBody for SettingChangeBody {
    fn parts(self) -> (Option<Module>, Option<String>, Option<Value>) {
        (None, self.key, self.value)
    }
}

impl Validate for ModuleSettingChangeBody {
    fn validate(&self) -> Result<(), FieldErrors> {
        require_value(&self.value)
    }
}

impl SettingBody for ModuleSettingChangeBody {
    fn parts(self) -> (Option<Module>, Option<String>, Option<Value>) {
        (self.module, self.key, self.value)
    }
}

/// Narrows a list to one key.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct KeyQuery {
    /// Only this key.
    key: Option<String>,
}

/// Narrows a list of module settings to a module, a key, or both.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ModuleKeyQuery {
    /// Only this module.
    module: Option<Module>,
    /// Only this key.
    key: Option<String>,
}

impl From<KeyQuery> for SettingFilter {
    fn from(query: KeyQuery) -> Self {
        SettingFilter { key: query.key, module: None }
    }
}

impl From<ModuleKeyQuery> for SettingFilter {
    fn from(query: ModuleKeyQuery) -> Self {
        SettingFilter { key: query.key, module: query.module }
    }
}
