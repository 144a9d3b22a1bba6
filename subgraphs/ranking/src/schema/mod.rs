//! The GraphQL surface of `ranking`: thin resolvers over the domain.

mod status;

use async_graphql::MergedObject;

/// Root query.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(status::StatusQuery);
