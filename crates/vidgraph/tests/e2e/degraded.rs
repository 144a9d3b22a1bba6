//! What a client gets when part of the platform is broken: messages it can show, partial data
//! instead of a hung page, and login, pages and danmaku that keep working without Redis.

use crate::harness::{LOGIN, Platform, REGISTER};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::net::TcpListener;

/// A TCP server that accepts every connection and never answers: a frozen process (a subgraph
/// under SIGSTOP, a Redis that hangs). Connections are held until the returned task is aborted.
async fn black_hole() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (port, task)
}

#[tokio::test]
async fn user_errors_keep_their_message_through_the_router_and_internal_ones_show_nothing() {
    let platform = Platform::start().await;
    let weak = json!({ "input": { "email": "ada@example.com", "username": "ada", "password": "short1" } });
    let reply = platform.gql(REGISTER, weak, None).await;
    assert_eq!(reply.codes(), ["BAD_USER_INPUT"], "{}", reply.body);
    assert_eq!(
        reply.body["errors"][0]["message"], "A password has 8 to 128 characters with at least one letter and one digit.",
        "the sentence a SPA shows the user, not the router's \"Unexpected error\""
    );

    // A real internal failure with a telling cause: the table the query reads is gone.
    let (author, _, _) = platform.register("bob").await;
    platform.insert_video(&author, "hidden").await;
    {
        use diesel_async::SimpleAsyncConnection;
        let db = platform.db();
        let mut conn = db.pool.get().await.expect("connection");
        conn.batch_execute("ALTER TABLE content.videos RENAME TO videos_moved_away").await.expect("rename");
    }
    let reply = platform.gql("{ videos(first: 5) { edges { node { id title } } } }", json!({}), None).await;
    assert!(reply.status < 500, "{}", reply.body);
    assert_eq!(reply.codes(), ["INTERNAL"], "{}", reply.body);
    assert_eq!(reply.body["errors"][0]["message"], "Internal server error");
    let text = reply.body.to_string();
    for leak in ["videos_moved_away", "relation", "does not exist", "diesel", "postgres"] {
        assert!(!text.contains(leak), "`{leak}` leaked: {text}");
    }
}

#[tokio::test]
async fn a_frozen_subgraph_costs_its_fields_not_the_page() {
    let (port, frozen) = black_hole().await;
    let platform = Platform::start_with(|_, _| {}, &[("ranking", format!("http://127.0.0.1:{port}/graphql"))]).await;
    let (author, _, _) = platform.register("ada").await;
    let video = platform.insert_video(&author, "still here").await;

    // The router's read deadline is 3 s; without one it waited 30 s for the frozen `ranking`.
    let query = "query($id: ID!) { video(id: $id) { title stat { likes } hotValue } }";
    let reply = tokio::time::timeout(Duration::from_secs(10), platform.gql(query, json!({ "id": video }), None))
        .await
        .expect("an answer while ranking is frozen");
    assert!(reply.status < 500, "{}", reply.body);
    assert_eq!(reply.data("/video/title"), "still here", "content's part arrives: {}", reply.body);
    assert_eq!(reply.data("/video/stat/likes"), 0);
    assert_eq!(reply.data("/video/hotValue"), &Value::Null);
    let errors = reply.body["errors"].as_array().expect("an error for the frozen part");
    assert!(!errors.is_empty());
    assert!(errors.iter().all(|e| e["extensions"]["code"].is_string()), "every error has a code: {}", reply.body);
    frozen.abort();
}

#[tokio::test]
async fn without_redis_content_keeps_signing_in_serving_pages_and_limiting_guesses() {
    let (port, hung_redis) = black_hole().await;
    let platform = Platform::start_with(
        |name, config| {
            if name == "content" {
                config.redis.url = format!("redis://127.0.0.1:{port}");
            }
        },
        &[],
    )
    .await;
    let (author, token, _) = platform.register("ada").await;
    let video = platform.insert_video(&author, "cached nowhere").await;

    let page = platform.gql("query($id: ID!) { video(id: $id) { title } }", json!({ "id": video }), None).await.ok();
    assert_eq!(page.data("/video/title"), "cached nowhere");
    let danmaku = platform
        .gql(
            "mutation($input: SendDanmakuInput!) { sendDanmaku(input: $input) { id } }",
            json!({ "input": { "videoId": video, "offsetMs": 1000, "text": "hi" } }),
            Some(&token),
        )
        .await
        .ok();
    assert!(danmaku.data("/sendDanmaku/id").is_string());

    let login = |password: &str| json!({ "input": { "login": "ada", "password": password } });
    platform.gql(LOGIN, login("s3cret-pass"), None).await.ok();
    // The per-account limit (5 per window) still holds, counted in-process.
    let mut codes = Vec::new();
    for _ in 0..6 {
        codes.extend(platform.gql(LOGIN, login("wrong-pass-1"), None).await.codes());
    }
    assert_eq!(codes.len(), 6, "every wrong password was refused: {codes:?}");
    assert_ne!(codes[0], "RATE_LIMITED", "{codes:?}");
    assert_eq!(codes[5], "RATE_LIMITED", "the sixth guess is over the limit: {codes:?}");

    let ready = reqwest::get(platform.subgraph_urls["content"].replace("/graphql", "/health/ready")).await.expect("ready");
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.expect("json");
    assert_eq!(body["checks"]["redis"], "degraded", "{body}");
    hung_redis.abort();
}
