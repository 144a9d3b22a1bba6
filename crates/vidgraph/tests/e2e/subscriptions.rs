//! Subscriptions over `graphql-transport-ws`, through the router and on a subgraph.

use crate::harness::Platform;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a WebSocket asking for `graphql-transport-ws` and sends `connection_init` with `payload`.
async fn open_and_init(url: &str, payload: Value) -> Socket {
    let mut request = url.into_client_request().expect("ws request");
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().expect("header"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("ws connect");
    socket.send(Message::text(json!({ "type": "connection_init", "payload": payload }).to_string())).await.expect("init");
    socket
}

/// A minimal `graphql-transport-ws` client.
pub struct WsClient {
    socket: Socket,
}

impl WsClient {
    /// Connects and completes `connection_init` → `connection_ack`.
    pub async fn connect(url: &str, token: Option<&str>) -> WsClient {
        let payload = token.map_or(json!({}), |token| json!({ "Authorization": format!("Bearer {token}") }));
        let mut client = WsClient { socket: open_and_init(url, payload).await };
        let ack = client.next_message().await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        client
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let message = json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } });
        self.socket.send(Message::text(message.to_string())).await.expect("subscribe");
    }

    /// The next protocol message (answers pings), bounded in time.
    pub async fn next_message(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), self.socket.next()).await.expect("ws message in time");
            match frame.expect("socket open").expect("ws frame") {
                Message::Text(text) => {
                    let message: Value = serde_json::from_str(&text).expect("json");
                    if message["type"] == "ping" {
                        self.socket.send(Message::text(json!({ "type": "pong" }).to_string())).await.expect("pong");
                        continue;
                    }
                    return message;
                }
                Message::Close(frame) => panic!("socket closed: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// Waits up to `wait` for a message; `None` when none came.
    pub async fn try_next(&mut self, wait: Duration) -> Option<Value> {
        tokio::time::timeout(wait, self.next_message()).await.ok()
    }
}

const UPDATE_BIO: &str = "mutation($bio: String) { updateProfile(input: { bio: $bio }) { id } }";

/// Updates the bio through `url` until the subscription delivers one (a subscription has no
/// acknowledgement, so we probe rather than sleep), then returns the delivered bio.
pub async fn updated_bios(platform: &Platform, url: &str, token: &str, client: &mut WsClient) -> String {
    for attempt in 0..50 {
        platform.post(url, UPDATE_BIO, json!({ "bio": format!("probe {attempt}") }), Some(token)).await.ok();
        if let Some(message) = client.try_next(Duration::from_millis(200)).await {
            assert_eq!(message["type"], "next", "{message}");
            return message["payload"]["data"]["userUpdated"]["bio"].as_str().expect("bio").to_owned();
        }
    }
    panic!("no subscription event after 50 updates");
}

#[tokio::test]
async fn a_client_subscribed_through_the_router_receives_profile_updates() {
    let platform = Platform::start().await;
    let (user_id, token, _) = platform.register("ada").await;
    let mut client = WsClient::connect(&platform.router_ws_url(), Some(&token)).await;
    client.subscribe("1", "subscription($id: ID!) { userUpdated(id: $id) { id bio } }", json!({ "id": user_id })).await;

    let router = platform.router_url();
    let first = updated_bios(&platform, &router, &token, &mut client).await;
    assert!(first.starts_with("probe"));
    // Once established, every update arrives, in order.
    for bio in ["one", "two", "three"] {
        platform.gql(UPDATE_BIO, json!({ "bio": bio }), Some(&token)).await.ok();
    }
    let mut received = Vec::new();
    while received.len() < 3 {
        let message = client.next_message().await;
        let bio = message["payload"]["data"]["userUpdated"]["bio"].as_str().expect("bio").to_owned();
        if !bio.starts_with("probe") {
            received.push(bio);
        }
    }
    assert_eq!(received, ["one", "two", "three"]);
}

#[tokio::test]
async fn a_websocket_with_an_invalid_token_is_refused() {
    let platform = Platform::start().await;
    let url = platform.subgraph_urls["content"].replace("http://", "ws://");
    let mut socket = open_and_init(&url, json!({ "authorization": "Bearer garbage" })).await;
    let answer = tokio::time::timeout(Duration::from_secs(5), socket.next()).await.expect("answer in time");
    match answer {
        // async-graphql closes a refused `connection_init` with 1002 and the error's message
        // (the protocol suggests 4403); either way no `connection_ack` is ever sent.
        Some(Ok(Message::Close(Some(frame)))) => {
            assert_eq!(u16::from(frame.code), 1002, "{frame:?}");
            assert!(frame.reason.contains("session is invalid"), "{frame:?}");
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
}

const USER_UPDATED_PRIVATE: &str = "subscription($id: ID!) { userUpdated(id: $id) { id bio email role } }";

#[tokio::test]
async fn subscribers_of_one_account_through_the_router_each_see_only_what_their_identity_may() {
    let platform = Platform::start().await;
    let (owner_id, owner_token, _) = platform.register("ada").await;
    let (_, admin_token) = platform.admin("root").await;
    let others = platform.users("watcher", 4).await;
    // Several identities at once, all on one topic: the owner, an admin, other users, and
    // anonymous viewers (who share one upstream socket at the router, as users each get their own).
    let mut identities: Vec<(&str, Option<String>)> = vec![("owner", Some(owner_token.clone())), ("admin", Some(admin_token))];
    identities.extend(others.iter().map(|(_, token)| ("other", Some(token.clone()))));
    identities.extend([("anonymous", None), ("anonymous", None)]);
    let mut clients = Vec::new();
    for (who, token) in &identities {
        let mut client = WsClient::connect(&platform.router_ws_url(), token.as_deref()).await;
        client.subscribe("1", USER_UPDATED_PRIVATE, json!({ "id": owner_id })).await;
        clients.push((*who, client));
    }

    // Probe until every subscription is live (a subscription has no acknowledgement).
    let mut live = vec![false; clients.len()];
    for attempt in 0..50 {
        if live.iter().all(|l| *l) {
            break;
        }
        platform.gql(UPDATE_BIO, json!({ "bio": format!("probe {attempt}") }), Some(&owner_token)).await.ok();
        for ((_, client), live) in clients.iter_mut().zip(live.iter_mut()).filter(|(_, live)| !**live) {
            *live = client.try_next(Duration::from_millis(200)).await.is_some();
        }
    }
    assert!(live.iter().all(|l| *l), "not every subscription became live: {live:?}");

    platform.gql(UPDATE_BIO, json!({ "bio": "final" }), Some(&owner_token)).await.ok();
    for (who, client) in &mut clients {
        let event = loop {
            let message = client.next_message().await;
            assert_eq!(message["type"], "next", "{who}: {message}");
            let event = message["payload"]["data"]["userUpdated"].clone();
            let private = (event["email"].clone(), event["role"].clone());
            match *who {
                "owner" | "admin" => assert_eq!(private, (json!("ada@example.com"), json!("USER")), "{who}: {message}"),
                _ => assert_eq!(private, (Value::Null, Value::Null), "{who} saw a private field: {message}"),
            }
            if event["bio"] == "final" {
                break event;
            }
        };
        assert_eq!(event["id"], json!(owner_id));
    }
}
