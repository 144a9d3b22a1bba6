//! Every way a content operation can fail, each with its client code.

use platform::error::{CodedError, ErrorCode};

/// Errors of the content subgraph. Client variants carry a message a user can act on;
/// `Internal` wraps the cause for the log.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// Input breaks a rule (the message names the field and the rule).
    #[error("{0}")]
    InvalidInput(String),
    /// E-mail already registered.
    #[error("This e-mail address is already registered.")]
    EmailTaken,
    /// Username already taken.
    #[error("This username is already taken.")]
    UsernameTaken,
    /// Wrong login or password (deliberately not saying which).
    #[error("Wrong login or password.")]
    InvalidCredentials,
    /// Refresh token unknown, expired, used or revoked.
    #[error("This session has ended; sign in again.")]
    InvalidRefreshToken,
    /// The thing does not exist (or is hidden from this viewer).
    #[error("{0} not found.")]
    NotFound(&'static str),
    /// Signed in, but not allowed (the message says what is missing).
    #[error("{0}")]
    Forbidden(&'static str),
    /// The action conflicts with the current state (the message says how).
    #[error("{0}")]
    Conflict(String),
    /// Too many actions of one kind (login attempts, danmaku…); try later.
    #[error("{what}; try again in {retry_after_secs} seconds.")]
    RateLimited {
        /// What was limited, for the user.
        what: &'static str,
        /// Seconds until the window resets.
        retry_after_secs: u64,
    },
    /// A per-user allowance is used up (pending uploads, upload bytes per day); the message
    /// says which and when it frees up.
    #[error("{0}")]
    QuotaExceeded(String),
    /// Our fault.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl CodedError for ContentError {
    fn code(&self) -> ErrorCode {
        match self {
            ContentError::InvalidInput(_) => ErrorCode::BadUserInput,
            ContentError::EmailTaken | ContentError::UsernameTaken => ErrorCode::Conflict,
            ContentError::InvalidCredentials | ContentError::InvalidRefreshToken => ErrorCode::Unauthenticated,
            ContentError::RateLimited { .. } => ErrorCode::RateLimited,
            ContentError::QuotaExceeded(_) => ErrorCode::QuotaExceeded,
            ContentError::NotFound(_) => ErrorCode::NotFound,
            ContentError::Forbidden(_) => ErrorCode::Forbidden,
            ContentError::Conflict(_) => ErrorCode::Conflict,
            ContentError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl ContentError {
    /// Wraps any unexpected failure (database, redis, hashing…).
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        ContentError::Internal(error.into())
    }
}

impl From<diesel::result::Error> for ContentError {
    fn from(error: diesel::result::Error) -> Self {
        ContentError::internal(error)
    }
}

impl From<platform::db::PoolError> for ContentError {
    fn from(error: platform::db::PoolError) -> Self {
        ContentError::internal(error)
    }
}
