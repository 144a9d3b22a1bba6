//! Direct messages and blocks: `sendMessage`, `conversations`, `messages`,
//! `markConversationRead`, `blockUser` / `unblockUser` / `blockedUsers`, and the
//! `messageReceived` subscription. Everything here is the signed-in user's own.

use super::user::User;
use super::{CodedResultExt, parse_id};
use crate::domain::CommunityError;
use crate::domain::messages::{Messages, Which};
use crate::domain::paging::{decode_position, encode_position, page_size};
use crate::store::messages::{ConversationRow, MessageRow};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use platform::auth::{SignedIn, viewer};
use uuid::Uuid;

/// A direct message.
pub struct DirectMessage(pub MessageRow);

#[Object]
impl DirectMessage {
    /// Stable id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Its conversation.
    async fn conversation_id(&self) -> ID {
        ID(self.0.conversation_id.to_string())
    }

    /// Who sent it.
    async fn sender(&self) -> User {
        User { id: self.0.sender_id }
    }

    /// To whom.
    async fn recipient(&self) -> User {
        User { id: self.0.recipient_id }
    }

    /// Text.
    async fn text(&self) -> &str {
        &self.0.body
    }

    /// When it was sent.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A conversation as the signed-in user sees it.
pub struct ConversationObject(pub ConversationRow);

#[Object(name = "Conversation")]
impl ConversationObject {
    /// Stable id.
    async fn id(&self) -> ID {
        ID(self.0.conversation_id.to_string())
    }

    /// The other member.
    async fn other_user(&self) -> User {
        User { id: self.0.other_user_id }
    }

    /// The latest message.
    async fn last_message(&self) -> DirectMessage {
        DirectMessage(self.0.last_message())
    }

    /// Messages that arrived since the viewer last read it.
    async fn unread_count(&self) -> i64 {
        self.0.unread_count
    }

    /// When the viewer last read it.
    async fn last_read_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_read_at
    }
}

/// What a send did.
#[derive(SimpleObject)]
pub struct SendMessageResult {
    /// The message.
    message: DirectMessage,
    /// Whether this was a retry of a send that had already gone through (nothing new was sent).
    replayed: bool,
}

/// What a block or unblock did.
#[derive(SimpleObject)]
pub struct BlockResult {
    /// The other user.
    user: User,
    /// Whether the viewer blocks them now.
    blocked: bool,
    /// Whether this call changed it.
    changed: bool,
}

/// A user the viewer blocks.
#[derive(SimpleObject)]
pub struct BlockedUser {
    /// The blocked user.
    user: User,
    /// Since when.
    blocked_at: DateTime<Utc>,
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

/// Message queries.
#[derive(Default)]
pub struct MessageQuery;

#[Object]
impl MessageQuery {
    /// The signed-in user's conversations, latest message first. `first` is 1–100 (default 20).
    #[graphql(guard = "SignedIn")]
    async fn conversations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, ConversationObject>> {
        let user = viewer(ctx).require_user().coded()?;
        let limit = page_size(first).coded()?;
        let after = decode_position(after.as_deref()).coded()?;
        let rows = ctx.data::<Messages>()?.conversations(user.id, after, limit + 1).await.coded()?;
        Ok(connection(rows, limit, after.is_some(), |c| (c.last_message_at.timestamp_micros(), c.conversation_id), ConversationObject))
    }

