//! The known keys of every scope and module: what each is for, its kind and its default. A
//! key not listed here cannot be stored; a stored value is checked against its kind on the
//! way in. Defaults repeat the constants the code falls back on, so an unset key and the
//! platform's behaviour agree (a unit test below holds them together).

use super::{
    Module, Scope,
    kinds::{DefaultValue as D, Kind},
};

/// One key a scope (or module) knows.
#[derive(Clone, Copy, Debug)]
pub struct KnownKey {
    pub key: &'static str,
    pub kind: Kind,
    /// Whether `null` may be stored (for keys whose default is "not set").
    pub nullable: bool,
    pub default: D,
    /// The key of the scope above whose effective value applies while this one is not stored
    /// (a user's `timezone` is the account's until the user sets one).
    pub inherits: Option<(Scope, &'static str)>,
    pub description: &'static str,
}

const fn key(key: &'static str, kind: Kind, default: D, description: &'static str) -> KnownKey {
    KnownKey { key, kind, nullable: false, default, inherits: None, description }
}

const fn nullable(key: &'static str, kind: Kind, description: &'static str) -> KnownKey {
    KnownKey { key, kind, nullable: true, default: D::Null, inherits: None, description }
}

const fn inherited(
    key: &'static str,
    kind: Kind,
    default: D,
    from: (Scope, &'static str),
    description: &'static str,
) -> KnownKey {
    KnownKey { key, kind, nullable: false, default, inherits: Some(from), description }
}

const SYSTEM: &[KnownKey] = &[
    key("default_timezone", Kind::TimeZone, D::Text("UTC"), "The time zone of accounts that set none."),
    key("default_language", Kind::Language, D::Text("en"), "The language of accounts that set none."),
    nullable("support_email", Kind::Email, "Where users are told to write for help (null: nowhere shown)."),
    nullable(
        "maintenance_message",
        Kind::Text { max: 500 },
        "A notice clients show on every page, such as planned downtime (null: none).",
    ),
];

const ACCOUNT: &[KnownKey] = &[
    inherited(
        "timezone",
        Kind::TimeZone,
        D::Text("UTC"),
        (Scope::System, "default_timezone"),
        "The account's time zone: a schedule created without one is read in it.",
    ),
    inherited(
        "language",
        Kind::Language,
        D::Text("en"),
        (Scope::System, "default_language"),
        "The language the account works in.",
    ),
    nullable("notification_email", Kind::Email, "Where the account's notices go (null: to its owners)."),
    key(
        "week_start",
        Kind::OneOf(&["monday", "sunday"]),
        D::Text("monday"),
        "The first day of the week in calendars (the social calendar).",
    ),
    key(
        "currency",
        Kind::OneOf(&["usd", "eur"]),
        D::Text("usd"),
        "The currency credit packages are shown in.",
    ),
];

const USER: &[KnownKey] = &[
    key("theme", Kind::OneOf(&["light", "dark", "system"]), D::Text("system"), "The interface's colours."),
    key(
        "items_per_page",
        Kind::Integer { min: 1, max: 100 },
        D::Integer(10),
        "Rows per page the interface asks for (the API's `page_size`).",
    ),
    inherited(
        "timezone",
        Kind::TimeZone,
        D::Text("UTC"),
        (Scope::Account, "timezone"),
        "The time zone dates are shown in for this user.",
    ),
    inherited(
        "language",
        Kind::Language,
        D::Text("en"),
        (Scope::Account, "language"),
        "The interface's language for this user.",
    ),
    key(
        "email_notifications",
        Kind::Bool,
        D::Bool(true),
        "Whether to email this user when their tasks finish or fail.",
    ),
];

const PLANNER: &[KnownKey] = &[
    key(
        "ideas_per_cluster",
        Kind::Integer { min: 1, max: 10 },
        D::Integer(3),
        "Ideas `auto_generate_ideas` writes per cluster when the request does not say.",
    ),
    key(
        "clustering_mode",
        Kind::OneOf(&["semantic", "lexical"]),
        D::Text("semantic"),
        "How keywords are compared when clustering: by meaning, or by their words (fast).",
    ),
];

const WRITER: &[KnownKey] = &[
    key(
        "default_word_count",
        Kind::Integer { min: 100, max: 10_000 },
        D::Integer(1_500),
        "The length of an article whose writer task names none.",
    ),
    key(
        "default_tone",
        Kind::OneOf(&[
            "professional",
            "friendly",
            "casual",
            "formal",
            "authoritative",
            "conversational",
            "persuasive",
        ]),
        D::Text("professional"),
        "The tone of articles for sites without an author profile.",
    ),
];

const SOCIAL: &[KnownKey] = &[
    key(
        "max_hashtags",
        Kind::Integer { min: 0, max: 30 },
        D::Integer(5),
        "Hashtags a composed post may carry at most.",
    ),
    key(
        "insights_days",
        Kind::Integer { min: 1, max: 365 },
        D::Integer(7),
        "How many days back an account's insights look.",
    ),
];

const SEO: &[KnownKey] = &[
    key("max_pages", Kind::Integer { min: 1, max: 200 }, D::Integer(25), "Pages a crawl audits at most."),
    key(
        "max_depth",
        Kind::Integer { min: 0, max: 10 },
        D::Integer(3),
        "Links a crawl follows away from the start page.",
    ),
];

const ODOO: &[KnownKey] = &[
    key(
        "include_archived",
        Kind::Bool,
        D::Bool(false),
        "Whether lists of the Odoo mirror show archived records.",
    ),
    key(
        "portal_tasks",
        Kind::Integer { min: 1, max: 50 },
        D::Integer(10),
        "How many of the latest tasks the client portal shows.",
    ),
];

const AI: &[KnownKey] = &[
    key(
        "temperature",
        Kind::Number { min: 0.0, max: 2.0 },
        D::Number(0.7),
        "Sampling temperature of text generation.",
    ),
    key(
        "max_tokens",
        Kind::Integer { min: 1, max: 128_000 },
        D::Integer(4_096),
        "The longest answer a text generation may give, in tokens.",
    ),
    key(
        "content_model",
        Kind::Name { max: 100 },
        D::Text("gpt-4o-mini"),
        "The chat model that writes content.",
    ),
    key(
        "embedding_model",
        Kind::Name { max: 100 },
        D::Text("text-embedding-3-small"),
        "The model keywords are embedded with.",
    ),
    key(
        "image_provider",
        Kind::OneOf(&["openai", "runware"]),
        D::Text("openai"),
        "Who draws the account's images.",
    ),
    key(
        "image_model",
        Kind::Name { max: 100 },
        D::Text("gpt-image-1-mini"),
        "The model images are drawn with.",
    ),
];

/// The keys of a scope; for `modules`, of `module` (none without one).
pub fn known_keys(scope: Scope, module: Option<Module>) -> &'static [KnownKey] {
    match (scope, module) {
        (Scope::System, _) => SYSTEM,
        (Scope::Account, _) => ACCOUNT,
        (Scope::User, _) => USER,
        (Scope::Ai, _) => AI,
        (Scope::Modules, Some(module)) => module_keys(module),
        (Scope::Modules, None) => &[],
    }
}

/// The keys of one module.
pub fn module_keys(module: Module) -> &'static [KnownKey] {
    match module {
        Module::Planner => PLANNER,
        Module::Writer => WRITER,
        Module::Social => SOCIAL,
        Module::Seo => SEO,
        Module::Odoo => ODOO,
    }
}

