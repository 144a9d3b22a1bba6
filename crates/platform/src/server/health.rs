//! `/health/live` (the process answers) and `/health/ready` (its backends answer).

use super::ServerState;
use async_graphql::Executor;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub(crate) async fn live() -> &'static str {
    "ok"
}

pub(crate) async fn ready<E: Executor>(State(state): State<ServerState<E>>) -> (StatusCode, Json<Value>) {
    let deps = &state.deps;
    let (postgres, redis) = tokio::join!(
        tokio::time::timeout(PROBE_TIMEOUT, deps.db.ping()),
        tokio::time::timeout(PROBE_TIMEOUT, deps.redis.ping()),
    );
    let checks = [
        ("postgres", postgres.unwrap_or_else(|_| Err(anyhow::anyhow!("timed out")))),
        ("redis", redis.unwrap_or_else(|_| Err(anyhow::anyhow!("timed out")))),
        ("nats", deps.nats.ping()),
    ];
    let ready = checks.iter().all(|(_, result)| result.is_ok());
    let body: serde_json::Map<String, Value> = checks
        .into_iter()
        .map(|(name, result)| {
            let status = match result {
                Ok(()) => "ok".to_owned(),
                Err(error) => {
                    tracing::warn!(backend = name, %error, "readiness check failed");
                    "unavailable".to_owned()
                }
            };
            (name.to_owned(), Value::String(status))
        })
        .collect();
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(json!({ "subgraph": state.subgraph, "ready": ready, "checks": body })))
}
