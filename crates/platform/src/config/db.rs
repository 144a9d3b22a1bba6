use secrecy::SecretString;
use serde::Deserialize;

/// PostgreSQL connection pool settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DbConfig {
    /// `VIDGRAPH_DB__URL`, default `postgres://postgres@127.0.0.1:5432/vidgraph`.
    pub url: SecretString,
    /// `VIDGRAPH_DB__POOL_SIZE`: connections per process, default 16.
    pub pool_size: u32,
    /// `VIDGRAPH_DB__CONNECT_TIMEOUT_MS`: how long a request waits for a pooled connection, default 5000.
    pub connect_timeout_ms: u64,
    /// `VIDGRAPH_DB__STATEMENT_TIMEOUT_MS`: server-side cap on one statement (0: none), default 10000.
    pub statement_timeout_ms: u64,
}

impl Default for DbConfig {
    fn default() -> Self {
        Self {
            url: SecretString::from("postgres://postgres@127.0.0.1:5432/vidgraph"),
            pool_size: 16,
            connect_timeout_ms: 5_000,
            statement_timeout_ms: 10_000,
        }
    }
}
