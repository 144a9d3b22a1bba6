//! Downloads through download proxies, through the router: a proxy provider's proxy that dies
//! is reported and replaced on the retry; a configured fixed proxy carries every download and,
//! once dead, is a retried transient failure reported to no provider; and the provider's
//! circuit breaker opens after more than half of 20 calls failed, fails new downloads fast,
//! then half-opens and closes on an injected clock. Every breaker shows in the admin query.

use crate::harness::{Platform, free_port};
use assets::domain::breaker::{MIN_CALLS, PROBES};
use assets::testing::{CountingProxy, DeadProxy, MediaServer, ProxyProvider, media_bytes, sha256_hex};
use chrono::Utc;
use platform::clock::{Clock, ManualClock};
use platform::config::AppConfig;
use serde_json::{Value, json};
use std::time::Duration;

const START: &str = "mutation($input: StartDownloadInput!) { startDownload(input: $input) { id status } }";
const GET: &str = "query($id: ID!) { download(id: $id) { status attempts errorCode sha256 } }";
const BREAKERS: &str = "{ assetsCircuitBreakers { kind platform state recentCalls recentFailures openUntil } }";

/// `assets` may reach the local servers; retries are quick and leases short.
fn local(config: &mut AppConfig) {
    config.assets.root = config.storage.root.join("assets");
    config.assets.allow_destinations = vec!["127.0.0.0/8".into()];
    config.assets.retry_base_ms = 50;
    config.assets.task_lease_secs = 3;
    config.assets.disk_warn_percent = 100;
    config.assets.disk_high_percent = 100;
}

async fn start(platform: &Platform, token: &str, url: &str) -> String {
    let input = json!({ "input": { "url": url, "mode": "QUICK" } });
    platform.gql(START, input, Some(token)).await.ok().data("/startDownload/id").as_str().expect("id").to_owned()
}

