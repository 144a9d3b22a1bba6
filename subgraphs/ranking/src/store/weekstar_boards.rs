//! Realtime week-star boards in Redis: one sorted set per board, member = streamer id,
//! score = [`BoardScore`] (count, then who reached it first).
//!
//! Keys are `<prefix>weekstar:{<week>:<channel>}:<gift>`: the hash tag puts all boards of one
//! channel-week in one Redis Cluster slot, so reading a channel's boards is one pipeline to one
//! node. Each set carries a marker member, [`BUILT`], written when the board is (re)built from
//! Postgres; a board without it (flushed, evicted, new instance) is incomplete and is rebuilt.
//! The marker lives in the set itself so that the set and its marker can only vanish together.

use super::weekstar::BoardKey;
use crate::domain::weekstar::BoardScore;
use chrono::{DateTime, Utc};
use platform::redis::Redis;
use uuid::Uuid;

/// Marker member of a complete board. Its score (−1) sorts it below every streamer.
const BUILT: &str = "built";
const BUILT_SCORE: f64 = -1.0;

/// The Redis key of a board.
pub fn key(redis: &Redis, board: &BoardKey) -> String {
    redis.key(&format!("weekstar:{{{}:{}}}:{}", board.week, board.channel_id, board.gift_id))
}

/// Raises a streamer's score to `score` unless it is already higher (`ZADD GT`): totals only
/// grow, so concurrent or reordered writers leave the latest total, never an older one.
pub async fn raise(redis: &Redis, key: &str, streamer_id: Uuid, score: BoardScore, expire_at: DateTime<Utc>) -> anyhow::Result<()> {
    let mut conn = redis.conn().await?;
    redis::pipe()
        .atomic()
        .cmd("ZADD")
        .arg(key)
        .arg("GT")
        .arg(score.encode())
        .arg(streamer_id.to_string())
        .ignore()
        .cmd("EXPIREAT")
        .arg(key)
        .arg(expire_at.timestamp())
        .ignore()
        .query_async::<()>(&mut *conn)
        .await?;
    Ok(())
}

/// Merges Postgres' totals into the board (`ZADD GT`, so a newer total written meanwhile stays)
/// and marks it complete, in one transaction.
pub async fn rebuild(redis: &Redis, key: &str, scores: &[(Uuid, BoardScore)], expire_at: DateTime<Utc>) -> anyhow::Result<()> {
    let mut conn = redis.conn().await?;
    let mut pipe = redis::pipe();
    pipe.atomic();
    for chunk in scores.chunks(1000) {
        let mut zadd = redis::cmd("ZADD");
        zadd.arg(key).arg("GT");
        for (streamer_id, score) in chunk {
            zadd.arg(score.encode()).arg(streamer_id.to_string());
        }
        pipe.add_command(zadd).ignore();
    }
    pipe.cmd("ZADD").arg(key).arg(BUILT_SCORE).arg(BUILT).ignore();
    pipe.cmd("EXPIREAT").arg(key).arg(expire_at.timestamp()).ignore();
    pipe.query_async::<()>(&mut *conn).await?;
    Ok(())
}

/// Reads the top `limit` entries of each board in one round trip; `None` for a board that is
/// not complete in Redis (to be rebuilt).
pub async fn read(redis: &Redis, keys: &[String], limit: usize) -> anyhow::Result<Vec<Option<Vec<(Uuid, BoardScore)>>>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut conn = redis.conn().await?;
    let mut pipe = redis::pipe();
    for key in keys {
        pipe.cmd("ZSCORE").arg(key).arg(BUILT);
        // Only members scoring at least 0, so the marker never takes a place on the page.
        pipe.cmd("ZRANGE").arg(key).arg("+inf").arg(0).arg("BYSCORE").arg("REV").arg("LIMIT").arg(0).arg(limit).arg("WITHSCORES");
    }
    let replies: Vec<redis::Value> = pipe.query_async(&mut *conn).await?;
    let mut boards = Vec::with_capacity(keys.len());
    for pair in replies.chunks(2) {
        let [marker, members] = pair else { anyhow::bail!("unexpected reply shape from Redis") };
        if matches!(marker, redis::Value::Nil) {
            boards.push(None);
            continue;
        }
        let members: Vec<(String, f64)> = redis::FromRedisValue::from_redis_value(members.clone())?;
        let entries =
            members.into_iter().filter_map(|(member, score)| Some((member.parse::<Uuid>().ok()?, BoardScore::decode(score)?))).collect();
        boards.push(Some(entries));
    }
    Ok(boards)
}
