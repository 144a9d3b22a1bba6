//! GraphQL over HTTP: the request pipeline as a straight line of small stages.
//!
//! read the body → authenticate the bearer token → attach per-request data → execute →
//! make sure every error has a code → respond in the media type the client accepts.

use super::{ServerState, websocket};
use crate::auth::{AuthError, Viewer};
use crate::error::{ErrorCode, ensure_error_codes, failed_before_execution};
use crate::request::{RequestHost, RequestId, bearer_token};
use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::OperationType;
use async_graphql::{Executor, ServerError};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use futures::StreamExt;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Instant;
use tracing::Instrument;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json; charset=utf-8";
const APPLICATION_JSON: &str = "application/json; charset=utf-8";

/// `POST /graphql`.
pub(crate) async fn post_graphql<E: Executor>(
    State(state): State<ServerState<E>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let format = ResponseFormat::negotiate(&headers);
    if !has_json_content_type(&headers) {
        return format.request_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Send the request as application/json.");
    }
    let request = match serde_json::from_slice::<async_graphql::Request>(&body) {
        Ok(request) => request,
        Err(error) => return format.request_error(StatusCode::BAD_REQUEST, &format!("Malformed GraphQL request: {error}")),
    };
    execute(&state, peer, &headers, format, request).await
}

/// `GET /graphql`: a WebSocket upgrade, GraphiQL for a browser, or a query in the URL.
pub(crate) async fn get_graphql<E: Executor>(
    State(state): State<ServerState<E>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (mut parts, _body) = request.into_parts();
    if parts.headers.contains_key(header::UPGRADE) {
        return match axum::extract::ws::WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
            Ok(upgrade) => {
                let client = state.deps.config.http.trusted_proxies.client_addr(&parts.headers, peer);
                websocket::serve(state, upgrade, &mut parts, client).await
            }
            Err(rejection) => rejection.into_response(),
        };
    }
    let format = ResponseFormat::negotiate(&parts.headers);
    let query = parts.uri.query().unwrap_or_default();
    if !query.contains("query=") && accepts_html(&parts.headers) {
        return Html(GraphiQLSource::build().endpoint("/graphql").subscription_endpoint("/graphql").finish()).into_response();
    }
    let request = match async_graphql::http::parse_query_string(query) {
        Ok(request) => request,
        Err(error) => return format.request_error(StatusCode::BAD_REQUEST, &format!("Malformed GraphQL request: {error}")),
    };
    if is_mutation(&request) {
        let mut response = format.request_error(StatusCode::METHOD_NOT_ALLOWED, "Mutations must be sent with POST.");
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
        return response;
    }
    execute(&state, peer, &parts.headers, format, request).await
}

/// The shared tail of GET and POST.
async fn execute<E: Executor>(
    state: &ServerState<E>,
    peer: SocketAddr,
    headers: &HeaderMap,
    format: ResponseFormat,
    request: async_graphql::Request,
) -> Response {
    let viewer = match authenticate(state, headers) {
        Ok(viewer) => viewer,
        Err(error) => {
            tracing::info!(%error, "refused access token");
            return format.coded_error(ErrorCode::Unauthenticated, "Your session is invalid or expired; sign in again or refresh.");
        }
    };
    let request_id = RequestId::from_headers(headers);
    let span = tracing::info_span!(
        "graphql",
        subgraph = state.subgraph,
        operation = request.operation_name.as_deref().unwrap_or(""),
        request.id = %request_id.0,
        user.id = viewer.user_id().map(|id| id.to_string()),
    );
    let client = state.deps.config.http.trusted_proxies.client_addr(headers, peer);
    let mut request = request.data(viewer).data(client).data(request_id);
    if let Some(host) = RequestHost::from_headers(headers) {
        request = request.data(host);
    }
    if accepts_event_stream(headers) && is_subscription(&request) {
        return stream_events(state, request);
    }
    let started = Instant::now();
    let mut response = state.executor.execute(request).instrument(span).await;
    ensure_error_codes(&mut response);
    let outcome = if response.errors.is_empty() { "ok" } else { "error" };
    metrics::counter!("graphql_requests_total", "subgraph" => state.subgraph, "outcome" => outcome).increment(1);
    metrics::histogram!("graphql_request_duration_seconds", "subgraph" => state.subgraph).record(started.elapsed().as_secs_f64());
    format.respond(&response)
}

/// Stage: a missing token is anonymous; a present one must verify.
fn authenticate<E>(state: &ServerState<E>, headers: &HeaderMap) -> Result<Viewer, AuthError> {
    let Some(authorization) = headers.get(header::AUTHORIZATION) else {
        return Ok(Viewer::Anonymous);
    };
    let token = authorization.to_str().ok().and_then(bearer_token).ok_or(AuthError::UnknownKey)?;
    state.deps.verifier.verify(token).map(Viewer::User)
}

