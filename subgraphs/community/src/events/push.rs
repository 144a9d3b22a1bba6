//! `dynamicPublished`: one NATS message per new dynamic, delivered by every replica to the
//! streamer's followers connected to it.
//!
//! The announcement is written to `community.outbox` in the dynamic's own transaction
//! ([`crate::events::CommunityEvents::dynamic_announced`]) and published by the outbox relay
//! after commit to [`PUSH_STREAM`]'s subject: a crash between the commit and the publish delays
//! the push (the relay of any replica sends it when it runs again), never loses it, and a
//! dynamic whose transaction rolls back is never announced. JetStream keeps the announcements
//! only briefly (nobody consumes the stream durably); every replica receives each one as a
//! plain subscriber of its subject. A relay that re-sends after a crash may deliver one twice.
//!
//! A streamer with 100,000 followers costs one NATS message, not 100,000: the event carries the
//! committed dynamic, every replica receives it once (one subscription per process, through the
//! [`platform::realtime::Hub`]), and each replica keeps the set of users connected to
//! `dynamicPublished` on it. On an event it asks Postgres which of *those* users follow the
//! streamer, in one statement (`follower_id = ANY(connected)`, on the follow graph's primary
//! key), and hands the dynamic to their connections. Postgres, not an in-memory follow set, is
//! the source of truth: a follow made on another replica a millisecond ago counts, and a replica
//! holds nothing per follower that could go stale or grow with the graph. The cost is one
//! indexed lookup per dynamic per replica, bounded by the users connected to it.
//!
//! Pushes are notifications: a follower who is not connected, whose queue is full (it holds
//! [`CONNECTION_QUEUE`] dynamics, then drops), or who misses an event because a replica
//! restarted, finds the dynamic in `followingDynamics` / `dynamicsSince`.

use crate::store::dynamics::{self, Dynamic};
use futures::{Stream, StreamExt};
use platform::db::Db;
use platform::events::StreamSpec;
use platform::nats::Nats;
use platform::realtime::Subscription;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use tokio::sync::mpsc;
use uuid::Uuid;

/// Dynamics one connection may have waiting before new ones are dropped for it.
pub const CONNECTION_QUEUE: usize = 64;

/// The stream that captures dynamics' push announcements, so that the outbox relay's
/// JetStream publish has a home. An hour is plenty: replicas listen to the subject live.
pub const PUSH_STREAM: StreamSpec =
    StreamSpec { name: "COMMUNITY_PUSHES", subjects: "community.pushes", max_age: std::time::Duration::from_secs(3600) };
/// Subject kind of a dynamic's announcement in [`PUSH_STREAM`].
pub const DYNAMIC_PUSH_KIND: &str = "dynamics";

/// The push side of dynamics, one per process (cheap to clone; clones share the connections).
#[derive(Clone)]
pub struct DynamicPush {
    inner: Arc<Inner>,
}

/// Each connected user's connections, by connection id.
type Connections = HashMap<Uuid, HashMap<u64, mpsc::Sender<Arc<Dynamic>>>>;

struct Inner {
    nats: Nats,
    db: Db,
    subject: String,
    /// Set once this process's subscription to new dynamics is open (by the first connection).
    listening: tokio::sync::OnceCell<()>,
    next_id: AtomicU64,
    /// Users connected to `dynamicPublished` on this replica, each with their connections.
    connected: Mutex<Connections>,
}

