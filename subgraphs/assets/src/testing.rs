//! A local media server for tests (feature `testkit`): media files of any size with `Range`,
//! throttled and broken bodies, HLS playlists and segments, failure statuses, redirects,
//! HTML pages and absurd sizes, on `127.0.0.1:0`. It counts what it was asked.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The yt-dlp the tests named `test` use: `VIDGRAPH_ASSETS__YTDLP_PATH`, `./test`'s venv
/// (`~/.cache/vidgraph/yt-dlp/bin/yt-dlp`) or `yt-dlp` on `PATH`, the first that runs. When none
/// does, prints `SKIPPED: <test>` and returns `None` — or panics when `VIDGRAPH_REQUIRE_YTDLP=1`
/// (`./test` sets it once it has installed yt-dlp, so a broken install cannot pass as a skip).
pub fn ytdlp_program(test: &str) -> Option<std::path::PathBuf> {
    let mut candidates: Vec<std::path::PathBuf> = Vec::new();
    if let Some(path) = std::env::var_os("VIDGRAPH_ASSETS__YTDLP_PATH").filter(|path| !path.is_empty()) {
        candidates.push(path.into());
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| std::path::PathBuf::from(home).join(".cache")));
    if let Some(cache) = cache {
        candidates.push(cache.join("vidgraph/yt-dlp/bin/yt-dlp"));
    }
    candidates.push("yt-dlp".into());
    let runs = |program: &std::path::PathBuf| {
        std::process::Command::new(program)
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    };
    if let Some(found) = candidates.into_iter().find(runs) {
        return Some(found);
    }
    if std::env::var("VIDGRAPH_REQUIRE_YTDLP").is_ok_and(|value| value == "1") {
        panic!("{test}: VIDGRAPH_REQUIRE_YTDLP=1 but no yt-dlp runs");
    }
    println!("SKIPPED: {test}: yt-dlp is not installed (./test installs it; or `python3 -m pip install --user yt-dlp`)");
    eprintln!("SKIPPED: {test}: yt-dlp is not installed");
    None
}

/// Byte `i` of every generated file.
pub fn byte_at(i: u64) -> u8 {
    ((i.wrapping_mul(31).wrapping_add(7)) % 251) as u8
}

/// The generated file of `size` bytes.
pub fn media_bytes(size: u64) -> Vec<u8> {
    (0..size).map(byte_at).collect()
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// What the server saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// Requests per path.
    pub hits: HashMap<String, u64>,
    /// `Range` headers received, per path.
    pub ranges: HashMap<String, Vec<String>>,
}

