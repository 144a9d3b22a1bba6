//! Rules and services of the community domain. Rules are pure (unit-tested without I/O);
//! services own the transaction and call `store` and `events`.

pub mod audit;
pub mod directory;
pub mod dynamics;
pub mod error;
pub mod follows;
pub mod likes;
pub mod messages;
pub mod moderation;
pub mod notifications;
pub mod paging;
pub mod posts;
pub mod reports;
pub mod rules;
pub mod text_filter;

pub use self::error::CommunityError;
