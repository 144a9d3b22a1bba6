//! Serving the built web app (`web/dist`, written by `npm run build` in `web/`): its files,
//! `/config.json` (where the app finds the router, decided when it is served, so one build
//! works on any port), and `index.html` for every other path so client-side routes survive a
//! reload.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::TcpListener;

/// What the app reads from `/config.json` before its first request.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The router's GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql`.
    pub graphql_url: String,
    /// The same endpoint for WebSocket subscriptions, e.g. `ws://127.0.0.1:4000/graphql`.
    pub ws_url: String,
}

impl WebConfig {
    /// The router on loopback at `port`.
    pub fn local_router(port: u16) -> WebConfig {
        WebConfig { graphql_url: format!("http://127.0.0.1:{port}/graphql"), ws_url: format!("ws://127.0.0.1:{port}/graphql") }
    }

    fn to_json(&self) -> String {
        serde_json::json!({ "graphqlUrl": self.graphql_url, "wsUrl": self.ws_url }).to_string()
    }
}

struct WebState {
    dist: PathBuf,
    config_json: String,
}

/// The app's routes over the files in `dist`.
pub fn router(dist: PathBuf, config: &WebConfig) -> Router {
    let state = Arc::new(WebState { dist, config_json: config.to_json() });
    Router::new().route("/config.json", axum::routing::get(config_json)).fallback(file).with_state(state)
}

/// Binds `host:port` (0 for a free one) and serves the app until the task is dropped.
/// Returns the bound port.
pub async fn serve(dist: PathBuf, config: &WebConfig, host: &str, port: u16) -> anyhow::Result<(u16, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind((host, port)).await.map_err(|e| anyhow::anyhow!("web app: bind {host}:{port}: {e}"))?;
    let port = listener.local_addr()?.port();
    let app = router(dist, config);
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "web app server stopped");
        }
    });
    Ok((port, task))
}

/// Whether `dist` holds a build (its `index.html`).
pub fn is_built(dist: &Path) -> bool {
    dist.join("index.html").is_file()
}

async fn config_json(State(state): State<Arc<WebState>>) -> Response {
    ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")], state.config_json.clone()).into_response()
}

async fn file(State(state): State<Arc<WebState>>, uri: Uri) -> Response {
    let Some(relative) = safe_relative_path(uri.path()) else {
        return (StatusCode::BAD_REQUEST, "bad path").into_response();
    };
    if !relative.as_os_str().is_empty() {
        let path = state.dist.join(&relative);
        if let Ok(bytes) = tokio::fs::read(&path).await {
            // Vite names everything under assets/ by its content hash: safe to cache for good.
            let cache = if relative.starts_with("assets") { "public, max-age=31536000, immutable" } else { "no-cache" };
            return ([(header::CONTENT_TYPE, content_type(&path)), (header::CACHE_CONTROL, HeaderValue::from_static(cache))], bytes)
                .into_response();
        }
        // A missing file (a stale hashed script, a typo) is a 404, never the HTML page: a
        // browser that gets HTML for a script reports a confusing MIME error instead.
        if relative.extension().is_some() {
            return (StatusCode::NOT_FOUND, "not found").into_response();
        }
    }
    match tokio::fs::read(state.dist.join("index.html")).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "The web app is not built: run ./dev, or `npm ci && npm run build` in web/.",
        )
            .into_response(),
    }
}

/// The request path as a path under `dist`, or `None` when it could leave it (`..`, a
/// backslash, a NUL). Percent-escapes are not decoded: the build's file names need none.
fn safe_relative_path(path: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for segment in path.split('/').filter(|segment| !segment.is_empty()) {
        if segment == "." || segment == ".." || segment.contains(['\\', '\0']) {
            return None;
        }
        out.push(segment);
    }
    Some(out)
}

fn content_type(path: &Path) -> HeaderValue {
    let value = match path.extension().and_then(|ext| ext.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("ttf") => "font/ttf",
        Some("wasm") => "application/wasm",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
    HeaderValue::from_static(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_could_leave_dist_are_refused() {
        assert_eq!(safe_relative_path("/assets/index-abc.js"), Some(PathBuf::from("assets/index-abc.js")));
        assert_eq!(safe_relative_path("/"), Some(PathBuf::new()));
        assert_eq!(safe_relative_path("//video//42"), Some(PathBuf::from("video/42")));
        assert_eq!(safe_relative_path("/../etc/passwd"), None);
        assert_eq!(safe_relative_path("/assets/../../secret"), None);
        assert_eq!(safe_relative_path("/a\\..\\b"), None);
    }

    async fn get(base: &str, path: &str) -> (StatusCode, String, String) {
        let response = reqwest::get(format!("{base}{path}")).await.expect("response");
        let status = StatusCode::from_u16(response.status().as_u16()).expect("status");
        let kind = response.headers().get("content-type").map(|v| v.to_str().unwrap_or("").to_owned()).unwrap_or_default();
        (status, kind, response.text().await.expect("body"))
    }

    #[tokio::test]
    async fn files_config_and_the_spa_fallback_are_served() {
        let dist = std::env::temp_dir().join(format!("vidgraph-web-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(dist.join("assets")).expect("mkdir");
        std::fs::write(dist.join("index.html"), "<!doctype html><div id=root></div>").expect("index");
        std::fs::write(dist.join("assets/app-1.js"), "console.log(1)").expect("js");
        let (port, server) = serve(dist.clone(), &WebConfig::local_router(4321), "127.0.0.1", 0).await.expect("serve");
        let app = format!("http://127.0.0.1:{port}");

        let (status, kind, body) = get(&app, "/config.json").await;
        assert_eq!((status, kind.as_str()), (StatusCode::OK, "application/json"));
        assert_eq!(body, r#"{"graphqlUrl":"http://127.0.0.1:4321/graphql","wsUrl":"ws://127.0.0.1:4321/graphql"}"#);

        let (status, kind, body) = get(&app, "/assets/app-1.js").await;
        assert_eq!((status, kind.as_str(), body.as_str()), (StatusCode::OK, "text/javascript; charset=utf-8", "console.log(1)"));

        // A client-side route gets the page; a missing script does not.
        let (status, kind, body) = get(&app, "/video/42").await;
        assert_eq!((status, kind.as_str()), (StatusCode::OK, "text/html; charset=utf-8"));
        assert!(body.contains("id=root"));
        let (status, _, _) = get(&app, "/assets/gone-2.js").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // Escapes are not decoded, so an escaped `..` names nothing: the page, not the file.
        let (_, _, body) = get(&app, "/assets/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd").await;
        assert!(body.contains("id=root"), "{body}");
        server.abort();
        let _ = std::fs::remove_dir_all(&dist);
    }
}
