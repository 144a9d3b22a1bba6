//! `community.blocks`, `community.conversations`, `community.messages` and
//! `community.conversation_members`. A send locks only its own rows: the message (new), then
//! the conversation's two member rows in ascending `user_id` (one statement), as step 1 of the
//! lock order (the actor's own relation rows); it touches nothing else.

use chrono::{DateTime, Utc};
use diesel::OptionalExtension;
use diesel::QueryResult;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// `blocker` blocks `blocked`; `false` when they already did.
pub async fn block(conn: &mut AsyncPgConnection, blocker: Uuid, blocked: Uuid, now: DateTime<Utc>) -> QueryResult<bool> {
    diesel::sql_query("INSERT INTO community.blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind::<SqlUuid, _>(blocker)
        .bind::<SqlUuid, _>(blocked)
        .bind::<Timestamptz, _>(now)
        .execute(conn)
        .await
        .map(|rows| rows == 1)
}

/// `blocker` no longer blocks `blocked`; `false` when they did not.
pub async fn unblock(conn: &mut AsyncPgConnection, blocker: Uuid, blocked: Uuid) -> QueryResult<bool> {
    diesel::sql_query("DELETE FROM community.blocks WHERE blocker_id = $1 AND blocked_id = $2")
        .bind::<SqlUuid, _>(blocker)
        .bind::<SqlUuid, _>(blocked)
        .execute(conn)
        .await
        .map(|rows| rows == 1)
}

/// Whether `blocker` blocks `blocked`.
pub async fn blocks(conn: &mut AsyncPgConnection, blocker: Uuid, blocked: Uuid) -> QueryResult<bool> {
    diesel::sql_query("SELECT count(*) AS n FROM community.blocks WHERE blocker_id = $1 AND blocked_id = $2")
        .bind::<SqlUuid, _>(blocker)
        .bind::<SqlUuid, _>(blocked)
        .get_result::<super::Count>(conn)
        .await
        .map(|row| row.n > 0)
}

/// A block.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct BlockRow {
    /// The blocked user.
    #[diesel(sql_type = SqlUuid)]
    pub blocked_id: Uuid,
    /// Since when.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

/// Whom `blocker` blocks, most recent first, `limit` after `after` (micros, id).
pub async fn blocked(conn: &mut AsyncPgConnection, blocker: Uuid, after: Option<(i64, Uuid)>, limit: i64) -> QueryResult<Vec<BlockRow>> {
    const BLOCKS: NewestFirst<'_> = NewestFirst {
        select: "SELECT blocked_id, created_at FROM community.blocks",
        owner: "blocker_id",
        at: "created_at",
        id: "blocked_id",
    };
    BLOCKS.page(conn, blocker, after, limit).await
}

/// A newest-first keyset page of one owner's rows, the one query behind every list of this
/// module: `select` filtered on `owner = $1`, ordered by `(at, id)` descending, the rows
/// strictly before the position `(micros, id)` of `after`.
struct NewestFirst<'a> {
    /// `SELECT … FROM …` (with joins).
    select: &'a str,
    /// The column that names the owner of the list.
    owner: &'static str,
    /// The timestamp column of the order.
    at: &'static str,
    /// The unique column that breaks its ties.
    id: &'static str,
}

impl NewestFirst<'_> {
    async fn page<R: diesel::QueryableByName<diesel::pg::Pg> + Send + 'static>(
        &self,
        conn: &mut AsyncPgConnection,
        owner: Uuid,
        after: Option<(i64, Uuid)>,
        limit: i64,
    ) -> QueryResult<Vec<R>> {
        let NewestFirst { select, owner: owner_column, at, id } = self;
        let micros = after.and_then(|(micros, _)| DateTime::from_timestamp_micros(micros));
        diesel::sql_query(format!(
            "{select} WHERE {owner_column} = $1 AND ($2::timestamptz IS NULL OR ({at}, {id}) < ($2, $3)) ORDER BY {at} DESC, {id} DESC LIMIT $4"
        ))
        .bind::<SqlUuid, _>(owner)
        .bind::<Nullable<Timestamptz>, _>(micros)
        .bind::<Nullable<SqlUuid>, _>(after.map(|(_, id)| id))
        .bind::<BigInt, _>(limit)
        .load(conn)
        .await
    }
}

