//! Every way a live operation can fail, each with its client code.

use platform::error::{CodedError, ErrorCode};

/// Errors of the live subgraph. Client variants carry a message a user can act on; `Internal`
/// wraps the cause for the log.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// Not signed in.
    #[error("Sign in to do this.")]
    Unauthenticated,
    /// Input breaks a rule (the message names the field and the rule).
    #[error("{0}")]
    InvalidInput(String),
    /// The thing does not exist (or is hidden from this viewer).
    #[error("{0} not found.")]
    NotFound(&'static str),
    /// Signed in, but not allowed (the message says what is missing).
    #[error("{0}")]
    Forbidden(String),
    /// The action conflicts with the current state (the message says how).
    #[error("{0}")]
    Conflict(String),
    /// The wallet holds less than the action costs; nothing was written.
    #[error("Your balance ({balance}) is less than this costs ({cost}); recharge first.")]
    InsufficientBalance {
        /// What the wallet holds, in minor units.
        balance: i64,
        /// What it would cost, in minor units.
        cost: i64,
    },
    /// Muted in this room by its streamer or an admin.
    #[error("You are muted in this room until {until}.")]
    Muted {
        /// When the mute ends.
        until: chrono::DateTime<chrono::Utc>,
    },
    /// Too many actions of one kind; try later.
    #[error("{what}; try again in {retry_after_secs} seconds.")]
    RateLimited {
        /// What was limited, for the user.
        what: &'static str,
        /// Seconds until the window resets.
        retry_after_secs: u64,
    },
    /// Our fault.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl CodedError for LiveError {
    fn code(&self) -> ErrorCode {
        match self {
            LiveError::Unauthenticated => ErrorCode::Unauthenticated,
            LiveError::InvalidInput(_) => ErrorCode::BadUserInput,
            LiveError::NotFound(_) => ErrorCode::NotFound,
            LiveError::Forbidden(_) | LiveError::Muted { .. } => ErrorCode::Forbidden,
            LiveError::Conflict(_) => ErrorCode::Conflict,
            // The client can act on it (recharge); the message says so.
            LiveError::InsufficientBalance { .. } => ErrorCode::QuotaExceeded,
            LiveError::RateLimited { .. } => ErrorCode::RateLimited,
            LiveError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl LiveError {
    /// Wraps any unexpected failure (database, redis, nats…).
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        LiveError::Internal(error.into())
    }

    /// A rule of the input was broken.
    pub fn invalid(message: impl Into<String>) -> Self {
        LiveError::InvalidInput(message.into())
    }
}

impl From<diesel::result::Error> for LiveError {
    fn from(error: diesel::result::Error) -> Self {
        LiveError::internal(error)
    }
}

impl From<platform::db::PoolError> for LiveError {
    fn from(error: platform::db::PoolError) -> Self {
        LiveError::internal(error)
    }
}

impl From<platform::error::ApiError> for LiveError {
    fn from(error: platform::error::ApiError) -> Self {
        match error.code() {
            ErrorCode::Unauthenticated => LiveError::Unauthenticated,
            _ => LiveError::Forbidden(error.to_string()),
        }
    }
}
