//! GraphQL subscriptions over WebSocket: `graphql-transport-ws` and the legacy `graphql-ws`.
//!
//! The router sends the client's headers in the `connection_init` payload (lowercase keys), not
//! on the upgrade request, so the token is verified there, once per connection.

use super::{ServerState, ws_session};
use crate::auth::{TokenVerifier, Viewer};
use crate::error::{ApiError, ErrorCode};
use crate::request::{ClientAddr, bearer_token};
use async_graphql::http::WebSocketProtocols;
use async_graphql::{Data, ErrorExtensions, Executor};
use axum::extract::ConnectInfo;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

/// Bytes read from the socket at a time: client messages are small (`subscribe`, `ping`), and a
/// larger one grows the buffer as it needs. Kept small because tungstenite zero-fills this much
/// of the buffer on every read attempt, and the session polls its input once per event it
/// sends: at 8 KiB, 5,000 one-subscription connections at 10 events/s zero-filled ~1 GB/s
/// (memset was `content`'s hottest symbol in bench/subscriptions.sh's profile, issue 13) and
/// kept 8 KiB resident per connection.
const READ_BUFFER_BYTES: usize = 1024;
/// Bytes gathered before a write (a flush after each batch writes whatever is gathered).
const WRITE_BUFFER_BYTES: usize = 32 * 1024;

/// `GET /ws`.
pub(crate) async fn upgrade<E: Executor>(
    State(state): State<ServerState<E>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    upgrade: WebSocketUpgrade,
    mut parts: Parts,
) -> Response {
    let client = state.deps.config.http.trusted_proxies.client_addr(&parts.headers, peer);
    serve(state, upgrade, &mut parts, client).await
}

/// Accepts the upgrade with the protocol the client asked for; `client` (from the upgrade
/// request) is attached to every operation of the connection.
pub(crate) async fn serve<E: Executor>(
    state: ServerState<E>,
    upgrade: WebSocketUpgrade,
    parts: &mut Parts,
    client: ClientAddr,
) -> Response {
    let Some(protocol) = negotiate_protocol(parts) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let verifier = state.deps.verifier.clone();
    let executor = state.executor.clone();
    upgrade
        .protocols(["graphql-transport-ws", "graphql-ws"])
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .on_upgrade(move |socket| {
            let (sink, input) = socket.split();
            let on_init = move |payload: serde_json::Value| async move { connection_data(&verifier, &payload, client) };
            ws_session::run(sink, input, executor, protocol, on_init, Arc::default())
        })
        .into_response()
}

/// The first subprotocol the client offers that we speak.
fn negotiate_protocol(parts: &Parts) -> Option<WebSocketProtocols> {
    let offered = parts.headers.get(header::SEC_WEBSOCKET_PROTOCOL)?.to_str().ok()?;
    offered.split(',').find_map(|protocol| WebSocketProtocols::from_str(protocol.trim()).ok())
}

/// Verifies the token of the `connection_init` payload; no token means anonymous.
fn connection_data(verifier: &Arc<TokenVerifier>, payload: &serde_json::Value, client: ClientAddr) -> async_graphql::Result<Data> {
    let mut data = Data::default();
    let authorization = payload
        .as_object()
        .and_then(|fields| fields.iter().find(|(key, _)| key.eq_ignore_ascii_case("authorization")).and_then(|(_, value)| value.as_str()));
    let viewer = match authorization {
        None => Viewer::Anonymous,
        Some(value) => {
            let token = bearer_token(value).unwrap_or(value);
            match verifier.verify(token) {
                Ok(user) => Viewer::User(user),
                Err(error) => {
                    tracing::info!(%error, "refused access token on websocket");
                    return Err(ApiError::new(ErrorCode::Unauthenticated, "Your session is invalid or expired.").extend());
                }
            }
        }
    };
    data.insert(viewer);
    data.insert(client);
    Ok(data)
}
