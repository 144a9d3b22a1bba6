//! Every way a ranking operation can fail, each with its client code.

use platform::error::{CodedError, ErrorCode};

/// Errors of the ranking subgraph. Client variants carry a message a user can act on;
/// `Internal` wraps the cause for the log.
#[derive(Debug, thiserror::Error)]
pub enum RankingError {
    /// Input breaks a rule (the message names the field and the rule).
    #[error("{0}")]
    InvalidInput(String),
    /// The thing does not exist.
    #[error("{0} not found.")]
    NotFound(&'static str),
    /// Signed in, but not allowed.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The action conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// Our fault.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl CodedError for RankingError {
    fn code(&self) -> ErrorCode {
        match self {
            RankingError::InvalidInput(_) => ErrorCode::BadUserInput,
            RankingError::NotFound(_) => ErrorCode::NotFound,
            RankingError::Forbidden(_) => ErrorCode::Forbidden,
            RankingError::Conflict(_) => ErrorCode::Conflict,
            RankingError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl RankingError {
    /// Wraps any unexpected failure (database, redis, nats…).
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        RankingError::Internal(error.into())
    }
}

impl From<diesel::result::Error> for RankingError {
    fn from(error: diesel::result::Error) -> Self {
        RankingError::internal(error)
    }
}

impl From<platform::db::PoolError> for RankingError {
    fn from(error: platform::db::PoolError) -> Self {
        RankingError::internal(error)
    }
}

impl From<redis::RedisError> for RankingError {
    fn from(error: redis::RedisError) -> Self {
        RankingError::internal(error)
    }
}
