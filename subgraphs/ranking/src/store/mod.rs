//! Diesel models and queries of the `ranking` schema, and the Redis sorted sets. Functions take
//! a connection; transactions are opened by the domain services.

/// The `ranking` tables, in `diesel print-schema` form (see `diesel.toml`).
#[rustfmt::skip]
#[expect(missing_docs, reason = "generated code")]
pub mod schema;
pub mod weekstar;
pub mod weekstar_boards;
pub mod weekstar_settlement;
