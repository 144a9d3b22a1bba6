//! Rules of the ranking domain: pure types and the services that apply them.

pub mod error;
pub mod hot;
pub mod rankings;
pub mod recompute;

pub use self::error::RankingError;
