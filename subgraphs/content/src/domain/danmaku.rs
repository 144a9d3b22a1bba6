//! VOD danmaku: short bullet comments pinned to a playback position of a video.

use super::ContentError;
use crate::events::CatalogueEvents;
use crate::store::{danmaku, videos};
use diesel_async::AsyncConnection;
use platform::auth::AuthUser;
use platform::db::Db;
use platform::events::{StatAction, StatCounts};
use platform::rate_limit::{RateDecision, RateLimit};
use platform::redis::Redis;
use std::time::Duration;
use uuid::Uuid;

/// Longest danmaku, in characters.
pub const MAX_TEXT_CHARS: usize = 100;
/// Widest playback window one listing may cover (10 minutes).
pub const MAX_WINDOW_MS: i32 = 10 * 60 * 1000;
/// Danmaku a listing returns when the client does not say.
pub const DEFAULT_LIST_LIMIT: i32 = 1000;
/// Most danmaku one listing may return.
pub const MAX_LIST_LIMIT: i32 = 5000;
/// Each user may send this many danmaku per window, on all replicas together.
pub const SEND_LIMIT: RateLimit = RateLimit { name: "danmaku:send", max: 10, window: Duration::from_secs(10) };

fn invalid(message: impl Into<String>) -> ContentError {
    ContentError::InvalidInput(message.into())
}

/// A danmaku's text: trimmed, 1 to [`MAX_TEXT_CHARS`] characters on one line (it scrolls
/// across the picture), no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DanmakuText(String);

impl DanmakuText {
    /// Checks the rule above.
    pub fn parse(raw: &str) -> Result<DanmakuText, ContentError> {
        let text = raw.trim();
        if !(1..=MAX_TEXT_CHARS).contains(&text.chars().count()) {
            return Err(invalid(format!("A danmaku has 1 to {MAX_TEXT_CHARS} characters.")));
        }
        if text.chars().any(char::is_control) {
            return Err(invalid("A danmaku is one line without control characters."));
        }
        Ok(DanmakuText(text.to_owned()))
    }
}

impl AsRef<str> for DanmakuText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A colour `0xRRGGBB`, written `#RRGGBB` (either case) by clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DanmakuColor(i32);

impl DanmakuColor {
    /// White, the default.
    pub const WHITE: DanmakuColor = DanmakuColor(0xFF_FFFF);

    /// Parses `#RRGGBB`.
    pub fn parse(raw: &str) -> Result<DanmakuColor, ContentError> {
        let bad = || invalid("A colour is written #RRGGBB, e.g. #FFFFFF.");
        let hex = raw.strip_prefix('#').filter(|hex| hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit())).ok_or_else(bad)?;
        i32::from_str_radix(hex, 16).map(DanmakuColor).map_err(|_| bad())
    }

    /// A stored colour; `None` outside `0..=0xFFFFFF`.
    pub fn from_stored(value: i32) -> Option<DanmakuColor> {
        (0..=0xFF_FFFF).contains(&value).then_some(DanmakuColor(value))
    }

    /// `#RRGGBB`, upper case.
    pub fn to_hex(self) -> String {
        format!("#{:06X}", self.0)
    }

    /// The stored integer.
    pub fn value(self) -> i32 {
        self.0
    }
}

/// How a danmaku moves across the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DanmakuMode {
    /// Right to left (the default).
    #[default]
    Scroll,
    /// Fixed at the top.
    Top,
    /// Fixed at the bottom.
    Bottom,
}

impl DanmakuMode {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DanmakuMode::Scroll => "scroll",
            DanmakuMode::Top => "top",
            DanmakuMode::Bottom => "bottom",
        }
    }

    /// Parses a stored name (the table's check constraint allows only these; anything else
    /// scrolls, the mode every player supports).
    pub fn from_stored(name: &str) -> DanmakuMode {
        match name {
            "top" => DanmakuMode::Top,
            "bottom" => DanmakuMode::Bottom,
            _ => DanmakuMode::Scroll,
        }
    }
}

/// A playback position in milliseconds: not negative. Whether it lies within the video is
/// checked against the video when sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetMs(i32);

