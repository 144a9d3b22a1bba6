//! One test's week-star world: its own database, Redis prefix and NATS prefix, a manual clock,
//! the real gift consumer running against JetStream, and helpers to publish gifts and wait
//! for them to be handled (by watching the consumer's ack floor, not by sleeping).

use async_nats::jetstream::consumer::pull;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use platform::clock::{ManualClock, SharedClock};
use platform::consumer::RetryPolicy;
use platform::consumer::dead_letters::{DeadLetter, DeadLetters};
use platform::db::Db;
use platform::events::{GIFT_EVENT_KIND, GIFT_STREAM, GiftEvent};
use platform::nats::Nats;
use platform::redis::Redis;
use platform::testkit::{FaultProxy, TestServices};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;
use vidgraph_ranking::domain::weekstar::{Client, RealtimeBoard, Visibility, WeekStarGifts, WeekStars};
use vidgraph_ranking::events::gifts::{DURABLE, gift_consumer};

/// Quick retries, so outages of many deliveries fit in a test.
const FAST_RETRY: RetryPolicy = RetryPolicy { initial: Duration::from_millis(50), max: Duration::from_millis(200) };

/// How long any awaited condition may take.
const DEADLINE: Duration = Duration::from_secs(15);

pub struct World {
    pub stars: WeekStars,
    pub clock: Arc<ManualClock>,
    pub nats: Nats,
    pub redis: Redis,
    pub admin: Uuid,
    last_sequence: std::sync::atomic::AtomicU64,
    /// What the consumer counts with (behind the fault proxies in [`World::start_with_faults`]).
    consumer_stars: WeekStars,
    consumer: Mutex<Option<tokio::task::JoinHandle<()>>>,
    // Dropped last: removes the database, keys and streams.
    _services: TestServices,
}

impl Drop for World {
    fn drop(&mut self) {
        self.pause_consumer();
    }
}

/// Proxies between the gift consumer and its backends.
pub struct Faults {
    pub postgres: FaultProxy,
    pub redis: FaultProxy,
}

pub fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("RFC 3339 instant")
}

/// A readable id that sorts where the test wants it (`id(1) < id(2)`).
pub fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

impl World {
    /// A world on `zone`'s calendar whose clock reads `now`, with the gift consumer running.
    pub async fn start(zone: Tz, now: DateTime<Utc>) -> World {
        let services = TestServices::new().await;
        let config = services.config();
        let db = Db::connect(&config.db, "weekstar-test");
        let redis = Redis::connect(&config.redis).expect("redis");
        let clock = ManualClock::starting_at(now);
        let consumer_stars = WeekStars::new(db, redis, clock.clone(), zone);
        World::with_consumer_over(services, consumer_stars, clock, zone).await
    }

    /// Like [`World::start`], with the gift consumer reaching Postgres and Redis through fault
    /// proxies (and waiting at most 200 ms for a pooled Postgres connection); the test's own
    /// reads go straight to the services.
    pub async fn start_with_faults(zone: Tz, now: DateTime<Utc>) -> (World, Faults) {
        let services = TestServices::new().await;
        let mut config = services.config();
        let postgres = FaultProxy::in_front_of_url(&mut config.db.url).await;
        let redis = FaultProxy::in_front_of_plain_url(&mut config.redis.url).await;
        config.db.connect_timeout_ms = 200;
        let clock = ManualClock::starting_at(now);
        let consumer_stars = WeekStars::new(
            Db::connect(&config.db, "weekstar-consumer"),
            Redis::connect(&config.redis).expect("redis"),
            clock.clone(),
            zone,
        );
        (World::with_consumer_over(services, consumer_stars, clock, zone).await, Faults { postgres, redis })
    }

    async fn with_consumer_over(services: TestServices, consumer_stars: WeekStars, clock: Arc<ManualClock>, zone: Tz) -> World {
        let config = services.config();
        let db = Db::connect(&config.db, "weekstar-test");
        let redis = Redis::connect(&config.redis).expect("redis");
        let nats = Nats::connect(&config.nats).await.expect("nats");
        GIFT_STREAM.ensure(&nats).await.expect("gift stream");
        let shared: SharedClock = clock.clone();
        let stars = WeekStars::new(db, redis.clone(), shared, zone);
        let world = World {
            stars,
            clock,
            nats,
            redis,
            admin: Uuid::now_v7(),
            last_sequence: Default::default(),
            consumer_stars,
            consumer: Mutex::new(None),
            _services: services,
        };
        world.resume_consumer();
        world
    }

    /// Stops the gift consumer (gifts published meanwhile wait in JetStream).
    pub fn pause_consumer(&self) {
        if let Some(task) = self.consumer.lock().expect("consumer").take() {
            task.abort();
        }
    }

    /// Starts the gift consumer (4 at a time, quick retries).
    pub fn resume_consumer(&self) {
        let consumer = gift_consumer(self.consumer_stars.clone(), 4).retry(FAST_RETRY);
        let task = tokio::spawn(consumer.run(self.nats.clone()));
        if let Some(previous) = self.consumer.lock().expect("consumer").replace(task) {
            previous.abort();
        }
    }

    /// A settlement job like the subgraph's, over the test's clock and JetStream.
    pub fn settlement_job(&self) -> vidgraph_ranking::events::gifts::SettlementJob {
        vidgraph_ranking::events::gifts::SettlementJob::new(self.stars.clone(), self.clock.clone(), self.nats.clone())
    }