fn has_json_content_type(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).and_then(|value| value.split(';').next()).is_some_and(|mime| {
        let mime = mime.trim();
        mime.eq_ignore_ascii_case("application/json") || mime.eq_ignore_ascii_case("application/graphql-response+json")
    })
}

/// A subscription over HTTP: GraphQL over SSE in distinct-connections mode (one stream per
/// subscription; an `event: next` per result, then `event: complete`). It is the router's HTTP
/// streaming transport to subgraphs, and what a browser's `EventSource` client speaks. hyper
/// pulls the next event only when the connection has written the previous ones, so a slow
/// reader backs up into the subscription's source (the real-time hub's bounded queue).
fn stream_events<E: Executor>(state: &ServerState<E>, request: async_graphql::Request) -> Response {
    metrics::counter!("graphql_requests_total", "subgraph" => state.subgraph, "outcome" => "stream").increment(1);
    let events = state
        .executor
        .execute_stream(request, None)
        .map(|mut response| {
            ensure_error_codes(&mut response);
            let data = serde_json::to_string(&response)
                .unwrap_or_else(|_| r#"{"errors":[{"message":"Internal server error","extensions":{"code":"INTERNAL"}}]}"#.to_owned());
            Ok::<_, Infallible>(Event::default().event("next").data(data))
        })
        .chain(futures::stream::once(async { Ok(Event::default().event("complete").data("")) }));
    Sse::new(events).keep_alive(KeepAlive::default()).into_response()
}

fn accepts_event_stream(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|value| value.to_str().ok()).is_some_and(|accept| accept.contains("text/event-stream"))
}

fn is_subscription(request: &async_graphql::Request) -> bool {
    selected_operation_is(request, OperationType::Subscription)
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|value| value.to_str().ok()).is_some_and(|accept| accept.contains("text/html"))
}

fn is_mutation(request: &async_graphql::Request) -> bool {
    selected_operation_is(request, OperationType::Mutation)
}

fn selected_operation_is(request: &async_graphql::Request, kind: OperationType) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false; // the executor reports the syntax error
    };
    document.operations.iter().any(|(name, operation)| {
        let selected = match (&request.operation_name, name) {
            (Some(wanted), Some(name)) => wanted.as_str() == name.as_str(),
            (None, _) => true,
            (Some(_), None) => false,
        };
        selected && operation.node.ty == kind
    })
}

/// The media type of the response, chosen from `Accept` (GraphQL over HTTP).
#[derive(Clone, Copy)]
enum ResponseFormat {
    /// `application/graphql-response+json`: request errors get 4xx statuses.
    GraphqlResponseJson,
    /// `application/json`: always 200, for legacy clients.
    Json,
}

impl ResponseFormat {
    fn negotiate(headers: &HeaderMap) -> ResponseFormat {
        let accept = headers.get(header::ACCEPT).and_then(|value| value.to_str().ok()).unwrap_or("");
        let wants_graphql = accept.contains("application/graphql-response+json");
        let wants_json = accept.contains("application/json");
        // Prefer the legacy type when the client lists it first (or only it).
        match (wants_graphql, wants_json) {
            (true, true) if accept.find("application/json") < accept.find("application/graphql-response+json") => ResponseFormat::Json,
            (true, _) => ResponseFormat::GraphqlResponseJson,
            _ => ResponseFormat::Json,
        }
    }

    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            ResponseFormat::GraphqlResponseJson => GRAPHQL_RESPONSE_JSON,
            ResponseFormat::Json => APPLICATION_JSON,
        })
    }

    fn respond(self, response: &async_graphql::Response) -> Response {
        let request_failed = failed_before_execution(response);
        let status = match self {
            ResponseFormat::GraphqlResponseJson if request_failed => StatusCode::BAD_REQUEST,
            _ => StatusCode::OK,
        };
        let mut body = serde_json::to_value(response).unwrap_or_else(
            |_| serde_json::json!({ "errors": [{ "message": "Internal server error", "extensions": { "code": "INTERNAL" } }] }),
        );
        // GraphQL over HTTP: a request that failed before execution has no `data` entry at all.
        if request_failed && let Some(fields) = body.as_object_mut() {
            fields.remove("data");
        }
        let body = serde_json::to_vec(&body).unwrap_or_default();
        (status, [(header::CONTENT_TYPE, self.content_type())], body).into_response()
    }

    /// A request that never reached execution (bad media type, malformed body…).
    fn request_error(self, status: StatusCode, message: &str) -> Response {
        let mut response = self.coded_error(ErrorCode::BadUserInput, message);
        *response.status_mut() = status;
        response
    }

    fn coded_error(self, code: ErrorCode, message: &str) -> Response {
        let mut error = ServerError::new(message, None);
        error.extensions.get_or_insert_with(Default::default).set("code", code.as_str());
        self.respond(&async_graphql::Response::from_errors(vec![error]))
    }
}
