//! The download centre's rules (pure: URL policy, names, quotas, progress, playlists) and
//! services (one use case each: [`downloads`], the [`worker`], the [`cleanup`] sweep).

pub mod admin;
pub mod breaker;
pub mod cleanup;
pub mod downloads;
pub mod error;
pub mod file_url;
pub mod media;
pub mod names;
pub mod progress;
pub mod quota;
pub mod url_policy;
pub mod worker;

pub use self::error::AssetsError;
