//! The GraphQL surface of `assets`: thin resolvers over the domain.

mod admin;
mod downloads;
mod parse;
mod progress;
mod status;

use async_graphql::MergedObject;

pub use self::progress::ProgressSubscription as Subscription;

/// Root query.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(status::StatusQuery, parse::ParseQuery, downloads::DownloadQuery, admin::AdminQuery);

/// Root mutation.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(downloads::DownloadMutation, admin::AdminMutation);

use crate::domain::AssetsError;
use async_graphql::ErrorExtensions;
use platform::error::to_graphql_error;

/// The GraphQL error of an assets error: its code, and for a URL that cannot be downloaded,
/// `extensions.reason` (`URL_POLICY`, `NOT_FOUND`, `UNSUPPORTED`, `TOO_LARGE`…); an open
/// circuit breaker is `reason: CIRCUIT_OPEN` with `retryAfterSecs`.
pub(crate) fn gql_error(error: AssetsError) -> async_graphql::Error {
    let (reason, retry_after_secs) = match &error {
        AssetsError::Unfetchable { reason, .. } => (Some(*reason), None),
        AssetsError::CircuitOpen { retry_after_secs, .. } => (Some("CIRCUIT_OPEN"), Some(*retry_after_secs)),
        _ => (None, None),
    };
    let graphql = to_graphql_error(&error);
    match reason {
        Some(reason) => graphql.extend_with(|_, extensions| {
            extensions.set("reason", reason);
            if let Some(secs) = retry_after_secs {
                extensions.set("retryAfterSecs", secs);
            }
        }),
        None => graphql,
    }
}

/// `result.gql()?`: [`gql_error`] on the error side.
pub(crate) trait GqlResultExt<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> GqlResultExt<T> for Result<T, AssetsError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(gql_error)
    }
}

/// Parses an id argument.
pub(crate) fn parse_id(raw: &str, what: &str) -> async_graphql::Result<uuid::Uuid> {
    raw.parse().map_err(|_| gql_error(AssetsError::InvalidInput(format!("`{what}` is not a valid id."))))
}
