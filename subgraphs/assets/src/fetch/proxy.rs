//! Proxies for downloads: none, one configured HTTP proxy (`assets.proxy_url`), or the ones a
//! proxy provider's HTTP API hands out (`assets.proxy_provider_url`).
//!
//! A provider's proxy is kept while it works. An attempt that fails the way a dead proxy fails
//! (the connection, a timeout, `407`) drops it: the failure is counted
//! (`assets_proxy_failures_total`), reported to the provider's report endpoint when it has one,
//! and the next attempt — the worker's retry — asks the provider for another. Every call of the
//! provider's API and every attempt through one of its proxies is an outcome of the provider's
//! circuit breaker (the same [`Breaker`](crate::domain::breaker::Breaker) as the platforms'), so
//! a provider that keeps failing is left alone for 30 s instead of burning every task's attempts.
//!
//! A proxied attempt does not hand the download proxy a name: its client talks to an
//! [`EgressProxy`] of its own, chained to the download proxy, which resolves the destination
//! here, applies the URL policy to the address and gives the download proxy that address (see
//! `egress::chain`). Otherwise the download proxy would resolve names itself, where our
//! resolver's connect-time check never runs.

use super::SafeClient;
use super::egress::EgressProxy;
use crate::domain::breaker::{Breakers, PROXY_PROVIDER, Permit};
use crate::domain::media::FetchError;
use chrono::{DateTime, Utc};
use reqwest::Url;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Longest call of a provider's API.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest answer of a provider's API.
const MAX_PROVIDER_BODY: usize = 4096;

/// Where proxies come from.
#[derive(Debug, Clone)]
enum Source {
    Direct,
    Fixed(Url),
    Provider { name: String, url: Url, report: Option<Url> },
}

/// How one attempt connects.
#[derive(Clone)]
pub enum Route {
    /// Directly.
    Direct,
    /// Through `proxy`.
    Proxy {
        /// The proxy.
        proxy: Url,
        /// The guarded client through it (through `egress`, chained to it).
        client: SafeClient,
        /// The attempt's egress proxy, stopped when the last clone of the route goes.
        egress: Arc<EgressProxy>,
    },
}

impl Route {
    /// The client of a proxied route.
    pub fn client(&self) -> Option<&SafeClient> {
        match self {
            Route::Direct => None,
            Route::Proxy { client, .. } => Some(client),
        }
    }

    /// The proxy of a proxied route.
    pub fn proxy(&self) -> Option<&Url> {
        match self {
            Route::Direct => None,
            Route::Proxy { proxy, .. } => Some(proxy),
        }
    }
}

/// Whether an attempt's failure says the proxy is dead (rather than the source failing).
pub fn blames_the_proxy(error: &FetchError) -> bool {
    matches!(error, FetchError::Network(_) | FetchError::Proxy(_) | FetchError::TimedOut | FetchError::Status(407))
}

/// The proxies of this process.
pub struct Proxies {
    source: Source,
    base: SafeClient,
    api: reqwest::Client,
    current: Mutex<Option<Url>>,
    breakers: Breakers,
}

fn http_url(setting: &str, raw: &str) -> anyhow::Result<Url> {
    let url = Url::parse(raw.trim()).map_err(|error| anyhow::anyhow!("assets.{setting}: {error}"))?;
    anyhow::ensure!(matches!(url.scheme(), "http" | "https"), "assets.{setting}: only http(s) URLs");
    Ok(url)
}

/// A download proxy's URL: plain `http://` only, since every attempt reaches it through an
/// egress proxy that speaks HTTP to it (`CONNECT` for https destinations).
fn proxy_url(setting: &str, raw: &str) -> anyhow::Result<Url> {
    let url = http_url(setting, raw)?;
    anyhow::ensure!(url.scheme() == "http", "assets.{setting}: a download proxy is an http:// URL");
    Ok(url)
}

