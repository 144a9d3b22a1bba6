//! PK updates over core NATS, fanned out through the process's [`platform::realtime::Hub`]:
//! one NATS subscription per subject per replica, however many viewers subscribe.
//!
//! Every update carries the whole link (state, both scores, deadlines) and its `revision`, so
//! a subscriber that missed one is corrected by the next, and one that sees an older revision
//! after a newer one (a snapshot read racing a publish) drops it.

use crate::store::pk::Pk;
use futures::{Stream, StreamExt};
use platform::nats::Nats;
use std::sync::Arc;
use tokio::sync::Notify;
use uuid::Uuid;

/// Publishes and subscribes to PK updates, and wakes timer pollers.
#[derive(Clone)]
pub struct PkNotifier {
    nats: Nats,
    /// Wakes this replica's timer poller at once (other replicas hear the NATS wake-up).
    local_wake: Arc<Notify>,
}

impl PkNotifier {
    /// Over this NATS connection.
    pub fn new(nats: Nats) -> PkNotifier {
        PkNotifier { nats, local_wake: Arc::new(Notify::new()) }
    }

    fn pk_subject(&self, pk_id: Uuid) -> String {
        self.nats.subject(&format!("live.pk.{pk_id}"))
    }

    fn room_subject(&self, room_id: Uuid) -> String {
        self.nats.subject(&format!("live.roompk.{room_id}"))
    }

    /// The subject new timers are announced on.
    pub fn timers_subject(&self) -> String {
        self.nats.subject("live.pktimers")
    }

    /// Tells every replica's subscribers the link as committed. A failed publish is logged:
    /// the change itself is committed, and the next update carries the whole state.
    pub async fn published(&self, pk: &Pk) {
        let payload = match serde_json::to_vec(pk) {
            Ok(payload) => bytes::Bytes::from(payload),
            Err(error) => return tracing::warn!(pk.id = %pk.id, %error, "could not encode a PK update"),
        };
        for subject in [self.pk_subject(pk.id), self.room_subject(pk.inviter_room_id), self.room_subject(pk.invitee_room_id)] {
            if let Err(error) = self.nats.client.publish(subject, payload.clone()).await {
                tracing::warn!(pk.id = %pk.id, %error, "could not publish a PK update");
            }
        }
    }

    /// Wakes the timer pollers of every replica (after a transaction that wrote a timer committed).
    pub async fn timer_written(&self) {
        self.local_wake.notify_one();
        if let Err(error) = self.nats.client.publish(self.timers_subject(), bytes::Bytes::new()).await {
            tracing::warn!(%error, "could not announce a PK timer; pollers find it at their next look");
        }
    }

    /// This replica's poller waits on it.
    pub fn local_wake(&self) -> Arc<Notify> {
        self.local_wake.clone()
    }

    /// The NATS connection.
    pub fn nats(&self) -> &Nats {
        &self.nats
    }

    /// Updates of one link from now on.
    pub async fn subscribe_pk(&self, pk_id: Uuid) -> anyhow::Result<impl Stream<Item = Pk> + use<>> {
        Ok(decoded(self.nats.realtime().subscribe(&self.pk_subject(pk_id)).await?))
    }

    /// Updates of every link of one room from now on.
    pub async fn subscribe_room(&self, room_id: Uuid) -> anyhow::Result<impl Stream<Item = Pk> + use<>> {
        Ok(decoded(self.nats.realtime().subscribe(&self.room_subject(room_id)).await?))
    }
}

fn decoded(subscription: platform::realtime::Subscription) -> impl Stream<Item = Pk> {
    subscription.filter_map(|payload| async move {
        serde_json::from_slice::<Pk>(&payload).inspect_err(|error| tracing::warn!(%error, "undecodable PK update")).ok()
    })
}
