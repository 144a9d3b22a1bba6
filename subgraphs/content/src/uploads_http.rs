//! `PUT /uploads/{id}?expires=…&signature=…`: the plain-HTTP route a client sends a video
//! file to, at the signed URL `createVideoUpload` returned.
//!
//! The body is streamed to storage (never buffered whole), so axum's default body limit is
//! off on this route and the upload's own cap is enforced while streaming. The handler always
//! answers JSON: `{id, sizeBytes, sha256}` with 201 on success, otherwise
//! `{"error": {"code", "message"}}` with the same codes as GraphQL errors. (axum's router still
//! answers a wrong method with a bare 405.)

use crate::domain::upload::{IncomingFile, ReceiveError, Uploads};
use crate::store::uploads::Upload;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use futures::{StreamExt, TryStreamExt};
use platform::error::{CodedError, DisplayChain, ErrorCode, INTERNAL_MESSAGE};
use platform::request::TrustedProxies;
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;
use tracing::Instrument;

/// What the route needs: the service, and whose forwarding headers to believe (this route is
/// reached through the edge proxy, never through the router).
#[derive(Clone)]
struct RouteState {
    uploads: Uploads,
    trusted_proxies: TrustedProxies,
}

/// The upload route, to merge beside the standard routes; `trusted_proxies` is
/// `http.trusted_proxies`.
pub fn routes(uploads: Uploads, trusted_proxies: TrustedProxies) -> Router {
    Router::new()
        .route("/uploads/{id}", put(put_upload))
        // The body is streamed and capped per upload; the server-wide 1 MiB limit (meant for
        // GraphQL documents) does not apply here.
        .layer(DefaultBodyLimit::disable())
        .with_state(RouteState { uploads, trusted_proxies })
}

/// The signed query string. Missing or garbled values fail the signature check (403), not
/// the extractor (which would answer a plain-text 400).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SignedQuery {
    expires: Option<String>,
    signature: Option<String>,
}

async fn put_upload(
    State(RouteState { uploads, trusted_proxies }): State<RouteState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    query: Result<Query<SignedQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let client = trusted_proxies.client_addr(&headers, peer);
    let span = tracing::info_span!("upload_put", upload.id = %id, client.addr = %client.0);
    async move {
        // Not an id this API issues: no such upload.
        let Ok(id) = id.parse::<uuid::Uuid>() else { return error_response(&ReceiveError::NotFound) };
        let Query(query) = query.unwrap_or_default();
        let file = IncomingFile {
            id,
            expires: query.expires.as_deref().and_then(|expires| expires.parse().ok()),
            signature: query.signature.as_deref(),
            content_type: headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()),
            content_length: headers.get(header::CONTENT_LENGTH).and_then(|value| value.to_str().ok()).and_then(|value| value.parse().ok()),
            body: body.into_data_stream().map_err(std::io::Error::other).boxed(),
        };
        match uploads.receive(file, chrono::Utc::now()).await {
            Ok(upload) => stored_response(&upload),
            Err(error) => error_response(&error),
        }
    }
    .instrument(span)
    .await
}

fn stored_response(upload: &Upload) -> Response {
    let body = json!({ "id": upload.id, "sizeBytes": upload.size_bytes, "sha256": upload.sha256 });
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

fn status(error: &ReceiveError) -> StatusCode {
    match error {
        ReceiveError::BadSignature(_) => StatusCode::FORBIDDEN,
        ReceiveError::NotFound => StatusCode::NOT_FOUND,
        ReceiveError::AlreadyUploaded | ReceiveError::Busy => StatusCode::CONFLICT,
        ReceiveError::TimedOut { .. } => StatusCode::REQUEST_TIMEOUT,
        ReceiveError::WrongContentType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ReceiveError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        ReceiveError::Empty | ReceiveError::Interrupted => StatusCode::BAD_REQUEST,
        ReceiveError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The JSON error; internal causes are logged here, once, and masked.
fn error_response(error: &ReceiveError) -> Response {
    let code = error.code();
    let message = if code == ErrorCode::Internal {
        tracing::error!(error = %DisplayChain(error), "upload failed");
        INTERNAL_MESSAGE.to_owned()
    } else {
        tracing::info!(code = code.as_str(), error = %error, "upload refused");
        error.to_string()
    };
    let body = json!({ "error": { "code": code.as_str(), "message": message } });
    (status(error), axum::Json(body)).into_response()
}
