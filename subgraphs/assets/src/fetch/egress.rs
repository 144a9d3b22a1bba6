//! The egress proxy: a small HTTP forward proxy on `127.0.0.1:0` that yt-dlp is started with
//! (`--proxy`), so that its connections meet the same URL policy as the built-in fetchers.
//!
//! Every yt-dlp run gets its own proxy (started before, stopped when it is dropped), which
//! tells which refusals belong to which run. A `CONNECT host:port` (https) and an
//! absolute-URI request (`GET http://host/…`, plain http) are each checked like a URL
//! ([`UrlPolicy::check_url`]: metadata host names, literal addresses), then the name is resolved
//! by the proxy itself and only addresses the policy allows are connected to — the check is at
//! connect time, so a name that resolves (or re-resolves) to an internal address is refused
//! whatever yt-dlp resolved before. A refused destination answers `403` and is remembered
//! ([`EgressProxy::refusal`]). A forwarded plain-http request carries `Connection: close`, so
//! one proxied connection only ever talks to the destination that was checked for it.

use super::Lookup;
use crate::domain::url_policy::{PolicyViolation, UrlPolicy};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// Largest request head read from the client.
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Longest wait for a client's request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections one proxy serves at once.
const MAX_CONNECTIONS: usize = 64;
/// Request headers that concern the hop to the proxy, never forwarded.
const HOP_HEADERS: [&str; 5] = ["connection", "proxy-connection", "proxy-authorization", "keep-alive", "te"];

/// What the proxy checks with.
#[derive(Clone)]
struct Guard {
    policy: Arc<UrlPolicy>,
    lookup: Lookup,
    connect_timeout: Duration,
    refused: Arc<Mutex<Vec<PolicyViolation>>>,
}

/// A running egress proxy (stopped, with every connection it holds, on drop).
pub struct EgressProxy {
    addr: SocketAddr,
    refused: Arc<Mutex<Vec<PolicyViolation>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for EgressProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl EgressProxy {
    /// Starts a proxy applying `policy`, resolving names with `lookup`.
    pub async fn start(policy: Arc<UrlPolicy>, lookup: Lookup, connect_timeout: Duration) -> std::io::Result<EgressProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let refused = Arc::new(Mutex::new(Vec::new()));
        let guard = Guard { policy, lookup, connect_timeout, refused: refused.clone() };
        let task = tokio::spawn(async move {
            // The connections live in the accept task's set: aborting it drops them all.
            let mut connections = JoinSet::new();
            loop {
                while connections.try_join_next().is_some() {}
                let stream = match listener.accept().await {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        // Out of descriptors, say: do not spin on it.
                        tracing::warn!(%error, "the egress proxy could not accept a connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                if connections.len() >= MAX_CONNECTIONS {
                    drop(stream);
                    continue;
                }
                let guard = guard.clone();
                connections.spawn(async move {
                    if let Err(error) = serve(stream, &guard).await {
                        tracing::debug!(%error, "egress proxy connection ended with an error");
                    }
                });
            }
        });
        Ok(EgressProxy { addr, refused, task })
    }

    /// `http://127.0.0.1:<port>`, what `--proxy` takes.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The first destination refused so far, if any.
    pub fn refusal(&self) -> Option<PolicyViolation> {
        self.refused.lock().unwrap_or_else(PoisonError::into_inner).first().cloned()
    }
}

/// Where a request goes, once checked.
struct Target {
    host: String,
    port: u16,
    /// For plain http: the request head to send upstream (origin-form, hop headers dropped).
    forward_head: Option<Vec<u8>>,
}

async fn serve(mut client: TcpStream, guard: &Guard) -> std::io::Result<()> {
    let (head, rest) = match tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut client)).await {
        Ok(Ok(Some(parts))) => parts,
        Ok(Ok(None)) => return respond(&mut client, "400 Bad Request").await,
        Ok(Err(error)) => return Err(error),
        Err(_) => return respond(&mut client, "408 Request Timeout").await,
    };
    let target = match parse_target(&head) {
        Ok(target) => target,
        Err(status) => return respond(&mut client, status).await,
    };
    let addrs = match allowed_addrs(guard, &target).await {
        Ok(addrs) => addrs,
        Err(Some(violation)) => {
            tracing::info!(host = %target.host, port = target.port, %violation, "the egress proxy refused a destination");
            guard.refused.lock().unwrap_or_else(PoisonError::into_inner).push(violation);
            return respond(&mut client, "403 Forbidden").await;
        }
        Err(None) => return respond(&mut client, "502 Bad Gateway").await,
    };
    let Some(mut upstream) = connect(&addrs, guard.connect_timeout).await else {
        return respond(&mut client, "502 Bad Gateway").await;
    };
    match &target.forward_head {
        Some(forward) => upstream.write_all(forward).await?,
        None => client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await?,
    }
    upstream.write_all(&rest).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

async fn respond(client: &mut TcpStream, status: &str) -> std::io::Result<()> {
    client.write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes()).await?;
    client.shutdown().await
}

