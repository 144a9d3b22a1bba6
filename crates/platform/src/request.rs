//! Per-request facts the platform attaches to every GraphQL request, besides the [`Viewer`].
//!
//! [`Viewer`]: crate::auth::Viewer

use axum::http::HeaderMap;
use ipnet::IpNet;
use serde::Deserialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The client's address, as far as this process can trust it: the TCP peer, unless the peer is
/// a [trusted proxy](TrustedProxies), in which case the right-most `X-Forwarded-For` hop that is
/// not itself a trusted proxy (see [`TrustedProxies::client_addr`]). Rate limits key on it
/// (through [`ClientAddr::subject`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The rate-limit subject of this address: an IPv4 address as is, an IPv6 address as its
    /// /64 network (`2001:db8:1:2::/64`). One subscriber usually holds a whole /64 and can pick
    /// any address in it, so keying on the full IPv6 address would hand them 2^64 budgets.
    pub fn subject(&self) -> String {
        match self.0 {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                let network = u128::from(v6) & !(u128::from(u64::MAX));
                format!("{}/64", Ipv6Addr::from(network))
            }
        }
    }
}

/// The proxies whose `X-Forwarded-For` a subgraph believes (`http.trusted_proxies`).
///
/// The model: a subgraph is reached by the router (and, for the upload route, by the edge
/// proxy). Hive Router 0.2.13 propagates the `X-Forwarded-For` it received but cannot append
/// the socket peer it saw (see `router/router.config.yaml`), so the header a subgraph gets is
/// exactly what reached the router. In production an edge proxy in front of the router must
/// therefore *overwrite* `X-Forwarded-For` with the real peer (compose.yaml's `edge` does);
/// then the chain is `client → edge → router → subgraph` and every hop after the client is a
/// trusted address. A peer that is not trusted (a client talking to a subgraph directly) has
/// its header ignored: the peer is the client. On one machine (`./dev`) the router runs on
/// loopback, the default, and whatever a local client puts in the header is believed.
///
/// Written as CIDR blocks or bare addresses: `[127.0.0.0/8, "::1", 10.1.0.0/16]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Trusts exactly these networks.
    pub fn new(networks: Vec<IpNet>) -> TrustedProxies {
        TrustedProxies(networks)
    }

    /// Trusts no one: the TCP peer is always the client.
    pub fn none() -> TrustedProxies {
        TrustedProxies(Vec::new())
    }

    /// `127.0.0.0/8` and `::1`: the router on the same machine (the default).
    pub fn loopback() -> TrustedProxies {
        TrustedProxies(vec![
            IpNet::new_assert(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)), 8),
            IpNet::new_assert(IpAddr::V6(Ipv6Addr::LOCALHOST), 128),
        ])
    }

    /// Parses one entry: a CIDR block (`10.0.0.0/8`) or a bare address (`10.0.0.7`).
    pub fn parse_entry(entry: &str) -> Result<IpNet, String> {
        let entry = entry.trim();
        entry
            .parse::<IpNet>()
            .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
            .map(|network| network.trunc())
            .map_err(|_| format!("`{entry}` is neither an IP address nor a CIDR block"))
    }

    /// Whether `addr` is a trusted proxy (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        self.0.iter().any(|network| network.contains(&addr))
    }

    /// The client address of a request that arrived from `peer` with `headers`.
    ///
    /// From an untrusted peer, the peer. From a trusted one, `X-Forwarded-For` is read from the
    /// right (the hop nearest to us, appended last): each trusted hop is skipped, and the first
    /// untrusted one is the client; everything to its left was written by the client and may
    /// be forged. When every hop is trusted, the left-most is the client. A hop that does not
    /// parse ends the walk at the last good one, so garbage never moves the address further
    /// from us. Several `X-Forwarded-For` headers are one list, in order.
    pub fn client_addr(&self, headers: &HeaderMap, peer: SocketAddr) -> ClientAddr {
        let peer = peer.ip().to_canonical();
        if !self.contains(peer) {
            return ClientAddr(peer);
        }
        let mut client = peer;
        for value in headers.get_all("x-forwarded-for").iter().rev() {
            let Ok(value) = value.to_str() else { return ClientAddr(client) };
            for hop in value.rsplit(',') {
                let Some(hop) = parse_hop(hop) else { return ClientAddr(client) };
                client = hop;
                if !self.contains(hop) {
                    return ClientAddr(client);
                }
            }
        }
        ClientAddr(client)
    }
}

