//! Every way a community operation can fail, each with its client code.

use platform::error::{CodedError, ErrorCode};

/// Errors of the community subgraph. Client variants carry a message a user can act on;
/// `Internal` wraps the cause for the log.
#[derive(Debug, thiserror::Error)]
pub enum CommunityError {
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
    /// The user is muted: no posts, comments, likes or messages until then.
    #[error("You are muted until {until}.")]
    Muted {
        /// When the mute ends (also in `extensions.mutedUntil`).
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

impl CodedError for CommunityError {
    fn code(&self) -> ErrorCode {
        match self {
            CommunityError::InvalidInput(_) => ErrorCode::BadUserInput,
            CommunityError::NotFound(_) => ErrorCode::NotFound,
            CommunityError::Forbidden(_) | CommunityError::Muted { .. } => ErrorCode::Forbidden,
            CommunityError::Conflict(_) => ErrorCode::Conflict,
            CommunityError::RateLimited { .. } => ErrorCode::RateLimited,
            CommunityError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl CommunityError {
    /// Wraps any unexpected failure (database, redis, nats…).
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        CommunityError::Internal(error.into())
    }

    /// A bad-input error with this message.
    pub fn invalid(message: impl Into<String>) -> Self {
        CommunityError::InvalidInput(message.into())
    }
}

impl From<diesel::result::Error> for CommunityError {
    fn from(error: diesel::result::Error) -> Self {
        CommunityError::internal(error)
    }
}

impl From<platform::db::PoolError> for CommunityError {
    fn from(error: platform::db::PoolError) -> Self {
        CommunityError::internal(error)
    }
}
