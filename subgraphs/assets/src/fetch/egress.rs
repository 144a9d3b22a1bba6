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
//!
//! When a download proxy is in effect (`assets.proxy_url`, or one from the provider), the
//! egress proxy chains to it ([`EgressProxy::start_chained`]): after the check, a tunnel is a
//! `CONNECT` through the download proxy and a plain-http request is forwarded to it in absolute
//! form. The download proxy is given the checked *address*, never the name (see [`chain`]).
//! A download proxy that cannot be reached, or refuses a tunnel, is remembered
//! ([`EgressProxy::upstream_failure`]) so the run fails as the proxy's fault.

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
    upstream: Option<Arc<Upstream>>,
    upstream_failures: Arc<Mutex<Vec<String>>>,
}

/// The download proxy the egress proxy chains to.
struct Upstream {
    url: reqwest::Url,
    /// `Proxy-Authorization` for it, from the URL's user and password.
    authorization: Option<String>,
}

/// A running egress proxy (stopped, with every connection it holds, on drop).
pub struct EgressProxy {
    addr: SocketAddr,
    refused: Arc<Mutex<Vec<PolicyViolation>>>,
    upstream_failures: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for EgressProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl EgressProxy {
    /// Starts a proxy applying `policy`, resolving names with `lookup`, connecting directly.
    pub async fn start(policy: Arc<UrlPolicy>, lookup: Lookup, connect_timeout: Duration) -> std::io::Result<EgressProxy> {
        EgressProxy::start_chained(policy, lookup, connect_timeout, None).await
    }

    /// Starts a proxy applying `policy`, resolving names with `lookup`, and connecting through
    /// the HTTP proxy `upstream` when given (an `https` proxy is refused when it is used, as a
    /// failure of that proxy).
    pub async fn start_chained(
        policy: Arc<UrlPolicy>,
        lookup: Lookup,
        connect_timeout: Duration,
        upstream: Option<&reqwest::Url>,
    ) -> std::io::Result<EgressProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let refused = Arc::new(Mutex::new(Vec::new()));
        let upstream_failures = Arc::new(Mutex::new(Vec::new()));
        let upstream = upstream.map(|url| Arc::new(Upstream { url: url.clone(), authorization: basic_authorization(url) }));
        let guard =
            Guard { policy, lookup, connect_timeout, refused: refused.clone(), upstream, upstream_failures: upstream_failures.clone() };
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
        Ok(EgressProxy { addr, refused, upstream_failures, task })
    }

    /// `http://127.0.0.1:<port>`, what `--proxy` takes.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The first destination refused so far, if any.
    pub fn refusal(&self) -> Option<PolicyViolation> {
        self.refused.lock().unwrap_or_else(PoisonError::into_inner).first().cloned()
    }

    /// The first failure of the download proxy it chains to so far (unreachable, a refused
    /// tunnel), if any.
    pub fn upstream_failure(&self) -> Option<String> {
        self.upstream_failures.lock().unwrap_or_else(PoisonError::into_inner).first().cloned()
    }
}

/// Where a request goes, once checked.
struct Target {
    host: String,
    port: u16,
    /// For plain http: the request to forward (a tunnel when `None`).
    forward: Option<Forward>,
}

/// A plain-http request to forward, hop headers dropped.
struct Forward {
    method: String,
    /// Path and query.
    path: String,
    version: String,
    /// The end-to-end header lines (`Host` included), each ending in CRLF.
    headers: String,
}

