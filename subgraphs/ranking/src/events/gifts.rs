//! Consumes `live`'s gift events into the week-star boards, and runs the weekly settlement.
//!
//! A durable JetStream consumer with explicit acks: a message is acked only after its count is
//! committed (and mirrored to Redis), so a crash or a failed write redelivers it, and counting
//! is idempotent by event id ([`WeekStars::record_gift`]). A malformed event is terminated
//! (logged and counted as a dead letter) instead of being redelivered forever. Messages are
//! handled a few at a time: each one is its own transaction, and counters of one board take
//! row locks in the same order, so concurrent handling cannot deadlock.

use crate::domain::weekstar::{GiftOutcome, WeekStars};
use async_nats::jetstream::AckKind;
use futures::TryStreamExt;
use platform::clock::SharedClock;
use platform::events::{GIFT_STREAM, GiftEvent};
use platform::nats::Nats;
use std::time::Duration;

/// Durable consumer name (one per deployment: replicas share the work).
pub const DURABLE: &str = "ranking-weekstar-gifts";
/// Deliveries before JetStream gives up on a message that keeps failing.
const MAX_DELIVER: i64 = 10;
/// Pause before reconnecting after the consumer failed.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// Delay before a message whose handling failed (database or Redis down) is redelivered.
const NAK_DELAY: Duration = Duration::from_secs(2);

/// Runs the gift consumer until the task is dropped, handling up to `concurrency` messages at
/// once and reconnecting after failures.
pub async fn run_gift_consumer(stars: WeekStars, nats: Nats, concurrency: usize) {
    loop {
        if let Err(error) = consume(&stars, &nats, concurrency.max(1)).await {
            tracing::warn!(error = format!("{error:#}"), "week-star gift consumer failed; restarting");
        }
        tokio::time::sleep(RETRY_AFTER).await;
    }
}

async fn consume(stars: &WeekStars, nats: &Nats, concurrency: usize) -> anyhow::Result<()> {
    let consumer = GIFT_STREAM.durable_consumer(nats, DURABLE, MAX_DELIVER, 1000).await?;
    let messages = consumer.messages().await?;
    // The first transport or ack error ends the loop; `consume` is then restarted.
    messages.map_err(|e| anyhow::anyhow!(e)).try_for_each_concurrent(concurrency, |message| handle(stars, message)).await
}

async fn handle(stars: &WeekStars, message: async_nats::jetstream::Message) -> anyhow::Result<()> {
    let event: GiftEvent = match serde_json::from_slice(&message.payload) {
        Ok(event) => event,
        Err(error) => return dead_letter(message, &error.to_string()).await,
    };
    match stars.record_gift(&event).await {
        Ok(Ok(outcome)) => {
            let label = match outcome {
                GiftOutcome::Counted { .. } => "counted",
                GiftOutcome::Duplicate => "duplicate",
                GiftOutcome::NotWeekStarGift => "not_week_star",
                GiftOutcome::CountingOff => "counting_off",
            };
            metrics::counter!("weekstar_gift_events_total", "outcome" => label).increment(1);
            message.ack().await.map_err(|e| anyhow::anyhow!(e))
        }
        Ok(Err(invalid)) => dead_letter(message, &invalid.to_string()).await,
        Err(error) => {
            tracing::warn!(gift.event_id = %event.event_id, error = %platform::error::DisplayChain(&error), "gift event not counted yet; redelivering");
            message.ack_with(AckKind::Nak(Some(NAK_DELAY))).await.map_err(|e| anyhow::anyhow!(e))
        }
    }
}

async fn dead_letter(message: async_nats::jetstream::Message, reason: &str) -> anyhow::Result<()> {
    tracing::error!(subject = %message.subject, reason, "dead letter: unusable gift event");
    metrics::counter!("dead_letters_total", "consumer" => DURABLE).increment(1);
    message.ack_with(AckKind::Term).await.map_err(|e| anyhow::anyhow!(e))
}

/// How often the settlement job looks at the clock.
const SETTLEMENT_CHECK_EVERY: Duration = Duration::from_secs(30);
/// How long idempotency records are kept: longer than [`GIFT_STREAM`] keeps messages.
const PROCESSED_KEPT_DAYS: i64 = 45;

/// The weekly settlement: every [`SETTLEMENT_CHECK_EVERY`] it asks the clock which weeks are
/// due and settles them. Every replica runs it; settlement itself makes sure a week is settled
/// once.
pub struct SettlementJob {
    stars: WeekStars,
    clock: SharedClock,
}

impl SettlementJob {
    /// The job over `stars`, reading time from `clock`.
    pub fn new(stars: WeekStars, clock: SharedClock) -> SettlementJob {
        SettlementJob { stars, clock }
    }

    /// One check: settles the due weeks at the clock's now.
    pub async fn tick(&self) {
        match self.stars.settle_due(self.clock.now()).await {
            Ok(weeks) => {
                for (week, outcome) in weeks {
                    tracing::debug!(%week, ?outcome, "week-star settlement checked");
                }
            }
            Err(error) => tracing::warn!(error = %platform::error::DisplayChain(&error), "week-star settlement failed; retrying later"),
        }
        if let Err(error) = self.stars.prune_processed(chrono::Duration::days(PROCESSED_KEPT_DAYS)).await {
            tracing::warn!(error = %platform::error::DisplayChain(&error), "pruning counted gift ids failed");
        }
    }

    /// Checks forever (until the task is dropped).
    pub async fn run(self) {
        let mut every = tokio::time::interval(SETTLEMENT_CHECK_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            self.tick().await;
        }
    }
}

/// Gift events handled at once by one replica.
const CONSUMER_CONCURRENCY: usize = 4;

/// The week-star parts of a running subgraph: the service requests use, and the background
/// consumer and settlement job with their own small pool (so they never starve requests).
pub struct WeekStarRuntime {
    requests: WeekStars,
    background: WeekStars,
    nats: Nats,
    clock: SharedClock,
}

impl WeekStarRuntime {
    /// Ensures the gift stream exists and builds the services over `deps`.
    pub async fn start(deps: &platform::Deps, clock: SharedClock) -> Result<WeekStarRuntime, platform::InitError> {
        GIFT_STREAM.ensure(&deps.nats).await.map_err(platform::InitError::Nats)?;
        let zone = deps.config.calendar.time_zone;
        let pool = platform::config::DbConfig { pool_size: CONSUMER_CONCURRENCY as u32 + 1, ..deps.config.db.clone() };
        let background_db = platform::db::Db::connect(&pool, "vidgraph-ranking-weekstar");
        Ok(WeekStarRuntime {
            requests: WeekStars::new(deps.db.clone(), deps.redis.clone(), clock.clone(), zone),
            background: WeekStars::new(background_db, deps.redis.clone(), clock.clone(), zone),
            nats: deps.nats.clone(),
            clock,
        })
    }

    /// The service for the schema's data.
    pub fn service(&self) -> WeekStars {
        self.requests.clone()
    }

    /// Runs the gift consumer and the settlement job beside the server.
    pub fn spawn(self, application: &mut platform::Application) {
        application.spawn_background(run_gift_consumer(self.background.clone(), self.nats, CONSUMER_CONCURRENCY));
        application.spawn_background(SettlementJob::new(self.background, self.clock).run());
    }
}
