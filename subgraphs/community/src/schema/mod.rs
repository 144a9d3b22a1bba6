//! The GraphQL surface of `community`: thin resolvers over the domain services.

mod audit;
mod dynamics;
mod follows;
mod messages;
mod moderation;
mod notifications;
mod posts;
mod reports;
mod status;
mod user;
mod zones;

use async_graphql::{MergedObject, MergedSubscription};

pub use self::posts::LikeLoader;
pub use self::user::{FollowStateLoader, User, UserStatsLoader};
pub use self::zones::{ZoneFollowLoader, ZoneLoader};

/// Root query.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(
    status::StatusQuery,
    user::UserQuery,
    follows::FollowQuery,
    zones::ZoneQuery,
    posts::PostQuery,
    moderation::ModerationQuery,
    reports::ReportQuery,
    audit::AuditQuery,
    dynamics::DynamicQuery,
    notifications::NotificationQuery,
    messages::MessageQuery,
);

/// Root mutation.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(
    follows::FollowMutation,
    zones::ZoneMutation,
    posts::PostMutation,
    moderation::ModerationMutation,
    reports::ReportMutation,
    dynamics::DynamicMutation,
    notifications::NotificationMutation,
    messages::MessageMutation,
);

/// Root subscription.
#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct Subscription(dynamics::DynamicSubscription, notifications::NotificationSubscription, messages::MessageSubscription);

/// `result.coded()?` in community's resolvers: [`platform::error::CodedResultExt`], plus
/// `extensions.mutedUntil` (RFC 3339) on the error of a muted user, which the router keeps
/// when it masks the message.
pub(crate) trait CodedResultExt<T> {
    /// Converts the error side.
    fn coded(self) -> async_graphql::Result<T>;
}

/// An error that may say until when its user is muted.
pub(crate) trait MuteAware: platform::error::CodedError {
    /// The end of the mute that caused it, if one did.
    fn muted_until(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        None
    }
}

impl MuteAware for crate::domain::CommunityError {
    fn muted_until(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        match self {
            crate::domain::CommunityError::Muted { until } => Some(*until),
            _ => None,
        }
    }
}

impl MuteAware for std::sync::Arc<crate::domain::CommunityError> {
    fn muted_until(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        (**self).muted_until()
    }
}

impl MuteAware for platform::error::ApiError {}

impl<T, E: MuteAware> CodedResultExt<T> for Result<T, E> {
    fn coded(self) -> async_graphql::Result<T> {
        use async_graphql::ErrorExtensions;
        self.map_err(|error| {
            let coded = platform::error::to_graphql_error(&error);
            match error.muted_until() {
                Some(until) => coded.extend_with(|_, ext| ext.set("mutedUntil", until.to_rfc3339())),
                None => coded,
            }
        })
    }
}

/// Parses a GraphQL `ID` argument named `name` as a UUID, or `BAD_USER_INPUT`.
pub(crate) fn parse_id(id: &async_graphql::ID, name: &str) -> async_graphql::Result<uuid::Uuid> {
    id.parse().map_err(|_| crate::domain::CommunityError::invalid(format!("`{name}` is not a valid id."))).coded()
}
