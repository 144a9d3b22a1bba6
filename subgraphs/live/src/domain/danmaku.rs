//! Live danmaku: the rules of a message, sending (only while live, rate limited, refused to
//! muted users), room mutes, recent history for late joiners, and the per-room feed.
//!
//! Messages go out over core NATS on one subject per room; every replica holds one
//! subscription per room (through the hub) and fans it out to its local viewers through
//! bounded queues. A slow viewer loses messages and is told how many on the next one it gets.
//! The last [`HISTORY_KEPT`] messages of a room are kept in Redis for `recentDanmaku` (live
//! chat is ephemeral: losing Redis loses that history, nothing else).

use super::presence::{Presence, PresenceGuard};
use super::{LiveError, LiveResult};
use crate::store::{medals, mutes, rooms};
use chrono::{DateTime, SubsecRound, Utc};
use futures::{Stream, StreamExt};
use platform::auth::AuthUser;
use platform::clock::SharedClock;
use platform::db::Db;
use platform::nats::Nats;
use platform::rate_limit::{RateDecision, RateLimit};
use platform::realtime::Subscription;
use platform::redis::Redis;
use serde::{Deserialize, Serialize};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use uuid::Uuid;

/// Danmaku a user may send per room per window (Twitch's chat limit).
pub const SEND_LIMIT: RateLimit = RateLimit { name: "live-danmaku:send", max: 20, window: Duration::from_secs(30) };
/// Longest message, in characters.
pub const MAX_CHARS: usize = 100;
/// Messages of a room kept for late joiners.
pub const HISTORY_KEPT: isize = 100;
/// Longest mute, in minutes (30 days).
pub const MAX_MUTE_MINUTES: i64 = 30 * 24 * 60;

// ---- rules -------------------------------------------------------------------------------

/// Where a message moves on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DanmakuMode {
    /// Right to left.
    Scroll,
    /// Pinned at the top.
    Top,
    /// Pinned at the bottom.
    Bottom,
}

/// A message text: trimmed, 1–100 characters, no control characters.
pub fn parse_text(raw: &str) -> LiveResult<String> {
    let text = raw.trim();
    let chars = text.chars().count();
    if chars == 0 || chars > MAX_CHARS {
        return Err(LiveError::invalid(format!("`text` must be 1–{MAX_CHARS} characters.")));
    }
    if text.chars().any(char::is_control) {
        return Err(LiveError::invalid("`text` must not contain control characters or line breaks."));
    }
    Ok(text.to_owned())
}

/// A colour `#RRGGBB` (upper-cased); white when absent.
pub fn parse_colour(raw: Option<&str>) -> LiveResult<String> {
    let Some(raw) = raw else { return Ok("#FFFFFF".into()) };
    let hex = raw.strip_prefix('#').filter(|hex| hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    hex.map(|hex| format!("#{}", hex.to_ascii_uppercase())).ok_or_else(|| LiveError::invalid("`colour` must be #RRGGBB."))
}

/// A mute length: 1 minute to 30 days.
pub fn parse_mute_minutes(minutes: i64) -> LiveResult<chrono::Duration> {
    if (1..=MAX_MUTE_MINUTES).contains(&minutes) {
        Ok(chrono::Duration::minutes(minutes))
    } else {
        Err(LiveError::invalid(format!("`minutes` must be between 1 and {MAX_MUTE_MINUTES}.")))
    }
}

/// One live danmaku, as sent to every viewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveDanmaku {
    /// Id.
    pub id: Uuid,
    /// The room.
    pub room_id: Uuid,
    /// Who sent it.
    pub sender_id: Uuid,
    /// Text.
    pub text: String,
    /// `#RRGGBB`.
    pub colour: String,
    /// Where it moves.
    pub mode: DanmakuMode,
    /// When.
    pub sent_at: DateTime<Utc>,
    /// The medals the sender wore when sending it, heaviest first.
    #[serde(default)]
    pub worn_medals: Vec<crate::store::medals::Medal>,
}

