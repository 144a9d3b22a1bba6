//! What assets keeps in Redis (all of it rebuildable from PostgreSQL or the source): parse
//! results for an hour, the daily quota counters and the latest progress of each task.

use crate::domain::media::MediaInfo;
use chrono::NaiveDate;
use platform::redis::Redis;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// How long a parse result is kept.
pub const PARSE_TTL_SECS: u64 = 3600;
/// How long a task's latest progress is kept after its last update.
pub const PROGRESS_TTL_SECS: u64 = 24 * 3600;
/// How long a quota counter outlives its day (it is keyed by the day, so this only bounds memory).
const QUOTA_TTL_SECS: u64 = 2 * 24 * 3600;

/// Reserves one download of a day: the counter starts from (and never stays below) what the
/// history says, and is only incremented while under the limit, atomically.
const RESERVE: &str = r"
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local recorded = tonumber(ARGV[1])
if recorded > current then
  current = recorded
  redis.call('SET', KEYS[1], current, 'EX', ARGV[3])
end
if current >= tonumber(ARGV[2]) then
  return -1
end
local used = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return used
";

/// The Redis side of assets.
#[derive(Clone)]
pub struct AssetsCache {
    redis: Redis,
}

impl AssetsCache {
    /// Over this Redis.
    pub fn new(redis: Redis) -> AssetsCache {
        AssetsCache { redis }
    }

    /// The Redis handle (for rate limits).
    pub fn redis(&self) -> &Redis {
        &self.redis
    }

    fn parse_key(&self, normalized_url: &str) -> String {
        let digest: String = Sha256::digest(normalized_url.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect();
        self.redis.key(&format!("assets:parse:{digest}"))
    }

    fn quota_key(&self, user_id: Uuid, day: NaiveDate) -> String {
        self.redis.key(&format!("assets:quota:{user_id}:{}", day.format("%Y%m%d")))
    }

    fn progress_key(&self, task_id: Uuid) -> String {
        self.redis.key(&format!("assets:progress:{task_id}"))
    }

    /// A cached parse of `normalized_url`.
    pub async fn parsed(&self, normalized_url: &str) -> anyhow::Result<Option<MediaInfo>> {
        let mut conn = self.redis.conn().await?;
        let raw: Option<String> = redis::cmd("GET").arg(self.parse_key(normalized_url)).query_async(&mut *conn).await?;
        Ok(raw.and_then(|raw| serde_json::from_str(&raw).ok()))
    }

    /// Caches a parse for [`PARSE_TTL_SECS`].
    pub async fn store_parsed(&self, normalized_url: &str, info: &MediaInfo) -> anyhow::Result<()> {
        let mut conn = self.redis.conn().await?;
        let payload = serde_json::to_string(info)?;
        redis::cmd("SET")
            .arg(self.parse_key(normalized_url))
            .arg(payload)
            .arg("EX")
            .arg(PARSE_TTL_SECS)
            .query_async::<()>(&mut *conn)
            .await?;
        Ok(())
    }

    /// Reserves one download of `day` for `user_id` under `limit`, the history having
    /// `recorded` of them; returns the count with this one, or `None` when the limit is reached.
    pub async fn reserve(&self, user_id: Uuid, day: NaiveDate, limit: u32, recorded: i64) -> anyhow::Result<Option<u32>> {
        let mut conn = self.redis.conn().await?;
        let used: i64 = redis::Script::new(RESERVE)
            .key(self.quota_key(user_id, day))
            .arg(recorded)
            .arg(limit)
            .arg(QUOTA_TTL_SECS)
            .invoke_async(&mut *conn)
            .await?;
        Ok((used >= 0).then(|| u32::try_from(used).unwrap_or(u32::MAX)))
    }

    /// Gives back a reservation whose task was never recorded.
    pub async fn release(&self, user_id: Uuid, day: NaiveDate) -> anyhow::Result<()> {
        let mut conn = self.redis.conn().await?;
        redis::cmd("DECR").arg(self.quota_key(user_id, day)).query_async::<()>(&mut *conn).await?;
        Ok(())
    }

    /// The counter of `day` for `user_id`, if Redis has it.
    pub async fn used(&self, user_id: Uuid, day: NaiveDate) -> anyhow::Result<Option<i64>> {
        let mut conn = self.redis.conn().await?;
        Ok(redis::cmd("GET").arg(self.quota_key(user_id, day)).query_async(&mut *conn).await?)
    }

    /// Records the latest progress event of a task (what a late subscriber gets first).
    pub async fn store_progress(&self, task_id: Uuid, payload: &[u8]) -> anyhow::Result<()> {
        let mut conn = self.redis.conn().await?;
        redis::cmd("SET")
            .arg(self.progress_key(task_id))
            .arg(payload)
            .arg("EX")
            .arg(PROGRESS_TTL_SECS)
            .query_async::<()>(&mut *conn)
            .await?;
        Ok(())
    }

    /// The latest progress event of a task.
    pub async fn progress(&self, task_id: Uuid) -> anyhow::Result<Option<Vec<u8>>> {
        let mut conn = self.redis.conn().await?;
        Ok(redis::cmd("GET").arg(self.progress_key(task_id)).query_async(&mut *conn).await?)
    }
}
