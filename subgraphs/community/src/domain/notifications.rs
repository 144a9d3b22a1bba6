//! Notifications: a like of one's post, comment or dynamic, a reply to it, a new follower.
//!
//! Every action that notifies calls [`record`] inside its own transaction, after its other
//! writes (step 7 of the lock order in [`crate::store`]), so the notification commits or rolls
//! back with the action. Repeated likes of one item fold into one notification ("alice, bob and
//! 12 others"): each distinct actor counts once, the newest are named, and a new actor makes
//! the row unread again. Nobody is notified of their own action, nor of an action of a user
//! they block. After the commit, the caller pushes what [`record`] returned through
//! [`InboxPush::notification`] to `notificationReceived`.

use super::CommunityError;
use super::moderation::{Activity, require_allowed};
use crate::events::inbox::InboxPush;
use crate::store::messages as blocks;
use crate::store::notifications::{self, NewNotification, NotificationRow};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use futures::Stream;
use platform::auth::AuthUser;
use platform::clock::SharedClock;
use platform::db::Db;
use uuid::Uuid;

/// The recipient's item a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A post.
    Post(Uuid),
    /// A comment or reply.
    Comment(Uuid),
    /// A streamer dynamic.
    Dynamic(Uuid),
}

impl Subject {
    /// The stored kind.
    pub fn kind(self) -> &'static str {
        match self {
            Subject::Post(_) => "post",
            Subject::Comment(_) => "comment",
            Subject::Dynamic(_) => "dynamic",
        }
    }

    /// The item's id.
    pub fn id(self) -> Uuid {
        match self {
            Subject::Post(id) | Subject::Comment(id) | Subject::Dynamic(id) => id,
        }
    }
}

/// What happened to the recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Their item was liked (every like of one item folds into one notification).
    Liked(Subject),
    /// Their item was replied to with the comment `reply` (one notification per reply).
    Replied {
        /// The item replied to.
        subject: Subject,
        /// The reply.
        reply: Uuid,
    },
    /// They were followed (one notification per follower: a re-follow does not notify again).
    Followed,
}

/// Rule: the stored kind, subject and fold key of an event for `actor`.
pub fn describe(event: Event, actor: Uuid, recipient: Uuid) -> (&'static str, &'static str, Uuid, Option<Uuid>, String) {
    match event {
        Event::Liked(subject) => ("like", subject.kind(), subject.id(), None, format!("like:{}:{}", subject.kind(), subject.id())),
        Event::Replied { subject, reply } => ("reply", subject.kind(), subject.id(), Some(reply), format!("reply:{reply}")),
        Event::Followed => ("follow", "user", recipient, None, format!("follow:{actor}")),
    }
}

/// Records that `actor` caused `event` for `recipient`, in the caller's transaction (take it
/// after every other row lock of the action: step 7). Returns the notification to push after
/// commit, or `None` when nothing changed: `actor` is `recipient`, `recipient` blocks `actor`,
/// or `actor` had already folded into this notification.
pub async fn record(
    conn: &mut AsyncPgConnection,
    recipient: Uuid,
    actor: Uuid,
    event: Event,
    now: DateTime<Utc>,
) -> Result<Option<NotificationRow>, CommunityError> {
    if recipient == actor || blocks::blocks(conn, recipient, actor).await? {
        return Ok(None);
    }
    let (kind, subject_kind, subject_id, reply_id, fold_key) = describe(event, actor, recipient);
    let new = NewNotification {
        id: Uuid::now_v7(),
        recipient_id: recipient,
        kind,
        subject_kind,
        subject_id,
        reply_id,
        fold_key: &fold_key,
        at: now,
    };
    let row = notifications::upsert_locked(conn, &new).await?;
    if !notifications::add_actor(conn, row.id, actor).await? {
        return Ok(None);
    }
    Ok(Some(notifications::fold_in(conn, row.id, actor, now).await?))
}

/// Most unread notifications counted (the count says "at least this many" past it).
pub const UNREAD_CAP: i64 = 1000;
/// Most ids `markNotificationsRead` takes at once.
pub const MAX_MARK_IDS: usize = 100;

/// Which notifications to mark read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkRead {
    /// These (the recipient's own among them).
    Ids(Vec<Uuid>),
    /// This one and everything older in the list.
    UpTo(Uuid),
}

