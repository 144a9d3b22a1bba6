//! One test's live world: its own database and NATS prefix, a manual clock, the services, and
//! a channel, gifts and helpers to open rooms, go live and fund wallets.

use chrono::{DateTime, Utc};
use platform::Deps;
use platform::auth::{AuthUser, Role};
use platform::clock::ManualClock;
use platform::testkit::TestServices;
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;
use vidgraph_live::Services;
use vidgraph_live::config::LiveConfig;
use vidgraph_live::domain::payments::{CallbackSigner, PaymentNotice};
use vidgraph_live::domain::presence::Presence;
use vidgraph_live::domain::rooms::{NewChannel, NewRoom, RoomTitle};
use vidgraph_live::domain::wallet::{CallbackOutcome, PaymentChannel};
use vidgraph_live::store::rooms::Room;

/// How long any awaited condition may take.
pub const DEADLINE: Duration = Duration::from_secs(15);

pub struct World {
    pub deps: Deps,
    pub config: LiveConfig,
    pub clock: Arc<ManualClock>,
    pub live: Services,
    pub admin: AuthUser,
    pub channel: Uuid,
    pub signer: CallbackSigner,
    // Dropped last: removes the database and streams.
    _services: TestServices,
}

pub fn start_time() -> DateTime<Utc> {
    "2026-12-01T10:00:00Z".parse().expect("instant")
}

pub fn user() -> AuthUser {
    AuthUser { id: Uuid::now_v7(), role: Role::User }
}

impl World {
    pub async fn start() -> World {
        let services = TestServices::new().await;
        let mut app_config = services.config();
        app_config.db.pool_size = 16;
        app_config.db.connect_timeout_ms = 120_000;
        let deps = Deps::connect(app_config, "live-test").await.expect("backends");
        let config = LiveConfig { timer_poll_ms: 100, ..LiveConfig::default() };
        let clock = ManualClock::starting_at(start_time());
        let presence = Presence::new(deps.redis.clone(), "test-replica".into());
        let live = Services::new(&deps.db, &deps.redis, &deps.nats, &config, clock.clone(), &presence);
        let mut conn = deps.db.pool.get().await.expect("connection");
        vidgraph_live::seed::run(&mut conn, &[]).await.expect("seed gifts");
        drop(conn);
        let admin = AuthUser { id: Uuid::now_v7(), role: Role::Admin };
        let channel = live
            .rooms
            .create_channel(admin, NewChannel { slug: "test-games".into(), name: "Test games".into(), position: 0 })
            .await
            .expect("channel")
            .id;
        let signer = CallbackSigner::new(config.payment_secret.expose_secret());
        World { deps, config, clock, live, admin, channel, signer, _services: services }
    }

    /// Another replica's services over the same database and NATS prefix.
    pub fn replica(&self) -> Services {
        let presence = Presence::new(self.deps.redis.clone(), format!("replica-{}", Uuid::now_v7()));
        Services::new(&self.deps.db, &self.deps.redis, &self.deps.nats, &self.config, self.clock.clone(), &presence)
    }

    /// A streamer with a live room.
    pub async fn live_streamer(&self) -> (AuthUser, Room) {
        let streamer = user();
        let new = NewRoom { title: RoomTitle::parse("PK night").expect("title"), cover_url: None, channel_id: self.channel };
        self.live.rooms.open_room(streamer, new).await.expect("open room");
        let room = self.live.rooms.start_live(streamer).await.expect("go live");
        (streamer, room)
    }

    /// Credits `amount` to `user` through a signed provider callback.
    pub async fn fund(&self, user: AuthUser, amount: i64) {
        let order = self.live.wallets.create_order(user, amount, PaymentChannel::Card).await.expect("order");
        let body =
            serde_json::to_vec(&PaymentNotice { order_id: order.id, amount, provider_ref: format!("tx-{}", order.id) }).expect("json");
        let outcome = self.live.wallets.handle_callback(&body, Some(&self.signer.sign(&body))).await.expect("credited");
        assert!(matches!(outcome, CallbackOutcome::Credited(_)), "{outcome:?}");
    }

    /// Waits (polling, bounded) until `check` holds.
    pub async fn eventually<F: AsyncFn() -> bool>(&self, what: &str, check: F) {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        while !check().await {
            assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
