//! Contracts of the events subgraphs exchange over JetStream, defined once so that the
//! publisher and every consumer agree on subjects, stream settings and payloads.
//!
//! Each event carries an `event_id`: publishers set it as the `Nats-Msg-Id` header (JetStream
//! drops a duplicate inside the stream's window) and consumers de-duplicate on it too, because
//! delivery is at least once.

use crate::nats::Nats;
use async_nats::jetstream::stream::{Config, DiscardPolicy, Stream};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

/// A JetStream stream: its name and the subjects it captures, both under the deployment's prefix.
#[derive(Debug, Clone, Copy)]
pub struct StreamSpec {
    /// Name after the prefix (`<prefix>_<name>`).
    pub name: &'static str,
    /// Subject family after the prefix (`<prefix>.<subjects>.>`).
    pub subjects: &'static str,
    /// How long messages are kept for late or new consumers.
    pub max_age: Duration,
}

/// `content`'s events: stat changes and video lifecycle.
pub const CONTENT_STREAM: StreamSpec =
    StreamSpec { name: "CONTENT_EVENTS", subjects: "content.events", max_age: Duration::from_secs(7 * 24 * 3600) };
/// `community`'s follow-graph changes (consumed by `content` for the following feed).
pub const FOLLOW_STREAM: StreamSpec =
    StreamSpec { name: "FOLLOW_EVENTS", subjects: "community.follows", max_age: Duration::from_secs(7 * 24 * 3600) };

/// Window inside which JetStream drops a message whose `Nats-Msg-Id` it has seen.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

impl StreamSpec {
    /// The stream name under this deployment's prefix.
    pub fn stream_name(&self, nats: &Nats) -> String {
        format!("{}_{}", nats.prefix(), self.name)
    }

    /// The full subject of one event kind (`kind` like `stats`).
    pub fn subject(&self, nats: &Nats, kind: &str) -> String {
        nats.subject(&format!("{}.{kind}", self.subjects))
    }

    /// Creates the stream if it does not exist (publishers and consumers both call this, so
    /// neither depends on the other having started first).
    pub async fn ensure(&self, nats: &Nats) -> anyhow::Result<Stream> {
        let config = Config {
            name: self.stream_name(nats),
            subjects: vec![nats.subject(&format!("{}.>", self.subjects))],
            max_age: self.max_age,
            duplicate_window: DUPLICATE_WINDOW,
            discard: DiscardPolicy::Old,
            ..Default::default()
        };
        nats.jetstream.get_or_create_stream(config).await.map_err(anyhow::Error::from)
    }
}

/// Counters of one video. Used both as the totals after a change and as the change itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatCounts {
    /// Views.
    pub views: i64,
    /// Likes.
    pub likes: i64,
    /// Coins given.
    pub coins: i64,
    /// Favourites.
    pub favourites: i64,
    /// Shares.
    pub shares: i64,
    /// Comments (roots and replies).
    pub comments: i64,
    /// VOD danmaku.
    pub danmaku: i64,
}

/// What a viewer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatAction {
    /// A counted view.
    View,
    /// Like.
    Like,
    /// Like withdrawn.
    Unlike,
    /// Coins given (1 or 2 in `delta.coins`).
    Coin,
    /// Favourite.
    Favourite,
    /// Favourite withdrawn.
    Unfavourite,
    /// Share.
    Share,
    /// A comment or reply was written.
    Comment,
    /// A comment was deleted (with its replies).
    CommentDeleted,
    /// A VOD danmaku was sent.
    Danmaku,
}

/// A video's counters changed (subject `content.events.stats`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatEvent {
    /// De-duplication id.
    pub event_id: Uuid,
    /// The video.
    pub video_id: Uuid,
    /// Its author (for engagement-by-author).
    pub author_id: Uuid,
    /// Its region (for per-region rankings).
    pub region_id: i32,
    /// When the video was published (for the new-video boost).
    pub published_at: Option<DateTime<Utc>>,
    /// Who did it, when signed in (anonymous views carry none).
    pub viewer_id: Option<Uuid>,
    /// What happened.
    pub action: StatAction,
    /// The change (negative for unlike, unfavourite, deletions).
    pub delta: StatCounts,
    /// The counters after the change, as committed.
    pub totals: StatCounts,
    /// Commit time of the change.
    pub occurred_at: DateTime<Utc>,
}

/// Subject kind of [`StatEvent`] in [`CONTENT_STREAM`].
pub const STAT_EVENT_KIND: &str = "stats";

/// A video's visibility changed (subject `content.events.videos`): rankings drop a video that
/// is no longer published, at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoLifecycleEvent {
    /// De-duplication id.
    pub event_id: Uuid,
    /// The video.
    pub video_id: Uuid,
    /// Its author.
    pub author_id: Uuid,
    /// Its region (after the change).
    pub region_id: i32,
    /// `draft`, `published` or `removed`.
    pub state: String,
    /// Publication time.
    pub published_at: Option<DateTime<Utc>>,
    /// Commit time of the change.
    pub occurred_at: DateTime<Utc>,
}

/// Subject kind of [`VideoLifecycleEvent`] in [`CONTENT_STREAM`].
pub const VIDEO_EVENT_KIND: &str = "videos";

/// A user followed or unfollowed another (subject `community.follows.changed`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowEvent {
    /// De-duplication id.
    pub event_id: Uuid,
    /// Who follows.
    pub follower_id: Uuid,
    /// Who is followed.
    pub followee_id: Uuid,
    /// `true` after a follow, `false` after an unfollow.
    pub following: bool,
    /// When it changed; a consumer keeps the latest change per pair, whatever the delivery order.
    pub changed_at: DateTime<Utc>,
}

