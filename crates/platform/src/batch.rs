//! Request-scoped batching of loads, without a timer.
//!
//! async-graphql's `DataLoader` collects keys for a fixed window (we ran it at 5 ms) on a task
//! of its own, shared by every request: each chained load of a page (videos, then their
//! authors) waited out a window, and a window that closed while a resolver was still
//! registering keys split the batch. A [`Batcher`] belongs to one request instead, and a batch
//! closes after a whole round of polling the request added no load to it: async-graphql polls
//! a request's resolvers (the items of a list, the fields of an object) in one task, so every
//! key they register before waiting joins the same batch, and the load starts as soon as they
//! all wait.
//!
//! A round is one poll of the whole request by the runtime, counted by [`in_rounds`] (which
//! [`PerRequest`] puts around every request and subscription). It cannot be a poll of the
//! batch itself: an object's fields run in a `FuturesUnordered`, which polls a field that woke
//! itself again before it returns to the list around it, so a batch that counted its own polls
//! closed before the next item of the list had joined (one statement per item, the reproduction
//! is community's `a_page_of_following_dynamics_costs_the_same_statements_for_5_and_50`).
//!
//! It reuses the [`Loader`] trait, so a loader written for `DataLoader` runs unchanged. Nothing
//! is cached between batches: a request that writes and then reads sees its write.

use async_graphql::dataloader::Loader;
use async_graphql::{Data, Executor, Request, Response};
use futures::future::{BoxFuture, FutureExt, Shared};
use futures::stream::{BoxStream, Stream, StreamExt};
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

/// What one batch resolves to, shared by everyone waiting for it.
type Outcome<K, V, E> = Arc<Result<HashMap<K, V>, E>>;

/// A batch's outcome as each of its waiters holds it.
type SharedOutcome<K, L> = Shared<BoxFuture<'static, Outcome<K, <L as Loader<K>>::Value, <L as Loader<K>>::Error>>>;

/// Batches the loads of one request (create one per request; see the module docs).
pub struct Batcher<K, L: Loader<K>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
{
    inner: Arc<Inner<K, L>>,
}

struct Inner<K, L: Loader<K>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
{
    loader: L,
    open: Mutex<Option<OpenBatch<K, L>>>,
}

/// The batch still taking keys.
struct OpenBatch<K, L: Loader<K>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
{
    /// Tells this batch from a later one.
    id: u64,
    keys: HashSet<K>,
    /// The round of the latest load that joined, a key asked again included (a repeated key
    /// adds nothing to `keys`, but its caller is still registering in that round).
    last_joined: u64,
    outcome: SharedOutcome<K, L>,
}

impl<K, L: Loader<K>> Batcher<K, L>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    // Shared by everyone waiting for the batch, possibly on other threads.
    L::Error: Sync,
{
    /// A batcher over `loader`, for use inside [`in_rounds`] ([`PerRequest`] puts every request
    /// there); outside, where nothing counts rounds, every load is a batch of its own.
    pub fn new(loader: L) -> Self {
        Batcher { inner: Arc::new(Inner { loader, open: Mutex::new(None) }) }
    }

    /// The value of `key` (`None` when the loader found none), loaded together with every other
    /// key this request asks for in the same round.
    pub async fn load_one(&self, key: K) -> Result<Option<L::Value>, L::Error> {
        let outcome = self.join(key.clone()).await;
        match outcome.as_ref() {
            Ok(values) => Ok(values.get(&key).cloned()),
            Err(error) => Err(error.clone()),
        }
    }

    /// Adds `key` to the open batch (opening one if none is) and returns that batch's outcome.
    fn join(&self, key: K) -> SharedOutcome<K, L> {
        let mut open = self.inner.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(batch) = open.as_mut() {
            batch.keys.insert(key);
            batch.last_joined = current_round();
            return batch.outcome.clone();
        }
        let id = next_batch_id();
        let inner = self.inner.clone();
        let outcome = async move {
            let keys = Settled { inner: inner.clone(), id }.await;
            Arc::new(inner.loader.load(&keys).await)
        }
        .boxed()
        .shared();
        *open = Some(OpenBatch { id, keys: HashSet::from([key]), last_joined: current_round(), outcome: outcome.clone() });
        outcome
    }
}