/// The conversation of two users, created when there is none; returns its id.
pub async fn conversation_of(conn: &mut AsyncPgConnection, a: Uuid, b: Uuid, now: DateTime<Utc>) -> QueryResult<Uuid> {
    let (low, high) = if a < b { (a, b) } else { (b, a) };
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    // Not locked: the conversation row never changes once created.
    diesel::sql_query(
        "INSERT INTO community.conversations (id, user_low, user_high, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind::<SqlUuid, _>(Uuid::now_v7())
    .bind::<SqlUuid, _>(low)
    .bind::<SqlUuid, _>(high)
    .bind::<Timestamptz, _>(now)
    .execute(conn)
    .await?;
    diesel::sql_query("SELECT id FROM community.conversations WHERE user_low = $1 AND user_high = $2")
        .bind::<SqlUuid, _>(low)
        .bind::<SqlUuid, _>(high)
        .get_result::<Id>(conn)
        .await
        .map(|row| row.id)
}

/// The existing conversation of two users.
pub async fn find_conversation_of(conn: &mut AsyncPgConnection, a: Uuid, b: Uuid) -> QueryResult<Option<Uuid>> {
    let (low, high) = if a < b { (a, b) } else { (b, a) };
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    diesel::sql_query("SELECT id FROM community.conversations WHERE user_low = $1 AND user_high = $2")
        .bind::<SqlUuid, _>(low)
        .bind::<SqlUuid, _>(high)
        .get_result::<Id>(conn)
        .await
        .optional()
        .map(|row| row.map(|row| row.id))
}

/// A direct message.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName, serde::Serialize, serde::Deserialize)]
pub struct MessageRow {
    /// Id.
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// Its conversation.
    #[diesel(sql_type = SqlUuid)]
    pub conversation_id: Uuid,
    /// Who sent it.
    #[diesel(sql_type = SqlUuid)]
    pub sender_id: Uuid,
    /// To whom.
    #[diesel(sql_type = SqlUuid)]
    pub recipient_id: Uuid,
    /// Text.
    #[diesel(sql_type = Text)]
    pub body: String,
    /// The sender's retry key.
    #[diesel(sql_type = Text)]
    pub idempotency_key: String,
    /// When.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

const MESSAGE_COLUMNS: &str = "id, conversation_id, sender_id, recipient_id, body, idempotency_key, created_at";

/// A message to insert.
pub struct NewMessage<'a> {
    /// Id.
    pub id: Uuid,
    /// Conversation.
    pub conversation_id: Uuid,
    /// Sender.
    pub sender_id: Uuid,
    /// Recipient.
    pub recipient_id: Uuid,
    /// Text.
    pub body: &'a str,
    /// Retry key.
    pub idempotency_key: &'a str,
    /// Now.
    pub created_at: DateTime<Utc>,
}

/// Inserts a message; `None` when the sender already sent one with this key (a concurrent
/// retry waits for the first to commit, then finds it here).
pub async fn insert_message(conn: &mut AsyncPgConnection, message: &NewMessage<'_>) -> QueryResult<Option<MessageRow>> {
    diesel::sql_query(format!(
        "INSERT INTO community.messages (id, conversation_id, sender_id, recipient_id, body, idempotency_key, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (sender_id, idempotency_key) DO NOTHING RETURNING {MESSAGE_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(message.id)
    .bind::<SqlUuid, _>(message.conversation_id)
    .bind::<SqlUuid, _>(message.sender_id)
    .bind::<SqlUuid, _>(message.recipient_id)
    .bind::<Text, _>(message.body)
    .bind::<Text, _>(message.idempotency_key)
    .bind::<Timestamptz, _>(message.created_at)
    .get_result(conn)
    .await
    .optional()
}

/// The message `sender` sent with `key`.
pub async fn by_key(conn: &mut AsyncPgConnection, sender: Uuid, key: &str) -> QueryResult<Option<MessageRow>> {
    diesel::sql_query(format!("SELECT {MESSAGE_COLUMNS} FROM community.messages WHERE sender_id = $1 AND idempotency_key = $2"))
        .bind::<SqlUuid, _>(sender)
        .bind::<Text, _>(key)
        .get_result(conn)
        .await
        .optional()
}

/// A message sent: both members' rows get it as their last message (unless a later one, sent
/// concurrently, committed first); the recipient's unread count grows by one. One statement, rows in ascending `user_id`.
pub async fn delivered(conn: &mut AsyncPgConnection, message: &MessageRow) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO community.conversation_members (conversation_id, user_id, other_user_id, last_message_id, last_message_at, unread_count) \
         SELECT $1, member, other, $4, $5, unread FROM (VALUES ($2::uuid, $3::uuid, 0::bigint), ($3::uuid, $2::uuid, 1::bigint)) AS m(member, other, unread) \
         ORDER BY member \
         ON CONFLICT (conversation_id, user_id) DO UPDATE SET \
         last_message_id = CASE WHEN EXCLUDED.last_message_at >= community.conversation_members.last_message_at \
             THEN EXCLUDED.last_message_id ELSE community.conversation_members.last_message_id END, \
         last_message_at = greatest(community.conversation_members.last_message_at, EXCLUDED.last_message_at), unread_count = community.conversation_members.unread_count + EXCLUDED.unread_count",
    )
    .bind::<SqlUuid, _>(message.conversation_id)
    .bind::<SqlUuid, _>(message.sender_id)
    .bind::<SqlUuid, _>(message.recipient_id)
    .bind::<SqlUuid, _>(message.id)
    .bind::<Timestamptz, _>(message.created_at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A member's view of a conversation, with its last message.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct ConversationRow {
    /// The conversation.
    #[diesel(sql_type = SqlUuid)]
    pub conversation_id: Uuid,
    /// The member.
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    /// The other member.
    #[diesel(sql_type = SqlUuid)]
    pub other_user_id: Uuid,
    /// Messages since the member last read it.
    #[diesel(sql_type = BigInt)]
    pub unread_count: i64,
    /// When the member last read it.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub last_read_at: Option<DateTime<Utc>>,
    /// When the last message was sent (the list's order).
    #[diesel(sql_type = Timestamptz)]
    pub last_message_at: DateTime<Utc>,
    /// The last message's id.
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// Its sender.
    #[diesel(sql_type = SqlUuid)]
    pub sender_id: Uuid,
    /// Its recipient.
    #[diesel(sql_type = SqlUuid)]
    pub recipient_id: Uuid,
    /// Its text.
    #[diesel(sql_type = Text)]
    pub body: String,
    /// Its retry key.
    #[diesel(sql_type = Text)]
    pub idempotency_key: String,
    /// When it was sent.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

impl ConversationRow {
    /// The last message.
    pub fn last_message(&self) -> MessageRow {
        MessageRow {
            id: self.id,
            conversation_id: self.conversation_id,
            sender_id: self.sender_id,
            recipient_id: self.recipient_id,
            body: self.body.clone(),
            idempotency_key: self.idempotency_key.clone(),
            created_at: self.created_at,
        }
    }
}

const CONVERSATION_SELECT: &str = "SELECT c.conversation_id, c.user_id, c.other_user_id, c.unread_count, c.last_read_at, c.last_message_at, \
     m.id, m.sender_id, m.recipient_id, m.body, m.idempotency_key, m.created_at \
     FROM community.conversation_members c JOIN community.messages m ON m.id = c.last_message_id";

/// `user`'s conversations, latest message first, `limit` after `after` (micros, id).
pub async fn conversations(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    after: Option<(i64, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<ConversationRow>> {
    const CONVERSATIONS: NewestFirst<'_> =
        NewestFirst { select: CONVERSATION_SELECT, owner: "c.user_id", at: "c.last_message_at", id: "c.conversation_id" };
    CONVERSATIONS.page(conn, user, after, limit).await
}

/// `user`'s view of one conversation (`None`: not a member, or no message yet).
pub async fn conversation(conn: &mut AsyncPgConnection, conversation: Uuid, user: Uuid) -> QueryResult<Option<ConversationRow>> {
    diesel::sql_query(format!("{CONVERSATION_SELECT} WHERE c.conversation_id = $1 AND c.user_id = $2"))
        .bind::<SqlUuid, _>(conversation)
        .bind::<SqlUuid, _>(user)
        .get_result(conn)
        .await
        .optional()
}

/// Marks a conversation read by `user`: its unread count drops to zero. `false`: not a member.
pub async fn mark_read(conn: &mut AsyncPgConnection, conversation: Uuid, user: Uuid, now: DateTime<Utc>) -> QueryResult<bool> {
    diesel::sql_query(
        "UPDATE community.conversation_members SET unread_count = 0, last_read_at = $3 WHERE conversation_id = $1 AND user_id = $2",
    )
    .bind::<SqlUuid, _>(conversation)
    .bind::<SqlUuid, _>(user)
    .bind::<Timestamptz, _>(now)
    .execute(conn)
    .await
    .map(|rows| rows == 1)
}

/// A conversation's messages, newest first, `limit` after `after` (micros, id).
pub async fn history(
    conn: &mut AsyncPgConnection,
    conversation: Uuid,
    after: Option<(i64, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<MessageRow>> {
    let select = format!("SELECT {MESSAGE_COLUMNS} FROM community.messages");
    NewestFirst { select: &select, owner: "conversation_id", at: "created_at", id: "id" }.page(conn, conversation, after, limit).await
}

/// Messages of one conversation (for tests and the audit of a send: nothing written).
pub async fn count_between(conn: &mut AsyncPgConnection, a: Uuid, b: Uuid) -> QueryResult<i64> {
    diesel::sql_query(
        "SELECT count(*) AS n FROM community.messages WHERE (sender_id = $1 AND recipient_id = $2) OR (sender_id = $2 AND recipient_id = $1)",
    )
    .bind::<SqlUuid, _>(a)
    .bind::<SqlUuid, _>(b)
    .get_result::<super::Count>(conn)
    .await
    .map(|row| row.n)
}
