//! `vidgraph migrate`, `vidgraph seed`, `vidgraph create-admin`.

use content::domain::account::{Email, Username};
use content::domain::identity::Registration;
use content::domain::password::Password;
use platform::config::AppConfig;
use secrecy::ExposeSecret;

/// Creates the database if needed and applies pending migrations.
pub async fn migrate(config: &AppConfig) -> anyhow::Result<()> {
    let url = config.db.url.expose_secret();
    platform::migrate::ensure_database(url).await?;
    let applied = platform::migrate::run_migrations(url).await?;
    if applied.is_empty() {
        println!("migrations: up to date");
    } else {
        println!("migrations: applied {}", applied.join(", "));
    }
    Ok(())
}

/// Inserts the demo data that is missing; the catalogue is topped up to `videos` videos.
pub async fn seed(config: &AppConfig, videos: i64) -> anyhow::Result<()> {
    let db = platform::db::Db::connect(&config.db, "vidgraph-seed");
    let report = content::seed::run(&db, videos).await.map_err(|e| anyhow::anyhow!("seed content: {e:?}"))?;
    println!(
        "seed: {} users, {} videos, {} comments, {} danmaku added",
        report.users, report.videos, report.comments, report.danmaku
    );
    Ok(())
}

/// Creates an admin account, or promotes the account with this e-mail.
pub async fn create_admin(config: &AppConfig, email: &str, username: &str, password: &str) -> anyhow::Result<()> {
    let registration = Registration {
        email: Email::parse(email).map_err(|e| anyhow::anyhow!("{e}"))?,
        username: Username::parse(username).map_err(|e| anyhow::anyhow!("{e}"))?,
        password: Password::parse(password).map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    let db = platform::db::Db::connect(&config.db, "vidgraph-cli");
    let id = content::domain::identity::create_admin(&db, registration).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("admin: {id}");
    Ok(())
}
