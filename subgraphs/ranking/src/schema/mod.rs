//! The GraphQL surface of `ranking`: thin resolvers over the domain.

mod dead_letters;
mod hot;
mod status;
mod weekstar;

use async_graphql::MergedObject;

pub use self::hot::HotPositionLoader;

/// Root query.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(status::StatusQuery, hot::HotQuery, weekstar::WeekStarQuery, dead_letters::DeadLetterQuery);

/// Root mutation.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(hot::HotMutation, weekstar::WeekStarMutation, dead_letters::DeadLetterMutation);
