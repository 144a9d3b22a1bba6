//! Channels and rooms: the rules of their fields, and the services that open rooms, change
//! them, and start and stop live sessions (each with its room event in the same transaction).

use super::pk_service;
use super::presence::Presence;
use super::{LiveError, LiveResult};
use crate::events::LiveEvents;
use crate::events::realtime::PkNotifier;
use crate::store::channels::{self, Channel};
use crate::store::rooms::{self, Room, Session};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use platform::auth::{AuthUser, Role};
use platform::clock::SharedClock;
use platform::db::Db;
use platform::events::{RoomAction, RoomEvent};
use uuid::Uuid;

// ---- rules -------------------------------------------------------------------------------

/// Longest room title, in characters.
pub const MAX_TITLE_CHARS: usize = 60;
/// Longest URL (cover, icon), in bytes.
pub const MAX_URL_BYTES: usize = 500;

/// A room title: trimmed, 1–60 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomTitle(String);

impl RoomTitle {
    /// Parses a title.
    pub fn parse(raw: &str) -> LiveResult<RoomTitle> {
        let title = raw.trim();
        let chars = title.chars().count();
        if chars == 0 || chars > MAX_TITLE_CHARS {
            return Err(LiveError::invalid(format!("`title` must be 1–{MAX_TITLE_CHARS} characters.")));
        }
        if title.chars().any(char::is_control) {
            return Err(LiveError::invalid("`title` must not contain control characters."));
        }
        Ok(RoomTitle(title.to_owned()))
    }
}

impl AsRef<str> for RoomTitle {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// An image URL: `http(s)://`, at most 500 bytes, no whitespace.
pub fn parse_url(field: &str, raw: &str) -> LiveResult<String> {
    let url = raw.trim();
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    if !scheme_ok || url.len() > MAX_URL_BYTES || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(LiveError::invalid(format!("`{field}` must be an http(s) URL of at most {MAX_URL_BYTES} bytes.")));
    }
    Ok(url.to_owned())
}

/// A slug: 1–32 of `a-z`, `0-9`, `-`.
pub fn parse_slug(field: &str, raw: &str) -> LiveResult<String> {
    let ok = (1..=32).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok { Ok(raw.to_owned()) } else { Err(LiveError::invalid(format!("`{field}` must be 1–32 of a-z, 0-9 and '-'."))) }
}

/// A display name: trimmed, 1–40 characters, no control characters.
pub fn parse_name(field: &str, raw: &str) -> LiveResult<String> {
    let name = raw.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > 40 || name.chars().any(char::is_control) {
        return Err(LiveError::invalid(format!("`{field}` must be 1–40 characters.")));
    }
    Ok(name.to_owned())
}

/// What opening a room asks for.
#[derive(Debug, Clone)]
pub struct NewRoom {
    /// Title.
    pub title: RoomTitle,
    /// Cover image.
    pub cover_url: Option<String>,
    /// Channel.
    pub channel_id: Uuid,
}

/// A change of a room: `None` leaves a field as it is; `cover_url: Some(None)` removes it.
#[derive(Debug, Clone, Default)]
pub struct RoomChange {
    /// New title.
    pub title: Option<RoomTitle>,
    /// New cover (or none).
    pub cover_url: Option<Option<String>>,
    /// New channel.
    pub channel_id: Option<Uuid>,
}

/// A new channel.
#[derive(Debug, Clone)]
pub struct NewChannel {
    /// URL name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Sort position.
    pub position: i32,
}

/// A change of a channel (`None` leaves a field as it is).
#[derive(Debug, Clone, Default)]
pub struct ChannelChange {
    /// Display name.
    pub name: Option<String>,
    /// Sort position.
    pub position: Option<i32>,
    /// Whether new rooms may choose it.
    pub active: Option<bool>,
}

// ---- services ----------------------------------------------------------------------------

/// Most live rooms of one channel `liveRooms` ranks.
pub const MAX_LIVE_SCAN: i64 = 1000;

/// A position in `liveRooms`: (viewers, live since, room id), ordered most viewers first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveRoomCursor {
    viewers: i64,
    since: chrono::DateTime<chrono::Utc>,
    id: Uuid,
}

