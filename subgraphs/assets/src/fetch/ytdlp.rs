//! The yt-dlp extractor: pages the built-in extractors do not understand (YouTube, Bilibili,
//! TikTok, a page with a `<video>`…) are parsed and downloaded by the yt-dlp program (PyPI
//! `yt-dlp`) run as a subprocess with its machine-readable output:
//!
//! - parsing is `yt-dlp -J` (one JSON document: title, duration, uploader, formats);
//! - a download is `yt-dlp -f <format> -o -`: the media arrives on stdout and is written to
//!   the partial file like any other download (size cap, SHA-256, fsync, rename), while
//!   `--newline --progress-template` lines on stderr give the expected size.
//!
//! Every run goes through its own [`EgressProxy`] (`--proxy`), so yt-dlp's connections meet the
//! URL policy at connect time — and, when a download proxy is in effect, continue through it
//! (the egress proxy chains to it, for the `-J` probe and the download alike; a download proxy
//! that fails makes the run a [`FetchError::Proxy`]) — and runs in a process group of its own: when the run is dropped
//! (cancel, the parse or task timeout, a worker stopping) the whole group is killed, whatever
//! yt-dlp started. User configuration, the cache and the environment's proxies are ignored.

use super::Lookup;
use super::egress::EgressProxy;
use crate::domain::media::{FetchError, MediaFormat, MediaInfo};
use crate::domain::url_policy::UrlPolicy;
use crate::store::files::PartialFile;
use reqwest::Url;
use serde::Deserialize;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::OnceCell;

/// The extractor name in [`MediaInfo::extractor`].
pub const EXTRACTOR: &str = "yt-dlp";
/// Largest `-J` document read.
const MAX_JSON_BYTES: usize = 32 * 1024 * 1024;
/// stderr lines kept for the error message.
const STDERR_LINES: usize = 40;
/// Marks our progress lines among yt-dlp's other output.
const PROGRESS_MARK: &str = "vgprogress";
/// Longest `--version` check.
const VERSION_TIMEOUT: Duration = Duration::from_secs(15);

/// The yt-dlp program and what its runs are held to.
#[derive(Clone)]
pub struct YtDlp {
    program: PathBuf,
    policy: Arc<UrlPolicy>,
    lookup: Lookup,
    connect_timeout: Duration,
    read_timeout: Duration,
    parse_timeout: Duration,
    /// Its version once asked (`None`: it does not run).
    version: Arc<OnceCell<Option<String>>>,
}

/// Kills a process group when dropped.
struct ProcessGroup {
    leader: Option<rustix::process::Pid>,
}

impl ProcessGroup {
    fn of(child: &Child) -> ProcessGroup {
        let leader = child.id().and_then(|id| i32::try_from(id).ok()).and_then(rustix::process::Pid::from_raw);
        ProcessGroup { leader }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if let Some(leader) = self.leader {
            // ESRCH (nothing left in the group) is the usual case after a clean exit.
            let _ = rustix::process::kill_process_group(leader, rustix::process::Signal::KILL);
        }
    }
}

/// A running yt-dlp: its process group dies with it.
struct Run {
    child: Child,
    _group: ProcessGroup,
}

impl YtDlp {
    /// The program at `program` (a path, or a name looked up on `PATH`), under `policy`.
    pub fn new(program: impl Into<PathBuf>, policy: Arc<UrlPolicy>, lookup: Lookup, limits: &super::FetchLimits) -> YtDlp {
        YtDlp {
            program: program.into(),
            policy,
            lookup,
            connect_timeout: limits.connect_timeout,
            read_timeout: limits.read_timeout,
            parse_timeout: limits.parse_timeout,
            version: Arc::new(OnceCell::new()),
        }
    }

