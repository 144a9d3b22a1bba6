//! Live danmaku: `sendLiveDanmaku`, room mutes, `recentDanmaku`, the `roomDanmaku`
//! subscription, and `Room.viewerCount` (presence, batched).

use super::medals::{Medal, snapshot};
use super::user::User;
use super::{id_of, parse_id};
use crate::domain::LiveError;
use crate::domain::danmaku::{self, DanmakuMode, DanmakuService, parse_colour, parse_mute_minutes, parse_text};
use async_graphql::dataloader::Loader;
use async_graphql::{Context, Enum, ErrorExtensions, ID, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use platform::auth::{SignedIn, viewer};
use platform::error::{CodedResultExt, to_graphql_error};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// Where a live danmaku moves on screen.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum LiveDanmakuMode {
    /// Right to left.
    Scroll,
    /// Pinned at the top.
    Top,
    /// Pinned at the bottom.
    Bottom,
}

impl From<LiveDanmakuMode> for DanmakuMode {
    fn from(mode: LiveDanmakuMode) -> Self {
        match mode {
            LiveDanmakuMode::Scroll => DanmakuMode::Scroll,
            LiveDanmakuMode::Top => DanmakuMode::Top,
            LiveDanmakuMode::Bottom => DanmakuMode::Bottom,
        }
    }
}

impl From<DanmakuMode> for LiveDanmakuMode {
    fn from(mode: DanmakuMode) -> Self {
        match mode {
            DanmakuMode::Scroll => LiveDanmakuMode::Scroll,
            DanmakuMode::Top => LiveDanmakuMode::Top,
            DanmakuMode::Bottom => LiveDanmakuMode::Bottom,
        }
    }
}

/// A danmaku in a live room.
#[derive(SimpleObject)]
pub struct LiveDanmaku {
    /// Id.
    id: ID,
    /// The room.
    room_id: ID,
    /// Who sent it.
    sender: User,
    /// Text.
    text: String,
    /// `#RRGGBB`.
    colour: String,
    /// Where it moves.
    mode: LiveDanmakuMode,
    /// When.
    sent_at: DateTime<Utc>,
    /// The medals the sender wore when sending it, heaviest first.
    worn_medals: Vec<Medal>,
    /// Messages this subscriber lost just before this one because it read too slowly (0 outside subscriptions).
    dropped: i64,
}

impl LiveDanmaku {
    fn of(message: danmaku::LiveDanmaku, dropped: u64) -> LiveDanmaku {
        LiveDanmaku {
            id: id_of(message.id),
            room_id: id_of(message.room_id),
            sender: User::of(message.sender_id),
            text: message.text,
            colour: message.colour,
            mode: message.mode.into(),
            sent_at: message.sent_at,
            worn_medals: snapshot(message.worn_medals),
            dropped: i64::try_from(dropped).unwrap_or(i64::MAX),
        }
    }
}

/// A mute in a room.
#[derive(SimpleObject)]
pub struct RoomMute {
    /// The room.
    room_id: ID,
    /// Who is muted.
    user: User,
    /// When it ends.
    until: DateTime<Utc>,
}

/// Viewers of rooms across replicas (`Room.viewerCount`): two Redis round trips per batch.
pub struct ViewerCountLoader(pub DanmakuService);

impl Loader<Uuid> for ViewerCountLoader {
    type Value = i64;
    type Error = Arc<LiveError>;

    async fn load(&self, rooms: &[Uuid]) -> Result<HashMap<Uuid, i64>, Self::Error> {
        self.0.presence().viewer_counts(rooms).await.map_err(|error| Arc::new(LiveError::internal(error)))
    }
}

/// The GraphQL error of a danmaku refusal: a mute carries `extensions.mutedUntil`.
fn refusal(error: LiveError) -> async_graphql::Error {
    match &error {
        LiveError::Muted { until } => {
            let until = until.to_rfc3339();
            to_graphql_error(&error).extend_with(|_, ext| ext.set("mutedUntil", until.clone()))
        }
        _ => to_graphql_error(&error),
    }
}

/// Danmaku queries.
#[derive(Default)]
pub struct DanmakuQuery;

