//! Demo data for `vidgraph seed`: an admin, a demo user, a crowd of uploaders, a few thousand
//! videos over every region with heavy-tailed counters and publication times spread over the
//! last four months, and comments and danmaku on the most watched ones — so that feeds, search
//! and rankings look alive. Idempotent: running it again adds only what is missing, and
//! `--videos N` tops the catalogue up to N videos (benchmarks seed 100,000 or more).
//!
//! Videos, counters, comments and danmaku are generated set-wise in SQL (`generate_series`,
//! seeded `random()`): a million rows take seconds, not the minutes row-by-row inserts would.

use crate::domain::ContentError;
use crate::domain::password::Password;
use crate::store::{users, videos};
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use platform::db::Db;
use uuid::Uuid;

/// Demo accounts: (e-mail, username, password, role).
pub const DEMO_ACCOUNTS: [(&str, &str, &str, &str); 2] =
    [("admin@vidgraph.local", "admin", "admin-pass-1", "admin"), ("demo@vidgraph.local", "demo", "demo-pass-1", "user")];
/// Password of the generated uploaders `uploader01`…
pub const UPLOADER_PASSWORD: &str = "uploader-pass-1";
const UPLOADERS: usize = 48;
/// Videos in the catalogue after a default seed.
pub const DEFAULT_VIDEOS: i64 = 3000;
/// Videos per insert statement (bounds the size of one transaction on big seeds).
const VIDEO_BATCH: i64 = 50_000;
/// How many of the most viewed videos get comments and danmaku.
const DISCUSSED_VIDEOS: i64 = 300;

/// What the seed created.
#[derive(Debug, Default)]
pub struct SeedReport {
    /// Accounts inserted.
    pub users: usize,
    /// Videos inserted.
    pub videos: i64,
    /// Comments inserted (roots and replies).
    pub comments: usize,
    /// Danmaku inserted.
    pub danmaku: usize,
}

/// How big the demo data should be.
#[derive(Debug, Clone, Copy)]
pub struct SeedSize {
    /// Videos in the catalogue.
    pub videos: i64,
    /// Plain viewer accounts `viewer00001`… (password [`VIEWER_PASSWORD`]), for load tests.
    pub viewers: i64,
}

impl Default for SeedSize {
    fn default() -> Self {
        SeedSize { videos: DEFAULT_VIDEOS, viewers: 0 }
    }
}

/// Password of the generated viewers.
pub const VIEWER_PASSWORD: &str = "viewer-pass-1";

/// Inserts the demo data that is missing, topping the catalogue and the viewers up to `size`.
pub async fn run(db: &Db, size: SeedSize) -> Result<SeedReport, ContentError> {
    let target_videos = size.videos;
    let mut conn = db.pool.get().await?;
    let mut report = SeedReport::default();
    if users::find_by_login(&mut conn, "demo").await?.is_none() {
        report.users = insert_accounts(&mut conn).await?;
    }
    let viewers = count(&mut conn, "SELECT count(*) AS n FROM content.users WHERE username LIKE 'viewer%'").await?;
    if viewers < size.viewers {
        let hash = Password::parse(VIEWER_PASSWORD)?.hash()?;
        diesel::sql_query(INSERT_VIEWERS)
            .bind::<BigInt, _>(viewers + 1)
            .bind::<BigInt, _>(size.viewers)
            .bind::<diesel::sql_types::Text, _>(hash)
            .execute(&mut conn)
            .await?;
        report.users += usize::try_from(size.viewers - viewers).unwrap_or(0);
    }
    let existing = videos::count(&mut conn).await?;
    if existing < target_videos {
        // Seeded `random()`: the same seed on an empty database yields the same catalogue.
        conn.batch_execute("SELECT setseed(0.42)").await?;
        let mut start = existing;
        while start < target_videos {
            let end = (start + VIDEO_BATCH).min(target_videos);
            conn.transaction::<_, ContentError, _>(async |conn| {
                diesel::sql_query(INSERT_VIDEOS).bind::<BigInt, _>(start + 1).bind::<BigInt, _>(end).execute(conn).await?;
                conn.batch_execute(INSERT_STATS).await?;
                Ok(())
            })
            .await?;
            start = end;
        }
        report.videos = target_videos - existing;
    }
    if count(&mut conn, "SELECT count(*) AS n FROM content.comments").await? == 0 {
        conn.transaction::<_, ContentError, _>(async |conn| {
            diesel::sql_query(INSERT_COMMENTS).bind::<BigInt, _>(DISCUSSED_VIDEOS).execute(conn).await?;
            conn.batch_execute(INSERT_REPLIES_AND_COUNT).await?;
            diesel::sql_query(INSERT_DANMAKU).bind::<BigInt, _>(DISCUSSED_VIDEOS).execute(conn).await?;
            conn.batch_execute(SYNC_DISCUSSION_COUNTERS).await?;
            Ok(())
        })
        .await?;
        report.comments = usize::try_from(count(&mut conn, "SELECT count(*) AS n FROM content.comments").await?).unwrap_or(0);
        report.danmaku = usize::try_from(count(&mut conn, "SELECT count(*) AS n FROM content.danmaku").await?).unwrap_or(0);
    }
    Ok(report)
}

