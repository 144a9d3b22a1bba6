//! Admin queries and mutations: the queue, dead letters (list, retry, discard), per-platform
//! success rates, user quota levels. Admin only.

use super::{GqlResultExt, parse_id};
use crate::domain::admin::AssetsAdmin;
use crate::domain::downloads::DownloadCentre;
use crate::domain::worker::DURABLE;
use async_graphql::{Context, ID, Object, SimpleObject};
use platform::auth::{AdminOnly, viewer};
use platform::consumer::admin::{self, DeadLetterConnection};
use platform::error::CodedResultExt;

/// The download queue now.
#[derive(SimpleObject)]
pub struct AssetsQueue {
    /// Messages not yet delivered to a worker.
    pub pending: i64,
    /// Delivered and not yet acked.
    pub in_flight: i64,
    /// Tasks queued.
    pub queued: i64,
    /// Tasks running.
    pub running: i64,
}

/// How one platform's downloads ended.
#[derive(SimpleObject)]
pub struct PlatformSuccess {
    /// The site.
    pub platform: String,
    /// Completed.
    pub completed: i64,
    /// Failed.
    pub failed: i64,
    /// completed / (completed + failed), 0–1.
    pub success_rate: f64,
}

/// One circuit breaker (of a platform or a proxy provider) on the replica that answered.
#[derive(SimpleObject)]
pub struct CircuitBreakerState {
    /// What it guards: `PLATFORM` or `PROXY_PROVIDER`.
    pub kind: String,
    /// The site, or the proxy provider (its API's host).
    pub platform: String,
    /// `CLOSED`, `OPEN` or `HALF_OPEN`.
    pub state: String,
    /// Outcomes remembered (while closed).
    pub recent_calls: i32,
    /// Failures among them.
    pub recent_failures: i32,
    /// When an open breaker lets probes through.
    pub open_until: Option<chrono::DateTime<chrono::Utc>>,
}

/// Admin queries.
#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// The download queue. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn assets_queue(&self, ctx: &Context<'_>) -> async_graphql::Result<AssetsQueue> {
        viewer(ctx).require_admin().coded()?;
        let state = ctx.data::<AssetsAdmin>()?.queue().await.gql()?;
        let to_i64 = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
        Ok(AssetsQueue { pending: to_i64(state.pending), in_flight: to_i64(state.in_flight), queued: state.queued, running: state.running })
    }

    /// Downloads that ran out of attempts (consumer `assets-downloads`), oldest first. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn assets_dead_letters(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<DeadLetterConnection> {
        admin::list(ctx, &[DURABLE], DURABLE.to_owned(), first, after).await
    }

    /// The circuit breakers of the replica that answers (each replica keeps its own): the
    /// platforms', by platform, then the proxy provider's. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn assets_circuit_breakers(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CircuitBreakerState>> {
        use crate::domain::breaker::State;
        viewer(ctx).require_admin().coded()?;
        let inner = ctx.data::<DownloadCentre>()?.inner();
        Ok([&inner.breakers, inner.proxies.breakers()]
            .into_iter()
            .flat_map(|breakers| {
                breakers.snapshot().into_iter().map(|(name, breaker)| (breakers.kind().to_ascii_uppercase(), name, breaker))
            })
            .map(|(kind, platform, breaker)| {
                let (calls, failures) = breaker.recent();
                let (state, open_until) = match breaker.state() {
                    State::Closed => ("CLOSED", None),
                    State::Open { until } => ("OPEN", Some(until)),
                    State::HalfOpen { .. } => ("HALF_OPEN", None),
                };
                CircuitBreakerState {
                    kind,
                    platform,
                    state: state.to_owned(),
                    recent_calls: i32::try_from(calls).unwrap_or(i32::MAX),
                    recent_failures: i32::try_from(failures).unwrap_or(i32::MAX),
                    open_until,
                }
            })
            .collect())
    }

    /// Completed and failed downloads per platform over the last `hours` (default 24). Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn assets_platform_success(&self, ctx: &Context<'_>, hours: Option<i32>) -> async_graphql::Result<Vec<PlatformSuccess>> {
        viewer(ctx).require_admin().coded()?;
        let rows = ctx.data::<AssetsAdmin>()?.platform_outcomes(i64::from(hours.unwrap_or(24))).await.gql()?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let ended = row.completed + row.failed;
                PlatformSuccess {
                    success_rate: if ended == 0 { 0.0 } else { row.completed as f64 / ended as f64 },
                    platform: row.platform,
                    completed: row.completed,
                    failed: row.failed,
                }
            })
            .collect())
    }
}

/// Admin mutations.
#[derive(Default)]
pub struct AdminMutation;

fn letter_id(raw: &ID) -> async_graphql::Result<u64> {
    raw.parse::<u64>()
        .map_err(|_| super::gql_error(crate::domain::AssetsError::InvalidInput(format!("{:?} is not a dead-letter id.", raw.as_str()))))
}

#[Object]
impl AdminMutation {
    /// Queues the task of a dead letter again with its attempts reset, and removes the dead
    /// letter; returns the task id, or `null` when there is no such dead letter or its task is
    /// no longer failed. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn retry_assets_dead_letter(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<ID>> {
        viewer(ctx).require_admin().coded()?;
        let task = ctx.data::<AssetsAdmin>()?.retry(letter_id(&id)?).await.gql()?;
        Ok(task.map(|task| ID(task.to_string())))
    }

    /// Removes a dead letter of the download queue; whether there was one. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn discard_assets_dead_letter(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        viewer(ctx).require_admin().coded()?;
        ctx.data::<AssetsAdmin>()?.discard(letter_id(&id)?).await.gql()
    }

    /// Sets a user's download level (its daily quota is `assets.daily_limits[level]`). Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn set_download_level(&self, ctx: &Context<'_>, user_id: ID, level: i32) -> async_graphql::Result<bool> {
        viewer(ctx).require_admin().coded()?;
        let user_id = parse_id(&user_id, "userId")?;
        ctx.data::<DownloadCentre>()?.set_level(user_id, level).await.gql()?;
        Ok(true)
    }
}
