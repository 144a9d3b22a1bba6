//! Real-time fan-out: one core-NATS subscription per subject per process, however many local
//! subscribers (GraphQL subscriptions) share it, fanned out in-process through a bounded queue
//! per subscriber.
//!
//! Core NATS delivers a published event to every replica that holds a subscription; inside a
//! replica the [`Hub`] hands it to each local subscriber. Real-time events are notifications (a
//! missed one costs a stale screen, never data), so a subscriber that does not keep up loses
//! the messages that no longer fit its queue: they are counted (`realtime_messages_dropped_total`
//! and [`Subscription::dropped`]) and the others are never blocked, and no subscriber makes the
//! process hold more than `capacity` messages for it. Lossless work goes through JetStream.
//!
//! Lock order: the hub's topic map, then a topic's subscriber list (never the other way round).

use bytes::Bytes;
use futures::{Stream, StreamExt};
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll};
use tokio::sync::{mpsc, watch};

/// The in-process fan-out of core-NATS subjects (cheap to clone; clones share the topics).
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    client: async_nats::Client,
    capacity: usize,
    topics: Mutex<HashMap<String, Arc<Topic>>>,
    /// NATS subscriptions opened so far (one per topic start).
    opened: AtomicU64,
    /// Messages dropped for slow subscribers so far, all topics together.
    dropped: Arc<AtomicU64>,
}

/// One subject with at least one local subscriber, and the task that reads it from NATS.
struct Topic {
    subject: String,
    subscribers: Mutex<Subscribers>,
    /// The hub's drop counter.
    dropped_total: Arc<AtomicU64>,
    /// `None` while the NATS subscription is being set up, then its outcome.
    ready: watch::Receiver<Option<Result<(), String>>>,
    reader: Mutex<Option<tokio::task::AbortHandle>>,
}

#[derive(Default)]
struct Subscribers {
    next_id: u64,
    entries: HashMap<u64, Entry>,
}

struct Entry {
    sender: mpsc::Sender<Bytes>,
    dropped: Arc<AtomicU64>,
}

/// The NATS subscription behind a topic could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("could not subscribe to {subject}: {reason}")]
pub struct SubscribeError {
    subject: String,
    reason: String,
}

impl Hub {
    /// Fans out subjects of `client`; each subscriber queues at most `capacity` messages (at least 1).
    pub fn new(client: async_nats::Client, capacity: usize) -> Hub {
        Hub {
            inner: Arc::new(Inner {
                client,
                capacity: capacity.max(1),
                topics: Mutex::new(HashMap::new()),
                opened: AtomicU64::new(0),
                dropped: Arc::default(),
            }),
        }
    }

    /// A stream of the payloads published to `subject` from now on. The first subscriber of a
    /// subject opens its NATS subscription; once this returns, the server has registered it, so
    /// a message published afterwards by any client is not missed. Dropping the last subscriber of a subject
    /// unsubscribes from NATS.
    pub async fn subscribe(&self, subject: &str) -> Result<Subscription, SubscribeError> {
        let (sender, receiver) = mpsc::channel(self.inner.capacity);
        let dropped = Arc::new(AtomicU64::new(0));
        let (topic, id) = {
            let mut topics = lock(&self.inner.topics);
            let topic = match topics.get(subject) {
                Some(topic) => Arc::clone(topic),
                None => {
                    let topic = self.start_topic(subject);
                    topics.insert(subject.to_owned(), Arc::clone(&topic));
                    topic
                }
            };
            let id = topic.add(Entry { sender, dropped: Arc::clone(&dropped) });
            (topic, id)
        };
        metrics::gauge!("realtime_subscribers").increment(1.0);
        // Built before waiting, so a failure below leaves the topic through `Membership::drop`.
        let subscription = Subscription { receiver, dropped, membership: Membership { hub: Arc::clone(&self.inner), topic, id } };
        subscription.membership.topic.wait_ready().await?;
        Ok(subscription)
    }

    /// Subjects with at least one local subscriber (each holds exactly one NATS subscription).
    pub fn topic_count(&self) -> usize {
        lock(&self.inner.topics).len()
    }

    /// Local subscribers of `subject`.
    pub fn subscriber_count(&self, subject: &str) -> usize {
        lock(&self.inner.topics).get(subject).map_or(0, |topic| lock(&topic.subscribers).entries.len())
    }

