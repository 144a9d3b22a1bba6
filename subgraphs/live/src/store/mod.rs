//! PostgreSQL access of `live` (its own schema only). Statements are SQL written out with typed
//! binds: the multi-row invariants here live in conditional updates and `ON CONFLICT` clauses
//! that read best as the SQL they are. Every function runs on the caller's connection, so a
//! domain service decides what shares a transaction.

pub mod channels;
pub mod gifts;
pub mod medals;
pub mod mutes;
pub mod pk;
pub mod rooms;
pub mod wallet;
