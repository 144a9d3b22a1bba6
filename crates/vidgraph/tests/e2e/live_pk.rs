//! PK link-mic through the router, with `live` replicas on a manual clock: a whole PK seen by a
//! subscriber (every state, both scores), the refusals, reject, expiry at 15 s, admin close
//! and a draw, and a replica killed mid-score-phase whose PK the other replica ends on time,
//! each transition once.

use crate::harness::{Platform, free_port};
use crate::live_support::{LiveReplica, SEND_GIFT, base_url, channel, eventually, fund, gifts, live_room};
use crate::subscriptions::WsClient;
use chrono::{Duration as Span, Utc};
use platform::clock::ManualClock;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const WHITELIST: &str = "mutation($user: ID!) { addToPkWhitelist(userId: $user) }";
const INVITE: &str = "mutation($to: ID!) { invitePk(inviteeId: $to) { id state inviteExpiresAt } }";
const ACCEPT: &str = "mutation($pk: ID!) { acceptPk(pkId: $pk) { id state scoreEndsAt } }";
const REJECT: &str = "mutation($pk: ID!) { rejectPk(pkId: $pk) { state } }";
const CLOSE: &str = "mutation($pk: ID!) { closePk(pkId: $pk) { state } }";
const PK: &str = "query($pk: ID!) { pk(id: $pk) { state isDraw winner { id } inviter { score } invitee { score } } }";
const TRANSITIONS: &str = "query($pk: ID!) { pkTransitions(pkId: $pk) { from to cause firedBy actor { id } } }";
const ROOM_PK: &str = "subscription($room: ID!) { roomPk(roomId: $room) { id state inviter { score } invitee { score } } }";
const PK_UPDATED: &str = "subscription($pk: ID!) { pkUpdated(pkId: $pk) { state revision winner { id } \
    inviter { score streamer { id } } invitee { score } scoreEndsAt punishmentEndsAt } }";

/// A platform whose router sends `live`'s fetches to a replica on a manual clock (starting a day
/// ahead, so the platform's own `live`, on the real clock, never finds a deadline due).
struct PkWorld {
    platform: Platform,
    clock: Arc<ManualClock>,
    port: u16,
    replica: Option<LiveReplica>,
    admin: String,
    /// (user id, token) of two whitelisted live streamers and a funded fan.
    a: (String, String),
    b: (String, String),
    fan: (String, String),
    rooms: (String, String),
}

impl PkWorld {
    async fn start() -> PkWorld {
        let port = free_port();
        let platform = Platform::start_with(|_, _| {}, &[("live", format!("http://127.0.0.1:{port}/graphql"))]).await;
        let clock = ManualClock::starting_at(Utc::now() + Span::days(1));
        let replica = LiveReplica::start(&platform, clock.clone(), port).await;
        let (_, admin) = platform.admin("pkboss").await;
        let users = platform.users("pker", 4).await;
        let games = channel(&platform, &admin, "pk-games").await;
        gifts(&platform, &admin).await;
        let rooms = (live_room(&platform, &users[0].1, &games).await, live_room(&platform, &users[1].1, &games).await);
        for (id, _) in &users[..2] {
            platform.gql(WHITELIST, json!({ "user": id }), Some(&admin)).await.ok();
        }
        fund(&platform, &base_url(&replica.url), &users[2].1, 100_000).await;
        let mut users = users.into_iter();
        let mut next = || users.next().expect("user");
        PkWorld { clock, port, replica: Some(replica), admin, a: next(), b: next(), fan: next(), rooms, platform }
    }

    async fn invite(&self, from: &(String, String), to: &(String, String)) -> String {
        let invited = self.platform.gql(INVITE, json!({ "to": to.0 }), Some(&from.1)).await.ok();
        invited.data("/invitePk/id").as_str().expect("pk id").to_owned()
    }

    async fn gift(&self, room: &str, gift: &str, count: i64, key: &str) {
        let vars = json!({ "room": room, "gift": gift, "count": count, "key": key });
        self.platform.gql(SEND_GIFT, vars, Some(&self.fan.1)).await.ok();
    }

    async fn state(&self, pk: &str, state: &str) -> crate::harness::Reply {
        eventually(&self.platform, PK, json!({ "pk": pk }), None, |reply| reply.data("/pk/state") == &json!(state)).await
    }
}

/// The next `pkUpdated` payload of subscription `1`.
async fn next_update(client: &mut WsClient) -> Value {
    let message = client.next_message().await;
    assert_eq!(message["type"], "next", "{message}");
    message["payload"]["data"]["pkUpdated"].clone()
}

