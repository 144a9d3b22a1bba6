//! The `assets` subgraph: the download centre. A user parses a video URL, picks a format and
//! a mode, and workers download it under the URL policy with live progress, a daily quota,
//! retries and dead letters; files are served at short-lived signed URLs and swept when they
//! expire.
//!
//! `schema` (GraphQL, thin) → `domain` (rules and services, the workers) → `store` (diesel,
//! Redis, disk), `fetch` (the guarded HTTP client and the extractors) and `events` (the task
//! queue and archive events through the outbox, progress on core NATS).

pub mod domain;
pub mod events;
pub mod fetch;
pub mod files_http;
pub mod schema;
pub mod store;
#[cfg(feature = "testkit")]
pub mod testing;

use async_graphql::{Schema, SchemaBuilder};
use domain::admin::AssetsAdmin;
use domain::cleanup::{Cleanup, UsageProbe, df_probe};
use domain::downloads::{DiskState, DownloadCentre, Inner};
use domain::file_url::{FileUrlSigner, SECRET_LABEL};
use domain::url_policy::UrlPolicy;
use domain::worker::TaskWorker;
use events::archive::ArchiveEvents;
use events::progress::ProgressBus;
use events::tasks::{OUTBOX_TABLE, TaskQueue};
use fetch::ytdlp::YtDlp;
use fetch::{Extractors, FetchLimits, Lookup, SafeClient, system_lookup};
use platform::auth::KeyPair;
use platform::clock::{SharedClock, SystemClock};
use platform::config::DbConfig;
use platform::db::Db;
use platform::events::ASSET_STREAM;
use platform::outbox::Outbox;
use platform::{Application, Deps, InitError};
use schema::{Mutation, Query, Subscription};
use secrecy::ExposeSecret;
use store::cache::AssetsCache;
use store::files::Storage;

/// Subgraph name (in `supergraph.yaml` and logs).
pub const NAME: &str = "assets";
/// Port when none is configured.
pub const DEFAULT_PORT: u16 = 4005;

/// The executable schema.
pub type AssetsSchema = Schema<Query, Mutation, Subscription>;

fn builder(limits: &platform::config::LimitsConfig) -> SchemaBuilder<Query, Mutation, Subscription> {
    platform::schema::federated(Schema::build(Query::default(), Mutation::default(), Subscription), limits)
}

/// The SDL composition reads.
pub fn sdl() -> String {
    platform::schema::federation_sdl(&builder(&Default::default()).finish())
}

/// What tests replace: the clock, the disk-usage probe and the name resolver.
#[derive(Clone)]
pub struct Options {
    /// The clock.
    pub clock: SharedClock,
    /// Disk usage of the storage root.
    pub usage: UsageProbe,
    /// Names → addresses (the URL policy filters the result).
    pub lookup: Lookup,
}

impl Default for Options {
    fn default() -> Self {
        Options { clock: SystemClock::shared(), usage: df_probe(), lookup: system_lookup() }
    }
}

fn init_error(error: impl Into<anyhow::Error>) -> InitError {
    InitError::Subgraph(error.into())
}

/// The download centre over `deps` (with `options`), its queue and streams ready.
pub async fn download_centre(deps: &Deps, options: &Options) -> Result<DownloadCentre, InitError> {
    let config = deps.config.assets.clone();
    let policy = UrlPolicy::from_config(&config.allow_destinations).map_err(|error| init_error(anyhow::anyhow!(error)))?;
    let limits = FetchLimits::from_config(&config);
    let client = SafeClient::with_lookup(policy.clone(), limits, options.lookup.clone()).map_err(init_error)?;
    let proxies = fetch::proxy::Proxies::from_config(&config, &client).map_err(init_error)?;
    let extractors = match config.ytdlp_path.trim() {
        "" => Extractors::new(client),
        program => {
            let ytdlp = YtDlp::new(program, std::sync::Arc::new(policy), options.lookup.clone(), &limits);
            Extractors::with_ytdlp(client, ytdlp)
        }
    };
    let storage =
        Storage::open(&config.root).map_err(|error| init_error(anyhow::anyhow!("assets.root {}: {error}", config.root.display())))?;
    let secret = match &config.file_url_secret {
        Some(secret) => secret.expose_secret().as_bytes().to_vec(),
        None => KeyPair::load(&deps.config.auth.key_dir)?.derive_secret(SECRET_LABEL).to_vec(),
    };
    events::tasks::ensure_stream(&deps.nats).await.map_err(InitError::Nats)?;
    ASSET_STREAM.ensure(&deps.nats).await.map_err(InitError::Nats)?;
    let outbox = Outbox::new(OUTBOX_TABLE);
    let cache = AssetsCache::new(deps.redis.clone());
    Ok(DownloadCentre::new(Inner {
        db: deps.db.clone(),
        cache: cache.clone(),
        extractors,
        queue: TaskQueue::new(&deps.nats, outbox.clone()),
        archive: ArchiveEvents::new(&deps.nats, outbox),
        progress: ProgressBus::new(deps.nats.clone(), cache),
        storage,
        config,
        tz: deps.config.calendar.time_zone,
        clock: options.clock.clone(),
        signer: FileUrlSigner::new(secret),
        disk: DiskState::default(),
        breakers: Default::default(),
        proxies,
    }))
}

/// The subgraph, bound and ready to serve.
pub async fn build(deps: Deps) -> Result<Application, InitError> {
    build_with(deps, Options::default()).await
}

/// [`build`] with these options: the API, the file route, the outbox relay, the cleanup sweep
/// and (unless `assets.workers` is 0) the worker pool.
pub async fn build_with(deps: Deps, options: Options) -> Result<Application, InitError> {
    let centre = download_centre(&deps, &options).await?;
    let admin = AssetsAdmin::new(centre.clone(), deps.nats.clone());
    let schema = builder(&deps.config.limits)
        .data(deps.clone())
        .data(centre.clone())
        .data(admin)
        .data(platform::consumer::dead_letters::DeadLetters::new(&deps.nats))
        .finish();
    let background_db = Db::connect(&DbConfig { pool_size: 2, ..deps.config.db.clone() }, &format!("vidgraph-{NAME}-background"));
    let (nats, workers) = (deps.nats.clone(), deps.config.assets.workers);
    let retry = platform::consumer::RetryPolicy::from_config(&deps.config.nats);
    let mut application = Application::build(NAME, DEFAULT_PORT, deps, schema).await?.merge_routes(files_http::routes(centre.clone()));
    application.spawn_background(centre.inner().queue.outbox().clone().relay(background_db, nats.clone()));
    application.spawn_background(Cleanup::new(centre.clone(), options.usage.clone()).run());
    if workers > 0 {
        let worker = TaskWorker::new(centre, format!("{NAME}-{}", uuid::Uuid::new_v4().simple()));
        application.spawn_background(worker.consumer(workers, retry).run(nats));
    }
    Ok(application)
}
