use std::{future::Future, pin::Pin};

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldErrors};

/// Request bodies larger than this answer 413.
pub const JSON_LIMIT: usize = 1024 * 1024;

/// Field-level checks a request body runs after it parsed.
pub trait Validate {
    fn validate(&self) -> Result<(), FieldErrors> {
        Ok(())
    }
}

/// A JSON body: 415 without a JSON content type, 413 over [`JSON_LIMIT`], 400 naming the
/// field for malformed JSON, wrong types, missing or unknown fields, or failed validation.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T> std::ops::Deref for ApiJson<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = is_json(req);
        let declared_length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(ApiError::UnsupportedMediaType {
                    message: "Send the body as JSON with `Content-Type: application/json`.".into(),
                });
            }
            if declared_length.is_some_and(|length| length > JSON_LIMIT) {
                return Err(ApiError::PayloadTooLarge { limit: JSON_LIMIT });
            }
            let body = crate::body::read_limited(&mut payload, JSON_LIMIT, "body").await?;
            parse(&body).map(ApiJson)
        })
    }
}

/// Parses and validates a JSON document.
pub fn parse<T: DeserializeOwned + Validate>(body: &[u8]) -> Result<T, ApiError> {
    match body.iter().find(|byte| !byte.is_ascii_whitespace()) {
        None => return Err(ApiError::field("body", "A JSON body is required.")),
        // serde would read a struct from an array too (`[1, 2]` as positional fields).
        Some(b'{') => {}
        Some(b'[' | b'"' | b't' | b'f' | b'n' | b'-' | b'0'..=b'9') => {
            return Err(ApiError::field("body", "Expected a JSON object."));
        }
        Some(_) => {}
    }
    let mut document: serde_json::Value =
        serde_json::from_slice(body).map_err(|error| ApiError::BadRequest {
            code: "malformed_json",
            message: format!("The body is not valid JSON: {error}."),
        })?;
    if let Some(field) = find_nul(&document, "body") {
        return Err(ApiError::field(&field, super::NUL_REFUSED));
    }
    whole_numbers_as_integers(&mut document);
    let value: T = serde_path_to_error::deserialize(document).map_err(|error| {
        let path = error.path().to_string();
        ApiError::invalid(super::serde_field_errors(&path, &error.into_inner().to_string()))
    })?;
    value.validate().map_err(ApiError::invalid)?;
    Ok(value)
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// JSON Schema counts `3.0` as an integer, so an integer field takes it; serde would not.
/// Only floats that hold their integer exactly (below 2^53) are read so.
const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0;

fn whole_numbers_as_integers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(number) => {
            if let Some(float) = number.as_f64().filter(|_| number.is_f64())
                && float.fract() == 0.0
                && float.abs() < EXACT_INTEGERS
            {
                *number = serde_json::Number::from(float as i64);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

/// 400 naming the first field of a JSON document read as a whole whose text (or name) holds
/// NUL.
pub fn refuse_nul(value: &serde_json::Value) -> Result<(), ApiError> {
    match find_nul(value, "body") {
        Some(field) => Err(ApiError::field(&field, super::NUL_REFUSED)),
        None => Ok(()),
    }
}

fn find_nul(value: &serde_json::Value, at: &str) -> Option<String> {
    match value {
        serde_json::Value::String(text) => text.contains('\0').then(|| at.to_owned()),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(index, item)| find_nul(item, &format!("{at}[{index}]")))
        }
        serde_json::Value::Object(fields) => fields.iter().find_map(|(name, field)| {
            let path = if at == "body" {
                name.replace('\0', "")
            } else {
                format!("{at}.{}", name.replace('\0', ""))
            };
            if name.contains('\0') { Some(path) } else { find_nul(field, &path) }
        }),
        _ => None,
    }
}
