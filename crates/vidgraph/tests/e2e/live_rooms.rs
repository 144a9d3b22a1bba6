//! Channels and rooms through the router: who may create channels and rooms, going live and
//! stopping (with the room events on JetStream), `liveRooms` and `User.room` resolved across
//! `content` and `live`.

use crate::harness::Platform;
use crate::live_support::{CREATE_CHANNEL, OPEN_ROOM, START_LIVE, channel, live_room};
use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use futures::StreamExt;
use platform::events::{ROOM_EVENT_KIND, ROOM_STREAM};
use serde_json::{Value, json};
use std::time::Duration;

const LIVE_ROOMS: &str = "query($channel: ID!, $first: Int, $after: String) { liveRooms(channelId: $channel, first: $first, after: $after) { \
    edges { cursor node { id title isLive streamer { id username } channel { slug } } } pageInfo { hasNextPage endCursor } } }";
const STOP_LIVE: &str =
    "mutation($room: ID) { stopLive(roomId: $room) { room { id isLive } session { id startedAt endedAt peakViewers } } }";

/// The first `count` room events on JetStream, in order (waits up to 10 s).
async fn room_events(platform: &Platform, count: usize) -> Vec<Value> {
    let nats = platform.nats().await;
    let stream = ROOM_STREAM.ensure(&nats).await.expect("stream");
    let consumer = stream
        .create_consumer(pull::Config {
            filter_subject: ROOM_STREAM.subject(&nats, ROOM_EVENT_KIND),
            deliver_policy: DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .expect("consumer");
    let mut messages = consumer.messages().await.expect("messages");
    let mut events = Vec::new();
    while events.len() < count {
        let Ok(Some(Ok(message))) = tokio::time::timeout(Duration::from_secs(10), messages.next()).await else {
            panic!("only {} of {count} room events arrived: {events:?}", events.len())
        };
        events.push(serde_json::from_slice(&message.payload).expect("event JSON"));
        message.ack().await.expect("ack");
    }
    events
}

#[tokio::test]
async fn streamers_open_one_room_go_live_and_stop_with_room_events_and_viewers_find_live_rooms() {
    let platform = Platform::start().await;
    let (_, admin) = platform.admin("liveboss").await;
    let users = platform.users("streamer", 3).await;
    let ((ada, ada_token), (bob, bob_token), (_, carol_token)) = (&users[0], &users[1], &users[2]);

    // Only admins create channels.
    let vars = json!({ "slug": "games", "name": "Games" });
    assert_eq!(platform.gql(CREATE_CHANNEL, vars.clone(), None).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(platform.gql(CREATE_CHANNEL, vars.clone(), Some(ada_token)).await.codes(), ["FORBIDDEN"]);
    let games = channel(&platform, &admin, "games").await;
    assert_eq!(platform.gql(CREATE_CHANNEL, vars, Some(&admin)).await.codes(), ["CONFLICT"], "slugs are unique");

    // One room per user; bad input is refused.
    let ada_room = live_room(&platform, ada_token, &games).await;
    let again = platform.gql(OPEN_ROOM, json!({ "title": "Second", "channel": games }), Some(ada_token)).await;
    assert_eq!(again.codes(), ["CONFLICT"]);
    let blank = platform.gql(OPEN_ROOM, json!({ "title": "   ", "channel": games }), Some(bob_token)).await;
    assert_eq!(blank.codes(), ["BAD_USER_INPUT"]);
    assert_eq!(platform.gql(START_LIVE, json!({}), Some(carol_token)).await.codes(), ["NOT_FOUND"], "no room yet");
    assert_eq!(platform.gql(START_LIVE, json!({}), Some(ada_token)).await.codes(), ["CONFLICT"], "live already");
    let bob_room = live_room(&platform, bob_token, &games).await;

    // Live rooms of the channel, with streamers resolved by `content`, paged.
    let first = platform.gql(LIVE_ROOMS, json!({ "channel": games, "first": 1 }), None).await.ok();
    let node = first.data("/liveRooms/edges/0/node");
    assert_eq!(node["id"], json!(ada_room));
    assert_eq!(node["streamer"], json!({ "id": ada, "username": "streamer0" }));
    assert_eq!(node["channel"], json!({ "slug": "games" }));
    assert_eq!(first.data("/liveRooms/pageInfo/hasNextPage"), &json!(true));
    let after = first.data("/liveRooms/pageInfo/endCursor").as_str().expect("cursor").to_owned();
    let second = platform.gql(LIVE_ROOMS, json!({ "channel": games, "first": 1, "after": after }), None).await.ok();
    assert_eq!(second.node_ids("liveRooms"), std::slice::from_ref(&bob_room));
    assert_eq!(platform.gql(LIVE_ROOMS, json!({ "channel": games, "first": 500 }), None).await.codes(), ["BAD_USER_INPUT"]);

    // `User.room` on the entity, for several users in one query.
    let users_query = "query($a: ID!, $b: ID!, $c: ID!) { a: user(id: $a) { username room { id isLive } } \
        b: user(id: $b) { room { id } } c: user(id: $c) { room { id } } }";
    let rooms = platform.gql(users_query, json!({ "a": ada, "b": bob, "c": users[2].0 }), None).await.ok();
    assert_eq!(rooms.data("/a"), &json!({ "username": "streamer0", "room": { "id": ada_room, "isLive": true } }));
    assert_eq!(rooms.data("/b/room/id"), &json!(bob_room));
    assert_eq!(rooms.data("/c/room"), &Value::Null);

    // Stopping: only the streamer or an admin; the session is recorded.
    assert_eq!(platform.gql(STOP_LIVE, json!({ "room": ada_room }), Some(bob_token)).await.codes(), ["FORBIDDEN"]);
    let stopped = platform.gql(STOP_LIVE, json!({}), Some(ada_token)).await.ok();
    assert_eq!(stopped.data("/stopLive/room/isLive"), &json!(false));
    assert!(stopped.data("/stopLive/session/endedAt").is_string());
    let forced = platform.gql(STOP_LIVE, json!({ "room": bob_room }), Some(&admin)).await.ok();
    assert_eq!(forced.data("/stopLive/room/isLive"), &json!(false));
    assert_eq!(platform.gql(STOP_LIVE, json!({}), Some(ada_token)).await.codes(), ["CONFLICT"], "not live any more");
    let empty = platform.gql(LIVE_ROOMS, json!({ "channel": games }), None).await.ok();
    assert_eq!(empty.node_ids("liveRooms"), Vec::<String>::new());
    let sessions = platform
        .gql("query($id: ID!) { room(id: $id) { sessions(first: 5) { edges { node { endedAt } } } } }", json!({ "id": ada_room }), None)
        .await
        .ok();
    assert_eq!(sessions.data("/room/sessions/edges").as_array().map(Vec::len), Some(1));

    // Every go-live and stop reached JetStream through the outbox, in order per room.
    let events = room_events(&platform, 4).await;
    let of = |room: &str| {
        events.iter().filter(|e| e["room_id"] == json!(room)).map(|e| e["action"].as_str().unwrap_or("").to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(of(&ada_room), ["went_live", "stopped"]);
    assert_eq!(of(&bob_room), ["went_live", "stopped"]);
    assert!(events.iter().all(|e| e["channel_id"] == json!(games) && e["title"] == json!("Live now")));
}
