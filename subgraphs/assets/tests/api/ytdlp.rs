//! The yt-dlp extractor against a local server: a page with a `<video>` parses and downloads
//! through yt-dlp and the egress proxy; every destination the URL policy refuses is refused
//! for yt-dlp's own connections too; a run that is cancelled or times out takes its whole
//! process group with it.
//!
//! The tests that need the real yt-dlp find it at `VIDGRAPH_ASSETS__YTDLP_PATH`, in `./test`'s
//! venv (`~/.cache/vidgraph/yt-dlp`) or on `PATH`. Where it is not installed they print
//! `SKIPPED: <name>` and return, unless `VIDGRAPH_REQUIRE_YTDLP=1` (set by `./test` once it
//! installed yt-dlp), when they fail.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use vidgraph_assets::domain::media::FetchError;
use vidgraph_assets::domain::url_policy::{PolicyViolation, UrlPolicy};
use vidgraph_assets::fetch::ytdlp::{EXTRACTOR, YtDlp};
use vidgraph_assets::fetch::{Extractors, FetchLimits, Lookup, SafeClient, system_lookup};
use vidgraph_assets::store::files::PartialFile;
use vidgraph_assets::testing::{MediaServer, ytdlp_program};
use vidgraph_assets::testing::{media_bytes, sha256_hex};

fn limits(parse_timeout: Duration) -> FetchLimits {
    FetchLimits {
        max_file_bytes: 10 * 1024 * 1024,
        max_playlist_bytes: 64 * 1024,
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(10),
        parse_timeout,
        parallel_segments: 3,
    }
}

/// `cdn.example.test` looks public but resolves to a private address; the rest is the system's.
fn test_lookup() -> Lookup {
    let system = system_lookup();
    Arc::new(move |host: String| {
        let system = system.clone();
        Box::pin(async move {
            match host.as_str() {
                "cdn.example.test" => Ok(vec!["10.0.0.7".parse::<IpAddr>().expect("ip")]),
                _ => system(host).await,
            }
        })
    })
}

fn policy(allow: &[&str]) -> UrlPolicy {
    UrlPolicy::from_config(&allow.iter().map(|entry| (*entry).to_owned()).collect::<Vec<_>>()).expect("policy")
}

fn ytdlp(program: &Path, allow: &[&str], parse_timeout: Duration) -> YtDlp {
    YtDlp::new(program, Arc::new(policy(allow)), test_lookup(), &limits(parse_timeout))
}

fn url(raw: &str) -> reqwest::Url {
    reqwest::Url::parse(raw).expect("url")
}

