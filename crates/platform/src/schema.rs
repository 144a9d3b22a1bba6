//! What every subgraph schema shares: federation, limits, SDL export.

use crate::config::LimitsConfig;
use async_graphql::{ObjectType, SDLExportOptions, Schema, SchemaBuilder, SubscriptionType};

/// Enables Apollo Federation v2 and applies the depth and complexity limits.
pub fn federated<Q, M, S>(builder: SchemaBuilder<Q, M, S>, limits: &LimitsConfig) -> SchemaBuilder<Q, M, S>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let builder = builder.enable_federation().limit_depth(limits.max_depth).limit_complexity(limits.max_complexity);
    // Only a subgraph that has subscriptions declares them to the router.
    if S::is_empty() { builder } else { builder.enable_subscription_in_federation() }
}

/// The subgraph SDL that composition reads (`schema/<name>.graphql`).
pub fn federation_sdl<Q, M, S>(schema: &Schema<Q, M, S>) -> String
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    schema.sdl_with_options(SDLExportOptions::new().federation().compose_directive())
}
