//! Video uploads: a slot is created through the router, the file is PUT straight to the
//! content subgraph at the signed URL, then attached by a publish or swept when left behind.

use crate::harness::{Platform, Reply};
use content::domain::upload::{self, Uploads};
use content::store::objects::LocalDiskStorage;
use content::store::uploads as upload_rows;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CREATE: &str = "mutation($input: CreateVideoUploadInput!) { createVideoUpload(input: $input) { id uploadUrl method expiresAt maxBytes state sizeBytes sha256 contentType } }";
const GET: &str = "query($id: ID!) { videoUpload(id: $id) { id state sizeBytes sha256 uploadUrl expiresAt } }";

fn assert_code(reply: &Reply, code: &str) {
    assert!(reply.status < 500, "status {} for {}", reply.status, reply.body);
    assert_eq!(reply.codes(), [code], "{}", reply.body);
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates an upload through the router; returns `createVideoUpload`.
async fn create(platform: &Platform, token: &str, content_type: &str, size_bytes: Option<i64>) -> Value {
    let input = json!({ "input": { "contentType": content_type, "sizeBytes": size_bytes } });
    platform.gql(CREATE, input, Some(token)).await.ok().data("/createVideoUpload").clone()
}

/// PUTs `body` in one piece (with `Content-Length`); returns the status and JSON body.
async fn put(url: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let response = reqwest::Client::new().put(url).header("Content-Type", content_type).body(body).send().await.expect("PUT sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

/// PUTs `chunks` with `Transfer-Encoding: chunked` (no `Content-Length`, so the cap can only
/// be enforced while streaming) over a raw connection.
async fn put_chunked(url: &str, content_type: &str, chunks: &[&[u8]]) -> (u16, Value) {
    let url = reqwest::Url::parse(url).expect("url");
    let authority = format!("{}:{}", url.host_str().expect("host"), url.port().expect("port"));
    let mut stream = tokio::net::TcpStream::connect(&authority).await.expect("connect");
    let head = format!(
        "PUT {}?{} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        url.path(),
        url.query().unwrap_or_default()
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    for chunk in chunks {
        stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await.expect("chunk size");
        stream.write_all(chunk).await.expect("chunk");
        stream.write_all(b"\r\n").await.expect("chunk end");
    }
    // The server may already have answered (and closed) when the cap was crossed.
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    let status = text.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or_else(|| panic!("no status in {text:?}"));
    let body = text.split_once("\r\n\r\n").map(|(_, body)| body).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or_else(|_| panic!("JSON body in {text:?}")))
}

/// The service the subgraph runs, over this test's database and storage (for `sweep`).
fn uploads(platform: &Platform) -> Uploads {
    Uploads::from_config(platform.db(), &platform.services.config()).expect("upload service")
}

/// Where the committed file of `upload_id` would be, and the staging directory.
async fn files_of(platform: &Platform, upload_id: &str) -> (PathBuf, PathBuf) {
    let db = platform.db();
    let mut conn = db.pool.get().await.expect("connection");
    let row = upload_rows::find(&mut conn, upload_id.parse().expect("uuid")).await.expect("query").expect("row");
    let storage = LocalDiskStorage::open(platform.services.storage_root()).expect("storage");
    (storage.object_path(&row.storage_key).expect("path"), storage.tmp_dir().to_path_buf())
}

fn part_files(tmp: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .map(|dir| dir.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default()
}

fn with_signature(url: &str, signature: &str) -> String {
    let (base, _) = url.split_once("&signature=").expect("signed url");
    format!("{base}&signature={signature}")
}

#[tokio::test]
async fn creating_an_upload_needs_a_signed_in_user_an_allowed_type_and_a_size_within_the_limit() {
    let platform = Platform::start().await;
    let (_, token, _) = platform.register("ada").await;
    let input = |content_type: &str, size: Option<i64>| json!({ "input": { "contentType": content_type, "sizeBytes": size } });

    assert_code(&platform.gql(CREATE, input("video/mp4", None), None).await, "UNAUTHENTICATED");
    assert_code(&platform.gql(CREATE, input("image/png", None), Some(&token)).await, "BAD_USER_INPUT");
    assert_code(&platform.gql(CREATE, input("video/mp4", Some(0)), Some(&token)).await, "BAD_USER_INPUT");
    let over = i64::try_from(platform.services.config().storage.max_upload_bytes).expect("max") + 1;
    assert_code(&platform.gql(CREATE, input("video/mp4", Some(over)), Some(&token)).await, "BAD_USER_INPUT");

    let created = create(&platform, &token, "Video/WebM", None).await;
    assert_eq!(created["state"], "PENDING");
    assert_eq!(created["method"], "PUT");
    assert_eq!(created["contentType"], "video/webm");
    assert_eq!(created["maxBytes"], json!(platform.services.config().storage.max_upload_bytes), "2 GiB by default");
    assert!(created["sizeBytes"].is_null() && created["sha256"].is_null());
    let url = created["uploadUrl"].as_str().expect("url");
    let content = platform.subgraph_urls["content"].trim_end_matches("/graphql").to_owned();
    assert!(url.starts_with(&format!("{content}/uploads/{}?expires=", created["id"].as_str().expect("id"))), "{url} points at {content}");
}

#[tokio::test]
async fn a_file_put_to_the_signed_url_completes_the_upload_exactly_once() {
    let platform = Platform::start().await;
    let (_, token, _) = platform.register("ada").await;
    let (_, other, _) = platform.register("bob").await;
    let created = create(&platform, &token, "video/mp4", None).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let url = created["uploadUrl"].as_str().expect("url").to_owned();
    let file: Vec<u8> = (0..300_000u32).map(|n| (n % 251) as u8).collect();

    let (status, stored) = put(&url, "video/mp4", file.clone()).await;
    assert_eq!(status, 201, "{stored}");
    assert_eq!(stored, json!({ "id": id, "sizeBytes": file.len(), "sha256": sha256_hex(&file) }));

    let reply = platform.gql(GET, json!({ "id": id }), Some(&token)).await.ok();
    assert_eq!(reply.data("/videoUpload/state"), "COMPLETE");
    assert_eq!(reply.data("/videoUpload/sizeBytes"), &json!(file.len()));
    assert_eq!(reply.data("/videoUpload/sha256"), &json!(sha256_hex(&file)));
    assert!(reply.data("/videoUpload/uploadUrl").is_null(), "no URL once the file is in");
    let (object, tmp) = files_of(&platform, &id).await;
    assert_eq!(std::fs::read(&object).expect("object on disk"), file);
    assert!(part_files(&tmp).is_empty(), "no part file left: {:?}", part_files(&tmp));

    let (status, again) = put(&url, "video/mp4", b"other bytes".to_vec()).await;
    assert_eq!((status, &again["error"]["code"]), (409, &json!("CONFLICT")), "{again}");
    assert_eq!(std::fs::read(&object).expect("object on disk"), file, "the stored file is untouched");

    assert_code(&platform.gql(GET, json!({ "id": id }), Some(&other)).await, "NOT_FOUND");
    assert_code(&platform.gql(GET, json!({ "id": id }), None).await, "UNAUTHENTICATED");
}

#[tokio::test]
async fn bad_puts_get_their_status_and_leave_the_upload_pending_with_nothing_on_disk() {
    let platform = Platform::start().await;
    let (_, token, _) = platform.register("ada").await;
    let created = create(&platform, &token, "video/mp4", Some(1024)).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let url = created["uploadUrl"].as_str().expect("url").to_owned();
    assert_eq!(created["maxBytes"], 1024);

    let (status, body) = put(&url, "video/webm", vec![1; 10]).await;
    assert_eq!((status, &body["error"]["code"]), (415, &json!("BAD_USER_INPUT")), "{body}");

    let signature = url.split("&signature=").nth(1).expect("signature");
    let tampered = match signature.strip_prefix('A') {
        Some(rest) => format!("B{rest}"),
        None => format!("A{}", &signature[1..]),
    };
    let (status, body) = put(&with_signature(&url, &tampered), "video/mp4", vec![1; 10]).await;
    assert_eq!((status, &body["error"]["code"]), (403, &json!("FORBIDDEN")), "{body}");
    let (status, _) = put(&url.replace("expires=", "expires=9"), "video/mp4", vec![1; 10]).await;
    assert_eq!(status, 403, "a changed expiry breaks the signature");
    let (status, _) = put(url.split('?').next().expect("path"), "video/mp4", vec![1; 10]).await;
    assert_eq!(status, 403, "an unsigned URL");

    // Signed with this test's key (as another replica would), but expired, or for no upload.
    let signer = content::domain::upload_url::UploadUrlSigner::new(platform.services.keys());
    let base = platform.subgraph_urls["content"].trim_end_matches("/graphql").to_owned();
    let expired = signer.url(&base, id.parse().expect("uuid"), chrono::Utc::now() - chrono::Duration::seconds(1));
    let (status, body) = put(&expired, "video/mp4", vec![1; 10]).await;
    assert_eq!((status, &body["error"]["code"]), (403, &json!("FORBIDDEN")), "{body}");
    let unknown = signer.url(&base, uuid::Uuid::now_v7(), chrono::Utc::now() + chrono::Duration::seconds(60));
    let (status, body) = put(&unknown, "video/mp4", vec![1; 10]).await;
    assert_eq!((status, &body["error"]["code"]), (404, &json!("NOT_FOUND")), "{body}");

    let (status, body) = put(&url, "video/mp4", vec![7; 1025]).await;
    assert_eq!((status, &body["error"]["code"]), (413, &json!("BAD_USER_INPUT")), "declared length over the cap: {body}");
    let (status, body) = put_chunked(&url, "video/mp4", &[&[7; 600], &[7; 600]]).await;
    assert_eq!((status, &body["error"]["code"]), (413, &json!("BAD_USER_INPUT")), "streamed over the cap: {body}");
    let (status, body) = put(&url, "video/mp4", Vec::new()).await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!("BAD_USER_INPUT")), "empty file: {body}");

    let reply = platform.gql(GET, json!({ "id": id }), Some(&token)).await.ok();
    assert_eq!(reply.data("/videoUpload/state"), "PENDING");
    assert_eq!(reply.data("/videoUpload/uploadUrl"), &json!(url), "the same URL still works");
    let (object, tmp) = files_of(&platform, &id).await;
    assert!(!object.exists(), "no object after refused PUTs");
    assert!(part_files(&tmp).is_empty(), "no part files after refused PUTs: {:?}", part_files(&tmp));

    // The slot is still usable: exactly the cap is fine.
    let (status, body) = put_chunked(&url, "video/mp4; codecs=avc1", &[&[7; 512], &[7; 512]]).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["sha256"], json!(sha256_hex(&[7; 1024])));
}

/// A chunked PUT over a raw connection, sent piece by piece, so a test can hold it open.
struct OpenPut {
    stream: tokio::net::TcpStream,
}

impl OpenPut {
    async fn start(url: &str, content_type: &str) -> OpenPut {
        let url = reqwest::Url::parse(url).expect("url");
        let authority = format!("{}:{}", url.host_str().expect("host"), url.port().expect("port"));
        let mut stream = tokio::net::TcpStream::connect(&authority).await.expect("connect");
        let head = format!(
            "PUT {}?{} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            url.path(),
            url.query().unwrap_or_default()
        );
        stream.write_all(head.as_bytes()).await.expect("head");
        OpenPut { stream }
    }

    async fn send(&mut self, chunk: &[u8]) {
        self.stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await.expect("chunk size");
        self.stream.write_all(chunk).await.expect("chunk");
        self.stream.write_all(b"\r\n").await.expect("chunk end");
    }

    /// Ends the body and reads the answer.
    async fn finish(mut self) -> (u16, Value) {
        self.stream.write_all(b"0\r\n\r\n").await.expect("last chunk");
        self.answer().await
    }

    /// Reads the answer without ending the body (the server answers on its own, or never).
    async fn answer(mut self) -> (u16, Value) {
        let mut response = Vec::new();
        let _ = self.stream.read_to_end(&mut response).await;
        let text = String::from_utf8_lossy(&response);
        let status = text.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or_else(|| panic!("no status in {text:?}"));
        let body = text.split_once("\r\n\r\n").map(|(_, body)| body).unwrap_or_default();
        (status, serde_json::from_str(body).unwrap_or_else(|_| panic!("JSON body in {text:?}")))
    }
}

/// Waits (up to 10 s) until `tmp` holds `count` part files.
async fn part_files_become(tmp: &std::path::Path, count: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while part_files(tmp).len() != count {
        assert!(std::time::Instant::now() < deadline, "expected {count} part files, have {:?}", part_files(tmp));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_second_put_while_one_streams_is_refused_and_the_first_completes_intact() {
    let platform = Platform::start().await;
    let (_, token, _) = platform.register("ada").await;
    let created = create(&platform, &token, "video/mp4", None).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let url = created["uploadUrl"].as_str().expect("url").to_owned();
    let (object, tmp) = files_of(&platform, &id).await;

    let mut first = OpenPut::start(&url, "video/mp4").await;
    first.send(b"the first half, ").await;
    part_files_become(&tmp, 1).await; // the first PUT holds the slot and is streaming

    let (status, body) = put(&url, "video/mp4", b"an impostor".to_vec()).await;
    assert_eq!((status, &body["error"]["code"]), (409, &json!("CONFLICT")), "{body}");
    let (status, body) = put_chunked(&url, "video/mp4", &[b"another impostor"]).await;
    assert_eq!((status, &body["error"]["code"]), (409, &json!("CONFLICT")), "{body}");
    assert_eq!(part_files(&tmp).len(), 1, "the refused PUTs staged nothing");

    first.send(b"and the second half").await;
    let (status, stored) = first.finish().await;
    assert_eq!(status, 201, "{stored}");
    let whole = b"the first half, and the second half";
    assert_eq!(stored, json!({ "id": id, "sizeBytes": whole.len(), "sha256": sha256_hex(whole) }));
    assert_eq!(std::fs::read(&object).expect("object"), whole, "the first PUT's file, intact");
    assert!(part_files(&tmp).is_empty(), "{:?}", part_files(&tmp));
    let (status, body) = put(&url, "video/mp4", b"late".to_vec()).await;
    assert_eq!((status, &body["error"]["code"]), (409, &json!("CONFLICT")), "{body}");
}

#[tokio::test]
async fn of_two_puts_racing_through_the_service_one_stages_and_the_other_is_refused_at_once() {
    let platform = Platform::start().await;
    let (_, token, _) = platform.register("ada").await;
    let created = create(&platform, &token, "video/mp4", None).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let url = reqwest::Url::parse(created["uploadUrl"].as_str().expect("url")).expect("url");
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    let expires: i64 = query["expires"].parse().expect("expires");

    // Each body stops after its first chunk until a PUT has been refused: had both been let in
    // to stage, neither would ever finish. The refused one reads no byte of its body.
    let service = uploads(&platform);
    let (refused, refusal) = tokio::sync::watch::channel(false);
    let incoming = |tail: &'static [u8]| {
        let mut refusal = refusal.clone();
        let first = futures::stream::once(async { Ok(bytes::Bytes::from_static(b"first half ")) });
        let second = futures::stream::once(async move {
            let _ = refusal.wait_for(|refused| *refused).await;
            Ok(bytes::Bytes::from_static(tail))
        });
        upload::IncomingFile {
            id: id.parse().expect("uuid"),
            expires: Some(expires),
            signature: Some(query["signature"].as_str()),
            content_type: Some("video/mp4"),
            content_length: None,
            body: Box::pin(futures::StreamExt::chain(first, second)),
        }
    };
    let now = chrono::Utc::now();
    let receive = |tail: &'static [u8]| {
        let (service, refused, file) = (&service, &refused, incoming(tail));
        async move {
            let outcome = service.receive(file, now).await;
            if outcome.is_err() {
                let _ = refused.send(true);
            }
            outcome
        }
    };
    let (a, b) = tokio::join!(receive(b"from a"), receive(b"from b"));
    let (winner, loser) = match (a, b) {
        (Ok(winner), Err(loser)) | (Err(loser), Ok(winner)) => (winner, loser),
        other => panic!("exactly one PUT must win: {other:?}"),
    };
    assert!(matches!(loser, upload::ReceiveError::Busy), "{loser:?}");
    let reply = platform.gql(GET, json!({ "id": id }), Some(&token)).await.ok();
    assert_eq!(reply.data("/videoUpload/sha256"), &json!(winner.sha256), "the row describes the stored file");
    let (object, tmp) = files_of(&platform, &id).await;
    assert_eq!(Some(sha256_hex(&std::fs::read(&object).expect("object"))), winner.sha256);
    assert!(part_files(&tmp).is_empty(), "{:?}", part_files(&tmp));
}

#[tokio::test]
async fn a_put_dropped_mid_way_releases_its_slot_for_the_next_one() {
    let platform = Platform::start().await;
    let (_, token, _) = platform.register("ada").await;
    let created = create(&platform, &token, "video/mp4", None).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let url = created["uploadUrl"].as_str().expect("url").to_owned();
    let signed = reqwest::Url::parse(&url).expect("url");
    let query: std::collections::HashMap<_, _> = signed.query_pairs().into_owned().collect();
    let (_, tmp) = files_of(&platform, &id).await;

    // A PUT whose body sends one chunk and then never ends, dropped while it streams (what
    // happens to a request whose client went away).
    let service = uploads(&platform);
    let (upload_id, expires, signature) =
        (id.parse().expect("uuid"), query["expires"].parse().expect("expires"), query["signature"].clone());
    let streaming = tokio::spawn(async move {
        let first = futures::stream::once(async { Ok(bytes::Bytes::from_static(b"half a file")) });
        let file = upload::IncomingFile {
            id: upload_id,
            expires: Some(expires),
            signature: Some(&signature),
            content_type: Some("video/mp4"),
            content_length: None,
            body: Box::pin(futures::StreamExt::chain(first, futures::stream::pending())),
        };
        service.receive(file, chrono::Utc::now()).await
    });
    part_files_become(&tmp, 1).await;
    streaming.abort();
    let _ = streaming.await;
    part_files_become(&tmp, 0).await;

    // The claim is released (not left to lapse in an hour): a new PUT gets in.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (status, body) = put(&url, "video/mp4", b"the whole file".to_vec()).await;
        if status == 201 {
            break;
        }
        assert_eq!((status, &body["error"]["code"]), (409, &json!("CONFLICT")), "{body}");
        assert!(std::time::Instant::now() < deadline, "the slot stayed claimed");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_put_that_stalls_past_the_idle_limit_is_cut_and_leaves_no_part_file() {
    let platform = Platform::start_with(|_, config| config.storage.put_idle_timeout_secs = 1, &[]).await;
    let (_, token, _) = platform.register("ada").await;
    let created = create(&platform, &token, "video/mp4", None).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let url = created["uploadUrl"].as_str().expect("url").to_owned();
    let (object, tmp) = files_of(&platform, &id).await;

    let mut stalled = OpenPut::start(&url, "video/mp4").await;
    stalled.send(b"a few bytes, then nothing").await;
    // The connection stays open and silent: the server must answer on its own.
    let (status, body) = stalled.answer().await;
    assert_eq!((status, &body["error"]["code"]), (408, &json!("BAD_USER_INPUT")), "{body}");
    assert!(part_files(&tmp).is_empty(), "the partial file is removed: {:?}", part_files(&tmp));
    assert!(!object.exists());

    // The slot was released: the next PUT goes through at once.
    let (status, body) = put(&url, "video/mp4", b"the whole file".to_vec()).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn pending_slots_and_bytes_per_day_are_capped_per_user() {
    let platform = Platform::start_with(
        |_, config| {
            config.storage.max_pending_uploads_per_user = 2;
            config.storage.max_upload_bytes_per_day = 1000;
        },
        &[],
    )
    .await;
    let (_, ada, _) = platform.register("ada").await;
    let (_, bob, _) = platform.register("bob").await;
    let input = |size: i64| json!({ "input": { "contentType": "video/mp4", "sizeBytes": size } });

    let first = create(&platform, &ada, "video/mp4", Some(400)).await;
    create(&platform, &ada, "video/mp4", Some(400)).await;
    assert_code(&platform.gql(CREATE, input(10), Some(&ada)).await, "QUOTA_EXCEEDED");
    // Undeclared size reserves the whole per-upload maximum, which is over the daily budget.
    assert_code(&platform.gql(CREATE, json!({ "input": { "contentType": "video/mp4" } }), Some(&bob)).await, "QUOTA_EXCEEDED");
    create(&platform, &bob, "video/mp4", Some(900)).await;

    // The first slot gets a 100-byte file: 1 slot pending, 100 + 400 bytes counted today.
    let (status, body) = put(first["uploadUrl"].as_str().expect("url"), "video/mp4", vec![7; 100]).await;
    assert_eq!(status, 201, "{body}");
    assert_code(&platform.gql(CREATE, input(501), Some(&ada)).await, "QUOTA_EXCEEDED");
    let exactly = platform.gql(CREATE, input(500), Some(&ada)).await.ok();
    assert_eq!(exactly.data("/createVideoUpload/maxBytes"), &json!(500), "exactly the budget fits");
    assert_code(&platform.gql(CREATE, input(1), Some(&ada)).await, "QUOTA_EXCEEDED");

    // Parallel requests cannot slip under the cap together.
    let (_, cyd, _) = platform.register("cyd").await;
    let replies = futures::future::join_all((0..6).map(|_| platform.gql(CREATE, input(10), Some(&cyd)))).await;
    let created = replies.iter().filter(|reply| reply.codes().is_empty()).count();
    let refused = replies.iter().filter(|reply| reply.codes() == ["QUOTA_EXCEEDED"]).count();
    assert_eq!((created, refused), (2, 4));
}

#[tokio::test]
async fn sweeping_later_removes_expired_uploads_with_their_files_but_keeps_attached_ones() {
    let platform = Platform::start().await;
    let (_, token, _) = platform.register("ada").await;
    let pending = create(&platform, &token, "video/mp4", None).await;
    let pending_id = pending["id"].as_str().expect("id").to_owned();
    let complete = create(&platform, &token, "video/mp4", None).await;
    let complete_id = complete["id"].as_str().expect("id").to_owned();
    let attached = create(&platform, &token, "video/mp4", None).await;
    let attached_id = attached["id"].as_str().expect("id").to_owned();
    for upload in [&complete, &attached] {
        let (status, body) = put(upload["uploadUrl"].as_str().expect("url"), "video/mp4", b"video bytes".to_vec()).await;
        assert_eq!(status, 201, "{body}");
    }
    let owner =
        platform.gql("{ me { id } }", json!({}), Some(&token)).await.ok().data("/me/id").as_str().expect("me").parse().expect("uuid");
    let db = platform.db();
    let mut conn = db.pool.get().await.expect("connection");
    upload::attach(&mut conn, attached_id.parse().expect("uuid"), owner).await.expect("attach");

    // A crashed PUT of the pending upload left a part file behind.
    let (pending_object, tmp) = files_of(&platform, &pending_id).await;
    let key = pending_object.file_name().expect("key").to_string_lossy().into_owned();
    let crashed_part = tmp.join(format!("{key}.crashed.part"));
    std::fs::write(&crashed_part, b"half a video").expect("plant part file");
    let (complete_object, _) = files_of(&platform, &complete_id).await;
    let (attached_object, _) = files_of(&platform, &attached_id).await;

    let service = uploads(&platform);
    let now = chrono::Utc::now();
    let nothing_yet = service.sweep(now).await.expect("sweep now");
    assert_eq!((nothing_yet.uploads, nothing_yet.stale_parts), (0, 0));
    assert!(crashed_part.exists(), "a fresh part file may still be written to");

    let url_ttl = chrono::Duration::seconds(i64::try_from(service.config().upload_url_ttl_secs).expect("ttl"));
    let after_url_expiry = service.sweep(now + url_ttl + chrono::Duration::seconds(1)).await.expect("sweep later");
    assert_eq!((after_url_expiry.uploads, after_url_expiry.stale_parts), (1, 1));
    assert!(!crashed_part.exists());
    assert_code(&platform.gql(GET, json!({ "id": pending_id }), Some(&token)).await, "NOT_FOUND");
    let reply = platform.gql(GET, json!({ "id": complete_id }), Some(&token)).await.ok();
    assert_eq!(reply.data("/videoUpload/state"), "COMPLETE", "a complete upload waits for its publish");
    assert!(complete_object.exists());

    let unattached_ttl = chrono::Duration::seconds(i64::try_from(service.config().unattached_ttl_secs).expect("ttl"));
    let after_unattached_ttl = service.sweep(now + unattached_ttl + chrono::Duration::seconds(60)).await.expect("sweep much later");
    assert_eq!(after_unattached_ttl.uploads, 1);
    assert!(!complete_object.exists(), "the never-attached file is deleted");
    assert_code(&platform.gql(GET, json!({ "id": complete_id }), Some(&token)).await, "NOT_FOUND");

    let reply = platform.gql(GET, json!({ "id": attached_id }), Some(&token)).await.ok();
    assert_eq!(reply.data("/videoUpload/state"), "ATTACHED");
    assert!(reply.data("/videoUpload/expiresAt").is_null());
    assert!(attached_object.exists(), "an attached file is never swept");
}

#[tokio::test]
async fn attach_needs_the_owner_and_a_finished_file_and_works_once() {
    let platform = Platform::start().await;
    let (ada, token, _) = platform.register("ada").await;
    let (bob, _, _) = platform.register("bob").await;
    let (ada, bob): (uuid::Uuid, uuid::Uuid) = (ada.parse().expect("uuid"), bob.parse().expect("uuid"));
    let created = create(&platform, &token, "video/mp4", None).await;
    let id: uuid::Uuid = created["id"].as_str().expect("id").parse().expect("uuid");
    let db = platform.db();
    let mut conn = db.pool.get().await.expect("connection");
    let code = |result: Result<upload_rows::Upload, content::domain::ContentError>| {
        use platform::error::CodedError;
        result.map(|_| ()).map_err(|error| error.code().as_str())
    };

    assert_eq!(code(upload::attach(&mut conn, id, ada).await), Err("BAD_USER_INPUT"), "not finished");
    let (status, body) = put(created["uploadUrl"].as_str().expect("url"), "video/mp4", b"video bytes".to_vec()).await;
    assert_eq!(status, 201, "{body}");

    assert_eq!(code(upload::attach(&mut conn, id, bob).await), Err("NOT_FOUND"), "someone else's upload");
    assert_eq!(code(upload::attach(&mut conn, uuid::Uuid::now_v7(), ada).await), Err("NOT_FOUND"), "no such upload");
    let attached = upload::attach(&mut conn, id, ada).await.expect("first attach");
    assert_eq!(attached.state, upload_rows::state::ATTACHED);
    assert_eq!(code(upload::attach(&mut conn, id, ada).await), Err("CONFLICT"), "second attach");
}