    /// Its version, `None` when it does not run (asked once per process).
    pub async fn version(&self) -> Option<String> {
        self.version
            .get_or_init(|| async {
                let mut command = self.command();
                command.arg("--version").stdout(Stdio::piped()).stderr(Stdio::null()).stdin(Stdio::null());
                let outcome = async {
                    let child = command.spawn().ok()?;
                    let group = ProcessGroup::of(&child);
                    let output = child.wait_with_output().await.ok();
                    drop(group);
                    output.filter(|output| output.status.success())
                };
                let version = match tokio::time::timeout(VERSION_TIMEOUT, outcome).await {
                    Ok(Some(output)) => Some(String::from_utf8_lossy(&output.stdout).trim().to_owned()),
                    _ => None,
                };
                match &version {
                    Some(version) => tracing::info!(program = %self.program.display(), version, "yt-dlp found"),
                    None => tracing::warn!(
                        program = %self.program.display(),
                        "yt-dlp does not run: only direct media links and HLS playlists can be parsed \
                         (install it with `python3 -m pip install --user yt-dlp`)"
                    ),
                }
                version
            })
            .await
            .clone()
    }

    /// The base command: own process group, no inherited environment but `PATH` and `HOME`.
    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.env_clear();
        for name in ["PATH", "HOME", "LANG"] {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        command.process_group(0).kill_on_drop(true);
        command
    }

    /// The options every run shares, `--proxy` included.
    fn base_args(&self, command: &mut Command, proxy: &EgressProxy) {
        let socket_timeout = self.read_timeout.as_secs().max(1).to_string();
        command
            .args(["--ignore-config", "--no-cache-dir", "--no-playlist", "--no-warnings", "--no-color"])
            .args(["--proxy", &proxy.url()])
            .args(["--socket-timeout", &socket_timeout])
            // yt-dlp's own downloaders, which honour --proxy (an external one might not).
            .args(["--downloader", "native"]);
    }

    async fn spawn(&self, mut command: Command) -> Result<Run, FetchError> {
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let child = command.spawn().map_err(|error| FetchError::Unsupported(format!("yt-dlp could not be started: {error}")))?;
        let group = ProcessGroup::of(&child);
        Ok(Run { child, _group: group })
    }

    async fn proxy(&self, upstream: Option<&Url>) -> Result<EgressProxy, FetchError> {
        EgressProxy::start_chained(self.policy.clone(), self.lookup.clone(), self.connect_timeout, upstream)
            .await
            .map_err(|error| FetchError::Storage(format!("the egress proxy could not start: {error}")))
    }

    /// Metadata and formats of the page at `url` (`yt-dlp -J`), within the parse timeout,
    /// through the download proxy `upstream` when given.
    pub async fn parse(&self, url: &Url, upstream: Option<&Url>) -> Result<MediaInfo, FetchError> {
        let proxy = self.proxy(upstream).await?;
        let mut command = self.command();
        self.base_args(&mut command, &proxy);
        command.arg("-J").arg("--").arg(url.as_str());
        let mut run = self.spawn(command).await?;
        let (Some(mut stdout), Some(stderr)) = (run.child.stdout.take(), run.child.stderr.take()) else {
            return Err(FetchError::Storage("yt-dlp's output is not piped".into()));
        };
        let work = async {
            let errors = tokio::spawn(tail_lines(stderr, |_| {}));
            let mut json = Vec::new();
            (&mut stdout)
                .take(MAX_JSON_BYTES as u64 + 1)
                .read_to_end(&mut json)
                .await
                .map_err(|error| FetchError::Network(error.to_string()))?;
            if json.len() > MAX_JSON_BYTES {
                return Err(FetchError::TooLarge { limit: MAX_JSON_BYTES as u64 });
            }
            let status = run.child.wait().await.map_err(|error| FetchError::Storage(error.to_string()))?;
            let errors = errors.await.unwrap_or_default();
            Ok((status, json, errors))
        };
        let (status, json, errors) = tokio::time::timeout(self.parse_timeout, work).await.map_err(|_| FetchError::TimedOut)??;
        if !status.success() {
            return Err(failure(&proxy, &errors));
        }
        let document: Document =
            serde_json::from_slice(&json).map_err(|error| FetchError::Unsupported(format!("yt-dlp's JSON: {error}")))?;
        Ok(document.into_info(url))
    }

