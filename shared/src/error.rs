//! The shared library's error type. Binaries wrap it with `anyhow` context; the API maps it
//! onto its HTTP error (`api::error::ApiError`).

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("configuration variable {name} {reason}")]
    Config { name: String, reason: String },
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("database connection error: {0}")]
    DatabaseConnection(#[from] diesel::ConnectionError),
    #[error("database pool error: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("migrations failed: {0}")]
    Migration(String),
    #[error("broker error: {0}")]
    Broker(#[from] lapin::Error),
    #[error("broker refused message: {0}")]
    BrokerRefused(String),
    #[error("broker call timed out")]
    BrokerTimeout,
    #[error("unknown task kind `{0}`")]
    UnknownTaskKind(String),
    #[error("Idempotency-Key was already used for a different request")]
    IdempotencyKeyReused,
    #[error("serialization error: {0}")]
    Json(#[from] serde_json::Error),
    #[error("password hashing failed: {0}")]
    PasswordHash(String),
    #[error("not enough credits: {needed} needed, {available} available")]
    InsufficientCredits { needed: i64, available: i64 },
    /// A create would take the account past its plan's limit of `resource`.
    #[error("the plan allows {limit} {resource}; the account has {current}")]
    PlanLimit { resource: &'static str, limit: i64, current: i64 },
    #[error("secret handling failed: {0}")]
    Crypto(&'static str),
    #[error("media storage failed for `{key}`: {source}")]
    Media { key: String, source: std::io::Error },
    #[error("background job panicked or was cancelled: {0}")]
    Join(#[from] tokio::task::JoinError),
}

impl Error {
    /// True for failures that a later attempt may not see (lost connections, timeouts).
    pub fn is_transient(&self) -> bool {
        use diesel::result::Error as D;
        match self {
            Error::Database(D::DatabaseError(kind, _)) => matches!(
                kind,
                diesel::result::DatabaseErrorKind::ClosedConnection
                    | diesel::result::DatabaseErrorKind::SerializationFailure
            ),
            Error::Database(D::BrokenTransactionManager) => true,
            Error::DatabaseConnection(_)
            | Error::Pool(_)
            | Error::Broker(_)
            | Error::BrokerRefused(_)
            | Error::BrokerTimeout => true,
            _ => false,
        }
    }
}