/// The running server (stopped on drop).
pub struct MediaServer {
    addr: SocketAddr,
    seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MediaServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FileQuery {
    size: Option<u64>,
    /// Bytes per 50 ms (throttled) when set.
    rate: Option<u64>,
    /// Stop after this many bytes (the connection is cut).
    cut_at: Option<u64>,
    to: Option<String>,
    segments: Option<u64>,
    /// A `GET` answers this status (a `HEAD` still describes the file).
    get_status: Option<u16>,
}

type Shared = Arc<Mutex<Seen>>;

fn note(seen: &Shared, path: &str, headers: &HeaderMap) {
    note_method(seen, None, path, headers);
}

/// Counts the request under its path and, when given, under `<METHOD> <path>` too.
fn note_method(seen: &Shared, method: Option<&Method>, path: &str, headers: &HeaderMap) {
    let mut seen = seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(method) = method {
        *seen.hits.entry(format!("{method} {path}")).or_default() += 1;
    }
    *seen.hits.entry(path.to_owned()).or_default() += 1;
    if let Some(range) = headers.get(header::RANGE).and_then(|value| value.to_str().ok()) {
        seen.ranges.entry(path.to_owned()).or_default().push(range.to_owned());
    }
}

impl MediaServer {
    /// Starts it.
    pub async fn start() -> MediaServer {
        let seen: Shared = Arc::default();
        let router = Router::new()
            .route("/media/{name}", get(media).head(media))
            .route("/status/{code}", get(status).head(status))
            .route("/redirect", get(redirect).head(redirect))
            .route("/page.html", get(page).head(page))
            .route("/watch.html", get(watch).head(watch))
            .route("/huge.mp4", get(huge).head(huge))
            .route("/hls/{name}", get(hls))
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the media server");
        let addr = listener.local_addr().expect("media server address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        MediaServer { addr, seen, task }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Requests to `path` so far (`"GET /media/a.mp4"` counts one method of the media files).
    pub fn hits(&self, path: &str) -> u64 {
        self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).hits.get(path).copied().unwrap_or(0)
    }

    /// `Range` headers sent to `path` so far.
    pub fn ranges(&self, path: &str) -> Vec<String> {
        self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).ranges.get(path).cloned().unwrap_or_default()
    }
}

async fn media(
    State(seen): State<Shared>,
    method: Method,
    Path(name): Path<String>,
    Query(query): Query<FileQuery>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/media/{name}");
    note_method(&seen, Some(&method), &path, &headers);
    if method == Method::GET
        && let Some(status) = query.get_status
    {
        return StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR).into_response();
    }
    let size = query.size.unwrap_or(1024);
    let start = headers
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("bytes="))
        .and_then(|value| value.split('-').next())
        .and_then(|value| value.parse::<u64>().ok())
        .filter(|start| *start < size);
    let from = start.unwrap_or(0);
    let mut response = Response::new(Body::empty());
    *response.status_mut() = if start.is_some() { StatusCode::PARTIAL_CONTENT } else { StatusCode::OK };
    let response_headers = response.headers_mut();
    let content_type = if name.ends_with(".webm") { "video/webm" } else { "video/mp4" };
    response_headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response_headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    response_headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size - from));
    if start.is_some()
        && let Ok(value) = HeaderValue::from_str(&format!("bytes {from}-{}/{size}", size - 1))
    {
        response_headers.insert(header::CONTENT_RANGE, value);
    }
    if method == Method::HEAD {
        return response;
    }
    let (rate, cut_at) = (query.rate, query.cut_at);
    let body = futures::stream::unfold(from, move |at| async move {
        if at >= size || cut_at.is_some_and(|cut| at >= cut) {
            return None;
        }
        let chunk = rate.unwrap_or(64 * 1024).max(1);
        let end = (at + chunk).min(size).min(cut_at.unwrap_or(u64::MAX));
        if rate.is_some() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let bytes: Vec<u8> = (at..end).map(byte_at).collect();
        Some((Ok::<_, std::io::Error>(bytes::Bytes::from(bytes)), end))
    });
    *response.body_mut() = Body::from_stream(body);
    response
}

async fn status(State(seen): State<Shared>, Path(code): Path<u16>, headers: HeaderMap) -> Response {
    note(&seen, &format!("/status/{code}"), &headers);
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR).into_response()
}

async fn redirect(State(seen): State<Shared>, Query(query): Query<FileQuery>, headers: HeaderMap) -> Response {
    note(&seen, "/redirect", &headers);
    let to = query.to.unwrap_or_else(|| "/".into());
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}