    /// Downloads format `format_id` of the page at `url` into `sink` (from the start: yt-dlp's
    /// output cannot be resumed from our partial file). Returns no media type: the format's is
    /// used. Through the download proxy `upstream` when given.
    pub async fn download(
        &self,
        url: &Url,
        format_id: &str,
        sink: &mut PartialFile,
        upstream: Option<&Url>,
    ) -> Result<Option<String>, FetchError> {
        sink.restart().await?;
        let proxy = self.proxy(upstream).await?;
        let mut command = self.command();
        self.base_args(&mut command, &proxy);
        let template =
            format!("download:{PROGRESS_MARK} %(progress.downloaded_bytes)s %(progress.total_bytes)s %(progress.total_bytes_estimate)s");
        command.args(["--newline", "--progress-template", &template]).args(["-f", format_id, "-o", "-", "--"]).arg(url.as_str());
        let mut run = self.spawn(command).await?;
        let (Some(mut stdout), Some(stderr)) = (run.child.stdout.take(), run.child.stderr.take()) else {
            return Err(FetchError::Storage("yt-dlp's output is not piped".into()));
        };
        let progress = sink.progress();
        let errors = tokio::spawn(tail_lines(stderr, move |line| {
            if let Some(total) = progress_total(line) {
                progress.set_total(Some(total));
            }
        }));
        let mut buffer = vec![0_u8; 256 * 1024];
        loop {
            // yt-dlp's socket timeout bounds its own reads; this bounds a yt-dlp that hangs.
            let read = tokio::time::timeout(self.read_timeout * 2, stdout.read(&mut buffer))
                .await
                .map_err(|_| FetchError::TimedOut)?
                .map_err(|error| FetchError::Network(error.to_string()))?;
            if read == 0 {
                break;
            }
            sink.write(&buffer[..read]).await?;
        }
        let status = run.child.wait().await.map_err(|error| FetchError::Storage(error.to_string()))?;
        let errors = errors.await.unwrap_or_default();
        if !status.success() {
            return Err(failure(&proxy, &errors));
        }
        Ok(None)
    }
}

/// Reads `stream` line by line, calling `each` on every line; returns the last lines.
async fn tail_lines(stream: impl AsyncRead + Unpin, each: impl Fn(&str)) -> Vec<String> {
    let mut lines = BufReader::new(stream).lines();
    let mut kept = VecDeque::with_capacity(STDERR_LINES);
    while let Ok(Some(line)) = lines.next_line().await {
        each(&line);
        if line.starts_with(PROGRESS_MARK) {
            continue;
        }
        if kept.len() == STDERR_LINES {
            kept.pop_front();
        }
        kept.push_back(line.chars().take(500).collect::<String>());
    }
    kept.into()
}

/// The total size a progress line announces (exact, else estimated).
fn progress_total(line: &str) -> Option<u64> {
    let mut fields = line.strip_prefix(PROGRESS_MARK)?.split_whitespace().skip(1);
    let (exact, estimate) = (fields.next(), fields.next());
    let number = |field: Option<&str>| field.and_then(|value| value.parse::<f64>().ok()).filter(|value| *value > 0.0);
    number(exact).or_else(|| number(estimate)).map(|value| value as u64)
}

/// Why a run failed: a destination the egress proxy refused first, then a download proxy that
/// failed (whatever yt-dlp made of the `502` it got instead), else what yt-dlp said.
fn failure(proxy: &EgressProxy, errors: &[String]) -> FetchError {
    if let Some(violation) = proxy.refusal() {
        return FetchError::Policy(violation);
    }
    if let Some(failure) = proxy.upstream_failure() {
        return FetchError::Proxy(failure);
    }
    classify(errors)
}