impl MarkRead {
    /// Exactly one of `ids` (1–[`MAX_MARK_IDS`]) and `up_to`.
    pub fn parse(ids: Option<Vec<Uuid>>, up_to: Option<Uuid>) -> Result<MarkRead, CommunityError> {
        match (ids, up_to) {
            (Some(ids), None) if !ids.is_empty() && ids.len() <= MAX_MARK_IDS => Ok(MarkRead::Ids(ids)),
            (Some(_), None) => Err(CommunityError::invalid(format!("`ids` holds 1 to {MAX_MARK_IDS} notifications."))),
            (None, Some(up_to)) => Ok(MarkRead::UpTo(up_to)),
            _ => Err(CommunityError::invalid("Give either `ids` or `upTo`.")),
        }
    }
}

/// The notification service held in the schema data.
#[derive(Clone)]
pub struct Notifications {
    db: Db,
    clock: SharedClock,
    push: InboxPush,
}

impl Notifications {
    /// Over these backends.
    pub fn new(db: Db, clock: SharedClock, push: InboxPush) -> Notifications {
        Notifications { db, clock, push }
    }

    /// A page of `user`'s notifications, latest activity first.
    pub async fn page(&self, user: Uuid, after: Option<(i64, Uuid)>, limit: i64) -> Result<Vec<NotificationRow>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(notifications::page(&mut conn, user, after, limit).await?)
    }

    /// How many of `user`'s notifications are unread (at most [`UNREAD_CAP`]).
    pub async fn unread_count(&self, user: Uuid) -> Result<i64, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(notifications::unread_count(&mut conn, user, UNREAD_CAP).await?)
    }

    /// Marks some of `user`'s notifications read; returns the unread count after it. An `upTo`
    /// that is not theirs is `NOT_FOUND`; ids that are not theirs change nothing.
    pub async fn mark_read(&self, user: AuthUser, which: MarkRead) -> Result<i64, CommunityError> {
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, CommunityError, _>(async |conn| {
            require_allowed(conn, user.id, Activity::Other, now).await?;
            match &which {
                MarkRead::Ids(ids) => notifications::mark_read(conn, user.id, Some(ids.as_slice()), None, now).await?,
                MarkRead::UpTo(up_to) => {
                    if !notifications::belongs_to(conn, *up_to, user.id).await? {
                        return Err(CommunityError::NotFound("Notification"));
                    }
                    notifications::mark_read(conn, user.id, None, Some(*up_to), now).await?
                }
            };
            Ok(notifications::unread_count(conn, user.id, UNREAD_CAP).await?)
        })
        .await
    }

    /// Pushes notifications a committed transaction recorded.
    pub async fn push(&self, recorded: impl IntoIterator<Item = NotificationRow>) {
        for notification in recorded {
            self.push.notification(&notification).await;
        }
    }

    /// `user`'s notifications from now on, whichever replica records them.
    pub async fn subscribe(&self, user: Uuid) -> Result<impl Stream<Item = NotificationRow> + use<>, CommunityError> {
        self.push.notifications(user).await.map_err(CommunityError::internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn likes_of_one_item_share_a_fold_key_and_replies_and_followers_do_not() {
        let (alice, bob, carol) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let post = Subject::Post(Uuid::now_v7());
        assert_eq!(describe(Event::Liked(post), bob, alice).4, describe(Event::Liked(post), carol, alice).4);
        assert_ne!(describe(Event::Liked(post), bob, alice).4, describe(Event::Liked(Subject::Comment(post.id())), bob, alice).4);
        let (r1, r2) = (Uuid::now_v7(), Uuid::now_v7());
        assert_ne!(
            describe(Event::Replied { subject: post, reply: r1 }, bob, alice).4,
            describe(Event::Replied { subject: post, reply: r2 }, bob, alice).4
        );
        assert_ne!(describe(Event::Followed, bob, alice).4, describe(Event::Followed, carol, alice).4);
        assert_eq!(describe(Event::Followed, bob, alice).2, alice, "a follow is about the followed user");
    }

    #[test]
    fn mark_read_takes_exactly_one_bounded_selection() {
        let id = Uuid::now_v7();
        assert_eq!(MarkRead::parse(Some(vec![id]), None).expect("ids"), MarkRead::Ids(vec![id]));
        assert_eq!(MarkRead::parse(None, Some(id)).expect("up to"), MarkRead::UpTo(id));
        assert!(MarkRead::parse(None, None).is_err());
        assert!(MarkRead::parse(Some(vec![id]), Some(id)).is_err());
        assert!(MarkRead::parse(Some(Vec::new()), None).is_err());
        assert!(MarkRead::parse(Some(vec![id; MAX_MARK_IDS + 1]), None).is_err());
    }
}
