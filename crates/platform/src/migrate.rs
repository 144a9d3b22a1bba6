//! Database creation and migrations (run by `vidgraph migrate`, never by subgraphs at start-up).

use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// Every migration of every subgraph schema, compiled in.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// A hash of `migrations/`, changing whenever any migration does.
pub const MIGRATIONS_HASH: &str = env!("VIDGRAPH_MIGRATIONS_HASH");

/// Names the exact set of migrations this binary embeds: [`MIGRATIONS_HASH`] plus the names of
/// the embedded migrations, read from the binary itself. Worktrees that share one target
/// directory build the platform crate as the same cargo unit, so a build can pick up the
/// build-script output (the hash) of another worktree's `migrations/`; the embedded names are
/// always this binary's own, so two different sets never share a test template.
pub fn migrations_fingerprint() -> String {
    use diesel::migration::MigrationSource;
    let names: Vec<String> = MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .map(|migrations| migrations.iter().map(|m| m.name().to_string()).collect())
        .unwrap_or_default();
    // FNV-1a, as in build.rs: stable across toolchains.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in MIGRATIONS_HASH.bytes().chain(names.join("\n").into_bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Splits `postgres://…/name?opts` into the URL of the `postgres` maintenance database and `name`.
pub fn maintenance_url(url: &str) -> anyhow::Result<(String, String)> {
    let without_query = url.split_once('?').map_or(url, |(u, _)| u);
    let (base, name) = without_query.rsplit_once('/').ok_or_else(|| anyhow::anyhow!("database URL has no database name"))?;
    if name.is_empty() || base.ends_with('/') {
        anyhow::bail!("database URL has no database name");
    }
    Ok((with_database(url, "postgres"), name.to_owned()))
}

/// `url` with its database name replaced by `database` (query options kept).
pub fn with_database(url: &str, database: &str) -> String {
    let (without_query, query) = url.split_once('?').map_or((url, None), |(u, q)| (u, Some(q)));
    let base = without_query.rsplit_once('/').map_or(without_query, |(base, _)| base);
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// Creates the database of `url` if it does not exist.
pub async fn ensure_database(url: &str) -> anyhow::Result<()> {
    let (admin_url, name) = maintenance_url(url)?;
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        anyhow::bail!("database name {name:?} must be letters, digits and underscores");
    }
    let mut admin = AsyncPgConnection::establish(&admin_url).await?;
    let exists: i64 = diesel::sql_query(format!("SELECT count(*) AS n FROM pg_database WHERE datname = '{name}'"))
        .get_result::<Count>(&mut admin)
        .await?
        .n;
    if exists == 0 {
        match admin.batch_execute(&format!("CREATE DATABASE {name}")).await {
            Ok(()) => tracing::info!(database = %name, "created database"),
            // Another process created it between the check and the create.
            Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {}
            Err(error) if error.to_string().contains("already exists") => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

/// Runs the pending migrations on `url`; returns the versions applied.
pub async fn run_migrations(url: &str) -> anyhow::Result<Vec<String>> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        let mut conn = <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(&url)?;
        let applied = conn.run_pending_migrations(MIGRATIONS).map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    })
    .await?
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maintenance_url_swaps_the_database_name() {
        let (admin, name) = maintenance_url("postgres://u@h:5432/vidgraph?sslmode=disable").expect("url");
        assert_eq!(admin, "postgres://u@h:5432/postgres?sslmode=disable");
        assert_eq!(name, "vidgraph");
        assert!(maintenance_url("postgres://u@h:5432/").is_err());
    }
}
