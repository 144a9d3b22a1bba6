use serde::Deserialize;

/// Limits every subgraph enforces on an operation, whatever the router already checked.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// `VIDGRAPH_LIMITS__MAX_DEPTH`, default 12.
    pub max_depth: usize,
    /// `VIDGRAPH_LIMITS__MAX_COMPLEXITY`, default 2000.
    pub max_complexity: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self { max_depth: 12, max_complexity: 2000 }
    }
}
