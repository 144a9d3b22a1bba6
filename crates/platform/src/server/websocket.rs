//! GraphQL subscriptions over WebSocket: `graphql-transport-ws` and the legacy `graphql-ws`.
//!
//! The router sends the client's headers in the `connection_init` payload (lowercase keys), not
//! on the upgrade request, so the token is verified there, once per connection.

use super::ServerState;
use crate::auth::{TokenVerifier, Viewer};
use crate::error::{ApiError, ErrorCode};
use crate::request::{ClientAddr, bearer_token};
use async_graphql::{Data, ErrorExtensions, Executor};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;

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
    let protocol = match GraphQLProtocol::from_request_parts(parts, &state).await {
        Ok(protocol) => protocol,
        Err(rejection) => return rejection.into_response(),
    };
    let verifier = state.deps.verifier.clone();
    let executor = state.executor.clone();
    upgrade
        .protocols(["graphql-transport-ws", "graphql-ws"])
        .on_upgrade(move |socket| {
            GraphQLWebSocket::new(socket, executor, protocol)
                .on_connection_init(move |payload| async move { connection_data(&verifier, &payload, client) })
                .serve()
        })
        .into_response()
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
