//! The `User` entity as `live` extends it: `User.room` (batched), and user references.

use super::id_of;
use super::loaders::RoomByOwnerLoader;
use super::medals::{Medal, UserMedal, UserMedalsLoader, WornMedalsLoader};
use super::rooms::Room;
use async_graphql::{ComplexObject, Context, ID, Object, SimpleObject};
use platform::batch::Batcher;
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
    /// Every visible medal the user was granted, heaviest first; an expired or revoked one shows
    /// as locked (one statement per batch of users).
    async fn medals(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<UserMedal>> {
        let Ok(id) = self.id.parse::<Uuid>() else { return Ok(Vec::new()) };
        let medals = ctx.data::<Batcher<Uuid, UserMedalsLoader>>()?.load_one(id).await.coded()?;
        Ok(medals.unwrap_or_default().into_iter().map(UserMedal::from).collect())
    }

    /// The medals the user wears now (at most one per group), heaviest first (batched).
    async fn worn_medals(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Medal>> {
        let Ok(id) = self.id.parse::<Uuid>() else { return Ok(Vec::new()) };
        let medals = ctx.data::<Batcher<Uuid, WornMedalsLoader>>()?.load_one(id).await.coded()?;
        Ok(medals.unwrap_or_default().into_iter().map(|worn| Medal::from(worn.medal)).collect())
    }

    /// The user's live room, if they opened one (one statement per batch of users).
    async fn room(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Room>> {
        let Ok(id) = self.id.parse::<Uuid>() else { return Ok(None) };
        let room = ctx.data::<Batcher<Uuid, RoomByOwnerLoader>>()?.load_one(id).await.coded()?;
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
