//! The URL policy (a rule, no I/O): which URLs a download may start from and which addresses
//! any of its connections may reach.
//!
//! Only `http` and `https`. Destinations in loopback, private, link-local, CGNAT, multicast,
//! unspecified, documentation, benchmarking and reserved blocks are refused, in IPv4 and IPv6,
//! and IPv6 forms that carry an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4,
//! Teredo) are judged by the address they carry. Cloud metadata endpoints fall in those blocks
//! (169.254.169.254, fd00:ec2::254, 100.100.100.200) and their well-known host names are refused
//! by name. The check runs on every address a connection would use (see `fetch::SafeResolver`),
//! so a name that resolves to a private address — at first or after a DNS rebind — is refused
//! at connect time. An allowlist (configuration) lets tests and local setups reach loopback.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why a URL or an address is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyViolation {
    /// Not a URL at all, or too long.
    #[error("not a valid URL")]
    Malformed,
    /// Not http/https.
    #[error("only http and https URLs can be downloaded")]
    Scheme,
    /// A user name or password in the URL.
    #[error("URLs with credentials are not accepted")]
    Credentials,
    /// The destination is an internal address (or a metadata host).
    #[error("the destination {0} is not a public address")]
    Destination(String),
}

/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Host names of cloud metadata services, refused whatever they resolve to.
const METADATA_HOSTS: [&str; 6] =
    ["metadata.google.internal", "metadata", "metadata.goog", "instance-data", "instance-data.ec2.internal", "metadata.azure.internal"];

/// The policy, with the configured allowlist.
#[derive(Debug, Clone, Default)]
pub struct UrlPolicy {
    allowed: Vec<IpNet>,
}

impl UrlPolicy {
    /// A policy that also lets `allowed` through.
    pub fn new(allowed: Vec<IpNet>) -> UrlPolicy {
        UrlPolicy { allowed }
    }

    /// Parses the configured allowlist (`assets.allow_destinations`).
    pub fn from_config(entries: &[String]) -> Result<UrlPolicy, String> {
        let allowed = entries
            .iter()
            .map(|entry| platform::request::TrustedProxies::parse_entry(entry))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| format!("assets.allow_destinations: {error}"))?;
        Ok(UrlPolicy { allowed })
    }

    /// Whether a connection may go to `addr`.
    pub fn allows_ip(&self, addr: IpAddr) -> bool {
        self.allowed.iter().any(|net| net.contains(&addr)) || is_public(addr)
    }

    /// Checks a URL before any connection: scheme, credentials, metadata host names and a
    /// literal IP address (names are checked when they resolve).
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), PolicyViolation> {
        if url.as_str().len() > MAX_URL_LEN {
            return Err(PolicyViolation::Malformed);
        }
        if !matches!(url.scheme(), "http" | "https") {
            return Err(PolicyViolation::Scheme);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(PolicyViolation::Credentials);
        }
        let Some(host) = url.host_str() else { return Err(PolicyViolation::Malformed) };
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(addr) = bare.parse::<IpAddr>() {
            return self.check_ip(addr);
        }
        let name = bare.trim_end_matches('.').to_ascii_lowercase();
        if METADATA_HOSTS.contains(&name.as_str()) {
            return Err(PolicyViolation::Destination(name));
        }
        Ok(())
    }

    fn check_ip(&self, addr: IpAddr) -> Result<(), PolicyViolation> {
        if self.allows_ip(addr) { Ok(()) } else { Err(PolicyViolation::Destination(addr.to_string())) }
    }
}

