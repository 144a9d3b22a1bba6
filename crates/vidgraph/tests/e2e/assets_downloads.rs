//! The download centre through the router, against a local media server: parse, quick and
//! archive downloads with their hash, the file at its signed URL (with `Range`), history,
//! cancel and delete, live progress, failures and dead letters, a worker killed mid-download,
//! the URL policy, and publishing an archive with `createVideo(assetRef:)`.

use crate::harness::{Platform, Reply, spawn_subgraph};
use crate::subscriptions::WsClient;
use assets::testing::{MediaServer, media_bytes, sha256_hex};
use platform::config::AppConfig;
use serde_json::{Value, json};
use std::time::Duration;
use vidgraph::subgraphs::Subgraph;

const PARSE: &str =
    "query($url: String!) { parseUrl(url: $url) { url title platform extractor formats { id quality container sizeBytes contentType } } }";
const START: &str = "mutation($input: StartDownloadInput!) { startDownload(input: $input) { id status mode title formatId } }";
const GET: &str = "query($id: ID!) { download(id: $id) { id status mode attempts errorCode sizeBytes sha256 fileName contentType fileUrl assetRef bytesDone completedAt expiresAt } }";
const MINE: &str = "query($first: Int, $after: String, $mode: DownloadMode, $status: DownloadStatus) { myDownloads(first: $first, after: $after, mode: $mode, status: $status) { edges { cursor node { id mode status } } hasNextPage endCursor } }";
const CANCEL: &str = "mutation($id: ID!) { cancelDownload(id: $id) { id status } }";
const DELETE: &str = "mutation($id: ID!) { deleteDownload(id: $id) }";
const QUOTA: &str = "{ myQuota { used limit remaining resetsAt } }";
const PROGRESS: &str = "subscription($id: ID!) { downloadProgress(taskId: $id) { taskId kind attempt bytesDone bytesTotal percent speedBps etaSecs errorCode } }";
const CREATE_VIDEO: &str = "mutation($input: CreateVideoInput!) { createVideo(input: $input) { id state } }";

/// `assets` may reach the local media server; retries are quick and leases short.
fn local(name: &str, config: &mut AppConfig) {
    if name == "assets" {
        config.assets.root = config.storage.root.join("assets");
        config.assets.allow_destinations = vec!["127.0.0.0/8".into()];
        config.assets.retry_base_ms = 50;
        config.assets.progress_interval_ms = 200;
        config.assets.task_lease_secs = 3;
        // The watermarks measure the real disk under the storage root: how full this machine's
        // disk happens to be must not decide these tests (the watermark is tested with a probe).
        config.assets.disk_warn_percent = 100;
        config.assets.disk_high_percent = 100;
    }
}

fn start_input(url: &str, mode: &str, key: Option<&str>) -> Value {
    json!({ "input": { "url": url, "mode": mode, "idempotencyKey": key } })
}

async fn start(platform: &Platform, token: &str, url: &str, mode: &str) -> String {
    let reply = platform.gql(START, start_input(url, mode, None), Some(token)).await.ok();
    assert_eq!(reply.data("/startDownload/status"), &json!("QUEUED"));
    reply.data("/startDownload/id").as_str().expect("id").to_owned()
}

