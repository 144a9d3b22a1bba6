//! Pushes of a user's notifications and direct messages over core NATS, fanned out through the
//! process's [`platform::realtime::Hub`]: one NATS subscription per user subject per replica,
//! whichever replica holds the user's connections.
//!
//! A push is published after the transaction that recorded the row committed. It is a hint to
//! connected clients, not the record: a lost push costs a stale screen until the next list
//! query, never the notification or the message itself (those are rows).

use crate::store::messages::MessageRow;
use crate::store::notifications::NotificationRow;
use futures::{Stream, StreamExt};
use platform::nats::Nats;
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// Publishes and subscribes to users' inbox pushes.
#[derive(Clone)]
pub struct InboxPush {
    nats: Nats,
}

impl InboxPush {
    /// Over this NATS connection.
    pub fn new(nats: Nats) -> InboxPush {
        InboxPush { nats }
    }

    fn notification_subject(&self, user: Uuid) -> String {
        self.nats.subject(&format!("community.notifications.{user}"))
    }

    fn message_subject(&self, user: Uuid) -> String {
        self.nats.subject(&format!("community.messages.{user}"))
    }

    /// Tells the recipient's connections (on every replica) about a committed notification.
    pub async fn notification(&self, notification: &NotificationRow) {
        self.publish(self.notification_subject(notification.recipient_id), notification).await;
    }

    /// Tells the recipient's and the sender's connections (the sender's other devices) about a
    /// committed message.
    pub async fn message(&self, message: &MessageRow) {
        for user in [message.recipient_id, message.sender_id] {
            self.publish(self.message_subject(user), message).await;
        }
    }

    async fn publish(&self, subject: String, payload: &impl serde::Serialize) {
        let payload = match serde_json::to_vec(payload) {
            Ok(payload) => bytes::Bytes::from(payload),
            Err(error) => return tracing::warn!(%error, "could not encode an inbox push"),
        };
        if let Err(error) = self.nats.client.publish(subject, payload).await {
            tracing::warn!(%error, "could not publish an inbox push; the row is committed and listed");
        }
    }

    /// `user`'s notifications from now on.
    pub async fn notifications(&self, user: Uuid) -> anyhow::Result<impl Stream<Item = NotificationRow> + use<>> {
        Ok(decoded(self.nats.realtime().subscribe(&self.notification_subject(user)).await?))
    }

    /// Messages `user` receives or sends from now on.
    pub async fn messages(&self, user: Uuid) -> anyhow::Result<impl Stream<Item = MessageRow> + use<>> {
        Ok(decoded(self.nats.realtime().subscribe(&self.message_subject(user)).await?))
    }
}

fn decoded<T: DeserializeOwned>(subscription: platform::realtime::Subscription) -> impl Stream<Item = T> {
    subscription.filter_map(|payload| async move {
        serde_json::from_slice::<T>(&payload).inspect_err(|error| tracing::warn!(%error, "undecodable inbox push")).ok()
    })
}
