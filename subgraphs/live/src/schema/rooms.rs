//! Channels, rooms and live sessions: `channels`, `room`, `myRoom`, `liveRooms`, and the
//! mutations that open, change, start and stop rooms (and admins' channel management).

use super::ViewerCountLoader;
use super::loaders::{ChannelLoader, SessionLoader};
use super::user::User;
use super::{id_of, parse_id};
use crate::domain::rooms::{
    ChannelChange, LiveRoomCursor, NewChannel, NewRoom, RoomChange, RoomTitle, Rooms, parse_name, parse_slug, parse_url,
};
use crate::domain::{decode_time_cursor, encode_time_cursor, page_size};
use crate::store::{channels, rooms};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{ComplexObject, Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use platform::auth::{AdminOnly, SignedIn, viewer};
use platform::batch::Batcher;
use platform::error::CodedResultExt;
use uuid::Uuid;

/// A category of rooms (games, music, chat…).
#[derive(SimpleObject, Clone)]
pub struct Channel {
    /// Id (the `channelId` of week-star boards).
    id: ID,
    /// URL name.
    slug: String,
    /// Display name.
    name: String,
    /// Sort position (ascending).
    position: i32,
    /// Whether new rooms may choose it.
    active: bool,
}

impl From<channels::Channel> for Channel {
    fn from(row: channels::Channel) -> Self {
        Channel { id: id_of(row.id), slug: row.slug, name: row.name, position: row.position, active: row.active }
    }
}

/// A streamer's live room.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Room {
    /// Id.
    id: ID,
    /// Title.
    title: String,
    /// Cover image URL.
    cover_url: Option<String>,
    /// Whether a live session is open.
    is_live: bool,
    /// When the open session started.
    live_since: Option<DateTime<Utc>>,
    /// Opened.
    created_at: DateTime<Utc>,
    #[graphql(skip)]
    row: rooms::Room,
}

impl From<rooms::Room> for Room {
    fn from(row: rooms::Room) -> Self {
        Room {
            id: id_of(row.id),
            title: row.title.clone(),
            cover_url: row.cover_url.clone(),
            is_live: row.live_session_id.is_some(),
            live_since: row.live_since,
            created_at: row.created_at,
            row,
        }
    }
}

#[ComplexObject]
impl Room {
    /// The streamer.
    async fn streamer(&self) -> User {
        User::of(self.row.owner_id)
    }

    /// The room's channel.
    async fn channel(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Channel>> {
        let channel = ctx.data::<Batcher<Uuid, ChannelLoader>>()?.load_one(self.row.channel_id).await.coded()?;
        Ok(channel.map(Channel::from))
    }

    /// Viewers watching now (connected `roomDanmaku` subscribers on every replica; approximate
    /// within a few seconds; 0 when not live).
    async fn viewer_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        if self.row.live_session_id.is_none() {
            return Ok(0);
        }
        Ok(ctx.data::<Batcher<Uuid, ViewerCountLoader>>()?.load_one(self.row.id).await.coded()?.unwrap_or(0))
    }