impl OffsetMs {
    /// Checks `offset_ms >= 0`.
    pub fn parse(offset_ms: i32) -> Result<OffsetMs, ContentError> {
        if offset_ms >= 0 { Ok(OffsetMs(offset_ms)) } else { Err(invalid("`offsetMs` cannot be negative.")) }
    }

    /// Milliseconds.
    pub fn get(self) -> i32 {
        self.0
    }

    /// Whether the position lies within a video of `duration_secs` (its end included).
    pub fn within(self, duration_secs: i32) -> bool {
        i64::from(self.0) <= i64::from(duration_secs) * 1000
    }
}

/// A danmaku to send, parsed at the edge.
#[derive(Debug, Clone)]
pub struct NewDanmaku {
    /// The video.
    pub video_id: Uuid,
    /// Playback position.
    pub offset: OffsetMs,
    /// Text.
    pub text: DanmakuText,
    /// Colour.
    pub color: DanmakuColor,
    /// Mode.
    pub mode: DanmakuMode,
}

/// What a player asks for: danmaku with `from_ms <= offset < to_ms`, at most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaybackWindow {
    from_ms: i32,
    to_ms: i32,
    limit: i64,
}

impl PlaybackWindow {
    /// Checks `0 <= from_ms < to_ms`, `to_ms - from_ms <=` [`MAX_WINDOW_MS`] and a limit of 1
    /// to [`MAX_LIST_LIMIT`]. A player fetches a long video window by window.
    pub fn parse(from_ms: i32, to_ms: i32, limit: i32) -> Result<PlaybackWindow, ContentError> {
        if from_ms < 0 || to_ms < 0 {
            return Err(invalid("`fromMs` and `toMs` cannot be negative."));
        }
        if to_ms <= from_ms {
            return Err(invalid("`toMs` must be after `fromMs`."));
        }
        if i64::from(to_ms) - i64::from(from_ms) > i64::from(MAX_WINDOW_MS) {
            return Err(invalid(format!("A window covers at most {} minutes.", MAX_WINDOW_MS / 60_000)));
        }
        if !(1..=MAX_LIST_LIMIT).contains(&limit) {
            return Err(invalid(format!("`limit` must be between 1 and {MAX_LIST_LIMIT}.")));
        }
        Ok(PlaybackWindow { from_ms, to_ms, limit: i64::from(limit) })
    }
}

/// The danmaku service.
pub struct DanmakuService {
    db: Db,
    redis: Redis,
    catalogue: CatalogueEvents,
}

impl DanmakuService {
    /// Builds the service.
    pub fn new(db: Db, redis: Redis, catalogue: CatalogueEvents) -> DanmakuService {
        DanmakuService { db, redis, catalogue }
    }

    /// Sends a danmaku on a published video, within its duration, and counts it in the video's
    /// stats. Rate limited per user ([`SEND_LIMIT`]).
    #[tracing::instrument(skip_all, fields(video.id = %new.video_id, user.id = %author.id))]
    pub async fn send(&self, author: AuthUser, new: NewDanmaku) -> Result<danmaku::Danmaku, ContentError> {
        // Counted before the database is touched: the limit protects it from floods.
        if let RateDecision::Limited { retry_after_secs } =
            SEND_LIMIT.hit(&self.redis, &author.id.to_string()).await.map_err(ContentError::internal)?
        {
            return Err(ContentError::RateLimited { what: "You are sending danmaku too fast", retry_after_secs });
        }
        let catalogue = &self.catalogue;
        let mut conn = self.db.pool.get().await?;
        let sent = conn
            .transaction(async |conn| {
                let video = videos::find_one_published(conn, new.video_id).await?.ok_or(ContentError::NotFound("Video"))?;
                if !new.offset.within(video.duration_secs) {
                    return Err(invalid("`offsetMs` is past the end of the video."));
                }
                let row = danmaku::NewDanmaku {
                    id: Uuid::now_v7(),
                    video_id: video.id,
                    author_id: author.id,
                    offset_ms: new.offset.get(),
                    body: new.text.as_ref(),
                    color: new.color.value(),
                    mode: new.mode.as_str(),
                };
                let sent = danmaku::insert(conn, &row).await?;
                let delta = StatCounts { danmaku: 1, ..Default::default() };
                catalogue.stat_changed(conn, &video, Some(author.id), StatAction::Danmaku, delta).await?;
                Ok::<_, ContentError>(sent)
            })
            .await?;
        self.catalogue.committed();
        Ok(sent)
    }

