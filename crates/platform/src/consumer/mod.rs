//! The durable JetStream consumer loop every subgraph uses (one implementation, one policy).
//!
//! - **Explicit acks.** A message is acked only after its handler returned `Ok`, so a crash
//!   redelivers it; handlers are idempotent by event id.
//! - **Transient failures never drop a message.** A handler classifies its failure
//!   ([`Failure::Transient`]: backend down, pool timeout, Redis/NATS I/O). The consumer has no
//!   delivery cap (`max_deliver = -1`); the message is nak'ed with a delay that doubles on
//!   each consecutive failure up to [`RetryPolicy::max`], and the loop **stops pulling** while it
//!   backs off: after the pause it fetches one message (the one that failed, which JetStream
//!   redelivers first) as a probe, and returns to full batches once a handler succeeds again.
//!   An outage of any length costs one delivery per probe, not the whole backlog's budget.
//! - **Poison messages are set aside.** [`Failure::Permanent`] (undecodable payload, a
//!   deterministic domain failure) publishes the message to the platform's dead-letter stream
//!   ([`dead_letters`]) with its origin and reason, then terminates it, so the ones behind it go
//!   on. Admins list and re-drive dead letters (GraphQL and `vidgraph dead-letters`).
//! - **Metrics** per consumer: `consumer_messages_total{consumer,outcome}`,
//!   `consumer_redelivered_total`, `dead_letters_total`, and the gauges
//!   `consumer_pending_messages` / `consumer_ack_pending_messages` (from the consumer's info,
//!   polled every [`INFO_POLL`]) and `consumer_backing_off` (1 while paused).
//!
//! [`Order::InOrder`] handles one message at a time in stream order (a failure holds back the
//! ones behind it: they are nak'ed with the same delay, after the failed one, so they come back
//! in order). [`Order::Concurrent`] handles up to `n` at once, batch by batch. [`Order::Pool`]
//! keeps up to `n` handlers running, each in its own task, and pulls a new message as soon as
//! a slot frees up: a long handler holds one slot, never the whole batch (work queues whose
//! jobs last minutes, like downloads).
//!
//! - **Long handlers stay alive.** While a handler runs, its message's ack deadline is pushed
//!   back (`AckKind::Progress`) every third of the ack wait, so a handler that is still working
//!   is never redelivered to another replica; a crashed one is, once the ack wait passes.

pub mod admin;
pub mod dead_letters;

use crate::config::NatsConfig;
use crate::events::StreamSpec;
use crate::nats::Nats;
use async_nats::jetstream::AckKind;
use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long an unacked delivery waits before JetStream hands it out again (a crashed handler),
/// unless [`DurableConsumer::ack_wait`] says otherwise. A running handler's deadline is pushed
/// back every third of it.
const ACK_WAIT: Duration = Duration::from_secs(30);
/// How long a busy pool's pull waits for a message before it looks at its slots again.
const POOL_PULL_WAIT: Duration = Duration::from_secs(1);
/// How long an idle loop's pull request waits for a message before it is renewed.
const IDLE_WAIT: Duration = Duration::from_secs(5);
/// How long a pull may wait for its answer on the client side. A pull request lives on the
/// server: when the connection drops or the server restarts while it waits, nothing ever answers
/// it, and without this deadline the loop would wait forever (seen in `bench/faults.sh`: the
/// content-event consumer stopped for good after a NATS restart). Past it, the loop starts over.
const PULL_DEADLINE: Duration = Duration::from_secs(15);

/// Runs one pull, failing it when no answer came within [`PULL_DEADLINE`].
async fn within_pull_deadline(
    pull: impl Future<Output = anyhow::Result<Vec<async_nats::jetstream::Message>>>,
) -> anyhow::Result<Vec<async_nats::jetstream::Message>> {
    tokio::time::timeout(PULL_DEADLINE, pull).await.map_err(|_| anyhow::anyhow!("no answer to a pull within {PULL_DEADLINE:?}"))?
}
/// How often the pending gauges are refreshed from the consumer's info.
pub const INFO_POLL: Duration = Duration::from_secs(15);
/// Pause before re-creating the consumer after JetStream itself failed.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// Why a handler could not apply a message.
#[derive(Debug)]
pub enum Failure {
    /// Retried without limit: a backend is down or slow (pool timeout, Redis/NATS I/O).
    Transient(anyhow::Error),
    /// Never retried: the message is dead-lettered with this reason (undecodable payload, a
    /// deterministic domain failure).
    Permanent(String),
}