#[Object]
impl DanmakuQuery {
    /// The last `last` (1–50) danmaku of a room, oldest first, for viewers who just joined.
    async fn recent_danmaku(
        &self,
        ctx: &Context<'_>,
        room_id: ID,
        #[graphql(default = 50)] last: i32,
    ) -> async_graphql::Result<Vec<LiveDanmaku>> {
        let room_id = parse_id(&room_id, "roomId")?;
        if !(1..=50).contains(&last) {
            return Err(LiveError::invalid("`last` must be between 1 and 50.")).coded();
        }
        let messages = ctx.data::<DanmakuService>()?.recent(room_id, last as isize).await.coded()?;
        Ok(messages.into_iter().map(|message| LiveDanmaku::of(message, 0)).collect())
    }
}

/// Danmaku mutations.
#[derive(Default)]
pub struct DanmakuMutation;

#[Object]
impl DanmakuMutation {
    /// Sends a danmaku (1–100 characters) to a live room, at most 20 per 30 s per room.
    /// A muted user gets `FORBIDDEN` with `extensions.mutedUntil`.
    #[graphql(guard = "SignedIn")]
    async fn send_live_danmaku(
        &self,
        ctx: &Context<'_>,
        room_id: ID,
        text: String,
        colour: Option<String>,
        #[graphql(default_with = "LiveDanmakuMode::Scroll")] mode: LiveDanmakuMode,
    ) -> async_graphql::Result<LiveDanmaku> {
        let user = viewer(ctx).require_user().coded()?;
        let room_id = parse_id(&room_id, "roomId")?;
        let text = parse_text(&text).coded()?;
        let colour = parse_colour(colour.as_deref()).coded()?;
        let message = ctx.data::<DanmakuService>()?.send(user, room_id, text, colour, mode.into()).await.map_err(refusal)?;
        Ok(LiveDanmaku::of(message, 0))
    }

    /// Mutes a user in a room for `minutes` (1–43,200). The room's streamer or an admin.
    #[graphql(guard = "SignedIn")]
    async fn mute_in_room(
        &self,
        ctx: &Context<'_>,
        room_id: ID,
        user_id: ID,
        minutes: i64,
        #[graphql(default)] reason: String,
    ) -> async_graphql::Result<RoomMute> {
        let actor = viewer(ctx).require_user().coded()?;
        let (room, user) = (parse_id(&room_id, "roomId")?, parse_id(&user_id, "userId")?);
        let length = parse_mute_minutes(minutes).coded()?;
        let until = ctx.data::<DanmakuService>()?.mute(actor, room, user, length, &reason).await.coded()?;
        Ok(RoomMute { room_id: id_of(room), user: User::of(user), until })
    }

    /// Lifts a mute; `false` when there was none. The room's streamer or an admin.
    #[graphql(guard = "SignedIn")]
    async fn unmute_in_room(&self, ctx: &Context<'_>, room_id: ID, user_id: ID) -> async_graphql::Result<bool> {
        let actor = viewer(ctx).require_user().coded()?;
        let (room, user) = (parse_id(&room_id, "roomId")?, parse_id(&user_id, "userId")?);
        ctx.data::<DanmakuService>()?.unmute(actor, room, user).await.coded()
    }
}

/// Danmaku subscriptions.
#[derive(Default)]
pub struct DanmakuSubscription;

#[Subscription]
impl DanmakuSubscription {
    /// Every danmaku of a room from now on, whichever replica it was sent on; counts the
    /// subscriber as a viewer of the room. A slow subscriber loses messages and sees how many
    /// in `dropped` on the next one.
    async fn room_danmaku(&self, ctx: &Context<'_>, room_id: ID) -> async_graphql::Result<impl Stream<Item = LiveDanmaku> + use<>> {
        let room_id = parse_id(&room_id, "roomId")?;
        // A subscription holds a NATS subscription per room: only for rooms that exist.
        ctx.data::<crate::domain::rooms::Rooms>()?.room(room_id).await.coded()?.ok_or(LiveError::NotFound("Room")).coded()?;
        let feed = ctx.data::<DanmakuService>()?.subscribe(room_id).await.coded()?;
        Ok(feed.map(|(message, dropped)| LiveDanmaku::of(message, dropped)))
    }
}
