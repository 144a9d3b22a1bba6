//! The hot rankings in Redis: one sorted set per (time range, scope), scope 0 being global and
//! any other the region id; members are video ids, scores hot values (exact integers < 2⁵³).
//!
//! Every key carries its own hash tag (`hot:{day:3}`), and a ranking's build key shares its tag
//! (`hot:{day:3}:build:<run>`), so `RENAME` of a finished build over the live key stays in one
//! slot: the same code runs against one Redis and a Redis Cluster. No command touches two
//! rankings at once.

use crate::domain::hot::TimeRange;
use platform::redis::Redis;
use redis::AsyncCommands;
use uuid::Uuid;

/// The global scope.
pub const GLOBAL: i32 = 0;

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

    /// Every scope ever ranked (the global one and each region seen).
    fn scopes_key(&self) -> String {
        self.redis.key("hot:scopes")
    }

    /// Set while a rebuild runs: its run id, so live updates reach the build too.
    fn building_key(&self) -> String {
        self.redis.key("hot:building")
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

    /// The run whose build is in progress, if any.
    async fn building_run(&self, conn: &mut redis::aio::MultiplexedConnection) -> anyhow::Result<Option<Uuid>> {
        let building: Option<String> = conn.get(self.building_key()).await?;
        Ok(building.and_then(|run| run.parse().ok()))
    }

    /// Marks `run` as the build in progress (live updates then reach it too).
    pub async fn begin_build(&self, run: Uuid) -> anyhow::Result<()> {
        let mut conn = self.redis.conn().await?;
        let _: () = conn.set(self.building_key(), run.to_string()).await?;
        Ok(())
    }

    /// Whether the build of `run` has anything yet (a resumed run whose build keys were lost
    /// with a Redis flush must start over).
    pub async fn build_exists(&self, run: Uuid) -> anyhow::Result<bool> {
        let mut conn = self.redis.conn().await?;
        Ok(conn.exists(self.build_key(TimeRange::All, GLOBAL, run)).await?)
    }

    /// Adds a batch to the build of `run` (one pipeline). `NX`: a video the live consumer
    /// already wrote into the build (it changed after the batch was read) keeps that newer value.
    pub async fn add_to_build(&self, run: Uuid, batch: &[VideoScores]) -> anyhow::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for scores in batch {
            for (range, value) in TimeRange::ALL.into_iter().zip(scores.values) {
                if holds(range, value) {
                    for scope in [GLOBAL, scores.region_id] {
                        pipe.cmd("ZADD")
                            .arg(self.build_key(range, scope, run))
                            .arg("NX")
                            .arg(value as f64)
                            .arg(scores.video_id.to_string())
                            .ignore();
                    }
                }
            }
        }
        let regions: Vec<i32> = batch.iter().map(|scores| scores.region_id).collect();
        pipe.sadd(self.scopes_key(), regions).ignore();
        let mut conn = self.redis.conn().await?;
        pipe.query_async::<()>(&mut *conn).await?;
        Ok(())
    }

    /// Swaps every finished ranking of `run` in for the live one, each with one `RENAME` (a
    /// reader sees the old ranking or the new one, never a part); a ranking the build left
    /// empty is deleted.
    pub async fn publish_build(&self, run: Uuid) -> anyhow::Result<()> {
        let mut conn = self.redis.conn().await?;
        let mut scopes: Vec<i32> = conn.smembers(self.scopes_key()).await?;
        scopes.push(GLOBAL);
        scopes.sort_unstable();
        scopes.dedup();
        for scope in scopes {
            for range in TimeRange::ALL {
                let build = self.build_key(range, scope, run);
                if conn.exists(&build).await? {
                    let _: () = conn.rename(&build, self.key(range, scope)).await?;
                } else {
                    let _: () = conn.del(self.key(range, scope)).await?;
                }
            }
        }
        let _: () = conn.set(self.built_key(), run.to_string()).await?;
        let _: () = conn.del(self.building_key()).await?;
        Ok(())
    }

    /// Drops what a build of `run` wrote (before starting it over).
    pub async fn discard_build(&self, run: Uuid) -> anyhow::Result<()> {
        let mut conn = self.redis.conn().await?;
        let mut scopes: Vec<i32> = conn.smembers(self.scopes_key()).await?;
        scopes.push(GLOBAL);
        for scope in scopes {
            for range in TimeRange::ALL {
                let _: () = conn.del(self.build_key(range, scope, run)).await?;
            }
        }
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