impl Failure {
    /// A transient failure caused by `error`.
    pub fn transient(error: impl Into<anyhow::Error>) -> Failure {
        Failure::Transient(error.into())
    }

    /// A permanent failure with a reason an admin can read.
    pub fn permanent(reason: impl std::fmt::Display) -> Failure {
        Failure::Permanent(reason.to_string())
    }

    /// Classifies an unexpected error: permanent when its cause chain holds a failure that
    /// would repeat on every retry (a constraint the message violates, a value the database
    /// refuses, a payload that does not serialise); otherwise transient (a backend down, a
    /// pool or statement timeout, a lost connection, a serialization conflict, Redis/NATS I/O).
    pub fn classify(error: impl Into<anyhow::Error>) -> Failure {
        let error = error.into();
        if error.chain().any(is_deterministic) { Failure::Permanent(format!("{error:#}")) } else { Failure::Transient(error) }
    }
}

/// Whether this one error would happen again on a retry of the same message.
fn is_deterministic(error: &(dyn std::error::Error + 'static)) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    if error.is::<serde_json::Error>() {
        return true;
    }
    match error.downcast_ref::<Error>() {
        Some(Error::DatabaseError(kind, info)) => match kind {
            DatabaseErrorKind::UniqueViolation
            | DatabaseErrorKind::ForeignKeyViolation
            | DatabaseErrorKind::NotNullViolation
            | DatabaseErrorKind::CheckViolation => true,
            // Data exceptions (class 22: out of range, invalid text…) repeat too; the rest
            // (connection, serialization, timeouts, shutdown) are the backend's state.
            DatabaseErrorKind::Unknown => info.message().contains("out of range") || info.message().contains("invalid input"),
            _ => false,
        },
        Some(Error::SerializationError(_) | Error::DeserializationError(_)) => true,
        _ => false,
    }
}

/// One delivered message, as a handler sees it.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The full subject it was published on.
    pub subject: String,
    /// The payload.
    pub payload: Bytes,
    /// Its sequence in the stream.
    pub stream_sequence: u64,
    /// How many times it has been delivered, this time included.
    pub delivered: i64,
}

impl Delivery {
    /// Decodes the JSON payload; an undecodable one is a [`Failure::Permanent`].
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, Failure> {
        serde_json::from_slice(&self.payload).map_err(|error| Failure::permanent(format!("undecodable payload: {error}")))
    }
}

/// Applies messages. Implemented by each subgraph's consumer; must be idempotent.
pub trait Handler: Send + Sync + 'static {
    /// Applies one message; `Ok` acks it.
    fn handle(&self, delivery: &Delivery) -> impl Future<Output = Result<(), Failure>> + Send;
}

/// How many messages are handled at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// One at a time, in stream order.
    InOrder,
    /// Up to this many at once (at least 1), batch by batch.
    Concurrent(usize),
    /// Up to this many at once (at least 1), each in its own task; a freed slot is refilled at
    /// once, whatever the others are doing.
    Pool(usize),
}

/// Backoff after transient failures: `initial`, doubled per consecutive failure, capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first pause.
    pub initial: Duration,
    /// The longest pause (the probe interval during a long outage).
    pub max: Duration,
}

impl RetryPolicy {
    /// The policy the configuration sets (`nats.retry_initial_ms`, `nats.retry_max_ms`).
    pub fn from_config(config: &NatsConfig) -> RetryPolicy {
        let initial = Duration::from_millis(config.retry_initial_ms.max(1));
        RetryPolicy { initial, max: Duration::from_millis(config.retry_max_ms).max(initial) }
    }

    /// The pause after `previous` (none: the first failure).
    pub fn next(&self, previous: Option<Duration>) -> Duration {
        previous.map_or(self.initial, |pause| pause.saturating_mul(2)).min(self.max)
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::from_config(&NatsConfig::default())
    }
}

/// A durable pull consumer of one stream, run by [`DurableConsumer::run`].
pub struct DurableConsumer<H> {
    stream: StreamSpec,
    durable: &'static str,
    order: Order,
    retry: RetryPolicy,
    ack_wait: Duration,
    handler: H,
}

