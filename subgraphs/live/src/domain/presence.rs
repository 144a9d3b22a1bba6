//! Presence: how many viewers a room has, across replicas, approximately (within a few
//! seconds), as large danmaku servers do it.
//!
//! Each replica counts its own `roomDanmaku` subscribers per room ([`Presence::join`], undone
//! when the subscription ends) and, every [`REPORT_EVERY`], replaces its Redis hash
//! `live:presence:<replica>` (room → count, expiring after [`REPORT_TTL`]) and refreshes its
//! entry in the sorted set `live:presence:replicas`. A room's count is the sum over the
//! replicas that reported within the TTL, so a dead replica's viewers vanish on their own. The
//! reporter also raises the open session's peak viewers.

use crate::store::rooms;
use platform::db::Db;
use platform::redis::Redis;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use uuid::Uuid;

/// How often a replica reports its counts.
pub const REPORT_EVERY: Duration = Duration::from_secs(2);
/// How long a report counts without being renewed.
pub const REPORT_TTL: Duration = Duration::from_secs(10);

/// This replica's viewer counts and the cluster-wide sums.
#[derive(Clone)]
pub struct Presence {
    inner: Arc<Inner>,
}

struct Inner {
    replica: String,
    redis: Redis,
    local: Mutex<HashMap<Uuid, u32>>,
}

/// One viewer counted in a room while it is held.
pub struct PresenceGuard {
    inner: Arc<Inner>,
    room_id: Uuid,
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        let mut local = self.inner.local.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = local.get_mut(&self.room_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                local.remove(&self.room_id);
            }
        }
    }
}

fn unix_secs() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |elapsed| elapsed.as_secs_f64())
}

impl Presence {
    /// Presence of replica `replica` in `redis`.
    pub fn new(redis: Redis, replica: String) -> Presence {
        Presence { inner: Arc::new(Inner { replica, redis, local: Mutex::new(HashMap::new()) }) }
    }

    /// Counts one viewer of `room_id` on this replica until the guard is dropped.
    pub fn join(&self, room_id: Uuid) -> PresenceGuard {
        *self.inner.local.lock().unwrap_or_else(PoisonError::into_inner).entry(room_id).or_insert(0) += 1;
        PresenceGuard { inner: self.inner.clone(), room_id }
    }

    /// This replica's viewers of `room_id`.
    pub fn local(&self, room_id: Uuid) -> u32 {
        self.inner.local.lock().unwrap_or_else(PoisonError::into_inner).get(&room_id).copied().unwrap_or(0)
    }

    fn replicas_key(&self) -> String {
        self.inner.redis.key("live:presence:replicas")
    }

    fn replica_key(&self, replica: &str) -> String {
        self.inner.redis.key(&format!("live:presence:{replica}"))
    }

    /// Writes this replica's counts (replacing its previous report); returns the rooms it has
    /// viewers in.
    pub async fn report(&self) -> anyhow::Result<Vec<Uuid>> {
        let counts: Vec<(String, u32)> = {
            let local = self.inner.local.lock().unwrap_or_else(PoisonError::into_inner);
            local.iter().map(|(room, count)| (room.to_string(), *count)).collect()
        };
        let key = self.replica_key(&self.inner.replica);
        let now = unix_secs();
        let mut pipe = redis::pipe();
        pipe.atomic().del(&key).ignore();
        if !counts.is_empty() {
            pipe.hset_multiple(&key, &counts).ignore().expire(&key, REPORT_TTL.as_secs() as i64).ignore();
        }
        pipe.zadd(self.replicas_key(), &self.inner.replica, now)
            .ignore()
            .zrembyscore(self.replicas_key(), "-inf", now - REPORT_TTL.as_secs_f64())
            .ignore();
        let mut conn = self.inner.redis.conn().await?;
        pipe.query_async::<()>(&mut *conn).await?;
        Ok(counts.iter().filter_map(|(room, _)| room.parse().ok()).collect())
    }

    /// Viewers of each of `rooms` over every replica that reported within the TTL (two round trips).
    pub async fn viewer_counts(&self, rooms: &[Uuid]) -> anyhow::Result<HashMap<Uuid, i64>> {
        let mut totals: HashMap<Uuid, i64> = rooms.iter().map(|room| (*room, 0)).collect();
        if rooms.is_empty() {
            return Ok(totals);
        }
        let mut conn = self.inner.redis.conn().await?;
        let since = unix_secs() - REPORT_TTL.as_secs_f64();
        let replicas: Vec<String> =
            redis::cmd("ZRANGEBYSCORE").arg(self.replicas_key()).arg(since).arg("+inf").query_async(&mut *conn).await?;
        if replicas.is_empty() {
            return Ok(totals);
        }
        let fields: Vec<String> = rooms.iter().map(Uuid::to_string).collect();
        let mut pipe = redis::pipe();
        for replica in &replicas {
            pipe.cmd("HMGET").arg(self.replica_key(replica)).arg(&fields);
        }
        let answers: Vec<Vec<Option<i64>>> = pipe.query_async(&mut *conn).await?;
        for answer in answers {
            for (room, count) in rooms.iter().zip(answer) {
                *totals.entry(*room).or_insert(0) += count.unwrap_or(0);
            }
        }
        Ok(totals)
    }

    /// Reports every [`REPORT_EVERY`] and raises the peaks of the rooms this replica has
    /// viewers in, until the task is dropped. Redis or Postgres failures are logged and retried.
    pub async fn run_reporter(self, db: Db) {
        let mut ticker = tokio::time::interval(REPORT_EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            ticker.tick().await;
            if let Err(error) = self.report_and_raise_peaks(&db).await {
                tracing::warn!(error = format!("{error:#}"), "presence report failed; retrying");
            }
        }
    }

    async fn report_and_raise_peaks(&self, db: &Db) -> anyhow::Result<()> {
        let rooms = self.report().await?;
        if rooms.is_empty() {
            return Ok(());
        }
        let totals = self.viewer_counts(&rooms).await?;
        let mut conn = db.pool.get().await?;
        for (room, viewers) in totals {
            rooms::raise_room_peak(&mut conn, room, i32::try_from(viewers).unwrap_or(i32::MAX)).await?;
        }
        Ok(())
    }
}
