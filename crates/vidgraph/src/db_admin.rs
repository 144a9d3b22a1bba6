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

/// Inserts the demo data that is missing, up to `size`.
pub async fn seed(config: &AppConfig, size: content::seed::SeedSize) -> anyhow::Result<()> {
    // A seed of a million videos runs statements far longer than a request may: no cap here.
    let db = platform::db::Db::connect(&platform::config::DbConfig { statement_timeout_ms: 0, ..config.db.clone() }, "vidgraph-seed");
    let report = content::seed::run(&db, size).await.map_err(|e| anyhow::anyhow!("seed content: {e:?}"))?;
    println!("seed: {} users, {} videos, {} comments, {} danmaku added", report.users, report.videos, report.comments, report.danmaku);
    let (imported, buckets) = seed_rankings(&db).await?;
    println!("seed: ranking learned {imported} videos, {buckets} growth buckets");
    crate::live_cli::seed(&db).await?;
    crate::community_admin::seed(config, &db).await?;
    Ok(())
}

/// Hands ranking the published videos it has never heard of (seeded ones produced no events),
/// batch by batch, and lets it invent their recent growth. The CLI reads content's store and
/// writes ranking's: neither subgraph reads the other's schema.
async fn seed_rankings(db: &platform::db::Db) -> anyhow::Result<(usize, usize)> {
    const BATCH: i64 = 5000;
    let mut conn = db.pool.get().await?;
    // Nothing to hand over once ranking knows as many videos as content published (the usual
    // case on every `dev` start): skip the walk over the whole catalogue.
    if ranking::seed::known_videos(&mut conn).await? >= content::store::videos::count_published(&mut conn).await? {
        return Ok((0, 0));
    }
    let (mut imported, mut after) = (0, None);
    loop {
        let rows = content::store::videos::published_with_stats(&mut conn, after, BATCH).await?;
        let Some((last, _)) = rows.last() else { break };
        after = Some(last.id);
        let videos: Vec<ranking::seed::SeedVideo> = rows
            .iter()
            .map(|(video, stat)| ranking::seed::SeedVideo {
                video_id: video.id,
                author_id: video.author_id,
                region_id: video.region_id,
                published_at: video.published_at,
                totals: stat.counts(),
            })
            .collect();
        imported += ranking::seed::import(&mut conn, &videos).await?;
    }
    let buckets = ranking::seed::synthesize_growth(&mut conn).await?;
    Ok((imported, buckets))
}

/// Creates an admin account, or promotes the account with this e-mail.
pub async fn create_admin(config: &AppConfig, email: &str, username: &str, password: &str) -> anyhow::Result<()> {
    let registration = Registration {
        email: Email::parse(email).map_err(|e| anyhow::anyhow!("{e}"))?,
        username: Username::parse(username).map_err(|e| anyhow::anyhow!("{e}"))?,
        password: Password::parse(password).map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    let db = platform::db::Db::connect(&config.db, "vidgraph-cli");
    // The account event goes into content's outbox; a running `content` replica's relay sends it.
    let nats = platform::nats::Nats::connect(&config.nats).await?;
    let accounts = content::events::AccountEvents::new(&nats, platform::outbox::Outbox::new(content::events::catalogue::OUTBOX_TABLE));
    let id = content::domain::identity::create_admin(&db, &accounts, registration).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("admin: {id}");
    Ok(())
}

/// Prints access tokens for up to `count` accounts whose username starts with `prefix`, one per
/// line, signed with this deployment's key (load tests act as many distinct users).
pub async fn mint_tokens(config: &AppConfig, prefix: &str, count: i64) -> anyhow::Result<()> {
    let keys = platform::auth::KeyPair::load(&config.auth.key_dir)?;
    let signer = platform::auth::TokenSigner::new(&keys, &config.auth);
    let db = platform::db::Db::connect(&config.db, "vidgraph-cli");
    let mut conn = db.pool.get().await?;
    let accounts = content::store::users::find_by_username_prefix(&mut conn, prefix, count).await?;
    let now = chrono::Utc::now();
    let mut out = String::new();
    for account in accounts {
        let user = platform::auth::AuthUser { id: account.id, role: platform::auth::Role::from_stored(&account.role) };
        out.push_str(&signer.sign(&user, now)?);
        out.push('\n');
    }
    print!("{out}");
    Ok(())
}

/// Runs the full recompute of the hot rankings now, in this process, and prints its figures
/// (what an admin's `recomputeHotRankings` starts in the background).
pub async fn recompute_rankings(config: &AppConfig) -> anyhow::Result<()> {
    let deps = platform::Deps::connect(config.clone(), "vidgraph-cli").await?;
    let rankings = ranking::hot_rankings(&deps, platform::clock::SystemClock::shared()).await?;
    let Some(claimed) = rankings.job().claim("cli", None).await? else {
        anyhow::bail!("a recompute is running already (see `hotRecomputeRuns`)");
    };
    let started = std::time::Instant::now();
    match rankings.job().execute(claimed, None).await? {
        ranking::domain::recompute::RunOutcome::Finished(run) => {
            let secs = started.elapsed().as_secs_f64();
            println!(
                "recompute: {} videos in {secs:.2} s ({:.0} videos/s)",
                run.videos_processed,
                run.videos_processed as f64 / secs.max(f64::EPSILON)
            );
            Ok(())
        }
        other => anyhow::bail!("the recompute did not finish: {other:?}"),
    }
}
