//! The `ranking` subgraph: hot rankings and week-star gift boards.
//!
//! Serving, composing and answering through the router since the foundation; its domain
//! arrives with its own issue. Until then it exposes the status of its backends.

use async_graphql::{Context, EmptyMutation, EmptySubscription, Object, Schema, SchemaBuilder};
use platform::status::SubgraphStatus;
use platform::{Application, Deps, InitError};

/// Subgraph name (in `supergraph.yaml` and logs).
pub const NAME: &str = "ranking";
/// Port when none is configured.
pub const DEFAULT_PORT: u16 = 4002;

/// Root query.
#[derive(Default)]
pub struct Query;

#[Object]
impl Query {
    /// Whether this subgraph reaches PostgreSQL, Redis and NATS right now.
    async fn ranking_status(&self, ctx: &Context<'_>) -> async_graphql::Result<SubgraphStatus> {
        Ok(SubgraphStatus::probe(NAME, ctx.data::<Deps>()?).await)
    }
}

/// The executable schema.
pub type RankingSchema = Schema<Query, EmptyMutation, EmptySubscription>;

fn builder(limits: &platform::config::LimitsConfig) -> SchemaBuilder<Query, EmptyMutation, EmptySubscription> {
    platform::schema::federated(Schema::build(Query, EmptyMutation, EmptySubscription), limits)
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
