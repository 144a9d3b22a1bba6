//! Account changes over core NATS: every replica that holds a subscription receives them,
//! whichever replica caused the change. They are notifications (a missed one costs a stale
//! screen, not data), so core NATS suffices; lossless work goes through the outbox.

use crate::store::users::User;
use futures::{Stream, StreamExt};
use platform::nats::Nats;
use uuid::Uuid;

/// Publishes and subscribes to account changes.
#[derive(Clone)]
pub struct UserEvents {
    nats: Nats,
}

impl UserEvents {
    /// Over this NATS connection.
    pub fn new(nats: Nats) -> UserEvents {
        UserEvents { nats }
    }

    fn subject(&self, user_id: Uuid) -> String {
        self.nats.subject(&format!("content.user.updated.{user_id}"))
    }

    /// Tells every replica the account as it was committed. The event carries the row, so each
    /// subscriber sees exactly this version (not a later one) and no subscriber queries the
    /// database. A failed publish is logged, not returned: the change itself is committed.
    pub async fn user_updated(&self, user: &User) {
        let published = match serde_json::to_vec(user) {
            Ok(payload) => self.nats.client.publish(self.subject(user.id), payload.into()).await.map_err(anyhow::Error::from),
            Err(error) => Err(error.into()),
        };
        if let Err(error) = published {
            tracing::warn!(user.id = %user.id, %error, "could not publish user update");
        }
    }

    /// A stream with the account after each change of `user_id`. Every subscription of one
    /// account shares the process's single NATS subscription of its subject (`platform::realtime`).
    pub async fn subscribe_user(&self, user_id: Uuid) -> anyhow::Result<impl Stream<Item = User> + use<>> {
        let subscription = self.nats.realtime().subscribe(&self.subject(user_id)).await?;
        Ok(subscription.filter_map(move |payload| async move {
            serde_json::from_slice::<User>(&payload)
                .inspect_err(|error| tracing::warn!(user.id = %user_id, %error, "undecodable user event"))
                .ok()
        }))
    }
}
