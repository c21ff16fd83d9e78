//! What a setting's value may be: its [`Kind`] (a type with bounds) and default, and the check
//! that turns a JSON value sent by a client into the value stored, or says what is allowed.

use chrono_tz::Tz;
use serde_json::Value;

/// The type and bounds of a known key's value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Bool,
    /// A whole number from `min` to `max`, both included.
    Integer {
        min: i64,
        max: i64,
    },
    /// A number from `min` to `max`, both included.
    Number {
        min: f64,
        max: f64,
    },
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// An IANA time zone name exactly as the tz database spells it (`Europe/Berlin`, `UTC`).
    TimeZone,
    /// An ISO 639-1 language code, optionally with an ISO 3166-1 region (`en`, `pt-BR`).
    Language,
    Email,
    /// A name such as a model's: 1 to `max` visible characters, no spaces.
    Name {
        max: usize,
    },
    /// Free text: not blank, at most `max` characters (stored trimmed).
    Text {
        max: usize,
    },
}

/// A known key's value when nothing is stored (and nothing is inherited).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DefaultValue {
    Bool(bool),
    Integer(i64),
    Number(f64),
    Text(&'static str),
    /// Not set: the platform decides (a nullable key only).
    Null,
}

impl DefaultValue {
    pub fn to_value(self) -> Value {
        match self {
            DefaultValue::Bool(flag) => Value::Bool(flag),
            DefaultValue::Integer(number) => Value::from(number),
            DefaultValue::Number(number) => Value::from(number),
            DefaultValue::Text(text) => Value::from(text),
            DefaultValue::Null => Value::Null,
        }
    }
}

impl Kind {
    /// What a value of this kind is, for messages: "a whole number from 1 to 100".
    pub fn allowed(&self) -> String {
        match self {
            Kind::Bool => "true or false".to_owned(),
            Kind::Integer { min, max } => format!("a whole number from {min} to {max}"),
            Kind::Number { min, max } => format!("a number from {min} to {max}"),
            Kind::OneOf(words) => format!("one of {}", words.join(", ")),
            Kind::TimeZone => "an IANA time zone name (Europe/Berlin, America/New_York, UTC)".to_owned(),
            Kind::Language => {
                "an ISO 639-1 language code, optionally with a region (en, de, pt-BR)".to_owned()
            }
            Kind::Email => "an email address".to_owned(),
            Kind::Name { max } => format!("a name of 1 to {max} visible characters without spaces"),
            Kind::Text { max } => format!("a text of 1 to {max} characters"),
        }
    }

    /// The value to store for `value` (an email lower-cased, a text trimmed), or `None` when it
    /// is not of this kind. What is taken is exactly what the API's document states, so a
    /// value outside its schema is never stored.
    pub fn normalise(&self, value: &Value) -> Option<Value> {
        match self {
            Kind::Bool => value.as_bool().map(Value::Bool),
            Kind::Integer { min, max } => {
                value.as_i64().filter(|number| (*min..=*max).contains(number)).map(Value::from)
            }
            Kind::Number { min, max } => value
                .as_f64()
                .filter(|number| number.is_finite() && (*min..=*max).contains(number))
                .map(|_| value.clone()),
            Kind::OneOf(words) => value.as_str().filter(|word| words.contains(word)).map(Value::from),
            Kind::TimeZone => value.as_str().filter(|name| name.parse::<Tz>().is_ok()).map(Value::from),
            Kind::Language => value.as_str().filter(|code| is_language(code)).map(Value::from),
            Kind::Email => {
                value.as_str().filter(|email| is_email(email)).map(|email| Value::from(email.to_lowercase()))
            }
            Kind::Name { max } => value
                .as_str()
                .filter(|name| {
                    !name.is_empty()
                        && name.chars().count() <= *max
                        && name.chars().all(|c| c.is_ascii_graphic())
                })
                .map(Value::from),
            Kind::Text { max } => value
                .as_str()
                .filter(|text| !text.trim().is_empty() && text.chars().count() <= *max)
                .map(|text| Value::from(text.trim())),
        }
    }
}

/// True for something shaped like an email address: one `@`, a local part, a dotted domain,
/// no spaces, at most 254 characters (the API's rule for every email field).
pub fn is_email(email: &str) -> bool {
    email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
}

/// `ll` or `ll-RR`: an ISO 639-1 code in lower case, and a region of two capitals (as
/// [`LANGUAGE_PATTERN`] says; the code must also be in the ISO list).
fn is_language(code: &str) -> bool {
    let (language, region) = match code.split_once('-') {
        Some((language, region)) => (language, Some(region)),
        None => (code, None),
    };
    ISO_639_1.contains(&language)
        && region
            .is_none_or(|region| region.len() == 2 && region.bytes().all(|byte| byte.is_ascii_uppercase()))
}

