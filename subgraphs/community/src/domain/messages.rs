//! Direct messages and blocks.
//!
//! A send is one transaction: the sender's standing (a muted or banned sender is refused), the
//! recipient's block (a blocked sender is refused, and so is a sender who blocks the
//! recipient), the text filter, then the message and both members' conversation rows (the
//! recipient's unread count). Refused sends write nothing. An idempotency key per sender makes a
//! retried send return the first message instead of sending a second one. The push to
//! `messageReceived` follows the commit.

use super::CommunityError;
use super::directory::Directory;
use super::moderation::{Activity, require_allowed};
use super::text_filter::{KeywordFilter, TextModerator, Verdict};
use crate::events::inbox::InboxPush;
use crate::store::messages::{self, BlockRow, ConversationRow, MessageRow, NewMessage};
use crate::store::review;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use futures::Stream;
use platform::auth::AuthUser;
use platform::clock::SharedClock;
use platform::db::Db;
use platform::rate_limit::{RateDecision, RateLimit};
use platform::redis::Redis;
use std::time::Duration;
use uuid::Uuid;

/// Messages one user may send per window (over all conversations).
pub const MESSAGE_LIMIT: RateLimit = RateLimit { name: "community:message", max: 30, window: Duration::from_secs(60) };
/// Block and unblock calls one user may make per window.
pub const BLOCK_LIMIT: RateLimit = RateLimit { name: "community:block", max: 60, window: Duration::from_secs(600) };
/// Longest message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 2000;
/// Longest idempotency key, in characters.
pub const MAX_KEY_CHARS: usize = 64;

/// Rule: a message's text, trimmed: 1 to [`MAX_MESSAGE_CHARS`] characters.
pub fn message_body(raw: &str) -> Result<String, CommunityError> {
    let body = raw.trim();
    if body.is_empty() {
        return Err(CommunityError::invalid("A message has some text."));
    }
    if body.chars().count() > MAX_MESSAGE_CHARS {
        return Err(CommunityError::invalid(format!("A message is at most {MAX_MESSAGE_CHARS} characters.")));
    }
    Ok(body.to_owned())
}

/// Rule: an idempotency key is 1 to [`MAX_KEY_CHARS`] visible ASCII characters.
pub fn idempotency_key(raw: &str) -> Result<&str, CommunityError> {
    if raw.is_empty() || raw.len() > MAX_KEY_CHARS || !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(CommunityError::invalid(format!("`idempotencyKey` is 1 to {MAX_KEY_CHARS} visible ASCII characters.")));
    }
    Ok(raw)
}

/// Rule: nobody messages or blocks themselves.
pub fn other_user(viewer: Uuid, other: Uuid, what: &str) -> Result<(), CommunityError> {
    if viewer == other { Err(CommunityError::invalid(format!("You cannot {what} yourself."))) } else { Ok(()) }
}

/// What a send did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The message.
    pub message: MessageRow,
    /// Whether it is the first send with this key's message (`true`: a retry returned it).
    pub replayed: bool,
}

/// Which conversation a history is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// By id.
    Conversation(Uuid),
    /// The viewer's conversation with this user.
    WithUser(Uuid),
}

/// The direct-message service held in the schema data.
#[derive(Clone)]
pub struct Messages {
    db: Db,
    redis: Redis,
    clock: SharedClock,
    push: InboxPush,
    directory: Directory,
}

impl Messages {
    /// Over these backends; recipients and blocked users are looked up in `directory`.
    pub fn new(db: Db, redis: Redis, clock: SharedClock, push: InboxPush, directory: Directory) -> Messages {
        Messages { db, redis, clock, push, directory }
    }

    async fn throttle(&self, limit: &RateLimit, user: Uuid, what: &'static str) -> Result<(), CommunityError> {
        match limit.hit(&self.redis, &user.to_string()).await.map_err(CommunityError::internal)? {
            RateDecision::Limited { retry_after_secs } => Err(CommunityError::RateLimited { what, retry_after_secs }),
            RateDecision::Allowed { .. } => Ok(()),
        }
    }

