//! The rules (pure, unit-tested) and services (one use case each, owning the transaction) of
//! `live`. Nothing here knows GraphQL.

pub mod config_cache;
pub mod danmaku;
pub mod error;
pub mod gifts;
pub mod medals;
pub mod payments;
pub mod pk;
pub mod pk_service;
pub mod pk_settings;
pub mod presence;
pub mod rooms;
pub mod wallet;

pub use self::error::LiveError;

/// `Result` of a live operation.
pub type LiveResult<T> = Result<T, LiveError>;

/// Parses an opaque `<micros>:<uuid>` keyset cursor.
pub fn decode_time_cursor(cursor: &str) -> LiveResult<(chrono::DateTime<chrono::Utc>, uuid::Uuid)> {
    let bad = || LiveError::invalid("The `after` cursor is not one this API returned.");
    let (micros, id) = cursor.split_once(':').ok_or_else(bad)?;
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    let at = chrono::DateTime::from_timestamp_micros(micros).ok_or_else(bad)?;
    Ok((at, id.parse().map_err(|_| bad())?))
}

/// The cursor of a row at (`at`, `id`).
pub fn encode_time_cursor(at: chrono::DateTime<chrono::Utc>, id: uuid::Uuid) -> String {
    format!("{}:{id}", at.timestamp_micros())
}

/// `first` of a connection: 1–`max`, `default` when absent.
pub fn page_size(first: Option<i32>, default: i64, max: i64) -> LiveResult<i64> {
    let first = first.map_or(default, i64::from);
    if (1..=max).contains(&first) { Ok(first) } else { Err(LiveError::invalid(format!("`first` must be between 1 and {max}."))) }
}
