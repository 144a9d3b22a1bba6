//! Live danmaku through the router and across replicas: a message sent on one replica reaches
//! subscribers on both, viewers are counted across replicas (and the session's peak), mutes
//! are refused with their end time, the rate limit trips, bad input is refused, and late
//! joiners get the recent history.

use crate::harness::{Platform, spawn_subgraph};
use crate::live_support::{channel, eventually, live_room};
use crate::subscriptions::WsClient;
use platform::Deps;
use serde_json::{Value, json};
use std::time::Duration;
use vidgraph::subgraphs::Subgraph;

const SEND: &str = "mutation($room: ID!, $text: String!) { sendLiveDanmaku(roomId: $room, text: $text, colour: \"#ff8800\") { id text colour mode sender { id } } }";
const FEED: &str = "subscription($room: ID!) { roomDanmaku(roomId: $room) { text colour dropped sender { id } wornMedals { name } } }";
const MUTE: &str = "mutation($room: ID!, $user: ID!) { muteInRoom(roomId: $room, userId: $user, minutes: 10, reason: \"spam\") { until } }";
const VIEWERS: &str = "query($room: ID!) { room(id: $room) { viewerCount currentSession { peakViewers } } }";

/// Sends probes as `token` until `clients` have all received one (a subscription has no
/// acknowledgement, so we probe rather than sleep); returns how many probes it took.
async fn until_subscribed(platform: &Platform, room: &str, token: &str, clients: &mut [&mut WsClient]) -> usize {
    let mut pending: Vec<usize> = (0..clients.len()).collect();
    for attempt in 0..20 {
        platform.gql(SEND, json!({ "room": room, "text": format!("probe {attempt}") }), Some(token)).await.ok();
        let mut still = Vec::new();
        for index in pending {
            if clients[index].try_next(Duration::from_millis(250)).await.is_none() {
                still.push(index);
            }
        }
        pending = still;
        if pending.is_empty() {
            return attempt + 1;
        }
    }
    panic!("subscribers {pending:?} never received a probe");
}

/// The next danmaku of `client` that is not a probe.
async fn next_message(client: &mut WsClient) -> Value {
    loop {
        let message = client.next_message().await;
        assert_eq!(message["type"], "next", "{message}");
        let danmaku = message["payload"]["data"]["roomDanmaku"].clone();
        if !danmaku["text"].as_str().unwrap_or("").starts_with("probe") {
            return danmaku;
        }
    }
}

