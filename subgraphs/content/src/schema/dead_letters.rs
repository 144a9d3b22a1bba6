//! `contentDeadLetters` / `redriveContentDeadLetters`: the dead letters of content's consumers,
//! for admins (the platform's [`platform::consumer::admin`] does the work).

use crate::events::{assets, follows};
use async_graphql::{Context, ID, Object};
use platform::consumer::admin::{self, DeadLetterConnection, RedriveOutcome};

/// The consumers this subgraph owns.
const CONSUMERS: [&str; 2] = [follows::DURABLE, assets::DURABLE];

/// Dead-letter queries.
#[derive(Default)]
pub struct DeadLetterQuery;

#[Object]
impl DeadLetterQuery {
    /// Messages `consumer` (`content-follows`) set aside, oldest first. Admin only.
    async fn content_dead_letters(
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
    /// Publishes these dead letters of content's consumers to their original subjects again
    /// (after the cause was fixed) and removes them from the dead letters. Admin only.
    async fn redrive_content_dead_letters(&self, ctx: &Context<'_>, ids: Vec<ID>) -> async_graphql::Result<Vec<RedriveOutcome>> {
        admin::redrive(ctx, &CONSUMERS, ids).await
    }
}