impl Forward {
    /// The head to send: origin-form to the destination itself, absolute form
    /// (`GET http://<authority>/…`) to a download proxy.
    fn head(&self, via_proxy_to: Option<&str>) -> Vec<u8> {
        let target = match via_proxy_to {
            Some(authority) => format!("http://{authority}{}", self.path),
            None => self.path.clone(),
        };
        format!("{} {target} {}\r\n{}Connection: close\r\n\r\n", self.method, self.version, self.headers).into_bytes()
    }
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
    let mut upstream = match &guard.upstream {
        None => match connect(&addrs, guard.connect_timeout).await {
            Some(mut stream) => {
                if let Some(forward) = &target.forward {
                    stream.write_all(&forward.head(None)).await?;
                }
                stream
            }
            None => return respond(&mut client, "502 Bad Gateway").await,
        },
        Some(proxy) => match chain(proxy, guard, &target, addrs[0]).await {
            Ok(stream) => stream,
            Err(failure) => {
                tracing::info!(proxy = %proxy.url, host = %target.host, %failure, "the download proxy failed");
                guard.upstream_failures.lock().unwrap_or_else(PoisonError::into_inner).push(failure);
                // A forwarded request gets no answer at all: a `502` would read as the
                // destination's (a source error), where a connection closed before any answer
                // reads as what it is, the proxy's failure. A tunnel's `502` is the proxy's.
                if target.forward.is_some() {
                    return Ok(());
                }
                return respond(&mut client, "502 Bad Gateway").await;
            }
        },
    };
    if target.forward.is_none() {
        client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await?;
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
        return Ok(Target { host, port, forward: None });
    }
    let url = reqwest::Url::parse(target).map_err(|_| "400 Bad Request")?;
    if url.scheme() != "http" {
        // https is tunnelled with CONNECT; anything else is not ours to fetch.
        return Err("400 Bad Request");
    }
    let host = url.host_str().ok_or("400 Bad Request")?.to_owned();
    let port = url.port_or_known_default().ok_or("400 Bad Request")?;
    let mut path = url.path().to_owned();
    if let Some(query) = url.query() {
        path.push('?');
        path.push_str(query);
    }
    let mut headers = String::new();
    for line in lines.filter(|line| !line.is_empty()) {
        let name = line.split(':').next().unwrap_or_default().trim().to_ascii_lowercase();
        if !HOP_HEADERS.contains(&name.as_str()) {
            headers.push_str(line);
            headers.push_str("\r\n");
        }
    }
    Ok(Target { host, port, forward: Some(Forward { method: method.to_owned(), path, version: version.to_owned(), headers }) })
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

/// A connection to `target` through the download proxy `proxy`, ready for the client's bytes:
/// a tunnel it accepted, or the forwarded request head already sent. `Err` says how the
/// download proxy failed.
///
/// The download proxy is handed `checked`, the address this process resolved and the policy
/// allowed (`CONNECT 203.0.113.7:443`, `GET http://203.0.113.7/…` with the client's own `Host`
/// header), never the name. Were it given the name, it would resolve it itself, after our
/// check: a name that answers a public address to us and an internal one to the proxy (a DNS
/// rebind between the two lookups, or a resolver at the proxy that sees another zone) would
/// reach an internal address with the policy satisfied. Pinned to the address, the proxy can
/// only reach what was checked; TLS is unaffected (the name, SNI and certificate check are the
/// client's, end to end inside the tunnel). The proxy's own address is the operator's choice
/// and is resolved without the policy, like [`super::SafeResolver`] does for it.
async fn chain(proxy: &Upstream, guard: &Guard, target: &Target, checked: SocketAddr) -> Result<TcpStream, String> {
    if proxy.url.scheme() != "http" {
        return Err(format!("{}: only http download proxies can carry yt-dlp's connections", proxy.url));
    }
    let host = proxy.url.host_str().ok_or_else(|| format!("{}: no host", proxy.url))?;
    let port = proxy.url.port_or_known_default().unwrap_or(80);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let resolved = match bare.parse::<IpAddr>() {
        Ok(addr) => vec![addr],
        Err(_) => (guard.lookup)(bare.to_owned()).await.map_err(|error| format!("{}: {error}", proxy.url))?,
    };
    let addrs: Vec<SocketAddr> = resolved.into_iter().map(|addr| SocketAddr::new(addr, port)).collect();
    let mut stream = connect(&addrs, guard.connect_timeout).await.ok_or_else(|| format!("{}: cannot connect", proxy.url))?;
    let authorization = proxy.authorization.as_deref().map(|value| format!("Proxy-Authorization: {value}\r\n")).unwrap_or_default();
    let io = |error: std::io::Error| format!("{}: {error}", proxy.url);
    match &target.forward {
        Some(forward) => {
            // The authorization goes after the request line, before the end-to-end headers.
            let head = forward.head(Some(&checked.to_string()));
            let line_end = head.windows(2).position(|pair| pair == b"\r\n").map_or(head.len(), |at| at + 2);
            stream.write_all(&head[..line_end]).await.map_err(io)?;
            stream.write_all(authorization.as_bytes()).await.map_err(io)?;
            stream.write_all(&head[line_end..]).await.map_err(io)?;
        }
        None => {
            let request = format!("CONNECT {checked} HTTP/1.1\r\nHost: {checked}\r\n{authorization}\r\n");
            stream.write_all(request.as_bytes()).await.map_err(io)?;
            let answer = tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut stream))
                .await
                .map_err(|_| format!("{}: no answer to CONNECT", proxy.url))?
                .map_err(io)?;
            let Some((head, rest)) = answer else { return Err(format!("{}: closed the connection on CONNECT", proxy.url)) };
            let status = head.lines().next().unwrap_or_default();
            if !status.split(' ').nth(1).is_some_and(|code| code.starts_with('2')) {
                return Err(format!("{}: refused the tunnel ({status})", proxy.url));
            }
            // A proxy speaks after `200` only once the client has: nothing may be pending.
            if !rest.is_empty() {
                return Err(format!("{}: sent data before the tunnel was used", proxy.url));
            }
        }
    }
    Ok(stream)
}

