//! The `live` subgraph: channels and rooms, live sessions, wallets and recharges, gifts, and
//! PK link-mic with durable timers and live scores.
//!
//! `schema` (GraphQL, thin) → `domain` (rules and services) → `store` (diesel) and `events`
//! (the outbox to JetStream, real-time PK updates over core NATS). `payments_http` is the
//! payment provider's callback route.

pub mod config;
pub mod domain;
pub mod events;
pub mod payments_http;
pub mod schema;
pub mod seed;
pub mod store;

use async_graphql::{Schema, SchemaBuilder};
use config::LiveConfig;
use domain::config_cache::ConfigCaches;
use domain::danmaku::DanmakuService;
use domain::gifts::Gifts;
use domain::medals::Medals;
use domain::payments::CallbackSigner;
use domain::pk::Phases;
use domain::pk_service::Pks;
use domain::pk_settings::PkSettings;
use domain::presence::Presence;
use domain::rooms::Rooms;
use domain::wallet::Wallets;
use events::LiveEvents;
use events::realtime::PkNotifier;
use platform::batch::{Batcher, PerRequest};
use platform::clock::{SharedClock, SystemClock};
use platform::config::DbConfig;
use platform::db::Db;
use platform::events::{GIFT_STREAM, ROOM_STREAM};
use platform::redis::Redis;
use platform::{Application, Deps, InitError};
use schema::{
    ChannelLoader, Mutation, Query, RoomByOwnerLoader, SessionLoader, Subscription, UserMedalsLoader, ViewerCountLoader, WornMedalsLoader,
};
use secrecy::ExposeSecret;

/// Subgraph name (in `supergraph.yaml` and logs).
pub const NAME: &str = "live";
/// Port when none is configured.
pub const DEFAULT_PORT: u16 = 4004;

/// The executable schema.
pub type LiveSchema = Schema<Query, Mutation, Subscription>;

fn builder(limits: &platform::config::LimitsConfig) -> SchemaBuilder<Query, Mutation, Subscription> {
    platform::schema::federated(Schema::build(Query::default(), Mutation::default(), Subscription::default()), limits)
}

/// The SDL composition reads.
pub fn sdl() -> String {
    platform::schema::federation_sdl(&builder(&Default::default()).finish())
}

/// The services of one `live` process.
#[derive(Clone)]
pub struct Services {
    /// Channels, rooms, sessions.
    pub rooms: Rooms,
    /// Wallets and recharges.
    pub wallets: Wallets,
    /// Gift catalogue and `sendGift`.
    pub gifts: Gifts,
    /// PK link-mic.
    pub pks: Pks,
    /// Live danmaku, mutes and presence.
    pub danmaku: DanmakuService,
    /// Medals.
    pub medals: Medals,
    /// The outbox of room and gift events.
    pub events: LiveEvents,
    /// The cached admin-managed settings (PK phases and whitelist, gift catalogue).
    pub caches: ConfigCaches,
}

impl Services {
    /// The services over `db`, with `config`'s settings and `clock`'s time; `presence` counts
    /// this process's viewers.
    pub fn new(
        db: &Db,
        redis: &Redis,
        nats: &platform::nats::Nats,
        config: &LiveConfig,
        clock: SharedClock,
        presence: &Presence,
    ) -> Services {
        let events = LiveEvents::new(nats);
        let notifier = PkNotifier::new(nats.clone());
        let phases = Phases {
            invite: chrono::Duration::seconds(config.pk_invite_secs.into()),
            score: chrono::Duration::seconds(config.pk_score_secs.into()),
            punishment: chrono::Duration::seconds(config.pk_punishment_secs.into()),
        };
        let holder = format!("{NAME}-{}", uuid::Uuid::new_v4().simple());
        let caches = ConfigCaches::new(db, nats);
        Services {
            rooms: Rooms::new(db.clone(), clock.clone(), events.clone(), notifier.clone(), presence.clone()),
            wallets: Wallets::new(db.clone(), clock.clone(), CallbackSigner::new(config.payment_secret.expose_secret()))
                .with_order_limit(redis.clone()),
            gifts: Gifts::new(db.clone(), caches.clone(), clock.clone(), events.clone(), notifier.clone()),
            pks: Pks::new(db.clone(), clock.clone(), notifier, PkSettings::new(db.clone(), caches.clone(), clock.clone(), phases), holder),
            danmaku: DanmakuService::new(db.clone(), redis.clone(), nats.clone(), clock.clone(), presence.clone()),
            medals: Medals::new(db.clone(), clock),
            events,
            caches,
        }
    }
}