/// Whether `addr` is a public unicast address (the IPv4 it embeds, for IPv6 forms that carry one).
pub fn is_public(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn in_v4(addr: Ipv4Addr, base: [u8; 4], prefix: u32) -> bool {
    let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
    (u32::from(addr) & mask) == (u32::from(Ipv4Addr::from(base)) & mask)
}

fn is_public_v4(addr: Ipv4Addr) -> bool {
    const BLOCKED: [([u8; 4], u32); 17] = [
        ([0, 0, 0, 0], 8),       // "this network", unspecified
        ([10, 0, 0, 0], 8),      // private
        ([100, 64, 0, 0], 10),   // CGNAT (and Alibaba's metadata 100.100.100.200)
        ([127, 0, 0, 0], 8),     // loopback
        ([169, 254, 0, 0], 16),  // link-local (cloud metadata 169.254.169.254)
        ([172, 16, 0, 0], 12),   // private
        ([192, 0, 0, 0], 24),    // IETF protocol assignments
        ([192, 0, 2, 0], 24),    // documentation
        ([192, 31, 196, 0], 24), // AS112
        ([192, 52, 193, 0], 24), // AMT
        ([192, 88, 99, 0], 24),  // 6to4 relay anycast
        ([192, 168, 0, 0], 16),  // private
        ([198, 18, 0, 0], 15),   // benchmarking
        ([198, 51, 100, 0], 24), // documentation
        ([203, 0, 113, 0], 24),  // documentation
        ([224, 0, 0, 0], 4),     // multicast
        ([240, 0, 0, 0], 4),     // reserved, broadcast
    ];
    !BLOCKED.iter().any(|(base, prefix)| in_v4(addr, *base, *prefix))
}

fn is_public_v6(addr: Ipv6Addr) -> bool {
    let segments = addr.segments();
    let bits = u128::from(addr);
    let in_v6 = |base: u128, prefix: u32| {
        let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - prefix) };
        (bits & mask) == (base & mask)
    };
    let embedded_low = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    // IPv4-mapped ::ffff:a.b.c.d, and IPv4-compatible ::a.b.c.d (deprecated; :: and ::1 included).
    if in_v6(0xffff_0000_0000, 96) || in_v6(0, 96) {
        return addr != Ipv6Addr::UNSPECIFIED && addr != Ipv6Addr::LOCALHOST && is_public_v4(embedded_low);
    }
    // NAT64 (well-known prefix): the IPv4 it translates to.
    if in_v6(0x0064_ff9b_0000_0000_0000_0000_0000_0000, 96) {
        return is_public_v4(embedded_low);
    }
    // 6to4 2002:a.b.c.d::/48: the IPv4 of the tunnel end.
    if segments[0] == 0x2002 {
        return is_public_v4(Ipv4Addr::from(((bits >> 80) & 0xffff_ffff) as u32));
    }
    // Teredo 2001:0::/32: the client's IPv4 is the last 32 bits, inverted.
    if in_v6(0x2001_0000_0000_0000_0000_0000_0000_0000, 32) {
        return is_public_v4(Ipv4Addr::from(!((bits & 0xffff_ffff) as u32)));
    }
    const BLOCKED: [(u128, u32); 8] = [
        (0x0064_ff9b_0001_0000_0000_0000_0000_0000, 48), // local-use NAT64
        (0x0100_0000_0000_0000_0000_0000_0000_0000, 64), // discard-only
        (0x2001_0010_0000_0000_0000_0000_0000_0000, 28), // ORCHID
        (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32), // documentation
        (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7),  // unique local (AWS metadata fd00:ec2::254)
        (0xfe80_0000_0000_0000_0000_0000_0000_0000, 10), // link-local
        (0xfec0_0000_0000_0000_0000_0000_0000_0000, 10), // site-local (deprecated)
        (0xff00_0000_0000_0000_0000_0000_0000_0000, 8),  // multicast
    ];
    !BLOCKED.iter().any(|(base, prefix)| in_v6(*base, *prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[test]
    fn internal_ipv4_destinations_are_refused_and_public_ones_allowed() {
        for refused in [
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.100.100.200",
            "0.0.0.0",
            "224.0.0.1",
            "239.255.255.250",
            "255.255.255.255",
            "198.18.0.1",
            "192.0.2.10",
        ] {
            assert!(!is_public(ip(refused)), "{refused} must be refused");
        }
        for allowed in ["8.8.8.8", "1.1.1.1", "93.184.216.34", "172.32.0.1", "100.128.0.1", "192.169.0.1"] {
            assert!(is_public(ip(allowed)), "{allowed} is public");
        }
    }

    #[test]
    fn internal_ipv6_destinations_and_ipv4_carrying_forms_are_refused() {
        for refused in [
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd00:ec2::254",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::",
            // Teredo whose client address is 127.0.0.1 (inverted: 80ff:fffe).
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
            "2001:db8::1",
            "fec0::1",
        ] {
            assert!(!is_public(ip(refused)), "{refused} must be refused");
        }
        for allowed in ["2606:4700:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"] {
            assert!(is_public(ip(allowed)), "{allowed} is public");
        }
    }

    #[test]
    fn urls_need_http_no_credentials_and_a_public_literal_or_a_name() {
        let policy = UrlPolicy::default();
        let check = |raw: &str| policy.check_url(&reqwest::Url::parse(raw).expect("url"));
        assert_eq!(check("https://video.example.com/a.mp4"), Ok(()));
        assert_eq!(check("ftp://video.example.com/a.mp4"), Err(PolicyViolation::Scheme));
        assert_eq!(check("file:///etc/passwd"), Err(PolicyViolation::Scheme));
        assert_eq!(check("http://user:pw@video.example.com/"), Err(PolicyViolation::Credentials));
        assert!(matches!(check("http://127.0.0.1:8080/a.mp4"), Err(PolicyViolation::Destination(_))));
        assert!(matches!(check("http://[::1]/a.mp4"), Err(PolicyViolation::Destination(_))));
        assert!(matches!(check("http://169.254.169.254/latest/meta-data/"), Err(PolicyViolation::Destination(_))));
        assert!(matches!(check("http://metadata.google.internal/computeMetadata/v1/"), Err(PolicyViolation::Destination(_))));
        // Decimal and hex forms of 127.0.0.1 are normalised by the URL parser, and still refused.
        assert!(matches!(check("http://2130706433/"), Err(PolicyViolation::Destination(_))));
        assert!(matches!(check("http://0x7f.1/"), Err(PolicyViolation::Destination(_))));
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(check(&long), Err(PolicyViolation::Malformed));
    }

    #[test]
    fn the_allowlist_lets_configured_blocks_through_and_nothing_else() {
        let policy = UrlPolicy::from_config(&["127.0.0.0/8".to_owned()]).expect("policy");
        assert!(policy.allows_ip(ip("127.0.0.1")));
        assert!(!policy.allows_ip(ip("10.0.0.1")));
        assert!(!policy.allows_ip(ip("::1")));
        assert!(UrlPolicy::from_config(&["not-a-block".to_owned()]).is_err());
    }
}