async fn page(State(seen): State<Shared>, headers: HeaderMap) -> Response {
    note(&seen, "/page.html", &headers);
    ([(header::CONTENT_TYPE, "text/html")], "<html><body>not a video</body></html>").into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct WatchQuery {
    /// The `<video>`'s source (default `/media/clip.mp4?size=300000`).
    src: Option<String>,
    title: Option<String>,
}

/// A page with one `<video>`, as a site yt-dlp's generic extractor understands serves it.
async fn watch(State(seen): State<Shared>, method: Method, Query(query): Query<WatchQuery>, headers: HeaderMap) -> Response {
    note_method(&seen, Some(&method), "/watch.html", &headers);
    let escape = |text: &str| text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
    let src = escape(query.src.as_deref().unwrap_or("/media/clip.mp4?size=300000"));
    let title = escape(query.title.as_deref().unwrap_or("Holiday clip"));
    let body = format!(
        "<!DOCTYPE html><html><head><title>{title}</title><meta property=\"og:title\" content=\"{title}\"></head>\
         <body><video controls><source src=\"{src}\" type=\"video/mp4\"></video></body></html>"
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

async fn huge(State(seen): State<Shared>, headers: HeaderMap) -> Response {
    note(&seen, "/huge.mp4", &headers);
    let mut response = Response::new(Body::empty());
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("video/mp4"));
    response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(1_u64 << 40));
    response
}

/// `master.m3u8` (two variants), `low.m3u8` / `high.m3u8` (`?segments=`, default 3), `seg<n>.ts`
/// (1000 bytes each, the bytes of the generated file from `n * 1000`).
async fn hls(State(seen): State<Shared>, Path(name): Path<String>, Query(query): Query<FileQuery>, headers: HeaderMap) -> Response {
    note(&seen, &format!("/hls/{name}"), &headers);
    let mpegurl = [(header::CONTENT_TYPE, "application/vnd.apple.mpegurl")];
    let segments = query.segments.unwrap_or(3);
    match name.as_str() {
        "master.m3u8" => (
            mpegurl,
            format!(
                "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=640x360,CODECS=\"avc1.4d401e,mp4a.40.2\"\nlow.m3u8?segments={segments}\n\
                 #EXT-X-STREAM-INF:BANDWIDTH=1200000,RESOLUTION=1280x720\nhigh.m3u8?segments={segments}\n"
            ),
        )
            .into_response(),
        "low.m3u8" | "high.m3u8" => {
            let mut text = String::from("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n");
            for n in 0..segments {
                text.push_str(&format!("#EXTINF:2.0,\nseg{n}.ts\n"));
            }
            text.push_str("#EXT-X-ENDLIST\n");
            (mpegurl, text).into_response()
        }
        "bigseg.m3u8" => (mpegurl, "#EXTM3U\n#EXTINF:2.0,\n/media/big.mp4?size=200000000\n#EXT-X-ENDLIST\n").into_response(),
        "evil.m3u8" => (mpegurl, "#EXTM3U\n#EXTINF:2.0,\nhttp://169.254.169.254/latest/meta-data/seg.ts\n#EXT-X-ENDLIST\n").into_response(),
        segment => match segment.strip_prefix("seg").and_then(|rest| rest.strip_suffix(".ts")).and_then(|n| n.parse::<u64>().ok()) {
            Some(n) => ([(header::CONTENT_TYPE, "video/mp2t")], (n * 1000..(n + 1) * 1000).map(byte_at).collect::<Vec<u8>>()).into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        },
    }
}

/// A fake proxy provider: `GET /proxy` hands out the given proxies in turn (the last one once
/// the list is used up), `POST /report` records failure reports.
pub struct ProxyProvider {
    addr: SocketAddr,
    asked: Arc<Mutex<u64>>,
    reports: Arc<Mutex<Vec<serde_json::Value>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ProxyProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct ProviderState {
    proxies: Arc<Vec<String>>,
    asked: Arc<Mutex<u64>>,
    reports: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl ProxyProvider {
    /// Starts one handing out `proxies`.
    pub async fn start(proxies: Vec<String>) -> ProxyProvider {
        let state = ProviderState { proxies: Arc::new(proxies), asked: Arc::default(), reports: Arc::default() };
        let (asked, reports) = (state.asked.clone(), state.reports.clone());
        let router = Router::new()
            .route(
                "/proxy",
                get(|State(state): State<ProviderState>| async move {
                    let mut asked = state.asked.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    let index = usize::try_from(*asked).unwrap_or(usize::MAX).min(state.proxies.len().saturating_sub(1));
                    *asked += 1;
                    axum::Json(serde_json::json!({ "proxy": state.proxies.get(index) }))
                }),
            )
            .route(
                "/report",
                axum::routing::post(|State(state): State<ProviderState>, axum::Json(body): axum::Json<serde_json::Value>| async move {
                    state.reports.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(body);
                    StatusCode::NO_CONTENT
                }),
            )
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy provider");
        let addr = listener.local_addr().expect("provider address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        ProxyProvider { addr, asked, reports, task }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `GET /proxy` calls so far.
    pub fn asked(&self) -> u64 {
        *self.asked.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reports received so far.
    pub fn reports(&self) -> Vec<serde_json::Value> {
        self.reports.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// A proxy that died: it accepts connections and closes them at once.
pub struct DeadProxy {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DeadProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DeadProxy {
    /// Starts it.
    pub async fn start() -> DeadProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the dead proxy");
        let addr = listener.local_addr().expect("dead proxy address");
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                drop(stream);
            }
        });
        DeadProxy { addr, task }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// A working HTTP forward proxy (the egress proxy, loopback allowed) that counts its
/// connections and records the request line each began with (`CONNECT 127.0.0.1:443 HTTP/1.1`,
/// `GET http://127.0.0.1:8080/a.mp4 HTTP/1.1`). [`CountingProxy::dying_after`] makes one that
/// dies in the middle of a transfer.
pub struct CountingProxy {
    addr: SocketAddr,
    seen: Arc<Mutex<ProxySeen>>,
    task: tokio::task::JoinHandle<()>,
    _inner: crate::fetch::egress::EgressProxy,
}

#[derive(Debug, Default)]
struct ProxySeen {
    connections: u64,
    requests: Vec<String>,
    /// Bytes sent back to its clients.
    sent: u64,
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl CountingProxy {
    /// Starts it.
    pub async fn start() -> CountingProxy {
        CountingProxy::start_with(None).await
    }

    /// Starts one that dies once it has sent `bytes` bytes back to its clients: every
    /// connection it holds is cut there, and it stops listening (later connections are
    /// refused), as a proxy whose process died.
    pub async fn dying_after(bytes: u64) -> CountingProxy {
        CountingProxy::start_with(Some(bytes)).await
    }

    async fn start_with(dies_after: Option<u64>) -> CountingProxy {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let policy = Arc::new(crate::domain::url_policy::UrlPolicy::from_config(&["127.0.0.0/8".to_owned()]).expect("policy"));
        let inner = crate::fetch::egress::EgressProxy::start(policy, crate::fetch::system_lookup(), Duration::from_secs(2))
            .await
            .expect("egress proxy");
        let target: SocketAddr = inner.url().trim_start_matches("http://").parse().expect("proxy address");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the counting proxy");
        let addr = listener.local_addr().expect("counting proxy address");
        let seen: Arc<Mutex<ProxySeen>> = Arc::default();
        let (died, dead) = tokio::sync::watch::channel(false);
        let died = Arc::new(died);
        let recorded = seen.clone();
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let mut waiting = dead.clone();
                let (mut client, _) = tokio::select! {
                    accepted = listener.accept() => match accepted { Ok(accepted) => accepted, Err(_) => break },
                    _ = waiting.wait_for(|dead| *dead) => break,
                };
                recorded.lock().unwrap_or_else(std::sync::PoisonError::into_inner).connections += 1;
                let (seen, died, mut dead) = (recorded.clone(), died.clone(), dead.clone());
                connections.spawn(async move {
                    let relay = async {
                        // The request line, recorded before the bytes go on to the egress proxy.
                        let mut head = Vec::new();
                        let mut chunk = [0_u8; 4096];
                        while !head.windows(2).any(|pair| pair == b"\r\n") {
                            let read = client.read(&mut chunk).await?;
                            if read == 0 {
                                return Ok::<_, std::io::Error>(());
                            }
                            head.extend_from_slice(&chunk[..read]);
                        }
                        let line = String::from_utf8_lossy(&head).lines().next().unwrap_or_default().to_owned();
                        seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).requests.push(line);
                        let mut upstream = tokio::net::TcpStream::connect(target).await?;
                        upstream.write_all(&head).await?;
                        let (mut client_read, mut client_write) = client.split();
                        let (mut upstream_read, mut upstream_write) = upstream.split();
                        let up = tokio::io::copy(&mut client_read, &mut upstream_write);
                        let down = async {
                            let mut buffer = [0_u8; 16 * 1024];
                            loop {
                                let read = upstream_read.read(&mut buffer).await?;
                                if read == 0 {
                                    return client_write.shutdown().await;
                                }
                                client_write.write_all(&buffer[..read]).await?;
                                let sent = {
                                    let mut seen = seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                                    seen.sent += read as u64;
                                    seen.sent
                                };
                                if dies_after.is_some_and(|limit| sent >= limit) {
                                    let _ = died.send(true);
                                    return Ok(());
                                }
                            }
                        };
                        let _ = tokio::join!(up, down);
                        Ok(())
                    };
                    tokio::select! {
                        _ = relay => {}
                        _ = dead.wait_for(|dead| *dead) => {}
                    }
                });
            }
            // Dead: the listener and every connection go.
            connections.shutdown().await;
        });
        CountingProxy { addr, seen, task, _inner: inner }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections it took so far.
    pub fn connections(&self) -> u64 {
        self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).connections
    }

    /// The request lines it was sent so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).requests.clone()
    }
}
