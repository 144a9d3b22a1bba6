//! One test's week-star world: its own database, Redis prefix and NATS prefix, a manual clock,
//! the real gift consumer running against JetStream, and helpers to publish gifts and wait
//! for them to be handled (by watching the consumer's ack floor, not by sleeping).

use async_nats::jetstream::consumer::pull;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use platform::clock::{ManualClock, SharedClock};
use platform::db::Db;
use platform::events::{GIFT_EVENT_KIND, GIFT_STREAM, GiftEvent};
use platform::nats::Nats;
use platform::redis::Redis;
use platform::testkit::TestServices;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;
use vidgraph_ranking::domain::weekstar::{Client, RealtimeBoard, Visibility, WeekStarGifts, WeekStars};
use vidgraph_ranking::events::gifts::{DURABLE, run_gift_consumer};

/// How long any awaited condition may take.
const DEADLINE: Duration = Duration::from_secs(15);

pub struct World {
    pub stars: WeekStars,
    pub clock: Arc<ManualClock>,
    pub nats: Nats,
    pub redis: Redis,
    pub admin: Uuid,
    last_sequence: std::sync::atomic::AtomicU64,
    consumer: tokio::task::JoinHandle<()>,
    // Dropped last: removes the database, keys and streams.
    _services: TestServices,
}

impl Drop for World {
    fn drop(&mut self) {
        self.consumer.abort();
    }
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
        let nats = Nats::connect(&config.nats).await.expect("nats");
        GIFT_STREAM.ensure(&nats).await.expect("gift stream");
        let clock = ManualClock::starting_at(now);
        let shared: SharedClock = clock.clone();
        let stars = WeekStars::new(db, redis.clone(), shared, zone);
        let consumer = tokio::spawn(run_gift_consumer(stars.clone(), nats.clone(), 4));
        World { stars, clock, nats, redis, admin: Uuid::now_v7(), last_sequence: Default::default(), consumer, _services: services }
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
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let redis_config = platform::config::RedisConfig { url: format!("redis://127.0.0.1:{port}"), ..config.redis.clone() };
        let redis = Redis::connect(&redis_config).expect("pool");
        let clock: SharedClock = self.clock.clone();
        WeekStars::new(Db::connect(&config.db, "weekstar-test-no-redis"), redis, clock, self.stars.zone())
    }
}
