//! Published videos cached in Redis by id (JSON, with a TTL), in front of the video loader.
//! Edits and deletes remove the entry after they commit.
//!
//! A loader that read the old row just before an edit committed can still write it back after
//! the invalidation; the TTL bounds that staleness. Counters are not cached (they change on
//! every interaction and have their own loader).

use super::videos::Video;
use platform::redis::Redis;
use redis::AsyncCommands;
use uuid::Uuid;

/// How long a cached video lives.
const TTL_SECS: u64 = 300;

/// The cache.
#[derive(Clone)]
pub struct VideoCache {
    redis: Redis,
}

impl VideoCache {
    /// Over this Redis.
    pub fn new(redis: Redis) -> VideoCache {
        VideoCache { redis }
    }

    fn key(&self, id: Uuid) -> String {
        self.redis.key(&format!("video:{id}"))
    }

    /// The cached videos among `ids` (one `MGET`); misses are simply absent.
    pub async fn get_many(&self, ids: &[Uuid]) -> anyhow::Result<Vec<Video>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = ids.iter().map(|id| self.key(*id)).collect();
        let mut conn = self.redis.conn().await?;
        let values: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query_async(&mut *conn).await?;
        Ok(values.into_iter().flatten().filter_map(|json| serde_json::from_str(&json).ok()).collect())
    }

    /// Caches `videos` (one pipeline).
    pub async fn put_many(&self, videos: &[Video]) -> anyhow::Result<()> {
        if videos.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for video in videos {
            pipe.set_ex(self.key(video.id), serde_json::to_string(video)?, TTL_SECS).ignore();
        }
        let mut conn = self.redis.conn().await?;
        pipe.query_async::<()>(&mut *conn).await?;
        Ok(())
    }

    /// Drops the entry of a video that changed.
    pub async fn invalidate(&self, id: Uuid) -> anyhow::Result<()> {
        let mut conn = self.redis.conn().await?;
        let _: i64 = conn.del(self.key(id)).await?;
        Ok(())
    }
}
