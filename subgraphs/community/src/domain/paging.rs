//! Relay cursors of community's lists: a position (time, id) in a newest-first keyset order.

use super::CommunityError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Longest page of any list.
pub const MAX_PAGE_SIZE: i32 = 100;
/// Page size when `first` is not given.
pub const DEFAULT_PAGE_SIZE: i32 = 20;

/// Checks `first` of a connection: 1 to [`MAX_PAGE_SIZE`] (default [`DEFAULT_PAGE_SIZE`]).
pub fn page_size(first: Option<i32>) -> Result<i64, CommunityError> {
    let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
    if (1..=MAX_PAGE_SIZE).contains(&first) {
        Ok(i64::from(first))
    } else {
        Err(CommunityError::invalid(format!("`first` must be between 1 and {MAX_PAGE_SIZE}.")))
    }
}

/// The position of the last item seen: its time and id (which breaks ties).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The item's time in the list's order.
    pub at: DateTime<Utc>,
    /// The item's id.
    pub id: Uuid,
}

impl Cursor {
    /// The opaque string form.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.at.timestamp_micros(), self.id))
    }

    /// Parses what [`Cursor::encode`] produced.
    pub fn decode(cursor: &str) -> Result<Cursor, CommunityError> {
        let invalid = || CommunityError::invalid("The `after` cursor is not one this API returned.");
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (micros, id) = text.split_once('|').ok_or_else(invalid)?;
        let micros: i64 = micros.parse().map_err(|_| invalid())?;
        Ok(Cursor { at: DateTime::from_timestamp_micros(micros).ok_or_else(invalid)?, id: id.parse().map_err(|_| invalid())? })
    }

    /// Parses an optional `after` argument.
    pub fn decode_after(after: Option<&str>) -> Result<Option<Cursor>, CommunityError> {
        after.map(Cursor::decode).transpose()
    }
}

/// A position in a keyset order: a number (a time in microseconds, a score) and an id.
pub type Position = (i64, Uuid);

/// The opaque cursor of a position (the same form as [`Cursor`]).
pub fn encode_position((key, id): Position) -> String {
    URL_SAFE_NO_PAD.encode(format!("{key}|{id}"))
}

/// Parses an optional `after` argument made by [`encode_position`].
pub fn decode_position(after: Option<&str>) -> Result<Option<Position>, CommunityError> {
    let Some(after) = after else { return Ok(None) };
    let invalid = || CommunityError::invalid("The `after` cursor is not one this API returned.");
    let bytes = URL_SAFE_NO_PAD.decode(after).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (key, id) = text.split_once('|').ok_or_else(invalid)?;
    Ok(Some((key.parse().map_err(|_| invalid())?, id.parse().map_err(|_| invalid())?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_bad_input() {
        let cursor = Cursor { at: DateTime::from_timestamp_micros(1_700_000_000_123_456).expect("time"), id: Uuid::now_v7() };
        assert_eq!(Cursor::decode(&cursor.encode()).expect("decode"), cursor);
        for garbage in ["", "not-a-cursor", &URL_SAFE_NO_PAD.encode("12|nope"), &URL_SAFE_NO_PAD.encode("x|y")] {
            assert!(matches!(Cursor::decode(garbage), Err(CommunityError::InvalidInput(_))), "{garbage}");
        }
    }

    #[test]
    fn positions_round_trip() {
        let position = (-42, Uuid::now_v7());
        assert_eq!(decode_position(Some(&encode_position(position))).expect("decode"), Some(position));
        assert!(decode_position(Some("nope")).is_err());
        assert_eq!(decode_position(None).expect("none"), None);
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(page_size(None).expect("default"), 20);
        assert_eq!(page_size(Some(100)).expect("max"), 100);
        for bad in [0, -1, 101, i32::MAX] {
            assert!(page_size(Some(bad)).is_err(), "{bad}");
        }
    }
}
