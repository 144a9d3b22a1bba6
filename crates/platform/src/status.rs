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
        let (postgres, redis) = tokio::join!(deps.db.ping(), deps.redis.ping());
        SubgraphStatus {
            subgraph: subgraph.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            postgres: postgres.is_ok(),
            redis: redis.is_ok(),
            nats: deps.nats.ping().is_ok(),
        }
    }
}
