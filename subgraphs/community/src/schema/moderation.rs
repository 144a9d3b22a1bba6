//! Mutes, bans and the moderation log, for admins.

use super::user::User;
use super::{CodedResultExt, parse_id};
use crate::domain::moderation::Moderation;
use crate::domain::paging::{decode_position, encode_position, page_size};
use crate::store::moderation::{LogEntry, Sanction};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use platform::auth::{AdminOnly, viewer};
use uuid::Uuid;

/// A user's standing in the community.
#[derive(SimpleObject)]
pub struct UserSanction {
    /// The user.
    user: User,
    /// Muted until then (`null`: not muted; a past time: the mute ended).
    muted_until: Option<DateTime<Utc>>,
    /// Banned from the community.
    banned: bool,
    /// Whether the ban hides their posts and comments from everyone but admins.
    hides_content: bool,
    /// Last change.
    updated_at: DateTime<Utc>,
}

impl From<Sanction> for UserSanction {
    fn from(s: Sanction) -> Self {
        UserSanction {
            user: User { id: s.user_id },
            muted_until: s.muted_until,
            banned: s.banned,
            hides_content: s.hides_content,
            updated_at: s.updated_at,
        }
    }
}

/// One moderator action.
#[derive(SimpleObject)]
pub struct ModerationLogEntry {
    /// Id.
    id: ID,
    /// Who did it.
    actor: User,
    /// What: `mute`, `unmute`, `ban`, `unban`, `delete_post`, `delete_comment`, `move_post`.
    action: String,
    /// To whom.
    target_user: Option<User>,
    /// Which kind of item (`post`, `comment`).
    target_kind: Option<String>,
    /// Which item.
    target_id: Option<ID>,
    /// Why.
    reason: Option<String>,
    /// Until when (mutes).
    expires_at: Option<DateTime<Utc>>,
    /// When.
    created_at: DateTime<Utc>,
}

impl From<LogEntry> for ModerationLogEntry {
    fn from(e: LogEntry) -> Self {
        ModerationLogEntry {
            id: ID(e.id.to_string()),
            actor: User { id: e.actor_id },
            action: e.action,
            target_user: e.target_user.map(|id| User { id }),
            target_kind: e.target_kind,
            target_id: e.target_id.map(|id| ID(id.to_string())),
            reason: e.reason,
            expires_at: e.expires_at,
            created_at: e.created_at,
        }
    }
}

fn connection<R, N: async_graphql::OutputType>(
    mut rows: Vec<R>,
    limit: i64,
    has_previous: bool,
    position: impl Fn(&R) -> (i64, Uuid),
    node: impl Fn(R) -> N,
) -> Connection<String, N> {
    let has_next = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let mut connection = Connection::new(has_previous, has_next);
    connection.edges.extend(rows.into_iter().map(|row| Edge::new(encode_position(position(&row)), node(row))));
    connection
}

/// Moderation queries (admins).
#[derive(Default)]
pub struct ModerationQuery;

#[Object]
impl ModerationQuery {
    /// Users muted now, latest mute end first. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn muted_users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, UserSanction>> {
        let limit = page_size(first).coded()?;
        let after = decode_position(after.as_deref()).coded()?;
        let rows = ctx.data::<Moderation>()?.muted(after, limit + 1).await.coded()?;
        let position = |s: &Sanction| (s.muted_until.map_or(0, |until| until.timestamp_micros()), s.user_id);
        Ok(connection(rows, limit, after.is_some(), position, UserSanction::from))
    }

    /// Banned users, most recently banned first. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn banned_users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, UserSanction>> {
        let limit = page_size(first).coded()?;
        let after = decode_position(after.as_deref()).coded()?;
        let rows = ctx.data::<Moderation>()?.banned(after, limit + 1).await.coded()?;
        Ok(connection(rows, limit, after.is_some(), |s| (s.updated_at.timestamp_micros(), s.user_id), UserSanction::from))
    }

    /// Every moderator action, newest first. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn moderation_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, ModerationLogEntry>> {
        let limit = page_size(first).coded()?;
        let after = decode_position(after.as_deref()).coded()?;
        let rows = ctx.data::<Moderation>()?.log(after, limit + 1).await.coded()?;
        Ok(connection(rows, limit, after.is_some(), |e| (e.created_at.timestamp_micros(), e.id), ModerationLogEntry::from))
    }
}

/// Moderation mutations (admins).
#[derive(Default)]
pub struct ModerationMutation;

#[Object]
impl ModerationMutation {
    /// Mutes a user until a time (at most a year ahead): they cannot post, comment or like
    /// until then (`FORBIDDEN` with `extensions.mutedUntil`). Admin only; logged.
    #[graphql(guard = "AdminOnly")]
    async fn mute_user(&self, ctx: &Context<'_>, user_id: ID, until: DateTime<Utc>, reason: String) -> async_graphql::Result<UserSanction> {
        let admin = viewer(ctx).require_admin().coded()?;
        let user = parse_id(&user_id, "userId")?;
        Ok(ctx.data::<Moderation>()?.set_mute(admin, user, Some(until), &reason).await.coded()?.into())
    }

    /// Ends a user's mute. Admin only; logged.
    #[graphql(guard = "AdminOnly")]
    async fn unmute_user(&self, ctx: &Context<'_>, user_id: ID, reason: String) -> async_graphql::Result<UserSanction> {
        let admin = viewer(ctx).require_admin().coded()?;
        let user = parse_id(&user_id, "userId")?;
        Ok(ctx.data::<Moderation>()?.set_mute(admin, user, None, &reason).await.coded()?.into())
    }

    /// Bans a user from the community: every community mutation of theirs is `FORBIDDEN`.
    /// With `hideContent`, their posts and comments disappear from every list for everyone but
    /// admins until the unban (their counters and points stay). Admin only; logged.
    #[graphql(guard = "AdminOnly")]
    async fn ban_user(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        reason: String,
        #[graphql(default)] hide_content: bool,
    ) -> async_graphql::Result<UserSanction> {
        let admin = viewer(ctx).require_admin().coded()?;
        let user = parse_id(&user_id, "userId")?;
        Ok(ctx.data::<Moderation>()?.set_ban(admin, user, true, hide_content, &reason).await.coded()?.into())
    }

    /// Lifts a user's ban. Admin only; logged.
    #[graphql(guard = "AdminOnly")]
    async fn unban_user(&self, ctx: &Context<'_>, user_id: ID, reason: String) -> async_graphql::Result<UserSanction> {
        let admin = viewer(ctx).require_admin().coded()?;
        let user = parse_id(&user_id, "userId")?;
        Ok(ctx.data::<Moderation>()?.set_ban(admin, user, false, false, &reason).await.coded()?.into())
    }
}
