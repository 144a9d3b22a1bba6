//! Rules of the content domain: pure types and the services that apply them.

pub mod account;
pub mod catalogue;
pub mod comment;
pub mod danmaku;
pub mod error;
pub mod housekeeping;
pub mod identity;
pub mod interaction;
pub mod password;
pub mod refresh;
pub mod regions;
pub mod upload;
pub mod upload_url;
pub mod video;

pub use self::error::ContentError;
