use actix_web::{
    Error, ResponseError,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::Method,
    middleware::Next,
};

use crate::error::ApiError;

/// Answers 405 for a method the document does not declare on a literal path, before routing
/// can hand the request to a sibling `{id}` route. Preflights (OPTIONS) are CORS's to answer.
pub async fn undeclared_method(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if req.method() != Method::OPTIONS
        && let Some(allow) =
            crate::openapi::undeclared_method_on_literal_path(req.method().as_str(), req.path())
    {
        let refusal = ApiError::MethodNotAllowed { allow: allow.to_owned() }.error_response();
        return Ok(req.into_response(refusal));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
