//! The `ranking` subgraph: hot video rankings and week-star gift boards.
//!
//! `schema` (GraphQL, thin) → `domain` (rules, pure and unit-tested) → `store` (diesel, Redis)
//! and `events` (JetStream consumers).

pub mod domain;
pub mod events;
pub mod schema;
pub mod store;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder};
use platform::clock::{SharedClock, SystemClock};
use platform::{Application, Deps, InitError};
use schema::{Mutation, Query};

/// Subgraph name (in `supergraph.yaml` and logs).
pub const NAME: &str = "ranking";
/// Port when none is configured.
pub const DEFAULT_PORT: u16 = 4002;

/// The executable schema.
pub type RankingSchema = Schema<Query, Mutation, EmptySubscription>;

fn builder(limits: &platform::config::LimitsConfig) -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    platform::schema::federated(Schema::build(Query::default(), Mutation::default(), EmptySubscription), limits)
}

/// The SDL composition reads.
pub fn sdl() -> String {
    platform::schema::federation_sdl(&builder(&Default::default()).finish())
}

/// The subgraph, bound and ready to serve.
pub async fn build(deps: Deps) -> Result<Application, InitError> {
    build_with_clock(deps, SystemClock::shared()).await
}

/// [`build`] reading time from `clock` (tests move it across week boundaries).
pub async fn build_with_clock(deps: Deps, clock: SharedClock) -> Result<Application, InitError> {
    let weekstar = events::gifts::WeekStarRuntime::start(&deps, clock).await?;
    let schema = builder(&deps.config.limits).data(deps.clone()).data(weekstar.service()).finish();
    let mut application = Application::build(NAME, DEFAULT_PORT, deps, schema).await?;
    weekstar.spawn(&mut application);
    Ok(application)
}
