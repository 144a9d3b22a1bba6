//! `Danmaku`, `danmaku` (playback window), `sendDanmaku`.

use super::parse_id;
use crate::domain::ContentError;
use crate::domain::danmaku::{self, DEFAULT_LIST_LIMIT, DanmakuColor, DanmakuService, DanmakuText, NewDanmaku, OffsetMs, PlaybackWindow};
use crate::store;
use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use platform::auth::{SignedIn, viewer};
use platform::error::CodedResultExt;

/// A bullet comment shown at a playback position. Playback lists are long, so it names its
/// author by id only (resolve accounts separately if needed).
pub struct Danmaku(store::danmaku::Danmaku);

#[Object(name = "Danmaku")]
impl Danmaku {
    /// Stable id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Playback position, in milliseconds.
    async fn offset_ms(&self) -> i32 {
        self.0.offset_ms
    }

    /// Text.
    async fn text(&self) -> &str {
        &self.0.body
    }

    /// `#RRGGBB`.
    async fn color(&self) -> String {
        // The table's check constraint keeps colours in range; white is the safe fallback.
        DanmakuColor::from_stored(self.0.color).unwrap_or(DanmakuColor::WHITE).to_hex()
    }

    /// How it moves.
    async fn mode(&self) -> DanmakuMode {
        danmaku::DanmakuMode::from_stored(&self.0.mode).into()
    }

    /// When it was sent.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Who sent it.
    async fn author_id(&self) -> ID {
        ID(self.0.author_id.to_string())
    }
}

/// How a danmaku moves across the picture.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum DanmakuMode {
    /// Right to left.
    #[default]
    Scroll,
    /// Fixed at the top.
    Top,
    /// Fixed at the bottom.
    Bottom,
}

impl From<DanmakuMode> for danmaku::DanmakuMode {
    fn from(mode: DanmakuMode) -> Self {
        match mode {
            DanmakuMode::Scroll => danmaku::DanmakuMode::Scroll,
            DanmakuMode::Top => danmaku::DanmakuMode::Top,
            DanmakuMode::Bottom => danmaku::DanmakuMode::Bottom,
        }
    }
}

impl From<danmaku::DanmakuMode> for DanmakuMode {
    fn from(mode: danmaku::DanmakuMode) -> Self {
        match mode {
            danmaku::DanmakuMode::Scroll => DanmakuMode::Scroll,
            danmaku::DanmakuMode::Top => DanmakuMode::Top,
            danmaku::DanmakuMode::Bottom => DanmakuMode::Bottom,
        }
    }
}

/// A danmaku to send.
#[derive(InputObject)]
pub struct SendDanmakuInput {
    /// The video (published).
    video_id: ID,
    /// Playback position in milliseconds: from 0 to the video's end.
    offset_ms: i32,
    /// 1–100 characters on one line.
    text: String,
    /// `#RRGGBB` (`null` is white).
    #[graphql(default_with = "Some(String::from(\"#FFFFFF\"))")]
    color: Option<String>,
    /// How it moves (`null` scrolls).
    #[graphql(default_with = "Some(DanmakuMode::Scroll)")]
    mode: Option<DanmakuMode>,
}

impl TryFrom<SendDanmakuInput> for NewDanmaku {
    type Error = ContentError;

    fn try_from(input: SendDanmakuInput) -> Result<Self, Self::Error> {
        Ok(NewDanmaku {
            video_id: parse_id(&input.video_id).ok_or_else(|| ContentError::InvalidInput("`videoId` is not a video id.".into()))?,
            offset: OffsetMs::parse(input.offset_ms)?,
            text: DanmakuText::parse(&input.text)?,
            color: input.color.as_deref().map(DanmakuColor::parse).transpose()?.unwrap_or(DanmakuColor::WHITE),
            mode: input.mode.unwrap_or_default().into(),
        })
    }
}

/// The danmaku service of the schema.
fn service<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a DanmakuService> {
    ctx.data::<DanmakuService>()
}

/// Danmaku for playback.
#[derive(Default)]
pub struct DanmakuQuery;

#[Object]
impl DanmakuQuery {
    /// The danmaku of a published video with `fromMs <= offsetMs < toMs`, in playback order.
    /// A window spans at most 10 minutes; `limit` is 1–5000.
    async fn danmaku(
        &self,
        ctx: &Context<'_>,
        video_id: ID,
        from_ms: i32,
        to_ms: i32,
        #[graphql(default_with = "Some(DEFAULT_LIST_LIMIT)")] limit: Option<i32>,
    ) -> async_graphql::Result<Vec<Danmaku>> {
        let video_id = parse_id(&video_id).ok_or_else(|| ContentError::InvalidInput("`videoId` is not a video id.".into())).coded()?;
        // An explicit `null` means the default too.
        let window = PlaybackWindow::parse(from_ms, to_ms, limit.unwrap_or(DEFAULT_LIST_LIMIT)).coded()?;
        let rows = service(ctx)?.list(video_id, window).await.coded()?;
        Ok(rows.into_iter().map(Danmaku).collect())
    }
}

/// Sending danmaku.
#[derive(Default)]
pub struct DanmakuMutation;

#[Object]
impl DanmakuMutation {
    /// Sends a danmaku at a playback position (at most 10 per user every 10 seconds).
    #[graphql(guard = "SignedIn")]
    async fn send_danmaku(&self, ctx: &Context<'_>, input: SendDanmakuInput) -> async_graphql::Result<Danmaku> {
        let user = viewer(ctx).require_user().coded()?;
        let new = NewDanmaku::try_from(input).coded()?;
        service(ctx)?.send(user, new).await.coded().map(Danmaku)
    }
}
