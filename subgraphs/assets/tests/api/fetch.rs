//! The guarded client and the extractors against a local server: the URL policy holds for
//! literal addresses, for names at connect time, for redirects and for HLS segments.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use vidgraph_assets::domain::media::FetchError;
use vidgraph_assets::domain::url_policy::{PolicyViolation, UrlPolicy};
use vidgraph_assets::fetch::proxy::Proxies;
use vidgraph_assets::fetch::{Extractors, FetchLimits, Lookup, SafeClient, system_lookup};
use vidgraph_assets::store::files::PartialFile;
use vidgraph_assets::testing::{CountingProxy, MediaServer, media_bytes, sha256_hex};

fn limits() -> FetchLimits {
    FetchLimits {
        max_file_bytes: 10 * 1024 * 1024,
        max_playlist_bytes: 64 * 1024,
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(2),
        parse_timeout: Duration::from_secs(5),
        parallel_segments: 3,
    }
}

/// Names of the test world: `cdn.example.test` looks public but resolves to a private address,
/// `rebind.example.test` to loopback; anything else goes to the system resolver.
fn test_lookup() -> Lookup {
    let system = system_lookup();
    Arc::new(move |host: String| {
        let system = system.clone();
        Box::pin(async move {
            match host.as_str() {
                "cdn.example.test" => Ok(vec!["10.0.0.7".parse::<IpAddr>().expect("ip")]),
                "rebind.example.test" => Ok(vec!["127.0.0.1".parse::<IpAddr>().expect("ip")]),
                _ => system(host).await,
            }
        })
    })
}

fn client(allow: &[&str]) -> SafeClient {
    let policy = UrlPolicy::from_config(&allow.iter().map(|entry| (*entry).to_owned()).collect::<Vec<_>>()).expect("policy");
    SafeClient::with_lookup(policy, limits(), test_lookup()).expect("client")
}

fn is_policy(error: &FetchError) -> bool {
    matches!(error, FetchError::Policy(PolicyViolation::Destination(_)))
}

#[tokio::test]
async fn loopback_private_metadata_and_ipv6_loopback_destinations_are_refused_before_any_request() {
    let server = MediaServer::start().await;
    let extractors = Extractors::new(client(&[]));
    for raw in [
        server.url("/media/a.mp4"),
        format!("http://localhost:{}/media/a.mp4", server.port()),
        format!("http://rebind.example.test:{}/media/a.mp4", server.port()),
        "http://10.1.2.3/a.mp4".to_owned(),
        "http://192.168.0.10/a.mp4".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://metadata.google.internal/computeMetadata/v1/".to_owned(),
        format!("http://[::1]:{}/media/a.mp4", server.port()),
        format!("http://[::ffff:127.0.0.1]:{}/media/a.mp4", server.port()),
    ] {
        let outcome = match extractors.client().parse_url(&raw) {
            Ok(url) => extractors.parse(&url).await.map(|_| ()),
            Err(error) => Err(error),
        };
        let error = outcome.expect_err(&raw);
        assert!(is_policy(&error), "{raw}: {error:?}");
        assert!(!error.is_transient(), "{raw}: a policy refusal is permanent");
    }
    assert_eq!(server.hits("/media/a.mp4"), 0, "no request reached the server");
}

#[tokio::test]
async fn a_public_looking_redirect_to_an_internal_address_is_refused() {
    let server = MediaServer::start().await;
    // Only the server itself is allowed; every redirect target is checked again.
    let extractors = Extractors::new(client(&["127.0.0.1/32"]));
    let targets = [
        format!("http://cdn.example.test:{}/media/a.mp4", server.port()),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        format!("http://127.0.0.2:{}/media/a.mp4", server.port()),
        "file:///etc/passwd".to_owned(),
    ];
    for target in targets {
        let raw = format!("{}?to={}", server.url("/redirect"), urlencode(&target));
        let url = extractors.client().parse_url(&raw).expect("the first hop is allowed");
        let error = extractors.parse(&url).await.expect_err(&target);
        // reqwest never follows a redirect to another scheme; it comes back and is refused.
        let refused =
            matches!(error, FetchError::Policy(_)) || (target.starts_with("file:") && matches!(error, FetchError::Unsupported(_)));
        assert!(refused && !error.is_transient(), "{target}: {error:?}");
    }
    assert!(server.hits("/redirect") >= 4);
    assert_eq!(server.hits("/media/a.mp4"), 0);
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(
            |byte| {
                if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) { (byte as char).to_string() } else { format!("%{byte:02X}") }
            },
        )
        .collect()
}

