//! Video metadata rules (parse, don't validate), feed cursors and page sizes.

use super::ContentError;
use super::account::web_url;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: i32 = 100;

/// A position after which the next page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedCursor {
    /// Publication time of the last item seen.
    pub published_at: DateTime<Utc>,
    /// Id of the last item seen (breaks ties).
    pub id: Uuid,
}

impl FeedCursor {
    /// The opaque string form.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.published_at.timestamp_micros(), self.id))
    }

    /// Parses what [`FeedCursor::encode`] produced.
    pub fn decode(cursor: &str) -> Result<FeedCursor, ContentError> {
        let invalid = || ContentError::InvalidInput("The `after` cursor is not one this API returned.".into());
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (micros, id) = text.split_once('|').ok_or_else(invalid)?;
        let micros: i64 = micros.parse().map_err(|_| invalid())?;
        Ok(FeedCursor {
            published_at: DateTime::from_timestamp_micros(micros).ok_or_else(invalid)?,
            id: id.parse().map_err(|_| invalid())?,
        })
    }
}

/// Checks `first` of a connection: 1 to [`MAX_PAGE_SIZE`].
pub fn page_size(first: Option<i32>, default: i32) -> Result<i64, ContentError> {
    let first = first.unwrap_or(default);
    if (1..=MAX_PAGE_SIZE).contains(&first) {
        Ok(i64::from(first))
    } else {
        Err(ContentError::InvalidInput(format!("`first` must be between 1 and {MAX_PAGE_SIZE}.")))
    }
}

fn invalid(message: impl Into<String>) -> ContentError {
    ContentError::InvalidInput(message.into())
}

/// Counts characters, not bytes: limits are what a user sees (a CJK title of 80 characters is
/// 240 bytes).
fn char_len(text: &str) -> usize {
    text.chars().count()
}

/// A title: trimmed, 1–80 characters, one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    /// Longest title.
    pub const MAX_CHARS: usize = 80;

    /// Checks the rule above.
    pub fn parse(raw: &str) -> Result<Title, ContentError> {
        let title = raw.trim();
        if title.is_empty() || char_len(title) > Self::MAX_CHARS || title.chars().any(char::is_control) {
            return Err(invalid(format!("A title is 1 to {} characters on one line.", Self::MAX_CHARS)));
        }
        Ok(Title(title.to_owned()))
    }

    /// The text.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A description: trimmed, at most 2000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    /// Longest description.
    pub const MAX_CHARS: usize = 2000;

    /// Checks the rule above.
    pub fn parse(raw: &str) -> Result<Description, ContentError> {
        let text = raw.trim();
        if char_len(text) > Self::MAX_CHARS {
            return Err(invalid(format!("A description is at most {} characters.", Self::MAX_CHARS)));
        }
        Ok(Description(text.to_owned()))
    }

    /// The text.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Tags: at most 12, each 1–24 characters without spaces, duplicates (ignoring case) dropped,
/// order kept.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tags(Vec<String>);

impl Tags {
    /// Most tags per video.
    pub const MAX_TAGS: usize = 12;
    /// Longest tag.
    pub const MAX_CHARS: usize = 24;

    /// Checks the rule above.
    pub fn parse(raw: &[String]) -> Result<Tags, ContentError> {
        let mut tags: Vec<String> = Vec::new();
        for tag in raw {
            let tag = tag.trim().trim_start_matches('#');
            if tag.is_empty() || char_len(tag) > Self::MAX_CHARS || tag.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(invalid(format!("A tag is 1 to {} characters without spaces.", Self::MAX_CHARS)));
            }
            if !tags.iter().any(|seen| seen.to_lowercase() == tag.to_lowercase()) {
                tags.push(tag.to_owned());
            }
        }
        if tags.len() > Self::MAX_TAGS {
            return Err(invalid(format!("A video has at most {} tags.", Self::MAX_TAGS)));
        }
        Ok(Tags(tags))
    }

    /// The tags.
    pub fn into_inner(self) -> Vec<String> {
        self.0
    }
}

/// Length in seconds: 1 second to 12 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationSecs(i32);

impl DurationSecs {
    /// Longest video.
    pub const MAX: i32 = 12 * 3600;

    /// Checks the rule above.
    pub fn parse(secs: i32) -> Result<DurationSecs, ContentError> {
        if (1..=Self::MAX).contains(&secs) {
            Ok(DurationSecs(secs))
        } else {
            Err(invalid(format!("`durationSecs` must be between 1 and {}.", Self::MAX)))
        }
    }

    /// The seconds.
    pub fn get(self) -> i32 {
        self.0
    }
}

/// A cover image URL.
pub fn cover_url(raw: &str) -> Result<String, ContentError> {
    web_url(raw, "A cover URL")
}

/// Where a video's media comes from: at most one source. A published video needs one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaSource {
    /// A file uploaded to this subgraph (see `createVideoUpload`).
    Upload(Uuid),
    /// Media hosted elsewhere.
    Url(String),
    /// A file of the `assets` subgraph, by its reference.
    Asset(String),
}

