//! The GraphQL surface of `live`: thin resolvers over the domain services.

mod danmaku;
mod gifts;
mod loaders;
mod medals;
mod pk;
mod rooms;
mod status;
mod user;
mod wallet;

use crate::domain::LiveError;
use async_graphql::{ID, MergedObject, MergedSubscription};
use platform::error::CodedResultExt;

pub use self::danmaku::ViewerCountLoader;
pub use self::loaders::{ChannelLoader, RoomByOwnerLoader, SessionLoader};
pub use self::medals::{UserMedalsLoader, WornMedalsLoader};

/// Root query.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(
    status::StatusQuery,
    user::UserQuery,
    rooms::RoomQuery,
    wallet::WalletQuery,
    gifts::GiftQuery,
    pk::PkQuery,
    danmaku::DanmakuQuery,
    medals::MedalQuery,
);

/// Root mutation.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(
    rooms::RoomMutation,
    wallet::WalletMutation,
    gifts::GiftMutation,
    pk::PkMutation,
    danmaku::DanmakuMutation,
    medals::MedalMutation,
);

/// Root subscription.
#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct Subscription(pk::PkSubscription, danmaku::DanmakuSubscription);

/// Parses a GraphQL `ID` naming `what` as a UUID, or `BAD_USER_INPUT`.
pub(crate) fn parse_id(id: &ID, what: &str) -> async_graphql::Result<uuid::Uuid> {
    id.parse::<uuid::Uuid>().map_err(|_| LiveError::invalid(format!("`{what}` is not an id this API issued."))).coded()
}

/// A UUID as a GraphQL `ID`.
pub(crate) fn id_of(id: uuid::Uuid) -> ID {
    ID(id.to_string())
}