/// Classifies yt-dlp's error lines: HTTP statuses, timeouts and connection trouble as what they
/// are; anything else (an unsupported site, a missing format, an extractor error) as permanent.
pub fn classify(errors: &[String]) -> FetchError {
    let message = errors.iter().rev().find(|line| line.starts_with("ERROR:")).or(errors.last()).cloned().unwrap_or_default();
    let lower = message.to_ascii_lowercase();
    let status = lower.split("http error ").nth(1).and_then(|rest| rest.get(..3)).and_then(|code| code.parse::<u16>().ok());
    let tunnel = lower.split("tunnel connection failed: ").nth(1).and_then(|rest| rest.get(..3)).and_then(|code| code.parse::<u16>().ok());
    if let Some(status) = status.or(tunnel) {
        return FetchError::Status(status);
    }
    if lower.contains("timed out") || lower.contains("timeout") {
        return FetchError::TimedOut;
    }
    let network = [
        "connection refused",
        "connection reset",
        "remote end closed",
        "incompleteread",
        "unable to connect",
        "network is unreachable",
        "name or service not known",
        "temporary failure in name resolution",
        "did not get any data",
    ];
    if network.iter().any(|needle| lower.contains(needle)) {
        return FetchError::Network(message);
    }
    let trimmed = message.trim_start_matches("ERROR:").trim();
    FetchError::Unsupported(if trimmed.is_empty() { "yt-dlp failed".into() } else { trimmed.chars().take(300).collect() })
}

/// The part of `yt-dlp -J`'s document we use.
#[derive(Debug, Deserialize)]
struct Document {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    duration: Option<f64>,
    #[serde(default)]
    thumbnail: Option<String>,
    #[serde(default)]
    uploader: Option<String>,
    #[serde(default)]
    extractor_key: Option<String>,
    #[serde(default)]
    formats: Option<Vec<Format>>,
    /// A document without `formats` is one format itself.
    #[serde(flatten)]
    single: Format,
}

#[derive(Debug, Default, Deserialize)]
struct Format {
    #[serde(default)]
    format_id: Option<String>,
    #[serde(default)]
    ext: Option<String>,
    #[serde(default)]
    vcodec: Option<String>,
    #[serde(default)]
    acodec: Option<String>,
    #[serde(default)]
    height: Option<u32>,
    #[serde(default)]
    resolution: Option<String>,
    #[serde(default)]
    format_note: Option<String>,
    #[serde(default)]
    filesize: Option<f64>,
    #[serde(default)]
    filesize_approx: Option<f64>,
    /// Kbit/s.
    #[serde(default)]
    tbr: Option<f64>,
}

impl Format {
    fn into_format(self, page: &Url) -> Option<MediaFormat> {
        let id = self.format_id?.chars().take(100).collect::<String>();
        let known = |codec: &Option<String>| codec.clone().filter(|codec| codec != "none" && !codec.is_empty());
        let codecs = [known(&self.vcodec), known(&self.acodec)].into_iter().flatten().collect::<Vec<_>>().join(", ");
        let quality = self
            .height
            .map(|height| format!("{height}p"))
            .or(self.format_note.filter(|note| !note.is_empty()))
            .or(self.resolution.filter(|resolution| !resolution.is_empty()));
        let content_type = self.ext.as_deref().and_then(content_type_for);
        Some(MediaFormat {
            id,
            quality,
            container: self.ext.map(|ext| ext.chars().take(10).collect()),
            codecs: (!codecs.is_empty()).then_some(codecs),
            size_bytes: self.filesize.or(self.filesize_approx).filter(|size| *size > 0.0).map(|size| size as i64),
            bandwidth: self.tbr.filter(|tbr| *tbr > 0.0).map(|tbr| (tbr * 1000.0) as u64),
            content_type,
            // The page: a download asks yt-dlp again (format URLs expire).
            url: page.to_string(),
        })
    }
}

/// The media type of a container yt-dlp names.
fn content_type_for(ext: &str) -> Option<String> {
    Some(
        match ext {
            "mp4" => "video/mp4",
            "webm" => "video/webm",
            "mkv" => "video/x-matroska",
            "mov" => "video/quicktime",
            "flv" => "video/x-flv",
            "ts" => "video/mp2t",
            "m4a" => "audio/mp4",
            "mp3" => "audio/mpeg",
            "ogg" | "opus" => "audio/ogg",
            _ => return None,
        }
        .to_owned(),
    )
}

