//! yt-dlp through the router: a page with a `<video>` (which the built-in extractors do not
//! understand) parses and downloads through yt-dlp with its hash recorded, and a page whose
//! video is on the metadata address fails at once with `URL_POLICY` — yt-dlp's connections go
//! through `assets`' egress proxy. Skipped by name where yt-dlp is not installed
//! (`assets::testing::ytdlp_program`).

use crate::harness::Platform;
use assets::testing::{MediaServer, media_bytes, sha256_hex, ytdlp_program};
use platform::config::AppConfig;
use serde_json::{Value, json};
use std::time::Duration;

const PARSE: &str = "query($url: String!) { parseUrl(url: $url) { title platform extractor formats { id container contentType } } }";
const START: &str = "mutation($input: StartDownloadInput!) { startDownload(input: $input) { id status } }";
const GET: &str = "query($id: ID!) { download(id: $id) { status attempts errorCode sizeBytes sha256 contentType } }";

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
