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
        let sent = headers
            .get("x-request-id")
            .and_then(|value| value.to_str().ok())
            .filter(|value| !value.is_empty() && value.len() <= 128);
        RequestId(sent.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned))
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
    fn bearer_tokens_are_read_case_insensitively() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
    }
}