    /// Messages dropped for slow subscribers since the hub was created.
    pub fn dropped_total(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }

    /// NATS subscriptions this hub has opened since it was created.
    pub fn nats_subscriptions_opened(&self) -> u64 {
        self.inner.opened.load(Ordering::Relaxed)
    }

    /// Registers the topic and starts its reader task (called with the topic map locked).
    fn start_topic(&self, subject: &str) -> Arc<Topic> {
        let (ready_tx, ready) = watch::channel(None);
        let topic = Arc::new(Topic {
            subject: subject.to_owned(),
            subscribers: Mutex::default(),
            dropped_total: Arc::clone(&self.inner.dropped),
            ready,
            reader: Mutex::new(None),
        });
        self.inner.opened.fetch_add(1, Ordering::Relaxed);
        metrics::gauge!("realtime_topics").increment(1.0);
        let task = tokio::spawn(read_topic(Arc::downgrade(&self.inner), Arc::clone(&topic), ready_tx));
        *lock(&topic.reader) = Some(task.abort_handle());
        topic
    }
}

/// Reads the topic's subject from NATS and hands every message to the local subscribers.
async fn read_topic(hub: Weak<Inner>, topic: Arc<Topic>, ready: watch::Sender<Option<Result<(), String>>>) {
    let Some(client) = hub.upgrade().map(|hub| hub.client.clone()) else { return };
    let subscribed = match client.subscribe(topic.subject.clone()).await {
        Ok(subscriber) => server_round_trip(&client).await.map(|()| subscriber),
        Err(error) => Err(error.to_string()),
    };
    let mut subscriber = match subscribed {
        Ok(subscriber) => subscriber,
        Err(reason) => {
            tracing::warn!(subject = %topic.subject, %reason, "real-time subscription failed");
            // Forget the topic so that the next subscriber tries again.
            if let Some(hub) = hub.upgrade() {
                hub.forget(&topic);
            }
            let _ = ready.send(Some(Err(reason)));
            return;
        }
    };
    let _ = ready.send(Some(Ok(())));
    while let Some(message) = subscriber.next().await {
        topic.deliver(&message.payload);
    }
    // Only a closed client ends a subscription: end the local streams too.
    if let Some(hub) = hub.upgrade() {
        hub.forget(&topic);
    }
    lock(&topic.subscribers).entries.clear();
}

/// Returns once the server has processed everything this client sent before: a request nobody
/// answers comes back as "no responders" only after the server has read the commands before it
/// on this connection (a flush only empties the client's buffer). So a message published by any
/// client after `subscribe` returns reaches the subscription.
async fn server_round_trip(client: &async_nats::Client) -> Result<(), String> {
    let subject = format!("_VG_SYNC.{}", uuid::Uuid::new_v4().simple());
    match client.request(subject, Bytes::new()).await {
        Err(error) if error.kind() == async_nats::client::RequestErrorKind::NoResponders => Ok(()),
        Err(error) => Err(error.to_string()),
        Ok(_) => Ok(()),
    }
}

impl Inner {
    /// Removes `topic` from the map if it is still the one registered for its subject.
    fn forget(&self, topic: &Arc<Topic>) {
        let mut topics = lock(&self.topics);
        if topics.get(&topic.subject).is_some_and(|current| Arc::ptr_eq(current, topic)) {
            topics.remove(&topic.subject);
            metrics::gauge!("realtime_topics").decrement(1.0);
        }
    }
}

impl Topic {
    fn add(&self, entry: Entry) -> u64 {
        let mut subscribers = lock(&self.subscribers);
        let id = subscribers.next_id;
        subscribers.next_id += 1;
        subscribers.entries.insert(id, entry);
        id
    }

