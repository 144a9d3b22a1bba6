use serde::Deserialize;

/// NATS settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NatsConfig {
    /// `VIDGRAPH_NATS__URL`, default `nats://127.0.0.1:4222`.
    pub url: String,
    /// `VIDGRAPH_NATS__SUBJECT_PREFIX`: prepended to every subject and stream name, so parallel
    /// tests (and deployments) sharing one server never see each other's messages; default `vg`.
    pub subject_prefix: String,
    /// `VIDGRAPH_NATS__RETRY_INITIAL_MS`: first pause of a durable consumer after a transient
    /// failure (backend down); it doubles on each further failure; default 1000.
    pub retry_initial_ms: u64,
    /// `VIDGRAPH_NATS__RETRY_MAX_MS`: longest pause between retries of a failing message (the
    /// probe interval while a backend stays down); default 30000.
    pub retry_max_ms: u64,
    /// `VIDGRAPH_NATS__REALTIME_QUEUE`: real-time messages queued per local subscriber before
    /// the newest are dropped for it (see `platform::realtime`); default 32.
    pub realtime_queue: usize,
}

impl Default for NatsConfig {
    fn default() -> Self {
        Self {
            url: "nats://127.0.0.1:4222".into(),
            subject_prefix: "vg".into(),
            retry_initial_ms: 1_000,
            retry_max_ms: 30_000,
            realtime_queue: 32,
        }
    }
}
