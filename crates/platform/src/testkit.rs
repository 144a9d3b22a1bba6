//! Test isolation against the real services (feature `testkit`).
//!
//! Each test gets its own PostgreSQL database cloned from a template migrated once per
//! migration hash (cloning is much faster than migrating), its own Redis key prefix, its own
//! NATS subject prefix, its own signing keys and its own storage directory. Everything is removed when the
//! [`TestServices`] is dropped; databases leaked by killed test processes are swept later.

mod fault;

pub use self::fault::FaultProxy;

use crate::auth::KeyPair;
use crate::config::AppConfig;
use crate::migrate::{maintenance_url, migrations_fingerprint, run_migrations, with_database};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use secrecy::{ExposeSecret, SecretString};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Test databases are named `vgtest_<unix seconds>_<random>`; older than this, they are leaks.
const LEAKED_AFTER: Duration = Duration::from_secs(2 * 3600);

/// A `redis://` URL of a local port nothing listens on (bound, read, closed): a Redis that
/// refuses every connection.
pub fn refused_redis_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    format!("redis://127.0.0.1:{port}")
}

/// Isolated backends for one test; dropping it removes them.
pub struct TestServices {
    config: AppConfig,
    admin_url: String,
    database: String,
    key_dir: PathBuf,
    storage_root: PathBuf,
    keys: KeyPair,
}

impl TestServices {
    /// Creates the database, prefixes and keys. Service URLs come from the usual
    /// `VIDGRAPH_*` variables (defaults: the local services).
    pub async fn new() -> TestServices {
        let mut config = AppConfig::load().expect("test configuration");
        let base_url = config.db.url.expose_secret().to_owned();
        let (admin_url, _) = maintenance_url(&base_url).expect("database URL");
        let database = loop {
            let template = ensure_template(&admin_url, &base_url).await;
            // `None`: the template vanished (swept by a test run with other migrations, e.g. in
            // another worktree); make it again.
            if let Some(database) = create_database_from(&admin_url, &template).await {
                break database;
            }
        };

        let suffix = uuid::Uuid::new_v4().simple().to_string();
        config.db.url = SecretString::from(with_database(&base_url, &database));
        config.db.pool_size = 8;
        config.redis.key_prefix = format!("vgtest:{suffix}:");
        config.nats.subject_prefix = format!("vgtest_{suffix}");
        config.http.host = "127.0.0.1".into();
        config.http.port = Some(0);
        let key_dir = std::env::temp_dir().join(format!("vidgraph-test-{suffix}"));
        let keys = KeyPair::generate().expect("test keys");
        keys.save(&key_dir).expect("write test keys");
        config.auth.key_dir = key_dir.clone();
        // Uploads of one test never meet another's; the directories are created by `content`.
        let storage_root = std::env::temp_dir().join(format!("vidgraph-test-storage-{suffix}"));
        config.storage.root = storage_root.clone();
        TestServices { config, admin_url, database, key_dir, storage_root, keys }
    }

    /// The configuration pointing at this test's backends (subgraphs listen on port 0).
    pub fn config(&self) -> AppConfig {
        self.config.clone()
    }

    /// This test's signing keys (to mint tokens the subgraphs accept, or expired ones).
    pub fn keys(&self) -> &KeyPair {
        &self.keys
    }

    /// Where `jwt-ed25519.pk8` and `jwks.json` of this test live.
    pub fn key_dir(&self) -> &std::path::Path {
        &self.key_dir
    }

    /// This test's upload storage directory (`storage.root`), removed on drop.
    pub fn storage_root(&self) -> &std::path::Path {
        &self.storage_root
    }
}

impl Drop for TestServices {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let database = self.database.clone();
        let redis_url = self.config.redis.url.clone();
        let redis_prefix = self.config.redis.key_prefix.clone();
        let nats_url = self.config.nats.url.clone();
        let nats_prefix = self.config.nats.subject_prefix.clone();
        let _ = std::fs::remove_dir_all(&self.key_dir);
        let _ = std::fs::remove_dir_all(&self.storage_root);
        // Drop runs inside (or outside) a runtime; a dedicated thread with its own runtime works in both.
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async move {
                if let Ok(mut admin) = AsyncPgConnection::establish(&admin_url).await {
                    let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).await;
                }
                let _ = delete_redis_keys(&redis_url, &redis_prefix).await;
                let _ = delete_streams(&nats_url, &nats_prefix).await;
            });
        });
        let _ = cleanup.join();
    }
}