impl<H: Handler> DurableConsumer<H> {
    /// The consumer `durable` of `stream` (replicas sharing the name share the work), handling
    /// messages in order with the default retry policy.
    pub fn new(stream: StreamSpec, durable: &'static str, handler: H) -> DurableConsumer<H> {
        DurableConsumer { stream, durable, order: Order::InOrder, retry: RetryPolicy::default(), ack_wait: ACK_WAIT, handler }
    }

    /// Sets how many messages are handled at once.
    pub fn order(mut self, order: Order) -> DurableConsumer<H> {
        self.order = order;
        self
    }

    /// Sets the backoff after transient failures.
    pub fn retry(mut self, retry: RetryPolicy) -> DurableConsumer<H> {
        self.retry = retry;
        self
    }

    /// Sets how long an unacked delivery waits before it is handed out again (default 30 s). A
    /// running handler keeps its delivery by pushing this deadline back every third of it.
    pub fn ack_wait(mut self, ack_wait: Duration) -> DurableConsumer<H> {
        self.ack_wait = ack_wait.max(Duration::from_millis(300));
        self
    }

    /// Runs until the task is dropped: re-creates the consumer after JetStream failures.
    pub async fn run(self, nats: Nats) {
        let this = Arc::new(self);
        let mut state = LoopState::default();
        loop {
            if let Err(error) = this.consume(&nats, &mut state).await {
                tracing::warn!(consumer = this.durable, error = format!("{error:#}"), "consumer failed; restarting");
            }
            tokio::time::sleep(RECONNECT_AFTER).await;
        }
    }

    /// Creates (or updates to this policy) the durable consumer.
    async fn ensure(&self, nats: &Nats) -> anyhow::Result<PullConsumer> {
        let stream = self.stream.ensure(nats).await?;
        let config = pull::Config {
            durable_name: Some(self.durable.into()),
            ack_policy: AckPolicy::Explicit,
            ack_wait: self.ack_wait,
            // Unlimited: only a handler's verdict (permanent failure) ends a message's retries.
            max_deliver: -1,
            max_ack_pending: 1000,
            ..Default::default()
        };
        // Create-or-update, so a consumer created with an older policy (a delivery cap) gets this one.
        Ok(stream.create_consumer(config).await?)
    }

    async fn consume(self: &Arc<Self>, nats: &Nats, state: &mut LoopState) -> anyhow::Result<()> {
        let mut consumer = self.ensure(nats).await?;
        let dead = dead_letters::DeadLetters::ensure(nats).await?;
        let batch = match self.order {
            Order::InOrder => 64,
            Order::Concurrent(n) => n.max(1) * 4,
            Order::Pool(n) => return self.run_pool(&mut consumer, &dead, n.max(1), state).await,
        };
        let mut info_polled: Option<Instant> = None;
        loop {
            if info_polled.is_none_or(|at| at.elapsed() >= INFO_POLL) {
                self.record_info(&mut consumer).await;
                info_polled = Some(Instant::now());
            }
            // While backing off, one message at a time: the probe.
            let want = if state.backoff.is_some() { 1 } else { batch };
            let mut messages = within_pull_deadline(async {
                consumer.fetch().max_messages(want).messages().await?.try_collect().await.map_err(|e| anyhow::anyhow!(e))
            })
            .await?;
            if messages.is_empty() {
                // Nothing ready: wait for the next one (a pull of one message ends with it).
                messages = within_pull_deadline(async {
                    consumer
                        .batch()
                        .max_messages(1)
                        .expires(IDLE_WAIT)
                        .messages()
                        .await?
                        .try_collect()
                        .await
                        .map_err(|e| anyhow::anyhow!(e))
                })
                .await?;
            }
            if messages.is_empty() {
                continue;
            }
            let failed = match self.order {
                Order::InOrder => self.handle_in_order(&dead, messages, state).await?,
                Order::Concurrent(n) | Order::Pool(n) => self.handle_concurrently(&dead, messages, n.max(1), state).await?,
            };
            if failed {
                let pause = state.backoff.unwrap_or(self.retry.initial);
                metrics::gauge!("consumer_backing_off", "consumer" => self.durable).set(1.0);
                tokio::time::sleep(pause).await;
            } else if state.backoff.take().is_some() {
                metrics::gauge!("consumer_backing_off", "consumer" => self.durable).set(0.0);
                tracing::info!(consumer = self.durable, "consumer recovered; pulling again");
            }
        }
    }