impl MediaSource {
    /// At most one of the three inputs; `None` when none is given.
    pub fn parse(upload_id: Option<Uuid>, source_url: Option<&str>, asset_ref: Option<&str>) -> Result<Option<MediaSource>, ContentError> {
        let given = usize::from(upload_id.is_some()) + usize::from(source_url.is_some()) + usize::from(asset_ref.is_some());
        if given > 1 {
            return Err(invalid("Give at most one of `uploadId`, `sourceUrl` and `assetRef`."));
        }
        if let Some(id) = upload_id {
            return Ok(Some(MediaSource::Upload(id)));
        }
        if let Some(url) = source_url {
            return web_url(url, "A source URL").map(|url| Some(MediaSource::Url(url)));
        }
        if let Some(reference) = asset_ref {
            let reference = reference.trim();
            let valid = !reference.is_empty()
                && reference.len() <= 200
                && reference.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '-' | '_' | '.'));
            if !valid {
                return Err(invalid("An asset reference is 1 to 200 characters of letters, digits and `:/-_.`."));
            }
            return Ok(Some(MediaSource::Asset(reference.to_owned())));
        }
        Ok(None)
    }
}

/// The views of one viewer of one video count once per this many seconds.
pub const VIEW_WINDOW_SECS: i32 = 30 * 60;

/// Coins given in one action: 1 or 2.
pub fn coin_count(coins: i32) -> Result<i16, ContentError> {
    match coins {
        1 | 2 => Ok(coins as i16),
        _ => Err(invalid("Give 1 or 2 coins.")),
    }
}

/// A search query: trimmed, 1–100 characters.
pub fn search_text(raw: &str) -> Result<String, ContentError> {
    let text = raw.trim();
    if text.is_empty() || char_len(text) > 100 {
        return Err(invalid("A search query is 1 to 100 characters."));
    }
    Ok(text.to_owned())
}

/// A position in an offset-paged list (search results, whose order has no stable key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetCursor(pub i64);

impl OffsetCursor {
    /// Deepest position a client may page to (search is for finding, not for crawling).
    pub const MAX_OFFSET: i64 = 1000;

    /// The opaque string form.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("offset|{}", self.0))
    }

    /// Parses what [`OffsetCursor::encode`] produced.
    pub fn decode(cursor: &str) -> Result<OffsetCursor, ContentError> {
        let invalid_cursor = || invalid("The `after` cursor is not one this API returned.");
        let text = URL_SAFE_NO_PAD.decode(cursor).ok().and_then(|bytes| String::from_utf8(bytes).ok()).ok_or_else(invalid_cursor)?;
        let offset: i64 = text.strip_prefix("offset|").and_then(|n| n.parse().ok()).ok_or_else(invalid_cursor)?;
        if !(0..=Self::MAX_OFFSET).contains(&offset) {
            return Err(invalid(format!("Search results can be paged up to {} items deep.", Self::MAX_OFFSET)));
        }
        Ok(OffsetCursor(offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_descriptions_and_tags_have_bounds() {
        assert_eq!(Title::parse("  原神 新版本实况  ").expect("valid").into_inner(), "原神 新版本实况");
        assert!(Title::parse("   ").is_err());
        assert!(Title::parse(&"长".repeat(81)).is_err());
        assert!(Title::parse(&"长".repeat(80)).is_ok());
        assert!(Title::parse("two\nlines").is_err());
        assert!(Description::parse(&"x".repeat(2001)).is_err());
        let tags = Tags::parse(&["Rust".into(), "#rust".into(), "异步".into()]).expect("valid");
        assert_eq!(tags.into_inner(), ["Rust", "异步"]);
        assert!(Tags::parse(&["has space".into()]).is_err());
        assert!(Tags::parse(&(0..13).map(|n| format!("t{n}")).collect::<Vec<_>>()).is_err());
    }

    #[test]
    fn media_sources_are_exclusive_and_checked() {
        assert_eq!(MediaSource::parse(None, None, None).expect("none"), None);
        assert!(MediaSource::parse(Some(Uuid::now_v7()), Some("https://x.test/v.mp4"), None).is_err());
        assert!(MediaSource::parse(None, Some("ftp://x.test/v.mp4"), None).is_err());
        assert!(MediaSource::parse(None, None, Some("asset:abc/123")).expect("asset").is_some());
        assert!(MediaSource::parse(None, None, Some("bad ref")).is_err());
    }

    #[test]
    fn coins_durations_and_offsets_are_bounded() {
        assert!(coin_count(0).is_err() && coin_count(3).is_err() && coin_count(2).is_ok());
        assert!(DurationSecs::parse(0).is_err() && DurationSecs::parse(DurationSecs::MAX + 1).is_err());
        assert_eq!(OffsetCursor::decode(&OffsetCursor(40).encode()).expect("cursor"), OffsetCursor(40));
        assert!(OffsetCursor::decode(&OffsetCursor(5000).encode()).is_err());
        assert!(search_text("  ").is_err());
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor = FeedCursor { published_at: DateTime::from_timestamp_micros(1_700_000_000_123_456).expect("time"), id: Uuid::now_v7() };
        assert_eq!(FeedCursor::decode(&cursor.encode()).expect("decode"), cursor);
        assert!(FeedCursor::decode("not-a-cursor").is_err());
        assert!(FeedCursor::decode(&URL_SAFE_NO_PAD.encode("12|nope")).is_err());
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(page_size(None, 20).expect("default"), 20);
        assert!(page_size(Some(0), 20).is_err());
        assert!(page_size(Some(101), 20).is_err());
    }
}