    /// The open session while live.
    async fn current_session(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<LiveSession>> {
        let Some(id) = self.row.live_session_id else { return Ok(None) };
        let session = ctx.data::<Batcher<Uuid, SessionLoader>>()?.load_one(id).await.coded()?;
        Ok(session.map(LiveSession::from))
    }

    /// The room's sessions, newest first. `first` is 1–50 (default 20).
    async fn sessions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, LiveSession>> {
        let limit = page_size(first, 20, 50).coded()?;
        let cursor = after.as_deref().map(decode_time_cursor).transpose().coded()?;
        let mut rows = ctx.data::<Rooms>()?.sessions(self.row.id, cursor, limit + 1).await.coded()?;
        let has_next = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        let mut connection = Connection::new(cursor.is_some(), has_next);
        connection.edges.extend(rows.into_iter().map(|row| Edge::new(encode_time_cursor(row.started_at, row.id), LiveSession::from(row))));
        Ok(connection)
    }
}

/// One live session of a room.
#[derive(SimpleObject, Clone)]
pub struct LiveSession {
    /// Id.
    id: ID,
    /// Start.
    started_at: DateTime<Utc>,
    /// End (`null` while live).
    ended_at: Option<DateTime<Utc>>,
    /// Most viewers seen at once.
    peak_viewers: i32,
}

impl From<rooms::Session> for LiveSession {
    fn from(row: rooms::Session) -> Self {
        LiveSession { id: id_of(row.id), started_at: row.started_at, ended_at: row.ended_at, peak_viewers: row.peak_viewers }
    }
}

/// What `stopLive` returns: the room and the session it closed.
#[derive(SimpleObject)]
pub struct StoppedLive {
    /// The room (no longer live).
    room: Room,
    /// The closed session.
    session: LiveSession,
}

/// Room queries.
#[derive(Default)]
pub struct RoomQuery;

#[Object]
impl RoomQuery {
    /// Channels, by position (inactive ones only for admins asking for them).
    async fn channels(&self, ctx: &Context<'_>, #[graphql(default = false)] include_inactive: bool) -> async_graphql::Result<Vec<Channel>> {
        if include_inactive {
            viewer(ctx).require_admin().coded()?;
        }
        let rows = ctx.data::<Rooms>()?.channels(include_inactive).await.coded()?;
        Ok(rows.into_iter().map(Channel::from).collect())
    }

