//! `SubgraphStatus`: what an admin tool sees of a subgraph's backends, through the router.

use crate::deps::Deps;
use async_graphql::SimpleObject;

/// Health of one subgraph as seen from inside it.
#[derive(SimpleObject)]
#[graphql(shareable)]
pub struct SubgraphStatus {
    /// Subgraph name.
    pub subgraph: String,
    /// Crate version of the running build.
    pub version: String,
    /// PostgreSQL answered a round trip.
    pub postgres: bool,
    /// Redis answered `PING`.
    pub redis: bool,
    /// The NATS connection is up.
    pub nats: bool,
}

impl SubgraphStatus {
    /// Probes the backends of `deps` now.
    pub async fn probe(subgraph: &str, deps: &Deps) -> SubgraphStatus {
        let checks = deps.check_backends().await;
        SubgraphStatus {
            subgraph: subgraph.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            postgres: checks.postgres.is_ok(),
            redis: checks.redis.is_ok(),
            nats: checks.nats.is_ok(),
        }
    }
}
