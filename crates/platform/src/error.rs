//! The error model every subgraph shares.
//!
//! The router masks subgraph messages but keeps `extensions`, so every error a client sees
//! carries one `extensions.code` from [`ErrorCode`]. Internal causes are logged here, once, and
//! the client only learns that something went wrong.

use async_graphql::ErrorExtensions;
use std::fmt;

/// The small, stable set of codes clients key on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// No valid credentials: missing sign-in, or an invalid/expired token (clients refresh).
    Unauthenticated,
    /// Signed in, but not allowed to do this.
    Forbidden,
    /// The thing does not exist (or is hidden from this viewer).
    NotFound,
    /// The input is malformed or breaks a rule; the message says which.
    BadUserInput,
    /// The change conflicts with existing state (duplicate, already done…).
    Conflict,
    /// Too many attempts; try later.
    RateLimited,
    /// A per-user quota is used up.
    QuotaExceeded,
    /// Our fault; details are in the log.
    Internal,
}

impl ErrorCode {
    /// The `extensions.code` string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Conflict => "CONFLICT",
            Self::RateLimited => "RATE_LIMITED",
            Self::QuotaExceeded => "QUOTA_EXCEEDED",
            Self::Internal => "INTERNAL",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Message clients see for every internal error.
pub const INTERNAL_MESSAGE: &str = "Internal server error";

/// An error type of a subgraph (or of the platform) that knows its client-facing code.
///
/// Implement it on each exhaustive error enum; [`CodedResultExt::coded`] then turns it into a
/// GraphQL error with `extensions.code`, logging and masking internal ones.
pub trait CodedError: std::error::Error + Send + Sync + 'static {
    /// The code clients see.
    fn code(&self) -> ErrorCode;
}

/// Dataloaders share one error between all the loads of a batch.
impl<E: CodedError> CodedError for std::sync::Arc<E> {
    fn code(&self) -> ErrorCode {
        (**self).code()
    }
}

/// Builds the GraphQL error for a coded error: the message for client errors, a fixed text for
/// internal ones (whose cause chain is logged here, the one place it is logged).
pub fn to_graphql_error<E: CodedError>(error: &E) -> async_graphql::Error {
    let code = error.code();
    let message = if code == ErrorCode::Internal {
        tracing::error!(error = %DisplayChain(error), "internal error");
        INTERNAL_MESSAGE.to_owned()
    } else {
        error.to_string()
    };
    async_graphql::Error::new(message).extend_with(|_, ext| ext.set("code", code.as_str()))
}

/// A client error with a code and a message, for the platform's own checks (auth guards…).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    code: ErrorCode,
    message: String,
}

impl ApiError {
    /// An error with this code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

impl CodedError for ApiError {
    fn code(&self) -> ErrorCode {
        self.code
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        to_graphql_error(self)
    }
}

/// `result.coded()?` in a resolver: converts a coded error into a GraphQL error with its code.
///
/// Use it instead of a bare `?`, which would go through async-graphql's blanket `Display`
/// conversion and lose the code (the response safety net then reports `INTERNAL`).
pub trait CodedResultExt<T> {
    /// Converts the error side.
    fn coded(self) -> async_graphql::Result<T>;
}

impl<T, E: CodedError> CodedResultExt<T> for Result<T, E> {
    fn coded(self) -> async_graphql::Result<T> {
        self.map_err(|e| to_graphql_error(&e))
    }
}

/// Displays an error with its whole `source()` chain, for logs.
pub struct DisplayChain<'a, E: ?Sized>(pub &'a E);

impl<E: std::error::Error + ?Sized> fmt::Display for DisplayChain<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// Whether the request failed before execution (parse, validation, depth or complexity
/// limits, refused token): no data and no error tied to a field. A non-null field error that
/// nulls the whole `data` still has a path: that is an execution result.
pub fn failed_before_execution(response: &async_graphql::Response) -> bool {
    matches!(response.data, async_graphql::Value::Null) && response.is_err() && response.errors.iter().all(|error| error.path.is_empty())
}

/// Whether async-graphql raised this while coercing a field's argument at resolve time (a
/// variable it could not convert, e.g. `null` for an argument that only has a default): the
/// client's input, not our fault. The texts are async-graphql's `InputValueError` messages.
fn is_argument_coercion_error(message: &str) -> bool {
    message.starts_with("Failed to parse \"") || message.starts_with("Expected input type \"")
}

/// Ensures every error of a response carries a code, whatever produced it.
///
/// Errors a resolver raised without a code (a bare `?` on a foreign error) are internal: their
/// message is logged and replaced. Errors of a request that [failed before execution] are the
/// client's: `BAD_USER_INPUT`.
///
/// [failed before execution]: failed_before_execution
pub fn ensure_error_codes(response: &mut async_graphql::Response) {
    let request_level = failed_before_execution(response);
    for error in &mut response.errors {
        let has_code = error.extensions.as_ref().is_some_and(|ext| ext.get("code").is_some());
        if has_code {
            continue;
        }
        let code = if request_level || is_argument_coercion_error(&error.message) {
            ErrorCode::BadUserInput
        } else {
            tracing::error!(error = %error.message, path = ?error.path, "resolver error without a code");
            error.message = INTERNAL_MESSAGE.to_owned();
            ErrorCode::Internal
        };
        error.extensions.get_or_insert_with(Default::default).set("code", code.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::{Pos, ServerError};

    #[test]
    fn internal_errors_are_masked_and_client_errors_keep_their_message() {
        let internal = to_graphql_error(&ApiError::new(ErrorCode::Internal, "db password is hunter2"));
        assert_eq!(internal.message, INTERNAL_MESSAGE);
        let client = to_graphql_error(&ApiError::new(ErrorCode::Conflict, "email taken"));
        assert_eq!(client.message, "email taken");
        let ext = client.extensions.expect("extensions");
        assert_eq!(ext.get("code"), Some(&async_graphql::Value::from("CONFLICT")));
    }

    #[test]
    fn codeless_resolver_errors_become_internal_and_validation_errors_bad_input() {
        let mut resolver = async_graphql::Response::new(async_graphql::Value::Null);
        resolver.data = async_graphql::value!({ "me": null });
        let mut leaked = ServerError::new("relation users does not exist", Some(Pos { line: 1, column: 3 }));
        leaked.path = vec![async_graphql::PathSegment::Field("me".into())];
        resolver.errors.push(leaked);
        ensure_error_codes(&mut resolver);
        assert_eq!(resolver.errors[0].message, INTERNAL_MESSAGE);

        let mut validation = async_graphql::Response::from_errors(vec![ServerError::new("Query is nested too deep.", None)]);
        ensure_error_codes(&mut validation);
        let code = validation.errors[0].extensions.as_ref().and_then(|e| e.get("code")).cloned();
        assert_eq!(code, Some(async_graphql::Value::from("BAD_USER_INPUT")));
        assert_eq!(validation.errors[0].message, "Query is nested too deep.");

        let mut coercion = async_graphql::Response::new(async_graphql::value!({ "search": null }));
        let mut null_argument = ServerError::new("Expected input type \"Sort\", found null.", None);
        null_argument.path = vec![async_graphql::PathSegment::Field("search".into())];
        coercion.errors.push(null_argument);
        ensure_error_codes(&mut coercion);
        let code = coercion.errors[0].extensions.as_ref().and_then(|e| e.get("code")).cloned();
        assert_eq!(code, Some(async_graphql::Value::from("BAD_USER_INPUT")), "an argument the client sent wrong");
    }
}
