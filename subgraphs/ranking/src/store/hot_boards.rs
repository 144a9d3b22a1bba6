//! The hot rankings in Redis: one sorted set per (time range, scope), scope 0 being global and
//! any other the region id; members are video ids, scores hot values (exact integers < 2⁵³).
//!
//! Every key carries its own hash tag (`hot:{day:3}`), and a ranking's build key shares its tag
//! (`hot:{day:3}:build:<run>`), so `RENAME` of a finished build over the live key stays in one
//! slot: the same code runs against one Redis and a Redis Cluster. No command touches two
//! rankings at once.
//!
//! Every run that writes build keys is registered in `hot:builds` (by the same pipeline that
//! writes them), so keys a crashed or fenced-off run left behind are found and dropped
//! ([`HotBoards::registered_builds`], [`HotBoards::discard_build`]) without scanning Redis.

use crate::domain::hot::TimeRange;
use platform::redis::Redis;
use redis::AsyncCommands;
use uuid::Uuid;

/// The global scope.
pub const GLOBAL: i32 = 0;

/// `KEYS[1]` (the build of run `ARGV[1]`) replaces `KEYS[2]` (its live ranking, same slot),
/// or, without a build, the ranking is empty now; unless `KEYS[3]` records that this run or a
/// newer one swapped this ranking in already (run ids are UUIDv7: their text sorts by creation
/// time). So a late second publish of a run, or an older run's, changes nothing.
///
/// The old ranking is `UNLINK`ed first: `RENAME` over it, or `DEL`, would free its members in
/// the script (a second or more for a million), past the client's response timeout and
/// stalling every other Redis client meanwhile; `UNLINK` frees them on Redis's background
/// thread, after the key is already gone.
const SWAP_IN: &str = "local last = redis.call('GET', KEYS[3]) if last and last >= ARGV[1] then return 0 end \
    redis.call('UNLINK', KEYS[2]) \
    if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('RENAME', KEYS[1], KEYS[2]) end \
    redis.call('SET', KEYS[3], ARGV[1]) return 1";

/// Deletes `KEYS[1]` only while it holds `ARGV[1]`.
const DELETE_IF_EQUAL: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/// One video's hot values in every range.
#[derive(Debug, Clone, Copy)]
pub struct VideoScores {
    /// The video.
    pub video_id: Uuid,
    /// Its region.
    pub region_id: i32,
    /// Hot value per range, in [`TimeRange::ALL`] order.
    pub values: [i64; 4],
}

/// Part of one ranking, as read.
#[derive(Debug, Clone)]
pub struct RankingSlice {
    /// (video id, hot value), best first.
    pub entries: Vec<(Uuid, i64)>,
    /// Videos in the whole ranking.
    pub total: u64,
    /// Whether a rebuild was ever published into this Redis (false after a flush: the ranking
    /// read is then empty or partial).
    pub built: bool,
}

/// Whether a ranking of `range` holds a video with this hot value: windowed rankings only the
/// videos that grew inside the window, `all` every published video.
fn holds(range: TimeRange, value: i64) -> bool {
    value > 0 || range == TimeRange::All
}

/// The rankings.
#[derive(Clone)]
pub struct HotBoards {
    redis: Redis,
}

impl HotBoards {
    /// Over this Redis.
    pub fn new(redis: Redis) -> HotBoards {
        HotBoards { redis }
    }

    fn key(&self, range: TimeRange, scope: i32) -> String {
        self.redis.key(&format!("hot:{{{}:{scope}}}", range.as_str()))
    }

    fn build_key(&self, range: TimeRange, scope: i32, run: Uuid) -> String {
        format!("{}:build:{run}", self.key(range, scope))
    }

    /// The run whose build was swapped in last as this ranking (same slot as the ranking).
    fn swapped_key(&self, range: TimeRange, scope: i32) -> String {
        format!("{}:swapped", self.key(range, scope))
    }

