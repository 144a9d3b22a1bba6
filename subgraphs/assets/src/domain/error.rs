//! Every way an assets operation can fail, each with its client code.

use platform::error::{CodedError, ErrorCode};

/// Errors of the assets subgraph. Client variants carry a message a user can act on;
/// `Internal` wraps the cause for the log.
#[derive(Debug, thiserror::Error)]
pub enum AssetsError {
    /// Input breaks a rule (the message names the field and the rule).
    #[error("{0}")]
    InvalidInput(String),
    /// The URL is refused by the URL policy, or cannot be fetched or understood.
    #[error("{message}")]
    Unfetchable {
        /// The fetch error's code (`URL_POLICY`, `NOT_FOUND`, `UNSUPPORTED`…), set as
        /// `extensions.reason`.
        reason: &'static str,
        /// For the user.
        message: String,
    },
    /// The thing does not exist (or belongs to someone else).
    #[error("{0} not found.")]
    NotFound(&'static str),
    /// The action conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// The daily download quota is used up.
    #[error("You have used all {limit} downloads of today; the quota resets at {resets_at}.")]
    QuotaExceeded {
        /// The daily limit.
        limit: u32,
        /// When it resets (RFC 3339).
        resets_at: String,
    },
    /// Too many URLs parsed; try later.
    #[error("Too many URLs looked up; try again in {retry_after_secs} seconds.")]
    RateLimited {
        /// Seconds until the window resets.
        retry_after_secs: u64,
    },
    /// A circuit breaker the download needs is open (the proxy provider's, or the platform's):
    /// nothing is tried until it half-opens.
    #[error("Downloads through {what} are paused after too many failures; try again in {retry_after_secs} seconds.")]
    CircuitOpen {
        /// What is failing (`the proxy provider`, `the platform youtube`).
        what: String,
        /// Seconds until the breaker half-opens (`extensions.retryAfterSecs`).
        retry_after_secs: u64,
    },
    /// Storage is nearly full: quick downloads are refused until usage falls.
    #[error("Storage is nearly full; quick downloads are paused. Try again later or use archive mode.")]
    StorageFull,
    /// Our fault.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl CodedError for AssetsError {
    fn code(&self) -> ErrorCode {
        match self {
            AssetsError::InvalidInput(_) | AssetsError::Unfetchable { .. } => ErrorCode::BadUserInput,
            AssetsError::NotFound(_) => ErrorCode::NotFound,
            AssetsError::Conflict(_) => ErrorCode::Conflict,
            AssetsError::RateLimited { .. } | AssetsError::CircuitOpen { .. } => ErrorCode::RateLimited,
            AssetsError::QuotaExceeded { .. } | AssetsError::StorageFull => ErrorCode::QuotaExceeded,
            AssetsError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl AssetsError {
    /// Wraps any unexpected failure (database, redis, NATS, disk…).
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        AssetsError::Internal(error.into())
    }
}

impl From<diesel::result::Error> for AssetsError {
    fn from(error: diesel::result::Error) -> Self {
        AssetsError::internal(error)
    }
}

impl From<platform::db::PoolError> for AssetsError {
    fn from(error: platform::db::PoolError) -> Self {
        AssetsError::internal(error)
    }
}