async fn insert_accounts(conn: &mut AsyncPgConnection) -> Result<usize, ContentError> {
    // One hash per distinct password: argon2 is deliberately slow.
    let uploader_hash = Password::parse(UPLOADER_PASSWORD)?.hash()?;
    let mut accounts: Vec<(String, String, String, &str)> = Vec::new();
    for (email, username, password, role) in DEMO_ACCOUNTS {
        accounts.push((email.into(), username.into(), Password::parse(password)?.hash()?, role));
    }
    for n in 1..=UPLOADERS {
        accounts.push((format!("uploader{n:02}@vidgraph.local"), format!("uploader{n:02}"), uploader_hash.clone(), "user"));
    }
    conn.transaction(async |conn| {
        for (email, username, hash, role) in &accounts {
            users::insert(conn, &users::NewUser { id: Uuid::now_v7(), email, username, password_hash: hash, role, display_name: username })
                .await?;
        }
        Ok::<_, ContentError>(accounts.len())
    })
    .await
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(conn: &mut AsyncPgConnection, sql: &str) -> Result<i64, ContentError> {
    Ok(diesel::sql_query(sql).get_result::<Count>(conn).await?.n)
}

/// Viewers number `$1`..=`$2`, all with the password hash `$3`.
const INSERT_VIEWERS: &str = "
INSERT INTO content.users (id, email, username, password_hash, display_name)
SELECT gen_random_uuid(), 'viewer' || lpad(g::text, 5, '0') || '@vidgraph.local', 'viewer' || lpad(g::text, 5, '0'), $3,
       'viewer' || lpad(g::text, 5, '0')
FROM generate_series($1::bigint, $2::bigint) AS g
ON CONFLICT DO NOTHING";

/// Videos number `$1`..=`$2`: a topic (title, tags, region) per number, a random uploader,
/// a length from 30 s to an hour, published in the last 120 days.
const INSERT_VIDEOS: &str = "
WITH topics(n, title, tags, region) AS (VALUES
    (0, '原神 新版本实况', ARRAY['原神','游戏','实况'], 3),
    (1, 'Lo-fi beats to code to', ARRAY['lofi','music','study'], 2),
    (2, '手把手教你做红烧肉', ARRAY['美食','教程','红烧肉'], 6),
    (3, 'Rust async in 10 minutes', ARRAY['rust','programming','async'], 4),
    (4, '城市夜景延时摄影', ARRAY['摄影','延时','夜景'], 5),
    (5, 'Speedrun any% world record', ARRAY['speedrun','gaming','record'], 3),
    (6, '动画短片《春日》', ARRAY['动画','短片','原创'], 1),
    (7, 'Guitar cover: Canon in D', ARRAY['guitar','cover','music'], 2),
    (8, '日常vlog 周末去爬山', ARRAY['vlog','日常','爬山'], 5),
    (9, 'Mechanical keyboard build', ARRAY['keyboard','diy','tech'], 4),
    (10, '足球 精彩进球集锦', ARRAY['足球','体育','集锦'], 7),
    (11, 'Film review: the classics', ARRAY['film','review','classics'], 8),
    (12, '新番导视 十月篇', ARRAY['新番','动画','导视'], 1),
    (13, 'Street food tour in Chengdu', ARRAY['food','travel','chengdu'], 6),
    (14, '钢琴演奏 卡农', ARRAY['钢琴','音乐','演奏'], 2),
    (15, 'Building a GraphQL federation', ARRAY['graphql','federation','backend'], 4),
    (16, 'Marathon training diary', ARRAY['running','marathon','sports'], 7),
    (17, '电影解说 经典科幻', ARRAY['电影','解说','科幻'], 8),
    (18, 'Pixel art animation timelapse', ARRAY['pixelart','animation','timelapse'], 1),
    (19, '王者荣耀 上分教学', ARRAY['王者荣耀','游戏','教学'], 3),
    (20, 'Home espresso guide', ARRAY['coffee','espresso','guide'], 6),
    (21, '篮球 街头挑战赛', ARRAY['篮球','街头','体育'], 7),
    (22, 'Linux desktop setup tour', ARRAY['linux','desktop','setup'], 4),
    (23, '周末露营 vlog', ARRAY['露营','vlog','户外'], 5)
),
authors AS (SELECT array_agg(id ORDER BY username) AS ids FROM content.users WHERE username LIKE 'uploader%')
INSERT INTO content.videos (id, author_id, region_id, title, description, cover_url, duration_secs, state, published_at, tags)
SELECT gen_random_uuid(),
       a.ids[1 + floor(random() * array_length(a.ids, 1))::int],
       t.region,
       t.title || ' #' || g,
       'Demo video ' || g || ': ' || t.title || '. ' || array_to_string(t.tags, ' '),
       'https://picsum.photos/seed/vg' || g || '/640/360',
       30 + floor(random() * 3570)::int,
       'published',
       now() - random() * interval '120 days',
       t.tags
FROM generate_series($1::bigint, $2::bigint) AS g
CROSS JOIN authors a
JOIN topics t ON t.n = g % 24
WHERE array_length(a.ids, 1) > 0";

/// Counters for videos that have none: views log-uniform between 1 and 2 million (a few hits,
/// a long tail), the other counters as plausible fractions of the views.
const INSERT_STATS: &str = "
INSERT INTO content.video_stats (video_id, views, likes, coins, favourites, shares)
SELECT v.id, s.views,
       (s.views * (0.01 + random() * 0.07))::bigint,
       (s.views * (0.002 + random() * 0.02))::bigint,
       (s.views * (0.004 + random() * 0.03))::bigint,
       (s.views * random() * 0.005)::bigint
FROM content.videos v
CROSS JOIN LATERAL (SELECT floor(exp(random() * ln(2000000.0)))::bigint AS views WHERE v.id IS NOT NULL) s
WHERE NOT EXISTS (SELECT 1 FROM content.video_stats x WHERE x.video_id = v.id)";

/// Twelve root comments on each of the `$1` most viewed videos, by random accounts.
const INSERT_COMMENTS: &str = "
WITH people AS (SELECT array_agg(id ORDER BY username) AS ids FROM content.users),
lines(n, body) AS (VALUES
    (0, '前排！'), (1, 'This is exactly what I needed, thanks!'), (2, '三连了，up主加油'),
    (3, 'The part at 2:30 is amazing'), (4, '看完了，学到了'), (5, 'More videos like this please'),
    (6, '哈哈哈哈哈哈'), (7, 'Subscribed after the first minute'), (8, '求BGM'),
    (9, 'Quality content as always'), (10, '这个视频值得更多播放'), (11, 'Who is watching in 2026?')
),
hot AS (
    SELECT v.id, v.published_at FROM content.videos v JOIN content.video_stats s ON s.video_id = v.id
    WHERE v.state = 'published' ORDER BY s.views DESC, v.id LIMIT $1
)
INSERT INTO content.comments (id, video_id, author_id, body, like_count, created_at)
SELECT gen_random_uuid(), h.id, p.ids[1 + floor(random() * array_length(p.ids, 1))::int], l.body,
       floor(random() * random() * 500)::bigint,
       h.published_at + random() * (now() - h.published_at)
FROM hot h CROSS JOIN generate_series(0, 11) AS g CROSS JOIN people p JOIN lines l ON l.n = g";

/// Replies to about a third of the roots, then the roots' reply counts.
const INSERT_REPLIES_AND_COUNT: &str = "
WITH people AS (SELECT array_agg(id ORDER BY username) AS ids FROM content.users)
INSERT INTO content.comments (id, video_id, author_id, root_id, reply_to_id, body, created_at)
SELECT gen_random_uuid(), c.video_id, p.ids[1 + floor(random() * array_length(p.ids, 1))::int], c.id, c.id,
       (ARRAY['同意', 'Agreed!', '+1', '确实', 'Same here'])[1 + g], c.created_at + random() * interval '2 days'
FROM content.comments c CROSS JOIN generate_series(0, 1) AS g CROSS JOIN people p
WHERE c.root_id IS NULL AND random() < 0.33;
UPDATE content.comments r SET reply_count = x.n
FROM (SELECT root_id, count(*) AS n FROM content.comments WHERE root_id IS NOT NULL GROUP BY root_id) x
WHERE r.id = x.root_id;";

/// Forty danmaku spread over the length of each of the `$1` most viewed videos.
const INSERT_DANMAKU: &str = "
WITH people AS (SELECT array_agg(id ORDER BY username) AS ids FROM content.users),
hot AS (
    SELECT v.id, v.duration_secs FROM content.videos v JOIN content.video_stats s ON s.video_id = v.id
    WHERE v.state = 'published' ORDER BY s.views DESC, v.id LIMIT $1
)
INSERT INTO content.danmaku (id, video_id, author_id, offset_ms, body, color, mode)
SELECT gen_random_uuid(), h.id, p.ids[1 + floor(random() * array_length(p.ids, 1))::int],
       floor(random() * h.duration_secs * 1000)::int,
       (ARRAY['awsl', '前方高能', '2333', 'nice!', '哈哈哈', 'wow', '泪目', 'GG'])[1 + floor(random() * 8)::int],
       (ARRAY[16777215, 16711680, 16776960, 65280, 65535])[1 + floor(random() * 5)::int],
       (ARRAY['scroll', 'scroll', 'scroll', 'top', 'bottom'])[1 + floor(random() * 5)::int]
FROM hot h CROSS JOIN generate_series(1, 40) AS g CROSS JOIN people p";

/// The comment and danmaku counters of seeded videos equal their rows.
const SYNC_DISCUSSION_COUNTERS: &str = "
UPDATE content.video_stats s SET comments = c.n
FROM (SELECT video_id, count(*) AS n FROM content.comments WHERE deleted_at IS NULL GROUP BY video_id) c
WHERE s.video_id = c.video_id;
UPDATE content.video_stats s SET danmaku = d.n
FROM (SELECT video_id, count(*) AS n FROM content.danmaku GROUP BY video_id) d
WHERE s.video_id = d.video_id;";
