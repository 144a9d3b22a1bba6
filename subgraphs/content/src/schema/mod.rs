//! The GraphQL surface of `content`: thin resolvers over the domain services.

mod auth;
mod comment;
mod danmaku;
mod loaders;
mod user;
mod video;

use async_graphql::MergedObject;

pub use self::loaders::{RegionLoader, UserLoader, VideoLoader};
pub use self::user::{User, UserSubscription};

/// Root query.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(user::UserQuery, video::VideoQuery, comment::CommentQuery, danmaku::DanmakuQuery);

/// Root mutation.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(auth::AuthMutation, user::ProfileMutation, comment::CommentMutation, danmaku::DanmakuMutation);

/// Root subscription.
pub type Subscription = UserSubscription;

/// Parses a GraphQL `ID` as a UUID, or `None` when it is not one.
pub(crate) fn parse_id(id: &async_graphql::ID) -> Option<uuid::Uuid> {
    id.parse().ok()
}
