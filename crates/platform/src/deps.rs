//! The handles every subgraph process shares: config, Postgres, Redis, NATS, token verifier.

use crate::auth::{KeyError, TokenVerifier};
use crate::config::AppConfig;
use crate::db::Db;
use crate::nats::Nats;
use crate::redis::Redis;
use std::sync::Arc;
use std::time::Duration;

/// How long one backend probe may take before it counts as down.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Built once at startup and cloned into the schema and the HTTP state.
#[derive(Clone)]
pub struct Deps {
    /// The loaded configuration.
    pub config: Arc<AppConfig>,
    /// PostgreSQL.
    pub db: Db,
    /// Redis.
    pub redis: Redis,
    /// NATS core and JetStream.
    pub nats: Nats,
    /// Access-token verifier (public keys only).
    pub verifier: Arc<TokenVerifier>,
}

/// Start-up failed before the server could listen.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// Keys missing or unreadable.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// Redis URL malformed.
    #[error("redis: {0}")]
    Redis(anyhow::Error),
    /// NATS unreachable.
    #[error("nats: {0}")]
    Nats(anyhow::Error),
    /// The listener could not bind.
    #[error("listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A subgraph's own start-up step failed.
    #[error("{0}")]
    Subgraph(anyhow::Error),
}

impl Deps {
    /// Connects everything `config` names; `name` labels the database sessions.
    pub async fn connect(config: AppConfig, name: &str) -> Result<Deps, InitError> {
        let verifier = TokenVerifier::from_config(&config.auth)?;
        let db = Db::connect(&config.db, &format!("vidgraph-{name}"));
        let redis = Redis::connect(&config.redis).map_err(InitError::Redis)?;
        let nats = Nats::connect(&config.nats).await.map_err(InitError::Nats)?;
        Ok(Deps { config: Arc::new(config), db, redis, nats, verifier: Arc::new(verifier) })
    }
}

/// One probe of each backend: what `/health/ready` and the `<name>Status` fields report.
pub struct BackendChecks {
    /// PostgreSQL answered a round trip.
    pub postgres: anyhow::Result<()>,
    /// Redis answered `PING`.
    pub redis: anyhow::Result<()>,
    /// The NATS connection is up.
    pub nats: anyhow::Result<()>,
}

impl Deps {
    /// Probes PostgreSQL and Redis concurrently (each bounded by a timeout) and NATS.
    pub async fn check_backends(&self) -> BackendChecks {
        let (postgres, redis) = tokio::join!(bounded(self.db.ping()), bounded(self.redis.ping()));
        BackendChecks { postgres, redis, nats: self.nats.ping() }
    }
}

async fn bounded(probe: impl Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    tokio::time::timeout(PROBE_TIMEOUT, probe).await.unwrap_or_else(|_| Err(anyhow::anyhow!("timed out")))
}
