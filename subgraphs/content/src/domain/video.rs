//! Feed cursors: an opaque, stable position in `(published_at DESC, id DESC)` order.

use super::ContentError;
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

#[cfg(test)]
mod tests {
    use super::*;

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