/// `Basic …` from a proxy URL's user and password, when it has them.
fn basic_authorization(url: &reqwest::Url) -> Option<String> {
    use base64::Engine;
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let credentials = format!("{}:{}", percent_decode(url.username()), percent_decode(url.password().unwrap_or_default()));
    Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials)))
}

/// Decodes `%XX` escapes (a URL's user and password are kept encoded).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let escaped = (bytes[at] == b'%').then(|| text.get(at + 1..at + 3)).flatten().and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                at += 3;
            }
            None => {
                decoded.push(bytes[at]);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
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

    /// A download proxy that records each request head it gets and answers `answer` (then
    /// closes).
    async fn recording_upstream(answer: &'static str) -> (reqwest::Url, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = reqwest::Url::parse(&format!("http://user:p%40ss@{}", listener.local_addr().expect("address"))).expect("url");
        let heads: Arc<Mutex<Vec<String>>> = Arc::default();
        let recorded = heads.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                if let Ok(Some((head, _))) = read_head(&mut stream).await {
                    recorded.lock().expect("heads").push(head);
                }
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        (url, heads)
    }

    /// `video.test` is on an allowed address, `internal.test` on a private one.
    fn names() -> Lookup {
        Arc::new(|host: String| {
            Box::pin(async move {
                match host.as_str() {
                    "video.test" => Ok(vec!["127.0.0.1".parse().expect("address")]),
                    "internal.test" => Ok(vec!["10.0.0.7".parse().expect("address")]),
                    _ => Err(std::io::Error::other("unknown name")),
                }
            })
        })
    }

    async fn ask(proxy: &EgressProxy, request: &str) -> String {
        let mut client = TcpStream::connect(proxy.addr).await.expect("connect");
        client.write_all(request.as_bytes()).await.expect("send");
        let mut answer = String::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), client.read_to_string(&mut answer)).await.expect("answered");
        answer
    }

    #[tokio::test]
    async fn a_chained_proxy_is_handed_the_checked_address_never_the_name_and_refused_names_never_reach_it() {
        let policy = Arc::new(UrlPolicy::from_config(&["127.0.0.0/8".to_owned()]).expect("policy"));
        let (upstream, heads) = recording_upstream("HTTP/1.1 200 Connection established\r\n\r\n").await;
        let proxy = EgressProxy::start_chained(policy, names(), Duration::from_secs(2), Some(&upstream)).await.expect("proxy");

        let tunnel = ask(&proxy, "CONNECT video.test:443 HTTP/1.1\r\nHost: video.test:443\r\n\r\n").await;
        assert!(tunnel.starts_with("HTTP/1.1 200"), "{tunnel}");
        ask(&proxy, "GET http://video.test:8080/a.mp4 HTTP/1.1\r\nHost: video.test:8080\r\n\r\n").await;
        let refused = ask(&proxy, "CONNECT internal.test:443 HTTP/1.1\r\nHost: internal.test:443\r\n\r\n").await;
        assert!(refused.starts_with("HTTP/1.1 403"), "{refused}");

        let heads = heads.lock().expect("heads").clone();
        assert_eq!(heads.len(), 2, "the refused destination never reached the download proxy: {heads:?}");
        // The name resolved here, to an allowed address, is all the download proxy gets: it has
        // nothing to resolve (or rebind) itself.
        let auth = "Proxy-Authorization: Basic dXNlcjpwQHNz";
        assert_eq!(heads[0], format!("CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n{auth}\r\n\r\n"));
        assert_eq!(
            heads[1],
            format!("GET http://127.0.0.1:8080/a.mp4 HTTP/1.1\r\n{auth}\r\nHost: video.test:8080\r\nConnection: close\r\n\r\n")
        );
        assert!(matches!(proxy.refusal(), Some(PolicyViolation::Destination(address)) if address == "10.0.0.7"));
        assert_eq!(proxy.upstream_failure(), None);
    }

    #[tokio::test]
    async fn a_download_proxy_that_refuses_the_tunnel_or_is_gone_is_remembered_as_its_failure() {
        let policy = Arc::new(UrlPolicy::from_config(&["127.0.0.0/8".to_owned()]).expect("policy"));
        let (upstream, _) = recording_upstream("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n").await;
        let proxy = EgressProxy::start_chained(policy.clone(), names(), Duration::from_secs(2), Some(&upstream)).await.expect("proxy");
        let answer = ask(&proxy, "CONNECT video.test:443 HTTP/1.1\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 502"), "{answer}");
        assert!(proxy.upstream_failure().is_some_and(|failure| failure.contains("407")), "{:?}", proxy.upstream_failure());

        // Nothing listens there any more.
        let gone = TcpListener::bind("127.0.0.1:0").await.expect("bind").local_addr().expect("address");
        let gone = reqwest::Url::parse(&format!("http://{gone}")).expect("url");
        let proxy = EgressProxy::start_chained(policy, names(), Duration::from_secs(2), Some(&gone)).await.expect("proxy");
        let answer = ask(&proxy, "GET http://video.test/a.mp4 HTTP/1.1\r\nHost: video.test\r\n\r\n").await;
        assert_eq!(answer, "", "no answer that could pass for the destination's");
        assert!(proxy.upstream_failure().is_some(), "an unreachable download proxy is its failure");
        assert_eq!(proxy.refusal(), None);
    }

    #[test]
    fn a_plain_http_request_is_forwarded_in_origin_form_without_hop_headers_and_closes() {
        let head = "GET http://example.com:8080/a/b.mp4?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nProxy-Connection: keep-alive\r\nConnection: keep-alive\r\nRange: bytes=5-\r\n\r\n";
        let target = parse_target(head).expect("target");
        assert_eq!((target.host.as_str(), target.port), ("example.com", 8080));
        let forward = target.forward.expect("forwarded");
        let direct = String::from_utf8(forward.head(None)).expect("utf-8");
        assert_eq!(direct, "GET /a/b.mp4?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nRange: bytes=5-\r\nConnection: close\r\n\r\n");
        let chained = String::from_utf8(forward.head(Some("93.184.216.34:8080"))).expect("utf-8");
        assert_eq!(
            chained,
            "GET http://93.184.216.34:8080/a/b.mp4?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nRange: bytes=5-\r\nConnection: close\r\n\r\n",
            "a download proxy gets the checked address, the destination still its name"
        );
    }

    #[test]
    fn connect_needs_a_port_and_other_schemes_are_refused() {
        let tunnel = parse_target("CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n").expect("tunnel");
        assert_eq!((tunnel.host.as_str(), tunnel.port, tunnel.forward.is_none()), ("[::1]", 443, true));
        assert!(parse_target("CONNECT example.com HTTP/1.1\r\n\r\n").is_err());
        assert!(parse_target("GET ftp://example.com/a HTTP/1.1\r\n\r\n").is_err());
        assert!(parse_target("GET https://example.com/a HTTP/1.1\r\n\r\n").is_err());
        assert!(parse_target("GET /relative HTTP/1.1\r\n\r\n").is_err());
        assert!(parse_target("garbage\r\n\r\n").is_err());
    }
}
