//! The `content` subgraph: accounts and auth, profiles, and the video catalogue.
//!
//! `schema` (GraphQL, thin) → `domain` (rules and services) → `store` (diesel) / `events` (NATS).

pub mod domain;
pub mod events;
pub mod schema;
pub mod seed;
pub mod store;
pub mod uploads_http;

use async_graphql::dataloader::DataLoader;
use async_graphql::{Schema, SchemaBuilder};
use domain::identity::Identity;
use domain::upload::Uploads;
use events::CatalogueEvents;
use platform::config::DbConfig;
use platform::db::Db;
use platform::events::CONTENT_STREAM;
use platform::auth::{KeyPair, TokenSigner};
use platform::{Application, Deps, InitError};
use schema::{Mutation, Query, RegionLoader, Subscription, UserLoader, VideoLoader};
use std::sync::Arc;

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

/// The schema with its services and loaders, over `deps`; `catalogue` records events into the
/// outbox whose relay [`build`] runs.
pub fn build_schema(deps: &Deps, catalogue: CatalogueEvents) -> Result<ContentSchema, InitError> {
    let keys = KeyPair::load(&deps.config.auth.key_dir)?;
    let signer = Arc::new(TokenSigner::new(&keys, &deps.config.auth));
    let events = events::UserEvents::new(deps.nats.clone());
    let identity = Identity::new(deps.db.clone(), deps.redis.clone(), signer, deps.config.auth.clone(), events.clone());
    Ok(builder(&deps.config.limits)
        .data(identity)
        .data(Uploads::from_config(deps.db.clone(), &deps.config)?)
        .data(events)
        .data(catalogue)
        .data(deps.redis.clone())
        .data(deps.db.clone())
        .data(DataLoader::new(UserLoader(deps.db.clone()), tokio::spawn))
        .data(DataLoader::new(VideoLoader(deps.db.clone()), tokio::spawn))
        .data(DataLoader::new(RegionLoader(deps.db.clone()), tokio::spawn))
        .finish())
}

/// The subgraph, bound and ready to serve, with its upload route and its background work: the
/// outbox relay and the upload sweeper.
pub async fn build(deps: Deps) -> Result<Application, InitError> {
    CONTENT_STREAM.ensure(&deps.nats).await.map_err(InitError::Nats)?;
    let catalogue = CatalogueEvents::new(&deps.nats);
    let outbox = catalogue.outbox().clone();
    let schema = build_schema(&deps, catalogue)?;
    // Background work has its own small pool: it never starves requests, and the request
    // pool's statement counter measures requests only.
    let background_db = Db::connect(&DbConfig { pool_size: 2, ..deps.config.db.clone() }, &format!("vidgraph-{NAME}-background"));
    let nats = deps.nats.clone();
    let uploads = Uploads::from_config(deps.db.clone(), &deps.config)?;
    let mut application = Application::build(NAME, DEFAULT_PORT, deps, schema).await?.merge_routes(uploads_http::routes(uploads.clone()));
    application.spawn_background(uploads.with_db(background_db.clone()).run_sweeper());
    application.spawn_background(outbox.relay(background_db, nats));
    Ok(application)
}