/// A schema whose every request (and every subscription) first gets its own data, e.g. its
/// [`Batcher`]s: `PerRequest::new(schema, |request| request.data(...))`, served in place of the
/// schema.
///
/// It wraps the executor instead of being a schema extension on purpose: with any extension
/// registered, async-graphql sends every field's resolution through the extension chain (a
/// `ResolveInfo`, a registry lookup of the field's type and a boxed future per field), which
/// was a measurable share of resolving a page of entities (issue 11, `bench/RESULTS.md`).
pub struct PerRequest<E> {
    executor: E,
    add: Arc<dyn Fn(Request) -> Request + Send + Sync>,
}

impl<E: Clone> Clone for PerRequest<E> {
    fn clone(&self) -> Self {
        PerRequest { executor: self.executor.clone(), add: self.add.clone() }
    }
}

impl<E: Executor> PerRequest<E> {
    /// `executor`, with what `add` puts into each request before it runs.
    pub fn new(executor: E, add: impl Fn(Request) -> Request + Send + Sync + 'static) -> PerRequest<E> {
        PerRequest { executor, add: Arc::new(add) }
    }

    /// Runs one request with its own data (so callers need not import [`Executor`]).
    pub async fn execute(&self, request: Request) -> Response {
        Executor::execute(self, request).await
    }
}

impl<E: Executor> Executor for PerRequest<E> {
    fn execute(&self, request: Request) -> impl Future<Output = Response> + Send {
        in_rounds(self.executor.execute((self.add)(request)))
    }

    fn execute_stream(&self, request: Request, session_data: Option<Arc<Data>>) -> BoxStream<'static, Response> {
        stream_in_rounds(self.executor.execute_stream((self.add)(request), session_data))
    }
}

thread_local! {
    /// The round of the request being polled on this thread (see [`in_rounds`]).
    static ROUND: Cell<u64> = const { Cell::new(0) };
}

fn current_round() -> u64 {
    ROUND.with(Cell::get)
}

/// Polls `poll` as round `round` of its request (restoring the outer one after, for a request
/// polled inside another's poll, as a test's `block_on` may be).
fn as_round<T>(round: u64, poll: impl FnOnce() -> T) -> T {
    let outer = ROUND.with(|current| current.replace(round));
    let output = poll();
    ROUND.with(|current| current.set(outer));
    output
}

/// `request`, counting each poll of it by the runtime as a round for the [`Batcher`]s it uses
/// (round 1 is its first poll: 0 means outside any request).
pub fn in_rounds<F: Future>(request: F) -> impl Future<Output = F::Output> {
    let mut request = Box::pin(request);
    let mut round = 0;
    futures::future::poll_fn(move |cx| {
        round += 1;
        as_round(round, || request.as_mut().poll(cx))
    })
}

/// [`in_rounds`] for a subscription: each poll of the stream is a round.
pub fn stream_in_rounds<S: Stream + Send + 'static>(stream: S) -> BoxStream<'static, S::Item> {
    let mut stream = Box::pin(stream);
    let mut round = 0;
    futures::stream::poll_fn(move |cx| {
        round += 1;
        as_round(round, || stream.as_mut().poll_next(cx))
    })
    .boxed()
}

fn next_batch_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Ready with the batch's keys (closing it) once a whole round passed with no load joining.
struct Settled<K, L: Loader<K>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
{
    inner: Arc<Inner<K, L>>,
    id: u64,
}

