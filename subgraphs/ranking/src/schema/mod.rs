//! The GraphQL surface of `ranking`: thin resolvers over the domain.

mod status;
mod weekstar;

use async_graphql::MergedObject;

/// Root query.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(status::StatusQuery, weekstar::WeekStarQuery);

/// Root mutation.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(weekstar::WeekStarMutation);
