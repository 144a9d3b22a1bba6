//! `GET /files/{task_id}?user=…&expires=…&signature=…`: a finished download's file, at the
//! signed URL `Download.fileUrl` returned to its owner.
//!
//! Refused with 403 when the signature is missing, tampered or expired; 404 when the task is
//! not that user's finished, undeleted download. Supports one `Range` (`bytes=a-b`, `a-`,
//! `-n`: 206 with `Content-Range`; 416 when unsatisfiable), sends the stored content type and
//! an `attachment` `Content-Disposition` with the file name, and streams the file.

use crate::domain::downloads::DownloadCentre;
use crate::store::downloads;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use uuid::Uuid;

/// Bytes read per chunk of the body.
const CHUNK: usize = 256 * 1024;

/// The file route, to merge beside the standard routes.
pub fn routes(centre: DownloadCentre) -> Router {
    Router::new().route("/files/{id}", get(get_file)).with_state(centre)
}

/// The signed query string (garbled values fail the signature check).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SignedQuery {
    user: Option<String>,
    expires: Option<String>,
    signature: Option<String>,
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    (status, axum::Json(json!({ "error": { "code": code, "message": message } }))).into_response()
}

/// A `Range` the file cannot satisfy (416).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsatisfiable;

/// A `Range` header against a file of `len` bytes (a rule): `Ok(None)` serves the whole file
/// (no header, or a form we do not serve, such as several ranges).
pub fn parse_range(header: Option<&str>, len: u64) -> Result<Option<(u64, u64)>, Unsatisfiable> {
    let Some(spec) = header.and_then(|value| value.trim().strip_prefix("bytes=")) else { return Ok(None) };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((start, end)) = spec.split_once('-') else { return Ok(None) };
    let (start, end) = (start.trim(), end.trim());
    let range = match (start.is_empty(), end.is_empty()) {
        // The last `n` bytes.
        (true, false) => {
            let n: u64 = end.parse().map_err(|_| Unsatisfiable)?;
            if n == 0 || len == 0 {
                return Err(Unsatisfiable);
            }
            (len.saturating_sub(n), len - 1)
        }
        (false, _) => {
            let start: u64 = start.parse().map_err(|_| Unsatisfiable)?;
            let end: u64 = if end.is_empty() {
                len.saturating_sub(1)
            } else {
                end.parse::<u64>().map_err(|_| Unsatisfiable)?.min(len.saturating_sub(1))
            };
            if start >= len || end < start {
                return Err(Unsatisfiable);
            }
            (start, end)
        }
        (true, true) => return Ok(None),
    };
    Ok(Some(range))
}