impl LiveRoomCursor {
    /// The position of `room` with `viewers`.
    pub fn of(room: &Room, viewers: i64) -> LiveRoomCursor {
        LiveRoomCursor { viewers, since: room.live_since.unwrap_or(room.updated_at), id: room.id }
    }

    fn key(&self) -> (std::cmp::Reverse<i64>, chrono::DateTime<chrono::Utc>, Uuid) {
        (std::cmp::Reverse(self.viewers), self.since, self.id)
    }

    /// The opaque cursor string.
    pub fn encode(&self) -> String {
        format!("{}:{}:{}", self.viewers, self.since.timestamp_micros(), self.id)
    }

    /// Parses what [`LiveRoomCursor::encode`] wrote.
    pub fn decode(cursor: &str) -> LiveResult<LiveRoomCursor> {
        let bad = || LiveError::invalid("The `after` cursor is not one this API returned.");
        let mut parts = cursor.splitn(3, ':');
        let viewers = parts.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
        let since = parts.next().and_then(|v| v.parse().ok()).and_then(chrono::DateTime::from_timestamp_micros).ok_or_else(bad)?;
        let id = parts.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
        Ok(LiveRoomCursor { viewers, since, id })
    }
}

/// Rooms and channels.
#[derive(Clone)]
pub struct Rooms {
    db: Db,
    clock: SharedClock,
    events: LiveEvents,
    pk: PkNotifier,
    presence: Presence,
}

impl Rooms {
    /// The service over `db`, reading time from `clock`, recording events through `events` and
    /// telling PK viewers through `pk` when stopping a room closes its link, ranking live rooms
    /// by `presence`.
    pub fn new(db: Db, clock: SharedClock, events: LiveEvents, pk: PkNotifier, presence: Presence) -> Rooms {
        Rooms { db, clock, events, pk, presence }
    }

    /// The database (for loaders).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Every channel (inactive ones too when `include_inactive`).
    pub async fn channels(&self, include_inactive: bool) -> LiveResult<Vec<Channel>> {
        let mut conn = self.db.pool.get().await?;
        Ok(channels::list(&mut conn, include_inactive).await?)
    }

    /// Creates a channel (admins).
    pub async fn create_channel(&self, admin: AuthUser, new: NewChannel) -> LiveResult<Channel> {
        require_admin(admin)?;
        let now = self.clock.now();
        let channel = Channel {
            id: Uuid::now_v7(),
            slug: new.slug,
            name: new.name,
            position: new.position,
            active: true,
            created_at: now,
            updated_at: now,
        };
        let mut conn = self.db.pool.get().await?;
        channels::insert(&mut conn, &channel).await?.ok_or_else(|| LiveError::Conflict("A channel with this slug exists.".into()))
    }

    /// Changes a channel (admins).
    pub async fn update_channel(&self, admin: AuthUser, id: Uuid, change: ChannelChange) -> LiveResult<Channel> {
        require_admin(admin)?;
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, LiveError, _>(async |conn| {
            let current = channels::find(conn, id).await?.ok_or(LiveError::NotFound("Channel"))?;
            let name = change.name.unwrap_or(current.name);
            let position = change.position.unwrap_or(current.position);
            let active = change.active.unwrap_or(current.active);
            channels::update(conn, id, &name, position, active, now).await?.ok_or(LiveError::NotFound("Channel"))
        })
        .await
    }

    /// Opens the signed-in user's room (one per user).
    pub async fn open_room(&self, user: AuthUser, new: NewRoom) -> LiveResult<Room> {
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, LiveError, _>(async |conn| {
            active_channel(conn, new.channel_id).await?;
            let room = Room {
                id: Uuid::now_v7(),
                owner_id: user.id,
                channel_id: new.channel_id,
                title: new.title.as_ref().to_owned(),
                cover_url: new.cover_url,
                live_session_id: None,
                live_since: None,
                created_at: now,
                updated_at: now,
            };
            rooms::insert(conn, &room)
                .await?
                .ok_or_else(|| LiveError::Conflict("You already have a room; change it with `updateRoom`.".into()))
        })
        .await
    }

