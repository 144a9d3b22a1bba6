use crate::request::TrustedProxies;
use serde::Deserialize;

/// The HTTP listener of one subgraph process.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// `VIDGRAPH_HTTP__HOST`, default `127.0.0.1`.
    pub host: String,
    /// `VIDGRAPH_HTTP__PORT`: 0 picks a free port; when unset, `vidgraph serve` uses the
    /// subgraph's well-known port (content 4001 … assets 4005).
    pub port: Option<u16>,
    /// `VIDGRAPH_HTTP__BODY_LIMIT_BYTES`: largest accepted request body, default 1 MiB.
    pub body_limit_bytes: usize,
    /// `VIDGRAPH_HTTP__TRUSTED_PROXIES`: the peers whose `X-Forwarded-For` is believed (the
    /// router, the edge proxy), as CIDR blocks or addresses, e.g. `[10.0.0.0/8, "::1"]`; default
    /// loopback (`[127.0.0.0/8, "::1"]`), where `./dev` runs the router. Any other peer is the
    /// client itself, whatever its headers say. See [`TrustedProxies`] for the whole model.
    pub trusted_proxies: TrustedProxies,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self { host: "127.0.0.1".into(), port: None, body_limit_bytes: 1024 * 1024, trusted_proxies: TrustedProxies::loopback() }
    }
}
