//! The `User` entity's community fields: counters and whether the viewer follows them, each
//! batched through a dataloader (one SQL statement per batch of users).

use super::CodedResultExt;
use crate::domain::CommunityError;
use crate::domain::follows::Follows;
use crate::store::stats::UserStats;
use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, Object};
use platform::auth::viewer;
use platform::batch::Batcher;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use uuid::Uuid;

/// A user, as `community` knows them (`content` owns the account).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct User {
    /// The user id.
    pub id: Uuid,
}

impl User {
    async fn stats(&self, ctx: &Context<'_>) -> async_graphql::Result<UserStats> {
        let stats = ctx.data::<Batcher<Uuid, UserStatsLoader>>()?.load_one(self.id).await.coded()?;
        Ok(stats.unwrap_or(UserStats::zero(self.id)))
    }
}

#[Object(name = "User")]
impl User {
    /// The user id.
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// How many users follow them.
    async fn follower_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(self.stats(ctx).await?.follower_count)
    }

    /// How many users they follow.
    async fn following_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(self.stats(ctx).await?.following_count)
    }

    /// Likes their posts, comments and dynamics received (an admin's like counts 5).
    async fn likes_received(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(self.stats(ctx).await?.likes_received)
    }

    /// Whether the signed-in viewer follows them (`false` for anonymous viewers and oneself).
    async fn is_followed_by_viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let Some(viewer_id) = viewer(ctx).user_id() else { return Ok(false) };
        if viewer_id == self.id {
            return Ok(false);
        }
        Ok(ctx.data::<Batcher<(Uuid, Uuid), FollowStateLoader>>()?.load_one((viewer_id, self.id)).await.coded()?.is_some())
    }
}

/// The `User` entity resolver.
#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// Adds the community fields to `User` references (`null` for an id that is not one).
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> Option<User> {
        id.parse().ok().map(|id| User { id })
    }
}

/// Counters by user id: one statement per batch.
pub struct UserStatsLoader(pub Follows);

impl Loader<Uuid> for UserStatsLoader {
    type Value = UserStats;
    type Error = Arc<CommunityError>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = self.0.stats(ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|row| (row.user_id, row)).collect())
    }
}

/// Whether (viewer, user) follows, by pair: one statement per batch, whatever the viewers.
/// A pair is present in the answer only when it follows.
pub struct FollowStateLoader(pub Follows);

impl Loader<(Uuid, Uuid)> for FollowStateLoader {
    type Value = ();
    type Error = Arc<CommunityError>;

    async fn load(&self, keys: &[(Uuid, Uuid)]) -> Result<HashMap<(Uuid, Uuid), ()>, Self::Error> {
        let followed: HashSet<(Uuid, Uuid)> = self.0.following_pairs(keys).await.map_err(Arc::new)?.into_iter().collect();
        Ok(followed.into_iter().map(|pair| (pair, ())).collect())
    }
}