/// Subject kind of [`FollowEvent`] in [`FOLLOW_STREAM`].
pub const FOLLOW_EVENT_KIND: &str = "changed";

/// `content`'s account changes (registrations, role changes), consumed by `community`'s account
/// directory so that it can tell a real user id from an unknown one and list site admins without
/// reading `content`'s schema. Kept for a month; a consumer that falls further behind is caught up
/// by the backfill in `vidgraph seed`.
pub const ACCOUNT_STREAM: StreamSpec =
    StreamSpec { name: "ACCOUNT_EVENTS", subjects: "content.accounts", max_age: Duration::from_secs(30 * 24 * 3600) };

/// An account as it is after a change (subject `content.accounts.changed`): a whole snapshot, not
/// a delta, so a consumer keeps the one with the highest `version` per account and may apply
/// snapshots in any order and any number of times. `content` accounts have no status (they are
/// never suspended or deleted), so none is carried; a status would be one more snapshot field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountEvent {
    /// De-duplication id.
    pub event_id: Uuid,
    /// The account.
    pub user_id: Uuid,
    /// Its username.
    pub username: String,
    /// `user` or `admin`.
    pub role: String,
    /// The account row's version: 1 at registration, +1 on every change, assigned under the
    /// row's lock, so a higher version is always the later state.
    pub version: i64,
    /// Commit time of the change.
    pub changed_at: DateTime<Utc>,
}

/// Subject kind of [`AccountEvent`] in [`ACCOUNT_STREAM`].
pub const ACCOUNT_EVENT_KIND: &str = "changed";

/// `live`'s gift events: every gift sent in a room, consumed by `ranking` for week-star boards.
/// Kept for a month so a consumer that was down over a week's end can still catch up.
pub const GIFT_STREAM: StreamSpec =
    StreamSpec { name: "GIFT_EVENTS", subjects: "live.gifts", max_age: Duration::from_secs(30 * 24 * 3600) };

/// A viewer sent gifts to a streamer in a live room (subject `live.gifts.sent`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GiftEvent {
    /// The gift's id: the idempotency key (one id is counted once, however often delivered).
    pub event_id: Uuid,
    /// The channel (category: games, music…) of the room the gift was sent in. Week-star boards
    /// rank streamers across all rooms of a channel.
    pub channel_id: Uuid,
    /// The live room the gift was sent in (absent in events published before rooms existed).
    #[serde(default)]
    pub room_id: Option<Uuid>,
    /// The streamer (a user id) who received it.
    pub streamer_id: Uuid,
    /// Gift type, as the gift catalogue names it (`rocket`, `flower`…).
    pub gift_id: String,
    /// How many of that gift were sent at once (at least 1).
    pub count: i64,
    /// Who sent it (a user id).
    pub sender_id: Uuid,
    /// Price of one gift, in integer minor units (0 in events published before prices existed).
    #[serde(default)]
    pub unit_price: i64,
    /// What the sender paid in all (`unit_price * count`), in integer minor units.
    #[serde(default)]
    pub total_value: i64,
    /// When it was sent (commit time in `live`); decides the week it counts for and, on equal
    /// counts, who reached a score first.
    pub sent_at: DateTime<Utc>,
}

/// Subject kind of [`GiftEvent`] in [`GIFT_STREAM`].
pub const GIFT_EVENT_KIND: &str = "sent";

/// `live`'s room lifecycle: a streamer went live or stopped (consumed by `community`, which turns
/// going live into a streamer dynamic).
pub const ROOM_STREAM: StreamSpec = StreamSpec { name: "ROOM_EVENTS", subjects: "live.rooms", max_age: Duration::from_secs(7 * 24 * 3600) };

/// What happened to a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomAction {
    /// A live session started.
    WentLive,
    /// The open live session ended.
    Stopped,
}

/// A streamer's room went live or stopped (subject `live.rooms.changed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomEvent {
    /// De-duplication id.
    pub event_id: Uuid,
    /// The room.
    pub room_id: Uuid,
    /// Its owner, the streamer (a user id).
    pub streamer_id: Uuid,
    /// The room's channel.
    pub channel_id: Uuid,
    /// The live session that started or stopped.
    pub session_id: Uuid,
    /// The room's title when it happened.
    pub title: String,
    /// What happened.
    pub action: RoomAction,
    /// Commit time of the change.
    pub occurred_at: DateTime<Utc>,
}

/// Subject kind of [`RoomEvent`] in [`ROOM_STREAM`].
pub const ROOM_EVENT_KIND: &str = "changed";

/// `assets`' events: finished archive downloads, projected by `content` so that
/// `createVideo(assetRef:)` can check an asset reference without calling `assets`.
pub const ASSET_STREAM: StreamSpec =
    StreamSpec { name: "ASSET_EVENTS", subjects: "assets.events", max_age: Duration::from_secs(30 * 24 * 3600) };

/// What happened to an archived asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetAction {
    /// An archive download finished: the file exists and may be published.
    Archived,
    /// The owner deleted it: it may no longer be published.
    Deleted,
}

/// An archive download finished or was deleted (subject `assets.events.archive`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetEvent {
    /// De-duplication id.
    pub event_id: Uuid,
    /// The reference `Download.assetRef` returns and `createVideo(assetRef:)` accepts.
    pub asset_ref: String,
    /// The download task it came from.
    pub task_id: Uuid,
    /// Who owns it (a user id); only they may publish it.
    pub owner_id: Uuid,
    /// File size in bytes.
    pub size_bytes: i64,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// Media type of the file.
    pub content_type: String,
    /// What happened.
    pub action: AssetAction,
    /// Commit time of the change.
    pub occurred_at: DateTime<Utc>,
}

/// Subject kind of [`AssetEvent`] in [`ASSET_STREAM`].
pub const ASSET_EVENT_KIND: &str = "archive";
