//! The Redis pool, with a key prefix that isolates deployments and tests.
//!
//! Redis holds only what can be rebuilt from PostgreSQL (rankings, boards, caches, rate-limit
//! windows), so when it is down the subgraphs degrade instead of waiting on it: a connection is
//! never tested with an extra `PING` before use, a refused connection fails the callers waiting
//! for it at once (bb8 alone would keep them waiting until its timeout), and after a failure
//! [`Redis::conn`] answers "unavailable" immediately for [`RedisConfig::retry_after_ms`], so only
//! one caller per interval pays the connection timeout while Redis is unreachable. Callers decide what degrading means
//! for them (a cache read goes to Postgres, a rate limit counts in-process, a ranking read fails
//! with a code).

use crate::config::RedisConfig;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A pooled connection.
pub type RedisConn<'a> = bb8::PooledConnection<'a, RedisConnectionManager>;

/// Opens multiplexed connections and tells the pool which ones broke. (bb8-redis' manager
/// cannot: its `has_broken` is always false, so without a `PING` per checkout a connection cut
/// by a Redis restart or a network blip would be handed out, and fail, forever.)
pub struct RedisConnectionManager {
    client: redis::Client,
}

impl bb8::ManageConnection for RedisConnectionManager {
    type Connection = RedisConnection;
    type Error = redis::RedisError;

    async fn connect(&self) -> Result<RedisConnection, redis::RedisError> {
        Ok(RedisConnection { inner: self.client.get_multiplexed_async_connection().await?, broken: false })
    }

    async fn is_valid(&self, conn: &mut RedisConnection) -> Result<(), redis::RedisError> {
        redis::cmd("PING").query_async::<String>(conn).await.map(drop)
    }

    fn has_broken(&self, conn: &mut RedisConnection) -> bool {
        conn.broken
    }
}

/// A multiplexed Redis connection that remembers a failure of the connection itself (I/O, a
/// dropped connection, a response timeout), so the pool discards it when it comes back instead
/// of lending it out again. Command errors (a wrong type, a script error) leave it in use.
pub struct RedisConnection {
    inner: redis::aio::MultiplexedConnection,
    broken: bool,
}

impl RedisConnection {
    fn note<T>(&mut self, result: &redis::RedisResult<T>) {
        if let Err(error) = result
            && (error.is_io_error() || error.is_connection_dropped() || error.is_timeout() || error.is_unrecoverable_error())
        {
            self.broken = true;
        }
    }
}

impl redis::aio::ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> redis::RedisFuture<'a, redis::Value> {
        Box::pin(async move {
            let result = self.inner.req_packed_command(cmd).await;
            self.note(&result);
            result
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        Box::pin(async move {
            let result = self.inner.req_packed_commands(pipeline, offset, count).await;
            self.note(&result);
            result
        })
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
    }
}
/// Why no connection could be had.
pub type RedisPoolError = bb8::RunError<redis::RedisError>;

/// A bb8 pool of multiplexed Redis connections and the key prefix of this deployment.
#[derive(Clone)]
pub struct Redis {
    pool: bb8::Pool<RedisConnectionManager>,
    prefix: String,
    breaker: Arc<Breaker>,
    connect_failures: Arc<tokio::sync::Notify>,
}

impl Redis {
    /// Builds the pool lazily (fails only on a malformed URL).
    pub fn connect(config: &RedisConfig) -> anyhow::Result<Redis> {
        let manager = RedisConnectionManager { client: redis::Client::open(config.url.as_str())? };
        let connect_failures = Arc::new(tokio::sync::Notify::new());
        let pool = bb8::Pool::builder()
            .max_size(config.pool_size)
            .connection_timeout(Duration::from_millis(config.connect_timeout_ms.max(1)))
            // A PING before every checkout doubles the round trips of every command; a broken
            // connection shows itself on first use and is dropped when it comes back.
            .test_on_check_out(false)
            // A refused connection is an answer: give up on it instead of retrying until the
            // connection timeout, and tell the waiting callers (`conn`).
            .retry_connection(false)
            .error_sink(Box::new(ConnectFailures(connect_failures.clone())))
            .build_unchecked(manager);
        let breaker = Arc::new(Breaker::new(Duration::from_millis(config.retry_after_ms)));
        Ok(Redis { pool, prefix: config.key_prefix.clone(), breaker, connect_failures })
    }

