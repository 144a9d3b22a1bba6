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
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self { url: "redis://127.0.0.1:6379".into(), key_prefix: "vg:".into(), pool_size: 16 }
    }
}
