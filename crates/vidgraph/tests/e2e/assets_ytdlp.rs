//! yt-dlp through the router: a page with a `<video>` (which the built-in extractors do not
//! understand) parses and downloads through yt-dlp with its hash recorded, and a page whose
//! video is on the metadata address fails at once with `URL_POLICY` — yt-dlp's connections go
//! through `assets`' egress proxy. With a download proxy in effect, the egress proxy chains to
//! it: a configured proxy carries all of yt-dlp's traffic (given checked addresses, never
//! names), and a provider's proxy that dies in the middle of a download is `PROXY_FAILED`,
//! reported and replaced on the retry. Skipped by name where yt-dlp is not installed
//! (`assets::testing::ytdlp_program`).

use crate::harness::Platform;
use crate::subscriptions::WsClient;
use assets::testing::{CountingProxy, MediaServer, ProxyProvider, media_bytes, sha256_hex, ytdlp_program};
use platform::config::AppConfig;
use serde_json::{Value, json};
use std::time::Duration;

const PARSE: &str = "query($url: String!) { parseUrl(url: $url) { title platform extractor formats { id container contentType } } }";
const START: &str = "mutation($input: StartDownloadInput!) { startDownload(input: $input) { id status } }";
const GET: &str = "query($id: ID!) { download(id: $id) { status attempts errorCode sizeBytes sha256 contentType } }";
const PROGRESS: &str = "subscription($id: ID!) { downloadProgress(taskId: $id) { kind attempt errorCode } }";
const BREAKERS: &str = "{ assetsCircuitBreakers { kind state recentCalls recentFailures } }";

/// A platform whose `assets` runs `program` as yt-dlp, may reach `127.0.0.1`, retries quickly,
/// and is configured further by `extra`.
async fn ytdlp_platform(program: String, extra: impl Fn(&mut AppConfig) + Send + Sync + 'static) -> Platform {
    Platform::start_with(
        move |name: &str, config: &mut AppConfig| {
            if name == "assets" {
                config.assets.root = config.storage.root.join("assets");
                config.assets.allow_destinations = vec!["127.0.0.1/32".into()];
                config.assets.ytdlp_path = program.clone();
                config.assets.parse_timeout_ms = 60_000;
                config.assets.retry_base_ms = 50;
                config.assets.disk_warn_percent = 100;
                config.assets.disk_high_percent = 100;
                extra(config);
            }
        },
        &[],
    )
    .await
}

/// Parses `page` (through yt-dlp) and starts a quick download of its first format.
async fn start_page(platform: &Platform, token: &str, page: &str) -> String {
    let parsed = platform.gql(PARSE, json!({ "url": page }), Some(token)).await.ok();
    assert_eq!(parsed.data("/parseUrl/extractor"), &json!("yt-dlp"), "{}", parsed.body);
    let format = parsed.data("/parseUrl/formats/0/id").clone();
    let input = json!({ "input": { "url": page, "mode": "QUICK", "formatId": format } });
    platform.gql(START, input, Some(token)).await.ok().data("/startDownload/id").as_str().expect("id").to_owned()
}