/// Reads up to the end of the request head: (head, bytes after it); `None` for a head that
/// is too long or a client that closed first.
async fn read_head(client: &mut TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut buffer = Vec::with_capacity(2048);
    let mut chunk = [0_u8; 2048];
    loop {
        let read = client.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            let rest = buffer.split_off(end + 4);
            return Ok(String::from_utf8(buffer).ok().map(|head| (head, rest)));
        }
        if buffer.len() > MAX_HEAD_BYTES {
            return Ok(None);
        }
    }
}

/// The destination of a request head, or the status to answer.
fn parse_target(head: &str) -> Result<Target, &'static str> {
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err("400 Bad Request");
    };
    if !version.starts_with("HTTP/1.") {
        return Err("505 HTTP Version Not Supported");
    }
    if method.eq_ignore_ascii_case("CONNECT") {
        let url = reqwest::Url::parse(&format!("https://{target}/")).map_err(|_| "400 Bad Request")?;
        let host = url.host_str().ok_or("400 Bad Request")?.to_owned();
        // `CONNECT host` without a port is not a tunnel request.
        if target.rsplit_once(':').is_none_or(|(_, port)| port.parse::<u16>().is_err()) {
            return Err("400 Bad Request");
        }
        let port = url.port_or_known_default().ok_or("400 Bad Request")?;
        return Ok(Target { host, port, forward_head: None });
    }
    let url = reqwest::Url::parse(target).map_err(|_| "400 Bad Request")?;
    if url.scheme() != "http" {
        // https is tunnelled with CONNECT; anything else is not ours to fetch.
        return Err("400 Bad Request");
    }
    let host = url.host_str().ok_or("400 Bad Request")?.to_owned();
    let port = url.port_or_known_default().ok_or("400 Bad Request")?;
    let mut forward = format!("{method} {}", url.path());
    if let Some(query) = url.query() {
        forward.push('?');
        forward.push_str(query);
    }
    forward.push(' ');
    forward.push_str(version);
    forward.push_str("\r\n");
    for line in lines.filter(|line| !line.is_empty()) {
        let name = line.split(':').next().unwrap_or_default().trim().to_ascii_lowercase();
        if !HOP_HEADERS.contains(&name.as_str()) {
            forward.push_str(line);
            forward.push_str("\r\n");
        }
    }
    forward.push_str("Connection: close\r\n\r\n");
    Ok(Target { host, port, forward_head: Some(forward.into_bytes()) })
}

/// The addresses of `target` the policy allows: `Err(Some)` when it refuses the destination,
/// `Err(None)` when the name does not resolve.
async fn allowed_addrs(guard: &Guard, target: &Target) -> Result<Vec<SocketAddr>, Option<PolicyViolation>> {
    let host_in_url =
        if target.host.contains(':') && !target.host.starts_with('[') { format!("[{}]", target.host) } else { target.host.clone() };
    let url = reqwest::Url::parse(&format!("http://{host_in_url}:{}/", target.port)).map_err(|_| Some(PolicyViolation::Malformed))?;
    guard.policy.check_url(&url).map_err(Some)?;
    let bare = target.host.trim_start_matches('[').trim_end_matches(']');
    let resolved = match bare.parse::<IpAddr>() {
        Ok(addr) => vec![addr],
        Err(_) => (guard.lookup)(bare.to_owned()).await.map_err(|_| None)?,
    };
    let allowed: Vec<SocketAddr> =
        resolved.iter().copied().filter(|addr| guard.policy.allows_ip(*addr)).map(|addr| SocketAddr::new(addr, target.port)).collect();
    if allowed.is_empty() {
        let shown = resolved.first().map_or_else(|| target.host.clone(), ToString::to_string);
        return Err(Some(PolicyViolation::Destination(shown)));
    }
    Ok(allowed)
}

async fn connect(addrs: &[SocketAddr], timeout: Duration) -> Option<TcpStream> {
    for addr in addrs {
        if let Ok(Ok(stream)) = tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            return Some(stream);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_http_request_is_forwarded_in_origin_form_without_hop_headers_and_closes() {
        let head = "GET http://example.com:8080/a/b.mp4?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nProxy-Connection: keep-alive\r\nConnection: keep-alive\r\nRange: bytes=5-\r\n\r\n";
        let target = parse_target(head).expect("target");
        assert_eq!((target.host.as_str(), target.port), ("example.com", 8080));
        let forward = String::from_utf8(target.forward_head.expect("forwarded")).expect("utf-8");
        assert_eq!(forward, "GET /a/b.mp4?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nRange: bytes=5-\r\nConnection: close\r\n\r\n");
    }

    #[test]
    fn connect_needs_a_port_and_other_schemes_are_refused() {
        let tunnel = parse_target("CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n").expect("tunnel");
        assert_eq!((tunnel.host.as_str(), tunnel.port, tunnel.forward_head.is_none()), ("[::1]", 443, true));
        assert!(parse_target("CONNECT example.com HTTP/1.1\r\n\r\n").is_err());
        assert!(parse_target("GET ftp://example.com/a HTTP/1.1\r\n\r\n").is_err());
        assert!(parse_target("GET https://example.com/a HTTP/1.1\r\n\r\n").is_err());
        assert!(parse_target("GET /relative HTTP/1.1\r\n\r\n").is_err());
        assert!(parse_target("garbage\r\n\r\n").is_err());
    }
}