async fn delete_redis_keys(url: &str, prefix: &str) -> anyhow::Result<()> {
    let client = redis::Client::open(url)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) =
            redis::cmd("SCAN").arg(cursor).arg("MATCH").arg(format!("{prefix}*")).arg("COUNT").arg(1000).query_async(&mut conn).await?;
        if !keys.is_empty() {
            let _: i64 = redis::cmd("DEL").arg(&keys).query_async(&mut conn).await?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}

async fn delete_streams(url: &str, prefix: &str) -> anyhow::Result<()> {
    use futures::TryStreamExt;
    let client = async_nats::connect(url).await?;
    let jetstream = async_nats::jetstream::new(client);
    let names: Vec<String> = jetstream.stream_names().try_collect().await?;
    for name in names.into_iter().filter(|name| name.starts_with(prefix)) {
        let _ = jetstream.delete_stream(&name).await;
    }
    Ok(())
}

/// Returns the name of the migrated template for the current migrations, creating it once
/// (serialised across test processes by an advisory lock).
async fn ensure_template(admin_url: &str, base_url: &str) -> String {
    let template = format!("vgtpl_{}", migrations_fingerprint());
    let mut admin = AsyncPgConnection::establish(admin_url).await.expect("connect to the postgres database");
    admin.batch_execute("SELECT pg_advisory_lock(7420001)").await.expect("advisory lock");
    if !database_exists(&mut admin, &template).await {
        sweep_leaked_databases(&mut admin).await;
        let building = format!("{template}_building");
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)")).await.expect("drop stale template");
        admin.batch_execute(&format!("CREATE DATABASE {building}")).await.expect("create template");
        run_migrations(&with_database(base_url, &building)).await.expect("migrate template");
        // Renamed only once complete, so a killed build never leaves a half-migrated template.
        admin.batch_execute(&format!("ALTER DATABASE {building} RENAME TO {template}")).await.expect("publish template");
    }
    admin.batch_execute("SELECT pg_advisory_unlock(7420001)").await.expect("advisory unlock");
    template
}

async fn create_database_from(admin_url: &str, template: &str) -> Option<String> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let name = format!("vgtest_{now}_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let mut admin = AsyncPgConnection::establish(admin_url).await.expect("connect to the postgres database");
    // Concurrent clones of one template can collide ("source database is being accessed");
    // retry a few times with a short backoff.
    let mut attempt = 0;
    loop {
        match admin.batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}")).await {
            Ok(()) => return Some(name),
            Err(error) if !database_exists(&mut admin, template).await => {
                tracing::debug!(%error, "the test template is gone; making it again");
                return None;
            }
            Err(error) if attempt < 20 => {
                attempt += 1;
                tracing::debug!(%error, attempt, "retrying test database clone");
                tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
            }
            Err(error) => panic!("could not clone the test template: {error}"),
        }
    }
}

async fn database_exists(admin: &mut AsyncPgConnection, name: &str) -> bool {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[expect(dead_code, reason = "only the row's presence matters")]
        datname: String,
    }
    diesel::sql_query("SELECT datname FROM pg_database WHERE datname = $1")
        .bind::<diesel::sql_types::Text, _>(name)
        .load::<Found>(admin)
        .await
        .map(|rows| !rows.is_empty())
        .unwrap_or(false)
}

async fn sweep_leaked_databases(admin: &mut AsyncPgConnection) {
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let Ok(rows) = diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'vgtest\\_%' OR datname LIKE 'vgtpl\\_%'")
        .load::<Name>(admin)
        .await
    else {
        return;
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    for Name { datname } in rows {
        let leaked = match datname.strip_prefix("vgtest_").and_then(|rest| rest.split('_').next()).and_then(|s| s.parse::<u64>().ok()) {
            Some(created) => now.saturating_sub(created) > LEAKED_AFTER.as_secs(),
            // Templates of older migration sets are no longer used.
            None => datname.starts_with("vgtpl_"),
        };
        if leaked {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {datname} WITH (FORCE)")).await;
        }
    }
}