impl<K, L: Loader<K>> Future for Settled<K, L>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
{
    type Output = Vec<K>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<K>> {
        let mut open = self.inner.open.lock().unwrap_or_else(PoisonError::into_inner);
        match open.as_mut() {
            // Polled in round `last_joined + 1`, this may run before a sibling joins in that
            // same round; only from `last_joined + 2` on has a whole round added nothing.
            Some(batch) if batch.id == self.id && current_round() != 0 && current_round() < batch.last_joined + 2 => {
                // Let the rest of the round register its keys, then look again.
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Some(batch) if batch.id == self.id => {
                let keys = batch.keys.drain().collect();
                *open = None;
                Poll::Ready(keys)
            }
            // Only this future closes its batch, and a finished future is not polled again.
            _ => {
                debug_assert!(false, "batch {} was closed by someone else", self.id);
                Poll::Ready(Vec::new())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The key whose batch fails.
    const UNLUCKY: u32 = 9999;

    /// Doubles its keys and records every batch it was asked for.
    #[derive(Default)]
    struct Doubling {
        batches: Mutex<Vec<Vec<u32>>>,
        calls: AtomicUsize,
    }

    impl Loader<u32> for Doubling {
        type Value = u32;
        type Error = Arc<String>;

        async fn load(&self, keys: &[u32]) -> Result<HashMap<u32, u32>, Self::Error> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let mut sorted = keys.to_vec();
            sorted.sort_unstable();
            self.batches.lock().expect("not poisoned").push(sorted);
            if keys.contains(&UNLUCKY) {
                return Err(Arc::new("unlucky".into()));
            }
            Ok(keys.iter().map(|key| (*key, key * 2)).collect())
        }
    }

    #[tokio::test]
    async fn the_loads_of_one_round_are_one_batch_and_a_chained_round_is_the_next() {
        let batcher = Batcher::new(Doubling::default());
        // 100 siblings, each loading its key and then, chained, a second one: two batches.
        let values = in_rounds(futures::future::join_all((0..100u32).map(|key| {
            let batcher = &batcher;
            async move {
                let first = batcher.load_one(key).await.expect("loads")?;
                batcher.load_one(first + 1000).await.expect("loads")
            }
        })))
        .await;
        assert_eq!(values, (0..100u32).map(|key| Some((key * 2 + 1000) * 2)).collect::<Vec<_>>());
        let batches = batcher.inner.loader.batches.lock().expect("not poisoned").clone();
        assert_eq!(batches, vec![(0..100).collect::<Vec<_>>(), (0..100).map(|key| key * 2 + 1000).collect()]);
    }

    #[tokio::test]
    async fn siblings_asking_for_keys_already_in_the_batch_do_not_close_it_early() {
        let batcher = Batcher::new(Doubling::default());
        // 100 siblings over 10 distinct keys, each then chaining one more load (again 10
        // distinct): a repeated key joins the round as much as a new one does.
        let values = in_rounds(futures::future::join_all((0..100u32).map(|sibling| {
            let batcher = &batcher;
            async move {
                let first = batcher.load_one(sibling % 10).await.expect("loads")?;
                batcher.load_one(first + 1000).await.expect("loads")
            }
        })))
        .await;
        assert!(values.iter().all(Option::is_some));
        let batches = batcher.inner.loader.batches.lock().expect("not poisoned").clone();
        assert_eq!(batches, vec![(0..10).collect::<Vec<_>>(), (0..10).map(|key| key * 2 + 1000).collect()]);
    }

    #[tokio::test]
    async fn siblings_whose_fields_run_unordered_join_one_batch() {
        use futures::stream::{FuturesUnordered, StreamExt};
        let batcher = Batcher::new(Doubling::default());
        // Each sibling is an object as async-graphql resolves one: its fields in a
        // FuturesUnordered, where a plain field finishing after the loading one polls the
        // loading field again before the next sibling starts.
        let objects = in_rounds(futures::future::join_all((0..5u32).map(|key| {
            let batcher = &batcher;
            async move {
                let fields: FuturesUnordered<futures::future::BoxFuture<'_, Option<u32>>> = FuturesUnordered::new();
                fields.push(Box::pin(async move { batcher.load_one(key).await.expect("loads") }));
                fields.push(Box::pin(async { Some(0) }));
                fields.collect::<Vec<_>>().await
            }
        })))
        .await;
        assert!(objects.iter().all(|fields| fields.len() == 2));
        assert_eq!(*batcher.inner.loader.batches.lock().expect("not poisoned"), vec![(0..5).collect::<Vec<_>>()]);
    }

    #[tokio::test]
    async fn a_key_asked_twice_in_a_round_is_loaded_once() {
        let batcher = Batcher::new(Doubling::default());
        let (a, b) = in_rounds(async { futures::join!(batcher.load_one(7), batcher.load_one(7)) }).await;
        assert_eq!((a.expect("loads"), b.expect("loads")), (Some(14), Some(14)));
        assert_eq!(*batcher.inner.loader.batches.lock().expect("not poisoned"), vec![vec![7]]);
    }

    #[tokio::test]
    async fn a_failed_batch_fails_every_load_in_it_and_the_next_batch_starts_afresh() {
        let batcher = Batcher::new(Doubling::default());
        let (a, b) = in_rounds(async { futures::join!(batcher.load_one(UNLUCKY), batcher.load_one(1)) }).await;
        assert_eq!(a.expect_err("the batch failed").as_str(), "unlucky");
        assert!(b.is_err());
        assert_eq!(in_rounds(batcher.load_one(2)).await.expect("a new batch"), Some(4));
        assert_eq!(batcher.inner.loader.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_load_that_starts_after_a_batch_closed_gets_a_batch_of_its_own() {
        let batcher = Batcher::new(Doubling::default());
        assert_eq!(in_rounds(batcher.load_one(1)).await.expect("loads"), Some(2));
        assert_eq!(in_rounds(batcher.load_one(2)).await.expect("loads"), Some(4));
        assert_eq!(*batcher.inner.loader.batches.lock().expect("not poisoned"), vec![vec![1], vec![2]]);
    }

    mod per_request {
        use super::super::PerRequest;
        use async_graphql::{Context, EmptyMutation, Object, Request, Schema, Subscription};
        use futures::StreamExt;
        use std::sync::Arc;
        use std::sync::atomic::{AtomicU64, Ordering};

        /// What each request is given: a number no other request has.
        struct Ticket(u64);

        struct Query;

        #[Object]
        impl Query {
            async fn ticket(&self, ctx: &Context<'_>) -> u64 {
                ctx.data_unchecked::<Ticket>().0
            }
        }

        struct Subscriptions;

        #[Subscription]
        impl Subscriptions {
            async fn tickets(&self, ctx: &Context<'_>) -> impl futures::Stream<Item = u64> + use<> {
                futures::stream::iter([ctx.data_unchecked::<Ticket>().0; 2])
            }
        }

        #[tokio::test]
        async fn every_query_and_subscription_gets_its_own_data() {
            let issued = Arc::new(AtomicU64::new(0));
            let counter = issued.clone();
            let schema = PerRequest::new(Schema::new(Query, EmptyMutation, Subscriptions), move |request: Request| {
                request.data(Ticket(counter.fetch_add(1, Ordering::SeqCst)))
            });
            let first = schema.execute(Request::new("{ ticket }")).await;
            let second = schema.execute(Request::new("{ ticket }")).await;
            assert_eq!(first.data.into_json().expect("json"), serde_json::json!({ "ticket": 0 }));
            assert_eq!(second.data.into_json().expect("json"), serde_json::json!({ "ticket": 1 }));
            let events: Vec<_> = async_graphql::Executor::execute_stream(&schema, Request::new("subscription { tickets }"), None)
                .map(|response| response.data.into_json().expect("json"))
                .collect()
                .await;
            // One ticket for the whole subscription, shared by its events.
            assert_eq!(events, vec![serde_json::json!({ "tickets": 2 }); 2]);
            assert_eq!(issued.load(Ordering::SeqCst), 3);
        }
    }
}