impl Proxies {
    /// From `assets.proxy_*`; proxied clients are derived from `base`.
    pub fn from_config(config: &platform::config::AssetsConfig, base: &SafeClient) -> anyhow::Result<Proxies> {
        let source = match (&config.proxy_url, &config.proxy_provider_url) {
            (Some(proxy), _) if !proxy.trim().is_empty() => Source::Fixed(proxy_url("proxy_url", proxy)?),
            (_, Some(provider)) if !provider.trim().is_empty() => {
                let url = http_url("proxy_provider_url", provider)?;
                let report = match config.proxy_provider_report_url.as_deref().map(str::trim) {
                    Some(report) if !report.is_empty() => Some(http_url("proxy_provider_report_url", report)?),
                    _ => None,
                };
                let name = url.host_str().unwrap_or("provider").to_owned();
                Source::Provider { name, url, report }
            }
            _ => Source::Direct,
        };
        // The provider is the operator's own choice of service: no URL policy, no proxy.
        let api = reqwest::Client::builder().no_proxy().timeout(PROVIDER_TIMEOUT).build()?;
        Ok(Proxies { source, base: base.clone(), api, current: Mutex::new(None), breakers: Breakers::of_kind(PROXY_PROVIDER) })
    }

    /// The breakers of the proxy provider (one entry once it was used).
    pub fn breakers(&self) -> &Breakers {
        &self.breakers
    }

    /// Whether the provider (if any) may be used at `now`.
    pub fn permit(&self, now: DateTime<Utc>) -> Permit {
        match &self.source {
            Source::Provider { name, .. } => self.breakers.permit(name, now),
            _ => Permit::Go,
        }
    }