#[tokio::test]
async fn direct_links_parse_to_one_format_and_download_with_resume() {
    let server = MediaServer::start().await;
    let extractors = Extractors::new(client(&["127.0.0.0/8"]));
    let url = extractors.client().parse_url(&server.url("/media/holiday.mp4?size=300000")).expect("url");
    let info = extractors.parse(&url).await.expect("parses");
    assert_eq!((info.title.as_str(), info.extractor.as_str(), info.platform.as_str()), ("holiday", "direct", "127.0.0.1"));
    assert_eq!(info.formats.len(), 1);
    assert_eq!(info.formats[0].size_bytes, Some(300_000));
    assert_eq!(info.formats[0].container.as_deref(), Some("mp4"));

    // A partial file of 100 000 bytes is continued from there with `Range`.
    let dir = std::env::temp_dir().join(format!("assets-fetch-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("partial");
    std::fs::write(&path, &media_bytes(300_000)[..100_000]).expect("partial");
    let mut sink = PartialFile::open(path, 10 * 1024 * 1024).await.expect("open");
    vidgraph_assets::fetch::direct::download(extractors.client(), &url, &mut sink).await.expect("downloads");
    let finished = sink.finish().await.expect("finish");
    assert_eq!(finished.size, 300_000);
    assert_eq!(finished.sha256, sha256_hex(&media_bytes(300_000)));
    assert_eq!(server.ranges("/media/holiday.mp4"), ["bytes=100000-"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn hls_master_playlists_list_variants_and_segments_are_joined_in_order() {
    let server = MediaServer::start().await;
    let extractors = Extractors::new(client(&["127.0.0.0/8"]));
    let url = extractors.client().parse_url(&server.url("/hls/master.m3u8?segments=5")).expect("url");
    let info = extractors.parse(&url).await.expect("parses");
    assert_eq!(info.extractor, "hls");
    let qualities: Vec<_> = info.formats.iter().map(|format| (format.id.as_str(), format.quality.as_deref())).collect();
    assert_eq!(qualities, [("hls-0", Some("360p")), ("hls-1", Some("720p"))]);
    let variant = reqwest::Url::parse(&info.formats[1].url).expect("variant url");
    let dir = std::env::temp_dir().join(format!("assets-hls-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut sink = PartialFile::open(dir.join("partial"), 10 * 1024 * 1024).await.expect("open");
    vidgraph_assets::fetch::hls::download(extractors.client(), &variant, &mut sink).await.expect("downloads");
    let finished = sink.finish().await.expect("finish");
    assert_eq!(finished.sha256, sha256_hex(&media_bytes(5000)), "5 segments of 1000 bytes, in order");
    for n in 0..5 {
        assert_eq!(server.hits(&format!("/hls/seg{n}.ts")), 1);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn every_hls_segment_meets_the_url_policy() {
    let server = MediaServer::start().await;
    let extractors = Extractors::new(client(&["127.0.0.0/8"]));
    let url = extractors.client().parse_url(&server.url("/hls/evil.m3u8")).expect("url");
    let dir = std::env::temp_dir().join(format!("assets-evil-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut sink = PartialFile::open(dir.join("partial"), 1024 * 1024).await.expect("open");
    let error = vidgraph_assets::fetch::hls::download(extractors.client(), &url, &mut sink).await.expect_err("refused");
    assert!(is_policy(&error), "{error:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn failures_are_classified_pages_unsupported_and_huge_files_too_large() {
    let server = MediaServer::start().await;
    let extractors = Extractors::new(client(&["127.0.0.0/8"]));
    let parse = |path: &str| {
        let url = extractors.client().parse_url(&server.url(path)).expect("url");
        let extractors = &extractors;
        async move { extractors.parse(&url).await }
    };
    let not_found = parse("/status/404").await.expect_err("404");
    assert_eq!((not_found.code(), not_found.is_transient()), ("NOT_FOUND", false));
    let unavailable = parse("/status/503").await.expect_err("503");
    assert_eq!((unavailable.code(), unavailable.is_transient()), ("SOURCE_ERROR", true));
    let throttled = parse("/status/429").await.expect_err("429");
    assert!(throttled.is_transient());
    assert!(matches!(parse("/page.html").await.expect_err("html"), FetchError::Unsupported(_)));
    assert!(matches!(parse("/huge.mp4").await.expect_err("huge"), FetchError::TooLarge { .. }));
    // Nothing listens on the port any more: a network failure, transient.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let url = extractors.client().parse_url(&format!("http://127.0.0.1:{closed}/a.mp4")).expect("url");
    let refused = extractors.parse(&url).await.expect_err("refused");
    assert!(matches!(refused, FetchError::Network(_)) && refused.is_transient(), "{refused:?}");
}

#[tokio::test]
async fn a_body_cut_short_is_a_transient_failure() {
    let server = MediaServer::start().await;
    let extractors = Extractors::new(client(&["127.0.0.0/8"]));
    let url = extractors.client().parse_url(&server.url("/media/cut.mp4?size=200000&cut_at=50000")).expect("url");
    let dir = std::env::temp_dir().join(format!("assets-cut-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut sink = PartialFile::open(dir.join("partial"), 1024 * 1024).await.expect("open");
    let error = vidgraph_assets::fetch::direct::download(extractors.client(), &url, &mut sink).await.expect_err("cut");
    assert!(error.is_transient(), "{error:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn one_huge_hls_segment_is_refused_before_it_is_read_into_memory() {
    let server = MediaServer::start().await;
    let policy = UrlPolicy::from_config(&["127.0.0.0/8".to_owned()]).expect("policy");
    let client = SafeClient::with_lookup(policy, FetchLimits { max_file_bytes: 1 << 30, ..limits() }, test_lookup()).expect("client");
    let url = client.parse_url(&server.url("/hls/bigseg.m3u8")).expect("url");
    let dir = std::env::temp_dir().join(format!("assets-bigseg-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut sink = PartialFile::open(dir.join("partial"), 1 << 30).await.expect("open");
    let error = vidgraph_assets::fetch::hls::download(&client, &url, &mut sink).await.expect_err("refused");
    assert_eq!(error, FetchError::TooLarge { limit: vidgraph_assets::fetch::hls::MAX_SEGMENT_BYTES });
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn through_a_download_proxy_names_are_still_checked_at_connect_time_and_the_proxy_only_gets_checked_addresses() {
    let server = MediaServer::start().await;
    let proxy = CountingProxy::start().await;
    let config = platform::config::AssetsConfig { proxy_url: Some(proxy.url()), ..Default::default() };
    let proxies = Proxies::from_config(&config, &client(&["127.0.0.1/32"])).expect("proxies");
    let now = chrono::Utc::now();
    let route = proxies.route(now).await.expect("route");
    let through = route.client().expect("a proxied client");

    // A public-looking name of a private address: refused here, never handed to the proxy (which
    // would resolve it itself, beyond our resolver).
    let private = reqwest::Url::parse(&format!("http://cdn.example.test:{}/media/a.mp4", server.port())).expect("url");
    let error = proxies.outcome(&route, through.get(&private, None).await, now).expect_err("refused");
    assert!(is_policy(&error), "{error:?}");
    assert!(proxy.requests().is_empty(), "{:?}", proxy.requests());

    // A name of an allowed address: fetched through the proxy, which is given the address.
    let allowed = reqwest::Url::parse(&format!("http://rebind.example.test:{}/media/a.mp4?size=5000", server.port())).expect("url");
    let body = through.get(&allowed, None).await.expect("through the proxy").bytes().await.expect("body");
    assert_eq!(sha256_hex(&body), sha256_hex(&media_bytes(5000)));
    assert_eq!(proxy.requests(), [format!("GET http://127.0.0.1:{}/media/a.mp4?size=5000 HTTP/1.1", server.port())]);
    assert_eq!(server.hits("GET /media/a.mp4"), 1);
}