#[tokio::test]
async fn a_whole_pk_through_the_router_is_seen_by_a_subscriber_in_every_state_with_both_scores() {
    let world = PkWorld::start().await;
    let pk = world.invite(&world.a, &world.b).await;
    let mut viewer = WsClient::connect(&world.platform.router_ws_url(), Some(&world.fan.1)).await;
    viewer.subscribe("1", PK_UPDATED, json!({ "pk": pk })).await;
    let mut seen = vec![next_update(&mut viewer).await];
    // An anonymous viewer of the invitee's room follows its PKs too.
    let mut room_viewer = WsClient::connect(&world.platform.router_ws_url(), None).await;
    room_viewer.subscribe("1", ROOM_PK, json!({ "room": world.rooms.1 })).await;
    let mut room_seen = vec![room_viewer.next_message().await["payload"]["data"]["roomPk"].clone()];

    world.platform.gql(ACCEPT, json!({ "pk": pk }), Some(&world.b.1)).await.ok();
    seen.push(next_update(&mut viewer).await);
    world.gift(&world.rooms.0, "rocket", 1, "r1").await;
    seen.push(next_update(&mut viewer).await);
    world.gift(&world.rooms.1, "heart", 3, "h1").await;
    seen.push(next_update(&mut viewer).await);
    world.clock.advance(Span::minutes(6));
    seen.push(next_update(&mut viewer).await);
    world.gift(&world.rooms.1, "castle", 1, "late").await;
    world.clock.advance(Span::minutes(2));
    seen.push(next_update(&mut viewer).await);

    let summary: Vec<(String, i64, i64)> = seen
        .iter()
        .map(|u| {
            (
                u["state"].as_str().unwrap_or("").to_owned(),
                u["inviter"]["score"].as_i64().unwrap_or(-1),
                u["invitee"]["score"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    let expected =
        [("INVITED", 0, 0), ("SCORING", 0, 0), ("SCORING", 500, 0), ("SCORING", 500, 30), ("PUNISHMENT", 500, 30), ("ENDED", 500, 30)];
    assert_eq!(summary, expected.map(|(s, a, b)| (s.to_owned(), a, b)), "{seen:#?}");
    assert_eq!(seen[4]["winner"]["id"], json!(world.a.0), "the inviter won");
    assert!(seen[1]["scoreEndsAt"].is_string() && seen[4]["punishmentEndsAt"].is_string(), "deadlines are reported");
    let revisions: Vec<i64> = seen.iter().filter_map(|u| u["revision"].as_i64()).collect();
    assert!(revisions.windows(2).all(|w| w[0] < w[1]), "{revisions:?}");
    // The late gift changed nothing: the stream ends with the final state.
    let end = viewer.next_message().await;
    assert_eq!(end["type"], "complete", "{end}");
    // So a later identical subscription of the same identity, which the router would have joined
    // to a still-open upstream (and so to silence), gets the final state and the end.
    let mut again = WsClient::connect(&world.platform.router_ws_url(), Some(&world.fan.1)).await;
    again.subscribe("1", PK_UPDATED, json!({ "pk": pk })).await;
    assert_eq!(next_update(&mut again).await["state"], json!("ENDED"));
    assert_eq!(again.next_message().await["type"], "complete");

    while room_seen.len() < expected.len() {
        room_seen.push(room_viewer.next_message().await["payload"]["data"]["roomPk"].clone());
    }
    let room_summary: Vec<(String, i64, i64)> = room_seen
        .iter()
        .map(|u| {
            (
                u["state"].as_str().unwrap_or("").to_owned(),
                u["inviter"]["score"].as_i64().unwrap_or(-1),
                u["invitee"]["score"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(room_summary, summary, "the room's viewers see the same PK");
    assert!(room_seen.iter().all(|u| u["id"] == json!(pk)));
}

#[tokio::test]
async fn invites_are_refused_rejected_expire_at_15_seconds_are_closed_by_admins_and_level_scores_draw() {
    let world = PkWorld::start().await;
    let platform = &world.platform;
    // The fan is not whitelisted (nor live).
    assert_eq!(platform.gql(INVITE, json!({ "to": world.fan.0 }), Some(&world.a.1)).await.codes(), ["FORBIDDEN"]);
    assert_eq!(platform.gql(INVITE, json!({ "to": world.a.0 }), None).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(platform.gql(WHITELIST, json!({ "user": world.fan.0 }), Some(&world.a.1)).await.codes(), ["FORBIDDEN"]);

    // Reject; a busy streamer cannot be invited meanwhile.
    let pk = world.invite(&world.a, &world.b).await;
    assert_eq!(platform.gql(INVITE, json!({ "to": world.b.0 }), Some(&world.a.1)).await.codes(), ["CONFLICT"], "busy");
    assert_eq!(platform.gql(REJECT, json!({ "pk": pk }), Some(&world.a.1)).await.codes(), ["FORBIDDEN"], "only the invitee");
    assert_eq!(platform.gql(REJECT, json!({ "pk": pk }), Some(&world.b.1)).await.ok().data("/rejectPk/state"), &json!("REJECTED"));

    // Expiry at 15 s (the 14 s / 15 s boundary is proven without timing in the service tests);
    // then it cannot be accepted.
    let pk = world.invite(&world.a, &world.b).await;
    world.clock.advance(Span::seconds(15));
    world.state(&pk, "EXPIRED").await;
    assert_eq!(platform.gql(ACCEPT, json!({ "pk": pk }), Some(&world.b.1)).await.codes(), ["CONFLICT"]);

    // Admin close in the score phase.
    let pk = world.invite(&world.b, &world.a).await;
    platform.gql(ACCEPT, json!({ "pk": pk }), Some(&world.a.1)).await.ok();
    assert_eq!(platform.gql(CLOSE, json!({ "pk": pk }), Some(&world.b.1)).await.codes(), ["FORBIDDEN"]);
    assert_eq!(platform.gql(CLOSE, json!({ "pk": pk }), Some(&world.admin)).await.ok().data("/closePk/state"), &json!("CLOSED"));
    assert_eq!(platform.gql(CLOSE, json!({ "pk": pk }), Some(&world.admin)).await.codes(), ["CONFLICT"], "finished");

    // A draw: equal scores at the deadline end it without punishment.
    let pk = world.invite(&world.a, &world.b).await;
    platform.gql(ACCEPT, json!({ "pk": pk }), Some(&world.b.1)).await.ok();
    world.gift(&world.rooms.0, "heart", 1, "d1").await;
    world.gift(&world.rooms.1, "heart", 1, "d2").await;
    world.clock.advance(Span::minutes(6));
    let drawn = world.state(&pk, "ENDED").await;
    assert_eq!(
        drawn.data("/pk"),
        &json!({ "state": "ENDED", "isDraw": true, "winner": null, "inviter": { "score": 10 }, "invitee": { "score": 10 } })
    );
}

#[tokio::test]
async fn a_replica_killed_mid_score_phase_leaves_the_pk_to_the_other_which_fires_each_transition_once() {
    let mut world = PkWorld::start().await;
    let second = LiveReplica::start(&world.platform, world.clock.clone(), 0).await;
    let pk = world.invite(&world.a, &world.b).await;
    world.platform.gql(ACCEPT, json!({ "pk": pk }), Some(&world.b.1)).await.ok();
    world.gift(&world.rooms.0, "heart", 7, "h7").await;

    // Kill the replica the router talks to, in the middle of the score phase.
    world.replica.take().expect("first replica").stop().await;
    world.clock.advance(Span::minutes(6));
    let db = world.platform.db();
    let id = pk.parse().expect("uuid");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut conn = db.pool.get().await.expect("connection");
        let current = live::store::pk::find(&mut conn, id).await.expect("read").expect("pk");
        if current.state == "punishment" {
            assert_eq!((current.inviter_score, current.invitee_score), (70, 0));
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the surviving replica never ended the score phase");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The killed replica comes back on its port; the router finds it again.
    world.replica = Some(LiveReplica::start(&world.platform, world.clock.clone(), world.port).await);
    world.clock.advance(Span::minutes(2));
    let ended = world.state(&pk, "ENDED").await;
    assert_eq!(ended.data("/pk/winner/id"), &json!(world.a.0));
    let transitions = world.platform.gql(TRANSITIONS, json!({ "pk": pk }), None).await.ok();
    let path: Vec<(&str, &str)> = transitions
        .data("/pkTransitions")
        .as_array()
        .expect("transitions")
        .iter()
        .map(|t| (t["to"].as_str().unwrap_or(""), t["cause"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(path, [("INVITED", "invite"), ("SCORING", "accept"), ("PUNISHMENT", "score_ended"), ("ENDED", "punishment_ended")]);
    assert!(transitions.data("/pkTransitions/2/firedBy").is_string(), "a timer fired it");
    second.stop().await;
}