/// Polls `download(id)` until it has ended (or the deadline passes).
async fn wait_until_ended(platform: &Platform, token: &str, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    loop {
        let download = platform.gql(GET, json!({ "id": id }), Some(token)).await.ok().data("/download").clone();
        if download["status"] == "COMPLETED" || download["status"] == "FAILED" {
            return download;
        }
        assert!(tokio::time::Instant::now() < deadline, "download {id} never ended: {download}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The breaker of `kind` in `assetsCircuitBreakers`, if there is one.
async fn breaker(platform: &Platform, admin: &str, kind: &str) -> Option<Value> {
    let breakers = platform.gql(BREAKERS, json!({}), Some(admin)).await.ok();
    breakers.data("/assetsCircuitBreakers").as_array().and_then(|all| all.iter().find(|breaker| breaker["kind"] == kind).cloned())
}

/// `GET` request lines the proxy was sent for `path` on `server`, in absolute form.
fn proxied_gets(proxy: &CountingProxy, server: &MediaServer, path: &str) -> u64 {
    let target = format!("GET {} ", server.url(path));
    let prefix = format!("GET {}", server.url(path));
    proxy.requests().iter().filter(|line| line.starts_with(&target) || line.starts_with(&format!("{prefix}?"))).count() as u64
}

#[tokio::test]
async fn a_dying_proxy_is_reported_and_replaced_on_the_retry_and_the_providers_breaker_counts_it() {
    let server = MediaServer::start().await;
    let (dead, good) = (DeadProxy::start().await, CountingProxy::start().await);
    let provider = ProxyProvider::start(vec![dead.url(), good.url()]).await;
    let (proxy_url, report_url) = (provider.url("/proxy"), provider.url("/report"));
    let platform = Platform::start_with(
        move |name: &str, config: &mut AppConfig| {
            if name == "assets" {
                local(config);
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

    let id = start(&platform, owner, &server.url("/media/proxied.mp4?size=120000")).await;
    let done = wait_until_ended(&platform, owner, &id).await;
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

    assert_eq!(
        breaker(&platform, &admin, "PROXY_PROVIDER").await,
        Some(
            json!({ "kind": "PROXY_PROVIDER", "platform": "127.0.0.1", "state": "CLOSED", "recentCalls": 2, "recentFailures": 1, "openUntil": null })
        )
    );
    assert!(breaker(&platform, &admin, "PLATFORM").await.is_some());
}

#[tokio::test]
async fn a_fixed_proxy_carries_every_download_and_once_dead_is_a_retried_transient_failure_reported_to_no_provider() {
    let server = MediaServer::start().await;
    // It carries the first download (120 000 bytes), then dies in the middle of the second.
    let proxy = CountingProxy::dying_after(200_000).await;
    let proxy_url = proxy.url();
    let platform = Platform::start_with(
        move |name: &str, config: &mut AppConfig| {
            if name == "assets" {
                local(config);
                config.assets.proxy_url = Some(proxy_url.clone());
            }
        },
        &[],
    )
    .await;
    let users = platform.users("fixedproxy", 1).await;
    let owner = &users[0].1;
    let (_, admin) = platform.admin("fixedboss").await;

    let id = start(&platform, owner, &server.url("/media/fixed.mp4?size=120000")).await;
    let done = wait_until_ended(&platform, owner, &id).await;
    assert_eq!((done["status"].clone(), done["attempts"].clone()), (json!("COMPLETED"), json!(1)), "{done}");
    assert_eq!(done["sha256"], json!(sha256_hex(&media_bytes(120_000))));
    // The proxy saw the download, and the server saw it only from the proxy.
    assert_eq!(proxied_gets(&proxy, &server, "/media/fixed.mp4"), 1, "{:?}", proxy.requests());
    assert_eq!(server.hits("GET /media/fixed.mp4"), 1);

    // 400 000 bytes at 20 000 per 50 ms: the proxy dies about 80 000 bytes in, and every later
    // connection to it is refused.
    let id = start(&platform, owner, &server.url("/media/cut.mp4?size=400000&rate=20000")).await;
    let failed = wait_until_ended(&platform, owner, &id).await;
    assert_eq!(
        (failed["status"].clone(), failed["attempts"].clone(), failed["errorCode"].clone()),
        (json!("FAILED"), json!(3), json!("PROXY_FAILED")),
        "a dead proxy is transient: retried up to 3 attempts: {failed}"
    );
    assert_eq!(server.hits("GET /media/cut.mp4"), 1, "only the first attempt got through the proxy");
    assert_eq!(proxied_gets(&proxy, &server, "/media/cut.mp4"), 1);
    // No provider: nothing to report to, no provider breaker.
    assert_eq!(breaker(&platform, &admin, "PROXY_PROVIDER").await, None);
    let platform_breaker = breaker(&platform, &admin, "PLATFORM").await.expect("the platform's breaker");
    assert_eq!(platform_breaker["recentFailures"], json!(0), "a dead proxy is not held against the site: {platform_breaker}");
}

#[tokio::test]
async fn the_providers_breaker_opens_after_more_than_half_of_twenty_calls_failed_fails_downloads_fast_then_probes_close_it() {
    let server = MediaServer::start().await;
    let (dead, good) = (DeadProxy::start().await, CountingProxy::start().await);
    // Twenty dead proxies, then a working one for good.
    let mut handed_out = vec![dead.url(); MIN_CALLS];
    handed_out.push(good.url());
    let provider = ProxyProvider::start(handed_out).await;
    let (proxy_url, report_url) = (provider.url("/proxy"), provider.url("/report"));
    let with_provider = move |config: &mut AppConfig| {
        local(config);
        config.assets.proxy_provider_url = Some(proxy_url.clone());
        config.assets.proxy_provider_report_url = Some(report_url.clone());
    };
    // The router sends `assets` to a replica on a manual clock, the only one with workers; the
    // clock starts a day ahead, so the platform's own replica (real clock) never finds the
    // manual replica's leases expired.
    let port = free_port();
    let configure = with_provider.clone();
    let platform = Platform::start_with(
        move |name: &str, config: &mut AppConfig| {
            if name == "assets" {
                configure(config);
                config.assets.workers = 0;
            }
        },
        &[("assets", format!("http://127.0.0.1:{port}/graphql"))],
    )
    .await;
    let clock = ManualClock::starting_at(Utc::now() + chrono::Duration::days(1));
    let mut config = platform.services.config();
    with_provider(&mut config);
    config.http.port = Some(port);
    config.assets.workers = 1;
    // 5 tasks of 4 attempts: exactly the 20 calls the breaker needs.
    config.assets.max_attempts = 4;
    let deps = platform::Deps::connect(config, "assets").await.expect("backends");
    let options = assets::Options { clock: clock.clone(), ..assets::Options::default() };
    let application = assets::build_with(deps, options).await.expect("assets builds");
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(application.run_until(async move {
        let _ = stopped.await;
    }));
    let (_, admin) = platform.admin("breakerboss").await;

    for n in 0..MIN_CALLS / 4 {
        let id = start(&platform, &admin, &server.url(&format!("/media/failing{n}.mp4?size=1000"))).await;
        let failed = wait_until_ended(&platform, &admin, &id).await;
        assert_eq!(
            (failed["status"].clone(), failed["attempts"].clone(), failed["errorCode"].clone()),
            (json!("FAILED"), json!(4), json!("PROXY_FAILED")),
            "task {n}: {failed}"
        );
        let state = breaker(&platform, &admin, "PROXY_PROVIDER").await.expect("the provider's breaker");
        let expected = if n + 1 < MIN_CALLS / 4 { "CLOSED" } else { "OPEN" };
        assert_eq!(state["state"], json!(expected), "after {} failed calls: {state}", (n + 1) * 4);
    }
    let open = breaker(&platform, &admin, "PROXY_PROVIDER").await.expect("the provider's breaker");
    let until = open["openUntil"].as_str().and_then(|until| chrono::DateTime::parse_from_rfc3339(until).ok()).expect("openUntil");
    assert_eq!(until, clock.now() + chrono::Duration::seconds(30), "{open}");

    // Open: a new download fails at once, before any request, with when to try again.
    let input = json!({ "input": { "url": server.url("/media/refused.mp4?size=1000"), "mode": "QUICK" } });
    let refused = platform.gql(START, input.clone(), Some(&admin)).await;
    assert_eq!(refused.codes(), ["RATE_LIMITED"], "{}", refused.body);
    let extensions = &refused.body["errors"][0]["extensions"];
    assert_eq!(
        (extensions["reason"].clone(), extensions["retryAfterSecs"].clone()),
        (json!("CIRCUIT_OPEN"), json!(30)),
        "{}",
        refused.body
    );
    assert_eq!(server.hits("/media/refused.mp4"), 0, "not even parsed");
    assert_eq!(provider.asked(), MIN_CALLS as u64, "the provider was left alone");

    // 30 s later it half-opens: probes go through, and 3 that succeed close it.
    clock.advance(chrono::Duration::seconds(31));
    for probe in 0..PROBES {
        let id = start(&platform, &admin, &server.url(&format!("/media/probe{probe}.mp4?size=1000"))).await;
        let done = wait_until_ended(&platform, &admin, &id).await;
        assert_eq!((done["status"].clone(), done["attempts"].clone()), (json!("COMPLETED"), json!(1)), "probe {probe}: {done}");
        let state = breaker(&platform, &admin, "PROXY_PROVIDER").await.expect("the provider's breaker");
        let expected = if probe + 1 < PROBES { "HALF_OPEN" } else { "CLOSED" };
        assert_eq!(state["state"], json!(expected), "after {} probes: {state}", probe + 1);
    }
    assert_eq!(
        breaker(&platform, &admin, "PROXY_PROVIDER").await,
        Some(
            json!({ "kind": "PROXY_PROVIDER", "platform": "127.0.0.1", "state": "CLOSED", "recentCalls": 0, "recentFailures": 0, "openUntil": null })
        )
    );
    assert_eq!(provider.asked(), MIN_CALLS as u64 + 1, "one working proxy, kept for every probe");
    assert!(good.connections() >= u64::from(PROBES));
}