// ---- services ----------------------------------------------------------------------------

/// Live danmaku and room mutes.
#[derive(Clone)]
pub struct DanmakuService {
    db: Db,
    redis: Redis,
    nats: Nats,
    clock: SharedClock,
    presence: Presence,
}

impl DanmakuService {
    /// The service; `presence` counts this replica's viewers.
    pub fn new(db: Db, redis: Redis, nats: Nats, clock: SharedClock, presence: Presence) -> DanmakuService {
        DanmakuService { db, redis, nats, clock, presence }
    }

    /// Presence (viewer counts).
    pub fn presence(&self) -> &Presence {
        &self.presence
    }

    fn subject(&self, room_id: Uuid) -> String {
        self.nats.subject(&format!("live.danmaku.{room_id}"))
    }

    fn history_key(&self, room_id: Uuid) -> String {
        self.redis.key(&format!("live:danmaku:{room_id}"))
    }

    /// Sends a message to a live room's viewers on every replica.
    pub async fn send(&self, sender: AuthUser, room_id: Uuid, text: String, colour: String, mode: DanmakuMode) -> LiveResult<LiveDanmaku> {
        let now = self.clock.now();
        {
            let mut conn = self.db.pool.get().await?;
            let room = rooms::find(&mut conn, room_id).await?.ok_or(LiveError::NotFound("Room"))?;
            if room.live_session_id.is_none() {
                return Err(LiveError::Conflict("This room is not live.".into()));
            }
            if let Some(until) = mutes::muted_until(&mut conn, room_id, sender.id, now).await? {
                return Err(LiveError::Muted { until });
            }
        }
        // Read once per message here, so no subscriber's replica reads it per viewer.
        let worn_medals = {
            let mut conn = self.db.pool.get().await?;
            medals::worn_by(&mut conn, &[sender.id], now).await?.into_iter().map(|worn| worn.medal).collect()
        };
        let subject = format!("{}:{room_id}", sender.id);
        if let RateDecision::Limited { retry_after_secs } = SEND_LIMIT.hit(&self.redis, &subject).await.map_err(LiveError::internal)? {
            return Err(LiveError::RateLimited { what: "You are sending danmaku too fast", retry_after_secs });
        }
        let message = LiveDanmaku { id: Uuid::now_v7(), room_id, sender_id: sender.id, text, colour, mode, sent_at: now, worn_medals };
        let payload = serde_json::to_vec(&message).map_err(LiveError::internal)?;
        self.nats.client.publish(self.subject(room_id), payload.clone().into()).await.map_err(LiveError::internal)?;
        if let Err(error) = self.remember(room_id, &payload).await {
            tracing::warn!(room.id = %room_id, error = format!("{error:#}"), "could not keep danmaku history");
        }
        metrics::counter!("live_danmaku_sent_total").increment(1);
        Ok(message)
    }

    async fn remember(&self, room_id: Uuid, payload: &[u8]) -> anyhow::Result<()> {
        let key = self.history_key(room_id);
        let mut conn = self.redis.conn().await?;
        redis::pipe()
            .atomic()
            .lpush(&key, payload)
            .ignore()
            .ltrim(&key, 0, HISTORY_KEPT - 1)
            .ignore()
            .expire(&key, 24 * 3600)
            .ignore()
            .query_async::<()>(&mut *conn)
            .await?;
        Ok(())
    }

    /// The last `last` messages of a room, oldest first.
    pub async fn recent(&self, room_id: Uuid, last: isize) -> LiveResult<Vec<LiveDanmaku>> {
        let mut conn = self.redis.conn().await.map_err(LiveError::internal)?;
        let raw: Vec<Vec<u8>> = redis::cmd("LRANGE")
            .arg(self.history_key(room_id))
            .arg(0)
            .arg(last - 1)
            .query_async(&mut *conn)
            .await
            .map_err(LiveError::internal)?;
        Ok(raw.iter().rev().filter_map(|payload| serde_json::from_slice(payload).ok()).collect())
    }