/// The shape of a language value, for the API's document.
pub const LANGUAGE_PATTERN: &str = "^[a-z]{2}(-[A-Z]{2})?$";

/// Every time zone name a [`Kind::TimeZone`] value may be.
pub fn time_zone_names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|zone| zone.name())
}

/// Every ISO 639-1 code.
const ISO_639_1: &[&str] = &[
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bi", "bm",
    "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da", "de", "dv", "dz",
    "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr", "fy", "ga", "gd", "gl",
    "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz", "ia", "id", "ie", "ig", "ii",
    "ik", "io", "is", "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj", "kk", "kl", "km", "kn", "ko", "kr",
    "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln", "lo", "lt", "lu", "lv", "mg", "mh", "mi",
    "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb", "nd", "ne", "ng", "nl", "nn", "no", "nr", "nv",
    "ny", "oc", "oj", "om", "or", "os", "pa", "pi", "pl", "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw",
    "sa", "sc", "sd", "se", "sg", "si", "sk", "sl", "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv",
    "sw", "ta", "te", "tg", "th", "ti", "tk", "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk",
    "ur", "uz", "ve", "vi", "vo", "wa", "wo", "xh", "yi", "yo", "za", "zh", "zu",
];

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn integers_and_numbers_keep_to_their_bounds() {
        let pages = Kind::Integer { min: 1, max: 100 };
        assert_eq!(pages.normalise(&json!(100)), Some(json!(100)));
        assert_eq!(pages.normalise(&json!(0)), None);
        assert_eq!(pages.normalise(&json!(2.5)), None);
        assert_eq!(pages.normalise(&json!("10")), None);
        let temperature = Kind::Number { min: 0.0, max: 2.0 };
        assert_eq!(temperature.normalise(&json!(0.7)), Some(json!(0.7)));
        assert_eq!(temperature.normalise(&json!(1)), Some(json!(1)));
        assert_eq!(temperature.normalise(&json!(2.01)), None);
        assert_eq!(Kind::Bool.normalise(&json!("true")), None);
        assert_eq!(Kind::Bool.normalise(&json!(false)), Some(json!(false)));
    }

    #[test]
    fn words_time_zones_languages_and_emails_are_read_strictly_and_stored_normalised() {
        let theme = Kind::OneOf(&["light", "dark"]);
        assert_eq!(theme.normalise(&json!("dark")), Some(json!("dark")));
        assert_eq!(theme.normalise(&json!("Dark")), None);
        assert_eq!(Kind::TimeZone.normalise(&json!("Europe/Berlin")), Some(json!("Europe/Berlin")));
        assert_eq!(Kind::TimeZone.normalise(&json!(" Europe/Berlin")), None);
        assert_eq!(Kind::TimeZone.normalise(&json!("Mars/Olympus")), None);
        assert!(time_zone_names().any(|name| name == "America/New_York"));
        assert_eq!(Kind::Language.normalise(&json!("pt-BR")), Some(json!("pt-BR")));
        assert_eq!(Kind::Language.normalise(&json!("en")), Some(json!("en")));
        assert_eq!(Kind::Language.normalise(&json!("PT-br")), None);
        assert_eq!(Kind::Language.normalise(&json!("xx")), None);
        assert_eq!(Kind::Language.normalise(&json!("en-USA")), None);
        assert_eq!(Kind::Email.normalise(&json!("Ann@Example.com")), Some(json!("ann@example.com")));
        assert_eq!(Kind::Email.normalise(&json!(" ann@example.com")), None);
        assert_eq!(Kind::Email.normalise(&json!("ann@localhost")), None);
        assert_eq!(Kind::Name { max: 5 }.normalise(&json!("gpt 4")), None);
        assert_eq!(Kind::Text { max: 5 }.normalise(&json!("  hi ")), Some(json!("hi")));
        assert_eq!(Kind::Text { max: 5 }.normalise(&json!("   ")), None);
    }

    #[test]
    fn the_language_list_is_iso_639_1_sorted_and_unique() {
        assert_eq!(ISO_639_1.len(), 183);
        assert!(ISO_639_1.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn messages_name_the_bounds_and_defaults_become_json() {
        assert!(Kind::Integer { min: 1, max: 10 }.allowed().contains("1 to 10"));
        assert!(Kind::OneOf(&["a", "b"]).allowed().contains("a, b"));
        assert_eq!(DefaultValue::Text("UTC").to_value(), json!("UTC"));
    }
}
