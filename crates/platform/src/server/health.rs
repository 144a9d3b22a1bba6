//! `/health/live` (the process answers) and `/health/ready` (its backends answer).

use super::ServerState;
use async_graphql::Executor;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

pub(crate) async fn live() -> &'static str {
    "ok"
}

pub(crate) async fn ready<E: Executor>(State(state): State<ServerState<E>>) -> (StatusCode, Json<Value>) {
    let checks = state.deps.check_backends().await;
    let ready = checks.all_ok();
    let status_of = |name: &str, result: &anyhow::Result<()>| match result {
        Ok(()) => "ok",
        Err(error) => {
            tracing::warn!(backend = name, %error, "readiness check failed");
            "unavailable"
        }
    };
    let body = json!({
        "subgraph": state.subgraph,
        "ready": ready,
        "checks": {
            "postgres": status_of("postgres", &checks.postgres),
            "redis": status_of("redis", &checks.redis),
            "nats": status_of("nats", &checks.nats),
        },
    });
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body))
}
