//! Downloads through a proxy provider's proxies, through the router: a proxy that dies fails
//! the attempt, is reported to the provider and replaced on the retry, and the provider's
//! circuit breaker shows in the admin query next to the platforms'.

use crate::harness::Platform;
use assets::testing::{CountingProxy, DeadProxy, MediaServer, ProxyProvider, media_bytes, sha256_hex};
use platform::config::AppConfig;
use serde_json::json;
use std::time::Duration;

const START: &str = "mutation($input: StartDownloadInput!) { startDownload(input: $input) { id status } }";
const GET: &str = "query($id: ID!) { download(id: $id) { status attempts errorCode sha256 } }";
const BREAKERS: &str = "{ assetsCircuitBreakers { kind platform state recentCalls recentFailures } }";

#[tokio::test]
async fn a_dying_proxy_is_reported_and_replaced_on_the_retry_and_the_providers_breaker_counts_it() {
    let server = MediaServer::start().await;
    let (dead, good) = (DeadProxy::start().await, CountingProxy::start().await);
    let provider = ProxyProvider::start(vec![dead.url(), good.url()]).await;
    let (proxy_url, report_url) = (provider.url("/proxy"), provider.url("/report"));
    let platform = Platform::start_with(
        move |name: &str, config: &mut AppConfig| {
            if name == "assets" {
                config.assets.root = config.storage.root.join("assets");
                config.assets.allow_destinations = vec!["127.0.0.0/8".into()];
                config.assets.retry_base_ms = 50;
                config.assets.task_lease_secs = 3;
                config.assets.disk_warn_percent = 100;
                config.assets.disk_high_percent = 100;
                config.assets.proxy_provider_url = Some(proxy_url.clone());
                config.assets.proxy_provider_report_url = Some(report_url.clone());
            }
        },
        &[],
    )
    .await;
    let users = platform.users("proxied", 1).await;
    let owner = &users[0].1;
    let (_, admin) = platform.admin("proxyboss").await;

    let url = server.url("/media/proxied.mp4?size=120000");
    let input = json!({ "input": { "url": url, "mode": "QUICK" } });
    let id = platform.gql(START, input, Some(owner)).await.ok().data("/startDownload/id").as_str().expect("id").to_owned();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    let done = loop {
        let download = platform.gql(GET, json!({ "id": id }), Some(owner)).await.ok().data("/download").clone();
        if download["status"] == "COMPLETED" || download["status"] == "FAILED" {
            break download;
        }
        assert!(tokio::time::Instant::now() < deadline, "never ended: {download}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(done["status"], json!("COMPLETED"), "{done}");
    assert_eq!(done["attempts"], json!(2), "the dead proxy cost one attempt");
    assert_eq!(done["sha256"], json!(sha256_hex(&media_bytes(120_000))));
    assert_eq!(provider.asked(), 2, "a new proxy for the retry, and the working one kept");
    assert!(good.connections() >= 1, "the download went through the replacement proxy");
    assert_eq!(server.hits("GET /media/proxied.mp4"), 1, "only the second attempt reached the server");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while provider.reports().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the dead proxy was never reported");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let reports = provider.reports();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0]["proxy"], json!(format!("{}/", dead.url())), "{reports:?}");
    assert!(reports[0]["reason"].as_str().is_some_and(|reason| !reason.is_empty()));

    let breakers = platform.gql(BREAKERS, json!({}), Some(&admin)).await.ok();
    let all = breakers.data("/assetsCircuitBreakers").as_array().cloned().unwrap_or_default();
    let provider_breaker = all.iter().find(|breaker| breaker["kind"] == "PROXY_PROVIDER").expect("the provider's breaker");
    assert_eq!(
        provider_breaker,
        &json!({ "kind": "PROXY_PROVIDER", "platform": "127.0.0.1", "state": "CLOSED", "recentCalls": 2, "recentFailures": 1 })
    );
    assert!(all.iter().any(|breaker| breaker["kind"] == "PLATFORM"), "{all:?}");
}