#[tokio::test]
async fn a_page_with_a_video_parses_and_downloads_through_ytdlp_and_the_egress_proxy() {
    let Some(program) = ytdlp_program("a_page_with_a_video_parses_and_downloads_through_ytdlp_and_the_egress_proxy") else { return };
    let server = MediaServer::start().await;
    let allow = ["127.0.0.1/32"];
    let client = SafeClient::with_lookup(policy(&allow), limits(Duration::from_secs(60)), test_lookup()).expect("client");
    let extractors = Extractors::with_ytdlp(client, ytdlp(&program, &allow, Duration::from_secs(60)));
    let page = url(&server.url("/watch.html?title=Holiday%20clip"));

    let info = extractors.parse(&page).await.expect("parse through yt-dlp");
    assert_eq!(info.extractor, EXTRACTOR, "a page is not a media file: the built-in probe hands it to yt-dlp");
    // yt-dlp numbers the page's embedded videos: "Holiday clip (1)".
    assert!(info.title.starts_with("Holiday clip"), "{}", info.title);
    assert_eq!(info.platform, "127.0.0.1");
    let format = info.format(None).expect("a format").clone();
    assert_eq!(format.url, page.to_string());

    let dir = tempdir("ytdlp-download");
    let mut sink = PartialFile::open(dir.join("partial"), 10 * 1024 * 1024).await.expect("partial file");
    let ytdlp = extractors.ytdlp().expect("yt-dlp");
    ytdlp.download(&page, &format.id, &mut sink, None).await.expect("download through yt-dlp");
    assert_eq!(sink.progress().total(), Some(300_000), "the size came from yt-dlp's progress lines");
    let finished = sink.finish().await.expect("finish");
    assert_eq!((finished.size, finished.sha256.as_str()), (300_000, sha256_hex(&media_bytes(300_000)).as_str()));
    assert!(server.hits("GET /media/clip.mp4") >= 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn ytdlps_own_connections_are_refused_for_every_destination_the_url_policy_refuses() {
    let Some(program) = ytdlp_program("ytdlps_own_connections_are_refused_for_every_destination_the_url_policy_refuses") else { return };
    let server = MediaServer::start().await;
    let port = server.port();
    // The allowlist off: yt-dlp is asked directly (the URL pre-check a parse makes is skipped),
    // so only the egress proxy stands between yt-dlp and these destinations.
    let closed = ytdlp(&program, &[], Duration::from_secs(60));
    for raw in [
        server.url("/watch.html"),
        format!("http://localhost:{port}/watch.html"),
        "http://10.1.2.3/watch.html".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        format!("http://[::1]:{port}/watch.html"),
        format!("http://cdn.example.test:{port}/watch.html"),
        format!("https://cdn.example.test:{port}/watch.html"),
    ] {
        let error = closed.parse(&url(&raw), None).await.expect_err(&raw);
        assert!(matches!(error, FetchError::Policy(PolicyViolation::Destination(_))), "{raw}: {error:?}");
        assert!(!error.is_transient(), "{raw}: a refusal is permanent");
    }
    assert_eq!(server.hits("/watch.html"), 0, "yt-dlp never reached the server");

    // Only the server is allowed: a redirect to a public-looking name of a private address, and
    // a page whose video is on the metadata address, are refused when yt-dlp follows them.
    let open = ytdlp(&program, &["127.0.0.1/32"], Duration::from_secs(60));
    let redirect = server.url(&format!("/redirect?to=http://cdn.example.test:{port}/watch.html"));
    let error = open.parse(&url(&redirect), None).await.expect_err("redirect");
    assert!(matches!(error, FetchError::Policy(_)), "{error:?}");
    assert_eq!(server.hits("/redirect"), 1);
    assert_eq!(server.hits("/watch.html"), 0);

    let evil = url(&server.url("/watch.html?src=http://169.254.169.254/latest/clip.mp4"));
    let dir = tempdir("ytdlp-evil");
    let mut sink = PartialFile::open(dir.join("partial"), 1024 * 1024).await.expect("partial file");
    match open.parse(&evil, None).await {
        // yt-dlp may probe the video while parsing: then the parse is refused already.
        Err(error) => assert!(matches!(error, FetchError::Policy(_)), "{error:?}"),
        Ok(info) => {
            let format = info.format(None).expect("format").id.clone();
            let error = open.download(&evil, &format, &mut sink, None).await.expect_err("metadata download");
            assert!(matches!(error, FetchError::Policy(_)), "{error:?}");
            assert!(sink.is_empty());
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A stand-in yt-dlp that starts a child, records both pids and hangs.
fn hanging_program(dir: &Path) -> PathBuf {
    let program = dir.join("yt-dlp");
    let pids = dir.join("pids");
    let script = format!(
        "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 2099.01.01; exit 0; fi\nsleep 300 &\necho $! > {pids}.tmp\necho $$ >> {pids}.tmp\nmv {pids}.tmp {pids}\nwait\n",
        pids = pids.display()
    );
    std::fs::write(&program, script).expect("script");
    let mut permissions = std::fs::metadata(&program).expect("meta").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&program, permissions).expect("chmod");
    program
}

async fn wait_for_pids(dir: &Path) -> Vec<u32> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(text) = std::fs::read_to_string(dir.join("pids")) {
            return text.lines().filter_map(|line| line.trim().parse().ok()).collect();
        }
        assert!(tokio::time::Instant::now() < deadline, "the stand-in never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Gone, or a zombie nobody reaped yet (it runs nothing).
fn is_dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
    }
}

async fn assert_all_dead(pids: &[u32]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !pids.iter().all(|pid| is_dead(*pid)) {
        assert!(tokio::time::Instant::now() < deadline, "still running: {pids:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_ytdlp_run_that_times_out_or_is_cancelled_is_killed_with_its_whole_process_group() {
    // Timeout: the parse gives up after its limit, and yt-dlp's child dies with it.
    let dir = tempdir("ytdlp-timeout");
    let program = hanging_program(&dir);
    let timing_out = ytdlp(&program, &[], Duration::from_secs(2));
    let page = url("http://video.example.com/watch");
    let parse = tokio::spawn(async move { timing_out.parse(&page, None).await });
    let pids = wait_for_pids(&dir).await;
    assert_eq!(pids.len(), 2, "the child and the stand-in");
    let outcome = tokio::time::timeout(Duration::from_secs(20), parse).await.expect("the parse ends").expect("join");
    assert_eq!(outcome.expect_err("it hangs"), FetchError::TimedOut);
    assert_all_dead(&pids).await;
    let _ = std::fs::remove_dir_all(&dir);

    // Cancel: the download's future is dropped (what a cancelled task does).
    let dir = tempdir("ytdlp-cancel");
    let program = hanging_program(&dir);
    let cancelled = ytdlp(&program, &[], Duration::from_secs(60));
    let sink_dir = dir.clone();
    let download = tokio::spawn(async move {
        let mut sink = PartialFile::open(sink_dir.join("partial"), 1024).await.expect("partial");
        cancelled.download(&url("http://video.example.com/watch"), "18", &mut sink, None).await
    });
    let pids = wait_for_pids(&dir).await;
    assert!(pids.iter().all(|pid| !is_dead(*pid)), "running before the cancel");
    download.abort();
    assert_all_dead(&pids).await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempdir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vidgraph-{label}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
