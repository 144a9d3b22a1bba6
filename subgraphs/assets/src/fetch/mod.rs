//! Outbound HTTP under the URL policy, and the extractors built on it.
//!
//! [`SafeClient`] is the only way `assets` fetches anything: the URL is checked before the
//! request ([`UrlPolicy::check_url`]), every redirect is checked by a custom redirect policy,
//! and every connection goes through [`SafeResolver`], which drops the resolved addresses the
//! policy refuses — so a name that resolves (or re-resolves, DNS rebinding) to an internal
//! address is refused at connect time. Every fetch has a connect timeout, a read (idle)
//! timeout and a size limit enforced while streaming.

pub mod direct;
pub mod egress;
pub mod hls;
pub mod proxy;
pub mod ytdlp;

use crate::domain::media::{FetchError, MediaInfo};
use crate::domain::url_policy::{PolicyViolation, UrlPolicy};
use bytes::Bytes;
use futures::future::BoxFuture;
use reqwest::Url;
use reqwest::header::{HeaderMap, RANGE};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Most redirects one fetch follows.
const MAX_REDIRECTS: usize = 5;

/// How names become addresses (the system resolver; tests inject a fixed table).
pub type Lookup = Arc<dyn Fn(String) -> BoxFuture<'static, std::io::Result<Vec<IpAddr>>> + Send + Sync>;

/// The system resolver.
pub fn system_lookup() -> Lookup {
    Arc::new(|host: String| Box::pin(async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.map(|addr| addr.ip()).collect()) }))
}

/// A reqwest resolver that only hands out addresses the policy allows.
pub struct SafeResolver {
    policy: Arc<UrlPolicy>,
    lookup: Lookup,
    /// The configured proxy's host: an operator's choice, resolved without the policy (it may
    /// well be on a private network).
    proxy_host: Option<String>,
}

