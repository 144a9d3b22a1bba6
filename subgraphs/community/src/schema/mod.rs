//! The GraphQL surface of `community`: thin resolvers over the domain services.

mod audit;
mod follows;
mod status;
mod user;

use async_graphql::MergedObject;

pub use self::user::{FollowStateLoader, User, UserStatsLoader};

/// Root query.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(status::StatusQuery, user::UserQuery, follows::FollowQuery, audit::AuditQuery);

/// Root mutation.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(follows::FollowMutation);

/// Parses a GraphQL `ID` argument named `name` as a UUID, or `BAD_USER_INPUT`.
pub(crate) fn parse_id(id: &async_graphql::ID, name: &str) -> async_graphql::Result<uuid::Uuid> {
    use platform::error::CodedResultExt;
    id.parse().map_err(|_| crate::domain::CommunityError::invalid(format!("`{name}` is not a valid id."))).coded()
}
