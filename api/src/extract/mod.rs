//! The one set of extractors every handler uses. Each turns bad input into a 4xx
//! [`ApiError`](crate::error::ApiError) that names the offending field.

mod auth;
mod json;
mod path;
mod query;

pub use auth::{Admin, AuthUser, Editor, bearer_token, current_holder, jwt_error};
pub use json::{ApiJson, JSON_LIMIT, Validate, refuse_nul};
pub use path::{IdempotencyKey, PathId, idempotency_key};
pub use query::{ApiQuery, parse as parse_query};

use crate::error::FieldErrors;

/// Why a value with a NUL character is refused.
pub(crate) const NUL_REFUSED: &str = "Must not contain NUL characters.";

/// Turns a serde error (with the path where it happened) into field errors.
pub(crate) fn serde_field_errors(path: &str, message: &str) -> FieldErrors {
    // serde reports a missing field on the parent and names it in backticks; serde_path_to_error
    // already ends the path of an unknown field with that field.
    let named = |prefix: &str| {
        message.strip_prefix(prefix).and_then(|rest| rest.split('`').next()).map(str::to_owned)
    };
    let message = strip_position(message);
    let (field, problem) = if let Some(field) = named("missing field `") {
        (join(path, &field), "This field is required.".to_owned())
    } else if let Some(field) = named("unknown field `") {
        let field = if path == field || path.ends_with(&format!(".{field}")) {
            path.to_owned()
        } else {
            join(path, &field)
        };
        (field, format!("Unknown field; {}", message.split(", ").skip(1).collect::<Vec<_>>().join(", ")))
    } else if path.is_empty() || path == "." {
        ("body".to_owned(), message.to_owned())
    } else {
        (path.to_owned(), message.to_owned())
    };
    let mut errors = FieldErrors::new();
    errors.insert(field, vec![problem.trim().to_owned()]);
    errors
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() || path == "." { field.to_owned() } else { format!("{path}.{field}") }
}

fn strip_position(message: &str) -> &str {
    message.find(" at line ").map_or(message, |index| &message[..index])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_missing_unknown_and_mistyped_fields() {
        let missing = serde_field_errors(".", "missing field `email` at line 1 column 2");
        assert_eq!(missing["email"], vec!["This field is required."]);
        let unknown = serde_field_errors("foo", "unknown field `foo`, expected `steps` or `sleep_ms`");
        assert!(unknown.contains_key("foo"));
        let typed =
            serde_field_errors("steps", "invalid type: string \"x\", expected u32 at line 1 column 12");
        assert_eq!(typed["steps"], vec!["invalid type: string \"x\", expected u32"]);
    }
}