    /// The danmaku of a published video in a playback window, in `(offset, id)` order.
    pub async fn list(&self, video_id: Uuid, window: PlaybackWindow) -> Result<Vec<danmaku::Danmaku>, ContentError> {
        let mut conn = self.db.pool.get().await?;
        if videos::find_one_published(&mut conn, video_id).await?.is_none() {
            return Err(ContentError::NotFound("Video"));
        }
        Ok(danmaku::in_window(&mut conn, video_id, window.from_ms, window.to_ms, window.limit).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_one_trimmed_line_of_at_most_100_characters() {
        assert_eq!(DanmakuText::parse("  2333 ").expect("valid").as_ref(), "2333");
        assert!(DanmakuText::parse("   ").is_err());
        assert!(DanmakuText::parse(&"弹".repeat(MAX_TEXT_CHARS)).is_ok());
        assert!(DanmakuText::parse(&"a".repeat(MAX_TEXT_CHARS + 1)).is_err());
        assert!(DanmakuText::parse("two\nlines").is_err());
        assert!(DanmakuText::parse("tab\there").is_err());
    }

    #[test]
    fn colours_are_hash_and_six_hex_digits() {
        assert_eq!(DanmakuColor::parse("#FFFFFF").expect("white"), DanmakuColor::WHITE);
        assert_eq!(DanmakuColor::parse("#00a1d6").expect("blue").value(), 0x00A1D6);
        assert_eq!(DanmakuColor::parse("#00a1d6").expect("blue").to_hex(), "#00A1D6");
        assert_eq!(DanmakuColor::from_stored(0).expect("black").to_hex(), "#000000");
        for bad in ["FFFFFF", "#FFF", "#FFFFFFF", "#GGGGGG", "#+FFFFF", "", "#ＦＦＦＦＦＦ"] {
            assert!(DanmakuColor::parse(bad).is_err(), "{bad:?} must be refused");
        }
        assert!(DanmakuColor::from_stored(-1).is_none());
        assert!(DanmakuColor::from_stored(0x100_0000).is_none());
    }

    #[test]
    fn offsets_are_not_negative_and_may_reach_the_end_of_the_video() {
        assert!(OffsetMs::parse(-1).is_err());
        let end = OffsetMs::parse(600_000).expect("valid");
        assert!(end.within(600));
        assert!(!OffsetMs::parse(600_001).expect("valid").within(600));
        assert!(OffsetMs::parse(i32::MAX).expect("valid").within(i32::MAX / 1000 + 1), "no overflow");
    }

    #[test]
    fn windows_are_ordered_at_most_ten_minutes_and_limits_bounded() {
        assert!(PlaybackWindow::parse(0, MAX_WINDOW_MS, 1000).is_ok());
        assert!(PlaybackWindow::parse(0, MAX_WINDOW_MS + 1, 1000).is_err());
        assert!(PlaybackWindow::parse(-1, 1000, 1000).is_err());
        assert!(PlaybackWindow::parse(0, -5, 1000).is_err());
        assert!(PlaybackWindow::parse(5000, 5000, 1000).is_err());
        assert!(PlaybackWindow::parse(5000, 1000, 1000).is_err());
        assert!(PlaybackWindow::parse(0, 1000, 0).is_err());
        assert!(PlaybackWindow::parse(0, 1000, MAX_LIST_LIMIT).is_ok());
        assert!(PlaybackWindow::parse(0, 1000, MAX_LIST_LIMIT + 1).is_err());
        assert!(PlaybackWindow::parse(i32::MAX - 10, i32::MAX, 10).is_ok(), "no overflow");
    }
}