    /// One of the signed-in user's conversations (`NOT_FOUND` unless they are in it).
    #[graphql(guard = "SignedIn")]
    async fn conversation(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ConversationObject> {
        let user = viewer(ctx).require_user().coded()?;
        let id = parse_id(&id, "id")?;
        Ok(ConversationObject(ctx.data::<Messages>()?.conversation(user.id, id).await.coded()?))
    }

    /// The messages of one of the signed-in user's conversations, newest first: by
    /// `conversationId`, or the one `withUserId` (empty when they never wrote). Exactly one
    /// of the two. `first` is 1–100 (default 20).
    #[graphql(guard = "SignedIn")]
    async fn messages(
        &self,
        ctx: &Context<'_>,
        conversation_id: Option<ID>,
        with_user_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, DirectMessage>> {
        let user = viewer(ctx).require_user().coded()?;
        let which = match (conversation_id, with_user_id) {
            (Some(id), None) => Which::Conversation(parse_id(&id, "conversationId")?),
            (None, Some(id)) => Which::WithUser(parse_id(&id, "withUserId")?),
            _ => return Err(CommunityError::invalid("Give either `conversationId` or `withUserId`.")).coded(),
        };
        let limit = page_size(first).coded()?;
        let after = decode_position(after.as_deref()).coded()?;
        let rows = ctx.data::<Messages>()?.history(user.id, which, after, limit + 1).await.coded()?;
        Ok(connection(rows, limit, after.is_some(), |m| (m.created_at.timestamp_micros(), m.id), DirectMessage))
    }

    /// The users the signed-in user blocks, most recent first. `first` is 1–100 (default 20).
    #[graphql(guard = "SignedIn")]
    async fn blocked_users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, BlockedUser>> {
        let user = viewer(ctx).require_user().coded()?;
        let limit = page_size(first).coded()?;
        let after = decode_position(after.as_deref()).coded()?;
        let rows = ctx.data::<Messages>()?.blocked(user.id, after, limit + 1).await.coded()?;
        Ok(connection(
            rows,
            limit,
            after.is_some(),
            |b| (b.created_at.timestamp_micros(), b.blocked_id),
            |b| BlockedUser { user: User { id: b.blocked_id }, blocked_at: b.created_at },
        ))
    }
}

/// Message mutations.
#[derive(Default)]
pub struct MessageMutation;

#[Object]
impl MessageMutation {
    /// Sends a direct message (1–2000 characters). `idempotencyKey` (1–64 visible ASCII
    /// characters, unique per sender) makes a retry return the first message. `FORBIDDEN` when
    /// the recipient blocks the sender, the sender blocks the recipient, or the sender is muted
    /// (with `extensions.mutedUntil`) or banned; `RATE_LIMITED` past 30 a minute.
    #[graphql(guard = "SignedIn")]
    async fn send_message(
        &self,
        ctx: &Context<'_>,
        to_user_id: ID,
        text: String,
        idempotency_key: String,
    ) -> async_graphql::Result<SendMessageResult> {
        let sender = viewer(ctx).require_user().coded()?;
        let to = parse_id(&to_user_id, "toUserId")?;
        let sent = ctx.data::<Messages>()?.send(sender, to, &text, &idempotency_key).await.coded()?;
        Ok(SendMessageResult { message: DirectMessage(sent.message), replayed: sent.replayed })
    }

    /// Marks one of the signed-in user's conversations read (its unread count drops to zero).
    #[graphql(guard = "SignedIn")]
    async fn mark_conversation_read(&self, ctx: &Context<'_>, conversation_id: ID) -> async_graphql::Result<ConversationObject> {
        let user = viewer(ctx).require_user().coded()?;
        let id = parse_id(&conversation_id, "conversationId")?;
        Ok(ConversationObject(ctx.data::<Messages>()?.mark_read(user, id).await.coded()?))
    }

    /// Blocks a user: they can no longer message the viewer, and their actions no longer
    /// notify the viewer. Idempotent; never oneself.
    #[graphql(guard = "SignedIn")]
    async fn block_user(&self, ctx: &Context<'_>, user_id: ID) -> async_graphql::Result<BlockResult> {
        set_block(ctx, user_id, true).await
    }

    /// Lifts a block. Idempotent.
    #[graphql(guard = "SignedIn")]
    async fn unblock_user(&self, ctx: &Context<'_>, user_id: ID) -> async_graphql::Result<BlockResult> {
        set_block(ctx, user_id, false).await
    }
}

async fn set_block(ctx: &Context<'_>, user_id: ID, block: bool) -> async_graphql::Result<BlockResult> {
    let viewer = viewer(ctx).require_user().coded()?;
    let other = parse_id(&user_id, "userId")?;
    let changed = ctx.data::<Messages>()?.set_block(viewer, other, block).await.coded()?;
    Ok(BlockResult { user: User { id: other }, blocked: block, changed })
}

/// Message subscriptions.
#[derive(Default)]
pub struct MessageSubscription;

#[Subscription]
impl MessageSubscription {
    /// Messages the signed-in user receives or sends (from another device), as they are sent,
    /// whichever replica they are sent on.
    async fn message_received(&self, ctx: &Context<'_>) -> async_graphql::Result<impl Stream<Item = DirectMessage> + use<>> {
        let user = viewer(ctx).require_user().coded()?;
        let feed = ctx.data::<Messages>()?.subscribe(user.id).await.coded()?;
        Ok(feed.map(DirectMessage))
    }
}
