//! The PostgreSQL pool (diesel-async over bb8) and its statement counter.

use crate::config::DbConfig;
use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel_async::pooled_connection::bb8::Pool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use futures::FutureExt;
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A pooled connection, as handed to stores.
pub type DbConn<'a> = diesel_async::pooled_connection::bb8::PooledConnection<'a, AsyncPgConnection>;

/// Counts SQL statements started on every connection of a pool.
///
/// It feeds the `db_statements_total` metric and lets tests assert how many statements a request
/// costs (batching is a promise we check, not hope for).
#[derive(Debug, Clone, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    /// Statements started so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn instrumentation(&self) -> impl Instrumentation {
        let counter = self.0.clone();
        move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::StartQuery { .. } = event {
                counter.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("db_statements_total").increment(1);
            }
        }
    }
}

/// The database handle every store uses: a bb8 pool plus its statement counter.
#[derive(Clone)]
pub struct Db {
    /// The pool; `db.pool.get().await` yields a connection.
    pub pool: Pool<AsyncPgConnection>,
    /// Statements run through this pool.
    pub statements: StatementCounter,
}

/// A connection could not be taken from the pool (database down or pool exhausted).
pub type PoolError = diesel_async::pooled_connection::bb8::RunError;

impl Db {
    /// Builds the pool; connections are opened lazily, so this fails only on bad settings.
    pub fn connect(config: &DbConfig, application_name: &str) -> Db {
        let statements = StatementCounter::default();
        let setup_statements = statements.clone();
        let statement_timeout_ms = config.statement_timeout_ms;
        let application_name = application_name.to_owned();
        let mut manager_config = ManagerConfig::default();
        // Fast recycling: a broken connection is detected by its own error; a `SELECT 1` per
        // checkout would double the statements of every small request.
        manager_config.recycling_method = RecyclingMethod::Fast;
        manager_config.custom_setup = Box::new(move |url| {
            let instrumentation = setup_statements.instrumentation();
            let setup = format!(
                "SET application_name = '{}'; SET statement_timeout = {statement_timeout_ms}; SET TIME ZONE 'UTC'",
                application_name.replace('\'', "")
            );
            async move {
                let mut conn = AsyncPgConnection::establish(url).await?;
                conn.batch_execute(&setup).await.map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                conn.set_instrumentation(instrumentation);
                Ok(conn)
            }
            .boxed()
        });
        let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(config.url.expose_secret(), manager_config);
        let pool = Pool::builder()
            .max_size(config.pool_size)
            .connection_timeout(Duration::from_millis(config.connect_timeout_ms))
            .test_on_check_out(false)
            .build_unchecked(manager);
        Db { pool, statements }
    }

    /// Readiness probe: a round trip to the server.
    pub async fn ping(&self) -> anyhow::Result<()> {
        let mut conn = self.pool.get().await?;
        conn.batch_execute("SELECT 1").await?;
        Ok(())
    }
}
