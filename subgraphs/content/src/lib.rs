//! The `content` subgraph: accounts and auth, profiles, and the video catalogue.
//!
//! `schema` (GraphQL, thin) → `domain` (rules and services) → `store` (diesel) / `events` (NATS).

pub mod domain;
pub mod events;
pub mod schema;
pub mod seed;
pub mod store;

use async_graphql::dataloader::DataLoader;
use async_graphql::{Schema, SchemaBuilder};
use domain::identity::Identity;
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

/// The schema with its services and loaders, over `deps`.
pub fn build_schema(deps: &Deps) -> Result<ContentSchema, InitError> {
    let keys = KeyPair::load(&deps.config.auth.key_dir)?;
    let signer = Arc::new(TokenSigner::new(&keys, &deps.config.auth));
    let events = events::UserEvents::new(deps.nats.clone());
    let identity = Identity::new(deps.db.clone(), deps.redis.clone(), signer, deps.config.auth.clone(), events.clone());
    Ok(builder(&deps.config.limits)
        .data(identity)
        .data(events)
        .data(deps.db.clone())
        .data(DataLoader::new(UserLoader(deps.db.clone()), tokio::spawn))
        .data(DataLoader::new(VideoLoader(deps.db.clone()), tokio::spawn))
        .data(DataLoader::new(RegionLoader(deps.db.clone()), tokio::spawn))
        .finish())
}

/// The subgraph, bound and ready to serve.
pub async fn build(deps: Deps) -> Result<Application, InitError> {
    let schema = build_schema(&deps)?;
    Application::build(NAME, DEFAULT_PORT, deps, schema).await
}