    /// Handles `messages` one by one; at the first transient failure, naks it and every later
    /// one with the backoff delay (in order) and returns `true`.
    async fn handle_in_order(
        &self,
        dead: &dead_letters::DeadLetters,
        messages: Vec<async_nats::jetstream::Message>,
        state: &mut LoopState,
    ) -> anyhow::Result<bool> {
        let mut messages = messages.into_iter();
        while let Some(message) = messages.next() {
            if let Verdict::Retry = self.handle_one(dead, &message).await? {
                let pause = state.fail(&self.retry);
                nak(&message, pause).await?;
                for held_back in messages {
                    nak(&held_back, pause).await?;
                }
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Handles `messages` up to `n` at once; naks every transient failure with the backoff
    /// delay and returns whether there was one.
    async fn handle_concurrently(
        &self,
        dead: &dead_letters::DeadLetters,
        messages: Vec<async_nats::jetstream::Message>,
        n: usize,
        state: &mut LoopState,
    ) -> anyhow::Result<bool> {
        let verdicts: Vec<(async_nats::jetstream::Message, Verdict)> = futures::stream::iter(messages)
            .map(|message| async move {
                let verdict = self.handle_one(dead, &message).await?;
                anyhow::Ok((message, verdict))
            })
            .buffered(n)
            .try_collect()
            .await?;
        let retries: Vec<_> = verdicts.into_iter().filter(|(_, verdict)| matches!(verdict, Verdict::Retry)).map(|(m, _)| m).collect();
        if retries.is_empty() {
            return Ok(false);
        }
        let pause = state.fail(&self.retry);
        for message in &retries {
            nak(message, pause).await?;
        }
        Ok(true)
    }

    /// [`Order::Pool`]: keeps up to `n` handlers running in their own tasks (they live in
    /// `state`, so a re-created consumer does not abort them) and refills a freed slot at once.
    async fn run_pool(
        self: &Arc<Self>,
        consumer: &mut PullConsumer,
        dead: &dead_letters::DeadLetters,
        n: usize,
        state: &mut LoopState,
    ) -> anyhow::Result<()> {
        let mut info_polled: Option<Instant> = None;
        loop {
            if info_polled.is_none_or(|at| at.elapsed() >= INFO_POLL) {
                self.record_info(consumer).await;
                info_polled = Some(Instant::now());
            }
            while let Some(joined) = state.running.try_join_next() {
                self.settle_pooled(joined, state).await;
            }
            if state.running.len() >= n {
                if let Some(joined) = state.running.join_next().await {
                    self.settle_pooled(joined, state).await;
                }
                continue;
            }
            // While backing off, one message at a time: the probe.
            let want = if state.backoff.is_some() { 1 } else { n - state.running.len() };
            let wait = if state.running.is_empty() { IDLE_WAIT } else { POOL_PULL_WAIT };
            let messages = within_pull_deadline(async {
                consumer.batch().max_messages(want).expires(wait).messages().await?.try_collect().await.map_err(|e| anyhow::anyhow!(e))
            })
            .await?;
            for message in messages {
                let (this, dead) = (Arc::clone(self), dead.clone());
                state.running.spawn(async move {
                    let verdict = this.handle_one(&dead, &message).await;
                    (message, verdict)
                });
            }
        }
    }

    /// Settles a pooled handler that ended: a transient failure is nak'ed with the backoff
    /// delay and pauses pulling; a success ends a backoff.
    async fn settle_pooled(
        &self,
        joined: Result<(async_nats::jetstream::Message, anyhow::Result<Verdict>), tokio::task::JoinError>,
        state: &mut LoopState,
    ) {
        match joined {
            Ok((_, Ok(Verdict::Done))) => {
                if state.backoff.take().is_some() {
                    metrics::gauge!("consumer_backing_off", "consumer" => self.durable).set(0.0);
                    tracing::info!(consumer = self.durable, "consumer recovered; pulling again");
                }
            }
            Ok((message, Ok(Verdict::Retry))) => {
                let pause = state.fail(&self.retry);
                if let Err(error) = nak(&message, pause).await {
                    tracing::warn!(
                        consumer = self.durable,
                        error = format!("{error:#}"),
                        "could not nak; it is redelivered after the ack wait"
                    );
                }
                metrics::gauge!("consumer_backing_off", "consumer" => self.durable).set(1.0);
                tokio::time::sleep(pause).await;
            }
            Ok((_, Err(error))) => {
                tracing::warn!(
                    consumer = self.durable,
                    error = format!("{error:#}"),
                    "could not settle a message; it is redelivered after the ack wait"
                );
            }
            Err(error) => tracing::error!(consumer = self.durable, %error, "a handler task ended abnormally; its message is redelivered"),
        }
    }

    /// Runs the handler on one message and settles it (ack, or dead letter + term); a
    /// transient failure is left to the caller to nak.
    async fn handle_one(&self, dead: &dead_letters::DeadLetters, message: &async_nats::jetstream::Message) -> anyhow::Result<Verdict> {
        let info = message.info().map_err(|e| anyhow::anyhow!(e))?;
        let delivery = Delivery {
            subject: message.subject.to_string(),
            payload: message.payload.clone(),
            stream_sequence: info.stream_sequence,
            delivered: info.delivered,
        };
        let stream = info.stream.to_owned();
        if delivery.delivered > 1 {
            metrics::counter!("consumer_redelivered_total", "consumer" => self.durable).increment(1);
        }
        let span = tracing::info_span!("message", consumer = self.durable, subject = %delivery.subject, stream.sequence = delivery.stream_sequence, delivered = delivery.delivered);
        let outcome = keep_alive(message, self.ack_wait, tracing::Instrument::instrument(self.handler.handle(&delivery), span)).await;
        match outcome {
            Ok(()) => {
                message.ack().await.map_err(|e| anyhow::anyhow!(e))?;
                metrics::counter!("consumer_messages_total", "consumer" => self.durable, "outcome" => "acked").increment(1);
                Ok(Verdict::Done)
            }
            Err(Failure::Transient(error)) => {
                tracing::warn!(consumer = self.durable, subject = %delivery.subject, stream.sequence = delivery.stream_sequence,
                    delivered = delivery.delivered, error = format!("{error:#}"), "transient failure; retrying after a pause");
                metrics::counter!("consumer_messages_total", "consumer" => self.durable, "outcome" => "retried").increment(1);
                Ok(Verdict::Retry)
            }
            Err(Failure::Permanent(reason)) => {
                let letter = dead_letters::NewDeadLetter { stream: &stream, consumer: self.durable, delivery: &delivery, reason: &reason };
                if let Err(error) = dead.publish(&letter).await {
                    // Not set aside yet: retried like any transient failure, never dropped.
                    tracing::warn!(consumer = self.durable, error = format!("{error:#}"), "could not dead-letter a message; retrying");
                    return Ok(Verdict::Retry);
                }
                message.ack_with(AckKind::Term).await.map_err(|e| anyhow::anyhow!(e))?;
                tracing::error!(consumer = self.durable, subject = %delivery.subject, stream.sequence = delivery.stream_sequence,
                    %reason, "dead letter: message set aside");
                metrics::counter!("dead_letters_total", "consumer" => self.durable).increment(1);
                metrics::counter!("consumer_messages_total", "consumer" => self.durable, "outcome" => "dead_lettered").increment(1);
                Ok(Verdict::Done)
            }
        }
    }

    async fn record_info(&self, consumer: &mut PullConsumer) {
        match consumer.info().await {
            Ok(info) => {
                metrics::gauge!("consumer_pending_messages", "consumer" => self.durable).set(info.num_pending as f64);
                metrics::gauge!("consumer_ack_pending_messages", "consumer" => self.durable).set(info.num_ack_pending as f64);
            }
            Err(error) => tracing::debug!(consumer = self.durable, %error, "could not read consumer info"),
        }
    }
}

/// What became of one message.
enum Verdict {
    /// Acked, or dead-lettered and terminated.
    Done,
    /// A transient failure: to be nak'ed with the backoff delay.
    Retry,
}

/// The loop's memory across messages (and across consumer re-creations).
#[derive(Default)]
struct LoopState {
    /// The current pause while failing; `None` while healthy.
    backoff: Option<Duration>,
    /// [`Order::Pool`]'s running handlers.
    running: tokio::task::JoinSet<(async_nats::jetstream::Message, anyhow::Result<Verdict>)>,
}

impl LoopState {
    /// Records a transient failure; returns the pause before the probe.
    fn fail(&mut self, retry: &RetryPolicy) -> Duration {
        let pause = retry.next(self.backoff);
        self.backoff = Some(pause);
        pause
    }
}

/// Runs `work` while pushing `message`'s ack deadline back every third of `ack_wait`, so that
/// JetStream does not hand the message to another handler while this one is still at it.
async fn keep_alive<T>(message: &async_nats::jetstream::Message, ack_wait: Duration, work: impl Future<Output = T>) -> T {
    let mut work = std::pin::pin!(work);
    let every = ack_wait / 3;
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            outcome = &mut work => return outcome,
            _ = ticker.tick() => {
                if let Err(error) = message.ack_with(AckKind::Progress).await {
                    tracing::debug!(%error, "could not extend a delivery's ack deadline");
                }
            }
        }
    }
}

async fn nak(message: &async_nats::jetstream::Message, delay: Duration) -> anyhow::Result<()> {
    message.ack_with(AckKind::Nak(Some(delay))).await.map_err(|e| anyhow::anyhow!(e))
}

/// How far a durable consumer is behind its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsumerLag {
    /// Messages in the stream not yet delivered to it.
    pub pending: u64,
    /// Delivered but not yet acked (in a handler, or waiting for a retry).
    pub ack_pending: usize,
    /// Every message up to this stream sequence is acked (or dead-lettered).
    pub ack_floor: u64,
    /// The stream's last sequence, read before the consumer's state.
    pub stream_last: u64,
}