async fn wait_until_ended(platform: &Platform, token: &str, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let download = platform.gql(GET, json!({ "id": id }), Some(token)).await.ok().data("/download").clone();
        if download["status"] == "COMPLETED" || download["status"] == "FAILED" {
            return download;
        }
        assert!(tokio::time::Instant::now() < deadline, "download {id} never ended: {download}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_page_downloads_through_ytdlp_and_its_connections_obey_the_url_policy_through_the_router() {
    let Some(program) = ytdlp_program("a_page_downloads_through_ytdlp_and_its_connections_obey_the_url_policy_through_the_router") else {
        return;
    };
    let server = MediaServer::start().await;
    let program = program.to_string_lossy().into_owned();
    let platform = Platform::start_with(
        move |name: &str, config: &mut AppConfig| {
            if name == "assets" {
                config.assets.root = config.storage.root.join("assets");
                config.assets.allow_destinations = vec!["127.0.0.1/32".into()];
                config.assets.ytdlp_path = program.clone();
                config.assets.parse_timeout_ms = 60_000;
                config.assets.disk_warn_percent = 100;
                config.assets.disk_high_percent = 100;
            }
        },
        &[],
    )
    .await;
    let users = platform.users("ytdlper", 1).await;
    let owner = &users[0].1;

    let page = server.url("/watch.html?src=/media/clip.mp4?size=200000");
    let parsed = platform.gql(PARSE, json!({ "url": page }), Some(owner)).await.ok();
    assert_eq!(parsed.data("/parseUrl/extractor"), &json!("yt-dlp"));
    assert_eq!(parsed.data("/parseUrl/platform"), &json!("127.0.0.1"));
    assert_eq!(parsed.data("/parseUrl/formats/0/container"), &json!("mp4"));
    let format = parsed.data("/parseUrl/formats/0/id").clone();
    let input = json!({ "input": { "url": page, "mode": "QUICK", "formatId": format } });
    let id = platform.gql(START, input, Some(owner)).await.ok().data("/startDownload/id").as_str().expect("id").to_owned();
    let done = wait_until_ended(&platform, owner, &id).await;
    assert_eq!(done["status"], json!("COMPLETED"), "{done}");
    assert_eq!(done["sha256"], json!(sha256_hex(&media_bytes(200_000))));
    assert_eq!(done["sizeBytes"], json!(200000));
    assert_eq!(done["contentType"], json!("video/mp4"));

    // The page is on an allowed address, its video on the metadata one: refused by the egress
    // proxy, permanently (one attempt).
    let evil = server.url("/watch.html?src=http://169.254.169.254/latest/clip.mp4");
    let parsed = platform.gql(PARSE, json!({ "url": evil }), Some(owner)).await;
    if parsed.codes().is_empty() {
        let input = json!({ "input": { "url": evil, "mode": "QUICK" } });
        let id = platform.gql(START, input, Some(owner)).await.ok().data("/startDownload/id").as_str().expect("id").to_owned();
        let failed = wait_until_ended(&platform, owner, &id).await;
        assert_eq!((failed["status"].clone(), failed["attempts"].clone()), (json!("FAILED"), json!(1)), "{failed}");
        assert_eq!(failed["errorCode"], json!("URL_POLICY"));
    } else {
        assert_eq!(parsed.body["errors"][0]["extensions"]["reason"], json!("URL_POLICY"), "{}", parsed.body);
    }
}

#[tokio::test]
async fn with_a_configured_proxy_all_of_ytdlps_traffic_goes_through_it_to_checked_addresses() {
    let test = "with_a_configured_proxy_all_of_ytdlps_traffic_goes_through_it_to_checked_addresses";
    let Some(program) = ytdlp_program(test) else { return };
    let server = MediaServer::start().await;
    let proxy = CountingProxy::start().await;
    let proxy_url = proxy.url();
    let platform =
        ytdlp_platform(program.to_string_lossy().into_owned(), move |config| config.assets.proxy_url = Some(proxy_url.clone())).await;
    let users = platform.users("ytproxied", 1).await;
    let owner = &users[0].1;

    // By name: `localhost` resolves to the allowed 127.0.0.1 (and the refused ::1).
    let page = format!("http://localhost:{}/watch.html?src=/media/clip.mp4?size=200000", server.port());
    let id = start_page(&platform, owner, &page).await;
    let done = wait_until_ended(&platform, owner, &id).await;
    assert_eq!(done["status"], json!("COMPLETED"), "{done}");
    assert_eq!(done["sha256"], json!(sha256_hex(&media_bytes(200_000))));

    let requests = proxy.requests();
    let origin = format!("http://127.0.0.1:{}/", server.port());
    let targets: Vec<&str> = requests.iter().filter_map(|line| line.split(' ').nth(1)).collect();
    assert!(
        !targets.is_empty() && targets.iter().all(|target| target.starts_with(&origin)),
        "only checked addresses, never a name: {requests:?}"
    );
    let through = |path: &str| requests.iter().filter(|line| line.starts_with(&format!("GET {origin}{path}"))).count() as u64;
    // The server was reached by yt-dlp only through the proxy: every GET it answered, the
    // proxy carried (the built-in probe before yt-dlp is a direct HEAD).
    assert!(server.hits("GET /watch.html") >= 2, "the -J probe and the download each read the page");
    assert_eq!(through("watch.html"), server.hits("GET /watch.html"), "{requests:?}");
    assert!(server.hits("GET /media/clip.mp4") >= 1);
    assert_eq!(through("media/clip.mp4"), server.hits("GET /media/clip.mp4"), "{requests:?}");
}

#[tokio::test]
async fn a_providers_proxy_dying_in_the_middle_of_a_ytdlp_download_is_proxy_failed_reported_and_replaced_on_the_retry() {
    let test = "a_providers_proxy_dying_in_the_middle_of_a_ytdlp_download_is_proxy_failed_reported_and_replaced_on_the_retry";
    let Some(program) = ytdlp_program(test) else { return };
    let server = MediaServer::start().await;
    // It carries the parse (a page of a few hundred bytes), then dies 60 000 bytes into the video.
    let (dying, good) = (CountingProxy::dying_after(60_000).await, CountingProxy::start().await);
    let provider = ProxyProvider::start(vec![dying.url(), good.url()]).await;
    let (proxy_url, report_url) = (provider.url("/proxy"), provider.url("/report"));
    let platform = ytdlp_platform(program.to_string_lossy().into_owned(), move |config| {
        config.assets.proxy_provider_url = Some(proxy_url.clone());
        config.assets.proxy_provider_report_url = Some(report_url.clone());
    })
    .await;
    let users = platform.users("ytdying", 1).await;
    let owner = &users[0].1;
    let (_, admin) = platform.admin("ytdyingboss").await;

    // 400 000 bytes at 20 000 per 50 ms.
    let id = start_page(&platform, owner, &server.url("/watch.html?src=/media/slow.mp4?size=400000%26rate=20000")).await;
    // Followed on the subscription (which answers the router's pings) until it ends.
    let mut watcher = WsClient::connect(&platform.router_ws_url(), Some(owner)).await;
    watcher.subscribe("1", PROGRESS, json!({ "id": id })).await;
    // Generous: two yt-dlp runs, the first with its own retries against the dead proxy, on a
    // machine that may be busy.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    let mut retried = None;
    loop {
        assert!(tokio::time::Instant::now() < deadline, "the download never ended");
        let Some(message) = watcher.try_next(Duration::from_secs(30)).await else { continue };
        let event = &message["payload"]["data"]["downloadProgress"];
        if event["kind"] == "RETRYING" {
            retried = Some(event.clone());
        }
        if event["kind"] == "COMPLETED" || event["kind"] == "FAILED" || message["type"] != "next" {
            break;
        }
    }
    assert_eq!(retried, Some(json!({ "kind": "RETRYING", "attempt": 1, "errorCode": "PROXY_FAILED" })));
    let done = wait_until_ended(&platform, owner, &id).await;
    assert_eq!((done["status"].clone(), done["attempts"].clone()), (json!("COMPLETED"), json!(2)), "{done}");
    assert_eq!(done["sha256"], json!(sha256_hex(&media_bytes(400_000))), "the retry started the file again, whole");

    assert_eq!(provider.asked(), 2, "one replacement, for the retry");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while provider.reports().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the dying proxy was never reported");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let reports = provider.reports();
    assert_eq!((reports.len(), reports[0]["proxy"].clone()), (1, json!(format!("{}/", dying.url()))), "{reports:?}");
    let video = format!("GET http://127.0.0.1:{}/media/slow.mp4", server.port());
    assert!(dying.requests().iter().any(|line| line.starts_with(&video)), "the first attempt went through the dying proxy");
    assert!(good.requests().iter().any(|line| line.starts_with(&video)), "the retry through its replacement");

    // The parse and the two attempts, one of which failed, are the provider's breaker's calls.
    let breakers = platform.gql(BREAKERS, json!({}), Some(&admin)).await.ok();
    let all = breakers.data("/assetsCircuitBreakers").as_array().cloned().unwrap_or_default();
    let provider_breaker = all.iter().find(|breaker| breaker["kind"] == "PROXY_PROVIDER").expect("the provider's breaker");
    assert_eq!(provider_breaker, &json!({ "kind": "PROXY_PROVIDER", "state": "CLOSED", "recentCalls": 3, "recentFailures": 1 }));
}