/// The key `key` of a scope (or module), if it is known.
pub fn known(scope: Scope, module: Option<Module>, key: &str) -> Option<&'static KnownKey> {
    known_keys(scope, module).iter().find(|known| known.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_key() -> Vec<(Scope, Option<Module>, &'static KnownKey)> {
        let mut keys = Vec::new();
        for scope in Scope::ALL {
            let modules: Vec<Option<Module>> = if *scope == Scope::Modules {
                Module::ALL.iter().copied().map(Some).collect()
            } else {
                vec![None]
            };
            for module in modules {
                keys.extend(known_keys(*scope, module).iter().map(|known| (*scope, module, known)));
            }
        }
        keys
    }

    #[test]
    fn every_default_fits_its_kind_and_every_inherited_key_exists_with_the_same_kind() {
        for (scope, module, known) in every_key() {
            let default = known.default.to_value();
            if default.is_null() {
                assert!(known.nullable, "{scope}.{}: a null default needs a nullable key", known.key);
            } else {
                assert_eq!(known.kind.normalise(&default), Some(default), "{scope}.{}", known.key);
            }
            if let Some((parent, parent_key)) = known.inherits {
                let parent = known_keys(parent, module)
                    .iter()
                    .find(|candidate| candidate.key == parent_key)
                    .unwrap_or_else(|| panic!("{scope}.{} inherits a missing key", known.key));
                assert_eq!(parent.kind, known.kind, "{scope}.{}", known.key);
                assert!(!known.nullable, "{scope}.{}", known.key);
            }
            assert!(
                known.key.len() <= 64
                    && known.key.starts_with(|c: char| c.is_ascii_lowercase())
                    && known.key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{scope}.{}: the table's key check",
                known.key
            );
        }
    }

    #[test]
    fn keys_are_unique_within_their_scope_and_module() {
        let keys = every_key();
        for (index, (scope, module, known)) in keys.iter().enumerate() {
            assert!(
                !keys[index + 1..].iter().any(|(s, m, k)| s == scope && m == module && k.key == known.key),
                "{scope}.{} is listed twice",
                known.key
            );
        }
    }

    #[test]
    fn defaults_agree_with_the_constants_the_code_falls_back_on() {
        let integer = |module, name| match known(Scope::Modules, Some(module), name).map(|k| k.default) {
            Some(D::Integer(number)) => number,
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(integer(Module::Seo, "max_pages"), crate::tasks::seo::DEFAULT_CRAWL_PAGES as i64);
        assert_eq!(integer(Module::Seo, "max_depth"), crate::tasks::seo::DEFAULT_CRAWL_DEPTH as i64);
        assert_eq!(integer(Module::Writer, "default_word_count"), i64::from(crate::writer::DEFAULT_WORDS));
        let Some(Kind::Integer { max, .. }) =
            known(Scope::Modules, Some(Module::Planner), "ideas_per_cluster").map(|k| k.kind)
        else {
            panic!("ideas_per_cluster is an integer");
        };
        assert_eq!(max, i64::from(crate::tasks::planner::MAX_IDEAS_PER_CLUSTER));
        let Some(Kind::Integer { max, .. }) =
            known(Scope::Modules, Some(Module::Seo), "max_pages").map(|k| k.kind)
        else {
            panic!("max_pages is an integer");
        };
        assert_eq!(max, crate::tasks::seo::MAX_CRAWL_PAGES as i64);
        assert_eq!(
            known(Scope::Modules, Some(Module::Writer), "default_tone").map(|k| k.default),
            Some(D::Text(crate::writer_settings::DEFAULT_TONE))
        );
    }
}