    /// Changes the signed-in user's room. The channel cannot change while live (gifts of a
    /// session count on one channel's week-star boards).
    pub async fn update_room(&self, user: AuthUser, change: RoomChange) -> LiveResult<Room> {
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, LiveError, _>(async |conn| {
            let mut room = rooms::lock_by_owner(conn, user.id).await?.ok_or(LiveError::NotFound("Room"))?;
            if let Some(channel_id) = change.channel_id
                && channel_id != room.channel_id
            {
                if room.live_session_id.is_some() {
                    return Err(LiveError::Conflict("Stop the live session before changing the room's channel.".into()));
                }
                active_channel(conn, channel_id).await?;
                room.channel_id = channel_id;
            }
            if let Some(title) = change.title {
                room.title = title.as_ref().to_owned();
            }
            if let Some(cover_url) = change.cover_url {
                room.cover_url = cover_url;
            }
            room.updated_at = now;
            Ok(rooms::update_details(conn, &room).await?)
        })
        .await
    }

    /// Starts a live session of the signed-in user's room and records `went_live`.
    pub async fn start_live(&self, user: AuthUser) -> LiveResult<Room> {
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        let room = conn
            .transaction::<_, LiveError, _>(async |conn| {
                let room = rooms::lock_by_owner(conn, user.id).await?.ok_or(LiveError::NotFound("Room"))?;
                let session_id = Uuid::now_v7();
                let room = rooms::start_session(conn, room.id, session_id, now)
                    .await?
                    .ok_or_else(|| LiveError::Conflict("The room is live already.".into()))?;
                self.events.room_changed(conn, &room_event(&room, session_id, RoomAction::WentLive, now)).await?;
                Ok(room)
            })
            .await?;
        self.events.committed();
        Ok(room)
    }

    /// Ends the open session of a room (the actor's own when `room_id` is `None`; another's
    /// only for admins) and records `stopped`.
    pub async fn stop_live(&self, actor: AuthUser, room_id: Option<Uuid>) -> LiveResult<(Room, Session)> {
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        let stopped = conn
            .transaction::<_, LiveError, _>(async |conn| {
                let room = match room_id {
                    Some(id) => rooms::lock(conn, id).await?.ok_or(LiveError::NotFound("Room"))?,
                    None => rooms::lock_by_owner(conn, actor.id).await?.ok_or(LiveError::NotFound("Room"))?,
                };
                if !actor.is_owner_or_admin(&[room.owner_id]) {
                    return Err(LiveError::Forbidden("Only the room's streamer or an admin can stop it.".into()));
                }
                let (room, session) =
                    rooms::end_session(conn, room.id, now).await?.ok_or_else(|| LiveError::Conflict("The room is not live.".into()))?;
                // A link cannot outlive either room's session.
                let closed = pk_service::close_link_of(conn, room.owner_id, actor.id, now).await?;
                self.events.room_changed(conn, &room_event(&room, session.id, RoomAction::Stopped, now)).await?;
                Ok((room, session, closed))
            })
            .await?;
        self.events.committed();
        let (room, session, closed) = stopped;
        if let Some(pk) = closed {
            self.pk.published(&pk).await;
        }
        Ok((room, session))
    }

    /// One room.
    pub async fn room(&self, id: Uuid) -> LiveResult<Option<Room>> {
        let mut conn = self.db.pool.get().await?;
        Ok(rooms::find(&mut conn, id).await?)
    }

    /// The user's room.
    pub async fn room_of(&self, user_id: Uuid) -> LiveResult<Option<Room>> {
        let mut conn = self.db.pool.get().await?;
        Ok(rooms::find_by_owners(&mut conn, &[user_id]).await?.into_iter().next())
    }

    /// Live rooms of a channel, most viewers first (then longest live), a page of `limit`
    /// strictly after `after`. Viewer counts move, so pages are a snapshot of the moment each
    /// is read (a room can move between pages; none is repeated within one page). At most
    /// [`MAX_LIVE_SCAN`] live rooms of a channel are ranked.
    pub async fn live_rooms(&self, channel_id: Uuid, after: Option<&LiveRoomCursor>, limit: usize) -> LiveResult<Vec<(Room, i64)>> {
        let mut conn = self.db.pool.get().await?;
        let rows = rooms::live_in_channel(&mut conn, channel_id, None, MAX_LIVE_SCAN).await?;
        drop(conn);
        let ids: Vec<Uuid> = rows.iter().map(|room| room.id).collect();
        // Without Redis the list still answers, in going-live order.
        let counts = self.presence.viewer_counts(&ids).await.unwrap_or_else(|error| {
            tracing::warn!(error = format!("{error:#}"), "viewer counts unavailable; live rooms unranked");
            Default::default()
        });
        let mut ranked: Vec<(Room, i64)> =
            rows.into_iter().map(|room| (room.clone(), counts.get(&room.id).copied().unwrap_or(0))).collect();
        ranked.sort_by_key(|(room, viewers)| LiveRoomCursor::of(room, *viewers).key());
        Ok(ranked
            .into_iter()
            .filter(|(room, viewers)| after.is_none_or(|cursor| LiveRoomCursor::of(room, *viewers).key() > cursor.key()))
            .take(limit)
            .collect())
    }

