//! Logging and Prometheus metrics, installed once per process.

use crate::config::{LogFormat, TelemetryConfig};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use tracing_subscriber::EnvFilter;

/// Installs the global `tracing` subscriber (a second call is a no-op, so tests may call it).
pub fn init(config: &TelemetryConfig) {
    let filter = EnvFilter::try_new(&config.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _already_installed = match config.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}

/// The process-wide Prometheus recorder (the `metrics` facade allows only one).
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder is installed; metrics then go there instead.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// How often [`run_upkeep`] runs: the exporter's own default when it installs itself.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Folds the recorder's buffered histogram samples into its summaries every few seconds.
/// Without it every sample is kept until `/metrics` is scraped, so a process nobody scrapes
/// grows by one `f64` per request for as long as it runs. Runs until the task is dropped.
pub async fn run_upkeep() {
    let mut ticker = tokio::time::interval(UPKEEP_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticker.tick().await;
        metrics_handle().run_upkeep();
    }
}

/// `GET /metrics`.
pub(crate) async fn render_metrics() -> String {
    metrics_handle().render()
}
