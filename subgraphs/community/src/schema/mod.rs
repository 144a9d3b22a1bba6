//! The GraphQL surface of `community`: thin resolvers over the domain services.

mod audit;
mod follows;
mod posts;
mod status;
mod user;
mod zones;

use async_graphql::MergedObject;

pub use self::posts::LikeLoader;
pub use self::user::{FollowStateLoader, User, UserStatsLoader};
pub use self::zones::{ZoneFollowLoader, ZoneLoader};

/// Root query.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(status::StatusQuery, user::UserQuery, follows::FollowQuery, zones::ZoneQuery, posts::PostQuery, audit::AuditQuery);

/// Root mutation.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(follows::FollowMutation, zones::ZoneMutation, posts::PostMutation);

/// Parses a GraphQL `ID` argument named `name` as a UUID, or `BAD_USER_INPUT`.
pub(crate) fn parse_id(id: &async_graphql::ID, name: &str) -> async_graphql::Result<uuid::Uuid> {
    use platform::error::CodedResultExt;
    id.parse().map_err(|_| crate::domain::CommunityError::invalid(format!("`{name}` is not a valid id."))).coded()
}
