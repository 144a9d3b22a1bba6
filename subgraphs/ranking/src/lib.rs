//! The `ranking` subgraph: hot video rankings and week-star gift boards.
//!
//! `schema` (GraphQL, thin) → `domain` (rules, pure and unit-tested) → `store` (diesel, Redis)
//! and `events` (JetStream consumers).

pub mod domain;
pub mod events;
pub mod schema;
pub mod seed;
pub mod store;

use async_graphql::dataloader::DataLoader;
use async_graphql::{EmptySubscription, Schema, SchemaBuilder};
use domain::rankings::{HotRankings, WeightsInForce};
use domain::recompute::RecomputeJob;
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
        .data(DataLoader::new(HotPositionLoader(rankings.clone()), tokio::spawn))
        .data(weekstar.service())
        .data(platform::consumer::dead_letters::DeadLetters::new(&deps.nats))
        .finish();
    let (db, nats) = (deps.db.clone(), deps.nats.clone());
    let retry = platform::consumer::RetryPolicy::from_config(&deps.config.nats);
    let mut application = Application::build(NAME, DEFAULT_PORT, deps, schema).await?;
    application.spawn_background(events::content::run_content_consumer(rankings.clone(), nats.clone(), retry));
    application.spawn_background(events::weights::run_weights_reloader(rankings.weights().clone(), db, nats));
    application.spawn_background(rankings.job().clone().run_schedule(interval));
    weekstar.spawn(&mut application);
    Ok(application)
}