impl ConsumerLag {
    /// Every message the stream held when this was read has been applied or set aside.
    pub fn caught_up(&self) -> bool {
        self.pending == 0 && self.ack_pending == 0 && self.ack_floor >= self.stream_last
    }
}

/// Reads the lag of consumer `durable` on `stream` (the stream first, so a message stored in
/// between makes it look behind, never ahead). A consumer that does not exist yet has
/// everything in the stream ahead of it.
pub async fn lag(nats: &Nats, stream: &StreamSpec, durable: &str) -> anyhow::Result<ConsumerLag> {
    let mut js_stream = stream.ensure(nats).await?;
    let stream_last = js_stream.info().await?.state.last_sequence;
    let Ok(mut consumer) = js_stream.get_consumer::<pull::Config>(durable).await else {
        return Ok(ConsumerLag { pending: stream_last, ack_pending: 0, ack_floor: 0, stream_last });
    };
    let info = consumer.info().await?;
    Ok(ConsumerLag { pending: info.num_pending, ack_pending: info.num_ack_pending, ack_floor: info.ack_floor.stream_sequence, stream_last })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_of_the_backend_are_transient_and_errors_of_the_message_permanent() {
        let unique =
            diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, Box::new("duplicate key".to_owned()));
        assert!(matches!(Failure::classify(anyhow::Error::from(unique).context("applying")), Failure::Permanent(_)));
        let closed =
            diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::ClosedConnection, Box::new("closed".to_owned()));
        assert!(matches!(Failure::classify(closed), Failure::Transient(_)));
        assert!(matches!(Failure::classify(anyhow::anyhow!("timed out waiting for connection")), Failure::Transient(_)));
    }

    #[test]
    fn backoff_doubles_from_the_initial_pause_up_to_the_cap() {
        let retry = RetryPolicy { initial: Duration::from_secs(1), max: Duration::from_secs(30) };
        let mut pause = None;
        let pauses: Vec<u64> = (0..7)
            .map(|_| {
                let next = retry.next(pause);
                pause = Some(next);
                next.as_secs()
            })
            .collect();
        assert_eq!(pauses, [1, 2, 4, 8, 16, 30, 30]);
    }

    #[test]
    fn a_caught_up_consumer_has_nothing_pending_unacked_or_beyond_its_ack_floor() {
        let lag = ConsumerLag { pending: 0, ack_pending: 0, ack_floor: 7, stream_last: 7 };
        assert!(lag.caught_up());
        assert!(!ConsumerLag { pending: 1, ..lag }.caught_up());
        assert!(!ConsumerLag { ack_pending: 1, ..lag }.caught_up());
        assert!(!ConsumerLag { ack_floor: 6, ..lag }.caught_up(), "a message is waiting for a retry");
    }
}
