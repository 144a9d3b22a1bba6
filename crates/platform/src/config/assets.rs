use secrecy::SecretString;
use serde::Deserialize;
use std::path::PathBuf;

/// The assets subgraph: URL policy, fetch limits, workers, quotas, storage and cleanup.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AssetsConfig {
    /// `VIDGRAPH_ASSETS__ROOT`: where downloads are stored, default `.vidgraph/assets`
    /// (`tmp/<task_id>/` for quick files and partial downloads, `archive/<user_id>/<yyyymmdd>/`
    /// for archives). Replicas must share it.
    pub root: PathBuf,
    /// `VIDGRAPH_ASSETS__ALLOW_DESTINATIONS`: address blocks (CIDR or bare addresses) that
    /// downloads may reach although the URL policy refuses them by default (loopback, private,
    /// link-local…), e.g. `[127.0.0.0/8]` for tests and local setups; default empty.
    pub allow_destinations: Vec<String>,
    /// `VIDGRAPH_ASSETS__MAX_FILE_BYTES`: the largest file a download may produce, default
    /// 4 GiB (4294967296); larger ones fail permanently.
    pub max_file_bytes: u64,
    /// `VIDGRAPH_ASSETS__MAX_PLAYLIST_BYTES`: the largest HLS playlist read, default 2 MiB.
    pub max_playlist_bytes: u64,
    /// `VIDGRAPH_ASSETS__CONNECT_TIMEOUT_MS`: connection timeout of every fetch, default 10000.
    pub connect_timeout_ms: u64,
    /// `VIDGRAPH_ASSETS__READ_TIMEOUT_MS`: the longest a fetch may receive nothing, default 30000.
    pub read_timeout_ms: u64,
    /// `VIDGRAPH_ASSETS__PARSE_TIMEOUT_MS`: the longest a `parseUrl` may take, default 20000.
    pub parse_timeout_ms: u64,
    /// `VIDGRAPH_ASSETS__TASK_TIMEOUT_SECS`: the longest one download task may run, default 1800.
    pub task_timeout_secs: u64,
    /// `VIDGRAPH_ASSETS__WORKERS`: downloads run at once per process, default 50; 0 runs no
    /// worker in this process (it still serves the API and files).
    pub workers: usize,
    /// `VIDGRAPH_ASSETS__TASK_LEASE_SECS`: how long a worker holds a task without renewing it
    /// (it renews every second), and the work queue's ack wait; default 30. A task whose worker
    /// died is taken over after this.
    pub task_lease_secs: u64,
    /// `VIDGRAPH_ASSETS__HLS_PARALLEL_SEGMENTS`: HLS segments fetched at once per task, default 4.
    pub hls_parallel_segments: usize,
    /// `VIDGRAPH_ASSETS__MAX_ATTEMPTS`: attempts of a task that fails transiently before it is
    /// dead-lettered and marked failed, default 3.
    pub max_attempts: u32,
    /// `VIDGRAPH_ASSETS__RETRY_BASE_MS`: pause before the second attempt; it doubles for each
    /// later one; default 2000.
    pub retry_base_ms: u64,
    /// `VIDGRAPH_ASSETS__DAILY_LIMITS`: downloads per day by user level (index = level; a level
    /// past the end gets the last entry), default `[5, 20]`. Admins are unlimited.
    pub daily_limits: Vec<u32>,
    /// `VIDGRAPH_ASSETS__QUICK_TTL_SECS`: how long a quick download's file is kept, default
    /// 86400 (24 h).
    pub quick_ttl_secs: u64,
    /// `VIDGRAPH_ASSETS__CLEANUP_INTERVAL_SECS`: how often expired files, partial files of dead
    /// tasks and stale tasks are swept, default 60.
    pub cleanup_interval_secs: u64,
    /// `VIDGRAPH_ASSETS__DISK_WARN_PERCENT`: disk usage that logs a warning, default 85.
    pub disk_warn_percent: u8,
    /// `VIDGRAPH_ASSETS__DISK_HIGH_PERCENT`: disk usage above which quick files are removed
    /// early and new quick tasks refused, default 90.
    pub disk_high_percent: u8,
    /// `VIDGRAPH_ASSETS__FILE_URL_TTL_SECS`: how long a signed file URL works, default 300.
    pub file_url_ttl_secs: u64,
    /// `VIDGRAPH_ASSETS__FILE_URL_SECRET`: the HMAC key of file URLs (every replica needs the
    /// same); default unset, when it is derived from the private signing key in `auth.key_dir`.
    pub file_url_secret: Option<SecretString>,
    /// `VIDGRAPH_ASSETS__PUBLIC_URL`: the base URL clients reach `assets`' file route at; default
    /// unset: `http://<Host>` of the GraphQL request.
    pub public_url: Option<String>,
    /// `VIDGRAPH_ASSETS__PROGRESS_INTERVAL_MS`: how often a running download publishes its
    /// progress, default 500 (twice a second).
    pub progress_interval_ms: u64,
    /// `VIDGRAPH_ASSETS__YTDLP_PATH`: the yt-dlp program (PyPI `yt-dlp`), run for pages the
    /// built-in extractors do not understand; default `yt-dlp` (looked up on `PATH`). Empty
    /// turns it off. When it does not run, only direct media links and HLS playlists parse.
    pub ytdlp_path: String,
    /// `VIDGRAPH_ASSETS__PROXY_URL`: an HTTP proxy (`http://[user:password@]host:port`) every
    /// download goes through; default unset (downloads connect directly). It is handed
    /// addresses `assets` resolved and checked with the URL policy, never names.
    pub proxy_url: Option<String>,
    /// `VIDGRAPH_ASSETS__PROXY_PROVIDER_URL`: a proxy provider's HTTP API; a `GET` returns the
    /// proxy to use (`{"proxy": "http://host:port"}`, or the URL as plain text); default unset.
    /// A proxy that fails is dropped and the next attempt asks for another. Ignored when
    /// `proxy_url` is set.
    pub proxy_provider_url: Option<String>,
    /// `VIDGRAPH_ASSETS__PROXY_PROVIDER_REPORT_URL`: where a failed proxy is reported (`POST`
    /// `{"proxy": ..., "reason": ...}`), when the provider has such an endpoint; default unset.
    pub proxy_provider_report_url: Option<String>,
}

impl Default for AssetsConfig {
    fn default() -> Self {
        Self {
            root: PathBuf::from(".vidgraph/assets"),
            allow_destinations: Vec::new(),
            max_file_bytes: 4 * 1024 * 1024 * 1024,
            max_playlist_bytes: 2 * 1024 * 1024,
            connect_timeout_ms: 10_000,
            read_timeout_ms: 30_000,
            parse_timeout_ms: 20_000,
            task_timeout_secs: 1800,
            workers: 50,
            task_lease_secs: 30,
            hls_parallel_segments: 4,
            max_attempts: 3,
            retry_base_ms: 2_000,
            daily_limits: vec![5, 20],
            quick_ttl_secs: 24 * 3600,
            cleanup_interval_secs: 60,
            disk_warn_percent: 85,
            disk_high_percent: 90,
            file_url_ttl_secs: 300,
            file_url_secret: None,
            public_url: None,
            progress_interval_ms: 500,
            ytdlp_path: "yt-dlp".into(),
            proxy_url: None,
            proxy_provider_url: None,
            proxy_provider_report_url: None,
        }
    }
}
