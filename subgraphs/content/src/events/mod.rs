//! What `content` tells others: real-time account changes over core NATS (`users`), account
//! snapshots for other subgraphs' directories (`accounts`) and the catalogue's stat and
//! lifecycle events (`catalogue`), both through the outbox to JetStream; and what
//! it hears: `community`'s follow events, projected for the following feed (`follows`), and
//! `assets`' archive events, projected for `createVideo(assetRef:)` (`assets`).

pub mod accounts;
pub mod assets;
pub mod catalogue;
pub mod follows;
pub mod users;

pub use self::accounts::AccountEvents;
pub use self::catalogue::CatalogueEvents;
pub use self::users::UserEvents;