impl Document {
    fn into_info(self, page: &Url) -> MediaInfo {
        let formats: Vec<MediaFormat> = match self.formats {
            Some(formats) if !formats.is_empty() => formats.into_iter().filter_map(|format| format.into_format(page)).collect(),
            _ => self.single.into_format(page).into_iter().collect(),
        };
        let platform = match self.extractor_key.as_deref() {
            // The generic extractor covers any site: the host says more.
            None | Some("Generic" | "HTML5MediaEmbed") => super::direct::platform_of(page),
            Some(key) => key.to_ascii_lowercase().chars().take(100).collect(),
        };
        let title = self.title.filter(|title| !title.trim().is_empty()).unwrap_or_else(|| super::direct::platform_of(page));
        MediaInfo {
            url: page.to_string(),
            title: title.chars().take(300).collect(),
            duration_secs: self.duration.filter(|duration| duration.is_finite() && *duration >= 0.0),
            thumbnail: self.thumbnail.filter(|thumbnail| thumbnail.starts_with("http")),
            uploader: self.uploader.map(|uploader| uploader.chars().take(200).collect()),
            platform,
            extractor: EXTRACTOR.into(),
            formats,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_statuses_timeouts_and_connection_trouble_are_told_apart_from_the_rest() {
        let line = |text: &str| vec!["[generic] x: Downloading webpage".to_owned(), text.to_owned()];
        assert_eq!(classify(&line("ERROR: [generic] Unable to download webpage: HTTP Error 404: Not Found")), FetchError::Status(404));
        assert_eq!(classify(&line("ERROR: unable to download video data: HTTP Error 503: Service Unavailable")), FetchError::Status(503));
        assert_eq!(
            classify(&line("ERROR: Unable to download webpage: Tunnel connection failed: 502 Bad Gateway")),
            FetchError::Status(502)
        );
        assert_eq!(classify(&line("ERROR: Unable to download webpage: The read operation timed out")), FetchError::TimedOut);
        assert!(matches!(classify(&line("ERROR: Unable to download webpage: [Errno 111] Connection refused")), FetchError::Network(_)));
        assert!(matches!(classify(&line("ERROR: Unsupported URL: https://example.com/")), FetchError::Unsupported(_)));
        assert!(matches!(classify(&[]), FetchError::Unsupported(_)));
    }

    #[test]
    fn progress_lines_give_the_exact_size_else_the_estimate() {
        assert_eq!(progress_total("vgprogress 1024 4096 NA"), Some(4096));
        assert_eq!(progress_total("vgprogress 1024 NA 8192.5"), Some(8192));
        assert_eq!(progress_total("vgprogress 1024 NA NA"), None);
        assert_eq!(progress_total("[download] 10%"), None);
    }

    #[test]
    fn a_document_maps_to_formats_that_point_back_to_the_page() {
        let page = Url::parse("https://www.youtube.com/watch?v=x").expect("url");
        let document: Document = serde_json::from_value(serde_json::json!({
            "title": "A talk", "duration": 61.5, "uploader": "someone", "extractor_key": "Youtube",
            "thumbnail": "https://i.ytimg.com/x.jpg",
            "formats": [
                { "format_id": "18", "ext": "mp4", "vcodec": "avc1.42001E", "acodec": "mp4a.40.2", "height": 360, "filesize": 1000.0, "tbr": 500.0, "url": "https://r1.googlevideo.com/x" },
                { "format_id": "140", "ext": "m4a", "vcodec": "none", "acodec": "mp4a.40.2", "format_note": "medium", "filesize_approx": 300.0 },
                { "ext": "mp4" }
            ]
        }))
        .expect("document");
        let info = document.into_info(&page);
        assert_eq!((info.platform.as_str(), info.extractor.as_str(), info.title.as_str()), ("youtube", "yt-dlp", "A talk"));
        assert_eq!(info.formats.len(), 2, "a format without an id is dropped");
        assert_eq!(info.formats[0].quality.as_deref(), Some("360p"));
        assert_eq!(info.formats[0].codecs.as_deref(), Some("avc1.42001E, mp4a.40.2"));
        assert_eq!(info.formats[0].bandwidth, Some(500_000));
        assert_eq!(info.formats[0].url, page.to_string(), "never the expiring media URL");
        assert_eq!(info.formats[1].codecs.as_deref(), Some("mp4a.40.2"));
        assert_eq!(info.formats[1].size_bytes, Some(300));
        assert_eq!(info.formats[1].content_type.as_deref(), Some("audio/mp4"));
    }
}
