//! The `ranking` subgraph: hot video rankings and week-star gift boards.
//!
//! `schema` (GraphQL, thin) → `domain` (rules, pure and unit-tested) → `store` (diesel, Redis)
//! and `events` (JetStream consumers).

pub mod domain;
pub mod events;
pub mod schema;
pub mod store;

use async_graphql::{EmptyMutation, EmptySubscription, Schema, SchemaBuilder};
use platform::{Application, Deps, InitError};
use schema::Query;

/// Subgraph name (in `supergraph.yaml` and logs).
pub const NAME: &str = "ranking";
/// Port when none is configured.
pub const DEFAULT_PORT: u16 = 4002;

/// The executable schema.
pub type RankingSchema = Schema<Query, EmptyMutation, EmptySubscription>;

fn builder(limits: &platform::config::LimitsConfig) -> SchemaBuilder<Query, EmptyMutation, EmptySubscription> {
    platform::schema::federated(Schema::build(Query::default(), EmptyMutation, EmptySubscription), limits)
}

/// The SDL composition reads.
pub fn sdl() -> String {
    platform::schema::federation_sdl(&builder(&Default::default()).finish())
}

/// The subgraph, bound and ready to serve.
pub async fn build(deps: Deps) -> Result<Application, InitError> {
    let schema = builder(&deps.config.limits).data(deps.clone()).finish();
    Application::build(NAME, DEFAULT_PORT, deps, schema).await
}
