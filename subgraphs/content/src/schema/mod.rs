//! The GraphQL surface of `content`: thin resolvers over the domain services.

mod auth;
mod catalogue;
mod comment;
mod danmaku;
mod dead_letters;
mod feed;
mod interaction;
mod loaders;
mod upload;
mod user;
mod video;

use async_graphql::MergedObject;

pub use self::loaders::{StatLoader, UserLoader, VideoLoader, ViewerStateLoader};
pub use self::user::{User, UserSubscription};
pub use self::video::Video;

/// Root query.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(
    user::UserQuery,
    feed::VideoQuery,
    comment::CommentQuery,
    danmaku::DanmakuQuery,
    upload::UploadQuery,
    dead_letters::DeadLetterQuery,
);

/// Root mutation.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(
    auth::AuthMutation,
    user::ProfileMutation,
    catalogue::CatalogueMutation,
    interaction::InteractionMutation,
    comment::CommentMutation,
    danmaku::DanmakuMutation,
    upload::UploadMutation,
    dead_letters::DeadLetterMutation,
);

/// Root subscription.
pub type Subscription = UserSubscription;

/// Parses a GraphQL `ID` as a UUID, or `None` when it is not one.
pub(crate) fn parse_id(id: &async_graphql::ID) -> Option<uuid::Uuid> {
    id.parse().ok()
}