impl DynamicPush {
    /// Push over this deployment's NATS, looking followers up in `db`.
    pub fn new(nats: &Nats, db: &Db) -> DynamicPush {
        DynamicPush {
            inner: Arc::new(Inner {
                nats: nats.clone(),
                db: db.clone(),
                subject: PUSH_STREAM.subject(nats, DYNAMIC_PUSH_KIND),
                listening: tokio::sync::OnceCell::new(),
                next_id: AtomicU64::new(0),
                connected: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Opens this process's one subscription to new dynamics (the first call; later ones
    /// return at once) and starts delivering from it. Once it returns, a dynamic published by
    /// any replica reaches this replica's connections. A replica nobody connected to holds no
    /// subscription.
    async fn listen(&self) -> anyhow::Result<()> {
        self.inner
            .listening
            .get_or_try_init(|| async {
                let events = self.inner.nats.realtime().subscribe(&self.inner.subject).await?;
                // The task holds only a weak handle: it ends with the last clone of the push.
                tokio::spawn(run(Arc::downgrade(&self.inner), events));
                anyhow::Ok(())
            })
            .await
            .map(|_| ())
    }

    /// Hands `dynamic` to the connections of the users connected here who follow its author:
    /// one SQL statement (none when nobody is connected). Returns how many connections got it.
    pub async fn deliver(&self, dynamic: Arc<Dynamic>) -> anyhow::Result<usize> {
        let users: Vec<Uuid> = self.connected().keys().copied().collect();
        if users.is_empty() {
            return Ok(0);
        }
        let mut conn = self.inner.db.pool.get().await?;
        let followers = dynamics::followers_among(&mut conn, dynamic.author_id, &users).await?;
        drop(conn);
        let connected = self.connected();
        let mut delivered = 0;
        for follower in followers {
            for sender in connected.get(&follower).into_iter().flat_map(HashMap::values) {
                // A full queue drops this dynamic for that connection only; nobody waits.
                if sender.try_send(Arc::clone(&dynamic)).is_ok() {
                    delivered += 1;
                } else {
                    metrics::counter!("community_dynamic_push_dropped_total").increment(1);
                }
            }
        }
        metrics::counter!("community_dynamic_push_delivered_total").increment(delivered as u64);
        Ok(delivered)
    }

    /// Registers a connection of `user`; the feed yields the dynamics pushed to them until it
    /// is dropped (which unregisters it). Once it returns, the connection receives every
    /// dynamic published afterwards on any replica.
    pub async fn connect(&self, user: Uuid) -> anyhow::Result<DynamicFeed> {
        self.listen().await?;
        let (sender, receiver) = mpsc::channel(CONNECTION_QUEUE);
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        self.connected().entry(user).or_default().insert(id, sender);
        Ok(DynamicFeed { receiver, push: self.clone(), user, id })
    }

    /// How many users are connected here.
    pub fn connected_users(&self) -> usize {
        self.connected().len()
    }

    fn connected(&self) -> MutexGuard<'_, Connections> {
        self.inner.connected.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Delivers every dynamic of `events` to the connected followers of its author, one at a time
/// (in publication order), until the push is dropped.
async fn run(push: std::sync::Weak<Inner>, mut events: Subscription) {
    while let Some(payload) = events.next().await {
        let Some(inner) = push.upgrade() else { return };
        let push = DynamicPush { inner };
        match serde_json::from_slice::<Dynamic>(&payload) {
            Ok(dynamic) => {
                if let Err(error) = push.deliver(Arc::new(dynamic)).await {
                    tracing::warn!(error = format!("{error:#}"), "could not look up the followers of a pushed dynamic");
                }
            }
            Err(error) => tracing::warn!(%error, "ignored an undecodable dynamic"),
        }
    }
}

/// The dynamics pushed to one connection.
pub struct DynamicFeed {
    receiver: mpsc::Receiver<Arc<Dynamic>>,
    push: DynamicPush,
    user: Uuid,
    id: u64,
}

impl Stream for DynamicFeed {
    type Item = Arc<Dynamic>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.receiver.poll_recv(cx)
    }
}

impl Drop for DynamicFeed {
    fn drop(&mut self) {
        let mut connected = self.push.connected();
        if let Some(connections) = connected.get_mut(&self.user) {
            connections.remove(&self.id);
            if connections.is_empty() {
                connected.remove(&self.user);
            }
        }
    }
}
