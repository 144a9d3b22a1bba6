//! `vidgraph community-check` (the recompute check of every community counter) and the
//! community part of `vidgraph seed`.

use platform::config::AppConfig;

/// Recomputes every community counter from the content tables and prints each difference;
/// fails when there is one.
pub async fn check(config: &AppConfig) -> anyhow::Result<()> {
    let db =
        platform::db::Db::connect(&platform::config::DbConfig { statement_timeout_ms: 0, ..config.db.clone() }, "vidgraph-community-check");
    let differences = community::domain::audit::differences(&db).await.map_err(|e| anyhow::anyhow!("community check: {e:?}"))?;
    for d in &differences {
        println!("{}\t{}\tstored {}\tactual {}", d.subject, d.counter, d.stored, d.actual);
    }
    if differences.is_empty() {
        println!("community-check: every counter agrees");
        Ok(())
    } else {
        anyhow::bail!("community-check: {} counters differ", differences.len())
    }
}

/// Fills community's account directory from content's accounts, then seeds follows among the
/// demo accounts (both read from content's store by the CLI; neither subgraph reads the
/// other's schema). The follows' events go out through community's outbox when a `community`
/// replica runs.
pub async fn seed(config: &AppConfig, db: &platform::db::Db) -> anyhow::Result<()> {
    let backfilled = backfill_directory(db).await?;
    println!("seed: community's account directory took {backfilled} accounts");
    let mut conn = db.pool.get().await?;
    let mut users = Vec::new();
    let logins = content::seed::DEMO_ACCOUNTS.iter().map(|(_, username, _, _)| (*username).to_owned());
    for login in logins.chain((1..=6).map(|n| format!("uploader{n:02}"))) {
        if let Some((user, _)) = content::store::users::find_by_login(&mut conn, &login).await? {
            users.push(user.id);
        }
    }
    drop(conn);
    let nats = platform::nats::Nats::connect(&config.nats).await?;
    let events = community::events::CommunityEvents::new(&nats);
    let report = community::seed::run(db, &events, &users).await.map_err(|e| anyhow::anyhow!("seed community: {e:?}"))?;
    println!("seed: community added {} follows", report.follows);
    Ok(())
}

/// Accounts copied per statement by [`backfill_directory`].
const BACKFILL_BATCH: i64 = 5000;

/// Hands community's account directory every account of content, with its version, batch by
/// batch: the seeded accounts (inserted without account events) and any account registered
/// before the directory existed. The same versioned upsert as the directory's consumer, so it
/// is idempotent and never overwrites a later snapshot the consumer applied. Returns how many
/// directory rows it changed.
pub async fn backfill_directory(db: &platform::db::Db) -> anyhow::Result<usize> {
    let mut conn = db.pool.get().await?;
    let (mut changed, mut after) = (0, None);
    loop {
        let rows = content::store::users::versions_after(&mut conn, after, BACKFILL_BATCH).await?;
        let Some((last, _)) = rows.last() else { break };
        after = Some(last.id);
        let accounts: Vec<community::store::accounts::Account> = rows
            .into_iter()
            .map(|(user, version)| community::store::accounts::Account {
                user_id: user.id,
                username: user.username,
                role: user.role,
                version,
                changed_at: user.updated_at,
            })
            .collect();
        changed += community::store::accounts::apply(&mut conn, &accounts).await?;
    }
    Ok(changed)
}
