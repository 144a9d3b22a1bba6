//! `notifications`, `markNotificationsRead` and the `notificationReceived` subscription: the
//! signed-in user's own notifications only.

use super::user::User;
use super::{CodedResultExt, parse_id};
use crate::domain::notifications::{MarkRead, Notifications};
use crate::domain::paging::{decode_position, encode_position, page_size};
use crate::store::notifications::NotificationRow;
use async_graphql::connection::{Connection, ConnectionNameType, Edge, EmptyFields};
use async_graphql::{Context, Enum, ID, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use platform::auth::{SignedIn, viewer};

/// What a notification says happened.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum NotificationKind {
    /// The subject was liked (all its likes fold into one notification).
    Like,
    /// The subject was replied to (`replyId` is the reply).
    Reply,
    /// The recipient was followed (the subject is the recipient).
    Follow,
}

/// What a notification is about.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum NotificationSubjectKind {
    /// One of the recipient's posts.
    Post,
    /// One of the recipient's comments or replies.
    Comment,
    /// One of the recipient's dynamics.
    Dynamic,
    /// The recipient themselves (a follow).
    User,
}

/// A notification of the signed-in user.
pub struct NotificationObject(pub NotificationRow);

#[Object(name = "Notification")]
impl NotificationObject {
    /// Stable id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// What happened.
    async fn kind(&self) -> NotificationKind {
        match self.0.kind.as_str() {
            "like" => NotificationKind::Like,
            "reply" => NotificationKind::Reply,
            _ => NotificationKind::Follow,
        }
    }

    /// What it is about.
    async fn subject_kind(&self) -> NotificationSubjectKind {
        match self.0.subject_kind.as_str() {
            "post" => NotificationSubjectKind::Post,
            "comment" => NotificationSubjectKind::Comment,
            "dynamic" => NotificationSubjectKind::Dynamic,
            _ => NotificationSubjectKind::User,
        }
    }

    /// The id of what it is about.
    async fn subject_id(&self) -> ID {
        ID(self.0.subject_id.to_string())
    }

    /// The reply (a comment) of a `REPLY` notification.
    async fn reply_id(&self) -> Option<ID> {
        self.0.reply_id.map(|id| ID(id.to_string()))
    }

    /// The most recent actors, newest first (at most 3).
    async fn actors(&self) -> Vec<User> {
        self.0.latest_actor_ids.iter().map(|id| User { id: *id }).collect()
    }

    /// How many distinct users it folds together.
    async fn actor_count(&self) -> i64 {
        self.0.actor_count
    }

    /// The actors not named in `actors` (the "and 12 others").
    async fn other_actor_count(&self) -> i64 {
        (self.0.actor_count - self.0.latest_actor_ids.len() as i64).max(0)
    }

    /// Whether its recipient has read it since the last actor folded in.
    async fn read(&self) -> bool {
        self.0.read_at.is_some()
    }

    /// When it was first recorded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the last actor folded in (the list's order).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// The signed-in user's notifications, with the unread count.
pub type NotificationList = Connection<String, NotificationObject, UnreadNotifications, EmptyFields, NotificationListName>;

/// Names [`NotificationList`] `NotificationConnection`.
pub struct NotificationListName;

impl ConnectionNameType for NotificationListName {
    fn type_name<T: async_graphql::OutputType>() -> String {
        "NotificationConnection".to_owned()
    }
}

/// The unread count beside a page of notifications.
#[derive(SimpleObject)]
pub struct UnreadNotifications {
    /// Unread notifications (counted up to 1000).
    unread_count: i64,
}

/// Notification queries.
#[derive(Default)]
pub struct NotificationQuery;

#[Object]
impl NotificationQuery {
    /// The signed-in user's notifications, latest activity first. `first` is 1–100 (default 20).
    #[graphql(guard = "SignedIn")]
    async fn notifications(&self, ctx: &Context<'_>, first: Option<i32>, after: Option<String>) -> async_graphql::Result<NotificationList> {
        let user = viewer(ctx).require_user().coded()?;
        let limit = page_size(first).coded()?;
        let after = decode_position(after.as_deref()).coded()?;
        let service = ctx.data::<Notifications>()?;
        let mut rows = service.page(user.id, after, limit + 1).await.coded()?;
        let unread_count = service.unread_count(user.id).await.coded()?;
        let has_next = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        let mut connection = NotificationList::with_additional_fields(after.is_some(), has_next, UnreadNotifications { unread_count });
        connection.edges.extend(
            rows.into_iter().map(|row| Edge::new(encode_position((row.updated_at.timestamp_micros(), row.id)), NotificationObject(row))),
        );
        Ok(connection)
    }
}

/// Notification mutations.
#[derive(Default)]
pub struct NotificationMutation;

#[Object]
impl NotificationMutation {
    /// Marks the signed-in user's notifications read: those in `ids` (1–100), or `upTo` one and
    /// every one before it in the list. Exactly one of the two. Returns the unread count after it.
    #[graphql(guard = "SignedIn")]
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        ids: Option<Vec<ID>>,
        up_to: Option<ID>,
    ) -> async_graphql::Result<UnreadNotifications> {
        let user = viewer(ctx).require_user().coded()?;
        let ids = ids.map(|ids| ids.iter().map(|id| parse_id(id, "ids")).collect::<Result<Vec<_>, _>>()).transpose()?;
        let up_to = up_to.as_ref().map(|id| parse_id(id, "upTo")).transpose()?;
        let which = MarkRead::parse(ids, up_to).coded()?;
        let unread_count = ctx.data::<Notifications>()?.mark_read(user, which).await.coded()?;
        Ok(UnreadNotifications { unread_count })
    }
}

/// Notification subscriptions.
#[derive(Default)]
pub struct NotificationSubscription;

#[Subscription]
impl NotificationSubscription {
    /// The signed-in user's notifications as they are recorded (a new one, or a new actor
    /// folding into one), whichever replica records them.
    async fn notification_received(&self, ctx: &Context<'_>) -> async_graphql::Result<impl Stream<Item = NotificationObject> + use<>> {
        let user = viewer(ctx).require_user().coded()?;
        let feed = ctx.data::<Notifications>()?.subscribe(user.id).await.coded()?;
        Ok(feed.map(NotificationObject))
    }
}