impl Default for TrustedProxies {
    fn default() -> Self {
        TrustedProxies::loopback()
    }
}

impl<'de> Deserialize<'de> for TrustedProxies {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entries = Vec::<String>::deserialize(deserializer)?;
        entries
            .iter()
            .map(|entry| TrustedProxies::parse_entry(entry))
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
            .map_err(serde::de::Error::custom)
    }
}

/// One `X-Forwarded-For` entry: an address, optionally with a port (`1.2.3.4:80`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>().or_else(|_| hop.parse::<SocketAddr>().map(|addr| addr.ip())).ok().map(|addr| addr.to_canonical())
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

    fn headers(forwarded: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", value.parse().expect("header"));
        }
        headers
    }

    fn peer(addr: &str) -> SocketAddr {
        SocketAddr::new(addr.parse().expect("addr"), 9000)
    }

    fn client(trusted: &TrustedProxies, forwarded: &[&str], from: &str) -> String {
        trusted.client_addr(&headers(forwarded), peer(from)).0.to_string()
    }

    #[test]
    fn a_forwarded_header_from_an_untrusted_peer_is_ignored() {
        let trusted = TrustedProxies::loopback();
        assert_eq!(client(&trusted, &["203.0.113.7"], "198.51.100.1"), "198.51.100.1");
        assert_eq!(client(&TrustedProxies::none(), &["203.0.113.7"], "127.0.0.1"), "127.0.0.1");
    }

    #[test]
    fn from_a_trusted_peer_the_right_most_untrusted_hop_is_the_client() {
        let trusted = TrustedProxies::new(vec![
            TrustedProxies::parse_entry("127.0.0.0/8").expect("cidr"),
            TrustedProxies::parse_entry("10.0.0.0/8").expect("cidr"),
        ]);
        // No header: the peer (the router, for a request it originated itself).
        assert_eq!(client(&trusted, &[], "127.0.0.1"), "127.0.0.1");
        assert_eq!(client(&trusted, &["203.0.113.7"], "127.0.0.1"), "203.0.113.7");
        // The client forged the left part; the edge (10.0.0.5) appended the real peer.
        assert_eq!(client(&trusted, &["1.1.1.1, 203.0.113.7, 10.0.0.5"], "127.0.0.1"), "203.0.113.7");
        // Several headers are one list.
        assert_eq!(client(&trusted, &["1.1.1.1", "203.0.113.7", "10.0.0.5"], "127.0.0.1"), "203.0.113.7");
        // Every hop trusted: the left-most.
        assert_eq!(client(&trusted, &["10.0.0.9, 10.0.0.5"], "127.0.0.1"), "10.0.0.9");
        // Garbage stops the walk at the last good hop, never further left.
        assert_eq!(client(&trusted, &["203.0.113.7, bogus, 10.0.0.5"], "127.0.0.1"), "10.0.0.5");
        assert_eq!(client(&trusted, &["bogus"], "127.0.0.1"), "127.0.0.1");
        // Ports and IPv4-mapped IPv6 are understood.
        assert_eq!(client(&trusted, &["203.0.113.7:5555, [::ffff:10.0.0.5]:80"], "::ffff:127.0.0.1"), "203.0.113.7");
    }

    #[test]
    fn trusted_proxies_parse_blocks_and_bare_addresses() {
        let trusted: TrustedProxies = serde_json::from_str(r#"["10.1.0.0/16", "::1", "192.168.0.7"]"#).expect("parses");
        assert!(trusted.contains("10.1.200.3".parse().expect("ip")));
        assert!(trusted.contains("::1".parse().expect("ip")));
        assert!(trusted.contains("192.168.0.7".parse().expect("ip")));
        assert!(!trusted.contains("192.168.0.8".parse().expect("ip")));
        assert!(serde_json::from_str::<TrustedProxies>(r#"["10.1.0.0/99"]"#).is_err());
        assert!(TrustedProxies::default().contains("127.3.2.1".parse().expect("ip")));
    }

    #[test]
    fn ipv6_clients_are_limited_per_64() {
        assert_eq!(ClientAddr("203.0.113.7".parse().expect("ip")).subject(), "203.0.113.7");
        let a = ClientAddr("2001:db8:1:2:aaaa::1".parse().expect("ip")).subject();
        let b = ClientAddr("2001:db8:1:2:bbbb::9".parse().expect("ip")).subject();
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(a, b);
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
