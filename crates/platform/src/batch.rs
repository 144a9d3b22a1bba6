//! Request-scoped batching of loads, without a timer.
//!
//! async-graphql's `DataLoader` collects keys for a fixed window (we ran it at 5 ms) on a task
//! of its own, shared by every request: each chained load of a page (videos, then their
//! authors) waited out a window, and a window that closed while a resolver was still
//! registering keys split the batch. A [`Batcher`] belongs to one request instead, and a batch
//! closes when a round of polling the request's resolvers added no key to it: async-graphql
//! polls a request's sibling resolvers (the items of a list, the fields of an object) in one
//! task, so every key they register before waiting joins the same batch, and the load starts
//! as soon as they all wait.
//!
//! It reuses the [`Loader`] trait, so a loader written for `DataLoader` runs unchanged. Nothing
//! is cached between batches: a request that writes and then reads sees its write.

use async_graphql::dataloader::Loader;
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest};
use async_graphql::{Request, ServerResult};
use futures::future::{BoxFuture, FutureExt, Shared};
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
    /// Loads that joined the batch, a key asked again included (a repeated key adds nothing
    /// to `keys`, but its caller is still registering in this round).
    joined: usize,
    /// `joined` when the batch last looked: the same number twice means that a whole round
    /// of polling added no load.
    seen: usize,
    outcome: SharedOutcome<K, L>,
}

impl<K, L: Loader<K>> Batcher<K, L>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    // Shared by everyone waiting for the batch, possibly on other threads.
    L::Error: Sync,
{
    /// A batcher over `loader`.
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
            batch.joined += 1;
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
        *open = Some(OpenBatch { id, keys: HashSet::from([key]), joined: 1, seen: 0, outcome: outcome.clone() });
        outcome
    }
}

/// A schema extension that gives every request (and every subscription) its own data, e.g. its
/// [`Batcher`]s: `schema.extension(PerRequest::new(|request| request.data(...)))`.
pub struct PerRequest(Arc<dyn Fn(Request) -> Request + Send + Sync>);

impl PerRequest {
    /// Adds what `add` puts into each request before it runs.
    pub fn new(add: impl Fn(Request) -> Request + Send + Sync + 'static) -> PerRequest {
        PerRequest(Arc::new(add))
    }
}

impl ExtensionFactory for PerRequest {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PerRequestExtension(self.0.clone()))
    }
}

struct PerRequestExtension(Arc<dyn Fn(Request) -> Request + Send + Sync>);

#[async_trait::async_trait]
impl Extension for PerRequestExtension {
    async fn prepare_request(&self, ctx: &ExtensionContext<'_>, request: Request, next: NextPrepareRequest<'_>) -> ServerResult<Request> {
        next.run(ctx, (self.0)(request)).await
    }
}

fn next_batch_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Ready with the batch's keys (closing it) once a poll finds no load joined since the last one.
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
            Some(batch) if batch.id == self.id && batch.joined != batch.seen => {
                batch.seen = batch.joined;
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
        let values = futures::future::join_all((0..100u32).map(|key| {
            let batcher = &batcher;
            async move {
                let first = batcher.load_one(key).await.expect("loads")?;
                batcher.load_one(first + 1000).await.expect("loads")
            }
        }))
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
        let values = futures::future::join_all((0..100u32).map(|sibling| {
            let batcher = &batcher;
            async move {
                let first = batcher.load_one(sibling % 10).await.expect("loads")?;
                batcher.load_one(first + 1000).await.expect("loads")
            }
        }))
        .await;
        assert!(values.iter().all(Option::is_some));
        let batches = batcher.inner.loader.batches.lock().expect("not poisoned").clone();
        assert_eq!(batches, vec![(0..10).collect::<Vec<_>>(), (0..10).map(|key| key * 2 + 1000).collect()]);
    }

    #[tokio::test]
    async fn a_key_asked_twice_in_a_round_is_loaded_once() {
        let batcher = Batcher::new(Doubling::default());
        let (a, b) = futures::join!(batcher.load_one(7), batcher.load_one(7));
        assert_eq!((a.expect("loads"), b.expect("loads")), (Some(14), Some(14)));
        assert_eq!(*batcher.inner.loader.batches.lock().expect("not poisoned"), vec![vec![7]]);
    }

    #[tokio::test]
    async fn a_failed_batch_fails_every_load_in_it_and_the_next_batch_starts_afresh() {
        let batcher = Batcher::new(Doubling::default());
        let (a, b) = futures::join!(batcher.load_one(UNLUCKY), batcher.load_one(1));
        assert_eq!(a.expect_err("the batch failed").as_str(), "unlucky");
        assert!(b.is_err());
        assert_eq!(batcher.load_one(2).await.expect("a new batch"), Some(4));
        assert_eq!(batcher.inner.loader.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_load_that_starts_after_a_batch_closed_gets_a_batch_of_its_own() {
        let batcher = Batcher::new(Doubling::default());
        assert_eq!(batcher.load_one(1).await.expect("loads"), Some(2));
        assert_eq!(batcher.load_one(2).await.expect("loads"), Some(4));
        assert_eq!(*batcher.inner.loader.batches.lock().expect("not poisoned"), vec![vec![1], vec![2]]);
    }
}
