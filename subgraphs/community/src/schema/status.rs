//! `communityStatus`.

use async_graphql::{Context, Object};
use platform::Deps;
use platform::status::SubgraphStatus;

/// Status query.
#[derive(Default)]
pub struct StatusQuery;

#[Object]
impl StatusQuery {
    /// Whether this subgraph reaches PostgreSQL, Redis and NATS right now.
    async fn community_status(&self, ctx: &Context<'_>) -> async_graphql::Result<SubgraphStatus> {
        Ok(SubgraphStatus::probe(crate::NAME, ctx.data::<Deps>()?).await)
    }
}