    /// A connection from the pool, or an error at once while Redis is known to be unreachable.
    pub async fn conn(&self) -> Result<RedisConn<'_>, RedisPoolError> {
        if self.breaker.is_open() {
            return Err(bb8::RunError::User(redis::RedisError::from((redis::ErrorKind::Io, "redis is unavailable (retrying shortly)"))));
        }
        // Registered before asking the pool, so a failure of the connection it opens for us
        // cannot slip by unseen.
        let failed = self.connect_failures.notified();
        let got = tokio::select! {
            got = self.pool.get() => got,
            () = failed => Err(bb8::RunError::User(redis::RedisError::from((redis::ErrorKind::Io, "could not connect to redis")))),
        };
        match got {
            Ok(conn) => {
                self.breaker.close();
                Ok(conn)
            }
            Err(error) => {
                self.breaker.open();
                Err(error)
            }
        }
    }

    /// The full key for `name` under this deployment's prefix.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Readiness probe. It bypasses the fast-fail window, so a recovered Redis is seen at once.
    pub async fn ping(&self) -> anyhow::Result<()> {
        let mut conn = self.pool.get().await.inspect_err(|_| self.breaker.open())?;
        let _: String = redis::cmd("PING").query_async(&mut *conn).await?;
        self.breaker.close();
        Ok(())
    }
}

/// bb8's error sink: wakes every caller waiting in [`Redis::conn`] when a connection attempt
/// failed (bb8 itself only logs it and lets them wait for a connection until its timeout).
#[derive(Debug, Clone)]
struct ConnectFailures(Arc<tokio::sync::Notify>);

impl bb8::ErrorSink<redis::RedisError> for ConnectFailures {
    fn sink(&self, error: redis::RedisError) {
        tracing::debug!(%error, "redis connection attempt failed");
        self.0.notify_waiters();
    }

    fn boxed_clone(&self) -> Box<dyn bb8::ErrorSink<redis::RedisError>> {
        Box::new(self.clone())
    }
}

/// Remembers a recent connection failure: until `retry_after` has passed since it, callers get
/// an error without touching the pool. The first caller after that tries again (and re-opens
/// the window if Redis is still down).
struct Breaker {
    origin: Instant,
    /// Milliseconds since `origin` until which callers fail fast; 0 = closed.
    open_until_ms: AtomicU64,
    retry_after: Duration,
}

impl Breaker {
    fn new(retry_after: Duration) -> Breaker {
        Breaker { origin: Instant::now(), open_until_ms: AtomicU64::new(0), retry_after }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn is_open(&self) -> bool {
        self.now_ms() < self.open_until_ms.load(Ordering::Relaxed)
    }

    fn open(&self) {
        let until = self.now_ms().saturating_add(u64::try_from(self.retry_after.as_millis()).unwrap_or(u64::MAX));
        self.open_until_ms.store(until, Ordering::Relaxed);
    }

    fn close(&self) {
        self.open_until_ms.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refused_redis_fails_without_waiting_for_the_pool_timeout_and_then_fails_fast() {
        // With a 60 s connection timeout, only `retry_connection(false)` lets this finish.
        let config = RedisConfig {
            url: crate::testkit::refused_redis_url(),
            connect_timeout_ms: 60_000,
            retry_after_ms: 60_000,
            ..RedisConfig::default()
        };
        let redis = Redis::connect(&config).expect("pool");
        let first = tokio::time::timeout(Duration::from_secs(20), redis.conn()).await.expect("not stuck in the pool");
        assert!(first.is_err());
        assert!(redis.breaker.is_open(), "the failure opened the fast-fail window");
        let second = tokio::time::timeout(Duration::from_secs(20), redis.conn()).await.expect("not stuck");
        assert!(second.is_err());
    }

    #[tokio::test]
    async fn a_connection_cut_under_the_pool_is_replaced_not_lent_out_again() {
        let mut config = RedisConfig { retry_after_ms: 0, ..RedisConfig::default() };
        let proxy = crate::testkit::FaultProxy::in_front_of_plain_url(&mut config.url).await;
        let redis = Redis::connect(&config).expect("pool");
        let ping = |redis: Redis| async move {
            let mut conn = redis.conn().await?;
            redis::cmd("PING").query_async::<String>(&mut *conn).await.map_err(anyhow::Error::from)
        };
        ping(redis.clone()).await.expect("through the proxy");
        proxy.cut().await;
        assert!(ping(redis.clone()).await.is_err(), "the pooled connection was cut");
        proxy.restore();
        // Without `has_broken`, the pool would hand out the dead connection again and again.
        ping(redis.clone()).await.expect("a fresh connection after the cut");
    }

    #[tokio::test]
    async fn a_working_redis_closes_the_window() {
        let redis = Redis::connect(&RedisConfig { retry_after_ms: 60_000, ..RedisConfig::default() }).expect("pool");
        redis.breaker.open();
        assert!(redis.conn().await.is_err(), "fails fast while open");
        redis.ping().await.expect("the local Redis answers");
        assert!(!redis.breaker.is_open());
        redis.conn().await.expect("a connection again");
    }
}