    /// Every scope ever ranked (the global one and each region seen).
    fn scopes_key(&self) -> String {
        self.redis.key("hot:scopes")
    }

    /// Set while a rebuild runs: its run id, so live updates reach the build too.
    fn building_key(&self) -> String {
        self.redis.key("hot:building")
    }

    /// The runs that may have build keys.
    fn builds_key(&self) -> String {
        self.redis.key("hot:builds")
    }

    /// Set when a rebuild was published; missing after a flush (then rankings are rebuilt).
    fn built_key(&self) -> String {
        self.redis.key("hot:built")
    }

    /// Puts scores into the live rankings (and the running build, if any); see [`holds`].
    pub async fn update(&self, scores: &VideoScores) -> anyhow::Result<()> {
        let mut conn = self.redis.conn().await?;
        let building = self.building_run(&mut conn).await?;
        let mut pipe = redis::pipe();
        for (range, value) in TimeRange::ALL.into_iter().zip(scores.values) {
            for scope in [GLOBAL, scores.region_id] {
                let mut keys = vec![self.key(range, scope)];
                keys.extend(building.map(|run| self.build_key(range, scope, run)));
                for key in keys {
                    if holds(range, value) {
                        pipe.zadd(key, scores.video_id.to_string(), value as f64).ignore();
                    } else {
                        pipe.zrem(key, scores.video_id.to_string()).ignore();
                    }
                }
            }
        }
        pipe.sadd(self.scopes_key(), scores.region_id).ignore();
        if let Some(run) = building {
            pipe.sadd(self.builds_key(), run.to_string()).ignore();
        }
        pipe.query_async::<()>(&mut *conn).await?;
        Ok(())
    }

    /// Takes a video out of every ranking of the global scope and of `regions` (and of the
    /// running build).
    pub async fn remove(&self, video_id: Uuid, regions: &[i32]) -> anyhow::Result<()> {
        let mut conn = self.redis.conn().await?;
        let building = self.building_run(&mut conn).await?;
        let mut pipe = redis::pipe();
        for range in TimeRange::ALL {
            for scope in std::iter::once(GLOBAL).chain(regions.iter().copied()) {
                pipe.zrem(self.key(range, scope), video_id.to_string()).ignore();
                if let Some(run) = building {
                    pipe.zrem(self.build_key(range, scope, run), video_id.to_string()).ignore();
                }
            }
        }
        pipe.query_async::<()>(&mut *conn).await?;
        Ok(())
    }

    /// Takes videos out of the build of `run` again: each `(video, None)` (no longer published)
    /// out of every ranking, each `(video, Some(region))` (published, maybe moved) out of every
    /// region's but `region`'s. One pipeline.
    pub async fn drop_from_build(&self, run: Uuid, videos: &[(Uuid, Option<i32>)]) -> anyhow::Result<()> {
        if videos.is_empty() {
            return Ok(());
        }
        let mut conn = self.redis.conn().await?;
        let scopes = self.scopes(&mut conn).await?;
        let mut pipe = redis::pipe();
        let mut commands = 0;
        for (video, keep) in videos {
            for scope in scopes.iter().copied().filter(|scope| keep.is_none() || (*scope != GLOBAL && Some(*scope) != *keep)) {
                for range in TimeRange::ALL {
                    pipe.zrem(self.build_key(range, scope, run), video.to_string()).ignore();
                    commands += 1;
                }
            }
        }
        if commands > 0 {
            pipe.query_async::<()>(&mut *conn).await?;
        }
        Ok(())
    }

    /// The run whose build is in progress, if any.
    async fn building_run(&self, conn: &mut platform::redis::RedisConnection) -> anyhow::Result<Option<Uuid>> {
        let building: Option<String> = conn.get(self.building_key()).await?;
        Ok(building.and_then(|run| run.parse().ok()))
    }

