//! `POST /payments/callback`: the payment provider tells us an order was paid.
//!
//! The body is read whole (bounded by the server's body limit) and its HMAC checked before it
//! is parsed. Answers are JSON: `{"status": "credited" | "already_credited"}` with 200, or
//! `{"error": {"code", "message"}}` with 401 (unsigned or bad signature), 400 (not a payment
//! notice, or an amount that differs from the order's), 404 (unknown order), 500.

use crate::domain::payments::SIGNATURE_HEADER;
use crate::domain::wallet::{CallbackError, CallbackOutcome, Wallets};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use platform::error::{DisplayChain, INTERNAL_MESSAGE};
use serde_json::json;

/// The callback route, to merge beside the standard routes.
pub fn routes(wallets: Wallets) -> Router {
    Router::new().route("/payments/callback", post(callback)).with_state(wallets)
}

async fn callback(State(wallets): State<Wallets>, headers: HeaderMap, body: Bytes) -> Response {
    let signature = headers.get(SIGNATURE_HEADER).and_then(|value| value.to_str().ok());
    match wallets.handle_callback(&body, signature).await {
        Ok(CallbackOutcome::Credited(order)) => {
            tracing::info!(order.id = %order.id, amount = order.amount, "recharge credited");
            metrics::counter!("live_recharges_credited_total").increment(1);
            (StatusCode::OK, axum::Json(json!({ "status": "credited", "orderId": order.id }))).into_response()
        }
        Ok(CallbackOutcome::AlreadyCredited(order)) => {
            metrics::counter!("live_recharge_callbacks_replayed_total").increment(1);
            (StatusCode::OK, axum::Json(json!({ "status": "already_credited", "orderId": order.id }))).into_response()
        }
        Err(error) => error_response(&error),
    }
}

fn error_response(error: &CallbackError) -> Response {
    let (status, code) = match error {
        CallbackError::Signature(_) => (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
        CallbackError::Malformed(_) | CallbackError::AmountMismatch => (StatusCode::BAD_REQUEST, "BAD_USER_INPUT"),
        CallbackError::UnknownOrder => (StatusCode::NOT_FOUND, "NOT_FOUND"),
        CallbackError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL"),
    };
    let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(error = %DisplayChain(error), "payment callback failed");
        INTERNAL_MESSAGE.to_owned()
    } else {
        tracing::warn!(%error, "payment callback refused");
        error.to_string()
    };
    (status, axum::Json(json!({ "error": { "code": code, "message": message } }))).into_response()
}
