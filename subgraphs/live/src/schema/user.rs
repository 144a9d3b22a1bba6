//! The `User` entity as `live` extends it: `User.room` (batched), and user references.

use super::id_of;
use super::loaders::RoomByOwnerLoader;
use super::rooms::Room;
use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, ID, Object, SimpleObject};
use platform::error::CodedResultExt;
use uuid::Uuid;

/// A user: `content` owns the account; `live` adds the room.
#[derive(SimpleObject, Clone)]
#[graphql(name = "User", complex)]
pub struct User {
    /// The user id.
    pub id: ID,
}

impl User {
    /// A reference to the user `id`.
    pub fn of(id: Uuid) -> User {
        User { id: id_of(id) }
    }
}

#[ComplexObject]
impl User {
    /// The user's live room, if they opened one (one statement per batch of users).
    async fn room(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Room>> {
        let Ok(id) = self.id.parse::<Uuid>() else { return Ok(None) };
        let room = ctx.data::<DataLoader<RoomByOwnerLoader>>()?.load_one(id).await.coded()?;
        Ok(room.map(Room::from))
    }
}

/// The `User` entity resolver.
#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// Adds `live`'s fields to `User` references.
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> User {
        User { id }
    }
}
