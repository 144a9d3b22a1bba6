//! Consumes `live`'s gift events into the week-star boards (through the platform's durable
//! consumer loop, [`platform::consumer`]), and runs the weekly settlement.
//!
//! Counting is idempotent by event id ([`WeekStars::record_gift`]), and the realtime board is
//! written from Postgres' committed total on every delivery, a redelivery included: a Redis
//! write that failed after the count committed is a transient failure, retried until the board
//! holds the total. A malformed event is dead-lettered. Messages are handled a few at a time:
//! each one is its own transaction, and counters of one board take row locks in the same
//! order, so concurrent handling cannot deadlock.

use crate::domain::weekstar::{GiftOutcome, WeekStars};
use crate::events::content::classify;
use platform::clock::SharedClock;
use platform::consumer::{Delivery, DurableConsumer, Failure, Handler, Order, RetryPolicy};
use platform::events::{GIFT_STREAM, GiftEvent};
use platform::nats::Nats;
use std::time::Duration;

/// Durable consumer name (one per deployment: replicas share the work).
pub const DURABLE: &str = "ranking-weekstar-gifts";

/// Counts gift events.
pub struct GiftEvents {
    stars: WeekStars,
}

impl Handler for GiftEvents {
    async fn handle(&self, delivery: &Delivery) -> Result<(), Failure> {
        let event: GiftEvent = delivery.decode()?;
        match self.stars.record_gift(&event).await {
            Ok(Ok(outcome)) => {
                let label = match outcome {
                    GiftOutcome::Counted { .. } => "counted",
                    GiftOutcome::Duplicate => "duplicate",
                    GiftOutcome::Late { .. } => "late",
                    GiftOutcome::NotWeekStarGift => "not_week_star",
                    GiftOutcome::CountingOff => "counting_off",
                };
                metrics::counter!("weekstar_gift_events_total", "outcome" => label).increment(1);
                Ok(())
            }
            Ok(Err(invalid)) => Err(Failure::permanent(invalid)),
            Err(error) => Err(classify(error)),
        }
    }
}

/// The gift consumer over `stars`, handling up to `concurrency` messages at once.
pub fn gift_consumer(stars: WeekStars, concurrency: usize) -> DurableConsumer<GiftEvents> {
    DurableConsumer::new(GIFT_STREAM, DURABLE, GiftEvents { stars }).order(Order::Concurrent(concurrency.max(1)))
}

/// Runs the gift consumer with the default retry policy until the task is dropped.
pub async fn run_gift_consumer(stars: WeekStars, nats: Nats, concurrency: usize) {
    gift_consumer(stars, concurrency).retry(RetryPolicy::default()).run(nats).await
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
    nats: Nats,
}

impl SettlementJob {
    /// The job over `stars`, reading time from `clock` and the gift consumer's progress from
    /// JetStream through `nats`.
    pub fn new(stars: WeekStars, clock: SharedClock, nats: Nats) -> SettlementJob {
        SettlementJob { stars, clock, nats }
    }

    /// Whether the gift consumer has applied every gift event the stream holds now.
    async fn gifts_caught_up(&self) -> bool {
        match platform::consumer::lag(&self.nats, &GIFT_STREAM, DURABLE).await {
            Ok(lag) if lag.caught_up() => true,
            Ok(lag) => {
                tracing::info!(?lag, "week-star settlement waits for the gift consumer to catch up");
                false
            }
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), "cannot read the gift consumer's lag; settlement waits");
                false
            }
        }
    }

    /// One check: settles the due weeks at the clock's now, once the gift consumer caught up.
    pub async fn tick(&self) {
        // The clock is read first: every gift published before `now` is applied when caught up.
        let now = self.clock.now();
        let caught_up = self.gifts_caught_up().await;
        match self.stars.settle_due(now, caught_up).await {
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
    retry: RetryPolicy,
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
            retry: RetryPolicy::from_config(&deps.config.nats),
        })
    }

    /// The service for the schema's data.
    pub fn service(&self) -> WeekStars {
        self.requests.clone()
    }

    /// Runs the gift consumer and the settlement job beside the server.
    pub fn spawn(self, application: &mut platform::Application) {
        application.spawn_background(gift_consumer(self.background.clone(), CONSUMER_CONCURRENCY).retry(self.retry).run(self.nats.clone()));
        application.spawn_background(SettlementJob::new(self.background, self.clock, self.nats).run());
    }
}
