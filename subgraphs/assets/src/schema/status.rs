//! `assetsStatus`: the subgraph's backends as an admin tool sees them.

use crate::NAME;
use async_graphql::{Context, Object};
use platform::Deps;
use platform::status::SubgraphStatus;

/// The status query.
#[derive(Default)]
pub struct StatusQuery;

#[Object]
impl StatusQuery {
    /// Whether this subgraph reaches PostgreSQL, Redis and NATS right now.
    async fn assets_status(&self, ctx: &Context<'_>) -> async_graphql::Result<SubgraphStatus> {
        Ok(SubgraphStatus::probe(NAME, ctx.data::<Deps>()?).await)
    }
}
