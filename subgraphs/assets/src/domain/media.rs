//! What a URL holds (metadata and formats) and why fetching it failed, classified.

use super::url_policy::PolicyViolation;
use serde::{Deserialize, Serialize};

/// The metadata and formats of one media URL, as `parseUrl` returns them (and the cache keeps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaInfo {
    /// The normalized URL.
    pub url: String,
    /// Title (the file name when the source has none).
    pub title: String,
    /// Length in seconds, when known.
    pub duration_secs: Option<f64>,
    /// Thumbnail URL, when known.
    pub thumbnail: Option<String>,
    /// Who published it, when known.
    pub uploader: Option<String>,
    /// The site (the host for direct links and playlists).
    pub platform: String,
    /// The extractor that understood it (`direct`, `hls`).
    pub extractor: String,
    /// The formats a download can pick.
    pub formats: Vec<MediaFormat>,
}

impl MediaInfo {
    /// The format `id`, or the best one when `id` is `None`.
    pub fn format(&self, id: Option<&str>) -> Option<&MediaFormat> {
        match id {
            Some(id) => self.formats.iter().find(|format| format.id == id),
            None => self.formats.iter().max_by_key(|format| format.bandwidth.unwrap_or(0)),
        }
    }
}

/// One downloadable format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaFormat {
    /// Its id (what `startDownload(formatId:)` takes).
    pub id: String,
    /// Quality label (`720p`, `1280x720`…), when known.
    pub quality: Option<String>,
    /// Container / file extension (`mp4`, `ts`…).
    pub container: Option<String>,
    /// Codecs, when known.
    pub codecs: Option<String>,
    /// Size in bytes, when known.
    pub size_bytes: Option<i64>,
    /// Bits per second, when known (HLS variants).
    pub bandwidth: Option<u64>,
    /// Media type of the result, when known.
    pub content_type: Option<String>,
    /// Where its media is: the file, or the variant's media playlist.
    pub url: String,
}

/// Why a fetch failed. [`FetchError::is_transient`] decides whether another attempt may help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The URL policy refused the URL, a redirect or a resolved address.
    #[error("refused by the URL policy: {0}")]
    Policy(PolicyViolation),
    /// The server answered with a failure status.
    #[error("the server answered HTTP {0}")]
    Status(u16),
    /// Larger than allowed.
    #[error("larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// Nothing we can download (not media, encrypted playlist, unknown format…).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Redirected too often.
    #[error("too many redirects")]
    TooManyRedirects,
    /// Connection refused or reset, DNS failure, a body cut short.
    #[error("network error: {0}")]
    Network(String),
    /// A download proxy failed (it died, timed out, refused us) or the proxy provider gave none.
    #[error("proxy failure: {0}")]
    Proxy(String),
    /// A fetch or the task took too long.
    #[error("timed out")]
    TimedOut,
    /// Our disk failed.
    #[error("storage error: {0}")]
    Storage(String),
    /// The task was cancelled (or taken over) while it ran.
    #[error("cancelled")]
    Cancelled,
}

impl FetchError {
    /// Whether another attempt may succeed: network trouble, timeouts, 5xx, 408 and 429, our
    /// disk. A refused URL, a 4xx, an unsupported or too large file fail the same way again.
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Status(status) => *status >= 500 || *status == 408 || *status == 429,
            FetchError::Network(_) | FetchError::Proxy(_) | FetchError::TimedOut | FetchError::Storage(_) => true,
            FetchError::Policy(_) | FetchError::TooLarge { .. } | FetchError::Unsupported(_) | FetchError::TooManyRedirects => false,
            FetchError::Cancelled => false,
        }
    }

    /// A stable code for the history row and the client (`Download.errorCode`).
    pub fn code(&self) -> &'static str {
        match self {
            FetchError::Policy(_) => "URL_POLICY",
            FetchError::Status(404 | 410) => "NOT_FOUND",
            FetchError::Status(401 | 403) => "FORBIDDEN_BY_SOURCE",
            FetchError::Status(429) => "THROTTLED",
            FetchError::Status(status) if *status >= 500 => "SOURCE_ERROR",
            FetchError::Status(_) => "HTTP_ERROR",
            FetchError::TooLarge { .. } => "TOO_LARGE",
            FetchError::Unsupported(_) => "UNSUPPORTED",
            FetchError::TooManyRedirects => "TOO_MANY_REDIRECTS",
            FetchError::Network(_) => "NETWORK",
            FetchError::Proxy(_) => "PROXY_FAILED",
            FetchError::TimedOut => "TIMEOUT",
            FetchError::Storage(_) => "STORAGE",
            FetchError::Cancelled => "CANCELLED",
        }
    }

    /// Classifies a reqwest error: a policy refusal anywhere in its causes (the resolver, the
    /// redirect policy) is permanent; otherwise timeouts and network failures.
    pub fn from_reqwest(error: reqwest::Error) -> FetchError {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        while let Some(cause) = source {
            if let Some(violation) = cause.downcast_ref::<PolicyViolation>() {
                return FetchError::Policy(violation.clone());
            }
            if let Some(fetch) = cause.downcast_ref::<FetchError>() {
                return fetch.clone();
            }
            source = cause.source();
        }
        if error.is_timeout() {
            return FetchError::TimedOut;
        }
        if let Some(status) = error.status() {
            return FetchError::Status(status.as_u16());
        }
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        FetchError::Network(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_server_errors_and_network_trouble_are_transient_and_the_rest_permanent() {
        for transient in
            [FetchError::Status(500), FetchError::Status(503), FetchError::Status(429), FetchError::Status(408), FetchError::TimedOut]
        {
            assert!(transient.is_transient(), "{transient:?}");
        }
        assert!(FetchError::Network("reset".into()).is_transient());
        assert!(FetchError::Proxy("died".into()).is_transient(), "a proxy that died is replaced on the retry");
        for permanent in [
            FetchError::Status(404),
            FetchError::Status(410),
            FetchError::Status(403),
            FetchError::Policy(PolicyViolation::Scheme),
            FetchError::TooLarge { limit: 1 },
            FetchError::Unsupported("x".into()),
            FetchError::TooManyRedirects,
        ] {
            assert!(!permanent.is_transient(), "{permanent:?}");
        }
        assert_eq!(FetchError::Status(404).code(), "NOT_FOUND");
        assert_eq!(FetchError::Status(502).code(), "SOURCE_ERROR");
    }
}
