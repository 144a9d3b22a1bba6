//! Real-time events of `content` over core NATS: every replica that holds a subscription
//! receives them, whichever replica caused the change. They are notifications (a missed one
//! costs a stale screen, not data), so core NATS suffices; lossless work goes through JetStream.

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

    /// Tells every replica that `user_id` changed. A failed publish is logged, not returned:
    /// the change itself is committed.
    pub async fn user_updated(&self, user_id: Uuid) {
        if let Err(error) = self.nats.client.publish(self.subject(user_id), user_id.to_string().into()).await {
            tracing::warn!(user.id = %user_id, %error, "could not publish user update");
        }
    }

    /// A stream with one item per change of `user_id`.
    pub async fn subscribe_user(&self, user_id: Uuid) -> anyhow::Result<impl Stream<Item = Uuid> + use<>> {
        let subscriber = self.nats.client.subscribe(self.subject(user_id)).await?;
        // The server has registered the subscription once the flush returns, so an update
        // published right after this call is not missed.
        self.nats.client.flush().await?;
        Ok(subscriber.map(move |_| user_id))
    }
}
