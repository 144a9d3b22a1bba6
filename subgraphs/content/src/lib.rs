//! The `content` subgraph: accounts and auth, profiles, the video catalogue (publishing,
//! feeds, search, interactions and their counters).
//!
//! `schema` (GraphQL, thin) → `domain` (rules and services) → `store` (diesel) / `events` (NATS).

pub mod domain;
pub mod events;
pub mod schema;
pub mod seed;
pub mod store;
pub mod uploads_http;

use async_graphql::{Schema, SchemaBuilder};
use domain::catalogue::Catalogue;
use domain::comment::Comments;
use domain::danmaku::DanmakuService;
use domain::housekeeping::Housekeeping;
use domain::identity::Identity;
use domain::interaction::Interactions;
use domain::regions::RegionCatalog;
use domain::upload::Uploads;
use events::CatalogueEvents;
use platform::auth::{KeyPair, TokenSigner};
use platform::batch::{Batcher, PerRequest};
use platform::config::DbConfig;
use platform::db::Db;
use platform::events::{ACCOUNT_STREAM, CONTENT_STREAM};
use platform::{Application, Deps, InitError};
use schema::{Mutation, Query, StatLoader, Subscription, UserLoader, VideoLoader, ViewerStateLoader};
use std::sync::Arc;
use store::video_cache::VideoCache;

/// Subgraph name (in `supergraph.yaml` and logs).
pub const NAME: &str = "content";
/// Port when none is configured.
pub const DEFAULT_PORT: u16 = 4001;

/// The executable schema.
pub type ContentSchema = Schema<Query, Mutation, Subscription>;

fn builder(limits: &platform::config::LimitsConfig) -> SchemaBuilder<Query, Mutation, Subscription> {
    platform::schema::federated(Schema::build(Query::default(), Mutation::default(), Subscription::default()), limits)
}

/// The SDL composition reads.
pub fn sdl() -> String {
    platform::schema::federation_sdl(&builder(&Default::default()).finish())
}

/// The schema with its services and loaders, over `deps`; `catalogue_events` records events into
/// the outbox whose relay [`build`] runs, and `uploads` is the service its upload route uses.
pub fn build_schema(deps: &Deps, catalogue_events: CatalogueEvents, uploads: Uploads) -> Result<PerRequest<ContentSchema>, InitError> {
    let keys = KeyPair::load(&deps.config.auth.key_dir)?;
    let signer = Arc::new(TokenSigner::new(&keys, &deps.config.auth));
    let events = events::UserEvents::new(deps.nats.clone());
    let accounts = events::AccountEvents::new(&deps.nats, catalogue_events.outbox().clone());
    let identity = Identity::new(deps.db.clone(), deps.redis.clone(), signer, deps.config.auth.clone(), events.clone(), accounts);
    let db = deps.db.clone();
    let cache = VideoCache::new(deps.redis.clone());
    let regions = RegionCatalog::new(db.clone());
    let schema = builder(&deps.config.limits)
        .data(identity)
        .data(uploads)
        .data(events)
        .data(Catalogue::new(db.clone(), catalogue_events.clone(), cache.clone(), regions.clone()))
        .data(Interactions::new(db.clone(), deps.redis.clone(), catalogue_events.clone()))
        .data(Comments::new(db.clone(), catalogue_events.clone()))
        .data(DanmakuService::new(db.clone(), deps.redis.clone(), catalogue_events.clone()))
        .data(catalogue_events)
        .data(platform::consumer::dead_letters::DeadLetters::new(&deps.nats))
        .data(regions)
        .data(deps.redis.clone())
        .data(db.clone())
        .finish();
    Ok(with_per_request_loaders(schema, db, cache))
}

/// Every request gets its own batchers (`platform::batch`): the loads of one round of its
/// resolvers cost one statement per loader, with no batching window to wait out.
fn with_per_request_loaders(schema: ContentSchema, db: Db, cache: VideoCache) -> PerRequest<ContentSchema> {
    PerRequest::new(schema, move |request| {
        request
            .data(Batcher::new(UserLoader(db.clone())))
            .data(Batcher::new(VideoLoader { db: db.clone(), cache: cache.clone() }))
            .data(Batcher::new(StatLoader(db.clone())))
            .data(Batcher::new(ViewerStateLoader(db.clone())))
    })
}

/// The subgraph, bound and ready to serve, with its upload route and its background work: the
/// outbox relay, the follow and asset projections and the housekeeping job (upload sweep and prune).
pub async fn build(deps: Deps) -> Result<Application, InitError> {
    CONTENT_STREAM.ensure(&deps.nats).await.map_err(InitError::Nats)?;
    ACCOUNT_STREAM.ensure(&deps.nats).await.map_err(InitError::Nats)?;
    let catalogue_events = CatalogueEvents::new(&deps.nats);
    let outbox = catalogue_events.outbox().clone();
    let uploads = Uploads::from_config(deps.db.clone(), &deps.config)?;
    let schema = build_schema(&deps, catalogue_events, uploads.clone())?;
    // Background work has its own small pool: it never starves requests, and the request
    // pool's statement counter measures requests only.
    let background_db = Db::connect(&DbConfig { pool_size: 2, ..deps.config.db.clone() }, &format!("vidgraph-{NAME}-background"));
    let nats = deps.nats.clone();
    let trusted_proxies = deps.config.http.trusted_proxies.clone();
    let refresh_grace_secs = deps.config.auth.refresh_prune_grace_secs;
    let retry = platform::consumer::RetryPolicy::from_config(&deps.config.nats);
    let mut application = Application::build(NAME, DEFAULT_PORT, deps, schema)
        .await?
        .merge_routes(uploads_http::routes(uploads.clone(), trusted_proxies))
        // Redis only caches videos and counts rate limits here; both degrade (see platform::redis).
        .serves_without_redis();
    let housekeeping = Housekeeping::new(background_db.clone(), uploads.with_db(background_db.clone()), refresh_grace_secs);
    application.spawn_background(housekeeping.run());
    application.spawn_background(outbox.relay(background_db.clone(), nats.clone()));
    application.spawn_background(events::follows::run_follow_projection(background_db.clone(), nats.clone(), retry));
    application.spawn_background(events::assets::run_asset_projection(background_db, nats, retry));
    Ok(application)
}
