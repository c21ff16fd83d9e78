//! The documented shape of the settings bodies, built from the registry
//! (`shared::settings::registry`), so the document and the check cannot drift apart. A create
//! body is one alternative per known key (`oneOf`), each fixing `key` (and `module`) and giving
//! `value` that key's type and bounds; time zones are the `IanaTimeZone` enum. What JSON Schema
//! cannot say — a language code outside ISO 639-1 — the check answers with 400 naming `value`.

use std::borrow::Cow;

use shared::settings::{
    KnownKey, Module, Scope,
    kinds::{self, Kind},
    known_keys, module_keys,
};
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        AllOfBuilder, ObjectBuilder, OneOfBuilder, Ref, RefOr, Schema, Type,
        schema::{AdditionalProperties, SchemaType},
    },
};

const TIME_ZONE: &str = "IanaTimeZone";

/// Every IANA time zone name, as the tz database spells it.
fn time_zones() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(kinds::time_zone_names()))
        .description(Some("An IANA time zone name, spelled as the tz database spells it."))
        .into()
}

fn typed(kind: Type, nullable: bool) -> SchemaType {
    if nullable { [kind, Type::Null].into_iter().collect() } else { SchemaType::new(kind) }
}

/// What `value` may be for a key.
fn value_schema(known: &KnownKey) -> RefOr<Schema> {
    let nullable = known.nullable;
    let text = |builder: ObjectBuilder| builder.schema_type(typed(Type::String, nullable));
    let schema = match known.kind {
        Kind::Bool => ObjectBuilder::new().schema_type(typed(Type::Boolean, nullable)),
        Kind::Integer { min, max } => ObjectBuilder::new()
            .schema_type(typed(Type::Integer, nullable))
            .minimum(Some(min as f64))
            .maximum(Some(max as f64)),
        Kind::Number { min, max } => ObjectBuilder::new()
            .schema_type(typed(Type::Number, nullable))
            .minimum(Some(min))
            .maximum(Some(max)),
        Kind::OneOf(words) => text(ObjectBuilder::new()).enum_values(Some(words.iter().copied())),
        Kind::TimeZone => {
            let zone = Ref::from_schema_name(TIME_ZONE);
            return AllOfBuilder::new().item(zone).description(Some(known.description)).into();
        }
        Kind::Language => text(ObjectBuilder::new()).pattern(Some(kinds::LANGUAGE_PATTERN)),
        // `kinds::is_email`: one `@`, a dotted domain, no spaces.
        Kind::Email => text(ObjectBuilder::new())
            .pattern(Some(r"^[^@\s]+@[^@\s.][^@\s]*\.[^@\s]*[^@\s.]$"))
            .max_length(Some(254)),
        Kind::Name { max } => text(ObjectBuilder::new()).pattern(Some(format!("^[!-~]{{1,{max}}}$"))),
        Kind::Text { max } => {
            text(ObjectBuilder::new()).min_length(Some(1)).max_length(Some(max)).pattern(Some(r"\S"))
        }
    };
    let default = known.default.to_value();
    schema.description(Some(known.description)).default(Some(default)).into()
}

fn word(word: &str) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some([word.to_owned()]))
}

/// The body that creates `known` (of `module`).
fn alternative(module: Option<Module>, known: &KnownKey) -> Schema {
    let mut body = ObjectBuilder::new()
        .title(Some(known.key))
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    if let Some(module) = module {
        body = body.property("module", word(module.as_str())).required("module");
    }
    body.property("key", word(known.key))
        .required("key")
        .property("value", value_schema(known))
        .required("value")
        .into()
}

/// `oneOf` the bodies creating each key of `scope`.
fn new_setting(scope: Scope) -> RefOr<Schema> {
    let mut one_of = OneOfBuilder::new();
    if scope == Scope::Modules {
        for module in Module::ALL {
            for known in module_keys(*module) {
                one_of = one_of.item(alternative(Some(*module), known));
            }
        }
    } else {
        for known in known_keys(scope, None) {
            one_of = one_of.item(alternative(None, known));
        }
    }
    one_of.into()
}

/// The body of an update: the new `value` (of the row's key's kind); `key` and `module`, if
/// sent, must be the row's.
fn setting_change(scope: Scope) -> RefOr<Schema> {
    let mut keys: Vec<&str> = if scope == Scope::Modules {
        Module::ALL.iter().flat_map(|module| module_keys(*module)).map(|known| known.key).collect()
    } else {
        known_keys(scope, None).iter().map(|known| known.key).collect()
    };
    keys.sort_unstable();
    keys.dedup();
    let mut body = ObjectBuilder::new()
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .property(
            "value",
            ObjectBuilder::new()
                .schema_type(SchemaType::AnyValue)
                .description(Some("The new value, of the setting's key's type and bounds.")),
        )
        .required("value")
        .property(
            "key",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(keys))
                .description(Some("The row's key, if sent (a key does not change).")),
        );
    if scope == Scope::Modules {
        body = body.property(
            "module",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(Module::ALL.iter().map(|module| module.as_str())))
                .description(Some("The row's module, if sent.")),
        );
    }
    body.into()
}

/// A body type of the document whose schema the registry makes.
macro_rules! body_schema {
    ($(#[$meta:meta])* $name:ident = $make:ident($scope:expr)) => {
        $(#[$meta])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $make($scope)
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }

            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                schemas.push((TIME_ZONE.to_owned(), time_zones()));
            }
        }
    };
}

body_schema!(
    /// A new system setting: a known key and its value.
    NewSystemSetting = new_setting(Scope::System)
);
body_schema!(
    /// A new account setting.
    NewAccountSetting = new_setting(Scope::Account)
);
body_schema!(
    /// A new setting of the caller's own.
    NewUserSetting = new_setting(Scope::User)
);
body_schema!(
    /// A new module setting: a module, one of its known keys and its value.
    NewModuleSetting = new_setting(Scope::Modules)
);
body_schema!(
    /// A new AI setting.
    NewAiSetting = new_setting(Scope::Ai)
);
body_schema!(SystemSettingChange = setting_change(Scope::System));
body_schema!(AccountSettingChange = setting_change(Scope::Account));
body_schema!(UserSettingChange = setting_change(Scope::User));
body_schema!(ModuleSettingChange = setting_change(Scope::Modules));
body_schema!(AiSettingChange = setting_change(Scope::Ai));
