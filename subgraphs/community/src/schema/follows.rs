//! `followUser` / `unfollowUser` and the `userFollowing` / `userFollowers` connections.

use super::CodedResultExt;
use super::parse_id;
use super::user::User;
use crate::domain::follows::{FollowOutcome, Follows};
use crate::domain::paging::{Cursor, page_size};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use platform::auth::{SignedIn, viewer};

/// What a follow or unfollow did.
#[derive(SimpleObject)]
pub struct FollowResult {
    /// The user followed or unfollowed (with their counters after the change).
    user: User,
    /// Whether the viewer follows them now.
    following: bool,
    /// Whether this call changed it (`false`: it was already so; nothing was published).
    changed: bool,
}

impl From<FollowOutcome> for FollowResult {
    fn from(outcome: FollowOutcome) -> Self {
        FollowResult { user: User { id: outcome.user_id }, following: outcome.following, changed: outcome.changed }
    }
}

/// One follow in a list.
#[derive(SimpleObject)]
pub struct Follow {
    /// The other user: the one followed (in `userFollowing`) or the follower (in `userFollowers`).
    user: User,
    /// When the follow began.
    followed_at: DateTime<Utc>,
}

/// Follow lists.
#[derive(Default)]
pub struct FollowQuery;

#[Object]
impl FollowQuery {
    /// Whom a user follows, most recent first. `first` is 1–100 (default 20).
    async fn user_following(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Follow>> {
        follow_list(ctx, user_id, true, first, after).await
    }

    /// Who follows a user, most recent first. `first` is 1–100 (default 20).
    async fn user_followers(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Follow>> {
        follow_list(ctx, user_id, false, first, after).await
    }
}

async fn follow_list(
    ctx: &Context<'_>,
    user_id: ID,
    following: bool,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<Connection<String, Follow>> {
    let user = parse_id(&user_id, "userId")?;
    let limit = page_size(first).coded()?;
    let after = Cursor::decode_after(after.as_deref()).coded()?;
    let mut rows = ctx.data::<Follows>()?.list(user, following, after, limit + 1).await.coded()?;
    let has_next = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let mut connection = Connection::new(after.is_some(), has_next);
    connection.edges.extend(rows.into_iter().map(|row| {
        let cursor = Cursor { at: row.followed_at, id: row.user_id }.encode();
        Edge::new(cursor, Follow { user: User { id: row.user_id }, followed_at: row.followed_at })
    }));
    Ok(connection)
}

/// Follow mutations.
#[derive(Default)]
pub struct FollowMutation;

#[Object]
impl FollowMutation {
    /// Follows a user (idempotent: following again changes nothing). Never oneself.
    #[graphql(guard = "SignedIn")]
    async fn follow_user(&self, ctx: &Context<'_>, user_id: ID) -> async_graphql::Result<FollowResult> {
        set_following(ctx, user_id, true).await
    }

    /// Stops following a user (idempotent).
    #[graphql(guard = "SignedIn")]
    async fn unfollow_user(&self, ctx: &Context<'_>, user_id: ID) -> async_graphql::Result<FollowResult> {
        set_following(ctx, user_id, false).await
    }
}

async fn set_following(ctx: &Context<'_>, user_id: ID, following: bool) -> async_graphql::Result<FollowResult> {
    let viewer = viewer(ctx).require_user().coded()?;
    let target = parse_id(&user_id, "userId")?;
    Ok(ctx.data::<Follows>()?.set_following(viewer, target, following).await.coded()?.into())
}