    /// Sends `text` from `sender` to `to`; a retry with the same `key` returns the first message
    /// (`CONFLICT` when the retry says something else or to someone else). `NOT_FOUND` when `to`
    /// is no account.
    pub async fn send(&self, sender: AuthUser, to: Uuid, text: &str, key: &str) -> Result<Sent, CommunityError> {
        other_user(sender.id, to, "message")?;
        let body = message_body(text)?;
        let key = idempotency_key(key)?;
        let now = self.clock.now();
        // Before this send takes a connection: the directory check takes one of its own (and
        // may wait for a fresh account), so holding ours across it let concurrent retries use
        // up the pool and time out.
        self.directory.require_account(to).await?;
        let mut conn = self.db.pool.get().await?;
        // A retry of a committed send is answered before it counts against the rate limit.
        if let Some(first) = messages::by_key(&mut conn, sender.id, key).await? {
            return replay(first, to, &body);
        }
        self.throttle(&MESSAGE_LIMIT, sender.id, "Too many messages").await?;
        let sent = conn
            .transaction::<_, CommunityError, _>(async |conn| {
                require_allowed(conn, sender.id, Activity::Publish, now).await?;
                if messages::blocks(conn, to, sender.id).await? {
                    return Err(CommunityError::Forbidden("This user does not accept your messages.".into()));
                }
                if messages::blocks(conn, sender.id, to).await? {
                    return Err(CommunityError::Forbidden("You block this user; unblock them to send a message.".into()));
                }
                judge(conn, &body).await?;
                let conversation_id = messages::conversation_of(conn, sender.id, to, now).await?;
                let new = NewMessage {
                    id: Uuid::now_v7(),
                    conversation_id,
                    sender_id: sender.id,
                    recipient_id: to,
                    body: &body,
                    idempotency_key: key,
                    created_at: now,
                };
                let Some(message) = messages::insert_message(conn, &new).await? else {
                    // A concurrent send with this key committed first.
                    let first = messages::by_key(conn, sender.id, key).await?.ok_or(CommunityError::NotFound("Message"))?;
                    return replay(first, to, &body);
                };
                messages::delivered(conn, &message).await?;
                Ok(Sent { message, replayed: false })
            })
            .await?;
        if !sent.replayed {
            self.push.message(&sent.message).await;
        }
        Ok(sent)
    }

    /// `user`'s conversations, latest message first.
    pub async fn conversations(&self, user: Uuid, after: Option<(i64, Uuid)>, limit: i64) -> Result<Vec<ConversationRow>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(messages::conversations(&mut conn, user, after, limit).await?)
    }

    /// `user`'s view of a conversation (`NOT_FOUND` unless they are in it).
    pub async fn conversation(&self, user: Uuid, conversation: Uuid) -> Result<ConversationRow, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        messages::conversation(&mut conn, conversation, user).await?.ok_or(CommunityError::NotFound("Conversation"))
    }

    /// A page of a conversation of `user`'s, newest first. `NOT_FOUND` for a conversation they
    /// are not in; an empty page for a user they never wrote with.
    pub async fn history(
        &self,
        user: Uuid,
        which: Which,
        after: Option<(i64, Uuid)>,
        limit: i64,
    ) -> Result<Vec<MessageRow>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        let conversation = match which {
            Which::Conversation(id) => {
                messages::conversation(&mut conn, id, user).await?.ok_or(CommunityError::NotFound("Conversation"))?.conversation_id
            }
            Which::WithUser(other) => match messages::find_conversation_of(&mut conn, user, other).await? {
                Some(id) => id,
                None => return Ok(Vec::new()),
            },
        };
        Ok(messages::history(&mut conn, conversation, after, limit).await?)
    }

    /// Marks a conversation read by `user` (its unread count drops to zero).
    pub async fn mark_read(&self, user: AuthUser, conversation: Uuid) -> Result<ConversationRow, CommunityError> {
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, CommunityError, _>(async |conn| {
            require_allowed(conn, user.id, Activity::Other, now).await?;
            if !messages::mark_read(conn, conversation, user.id, now).await? {
                return Err(CommunityError::NotFound("Conversation"));
            }
            messages::conversation(conn, conversation, user.id).await?.ok_or(CommunityError::NotFound("Conversation"))
        })
        .await
    }

    /// `blocker` blocks (`block`) or unblocks `other`; idempotent. Returns whether it changed.
    /// Blocking an id that is no account is `NOT_FOUND`.
    pub async fn set_block(&self, blocker: AuthUser, other: Uuid, block: bool) -> Result<bool, CommunityError> {
        other_user(blocker.id, other, "block")?;
        self.throttle(&BLOCK_LIMIT, blocker.id, "Too many block changes").await?;
        if block {
            self.directory.require_account(other).await?;
        }
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, CommunityError, _>(async |conn| {
            require_allowed(conn, blocker.id, Activity::Other, now).await?;
            Ok(if block {
                messages::block(conn, blocker.id, other, now).await?
            } else {
                messages::unblock(conn, blocker.id, other).await?
            })
        })
        .await
    }

    /// Whom `user` blocks, most recent first.
    pub async fn blocked(&self, user: Uuid, after: Option<(i64, Uuid)>, limit: i64) -> Result<Vec<BlockRow>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(messages::blocked(&mut conn, user, after, limit).await?)
    }

    /// Messages `user` receives or sends from now on, whichever replica they are sent on.
    pub async fn subscribe(&self, user: Uuid) -> Result<impl Stream<Item = MessageRow> + use<>, CommunityError> {
        self.push.messages(user).await.map_err(CommunityError::internal)
    }
}