    /// The run the building marker names, if any (live updates write into its build).
    pub async fn building(&self) -> anyhow::Result<Option<Uuid>> {
        let mut conn = self.redis.conn().await?;
        self.building_run(&mut conn).await
    }

    /// Marks `run` as the build in progress (live updates then reach it too).
    pub async fn begin_build(&self, run: Uuid) -> anyhow::Result<()> {
        let mut conn = self.redis.conn().await?;
        redis::pipe()
            .sadd(self.builds_key(), run.to_string())
            .ignore()
            .set(self.building_key(), run.to_string())
            .ignore()
            .query_async::<()>(&mut *conn)
            .await?;
        Ok(())
    }

    /// The runs that may have build keys (every run that wrote some and was neither discarded
    /// nor published since).
    pub async fn registered_builds(&self) -> anyhow::Result<Vec<Uuid>> {
        let mut conn = self.redis.conn().await?;
        let runs: Vec<String> = conn.smembers(self.builds_key()).await?;
        Ok(runs.iter().filter_map(|run| run.parse().ok()).collect())
    }

    /// Whether the build of `run` has anything yet (a resumed run whose build keys were lost
    /// with a Redis flush must start over).
    pub async fn build_exists(&self, run: Uuid) -> anyhow::Result<bool> {
        let mut conn = self.redis.conn().await?;
        Ok(conn.exists(self.build_key(TimeRange::All, GLOBAL, run)).await?)
    }

