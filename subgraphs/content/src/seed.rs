//! Demo data for `vidgraph seed`: an admin, a demo user, a crowd of uploaders and a few hundred
//! videos across all regions. Idempotent: running it twice adds nothing.

use crate::domain::password::Password;
use crate::domain::ContentError;
use crate::store::{users, videos};
use chrono::{Duration, Utc};
use diesel_async::AsyncConnection;
use platform::db::Db;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

/// Demo accounts: (e-mail, username, password, role).
pub const DEMO_ACCOUNTS: [(&str, &str, &str, &str); 2] = [
    ("admin@vidgraph.local", "admin", "admin-pass-1", "admin"),
    ("demo@vidgraph.local", "demo", "demo-pass-1", "user"),
];
/// Password of the generated uploaders `uploader01`…
pub const UPLOADER_PASSWORD: &str = "uploader-pass-1";
const UPLOADERS: usize = 48;
const VIDEOS: usize = 400;
const REGIONS: i32 = 8;

/// What the seed created.
#[derive(Debug, Default)]
pub struct SeedReport {
    /// Accounts inserted.
    pub users: usize,
    /// Videos inserted.
    pub videos: usize,
}

/// Inserts the demo data that is missing.
pub async fn run(db: &Db) -> Result<SeedReport, ContentError> {
    let mut conn = db.pool.get().await?;
    let mut report = SeedReport::default();
    let mut rng = StdRng::seed_from_u64(42);

    if users::find_by_login(&mut conn, "demo").await?.is_none() {
        // One hash per distinct password: argon2 is deliberately slow.
        let uploader_hash = Password::parse(UPLOADER_PASSWORD)?.hash()?;
        let mut accounts: Vec<(String, String, String, &str)> = Vec::new();
        for (email, username, password, role) in DEMO_ACCOUNTS {
            accounts.push((email.into(), username.into(), Password::parse(password)?.hash()?, role));
        }
        for n in 1..=UPLOADERS {
            accounts.push((format!("uploader{n:02}@vidgraph.local"), format!("uploader{n:02}"), uploader_hash.clone(), "user"));
        }
        let inserted = conn
            .transaction(async |conn| {
                for (email, username, hash, role) in &accounts {
                    users::insert(
                        conn,
                        &users::NewUser { id: Uuid::now_v7(), email, username, password_hash: hash, role, display_name: username },
                    )
                    .await?;
                }
                Ok::<_, ContentError>(accounts.len())
            })
            .await?;
        report.users = inserted;
    }

    if videos::count(&mut conn).await? == 0 {
        let authors: Vec<Uuid> = {
            let mut ids = Vec::new();
            for n in 1..=UPLOADERS {
                if let Some((user, _)) = users::find_by_login(&mut conn, &format!("uploader{n:02}")).await? {
                    ids.push(user.id);
                }
            }
            ids
        };
        if authors.is_empty() {
            return Ok(report);
        }
        let now = Utc::now();
        let rows: Vec<videos::NewVideo> = (0..VIDEOS)
            .map(|n| {
                let region_id = rng.gen_range(1..=REGIONS);
                let topic = TOPICS[n % TOPICS.len()];
                videos::NewVideo {
                    id: Uuid::now_v7(),
                    author_id: authors[rng.gen_range(0..authors.len())],
                    region_id,
                    title: format!("{topic} #{n}"),
                    description: format!("Demo video {n} about {topic}."),
                    cover_url: Some(format!("https://picsum.photos/seed/vg{n}/640/360")),
                    duration_secs: rng.gen_range(30..3600),
                    published_at: Some(now - Duration::minutes(rng.gen_range(10..90 * 24 * 60))),
                    state: "published".into(),
                    tags: Vec::new(),
                    source_url: None,
                    asset_ref: None,
                    upload_id: None,
                }
            })
            .collect();
        report.videos = videos::insert_many(&mut conn, &rows).await?;
    }
    Ok(report)
}

const TOPICS: [&str; 12] = [
    "原神 新版本实况",
    "Lo-fi beats to code to",
    "手把手教你做红烧肉",
    "Rust async in 10 minutes",
    "城市夜景延时摄影",
    "Speedrun any% world record",
    "动画短片《春日》",
    "Guitar cover: Canon in D",
    "日常vlog 周末去爬山",
    "Mechanical keyboard build",
    "足球 精彩进球集锦",
    "Film review: the classics",
];