/// Polls `download(id)` until its status is `status` (or the deadline passes).
async fn wait_for(platform: &Platform, token: &str, id: &str, status: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    loop {
        let reply = platform.gql(GET, json!({ "id": id }), Some(token)).await.ok();
        let download = reply.data("/download").clone();
        if download["status"] == status {
            return download;
        }
        assert!(tokio::time::Instant::now() < deadline, "download {id} never became {status}: {download}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn assert_code(reply: &Reply, code: &str) {
    assert!(reply.status < 500, "status {} for {}", reply.status, reply.body);
    assert_eq!(reply.codes(), [code], "{}", reply.body);
}

#[tokio::test]
async fn a_parsed_url_downloads_quick_and_archive_with_its_hash_and_the_file_is_served_with_range() {
    let server = MediaServer::start().await;
    let platform = Platform::start_with(local, &[]).await;
    let users = platform.users("downloader", 2).await;
    let (owner_id, owner) = (&users[0].0, &users[0].1);
    let other = &users[1].1;
    let url = server.url("/media/Holiday%20clip.mp4?size=250000");

    let parsed = platform.gql(PARSE, json!({ "url": url }), Some(owner)).await.ok();
    assert_eq!(parsed.data("/parseUrl/extractor"), &json!("direct"));
    assert_eq!(parsed.data("/parseUrl/title"), &json!("Holiday%20clip"));
    assert_eq!(parsed.data("/parseUrl/formats/0/id"), &json!("direct"));
    assert_eq!(parsed.data("/parseUrl/formats/0/sizeBytes"), &json!(250000));
    assert_code(&platform.gql(PARSE, json!({ "url": url }), None).await, "UNAUTHENTICATED");

    // Quick: the file, its hash and the signed URL.
    let quick = start(&platform, owner, &url, "QUICK").await;
    let done = wait_for(&platform, owner, &quick, "COMPLETED").await;
    let expected = media_bytes(250_000);
    assert_eq!(done["sha256"], json!(sha256_hex(&expected)));
    assert_eq!(done["sizeBytes"], json!(250000));
    assert_eq!(done["contentType"], json!("video/mp4"));
    assert_eq!(done["assetRef"], Value::Null, "a quick download cannot be published");
    assert!(done["expiresAt"].is_string());
    let file_name = done["fileName"].as_str().expect("file name").to_owned();
    assert!(file_name.ends_with(".mp4") && !file_name.contains('/'), "{file_name}");
    let file_url = done["fileUrl"].as_str().expect("file url").to_owned();

    let http = reqwest::Client::new();
    let part = http.get(&file_url).header("Range", "bytes=1000-1999").send().await.expect("range GET");
    assert_eq!(part.status().as_u16(), 206);
    assert_eq!(part.headers()["content-range"], "bytes 1000-1999/250000");
    assert_eq!(part.headers()["content-type"], "video/mp4");
    assert!(part.headers()["content-disposition"].to_str().expect("ascii").contains(&file_name));
    assert_eq!(part.bytes().await.expect("body").as_ref(), &expected[1000..2000]);
    let whole = http.get(&file_url).send().await.expect("GET");
    assert_eq!(whole.status().as_u16(), 200);
    assert_eq!(sha256_hex(&whole.bytes().await.expect("body")), sha256_hex(&expected));
    let beyond = http.get(&file_url).header("Range", "bytes=300000-").send().await.expect("GET");
    assert_eq!(beyond.status().as_u16(), 416);

    // A tampered signature, another user in the URL, or someone else asking: refused.
    let tampered = file_url.replace("signature=", "signature=x");
    assert_eq!(http.get(&tampered).send().await.expect("GET").status().as_u16(), 403);
    let other_id = users[1].0.clone();
    let swapped = file_url.replace(&format!("user={owner_id}"), &format!("user={other_id}"));
    assert_eq!(http.get(&swapped).send().await.expect("GET").status().as_u16(), 403);
    assert_code(&platform.gql(GET, json!({ "id": quick }), Some(other)).await, "NOT_FOUND");

    // Archive: kept under archive/<user>/<day>/, and publishable.
    let archive = start(&platform, owner, &url, "ARCHIVE").await;
    let archived = wait_for(&platform, owner, &archive, "COMPLETED").await;
    assert_eq!(archived["sha256"], json!(sha256_hex(&expected)));
    let asset_ref = archived["assetRef"].as_str().expect("asset ref").to_owned();
    let day = chrono::Utc::now().format("%Y%m%d").to_string();
    let archive_dir = platform.services.storage_root().join("assets/archive").join(owner_id).join(&day);
    let stored: Vec<_> = std::fs::read_dir(&archive_dir).expect("archive dir").collect();
    assert_eq!(stored.len(), 1, "one archived file");

    // History: newest first, paginated, filtered.
    let first = platform.gql(MINE, json!({ "first": 1 }), Some(owner)).await.ok();
    assert_eq!(first.node_ids("myDownloads"), std::slice::from_ref(&archive));
    assert_eq!(first.data("/myDownloads/hasNextPage"), &json!(true));
    let cursor = first.data("/myDownloads/endCursor").clone();
    let second = platform.gql(MINE, json!({ "first": 1, "after": cursor }), Some(owner)).await.ok();
    assert_eq!(second.node_ids("myDownloads"), std::slice::from_ref(&quick));
    assert_eq!(second.data("/myDownloads/hasNextPage"), &json!(false));
    let archives = platform.gql(MINE, json!({ "mode": "ARCHIVE" }), Some(owner)).await.ok();
    assert_eq!(archives.node_ids("myDownloads"), std::slice::from_ref(&archive));
    assert_code(&platform.gql(MINE, json!({ "first": 1000 }), Some(owner)).await, "BAD_USER_INPUT");
    let quota = platform.gql(QUOTA, json!({}), Some(owner)).await.ok();
    assert_eq!(quota.data("/myQuota/used"), &json!(2));
    assert_eq!(quota.data("/myQuota/limit"), &json!(5));

    // Publishing: the owner's archive is accepted (once content's projection has it); another
    // user's and a made-up reference are refused.
    let video =
        |reference: &str| json!({ "input": { "title": "From the archive", "regionId": 4, "durationSecs": 60, "assetRef": reference } });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let reply = platform.gql(CREATE_VIDEO, video(&asset_ref), Some(owner)).await;
        if reply.codes().is_empty() {
            assert_eq!(reply.data("/createVideo/state"), &json!("PUBLISHED"));
            break;
        }
        assert_eq!(reply.codes(), ["BAD_USER_INPUT"], "{}", reply.body);
        assert!(tokio::time::Instant::now() < deadline, "the archive never became publishable");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_code(&platform.gql(CREATE_VIDEO, video(&asset_ref), Some(other)).await, "BAD_USER_INPUT");
    assert_code(&platform.gql(CREATE_VIDEO, video("asset:00000000-0000-7000-8000-000000000000"), Some(owner)).await, "BAD_USER_INPUT");

    // Deleting removes the file and the history entry.
    platform.gql(DELETE, json!({ "id": archive }), Some(owner)).await.ok();
    assert_eq!(std::fs::read_dir(&archive_dir).expect("archive dir").count(), 0, "the archived file is gone");
    assert_code(&platform.gql(GET, json!({ "id": archive }), Some(owner)).await, "NOT_FOUND");
    assert_code(&platform.gql(DELETE, json!({ "id": archive }), Some(owner)).await, "NOT_FOUND");
}

#[tokio::test]
async fn progress_reaches_the_owner_through_the_router_and_a_late_subscriber_gets_the_current_state() {
    let server = MediaServer::start().await;
    let platform = Platform::start_with(local, &[]).await;
    let users = platform.users("watcher", 2).await;
    let (owner, other) = (&users[0].1, &users[1].1);
    // 400 000 bytes at 20 000 bytes per 50 ms: about a second of downloading.
    let url = server.url("/media/slow.mp4?size=400000&rate=20000");
    let id = start(&platform, owner, &url, "QUICK").await;

    let mut client = WsClient::connect(&platform.router_ws_url(), Some(owner)).await;
    client.subscribe("1", PROGRESS, json!({ "id": id })).await;
    let mut kinds = Vec::new();
    let mut progress = Vec::new();
    // Liveness bounds, not speed: on a loaded machine the worker can take more than 5 s to
    // pick the task up (seen in CI after QUEUED).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        assert!(tokio::time::Instant::now() < deadline, "no COMPLETED event in time: {kinds:?}");
        let Some(message) = client.try_next(Duration::from_secs(30)).await else { panic!("no event for 30 s after {kinds:?}") };
        if message["type"] == "complete" {
            break;
        }
        assert_eq!(message["type"], "next", "{message}");
        let event = &message["payload"]["data"]["downloadProgress"];
        assert_eq!(event["taskId"], json!(id));
        let kind = event["kind"].as_str().expect("kind").to_owned();
        if kind == "PROGRESS" {
            progress.push(event["bytesDone"].as_i64().expect("bytes"));
        }
        let last = kind == "COMPLETED";
        kinds.push(kind);
        if last {
            break;
        }
    }
    assert!(!kinds.is_empty(), "the current state comes first");
    assert_eq!(kinds.last().map(String::as_str), Some("COMPLETED"), "{kinds:?}");
    assert!(progress.len() >= 2, "progress at least once a second while downloading: {kinds:?}");
    assert!(progress.windows(2).all(|pair| pair[0] <= pair[1]), "bytes only grow: {progress:?}");

    // The stream ends right after its final event...
    let end = client.try_next(Duration::from_secs(5)).await.expect("the stream ends after COMPLETED");
    assert_eq!(end["type"], "complete", "{end}");
    // ...so joining after the end gives the final state at once, also to the same identity: the
    // router shares one upstream subscription among identical subscriptions of one token, and an
    // upstream left open after the end would have been joined and never said anything again.
    let mut late = WsClient::connect(&platform.router_ws_url(), Some(owner)).await;
    late.subscribe("2", PROGRESS, json!({ "id": id })).await;
    let first = late.try_next(Duration::from_secs(5)).await.expect("the current state at once");
    assert_eq!(first["payload"]["data"]["downloadProgress"]["kind"], json!("COMPLETED"), "{first}");
    assert_eq!(first["payload"]["data"]["downloadProgress"]["percent"].as_f64(), Some(100.0));

    // Someone else's task is not theirs to watch.
    let mut stranger = WsClient::connect(&platform.router_ws_url(), Some(other)).await;
    stranger.subscribe("3", PROGRESS, json!({ "id": id })).await;
    let refused = stranger.try_next(Duration::from_secs(5)).await.expect("an answer");
    let code = refused["payload"]["errors"][0]["extensions"]["code"].clone();
    let code = if code.is_null() { refused["payload"][0]["extensions"]["code"].clone() } else { code };
    assert_eq!(code, json!("NOT_FOUND"), "{refused}");
}

#[tokio::test]
async fn transient_failures_are_retried_three_times_then_dead_lettered_and_permanent_ones_fail_at_once() {
    let server = MediaServer::start().await;
    let platform = Platform::start_with(local, &[]).await;
    let users = platform.users("unlucky", 1).await;
    let owner = &users[0].1;
    let (_, admin) = platform.admin("assetsboss").await;

    let flaky = server.url("/media/flaky.mp4?size=1000&get_status=503");
    let id = start(&platform, owner, &flaky, "QUICK").await;
    let failed = wait_for(&platform, owner, &id, "FAILED").await;
    assert_eq!(failed["attempts"], json!(3));
    assert_eq!(failed["errorCode"], json!("SOURCE_ERROR"));
    assert_eq!(server.hits("GET /media/flaky.mp4"), 3, "three attempts in all");
    // Set aside with its reason.
    const LETTERS: &str = "{ assetsDeadLetters(first: 10) { edges { node { id consumer reason payload } } } }";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let letter = loop {
        let reply = platform.gql(LETTERS, json!({}), Some(&admin)).await.ok();
        let edges = reply.data("/assetsDeadLetters/edges").as_array().cloned().unwrap_or_default();
        if let Some(edge) = edges.into_iter().find(|edge| edge["node"]["payload"].as_str().is_some_and(|payload| payload.contains(&id))) {
            break edge["node"].clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "no dead letter for {id}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(letter["reason"].as_str().is_some_and(|reason| reason.contains("after 3 attempts")), "{letter}");
    assert_code(&platform.gql(LETTERS, json!({}), Some(owner)).await, "FORBIDDEN");
    // An admin retries it: three attempts more, then it is set aside again.
    const RETRY: &str = "mutation($id: ID!) { retryAssetsDeadLetter(id: $id) }";
    assert_code(&platform.gql(RETRY, json!({ "id": letter["id"] }), Some(owner)).await, "FORBIDDEN");
    let retried = platform.gql(RETRY, json!({ "id": letter["id"] }), Some(&admin)).await.ok();
    assert_eq!(retried.data("/retryAssetsDeadLetter"), &json!(id));
    let again = platform.gql(RETRY, json!({ "id": letter["id"] }), Some(&admin)).await.ok();
    assert_eq!(again.data("/retryAssetsDeadLetter"), &Value::Null, "the dead letter is gone");
    let failed = wait_for(&platform, owner, &id, "FAILED").await;
    assert_eq!(failed["attempts"], json!(3));
    assert_eq!(server.hits("GET /media/flaky.mp4"), 6);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let letter = loop {
        let reply = platform.gql(LETTERS, json!({}), Some(&admin)).await.ok();
        let edges = reply.data("/assetsDeadLetters/edges").as_array().cloned().unwrap_or_default();
        if let Some(edge) = edges.into_iter().find(|edge| edge["node"]["payload"].as_str().is_some_and(|payload| payload.contains(&id))) {
            break edge["node"].clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "no second dead letter for {id}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    const DISCARD: &str = "mutation($id: ID!) { discardAssetsDeadLetter(id: $id) }";
    let discarded = platform.gql(DISCARD, json!({ "id": letter["id"] }), Some(&admin)).await.ok();
    assert_eq!(discarded.data("/discardAssetsDeadLetter"), &json!(true));
    let empty = platform.gql(LETTERS, json!({}), Some(&admin)).await.ok();
    assert_eq!(empty.data("/assetsDeadLetters/edges"), &json!([]));

    let gone = server.url("/media/gone.mp4?size=1000&get_status=404");
    let id = start(&platform, owner, &gone, "QUICK").await;
    let failed = wait_for(&platform, owner, &id, "FAILED").await;
    assert_eq!((failed["attempts"].clone(), failed["errorCode"].clone()), (json!(1), json!("NOT_FOUND")));
    assert_eq!(server.hits("GET /media/gone.mp4"), 1, "a permanent failure is not retried");

    const QUEUE: &str =
        "{ assetsQueue { pending inFlight queued running } assetsPlatformSuccess { platform completed failed successRate } }";
    let admin_view = platform.gql(QUEUE, json!({}), Some(&admin)).await.ok();
    assert_eq!(admin_view.data("/assetsPlatformSuccess/0/failed"), &json!(2));
    assert_eq!(admin_view.data("/assetsPlatformSuccess/0/successRate").as_f64(), Some(0.0));
    assert_eq!(admin_view.data("/assetsQueue/running"), &json!(0));
    // The breaker saw the three source failures (a 404 is the source answering), not enough to open.
    const BREAKERS: &str = "{ assetsCircuitBreakers { platform state recentCalls recentFailures } }";
    let breakers = platform.gql(BREAKERS, json!({}), Some(&admin)).await.ok();
    assert_eq!(
        breakers.data("/assetsCircuitBreakers/0"),
        &json!({ "platform": "127.0.0.1", "state": "CLOSED", "recentCalls": 7, "recentFailures": 6 })
    );
}

#[tokio::test]
async fn a_cancelled_download_stops_and_leaves_no_partial_file() {
    let server = MediaServer::start().await;
    let platform = Platform::start_with(local, &[]).await;
    let users = platform.users("canceller", 1).await;
    let owner = &users[0].1;
    // About ten seconds of downloading.
    let url = server.url("/media/long.mp4?size=2000000&rate=10000");
    let id = start(&platform, owner, &url, "QUICK").await;
    wait_for(&platform, owner, &id, "RUNNING").await;
    let task_dir = platform.services.storage_root().join("assets/tmp").join(&id);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !task_dir.join("partial").exists() {
        assert!(tokio::time::Instant::now() < deadline, "no partial file");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cancelled = platform.gql(CANCEL, json!({ "id": id }), Some(owner)).await.ok();
    assert_eq!(cancelled.data("/cancelDownload/status"), &json!("CANCELLED"));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while task_dir.exists() {
        assert!(tokio::time::Instant::now() < deadline, "the partial file stayed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_code(&platform.gql(CANCEL, json!({ "id": id }), Some(owner)).await, "CONFLICT");
    // It stays cancelled: the worker stopped instead of finishing.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = platform.gql(GET, json!({ "id": id }), Some(owner)).await.ok();
    assert_eq!(after.data("/download/status"), &json!("CANCELLED"));
    assert!(!task_dir.exists());
}

#[tokio::test]
async fn a_worker_killed_mid_download_is_resumed_by_another_with_range_and_finishes_once() {
    let server = MediaServer::start().await;
    // The platform's own replica runs no worker; two worker replicas come and go below.
    let platform = Platform::start_with(
        |name, config| {
            local(name, config);
            if name == "assets" {
                config.assets.workers = 0;
            }
        },
        &[],
    )
    .await;
    let users = platform.users("resumer", 1).await;
    let owner = &users[0].1;
    let worker_config = || {
        let mut config = platform.services.config();
        local("assets", &mut config);
        config.assets.workers = 1;
        config
    };
    let deps = platform::Deps::connect(worker_config(), "assets").await.expect("backends");
    let (_, stop_first) = spawn_subgraph(Subgraph::Assets, deps).await;

    // 600 000 bytes at 10 000 per 50 ms: 3 s.
    let url = server.url("/media/resume.mp4?size=600000&rate=10000");
    let id = start(&platform, owner, &url, "QUICK").await;
    // Watched through the router on the platform's replica, which runs no worker: every event
    // comes from the worker replicas.
    let mut watcher = WsClient::connect(&platform.router_ws_url(), Some(owner)).await;
    watcher.subscribe("1", PROGRESS, json!({ "id": id })).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let reply = platform.gql(GET, json!({ "id": id }), Some(owner)).await.ok();
        if reply.data("/download/bytesDone").as_i64().unwrap_or(0) > 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the first worker never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Killed: the handler is aborted without an ack, the row stays running.
    let _ = stop_first.send(());
    let deps = platform::Deps::connect(worker_config(), "assets").await.expect("backends");
    let (_, _stop_second) = spawn_subgraph(Subgraph::Assets, deps).await;

    let done = wait_for(&platform, owner, &id, "COMPLETED").await;
    assert_eq!(done["sha256"], json!(sha256_hex(&media_bytes(600_000))));
    assert_eq!(done["attempts"], json!(2));
    let ranges = server.ranges("/media/resume.mp4");
    assert!(ranges.iter().any(|range| range.starts_with("bytes=") && range != "bytes=0-"), "resumed with Range: {ranges:?}");
    let files: Vec<_> = std::fs::read_dir(platform.services.storage_root().join("assets/tmp").join(&id)).expect("task dir").collect();
    assert_eq!(files.len(), 1, "one finished file, no partial left");
    let mut seen = Vec::new();
    while let Some(message) = watcher.try_next(Duration::from_secs(5)).await {
        let event = &message["payload"]["data"]["downloadProgress"];
        seen.push((event["kind"].as_str().unwrap_or("").to_owned(), event["attempt"].as_i64().unwrap_or(0)));
        if event["kind"] == "COMPLETED" || message["type"] == "complete" {
            break;
        }
    }
    assert!(seen.contains(&("STARTED".to_owned(), 2)), "the second worker's start reached the subscriber: {seen:?}");
    assert_eq!(seen.last().map(|(kind, _)| kind.as_str()), Some("COMPLETED"), "{seen:?}");
}

#[tokio::test]
async fn internal_destinations_are_refused_by_the_url_policy_through_the_router() {
    let server = MediaServer::start().await;
    // The default policy: no allowlist.
    let platform = Platform::start_with(
        |name, config| {
            if name == "assets" {
                config.assets.root = config.storage.root.join("assets");
            }
        },
        &[],
    )
    .await;
    let users = platform.users("prober", 1).await;
    let token = &users[0].1;
    for url in [
        server.url("/media/a.mp4"),
        format!("http://localhost:{}/media/a.mp4", server.port()),
        "http://10.0.0.1/a.mp4".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        format!("http://[::1]:{}/media/a.mp4", server.port()),
        format!("http://[::ffff:7f00:1]:{}/media/a.mp4", server.port()),
        "ftp://example.com/a.mp4".to_owned(),
    ] {
        let parsed = platform.gql(PARSE, json!({ "url": url }), Some(token)).await;
        assert_code(&parsed, "BAD_USER_INPUT");
        assert_eq!(parsed.body["errors"][0]["extensions"]["reason"], json!("URL_POLICY"), "{url}: {}", parsed.body);
        let started = platform.gql(START, start_input(&url, "QUICK", None), Some(token)).await;
        assert_code(&started, "BAD_USER_INPUT");
    }
    assert_eq!(server.hits("/media/a.mp4"), 0, "no request reached the server");
    let quota = platform.gql(QUOTA, json!({}), Some(token)).await.ok();
    assert_eq!(quota.data("/myQuota/used"), &json!(0), "refused URLs use no quota");
}

#[tokio::test]
async fn a_public_looking_redirect_to_the_metadata_address_is_refused_through_the_router() {
    let server = MediaServer::start().await;
    let platform = Platform::start_with(local, &[]).await;
    let users = platform.users("redirected", 1).await;
    let url = format!("{}?to=http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data%2F", server.url("/redirect"));
    let parsed = platform.gql(PARSE, json!({ "url": url }), Some(&users[0].1)).await;
    assert_code(&parsed, "BAD_USER_INPUT");
    assert_eq!(parsed.body["errors"][0]["extensions"]["reason"], json!("URL_POLICY"), "{}", parsed.body);
    assert_eq!(server.hits("/redirect"), 1);
}

#[tokio::test]
async fn an_hls_variant_downloads_its_segments_joined_in_order() {
    let server = MediaServer::start().await;
    let platform = Platform::start_with(local, &[]).await;
    let users = platform.users("streamer", 1).await;
    let owner = &users[0].1;
    let url = server.url("/hls/master.m3u8?segments=6");
    let parsed = platform.gql(PARSE, json!({ "url": url }), Some(owner)).await.ok();
    assert_eq!(parsed.data("/parseUrl/extractor"), &json!("hls"));
    assert_eq!(parsed.data("/parseUrl/formats/1/quality"), &json!("720p"));
    let input = json!({ "input": { "url": url, "mode": "ARCHIVE", "formatId": "hls-1" } });
    let id = platform.gql(START, input, Some(owner)).await.ok().data("/startDownload/id").as_str().expect("id").to_owned();
    let done = wait_for(&platform, owner, &id, "COMPLETED").await;
    assert_eq!(done["sha256"], json!(sha256_hex(&media_bytes(6000))), "six 1000-byte segments, in order");
    assert_eq!(done["contentType"], json!("video/mp2t"));
    assert!(done["fileName"].as_str().is_some_and(|name| name.ends_with(".ts")), "{done}");
    let unknown = json!({ "input": { "url": url, "mode": "QUICK", "formatId": "hls-9" } });
    assert_code(&platform.gql(START, unknown, Some(owner)).await, "BAD_USER_INPUT");
}