    /// Adds a batch to the build of `run` (one pipeline, one `ZADD` per ranking with all of the
    /// batch's members of it, rather than a command per member).
    /// `NX` (per member): a video the live consumer already wrote into the build (it changed
    /// after the batch was read) keeps that newer value.
    /// Each `ZADD` lists its members best first: Redis inserts them in that order, and each
    /// insert then walks nearly the skip-list path of the one before, which is in the cache,
    /// where members in id order land at random places in a ranking of up to a million.
    pub async fn add_to_build(&self, run: Uuid, batch: &[VideoScores]) -> anyhow::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        // Scope 0 (global) and each region of the batch, per range, in [`TimeRange::ALL`] order.
        let mut rankings: std::collections::BTreeMap<(i32, usize), Vec<(i64, Uuid)>> = std::collections::BTreeMap::new();
        for scores in batch {
            for (index, (range, value)) in TimeRange::ALL.into_iter().zip(scores.values).enumerate() {
                if holds(range, value) {
                    for scope in [GLOBAL, scores.region_id] {
                        rankings.entry((scope, index)).or_default().push((value, scores.video_id));
                    }
                }
            }
        }
        let mut pipe = redis::pipe();
        for ((scope, index), mut members) in rankings {
            members.sort_unstable_by(|a, b| b.cmp(a));
            let mut zadd = redis::cmd("ZADD");
            zadd.arg(self.build_key(TimeRange::ALL[index], scope, run)).arg("NX");
            for (value, video_id) in members {
                zadd.arg(value as f64).arg(video_id.to_string());
            }
            pipe.add_command(zadd).ignore();
        }
        let regions: Vec<i32> = batch.iter().map(|scores| scores.region_id).collect();
        pipe.sadd(self.scopes_key(), regions).ignore();
        pipe.sadd(self.builds_key(), run.to_string()).ignore();
        let mut conn = self.redis.conn().await?;
        pipe.query_async::<()>(&mut *conn).await?;
        Ok(())
    }

    /// Every scope ever ranked, the global one included.
    async fn scopes(&self, conn: &mut platform::redis::RedisConnection) -> anyhow::Result<Vec<i32>> {
        let mut scopes: Vec<i32> = conn.smembers(self.scopes_key()).await?;
        scopes.push(GLOBAL);
        scopes.sort_unstable();
        scopes.dedup();
        Ok(scopes)
    }

    /// Swaps every finished ranking of `run` in for the live one, in one round trip: each
    /// ranking with one script (`RENAME`, or `DEL` when the build left it empty), so a reader
    /// sees the old ranking or the new one, never a part; then marks the rankings built and
    /// clears the building marker if it is still `run`'s. The caller fences this with the run's
    /// lease; should a publish still come late (see `domain::recompute`), a ranking that this run
    /// or a newer one swapped in already is left alone (a missing build key would otherwise
    /// read as "empty" and delete it).
    pub async fn publish_build(&self, run: Uuid) -> anyhow::Result<()> {
        let mut conn = self.redis.conn().await?;
        let mut pipe = redis::pipe();
        for scope in self.scopes(&mut conn).await? {
            for range in TimeRange::ALL {
                pipe.cmd("EVAL")
                    .arg(SWAP_IN)
                    .arg(3)
                    .arg(self.build_key(range, scope, run))
                    .arg(self.key(range, scope))
                    .arg(self.swapped_key(range, scope))
                    .arg(run.to_string())
                    .ignore();
            }
        }
        pipe.set(self.built_key(), run.to_string()).ignore();
        pipe.cmd("EVAL").arg(DELETE_IF_EQUAL).arg(1).arg(self.building_key()).arg(run.to_string()).ignore();
        pipe.srem(self.builds_key(), run.to_string()).ignore();
        pipe.query_async::<()>(&mut *conn).await?;
        Ok(())
    }

    /// Drops what a build of `run` wrote, the building marker if it names `run`, and the run's
    /// registration (one round trip).
    pub async fn discard_build(&self, run: Uuid) -> anyhow::Result<()> {
        let mut conn = self.redis.conn().await?;
        let mut pipe = redis::pipe();
        for scope in self.scopes(&mut conn).await? {
            for range in TimeRange::ALL {
                // A build may hold a million members: freed in the background (see `SWAP_IN`).
                pipe.unlink(self.build_key(range, scope, run)).ignore();
            }
        }
        pipe.cmd("EVAL").arg(DELETE_IF_EQUAL).arg(1).arg(self.building_key()).arg(run.to_string()).ignore();
        pipe.srem(self.builds_key(), run.to_string()).ignore();
        pipe.query_async::<()>(&mut *conn).await?;
        Ok(())
    }

    /// Whether a rebuild was ever published into this Redis (false after a flush).
    pub async fn is_built(&self) -> anyhow::Result<bool> {
        let mut conn = self.redis.conn().await?;
        Ok(conn.exists(self.built_key()).await?)
    }

    /// Ranks `start..=stop` (0-based, best first) of a ranking, with their hot values, the
    /// ranking's size, and whether rankings were ever built in this Redis; one round trip.
    pub async fn page(&self, range: TimeRange, scope: i32, start: isize, stop: isize) -> anyhow::Result<RankingSlice> {
        let key = self.key(range, scope);
        let mut conn = self.redis.conn().await?;
        let (entries, total, built): (Vec<(String, f64)>, u64, bool) =
            redis::pipe().zrevrange_withscores(&key, start, stop).zcard(&key).exists(self.built_key()).query_async(&mut *conn).await?;
        let entries = entries.into_iter().filter_map(|(member, score)| Some((member.parse().ok()?, score as i64))).collect();
        Ok(RankingSlice { entries, total, built })
    }

    /// The all-time global hot value and rank (1-based) of each video, in one round trip.
    pub async fn positions(&self, ids: &[Uuid]) -> anyhow::Result<Vec<Option<(i64, u64)>>> {
        let key = self.key(TimeRange::All, GLOBAL);
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.zscore(&key, id.to_string()).zrevrank(&key, id.to_string());
        }
        let mut conn = self.redis.conn().await?;
        let answers: Vec<(Option<f64>, Option<u64>)> = pipe.query_async(&mut *conn).await?;
        Ok(answers.into_iter().map(|(score, rank)| Some((score? as i64, rank? + 1))).collect())
    }
}
