use std::str::FromStr;

use actix_web::{FromRequest, HttpRequest, dev::Payload};

use crate::error::ApiError;

/// The `{id}` segment of a path, parsed as `T` (a UUID, an integer id). A malformed id is a
/// 400 naming `id`, not a 404 and never a 500.
#[derive(Debug, Clone, Copy)]
pub struct PathId<T>(pub T);

pub trait IdKind: FromStr {
    const EXPECTED: &'static str;
}

impl IdKind for uuid::Uuid {
    const EXPECTED: &'static str = "Must be a valid UUID.";
}

impl IdKind for i64 {
    const EXPECTED: &'static str = "Must be a positive integer.";
}

impl<T: IdKind + 'static> FromRequest for PathId<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = req
            .match_info()
            .get("id")
            .and_then(|raw| raw.parse::<T>().ok())
            .map(PathId)
            .ok_or_else(|| ApiError::field("id", T::EXPECTED));
        std::future::ready(parsed)
    }
}

/// The `Idempotency-Key` header of a command, as the OpenAPI document shows it (read by
/// [`idempotency_key`]).
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKey {
    /// 1 to 255 visible ASCII characters: a repeat of the request with the same key answers
    /// the first task instead of enqueueing another.
    #[serde(rename = "Idempotency-Key")]
    #[param(min_length = 1, max_length = 255, pattern = "^[!-~]+$", nullable = false)]
    pub key: Option<String>,
}

/// The `Idempotency-Key` header, if sent: 1–255 visible ASCII characters.
pub fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or_default().trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(ApiError::field("Idempotency-Key", "Must be 1 to 255 visible ASCII characters."));
    }
    Ok(Some(key.to_owned()))
}