impl reqwest::dns::Resolve for SafeResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let (policy, lookup, host) = (self.policy.clone(), self.lookup.clone(), name.as_str().to_owned());
        let proxy_host = self.proxy_host.clone();
        Box::pin(async move {
            let resolved = lookup(host.clone()).await?;
            if proxy_host.as_deref() == Some(host.as_str()) {
                return Ok(Box::new(resolved.into_iter().map(|addr| SocketAddr::new(addr, 0)).collect::<Vec<_>>().into_iter())
                    as reqwest::dns::Addrs);
            }
            let allowed: Vec<SocketAddr> =
                resolved.iter().copied().filter(|addr| policy.allows_ip(*addr)).map(|addr| SocketAddr::new(addr, 0)).collect();
            if allowed.is_empty() {
                let shown = resolved.first().map_or_else(|| host.clone(), ToString::to_string);
                tracing::info!(host = %host, resolved = ?resolved, "refused a destination at connect time");
                return Err(Box::new(PolicyViolation::Destination(shown)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Time and size limits of every fetch.
#[derive(Debug, Clone, Copy)]
pub struct FetchLimits {
    /// Largest file.
    pub max_file_bytes: u64,
    /// Largest playlist or probe body read into memory.
    pub max_playlist_bytes: u64,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Longest silence while reading.
    pub read_timeout: Duration,
    /// Longest parse (probe) request, start to end.
    pub parse_timeout: Duration,
    /// HLS segments fetched at once.
    pub parallel_segments: usize,
}

impl FetchLimits {
    /// From `assets.*`.
    pub fn from_config(config: &platform::config::AssetsConfig) -> FetchLimits {
        FetchLimits {
            max_file_bytes: config.max_file_bytes,
            max_playlist_bytes: config.max_playlist_bytes,
            connect_timeout: Duration::from_millis(config.connect_timeout_ms.max(1)),
            read_timeout: Duration::from_millis(config.read_timeout_ms.max(1)),
            parse_timeout: Duration::from_millis(config.parse_timeout_ms.max(1)),
            parallel_segments: config.hls_parallel_segments.clamp(1, 32),
        }
    }
}

/// The policy-enforcing HTTP client.
#[derive(Clone)]
pub struct SafeClient {
    client: reqwest::Client,
    policy: Arc<UrlPolicy>,
    limits: FetchLimits,
    lookup: Lookup,
}

impl SafeClient {
    /// A client over the system resolver.
    pub fn new(policy: UrlPolicy, limits: FetchLimits) -> anyhow::Result<SafeClient> {
        SafeClient::with_lookup(policy, limits, system_lookup())
    }

    /// A client over `lookup` (tests map public-looking names to internal addresses).
    pub fn with_lookup(policy: UrlPolicy, limits: FetchLimits, lookup: Lookup) -> anyhow::Result<SafeClient> {
        SafeClient::build(Arc::new(policy), limits, lookup, None)
    }

    /// The same client, connecting through the HTTP proxy `proxy` (every URL and redirect is
    /// still checked, but the proxy resolves the destination: downloads use it only with an
    /// [`egress::EgressProxy`] as `proxy`, which checks the address, see [`proxy::Proxies`]).
    pub fn via_proxy(&self, proxy: &Url) -> anyhow::Result<SafeClient> {
        SafeClient::build(self.policy.clone(), self.limits, self.lookup.clone(), Some(proxy))
    }

    fn build(policy: Arc<UrlPolicy>, limits: FetchLimits, lookup: Lookup, proxy: Option<&Url>) -> anyhow::Result<SafeClient> {
        let redirect_policy = policy.clone();
        let proxy_host = proxy.and_then(|proxy| proxy.host_str()).map(|host| host.trim_start_matches('[').trim_end_matches(']').to_owned());
        let builder = reqwest::Client::builder()
            .dns_resolver(Arc::new(SafeResolver { policy: policy.clone(), lookup: lookup.clone(), proxy_host }))
            // Proxies from the environment would bypass the resolver's check.
            .no_proxy();
        let builder = match proxy {
            Some(proxy) => builder.proxy(reqwest::Proxy::all(proxy.clone())?),
            None => builder,
        };
        let client = builder
            .connect_timeout(limits.connect_timeout)
            .read_timeout(limits.read_timeout)
            .user_agent(concat!("vidgraph-assets/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= MAX_REDIRECTS {
                    return attempt.error(FetchError::TooManyRedirects);
                }
                match redirect_policy.check_url(attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(violation) => attempt.error(violation),
                }
            }))
            .build()?;
        Ok(SafeClient { client, policy, limits, lookup })
    }

    /// The limits.
    pub fn limits(&self) -> &FetchLimits {
        &self.limits
    }

    /// The policy.
    pub fn policy(&self) -> &UrlPolicy {
        &self.policy
    }

    /// Parses and checks a URL a user gave.
    pub fn parse_url(&self, raw: &str) -> Result<Url, FetchError> {
        let url = Url::parse(raw.trim()).map_err(|_| FetchError::Policy(PolicyViolation::Malformed))?;
        self.policy.check_url(&url).map_err(FetchError::Policy)?;
        Ok(url)
    }

    /// `HEAD url`; a failed status is an error.
    pub async fn head(&self, url: &Url) -> Result<reqwest::Response, FetchError> {
        self.policy.check_url(url).map_err(FetchError::Policy)?;
        let response = tokio::time::timeout(self.limits.parse_timeout, self.client.head(url.clone()).send())
            .await
            .map_err(|_| FetchError::TimedOut)?;
        response.map_err(FetchError::from_reqwest)
    }

    /// `GET url`, from byte `from` when given (a `Range` request); a failed status is an error.
    pub async fn get(&self, url: &Url, from: Option<u64>) -> Result<reqwest::Response, FetchError> {
        self.policy.check_url(url).map_err(FetchError::Policy)?;
        let mut headers = HeaderMap::new();
        if let Some(from) = from
            && let Ok(value) = format!("bytes={from}-").parse()
        {
            headers.insert(RANGE, value);
        }
        let response = self.client.get(url.clone()).headers(headers).send().await.map_err(FetchError::from_reqwest)?;
        check_status(response)
    }

    /// `GET url` read whole, at most `max` bytes, within the parse timeout.
    pub async fn get_small(&self, url: &Url, max: u64) -> Result<(Url, Bytes), FetchError> {
        tokio::time::timeout(self.limits.parse_timeout, async {
            let mut response = self.get(url, None).await?;
            let final_url = response.url().clone();
            if response.content_length().is_some_and(|length| length > max) {
                return Err(FetchError::TooLarge { limit: max });
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(FetchError::from_reqwest)? {
                if (body.len() + chunk.len()) as u64 > max {
                    return Err(FetchError::TooLarge { limit: max });
                }
                body.extend_from_slice(&chunk);
            }
            Ok((final_url, Bytes::from(body)))
        })
        .await
        .map_err(|_| FetchError::TimedOut)?
    }
}

/// Turns an HTTP failure status into its error (kept as a response otherwise).
pub fn check_status(response: reqwest::Response) -> Result<reqwest::Response, FetchError> {
    let status = response.status();
    if status.is_redirection() {
        // Every redirect to an http(s) URL is followed (or refused by the policy); one that
        // comes back is to another scheme or has no usable `Location`.
        return Err(FetchError::Unsupported(format!("a redirect that cannot be followed (HTTP {})", status.as_u16())));
    }
    if status.is_success() { Ok(response) } else { Err(FetchError::Status(status.as_u16())) }
}

/// What a parse found and which extractor understands it.
pub struct Extractors {
    client: SafeClient,
    ytdlp: Option<ytdlp::YtDlp>,
}

impl Extractors {
    /// The built-in extractors over `client`.
    pub fn new(client: SafeClient) -> Extractors {
        Extractors { client, ytdlp: None }
    }

    /// The built-in extractors, and yt-dlp for the pages they do not understand (when it runs).
    pub fn with_ytdlp(client: SafeClient, ytdlp: ytdlp::YtDlp) -> Extractors {
        Extractors { client, ytdlp: Some(ytdlp) }
    }

    /// yt-dlp, when configured (whether it runs is [`ytdlp::YtDlp::version`]).
    pub fn ytdlp(&self) -> Option<&ytdlp::YtDlp> {
        self.ytdlp.as_ref()
    }

    /// The client.
    pub fn client(&self) -> &SafeClient {
        &self.client
    }

    /// Metadata and formats of `url` (already checked): an HLS playlist by its path, else a
    /// probe of the file, which may turn out to be a playlist too; what is neither (a page)
    /// goes to yt-dlp when it runs. Every connection is direct.
    pub async fn parse(&self, url: &Url) -> Result<MediaInfo, FetchError> {
        self.parse_with(url, None).await
    }

    /// [`Extractors::parse`], with yt-dlp's connections through the download proxy of
    /// `proxies` when one is in effect (the page's site is what a download proxy is there for;
    /// the built-in probes, a `HEAD` of a media file or a playlist, go directly), its outcome
    /// counted like a download's.
    pub async fn parse_through(
        &self,
        url: &Url,
        proxies: &proxy::Proxies,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<MediaInfo, FetchError> {
        self.parse_with(url, Some((proxies, now))).await
    }

    async fn parse_with(
        &self,
        url: &Url,
        proxies: Option<(&proxy::Proxies, chrono::DateTime<chrono::Utc>)>,
    ) -> Result<MediaInfo, FetchError> {
        if hls::looks_like_playlist(url) {
            return hls::parse(&self.client, url).await;
        }
        match direct::probe(&self.client, url).await {
            Ok(direct::Probe::Media(info)) => Ok(info),
            Ok(direct::Probe::Playlist) => hls::parse(&self.client, url).await,
            Err(FetchError::Unsupported(reason)) => match &self.ytdlp {
                Some(ytdlp) if ytdlp.version().await.is_some() => {
                    let Some((proxies, now)) = proxies else { return ytdlp.parse(url, None).await };
                    if let Some(until) = proxies.open_until(now) {
                        return Err(FetchError::Proxy(format!(
                            "the proxy provider's circuit breaker is open until {}",
                            until.to_rfc3339()
                        )));
                    }
                    let route = proxies.route(now).await?;
                    let parsed = ytdlp.parse(url, route.proxy()).await;
                    proxies.outcome(&route, parsed, now)
                }
                _ => Err(FetchError::Unsupported(reason)),
            },
            Err(error) => Err(error),
        }
    }
}