#[tokio::test]
async fn danmaku_sent_on_one_replica_reaches_viewers_on_both_with_presence_mutes_and_rate_limits() {
    let platform = Platform::start().await;
    let (_, admin) = platform.admin("danmakuboss").await;
    let users = platform.users("chatter", 5).await;
    let ((_, streamer), (fan_id, fan), (muted_id, muted), (_, prober), (_, idle)) = (&users[0], &users[1], &users[2], &users[3], &users[4]);
    let chat = channel(&platform, &admin, "chat").await;
    // A quiet room that went live first.
    let quiet = live_room(&platform, idle, &chat).await;
    let room = live_room(&platform, streamer, &chat).await;
    let deps = Deps::connect(platform.services.config(), "live-b").await.expect("deps");
    let (replica_b, _stop_b) = spawn_subgraph(Subgraph::Live, deps).await;

    // One viewer through the router (replica A), one straight on replica B.
    let mut via_router = WsClient::connect(&platform.router_ws_url(), Some(fan)).await;
    via_router.subscribe("1", FEED, json!({ "room": room })).await;
    let mut on_b = WsClient::connect(&replica_b.replace("http://", "ws://"), None).await;
    on_b.subscribe("1", FEED, json!({ "room": room })).await;
    until_subscribed(&platform, &room, prober, &mut [&mut via_router, &mut on_b]).await;

    // The fan wears a medal an admin granted; a medal not held cannot be worn.
    let group = platform.gql("mutation { createMedalGroup(name: \"Fans\") { id } }", json!({}), Some(&admin)).await.ok();
    let create = "mutation($g: ID!) { createMedal(input: { groupId: $g, name: \"Super fan\", validityDays: 30 }) { id } }";
    let medal = platform.gql(create, json!({ "g": group.data("/createMedalGroup/id") }), Some(&admin)).await.ok();
    let medal_id = medal.data("/createMedal/id").clone();
    let wear = "mutation($m: ID!) { wearMedal(medalId: $m) { name } }";
    assert_eq!(platform.gql(wear, json!({ "m": medal_id }), Some(fan)).await.codes(), ["BAD_USER_INPUT"], "not held yet");
    let grant = "mutation($u: ID!, $m: ID!) { grantMedal(userId: $u, medalId: $m, reason: \"loyal\") { id } }";
    assert_eq!(platform.gql(grant, json!({ "u": fan_id, "m": medal_id }), Some(fan)).await.codes(), ["FORBIDDEN"]);
    platform.gql(grant, json!({ "u": fan_id, "m": medal_id }), Some(&admin)).await.ok();
    platform.gql(wear, json!({ "m": medal_id }), Some(fan)).await.ok();
    let profile = platform
        .gql(
            "query($u: ID!) { user(id: $u) { username medals { unlocked worn medal { name } } wornMedals { name } } }",
            json!({ "u": fan_id }),
            None,
        )
        .await
        .ok();
    assert_eq!(
        profile.data("/user"),
        &json!({ "username": "chatter1", "medals": [{ "unlocked": true, "worn": true, "medal": { "name": "Super fan" } }], "wornMedals": [{ "name": "Super fan" }] })
    );

    let sent = platform.gql(SEND, json!({ "room": room, "text": "  hello room  " }), Some(fan)).await.ok();
    assert_eq!(sent.data("/sendLiveDanmaku/text"), &json!("hello room"));
    assert_eq!(sent.data("/sendLiveDanmaku/mode"), &json!("SCROLL"));
    for client in [&mut via_router, &mut on_b] {
        let message = next_message(client).await;
        let expected = json!({ "text": "hello room", "colour": "#FF8800", "dropped": 0, "sender": { "id": fan_id }, "wornMedals": [{ "name": "Super fan" }] });
        assert_eq!(message, expected, "worn medals ride along on every replica");
    }

    // Viewers are counted on both replicas; the session keeps the peak.
    eventually(&platform, VIEWERS, json!({ "room": room }), None, |reply| reply.data("/room/viewerCount") == &json!(2)).await;
    eventually(&platform, VIEWERS, json!({ "room": room }), None, |reply| reply.data("/room/currentSession/peakViewers") == &json!(2))
        .await;
    let ranked = platform
        .gql("query($c: ID!) { liveRooms(channelId: $c) { edges { node { id viewerCount } } } }", json!({ "c": chat }), None)
        .await
        .ok();
    assert_eq!(ranked.node_ids("liveRooms"), [room.clone(), quiet], "most viewers first, not first live");

    // A mute by the streamer: refused with FORBIDDEN and the time it ends.
    assert_eq!(
        platform.gql(MUTE, json!({ "room": room, "user": muted_id }), Some(fan)).await.codes(),
        ["FORBIDDEN"],
        "only the streamer or an admin"
    );
    let muting = platform.gql(MUTE, json!({ "room": room, "user": muted_id }), Some(streamer)).await.ok();
    let until = muting.data("/muteInRoom/until").as_str().expect("until").to_owned();
    let refused = platform.gql(SEND, json!({ "room": room, "text": "let me talk" }), Some(muted)).await;
    assert_eq!(refused.codes(), ["FORBIDDEN"]);
    let muted_until = refused.body["errors"][0]["extensions"]["mutedUntil"].as_str().expect("mutedUntil").to_owned();
    assert_eq!(chrono::DateTime::parse_from_rfc3339(&muted_until).ok(), chrono::DateTime::parse_from_rfc3339(&until).ok());

    // Bad input.
    for text in [String::new(), "   ".into(), "x".repeat(101)] {
        assert_eq!(platform.gql(SEND, json!({ "room": room, "text": text }), Some(idle)).await.codes(), ["BAD_USER_INPUT"]);
    }
    let anonymous = platform.gql(SEND, json!({ "room": room, "text": "hi" }), None).await;
    assert_eq!(anonymous.codes(), ["UNAUTHENTICATED"]);

    // The rate limit: 20 per 30 s per user and room (the fan sent one already).
    for n in 0..19 {
        platform.gql(SEND, json!({ "room": room, "text": format!("spam {n}") }), Some(fan)).await.ok();
    }
    assert_eq!(platform.gql(SEND, json!({ "room": room, "text": "one too many" }), Some(fan)).await.codes(), ["RATE_LIMITED"]);

    // Late joiners get the history, oldest first.
    let recent =
        platform.gql("query($room: ID!) { recentDanmaku(roomId: $room, last: 3) { text } }", json!({ "room": room }), None).await.ok();
    assert_eq!(recent.data("/recentDanmaku"), &json!([{ "text": "spam 16" }, { "text": "spam 17" }, { "text": "spam 18" }]));
    let too_many =
        platform.gql("query($room: ID!) { recentDanmaku(roomId: $room, last: 500) { text } }", json!({ "room": room }), None).await;
    assert_eq!(too_many.codes(), ["BAD_USER_INPUT"]);

    // Only while live.
    platform.gql("mutation { stopLive { room { isLive } } }", json!({}), Some(streamer)).await.ok();
    assert_eq!(platform.gql(SEND, json!({ "room": room, "text": "anyone?" }), Some(idle)).await.codes(), ["CONFLICT"]);
}
