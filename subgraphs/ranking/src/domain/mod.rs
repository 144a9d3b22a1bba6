//! Rules of the ranking domain: pure types and the services that apply them.

pub mod error;
pub mod hot;
pub mod rankings;
pub mod recommend;
pub mod recompute;
pub mod week;
pub mod weekstar;

pub use self::error::RankingError;