/// Every request gets its own batchers (`platform::batch`, as in `content`).
fn with_per_request_loaders(schema: LiveSchema, db: Db, services: &Services) -> PerRequest<LiveSchema> {
    let (medals, danmaku) = (services.medals.clone(), services.danmaku.clone());
    PerRequest::new(schema, move |request| {
        request
            .data(Batcher::new(UserMedalsLoader(medals.clone())))
            .data(Batcher::new(WornMedalsLoader(medals.clone())))
            .data(Batcher::new(ViewerCountLoader(danmaku.clone())))
            .data(Batcher::new(RoomByOwnerLoader(db.clone())))
            .data(Batcher::new(ChannelLoader(db.clone())))
            .data(Batcher::new(SessionLoader(db.clone())))
    })
}

/// The schema over `services`.
pub fn build_schema(deps: &Deps, services: &Services) -> PerRequest<LiveSchema> {
    let schema = builder(&deps.config.limits)
        .data(deps.clone())
        .data(services.rooms.clone())
        .data(services.wallets.clone())
        .data(services.gifts.clone())
        .data(services.pks.clone())
        .data(services.danmaku.clone())
        .data(services.medals.clone())
        .finish();
    with_per_request_loaders(schema, deps.db.clone(), services)
}

/// The subgraph, bound and ready to serve, with its configured settings and the real clock.
pub async fn build(deps: Deps) -> Result<Application, InitError> {
    let config = deps.config.live.clone();
    if config.payment_secret.expose_secret() == config::DEV_PAYMENT_SECRET {
        tracing::warn!(
            "live.payment_secret is the development default: anyone can sign a payment callback; set VIDGRAPH_LIVE__PAYMENT_SECRET"
        );
    }
    build_with(deps, config, SystemClock::shared()).await
}

/// The subgraph with explicit settings and clock (tests move a manual clock), its payment
/// callback route, and its background work: the outbox relay and the PK timer poller.
pub async fn build_with(deps: Deps, config: LiveConfig, clock: SharedClock) -> Result<Application, InitError> {
    ROOM_STREAM.ensure(&deps.nats).await.map_err(InitError::Nats)?;
    GIFT_STREAM.ensure(&deps.nats).await.map_err(InitError::Nats)?;
    let presence = Presence::new(deps.redis.clone(), format!("{NAME}-{}", uuid::Uuid::new_v4().simple()));
    let services = Services::new(&deps.db, &deps.redis, &deps.nats, &config, clock.clone(), &presence);
    let schema = build_schema(&deps, &services);
    // Background work has its own small pool, so it never starves requests.
    let background_db = Db::connect(&DbConfig { pool_size: 3, ..deps.config.db.clone() }, &format!("vidgraph-{NAME}-background"));
    let background = Services::new(&background_db, &deps.redis, &deps.nats, &config, clock, &presence);
    let nats = deps.nats.clone();
    let mut application =
        Application::build(NAME, DEFAULT_PORT, deps, schema).await?.merge_routes(payments_http::routes(services.wallets.clone()));
    application.spawn_background(services.events.outbox().clone().relay(background_db.clone(), nats));
    application.spawn_background(background.pks.run_timers(config.timer_poll_max()));
    application.spawn_background(presence.run_reporter(background_db));
    // Requests read the settings from their own services' caches: those are kept fresh. The
    // reloader listens before `build` returns, so no change announced afterwards is missed.
    application.spawn_background(services.caches.clone().reloader().await);
    Ok(application)
}