    /// A room by id; `null` when there is none.
    async fn room(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Room>> {
        let id = parse_id(&id, "id")?;
        Ok(ctx.data::<Rooms>()?.room(id).await.coded()?.map(Room::from))
    }

    /// The signed-in user's room; `null` before they open one.
    #[graphql(guard = "SignedIn")]
    async fn my_room(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Room>> {
        let user = viewer(ctx).require_user().coded()?;
        Ok(ctx.data::<Rooms>()?.room_of(user.id).await.coded()?.map(Room::from))
    }

    /// The rooms of a channel that are live now, most viewers first (then longest live).
    /// `first` is 1–50 (default 20).
    async fn live_rooms(
        &self,
        ctx: &Context<'_>,
        channel_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Room>> {
        let channel_id = parse_id(&channel_id, "channelId")?;
        let limit = usize::try_from(page_size(first, 20, 50).coded()?).unwrap_or(20);
        let cursor = after.as_deref().map(LiveRoomCursor::decode).transpose().coded()?;
        let mut rows = ctx.data::<Rooms>()?.live_rooms(channel_id, cursor.as_ref(), limit + 1).await.coded()?;
        let has_next = rows.len() > limit;
        rows.truncate(limit);
        let mut connection = Connection::new(cursor.is_some(), has_next);
        connection
            .edges
            .extend(rows.into_iter().map(|(row, viewers)| Edge::new(LiveRoomCursor::of(&row, viewers).encode(), Room::from(row))));
        Ok(connection)
    }
}

/// A new channel (admins).
#[derive(InputObject)]
pub struct CreateChannelInput {
    /// 1–32 of a-z, 0-9, '-'.
    slug: String,
    /// 1–40 characters.
    name: String,
    /// Sort position (default 0).
    #[graphql(default = 0)]
    position: i32,
}

/// A change of a channel (absent fields stay).
#[derive(InputObject)]
pub struct UpdateChannelInput {
    /// 1–40 characters.
    name: Option<String>,
    /// Sort position.
    position: Option<i32>,
    /// Whether new rooms may choose it.
    active: Option<bool>,
}

/// Opening a room.
#[derive(InputObject)]
pub struct OpenRoomInput {
    /// 1–60 characters.
    title: String,
    /// An http(s) URL.
    cover_url: Option<String>,
    /// An active channel.
    channel_id: ID,
}

/// A change of the viewer's room (absent fields stay; `coverUrl: null` removes the cover).
#[derive(InputObject)]
pub struct UpdateRoomInput {
    /// 1–60 characters.
    title: Option<String>,
    /// An http(s) URL, or `null`.
    cover_url: MaybeUndefined<String>,
    /// Another active channel (not while live).
    channel_id: Option<ID>,
}

/// Room mutations.
#[derive(Default)]
pub struct RoomMutation;

#[Object]
impl RoomMutation {
    /// Creates a channel. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn create_channel(&self, ctx: &Context<'_>, input: CreateChannelInput) -> async_graphql::Result<Channel> {
        let admin = viewer(ctx).require_admin().coded()?;
        let new = NewChannel {
            slug: parse_slug("slug", &input.slug).coded()?,
            name: parse_name("name", &input.name).coded()?,
            position: input.position,
        };
        Ok(ctx.data::<Rooms>()?.create_channel(admin, new).await.coded()?.into())
    }

    /// Changes a channel. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn update_channel(&self, ctx: &Context<'_>, id: ID, input: UpdateChannelInput) -> async_graphql::Result<Channel> {
        let admin = viewer(ctx).require_admin().coded()?;
        let id = parse_id(&id, "id")?;
        let change = ChannelChange {
            name: input.name.as_deref().map(|name| parse_name("name", name)).transpose().coded()?,
            position: input.position,
            active: input.active,
        };
        Ok(ctx.data::<Rooms>()?.update_channel(admin, id, change).await.coded()?.into())
    }

    /// Opens the signed-in user's room (one per user).
    #[graphql(guard = "SignedIn")]
    async fn open_room(&self, ctx: &Context<'_>, input: OpenRoomInput) -> async_graphql::Result<Room> {
        let user = viewer(ctx).require_user().coded()?;
        let new = NewRoom {
            title: RoomTitle::parse(&input.title).coded()?,
            cover_url: input.cover_url.as_deref().map(|url| parse_url("coverUrl", url)).transpose().coded()?,
            channel_id: parse_id(&input.channel_id, "channelId")?,
        };
        Ok(ctx.data::<Rooms>()?.open_room(user, new).await.coded()?.into())
    }

    /// Changes the signed-in user's room.
    #[graphql(guard = "SignedIn")]
    async fn update_room(&self, ctx: &Context<'_>, input: UpdateRoomInput) -> async_graphql::Result<Room> {
        let user = viewer(ctx).require_user().coded()?;
        let change = RoomChange {
            title: input.title.as_deref().map(RoomTitle::parse).transpose().coded()?,
            cover_url: match input.cover_url {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(url) => Some(Some(parse_url("coverUrl", &url).coded()?)),
            },
            channel_id: input.channel_id.as_ref().map(|id| parse_id(id, "channelId")).transpose()?,
        };
        Ok(ctx.data::<Rooms>()?.update_room(user, change).await.coded()?.into())
    }

    /// Starts a live session in the signed-in user's room.
    #[graphql(guard = "SignedIn")]
    async fn start_live(&self, ctx: &Context<'_>) -> async_graphql::Result<Room> {
        let user = viewer(ctx).require_user().coded()?;
        Ok(ctx.data::<Rooms>()?.start_live(user).await.coded()?.into())
    }

    /// Ends the open session of the signed-in user's room, or (admins) of `roomId`. A PK or
    /// link of the room is closed with it.
    #[graphql(guard = "SignedIn")]
    async fn stop_live(&self, ctx: &Context<'_>, room_id: Option<ID>) -> async_graphql::Result<StoppedLive> {
        let user = viewer(ctx).require_user().coded()?;
        let room_id = room_id.as_ref().map(|id| parse_id(id, "roomId")).transpose()?;
        let (room, session) = ctx.data::<Rooms>()?.stop_live(user, room_id).await.coded()?;
        Ok(StoppedLive { room: room.into(), session: session.into() })
    }
}
