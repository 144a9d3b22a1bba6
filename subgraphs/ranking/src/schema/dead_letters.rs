//! `rankingDeadLetters` / `redriveRankingDeadLetters`: the dead letters of ranking's consumers,
//! for admins (the platform's [`platform::consumer::admin`] does the work).

use crate::events::{content, gifts};
use async_graphql::{Context, ID, Object};
use platform::consumer::admin::{self, DeadLetterConnection, RedriveOutcome};

/// The consumers this subgraph owns.
const CONSUMERS: [&str; 2] = [content::DURABLE, gifts::DURABLE];

/// Dead-letter queries.
#[derive(Default)]
pub struct DeadLetterQuery;

#[Object]
impl DeadLetterQuery {
    /// Messages `consumer` (`ranking-hot` or `ranking-weekstar-gifts`) set aside, oldest first. Admin only.
    async fn ranking_dead_letters(
        &self,
        ctx: &Context<'_>,
        consumer: String,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<DeadLetterConnection> {
        admin::list(ctx, &CONSUMERS, consumer, first, after).await
    }
}

/// Dead-letter mutations.
#[derive(Default)]
pub struct DeadLetterMutation;

#[Object]
impl DeadLetterMutation {
    /// Publishes these dead letters of ranking's consumers to their original subjects again
    /// (after the cause was fixed) and removes them from the dead letters. Admin only.
    async fn redrive_ranking_dead_letters(&self, ctx: &Context<'_>, ids: Vec<ID>) -> async_graphql::Result<Vec<RedriveOutcome>> {
        admin::redrive(ctx, &CONSUMERS, ids).await
    }
}