    /// Mutes a user in a room until `now + length` (the room's streamer or an admin).
    pub async fn mute(
        &self,
        actor: AuthUser,
        room_id: Uuid,
        user_id: Uuid,
        length: chrono::Duration,
        reason: &str,
    ) -> LiveResult<DateTime<Utc>> {
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        let room = rooms::find(&mut conn, room_id).await?.ok_or(LiveError::NotFound("Room"))?;
        if !actor.is_owner_or_admin(&[room.owner_id]) {
            return Err(LiveError::Forbidden("Only the room's streamer or an admin can mute in it.".into()));
        }
        if reason.chars().count() > 200 {
            return Err(LiveError::invalid("`reason` must be at most 200 characters."));
        }
        // Microseconds, as stored: the time a refusal reports is the one returned here.
        let until = (now + length).trunc_subsecs(6);
        mutes::mute(&mut conn, room_id, user_id, actor.id, reason, until, now).await?;
        Ok(until)
    }

    /// Lifts a mute (the room's streamer or an admin); `false` when there was none.
    pub async fn unmute(&self, actor: AuthUser, room_id: Uuid, user_id: Uuid) -> LiveResult<bool> {
        let mut conn = self.db.pool.get().await?;
        let room = rooms::find(&mut conn, room_id).await?.ok_or(LiveError::NotFound("Room"))?;
        if !actor.is_owner_or_admin(&[room.owner_id]) {
            return Err(LiveError::Forbidden("Only the room's streamer or an admin can unmute in it.".into()));
        }
        Ok(mutes::unmute(&mut conn, room_id, user_id).await?)
    }

    /// The room's messages from now on, counted as one viewer of the room while subscribed.
    pub async fn subscribe(&self, room_id: Uuid) -> LiveResult<DanmakuFeed> {
        let subscription = self.nats.realtime().subscribe(&self.subject(room_id)).await.map_err(LiveError::internal)?;
        Ok(DanmakuFeed { subscription, _viewer: self.presence.join(room_id), reported: 0 })
    }
}

/// A viewer's feed of a room: each message with how many this viewer lost just before it.
pub struct DanmakuFeed {
    subscription: Subscription,
    _viewer: PresenceGuard,
    reported: u64,
}

impl Stream for DanmakuFeed {
    type Item = (LiveDanmaku, u64);

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match self.subscription.poll_next_unpin(cx) {
                Poll::Ready(Some(payload)) => {
                    let Ok(message) = serde_json::from_slice::<LiveDanmaku>(&payload) else { continue };
                    let dropped = self.subscription.dropped();
                    let lost = dropped - self.reported;
                    self.reported = dropped;
                    return Poll::Ready(Some((message, lost)));
                }
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_colours_and_mutes_follow_their_rules() {
        assert_eq!(parse_text("  gg  ").expect("valid"), "gg");
        assert!(parse_text("   ").is_err());
        assert!(parse_text(&"a".repeat(101)).is_err());
        assert!(parse_text(&"弹".repeat(100)).is_ok(), "characters, not bytes");
        assert!(parse_text("two\nlines").is_err());
        assert_eq!(parse_colour(None).expect("default"), "#FFFFFF");
        assert_eq!(parse_colour(Some("#ff00aa")).expect("valid"), "#FF00AA");
        assert!(parse_colour(Some("red")).is_err());
        assert!(parse_colour(Some("#12345")).is_err());
        assert!(parse_mute_minutes(0).is_err());
        assert!(parse_mute_minutes(MAX_MUTE_MINUTES + 1).is_err());
        assert_eq!(parse_mute_minutes(10).expect("valid"), chrono::Duration::minutes(10));
    }
}