    /// A room's sessions, newest first.
    pub async fn sessions(
        &self,
        room_id: Uuid,
        after: Option<(chrono::DateTime<chrono::Utc>, Uuid)>,
        limit: i64,
    ) -> LiveResult<Vec<Session>> {
        let mut conn = self.db.pool.get().await?;
        Ok(rooms::sessions_of(&mut conn, room_id, after, limit).await?)
    }
}

fn require_admin(user: AuthUser) -> LiveResult<()> {
    if user.role == Role::Admin { Ok(()) } else { Err(LiveError::Forbidden("Only an admin can do this.".into())) }
}

async fn active_channel(conn: &mut AsyncPgConnection, id: Uuid) -> LiveResult<Channel> {
    match channels::find(conn, id).await? {
        Some(channel) if channel.active => Ok(channel),
        Some(_) => Err(LiveError::invalid("This channel is closed to new rooms; choose another.")),
        None => Err(LiveError::NotFound("Channel")),
    }
}

fn room_event(room: &Room, session_id: Uuid, action: RoomAction, at: chrono::DateTime<chrono::Utc>) -> RoomEvent {
    RoomEvent {
        event_id: Uuid::now_v7(),
        room_id: room.id,
        streamer_id: room.owner_id,
        channel_id: room.channel_id,
        session_id,
        title: room.title.clone(),
        action,
        occurred_at: at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_trimmed_bounded_and_printable() {
        assert_eq!(RoomTitle::parse("  Friday speedruns ").expect("valid").as_ref(), "Friday speedruns");
        assert!(RoomTitle::parse("   ").is_err());
        assert!(RoomTitle::parse(&"x".repeat(61)).is_err());
        assert!(RoomTitle::parse(&"直".repeat(60)).is_ok(), "characters, not bytes");
        assert!(RoomTitle::parse("bell\u{7}").is_err());
    }

    #[test]
    fn live_room_cursors_round_trip_and_order_most_viewers_first() {
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        let room = |id: u128, since: i64| Room {
            id: Uuid::from_u128(id),
            owner_id: Uuid::from_u128(id + 100),
            channel_id: Uuid::from_u128(1),
            title: "t".into(),
            cover_url: None,
            live_session_id: Some(Uuid::from_u128(id + 200)),
            live_since: Some(at + chrono::Duration::seconds(since)),
            created_at: at,
            updated_at: at,
        };
        let busy = LiveRoomCursor::of(&room(1, 50), 90);
        let quiet_old = LiveRoomCursor::of(&room(2, 0), 3);
        let quiet_new = LiveRoomCursor::of(&room(3, 10), 3);
        assert!(busy.key() < quiet_old.key() && quiet_old.key() < quiet_new.key());
        assert_eq!(LiveRoomCursor::decode(&busy.encode()).expect("decodes"), busy);
        assert!(LiveRoomCursor::decode("3:nope:x").is_err());
    }

    #[test]
    fn urls_slugs_and_names_follow_their_rules() {
        assert!(parse_url("coverUrl", "https://cdn.example.com/c.jpg").is_ok());
        assert!(parse_url("coverUrl", "javascript:alert(1)").is_err());
        assert!(parse_url("coverUrl", "https://a b").is_err());
        assert!(parse_slug("slug", "games-2").is_ok());
        assert!(parse_slug("slug", "Games").is_err());
        assert!(parse_slug("slug", "").is_err());
        assert!(parse_name("name", " Music ").is_ok_and(|name| name == "Music"));
        assert!(parse_name("name", "").is_err());
    }
}
