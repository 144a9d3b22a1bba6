//! Per-request facts the platform attaches to every GraphQL request, besides the [`Viewer`].
//!
//! [`Viewer`]: crate::auth::Viewer

use axum::http::HeaderMap;
use std::net::{IpAddr, SocketAddr};

/// The client's address: the first `X-Forwarded-For` hop when present (the router forwards it),
/// else the TCP peer. Subgraphs are only reachable behind the router in production, so the
/// header is trusted; rate limits key on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// Reads the address from the forwarding headers or the peer.
    pub fn from_request(headers: &HeaderMap, peer: SocketAddr) -> ClientAddr {
        let forwarded = headers
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(',').next())
            .and_then(|first| first.trim().parse::<IpAddr>().ok());
        ClientAddr(forwarded.unwrap_or(peer.ip()))
    }
}

/// Correlates log lines of one request: `X-Request-Id` when sent, else a fresh id.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl RequestId {
    /// Reads or creates the id.
    pub fn from_headers(headers: &HeaderMap) -> RequestId {
        let sent =
            headers.get("x-request-id").and_then(|value| value.to_str().ok()).filter(|value| !value.is_empty() && value.len() <= 128);
        RequestId(sent.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned))
    }
}

/// The `Host` header of a GraphQL request: the authority the caller used to reach this
/// subgraph (behind the router, the subgraph address the router called). Subgraphs build
/// links back to themselves from it when no public URL is configured. Only present when the
/// header is a plausible `host[:port]`, so it can be pasted into a URL as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHost(pub String);

impl RequestHost {
    /// Reads and checks the header.
    pub fn from_headers(headers: &HeaderMap) -> Option<RequestHost> {
        let host = headers.get(axum::http::header::HOST)?.to_str().ok()?.trim();
        let plausible = !host.is_empty()
            && host.len() <= 255
            && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
        plausible.then(|| RequestHost(host.to_owned()))
    }
}

/// The bearer token of an `Authorization` value, if it is one.
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim()).filter(|token| !token.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_address_wins_over_the_peer() {
        let mut headers = HeaderMap::new();
        let peer: SocketAddr = "127.0.0.1:9000".parse().expect("addr");
        assert_eq!(ClientAddr::from_request(&headers, peer).0, peer.ip());
        headers.insert("x-forwarded-for", "203.0.113.7, 10.0.0.1".parse().expect("header"));
        assert_eq!(ClientAddr::from_request(&headers, peer).0.to_string(), "203.0.113.7");
    }

    #[test]
    fn only_plausible_hosts_are_kept() {
        let mut headers = HeaderMap::new();
        assert_eq!(RequestHost::from_headers(&headers), None);
        headers.insert("host", "127.0.0.1:4001".parse().expect("header"));
        assert_eq!(RequestHost::from_headers(&headers), Some(RequestHost("127.0.0.1:4001".into())));
        headers.insert("host", "evil.example/path?x=".parse().expect("header"));
        assert_eq!(RequestHost::from_headers(&headers), None);
    }

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
    }
}
