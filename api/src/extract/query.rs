use actix_web::{FromRequest, HttpRequest, dev::Payload};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Query parameters: an unknown value for a known parameter (a state that does not exist, a
/// page that is not a number) answers 400 naming the parameter.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T> std::ops::Deref for ApiQuery<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for ApiQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse(req.query_string()).map(ApiQuery))
    }
}

pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    // form_urlencoded decodes lossily: `search=%ff` would quietly become a search for U+FFFD.
    if let Some(name) = not_utf8(query) {
        return Err(ApiError::field(&name, "Must be UTF-8 text (percent-encoded UTF-8 bytes)."));
    }
    // PostgreSQL text cannot hold NUL: refused here, named, instead of failing a query.
    if let Some((name, _)) = form_urlencoded::parse(query.as_bytes())
        .find(|(name, value)| name.contains('\0') || value.contains('\0'))
    {
        return Err(ApiError::field(&name.replace('\0', ""), super::NUL_REFUSED));
    }
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        ApiError::invalid(super::serde_field_errors(&path, &error.into_inner().to_string()))
    })
}

/// The first parameter whose name or value does not decode to UTF-8.
fn not_utf8(query: &str) -> Option<String> {
    let bytes =
        |part: &str| -> Vec<u8> { percent_encoding::percent_decode_str(&part.replace('+', " ")).collect() };
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (name, value) = (bytes(name), bytes(value));
        let valid = std::str::from_utf8(&name).is_ok() && std::str::from_utf8(&value).is_ok();
        (!valid).then(|| String::from_utf8_lossy(&name).into_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_parameter_that_is_not_utf8() {
        assert_eq!(not_utf8("page=2&search=%ff%fe"), Some("search".to_owned()));
        assert_eq!(not_utf8("search=caf%C3%A9&x=a+b"), None);
        assert_eq!(not_utf8("%ff=1"), Some("\u{fffd}".to_owned()));
        assert_eq!(not_utf8(""), None);
    }
}
