//! Small field validators that collect into [`FieldErrors`].

use crate::error::FieldErrors;

pub fn push(errors: &mut FieldErrors, field: &str, problem: impl Into<String>) {
    errors.entry(field.to_owned()).or_default().push(problem.into());
}

/// Trims and lower-cases an email address, recording a problem when it is not one.
pub fn email(errors: &mut FieldErrors, field: &str, value: &str) -> String {
    let email = value.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
        });
    if !valid {
        push(errors, field, "Enter a valid email address.");
    }
    email
}

pub const MIN_PASSWORD: usize = 8;
pub const MAX_PASSWORD: usize = 128;

pub fn password(errors: &mut FieldErrors, field: &str, value: &str) {
    let length = value.chars().count();
    if length < MIN_PASSWORD {
        push(errors, field, format!("Must be at least {MIN_PASSWORD} characters."));
    } else if length > MAX_PASSWORD {
        push(errors, field, format!("Must be at most {MAX_PASSWORD} characters."));
    }
}

pub fn confirmation(errors: &mut FieldErrors, field: &str, value: &str, original: &str) {
    if value != original {
        push(errors, field, "The passwords do not match.");
    }
}

/// A required text of at most `max` characters (as sent), not blank; stored trimmed. Its
/// schema says `min_length = 1, max_length = max, pattern = r"\S"`.
pub fn text(errors: &mut FieldErrors, field: &str, value: &str, max: usize) -> String {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        push(errors, field, "This field may not be blank.");
    } else if value.chars().count() > max {
        push(errors, field, format!("Must be at most {max} characters."));
    }
    trimmed.to_owned()
}

/// An optional text of at most `max` characters (as sent); stored trimmed. Its schema says
/// `max_length = max`.
pub fn optional_text(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    let value = value?;
    if value.chars().count() > max {
        push(errors, field, format!("Must be at most {max} characters."));
    }
    Some(value.trim().to_owned())
}

/// A URL-friendly slug: lower-case letters, digits and dashes.
pub fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in text.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').chars().take(100).collect()
}

/// [`slugify`], or `fallback` and a random suffix when the text has no letters or digits
/// to make one of (`"日本"`, `"!!!"`).
pub fn slugify_or(text: &str, fallback: &str) -> String {
    let slug = slugify(text);
    if !slug.is_empty() {
        return slug;
    }
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{fallback}-{}", &suffix[..8])
}

pub fn slug(errors: &mut FieldErrors, field: &str, value: &str) -> String {
    let valid = !value.is_empty()
        && value.len() <= 100
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        push(errors, field, "Use 1 to 100 lower-case letters, digits and dashes.");
    }
    value.to_owned()
}

pub fn finish(errors: FieldErrors) -> Result<(), FieldErrors> {
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_emails_and_slugs() {
        let mut errors = FieldErrors::new();
        assert_eq!(email(&mut errors, "email", "  Ann@Example.COM "), "ann@example.com");
        assert!(errors.is_empty());
        for bad in ["", "ann", "ann@", "@x.io", "a b@x.io", "a@b", "a@@b.io"] {
            let mut errors = FieldErrors::new();
            email(&mut errors, "email", bad);
            assert!(errors.contains_key("email"), "{bad}");
        }
        assert_eq!(slugify("  Hello, World! 2 "), "hello-world-2");
    }
}