/// The answer to a retry: the first message, if the retry asks for the same thing.
fn replay(first: MessageRow, to: Uuid, body: &str) -> Result<Sent, CommunityError> {
    if first.recipient_id != to || first.body != body {
        return Err(CommunityError::Conflict("This idempotency key was used for another message.".into()));
    }
    Ok(Sent { message: first, replayed: true })
}

/// The text filter on a message: a blocked word refuses it (`BAD_USER_INPUT`). A flagged word
/// does not hold it back: a private message has no review queue, and flagging is for public
/// content an admin reviews.
async fn judge(conn: &mut AsyncPgConnection, text: &str) -> Result<(), CommunityError> {
    match KeywordFilter::new(&review::words(conn).await?).judge(text) {
        Verdict::Block => Err(CommunityError::invalid("The text contains a word that is not allowed here.")),
        Verdict::Allow | Verdict::Flag => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_texts_and_keys_are_bounded() {
        assert_eq!(message_body("  hi  ").expect("trimmed"), "hi");
        assert!(message_body("   ").is_err());
        assert!(message_body(&"x".repeat(MAX_MESSAGE_CHARS)).is_ok());
        assert!(message_body(&"é".repeat(MAX_MESSAGE_CHARS + 1)).is_err());
        assert!(idempotency_key("k-1").is_ok());
        for bad in ["", "has space", "ключ", &"k".repeat(MAX_KEY_CHARS + 1)] {
            assert!(idempotency_key(bad).is_err(), "{bad}");
        }
        let me = Uuid::now_v7();
        assert!(other_user(me, me, "message").is_err());
        assert!(other_user(me, Uuid::now_v7(), "message").is_ok());
    }

    #[test]
    fn a_retry_must_repeat_the_first_send() {
        let (to, other) = (Uuid::now_v7(), Uuid::now_v7());
        let first = MessageRow {
            id: Uuid::now_v7(),
            conversation_id: Uuid::now_v7(),
            sender_id: Uuid::now_v7(),
            recipient_id: to,
            body: "hi".into(),
            idempotency_key: "k".into(),
            created_at: chrono::Utc::now(),
        };
        assert!(replay(first.clone(), to, "hi").expect("same").replayed);
        assert!(matches!(replay(first.clone(), other, "hi"), Err(CommunityError::Conflict(_))));
        assert!(matches!(replay(first, to, "bye"), Err(CommunityError::Conflict(_))));
    }
}