/// `attachment; filename="<ascii>"; filename*=UTF-8''<percent-encoded>`.
fn disposition(name: &str) -> HeaderValue {
    let ascii: String = name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let encoded: String = name
        .bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

async fn get_file(
    State(centre): State<DownloadCentre>,
    Path(id): Path<String>,
    query: Result<Query<SignedQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let Ok(task_id) = id.parse::<Uuid>() else { return refuse(StatusCode::NOT_FOUND, "NOT_FOUND", "No such file.") };
    let Query(query) = query.unwrap_or_default();
    let inner = centre.inner();
    let signed = (|| {
        let user_id = query.user.as_deref()?.parse::<Uuid>().ok()?;
        let expires = query.expires.as_deref()?.parse::<i64>().ok()?;
        Some((user_id, expires, query.signature.as_deref()?))
    })();
    let Some((user_id, expires, signature)) = signed else {
        return refuse(StatusCode::FORBIDDEN, "FORBIDDEN", "The file URL's signature is invalid.");
    };
    if let Err(error) = inner.signer.verify(task_id, user_id, expires, signature, inner.clock.now()) {
        return refuse(StatusCode::FORBIDDEN, "FORBIDDEN", &format!("{}.", capitalised(&error.to_string())));
    }
    let row = match inner.db.pool.get().await {
        Ok(mut conn) => downloads::find(&mut conn, task_id).await,
        Err(error) => {
            tracing::error!(%error, "file route: no database connection");
            return refuse(StatusCode::SERVICE_UNAVAILABLE, "INTERNAL", platform::error::INTERNAL_MESSAGE);
        }
    };
    let row = match row {
        Ok(Some(row)) if row.user_id == user_id && row.status == downloads::COMPLETED && row.deleted_at.is_none() => row,
        Ok(_) => return refuse(StatusCode::NOT_FOUND, "NOT_FOUND", "No such file."),
        Err(error) => {
            tracing::error!(%error, "file route: could not read the task");
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", platform::error::INTERNAL_MESSAGE);
        }
    };
    let Some(path) = row.file_path.as_deref().and_then(|path| inner.storage.resolve(path)) else {
        return refuse(StatusCode::NOT_FOUND, "NOT_FOUND", "No such file.");
    };
    let mut file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(error) => {
            tracing::warn!(task.id = %task_id, %error, "a finished download's file is missing");
            return refuse(StatusCode::NOT_FOUND, "NOT_FOUND", "No such file.");
        }
    };
    let len = match file.metadata().await {
        Ok(metadata) => metadata.len(),
        Err(_) => return refuse(StatusCode::NOT_FOUND, "NOT_FOUND", "No such file."),
    };
    let range = parse_range(headers.get(header::RANGE).and_then(|value| value.to_str().ok()), len);
    let (status, start, end) = match range {
        Ok(Some((start, end))) => (StatusCode::PARTIAL_CONTENT, start, end),
        Ok(None) => (StatusCode::OK, 0, len.saturating_sub(1)),
        Err(Unsatisfiable) => {
            let mut response = refuse(StatusCode::RANGE_NOT_SATISFIABLE, "BAD_USER_INPUT", "The range is outside the file.");
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{len}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return response;
        }
    };
    let length = if len == 0 { 0 } else { end - start + 1 };
    if start > 0 && file.seek(std::io::SeekFrom::Start(start)).await.is_err() {
        return refuse(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", platform::error::INTERNAL_MESSAGE);
    }
    let body = futures::stream::unfold((file, length), |(mut file, left)| async move {
        if left == 0 {
            return None;
        }
        let mut buffer = vec![0_u8; CHUNK.min(usize::try_from(left).unwrap_or(CHUNK))];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(read) => {
                buffer.truncate(read);
                Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buffer)), (file, left - read as u64)))
            }
            Err(error) => Some((Err(error), (file, 0))),
        }
    });
    let mut response = Response::new(Body::from_stream(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    let content_type = row.content_type.as_deref().unwrap_or("application/octet-stream");
    headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(header::CONTENT_DISPOSITION, disposition(row.file_name.as_deref().unwrap_or("download")));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(value) = HeaderValue::from_str(&format!("bytes {start}-{end}/{len}"))
    {
        headers.insert(header::CONTENT_RANGE, value);
    }
    metrics::counter!("assets_file_requests_total", "status" => status.as_str().to_owned()).increment(1);
    response
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_clamped_and_refused_when_unsatisfiable() {
        assert_eq!(parse_range(None, 100), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Ok(Some((0, 9))));
        assert_eq!(parse_range(Some("bytes=90-"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(Some("bytes=-500"), 100), Ok(Some((0, 99))));
        assert_eq!(parse_range(Some("bytes=50-5000"), 100), Ok(Some((50, 99))));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Err(Unsatisfiable));
        assert_eq!(parse_range(Some("bytes=9-3"), 100), Err(Unsatisfiable));
        assert_eq!(parse_range(Some("bytes=x-3"), 100), Err(Unsatisfiable));
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Ok(None));
        assert_eq!(parse_range(Some("items=0-1"), 100), Ok(None));
    }

    #[test]
    fn the_disposition_names_the_file_safely() {
        let value = disposition("clip \"x\" é.mp4");
        let text = value.to_str().expect("ascii header");
        assert!(text.starts_with("attachment; filename=\"clip _x_ _.mp4\"; filename*=UTF-8''clip%20%22x%22%20%C3%A9.mp4"), "{text}");
    }
}