    /// Waits until JetStream has made at least `count` deliveries to the gift consumer
    /// (redeliveries included).
    pub async fn deliveries_reach(&self, count: u64) {
        let stream = GIFT_STREAM.ensure(&self.nats).await.expect("stream");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        loop {
            if let Ok(mut consumer) = stream.get_consumer::<pull::Config>(DURABLE).await
                && let Ok(info) = consumer.info().await
                && info.delivered.consumer_sequence >= count
            {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "the consumer was not delivered {count} messages in time");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The gift consumer's dead letters, oldest first.
    pub async fn dead_letters(&self) -> Vec<DeadLetter> {
        DeadLetters::new(&self.nats).list(Some(DURABLE), 100, None).await.expect("dead letters").0
    }

    /// Publishes raw bytes on the gift subject, as a broken publisher would.
    pub async fn publish_raw(&self, payload: &'static [u8]) {
        let subject = GIFT_STREAM.subject(&self.nats, GIFT_EVENT_KIND);
        let ack = self.nats.jetstream.publish(subject, payload.into()).await.expect("publish").await.expect("stored");
        self.last_sequence.fetch_max(ack.sequence, std::sync::atomic::Ordering::SeqCst);
    }

    /// Records that something else (a re-drive) published up to stream sequence `sequence`.
    pub fn published_up_to(&self, sequence: u64) {
        self.last_sequence.fetch_max(sequence, std::sync::atomic::Ordering::SeqCst);
    }

    /// The stream's last sequence.
    pub async fn stream_last(&self) -> u64 {
        let mut stream = GIFT_STREAM.ensure(&self.nats).await.expect("stream");
        stream.info().await.expect("stream info").state.last_sequence
    }

    /// What the manual clock reads.
    pub fn clock_now(&self) -> DateTime<Utc> {
        platform::clock::Clock::now(&*self.clock)
    }

    /// Gives `channel` these week-star gifts (as an admin).
    pub async fn configure(&self, channel: Uuid, gifts: &[&str]) {
        self.stars.configure_gifts(self.admin, channel, WeekStarGifts::parse(gifts).expect("gifts")).await.expect("configure");
    }

    /// Sets `channel`'s switches (as an admin).
    pub async fn switch(&self, channel: Uuid, web: bool, app: bool) {
        self.stars.set_visibility(self.admin, channel, Visibility { web, app }).await.expect("switch");
    }

    /// Publishes a gift event to JetStream, as `live` will; returns it.
    pub async fn publish(&self, event: &GiftEvent) {
        let subject = GIFT_STREAM.subject(&self.nats, GIFT_EVENT_KIND);
        let payload = serde_json::to_vec(event).expect("event JSON");
        // No `Nats-Msg-Id`: a re-published event reaches the consumer again, as a redelivery
        // would, so the consumer's own de-duplication is what is tested.
        let ack = self.nats.jetstream.publish(subject, payload.into()).await.expect("publish").await.expect("stored");
        self.last_sequence.fetch_max(ack.sequence, std::sync::atomic::Ordering::SeqCst);
    }

    /// Publishes `count` gifts of `gift` from `sender` to `streamer` in `channel`, sent at `sent_at`.
    pub async fn gift(&self, channel: Uuid, gift: &str, streamer: Uuid, sender: Uuid, count: i64, sent_at: &str) -> GiftEvent {
        let event = GiftEvent {
            event_id: Uuid::now_v7(),
            channel_id: channel,
            streamer_id: streamer,
            gift_id: gift.into(),
            count,
            sender_id: sender,
            room_id: None,
            unit_price: 0,
            total_value: 0,
            sent_at: at(sent_at),
        };
        self.publish(&event).await;
        event
    }

    /// Waits until the consumer has acked everything published so far.
    pub async fn consumed(&self) {
        let last = self.last_sequence.load(std::sync::atomic::Ordering::SeqCst);
        let stream = GIFT_STREAM.ensure(&self.nats).await.expect("stream");
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            if let Ok(mut consumer) = stream.get_consumer::<pull::Config>(DURABLE).await
                && let Ok(info) = consumer.info().await
                && info.ack_floor.stream_sequence >= last
            {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "the consumer did not ack up to stream sequence {last} in time");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// This week's boards of `channel` on `client`.
    pub async fn boards(&self, channel: Uuid, client: Client) -> Vec<RealtimeBoard> {
        self.stars.realtime_boards(channel, client, 100).await.expect("boards")
    }

    /// `(streamer, count)` of this week's board of `gift` in `channel`, best first.
    pub async fn board(&self, channel: Uuid, gift: &str) -> Vec<(Uuid, i64)> {
        self.boards(channel, Client::App)
            .await
            .into_iter()
            .find(|board| board.gift_id == gift)
            .map(|board| board.entries.into_iter().map(|e| (e.streamer_id, e.gift_count)).collect())
            .unwrap_or_default()
    }

    /// Deletes every Redis key of this test, as a flush or a new Redis instance would.
    pub async fn flush_redis(&self) {
        let mut conn = self.redis.conn().await.expect("redis connection");
        let keys: Vec<String> = redis::cmd("KEYS").arg(self.redis.key("*")).query_async(&mut *conn).await.expect("KEYS");
        if !keys.is_empty() {
            let _: i64 = redis::cmd("DEL").arg(&keys).query_async(&mut *conn).await.expect("DEL");
        }
    }

    /// The same week-star service, on the same database, as a replica whose Redis is
    /// unreachable would run it (a port nothing listens on).
    pub fn stars_without_redis(&self) -> WeekStars {
        let config = self._services.config();
        let redis_config = platform::config::RedisConfig { url: platform::testkit::refused_redis_url(), ..config.redis.clone() };
        let redis = Redis::connect(&redis_config).expect("pool");
        let clock: SharedClock = self.clock.clone();
        WeekStars::new(Db::connect(&config.db, "weekstar-test-no-redis"), redis, clock, self.stars.zone())
    }
}
