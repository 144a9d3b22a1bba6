use serde::Deserialize;

/// The ranking subgraph's jobs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RankingConfig {
    /// `VIDGRAPH_RANKING__RECOMPUTE_INTERVAL_SECS`: how often the full recompute of the hot
    /// rankings runs (it also runs when Redis lost them, when the weights change, and on an
    /// admin's request); default 3600.
    pub recompute_interval_secs: u64,
    /// `VIDGRAPH_RANKING__RECOMPUTE_BATCH_SIZE`: videos per batch (and per checkpoint) of the
    /// recompute; default 5000.
    pub recompute_batch_size: i64,
}

impl Default for RankingConfig {
    fn default() -> Self {
        Self { recompute_interval_secs: 3600, recompute_batch_size: 5000 }
    }
}
