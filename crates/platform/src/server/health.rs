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
    let redis_optional = state.redis_optional.load(std::sync::atomic::Ordering::Relaxed);
    // Postgres holds the truth and NATS carries every write's events: without either a replica
    // cannot serve. Redis only holds what can be rebuilt; a subgraph that degrades without it
    // stays ready and says so.
    let ready = checks.postgres.is_ok() && checks.nats.is_ok() && (checks.redis.is_ok() || redis_optional);
    let status_of = |name: &str, result: &anyhow::Result<()>, optional: bool| match result {
        Ok(()) => "ok",
        Err(error) => {
            tracing::warn!(backend = name, %error, "readiness check failed");
            if optional { "degraded" } else { "unavailable" }
        }
    };
    let body = json!({
        "subgraph": state.subgraph,
        "ready": ready,
        "checks": {
            "postgres": status_of("postgres", &checks.postgres, false),
            "redis": status_of("redis", &checks.redis, redis_optional),
            "nats": status_of("nats", &checks.nats, false),
        },
    });
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body))
}