    async fn wait_ready(&self) -> Result<(), SubscribeError> {
        let mut ready = self.ready.clone();
        let outcome = match ready.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone().unwrap_or(Ok(())),
            Err(_) => Err("the subscription task ended".to_owned()),
        };
        outcome.map_err(|reason| SubscribeError { subject: self.subject.clone(), reason })
    }

    /// Queues `payload` for every subscriber; a full queue drops it for that subscriber only.
    fn deliver(&self, payload: &Bytes) {
        let (mut delivered, mut dropped) = (0_u64, 0_u64);
        {
            let subscribers = lock(&self.subscribers);
            for entry in subscribers.entries.values() {
                match entry.sender.try_send(payload.clone()) {
                    Ok(()) => delivered += 1,
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        entry.dropped.fetch_add(1, Ordering::Relaxed);
                        dropped += 1;
                    }
                    // Its subscription is being dropped and leaves the list right after.
                    Err(mpsc::error::TrySendError::Closed(_)) => {}
                }
            }
        }
        metrics::counter!("realtime_messages_delivered_total").increment(delivered);
        if dropped > 0 {
            self.dropped_total.fetch_add(dropped, Ordering::Relaxed);
            metrics::counter!("realtime_messages_dropped_total").increment(dropped);
            tracing::debug!(subject = %self.subject, dropped, "slow real-time subscribers dropped a message");
        }
    }
}

/// The payloads of one subject for one local subscriber; dropping it leaves the topic.
pub struct Subscription {
    receiver: mpsc::Receiver<Bytes>,
    dropped: Arc<AtomicU64>,
    membership: Membership,
}

impl Subscription {
    /// Messages this subscriber lost because its queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Messages waiting in this subscriber's queue (never more than the hub's capacity).
    pub fn queued(&self) -> usize {
        self.receiver.len()
    }
}

impl Stream for Subscription {
    type Item = Bytes;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        self.receiver.poll_recv(cx)
    }
}

/// A subscriber's place in its topic; the last one to leave closes the NATS subscription.
struct Membership {
    hub: Arc<Inner>,
    topic: Arc<Topic>,
    id: u64,
}

impl Drop for Membership {
    fn drop(&mut self) {
        metrics::gauge!("realtime_subscribers").decrement(1.0);
        let mut topics = lock(&self.hub.topics);
        let now_empty = {
            let mut subscribers = lock(&self.topic.subscribers);
            subscribers.entries.remove(&self.id);
            subscribers.entries.is_empty()
        };
        // Under the map lock no subscriber can join in between, so the topic really is unused.
        if now_empty && topics.get(&self.topic.subject).is_some_and(|current| Arc::ptr_eq(current, &self.topic)) {
            topics.remove(&self.topic.subject);
            metrics::gauge!("realtime_topics").decrement(1.0);
            // Dropping the reader's NATS subscriber sends UNSUB.
            if let Some(reader) = lock(&self.topic.reader).take() {
                reader.abort();
            }
        }
    }
}

/// `events` up to and including the first one `is_last` accepts, then the end, at once.
///
/// A subscription whose topic has a final state (a finished download, an ended link) must end
/// right after it: through the router, identical subscriptions of one identity share one
/// upstream subscription, so an upstream left open after the end would be joined by the next
/// identical subscription, which would then never receive anything. (`take_while` or `scan`
/// only end when the event *after* the last one arrives, which for a finished topic is never.)
pub fn ending_after<S, T>(events: S, is_last: impl Fn(&T) -> bool + Send + 'static) -> impl Stream<Item = T> + Send + 'static
where
    S: Stream<Item = T> + Send + 'static,
    T: Send + 'static,
{
    futures::stream::unfold((Box::pin(events), false, is_last), |(mut events, ended, is_last)| async move {
        if ended {
            return None;
        }
        let event = events.next().await?;
        let ended = is_last(&event);
        Some((event, (events, ended, is_last)))
    })
}

/// Locks a mutex; a panic while it was held cannot leave these maps inconsistent (every
/// critical section is a single insert, remove or iteration), so poisoning is ignored.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::ending_after;
    use futures::StreamExt;

    #[tokio::test]
    async fn a_stream_ends_right_after_its_last_event_without_waiting_for_another() {
        // Two events, then a source that stays open forever, as a NATS subscription does.
        let source = futures::stream::iter([1, 2]).chain(futures::stream::pending());
        let mut events = Box::pin(ending_after(source, |event: &i32| *event == 2));
        assert_eq!(events.next().await, Some(1));
        assert_eq!(events.next().await, Some(2));
        let end = tokio::time::timeout(std::time::Duration::from_secs(5), events.next()).await;
        assert_eq!(end, Ok(None), "the stream ended without another event from its source");
    }
}
