use serde::Deserialize;

/// Redis settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisConfig {
    /// `VIDGRAPH_REDIS__URL`, default `redis://127.0.0.1:6379`.
    pub url: String,
    /// `VIDGRAPH_REDIS__KEY_PREFIX`: prepended to every key, so tests and deployments can share
    /// one Redis; default `vg:`.
    pub key_prefix: String,
    /// `VIDGRAPH_REDIS__POOL_SIZE`, default 16.
    pub pool_size: u32,
    /// `VIDGRAPH_REDIS__CONNECT_TIMEOUT_MS`: how long a caller waits for a connection when the
    /// pool has none idle, default 1000. Redis answers in well under a millisecond; a longer
    /// wait only delays the degraded answer when it is unreachable.
    pub connect_timeout_ms: u64,
    /// `VIDGRAPH_REDIS__RETRY_AFTER_MS`: after Redis could not be reached, callers are told it
    /// is unavailable without trying for this long, default 1000.
    pub retry_after_ms: u64,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379".into(),
            key_prefix: "vg:".into(),
            pool_size: 16,
            connect_timeout_ms: 1000,
            retry_after_ms: 1000,
        }
    }
}
