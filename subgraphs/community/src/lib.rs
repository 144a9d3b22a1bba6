//! The `community` subgraph: follows and their counters; zones, posts, comments, likes and
//! points; moderation, dynamics and notifications as they arrive (issue 9).
//!
//! `schema` (GraphQL, thin) → `domain` (rules and services) → `store` (SQL of the `community`
//! schema) and `events` (the outbox of community's JetStream events).

pub mod domain;
pub mod events;
pub mod schema;
pub mod seed;
pub mod store;

use async_graphql::{Schema, SchemaBuilder};
use domain::directory::Directory;
use domain::dynamics::Dynamics;
use domain::follows::Follows;
use domain::likes::Likes;
use domain::messages::Messages;
use domain::moderation::Moderation;
use domain::notifications::Notifications;
use domain::posts::Posts;
use domain::reports::Reports;
use events::CommunityEvents;
use events::inbox::InboxPush;
use events::push::DynamicPush;
use platform::batch::{Batcher, PerRequest};
use platform::clock::{SharedClock, SystemClock};
use platform::config::DbConfig;
use platform::db::Db;
use platform::events::FOLLOW_STREAM;
use platform::events::{ACCOUNT_STREAM, CONTENT_STREAM, ROOM_STREAM};
use platform::{Application, Deps, InitError};
use schema::{FollowStateLoader, LikeLoader, Mutation, Query, Subscription, UserStatsLoader, ZoneFollowLoader, ZoneLoader};

/// Subgraph name (in `supergraph.yaml` and logs).
pub const NAME: &str = "community";
/// Port when none is configured.
pub const DEFAULT_PORT: u16 = 4003;

/// The executable schema.
pub type CommunitySchema = Schema<Query, Mutation, Subscription>;

fn builder(limits: &platform::config::LimitsConfig) -> SchemaBuilder<Query, Mutation, Subscription> {
    platform::schema::federated(Schema::build(Query::default(), Mutation::default(), Subscription::default()), limits)
}

/// The SDL composition reads.
pub fn sdl() -> String {
    platform::schema::federation_sdl(&builder(&Default::default()).finish())
}

/// Every request gets its own batchers (`platform::batch`, as in `content`).
fn with_per_request_loaders(schema: CommunitySchema, posts: &Posts, likes: &Likes, follows: &Follows) -> PerRequest<CommunitySchema> {
    let (posts, likes, follows) = (posts.clone(), likes.clone(), follows.clone());
    PerRequest::new(schema, move |request| {
        request
            .data(Batcher::new(ZoneLoader(posts.clone())))
            .data(Batcher::new(ZoneFollowLoader(posts.clone())))
            .data(Batcher::new(LikeLoader(likes.clone())))
            .data(Batcher::new(UserStatsLoader(follows.clone())))
            .data(Batcher::new(FollowStateLoader(follows.clone())))
    })
}

/// The schema with its services and loaders over `deps`, reading time from `clock`; `events`
/// records into the outbox whose relay [`build`] runs.
pub fn build_schema(deps: &Deps, clock: SharedClock, events: CommunityEvents) -> PerRequest<CommunitySchema> {
    let push = InboxPush::new(deps.nats.clone());
    let notifications = Notifications::new(deps.db.clone(), clock.clone(), push.clone());
    let directory = Directory::new(deps.db.clone(), clock.clone());
    let follows =
        Follows::new(deps.db.clone(), deps.redis.clone(), clock.clone(), events.clone(), notifications.clone(), directory.clone());
    let posts = Posts::new(deps.db.clone(), deps.redis.clone(), clock.clone(), notifications.clone());
    let likes = Likes::new(deps.db.clone(), deps.redis.clone(), clock.clone(), notifications.clone());
    let dynamic_push = DynamicPush::new(&deps.nats, &deps.db);
    let dynamics = Dynamics::new(deps.db.clone(), deps.redis.clone(), clock.clone(), dynamic_push, events.clone(), notifications.clone());
    let schema = builder(&deps.config.limits)
        .data(deps.clone())
        .data(deps.db.clone())
        .data(likes.clone())
        .data(posts.clone())
        .data(Reports::new(deps.db.clone(), clock.clone()))
        .data(Moderation::new(deps.db.clone(), clock.clone()))
        .data(follows.clone())
        .data(dynamics)
        .data(Messages::new(deps.db.clone(), deps.redis.clone(), clock.clone(), push, directory.clone()))
        .data(directory)
        .data(notifications)
        .finish();
    with_per_request_loaders(schema, &posts, &likes, &follows)
}

/// The subgraph, bound and ready to serve, with its background work: the outbox relay, the
/// dynamics' consumers and the account directory's consumer.
pub async fn build(deps: Deps) -> Result<Application, InitError> {
    FOLLOW_STREAM.ensure(&deps.nats).await.map_err(InitError::Nats)?;
    ROOM_STREAM.ensure(&deps.nats).await.map_err(InitError::Nats)?;
    CONTENT_STREAM.ensure(&deps.nats).await.map_err(InitError::Nats)?;
    ACCOUNT_STREAM.ensure(&deps.nats).await.map_err(InitError::Nats)?;
    events::push::PUSH_STREAM.ensure(&deps.nats).await.map_err(InitError::Nats)?;
    let retry = platform::consumer::RetryPolicy::from_config(&deps.config.nats);
    // The consumers' dynamics only publish (and neither like nor comment, so notify nobody);
    // connections register on the schema's.
    let clock = SystemClock::shared();
    let notifications = Notifications::new(deps.db.clone(), clock.clone(), InboxPush::new(deps.nats.clone()));
    let events = CommunityEvents::new(&deps.nats);
    let push = DynamicPush::new(&deps.nats, &deps.db);
    let sources = Dynamics::new(deps.db.clone(), deps.redis.clone(), clock, push, events.clone(), notifications);
    let outbox = events.outbox().clone();
    let schema = build_schema(&deps, SystemClock::shared(), events);
    // Background work has its own small pool, so it never starves requests.
    let background_db = Db::connect(&DbConfig { pool_size: 2, ..deps.config.db.clone() }, &format!("vidgraph-{NAME}-background"));
    let nats = deps.nats.clone();
    let mut application = Application::build(NAME, DEFAULT_PORT, deps, schema).await?;
    application.spawn_background(outbox.relay(background_db.clone(), nats.clone()));
    application.spawn_background(events::dynamics::run_consumers(sources, nats.clone(), retry));
    application.spawn_background(events::accounts::run_directory(background_db, nats, retry));
    Ok(application)
}
