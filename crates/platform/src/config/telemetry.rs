use serde::Deserialize;

/// Logging output.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// `VIDGRAPH_TELEMETRY__FILTER`: a `tracing` env-filter, default `info`.
    pub filter: String,
    /// `VIDGRAPH_TELEMETRY__FORMAT`: `pretty` or `json`, default `pretty`.
    pub format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, for production log shipping.
    Json,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self { filter: "info".into(), format: LogFormat::Pretty }
    }
}
