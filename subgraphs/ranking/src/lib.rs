//! The `ranking` subgraph: hot video rankings and week-star gift boards.
//!
//! `schema` (GraphQL, thin) → `domain` (rules, pure and unit-tested) → `store` (diesel, Redis)
//! and `events` (JetStream consumers).

pub mod domain;
pub mod events;
pub mod schema;
pub mod seed;
pub mod store;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder};
use domain::rankings::{HotRankings, WeightsInForce};
use domain::recompute::RecomputeJob;
use platform::batch::{Batcher, PerRequest};
use platform::clock::{SharedClock, SystemClock};
use platform::{Application, Deps, InitError};
use schema::{HotPositionLoader, Mutation, Query};
use store::hot_boards::HotBoards;

/// Subgraph name (in `supergraph.yaml` and logs).
pub const NAME: &str = "ranking";
/// Port when none is configured.
pub const DEFAULT_PORT: u16 = 4002;

/// The executable schema.
pub type RankingSchema = Schema<Query, Mutation, EmptySubscription>;

fn builder(limits: &platform::config::LimitsConfig) -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    platform::schema::federated(Schema::build(Query::default(), Mutation::default(), EmptySubscription), limits)
}

/// The SDL composition reads.
pub fn sdl() -> String {
    platform::schema::federation_sdl(&builder(&Default::default()).finish())
}

/// The hot rankings service over `deps` (and the clock tests control).
pub async fn hot_rankings(deps: &Deps, clock: SharedClock) -> Result<HotRankings, InitError> {
    let boards = HotBoards::new(deps.redis.clone());
    let holder = format!("{NAME}-{}", uuid::Uuid::new_v4().simple());
    let job =
        RecomputeJob::new(deps.db.clone(), boards.clone(), clock.clone(), holder).with_batch_size(deps.config.ranking.recompute_batch_size);
    let weights = WeightsInForce::load(&deps.db).await.map_err(|e| InitError::Subgraph(e.into()))?;
    Ok(HotRankings::new(deps.db.clone(), boards, weights, clock, job))
}

/// Every request gets its own batcher (`platform::batch`, as in `content`).
fn with_per_request_loaders(schema: RankingSchema, rankings: HotRankings) -> PerRequest<RankingSchema> {
    PerRequest::new(schema, move |request| request.data(Batcher::new(HotPositionLoader(rankings.clone()))))
}

/// The subgraph, bound and ready to serve, with its background work: the content event
/// consumer, the weights reloader, the recompute schedule, the gift consumer and the weekly
/// week-star settlement.
pub async fn build(deps: Deps) -> Result<Application, InitError> {
    let rankings = hot_rankings(&deps, SystemClock::shared()).await?;
    let weekstar = events::gifts::WeekStarRuntime::start(&deps, SystemClock::shared()).await?;
    let interval = chrono::Duration::seconds(i64::try_from(deps.config.ranking.recompute_interval_secs).unwrap_or(3600));
    let schema = builder(&deps.config.limits)
        .data(deps.clone())
        .data(deps.db.clone())
        .data(deps.nats.clone())
        .data(rankings.clone())
        .data(weekstar.service())
        .data(platform::consumer::dead_letters::DeadLetters::new(&deps.nats))
        .finish();
    let schema = with_per_request_loaders(schema, rankings.clone());
    let (db, nats) = (deps.db.clone(), deps.nats.clone());
    let rankings_db = deps.db.clone();
    let retry = platform::consumer::RetryPolicy::from_config(&deps.config.nats);
    let mut application = Application::build(NAME, DEFAULT_PORT, deps, schema).await?;
    application.spawn_background(events::content::run_content_consumer(rankings.clone(), nats.clone(), retry));
    application.spawn_background(events::weights::run_weights_reloader(rankings.weights().clone(), db, nats));
    application.spawn_background(rankings.job().clone().run_schedule(interval));
    weekstar.spawn(&mut application);
    let (prune_db, prune_clock) = (rankings_db, SystemClock::shared());
    application.spawn_background(platform::periodic::run_every("ranking-prune", PRUNE_EVERY, move || {
        let (db, clock) = (prune_db.clone(), prune_clock.clone());
        async move { prune_stat_buckets(&db, clock.now()).await.map(|_| ()) }
    }));
    Ok(application)
}

/// How often [`prune_stat_buckets`] runs.
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);
/// Rows deleted per statement of a prune.
const PRUNE_BATCH: i64 = 5_000;

/// Deletes the hour buckets no ranking window reaches at `now` any more: those starting more
/// than the longest window (30 days) and an hour ago. The hour is a margin for a recompute that
/// read its `now` a little earlier, or a replica whose clock is a little behind. Returns how
/// many were deleted.
pub async fn prune_stat_buckets(db: &platform::db::Db, now: chrono::DateTime<chrono::Utc>) -> Result<usize, domain::RankingError> {
    let longest = domain::hot::TimeRange::ALL.iter().filter_map(|range| range.window()).max().unwrap_or_else(|| chrono::Duration::days(30));
    let before = now - longest - chrono::Duration::hours(1);
    let mut conn = db.pool.get().await?;
    let mut deleted = 0;
    loop {
        let batch = store::retention::prune_stat_buckets(&mut conn, before, PRUNE_BATCH).await?;
        deleted += batch;
        if batch < PRUNE_BATCH as usize {
            return Ok(deleted);
        }
    }
}
