//! Diesel models and queries of the `ranking` schema, and the Redis sorted sets. Functions take
//! a connection; transactions are opened by the domain services.
