//! The API's one error type. Every handler returns `Result<_, ApiError>`; the body is always
//! `{"success": false, "error": "...", "code": "...", "errors": {...}}` with the status of
//! ARCHITECTURE.md. Internal details are logged, never sent.

use std::collections::BTreeMap;

use actix_web::{
    HttpResponse, ResponseError,
    http::{StatusCode, header},
};
use serde::Serialize;
use utoipa::ToSchema;

/// Field name → what is wrong with it.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// The body of every error answer.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "success": false,
    "error": "Invalid value for `name`.",
    "code": "validation_error",
    "errors": {"name": ["This field is required."]}
}))]
pub struct ErrorBody {
    pub success: bool,
    /// What went wrong, for people.
    pub error: String,
    /// What went wrong, for programs (`validation_error`, `not_found`, `permission_denied`, …).
    pub code: &'static str,
    /// Field name → its problems (empty unless the request was invalid or conflicted).
    #[schema(inline)]
    pub errors: FieldErrors,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    #[error("{message}")]
    Validation { message: String, errors: FieldErrors },
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    #[error("not enough credits: {needed} needed, {available} available")]
    InsufficientCredits { needed: i64, available: i64 },
    /// A create would pass the plan's limit: 402 naming the limited resource.
    #[error(
        "The plan allows at most {limit} {resource}; the account has {current}. Upgrade the plan for more."
    )]
    PlanLimit { resource: &'static str, limit: i64, current: i64 },
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// A body field names a row the caller's account does not have: 404 naming the field.
    #[error("{message}")]
    MissingReference { message: String, errors: FieldErrors },
    #[error("{message}")]
    Conflict { code: &'static str, message: String, errors: FieldErrors },
    /// The request body stalled (see `crate::body`).
    #[error("the request body was not received in time")]
    RequestTimeout,
    #[error("This method is not allowed here; allowed: {allow}.")]
    MethodNotAllowed { allow: String },
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{message}")]
    UnsupportedMediaType { message: String },
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    #[error("rate limit exceeded; retry in {retry_after} seconds")]
    RateLimited { retry_after: u64 },
    /// An outside service (an AI provider, an ERP) failed or refused.
    #[error("{message}")]
    BadGateway { code: &'static str, message: String },
    #[error("{message}")]
    Unavailable { code: &'static str, message: String },
    #[error("internal error")]
    Internal(String),
}

impl From<shared::problems::Problems> for ApiError {
    /// A 400 naming each field with its problems.
    fn from(problems: shared::problems::Problems) -> Self {
        let mut errors = FieldErrors::new();
        for (field, problem) in problems {
            errors.entry(field).or_default().push(problem);
        }
        Self::invalid(errors)
    }
}

impl ApiError {
    /// A 400 naming one field.
    pub fn field(field: &str, problem: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.insert(field.to_owned(), vec![problem.into()]);
        Self::invalid(errors)
    }

    /// A 400 from collected field errors.
    pub fn invalid(errors: FieldErrors) -> Self {
        let message = match errors.keys().next() {
            Some(field) if errors.len() == 1 => format!("Invalid value for `{field}`."),
            _ => "Some fields are invalid.".to_owned(),
        };
        ApiError::Validation { message, errors }
    }

    /// A 404 naming a body field whose row is not in the caller's account.
    pub fn missing(field: &str, problem: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.insert(field.to_owned(), vec![problem.into()]);
        Self::missing_all(errors)
    }

    /// A 404 from collected missing references.
    pub fn missing_all(errors: FieldErrors) -> Self {
        let message = errors.values().flatten().next().cloned().unwrap_or_else(|| "Not found.".into());
        ApiError::MissingReference { message, errors }
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Unauthorized { code, message: message.into() }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::Forbidden { code: "permission_denied", message: message.into() }
    }

    pub fn conflict(code: &'static str, field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut errors = FieldErrors::new();
        errors.insert(field.to_owned(), vec![message.clone()]);
        ApiError::Conflict { code, message, errors }
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        ApiError::Internal(error.to_string())
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Validation { .. } => "validation_error",
            ApiError::BadRequest { code, .. }
            | ApiError::Unauthorized { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Unprocessable { code, .. }
            | ApiError::BadGateway { code, .. }
            | ApiError::Unavailable { code, .. } => code,
            ApiError::NotFound { .. } | ApiError::MissingReference { .. } => "not_found",
            ApiError::InsufficientCredits { .. } => "insufficient_credits",
            ApiError::PlanLimit { .. } => "plan_limit_reached",
            ApiError::RequestTimeout => "request_timeout",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType { .. } => "unsupported_media_type",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Internal(_) => "internal_error",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation { .. } | ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } | ApiError::MissingReference { .. } => StatusCode::NOT_FOUND,
            ApiError::InsufficientCredits { .. } | ApiError::PlanLimit { .. } => StatusCode::PAYMENT_REQUIRED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::BadGateway { .. } => StatusCode::BAD_GATEWAY,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let message = match self {
            ApiError::Internal(detail) => {
                tracing::error!(detail, "internal error");
                "Something went wrong on our side.".to_owned()
            }
            ApiError::NotFound { what } => format!("{} not found.", capitalize(what)),
            other => other.to_string(),
        };
        let errors = match self {
            ApiError::Validation { errors, .. }
            | ApiError::Conflict { errors, .. }
            | ApiError::MissingReference { errors, .. } => errors.clone(),
            ApiError::PlanLimit { resource, .. } => {
                FieldErrors::from([(resource.to_string(), vec![message.clone()])])
            }
            _ => FieldErrors::new(),
        };
        let mut response = HttpResponse::build(status);
        if let ApiError::RateLimited { retry_after } = self {
            response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
        }
        if let ApiError::MethodNotAllowed { allow } = self {
            response.insert_header((header::ALLOW, allow.as_str()));
        }
        if let ApiError::Unauthorized { .. } = self {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.json(ErrorBody { success: false, error: message, code: self.code(), errors })
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

impl From<shared::Error> for ApiError {
    fn from(error: shared::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error as Db};
        match error {
            shared::Error::Database(Db::NotFound) => ApiError::NotFound { what: "resource" },
            shared::Error::Database(Db::DatabaseError(DatabaseErrorKind::UniqueViolation, info)) => {
                let field = info.constraint_name().map(constraint_field).unwrap_or("id");
                ApiError::conflict("already_exists", field, "A record with this value already exists.")
            }
            shared::Error::Database(Db::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => {
                ApiError::Unprocessable {
                    code: "still_referenced",
                    message: "The record is still in use.".into(),
                }
            }
            shared::Error::InsufficientCredits { needed, available } => {
                ApiError::InsufficientCredits { needed, available }
            }
            shared::Error::PlanLimit { resource, limit, current } => {
                ApiError::PlanLimit { resource, limit, current }
            }
            shared::Error::IdempotencyKeyReused => ApiError::Unprocessable {
                code: "idempotency_key_reused",
                message: "This Idempotency-Key was already used for a different request.".into(),
            },
            error if error.is_transient() => {
                tracing::warn!(%error, "dependency unavailable");
                ApiError::Unavailable {
                    code: "service_unavailable",
                    message: "A dependency is unavailable; try again shortly.".into(),
                }
            }
            other => ApiError::internal(other),
        }
    }
}

/// Maps a unique constraint to the field a client should fix.
fn constraint_field(constraint: &str) -> &'static str {
    match constraint {
        "users_email_key" => "email",
        "sites_account_id_slug_key" | "sectors_site_id_slug_key" => "slug",
        "tasks_idempotency_key" => "Idempotency-Key",
        "keywords_site_keyword_key" | "seed_keywords_industry_keyword_key" => "keyword",
        "clusters_name_key" => "name",
        "ai_prompts_account_id_prompt_type_key" => "prompt_type",
        "writer_tasks_idea_key" => "idea_id",
        "settings_owner_key" => "key",
        _ => "id",
    }
}