    /// Until when the provider's breaker refuses every call, when it is open at `now` (asking
    /// changes nothing: no probe is used up).
    pub fn open_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.source {
            Source::Provider { name, .. } => self.breakers.open_until(name, now),
            _ => None,
        }
    }

    /// The route of the next attempt: the current proxy, or a new one from the provider.
    pub async fn route(&self, now: DateTime<Utc>) -> Result<Route, FetchError> {
        let (name, url) = match &self.source {
            Source::Direct => return Ok(Route::Direct),
            Source::Fixed(proxy) => return self.route_via(proxy.clone()).await,
            Source::Provider { name, url, .. } => (name, url),
        };
        let held = self.current.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(proxy) = held {
            return self.route_via(proxy).await;
        }
        let proxy = match self.ask_provider(url).await {
            Ok(proxy) => proxy,
            Err(error) => {
                self.breakers.record(name, now, false);
                metrics::counter!("assets_proxy_provider_errors_total", PROXY_PROVIDER => name.clone()).increment(1);
                tracing::warn!(provider = %name, %error, "the proxy provider gave no proxy");
                return Err(error);
            }
        };
        let route = self.route_via(proxy.clone()).await?;
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some(proxy.clone());
        tracing::info!(provider = %name, proxy = %proxy, "using a new proxy");
        Ok(route)
    }

    /// A route through `proxy`: a client through an egress proxy of the attempt's own,
    /// chained to `proxy`.
    async fn route_via(&self, proxy: Url) -> Result<Route, FetchError> {
        let egress =
            EgressProxy::start_chained(self.base.policy.clone(), self.base.lookup.clone(), self.base.limits.connect_timeout, Some(&proxy))
                .await
                .map_err(|error| FetchError::Storage(format!("the egress proxy could not start: {error}")))?;
        let egress_url = Url::parse(&egress.url()).map_err(|error| FetchError::Storage(format!("the egress proxy's address: {error}")))?;
        let client = self.base.via_proxy(&egress_url).map_err(|error| FetchError::Unsupported(format!("the proxy {proxy}: {error}")))?;
        Ok(Route::Proxy { proxy, client, egress: Arc::new(egress) })
    }

    async fn ask_provider(&self, url: &Url) -> Result<Url, FetchError> {
        let response = self.api.get(url.clone()).send().await.map_err(|error| FetchError::Proxy(format!("the proxy provider: {error}")))?;
        if !response.status().is_success() {
            return Err(FetchError::Proxy(format!("the proxy provider answered HTTP {}", response.status().as_u16())));
        }
        let body = response.bytes().await.map_err(|error| FetchError::Proxy(format!("the proxy provider: {error}")))?;
        if body.len() > MAX_PROVIDER_BODY {
            return Err(FetchError::Proxy("the proxy provider's answer is too long".into()));
        }
        let text = String::from_utf8_lossy(&body);
        let raw = match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(value) => value.get("proxy").and_then(serde_json::Value::as_str).map(str::to_owned),
            Err(_) => Some(text.trim().to_owned()),
        };
        raw.as_deref()
            .and_then(|raw| proxy_url("proxy_provider_url answer", raw).ok())
            .ok_or_else(|| FetchError::Proxy("the proxy provider's answer names no http proxy".into()))
    }

    /// Records how an attempt through `route` went: `Ok` or an error that does not blame the
    /// proxy keeps it; an error that does drops it and reports it, and becomes a
    /// [`FetchError::Proxy`] (transient, and not held against the platform's breaker). A
    /// destination the attempt's egress proxy refused (answered `403`) is the
    /// [`FetchError::Policy`] it is.
    pub fn outcome<T>(&self, route: &Route, outcome: Result<T, FetchError>, now: DateTime<Utc>) -> Result<T, FetchError> {
        let Route::Proxy { proxy, egress, .. } = route else { return outcome };
        if outcome.is_err()
            && let Some(violation) = egress.refusal()
        {
            self.record(proxy, None, now);
            return Err(FetchError::Policy(violation));
        }
        self.record(proxy, outcome.as_ref().err(), now);
        outcome.map_err(|error| if blames_the_proxy(&error) { FetchError::Proxy(format!("{proxy}: {error}")) } else { error })
    }

    fn record(&self, proxy: &Url, error: Option<&FetchError>, now: DateTime<Utc>) {
        let failed = error.filter(|error| blames_the_proxy(error));
        let provider = match &self.source {
            Source::Provider { name, report, .. } => Some((name, report)),
            _ => None,
        };
        if let Some((name, _)) = provider {
            self.breakers.record(name, now, failed.is_none());
        }
        let Some(error) = failed else { return };
        let label = provider.map_or_else(|| "configured".to_owned(), |(name, _)| name.clone());
        metrics::counter!("assets_proxy_failures_total", PROXY_PROVIDER => label.clone()).increment(1);
        tracing::warn!(proxy = %proxy, provider = %label, %error, "a download proxy failed");
        let Some((_, report)) = provider else { return };
        // Concurrent tasks on one dead proxy all fail; the first to drop it reports it.
        let dropped = {
            let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
            let held = current.as_ref() == Some(proxy);
            if held {
                *current = None;
            }
            held
        };
        if dropped && let Some(report) = report.clone() {
            let (api, body) = (self.api.clone(), serde_json::json!({ "proxy": proxy.as_str(), "reason": error.to_string() }));
            tokio::spawn(async move {
                match api.post(report).json(&body).send().await {
                    Ok(response) if response.status().is_success() => {}
                    Ok(response) => tracing::warn!(status = response.status().as_u16(), "the proxy provider refused a failure report"),
                    Err(error) => tracing::warn!(%error, "could not report a failed proxy"),
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_proxy_is_an_http_url() {
        assert!(proxy_url("proxy_url", "http://user:pw@10.0.0.5:3128").is_ok());
        assert!(proxy_url("proxy_url", "https://proxy.example.com:443").is_err());
        assert!(proxy_url("proxy_url", "socks5://proxy.example.com:1080").is_err());
    }

    #[test]
    fn only_connection_trouble_timeouts_and_407_blame_the_proxy() {
        assert!(blames_the_proxy(&FetchError::Network("connection refused".into())));
        assert!(blames_the_proxy(&FetchError::TimedOut));
        assert!(blames_the_proxy(&FetchError::Status(407)));
        assert!(!blames_the_proxy(&FetchError::Status(404)));
        assert!(!blames_the_proxy(&FetchError::Status(503)));
        assert!(!blames_the_proxy(&FetchError::Storage("disk".into())));
    }
}
