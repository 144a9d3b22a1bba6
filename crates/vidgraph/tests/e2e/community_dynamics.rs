//! Streamer dynamics through the router: pushed to followers connected to other `community`
//! replicas (behind two routers) when written on a third or made from `live`'s room event,
//! never to a non-follower; nothing pushed while push is off, and `dynamicsSince` serves the
//! poll; one dynamic per source event however often it is delivered; the authorization
//! matrix and bad input of the mutations, with the recompute check clean afterwards.

use crate::harness::{Platform, TempDir, free_port, spawn_subgraph};
use crate::live_support::{channel, live_room};
use crate::subscriptions::WsClient;
use platform::Deps;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use vidgraph::router::{self, RouterProcess};
use vidgraph::subgraphs::Subgraph;

const CREATE: &str = "mutation($body: String! = \"\", $images: [String!]! = []) { createDynamic(body: $body, imageUrls: $images) { id kind body published author { id } } }";
const FEED: &str = "subscription { dynamicPublished { id kind body roomId author { id } } }";
const FOLLOW: &str = "mutation($u: ID!) { followUser(userId: $u) { following } }";
const BY_AUTHOR: &str =
    "query($u: ID!) { dynamics(userId: $u, first: 50) { edges { node { id kind body roomId video { id } likeScore commentCount } } } }";
const SINCE: &str = "query($c: String) { dynamicsSince(cursor: $c) { cursor hasMore dynamics { id body } } }";
const SET_PUSH: &str =
    "mutation($on: Boolean!, $secs: Int!) { setPushEnabled(enabled: $on, pollIntervalSecs: $secs) { enabled pollIntervalSecs } }";
const AUDIT: &str = "{ communityAudit { subject counter stored actual } }";

/// A second router in front of the same subgraphs, except `community`, which it sends to
/// `community_url` (so two clients' subscriptions are held by two different replicas).
struct SecondRouter {
    process: RouterProcess,
    _stage: TempDir,
}

impl SecondRouter {
    async fn start(platform: &Platform, community_url: &str) -> SecondRouter {
        let root = vidgraph::paths::repo_root();
        let supergraph = std::fs::read_to_string(vidgraph::paths::supergraph(&root)).expect("schema/supergraph.graphql");
        let urls: Vec<(&str, String)> = platform
            .subgraph_urls
            .iter()
            .map(|(name, url)| (*name, if *name == "community" { community_url.to_owned() } else { url.clone() }))
            .collect();
        let stage = TempDir(std::env::temp_dir().join(format!("vidgraph-router-b-{}", uuid::Uuid::new_v4().simple())));
        let config =
            router::stage(&stage.0, &root, &router::with_routing_urls(&supergraph, &urls), &platform.services.keys().jwks().to_json())
                .expect("stage router");
        let mut process =
            RouterProcess::start(&router::binary().expect("router binary"), &config, "127.0.0.1", free_port(), &stage.0.join("router.log"))
                .expect("start router");
        process.wait_ready(Duration::from_secs(30)).await.expect("second router ready");
        SecondRouter { process, _stage: stage }
    }

    fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/graphql", self.process.port())
    }
}

/// Writes dynamics as `token` on `url` until every client has received one (a subscription
/// has no acknowledgement, so we probe rather than sleep). Probes say "probe".
async fn until_subscribed(platform: &Platform, url: &str, token: &str, clients: &mut [&mut WsClient]) {
    let mut pending: Vec<usize> = (0..clients.len()).collect();
    for attempt in 0..10 {
        platform.post(url, CREATE, json!({ "body": format!("probe {attempt}") }), Some(token)).await.ok();
        let mut still = Vec::new();
        for index in pending {
            if clients[index].try_next(Duration::from_millis(500)).await.is_none() {
                still.push(index);
            }
        }
        pending = still;
        if pending.is_empty() {
            return;
        }
    }
    panic!("subscribers {pending:?} never received a probe");
}

/// The next pushed dynamic of `client` that is not a probe.
async fn next_dynamic(client: &mut WsClient) -> Value {
    loop {
        let message = client.next_message().await;
        assert_eq!(message["type"], "next", "{message}");
        let dynamic = message["payload"]["data"]["dynamicPublished"].clone();
        if !dynamic["body"].as_str().unwrap_or("").starts_with("probe") {
            return dynamic;
        }
    }
}

/// Another `community` replica on this test's backends: its URL, and the handle that keeps it
/// running (dropping it stops the replica).
async fn replica(platform: &Platform, name: &str) -> (String, tokio::sync::oneshot::Sender<()>) {
    let deps = Deps::connect(platform.services.config(), name).await.expect("deps");
    spawn_subgraph(Subgraph::Community, deps).await
}

#[tokio::test]
async fn followers_on_two_replicas_get_a_dynamic_written_on_a_third_and_a_live_one_and_a_non_follower_never_does() {
    let platform = Platform::start().await;
    let (replica_b, _keep_b) = replica(&platform, "community-b").await;
    let (replica_c, _keep_c) = replica(&platform, "community-c").await;
    let second_router = SecondRouter::start(&platform, &replica_b).await;
    let (_, admin) = platform.admin("dynboss").await;
    let users = platform.users("dynfan", 5).await;
    let ((streamer_id, streamer), (_, fan_a), (_, fan_b), (_, stranger), (other_id, other)) =
        (&users[0], &users[1], &users[2], &users[3], &users[4]);
    for fan in [fan_a, fan_b] {
        platform.gql(FOLLOW, json!({ "u": streamer_id }), Some(fan)).await.ok();
    }
    // The stranger follows someone else: their dynamics are what proves the stranger's
    // connection works while the streamer's never reach it.
    platform.gql(FOLLOW, json!({ "u": other_id }), Some(stranger)).await.ok();

    let mut on_a = WsClient::connect(&platform.router_ws_url(), Some(fan_a)).await;
    on_a.subscribe("1", FEED, json!({})).await;
    let mut on_b = WsClient::connect(&second_router.ws_url(), Some(fan_b)).await;
    on_b.subscribe("1", FEED, json!({})).await;
    let mut stranger_feed = WsClient::connect(&second_router.ws_url(), Some(stranger)).await;
    stranger_feed.subscribe("1", FEED, json!({})).await;
    until_subscribed(&platform, &replica_c, streamer, &mut [&mut on_a, &mut on_b]).await;
    until_subscribed(&platform, &replica_c, other, &mut [&mut stranger_feed]).await;

    // A dynamic written on replica C reaches both fans, within a second.
    let written = Instant::now();
    let created = platform.post(&replica_c, CREATE, json!({ "body": "  hello fans  " }), Some(streamer)).await.ok();
    let id = created.data("/createDynamic/id").clone();
    assert_eq!(created.data("/createDynamic/body"), &json!("hello fans"));
    for client in [&mut on_a, &mut on_b] {
        let pushed = next_dynamic(client).await;
        let latency = written.elapsed();
        assert_eq!(pushed, json!({ "id": id, "kind": "POST", "body": "hello fans", "roomId": null, "author": { "id": streamer_id } }));
        assert!(latency < Duration::from_secs(1), "pushed after {latency:?}");
    }

    // Going live in `live` makes a dynamic through the room event, pushed the same way.
    let chat = channel(&platform, &admin, "dynchat").await;
    let room = live_room(&platform, streamer, &chat).await;
    for client in [&mut on_a, &mut on_b] {
        let pushed = next_dynamic(client).await;
        assert_eq!(pushed["kind"], "LIVE", "{pushed}");
        assert_eq!(pushed["roomId"], json!(room));
        assert_eq!(pushed["body"], "Live now");
    }

    // The stranger's next dynamic is the other streamer's, written after both of the above:
    // neither of the streamer's reached them.
    platform.post(&replica_c, CREATE, json!({ "body": "after the others" }), Some(other)).await.ok();
    let next = next_dynamic(&mut stranger_feed).await;
    assert_eq!(next["body"], "after the others", "a non-follower got {next}");
    assert_eq!(next["author"]["id"], json!(other_id));

    // The feed through the router has them, newest first.
    let feed = platform
        .gql("{ followingDynamics(first: 2) { edges { node { kind body } } pageInfo { hasNextPage } } }", json!({}), Some(fan_a))
        .await
        .ok();
    assert_eq!(
        feed.data("/followingDynamics"),
        &json!({ "edges": [{ "node": { "kind": "LIVE", "body": "Live now" } }, { "node": { "kind": "POST", "body": "hello fans" } }], "pageInfo": { "hasNextPage": true } })
    );
}

#[tokio::test]
async fn with_push_off_nothing_is_pushed_and_dynamics_since_serves_the_poll() {
    let platform = Platform::start().await;
    let (_, admin) = platform.admin("pushboss").await;
    let users = platform.users("poller", 2).await;
    let ((streamer_id, streamer), (_, fan)) = (&users[0], &users[1]);
    platform.gql(FOLLOW, json!({ "u": streamer_id }), Some(fan)).await.ok();
    let mut feed = WsClient::connect(&platform.router_ws_url(), Some(fan)).await;
    feed.subscribe("1", FEED, json!({})).await;
    until_subscribed(&platform, &platform.router_url(), streamer, &mut [&mut feed]).await;

    let settings = "{ pushSettings { enabled pollIntervalSecs } }";
    assert_eq!(
        platform.gql(settings, json!({}), None).await.ok().data("/pushSettings"),
        &json!({ "enabled": true, "pollIntervalSecs": 30 })
    );
    let start = platform.gql(SINCE, json!({ "c": null }), Some(fan)).await.ok();
    assert_eq!(start.data("/dynamicsSince/dynamics"), &json!([]));
    let cursor = start.data("/dynamicsSince/cursor").clone();

    let off = platform.gql(SET_PUSH, json!({ "on": false, "secs": 10 }), Some(&admin)).await.ok();
    assert_eq!(off.data("/setPushEnabled"), &json!({ "enabled": false, "pollIntervalSecs": 10 }));
    assert_eq!(
        platform.gql(settings, json!({}), Some(fan)).await.ok().data("/pushSettings"),
        &json!({ "enabled": false, "pollIntervalSecs": 10 })
    );
    let quiet = platform.gql(CREATE, json!({ "body": "while push is off" }), Some(streamer)).await.ok();
    let quiet_id = quiet.data("/createDynamic/id").clone();

    // The poll returns it (and nothing before the cursor). A poll sees a dynamic once every
    // write transaction older than it has ended, anywhere on the server: poll, as clients do.
    let polled = poll(&platform, fan, &cursor).await;
    // (A probe may come too: "now" is the oldest write still running on the server, which can
    // be older than the last probe while other tests write.)
    let polled_dynamics: Vec<&Value> = polled
        .data("/dynamicsSince/dynamics")
        .as_array()
        .expect("dynamics")
        .iter()
        .filter(|d| !d["body"].as_str().unwrap_or("").starts_with("probe"))
        .collect();
    assert_eq!(polled_dynamics, [&json!({ "id": quiet_id, "body": "while push is off" })]);
    assert_eq!(polled.data("/dynamicsSince/hasMore"), &json!(false));
    let next_cursor = polled.data("/dynamicsSince/cursor").clone();
    let again = platform.gql(SINCE, json!({ "c": next_cursor }), Some(fan)).await.ok();
    assert_eq!(again.data("/dynamicsSince/dynamics"), &json!([]), "a poll from the returned cursor has nothing new");

    // Push back on: the next pushed dynamic is the one written after, never the quiet one.
    platform.gql(SET_PUSH, json!({ "on": true, "secs": 30 }), Some(&admin)).await.ok();
    platform.gql(CREATE, json!({ "body": "push is back" }), Some(streamer)).await.ok();
    let next = next_dynamic(&mut feed).await;
    assert_eq!(next["body"], "push is back", "got {next}");
    let after = poll(&platform, fan, &next_cursor).await;
    assert_eq!(
        after.data("/dynamicsSince/dynamics"),
        &json!([{ "id": after.data("/dynamicsSince/dynamics/0/id"), "body": "push is back" }])
    );

    // Only admins switch it, within bounds.
    assert_eq!(platform.gql(SET_PUSH, json!({ "on": false, "secs": 10 }), None).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(platform.gql(SET_PUSH, json!({ "on": false, "secs": 10 }), Some(fan)).await.codes(), ["FORBIDDEN"]);
    for secs in [0, 4, 3601] {
        assert_eq!(platform.gql(SET_PUSH, json!({ "on": false, "secs": secs }), Some(&admin)).await.codes(), ["BAD_USER_INPUT"]);
    }
    assert_eq!(
        platform.gql(settings, json!({}), None).await.ok().data("/pushSettings/enabled"),
        &json!(true),
        "refused switches changed nothing"
    );
    assert_eq!(platform.gql(SINCE, json!({ "c": "garbage" }), Some(fan)).await.codes(), ["BAD_USER_INPUT"]);
    assert_eq!(platform.gql(SINCE, json!({ "c": null }), None).await.codes(), ["UNAUTHENTICATED"]);
}

/// Polls `dynamicsSince(cursor)` as `token` until it returns a dynamic that is not a probe (bounded).
async fn poll(platform: &Platform, token: &str, cursor: &Value) -> crate::harness::Reply {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = platform.gql(SINCE, json!({ "c": cursor }), Some(token)).await.ok();
        let dynamics = reply.data("/dynamicsSince/dynamics").as_array().cloned().unwrap_or_default();
        if dynamics.iter().any(|d| !d["body"].as_str().unwrap_or("").starts_with("probe")) {
            return reply;
        }
        assert!(Instant::now() < deadline, "the poll never returned a dynamic: {}", reply.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Publishes `event` on `subject` of JetStream as a redelivery would bring it: the same
/// payload again (no message id, so JetStream keeps both copies).
async fn publish_raw(nats: &platform::nats::Nats, subject: String, event: &Value) {
    let ack = nats.jetstream.publish(subject, serde_json::to_vec(event).expect("json").into()).await.expect("publish");
    ack.await.expect("stored");
}

#[tokio::test]
async fn a_source_event_delivered_twice_makes_one_dynamic() {
    use platform::events::{CONTENT_STREAM, ROOM_EVENT_KIND, ROOM_STREAM, VIDEO_EVENT_KIND};
    let platform = Platform::start().await;
    let users = platform.users("twice", 1).await;
    let streamer_id = &users[0].0;
    let nats = platform.nats().await;
    let now = chrono::Utc::now();
    let session = uuid::Uuid::now_v7();
    let room_event = json!({
        "event_id": uuid::Uuid::now_v7(), "room_id": uuid::Uuid::now_v7(), "streamer_id": streamer_id, "channel_id": uuid::Uuid::now_v7(),
        "session_id": session, "title": "twice live", "action": "went_live", "occurred_at": now,
    });
    let video = platform.insert_video(streamer_id, "twice video").await;
    let video_event = |state: &str| json!({ "event_id": uuid::Uuid::now_v7(), "video_id": video, "author_id": streamer_id, "region_id": 1, "state": state, "published_at": now, "occurred_at": now });
    let room_subject = ROOM_STREAM.subject(&nats, ROOM_EVENT_KIND);
    let video_subject = CONTENT_STREAM.subject(&nats, VIDEO_EVENT_KIND);
    publish_raw(&nats, room_subject.clone(), &room_event).await;
    publish_raw(&nats, room_subject.clone(), &room_event).await;
    publish_raw(&nats, video_subject.clone(), &video_event("draft")).await;
    publish_raw(&nats, video_subject.clone(), &video_event("published")).await;
    publish_raw(&nats, video_subject.clone(), &video_event("published")).await;
    // A stop of the session makes none. Fences behind the copies: each consumer handles its
    // stream in order, so once a fence's dynamic exists, the copies before it were handled.
    let mut stopped = room_event.clone();
    stopped["event_id"] = json!(uuid::Uuid::now_v7());
    stopped["action"] = json!("stopped");
    publish_raw(&nats, room_subject.clone(), &stopped).await;
    let mut room_fence = room_event.clone();
    room_fence["event_id"] = json!(uuid::Uuid::now_v7());
    room_fence["session_id"] = json!(uuid::Uuid::now_v7());
    room_fence["title"] = json!("fence");
    publish_raw(&nats, room_subject, &room_fence).await;
    let fence_video = platform.insert_video(streamer_id, "fence video").await;
    let mut video_fence = video_event("published");
    video_fence["video_id"] = json!(fence_video);
    publish_raw(&nats, video_subject, &video_fence).await;

    let deadline = Instant::now() + Duration::from_secs(20);
    let reply = loop {
        let reply = platform.gql(BY_AUTHOR, json!({ "u": streamer_id }), None).await.ok();
        if reply.node_ids("dynamics").len() >= 4 {
            break reply;
        }
        assert!(Instant::now() < deadline, "the dynamics never arrived: {}", reply.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut made: Vec<(String, String)> = reply
        .data("/dynamics/edges")
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| {
            let node = &edge["node"];
            (
                node["kind"].as_str().unwrap_or("").to_owned(),
                node["video"]["id"].as_str().map_or_else(|| node["body"].as_str().unwrap_or("").to_owned(), str::to_owned),
            )
        })
        .collect();
    made.sort();
    let mut expected = vec![
        ("LIVE".to_owned(), "fence".to_owned()),
        ("LIVE".to_owned(), "twice live".to_owned()),
        ("VIDEO".to_owned(), fence_video.clone()),
        ("VIDEO".to_owned(), video.clone()),
    ];
    expected.sort();
    assert_eq!(made, expected, "one dynamic per session and per video");
}

#[tokio::test]
async fn dynamic_mutations_check_who_may_and_refuse_bad_input_writing_nothing() {
    let platform = Platform::start().await;
    let (admin_id, admin) = platform.admin("dynmod").await;
    let users = platform.users("dynuser", 4).await;
    let ((author_id, author), (_, other), (muted_id, muted), (banned_id, banned)) = (&users[0], &users[1], &users[2], &users[3]);
    let count = async |user: &str| platform.gql(BY_AUTHOR, json!({ "u": user }), None).await.ok().node_ids("dynamics").len();

    // Writing: anonymous, muted, banned, bad input, filtered words.
    assert_eq!(platform.gql(CREATE, json!({ "body": "hi" }), None).await.codes(), ["UNAUTHENTICATED"]);
    let until = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let mute = "mutation($u: ID!, $until: DateTime!) { muteUser(userId: $u, until: $until, reason: \"spam\") { banned } }";
    platform.gql(mute, json!({ "u": muted_id, "until": until }), Some(&admin)).await.ok();
    let ban = "mutation($u: ID!) { banUser(userId: $u, reason: \"abuse\") { banned } }";
    platform.gql(ban, json!({ "u": banned_id }), Some(&admin)).await.ok();
    let refused = platform.gql(CREATE, json!({ "body": "let me" }), Some(muted)).await;
    assert_eq!(refused.codes(), ["FORBIDDEN"]);
    assert!(refused.body["errors"][0]["extensions"]["mutedUntil"].is_string(), "{}", refused.body);
    assert_eq!(platform.gql(CREATE, json!({ "body": "let me" }), Some(banned)).await.codes(), ["FORBIDDEN"]);
    let words = "mutation { setModerationWords(blocked: [\"forbiddenword\"], flagged: [\"iffyword\"]) }";
    platform.gql(words, json!({}), Some(&admin)).await.ok();
    for (body, images) in [
        (json!(""), json!([])),
        (json!("   "), json!([])),
        (json!("x".repeat(5001)), json!([])),
        (json!("hi"), json!(["ftp://example.com/a.png"])),
        (json!("hi"), json!(vec!["https://img.example/a.png"; 10])),
        (json!("this has a forbiddenword in it"), json!([])),
    ] {
        assert_eq!(
            platform.gql(CREATE, json!({ "body": body, "images": images }), Some(author)).await.codes(),
            ["BAD_USER_INPUT"],
            "{body} {images}"
        );
    }
    for user in [author_id, muted_id, banned_id] {
        assert_eq!(count(user.as_str()).await, 0, "nothing written");
    }

    // A flagged text is held back: its author sees it, nobody else.
    let held = platform.gql(CREATE, json!({ "body": "an iffyword here" }), Some(author)).await.ok();
    assert_eq!(held.data("/createDynamic/published"), &json!(false));
    let mine = platform.gql(BY_AUTHOR, json!({ "u": author_id }), Some(author)).await.ok();
    assert_eq!(mine.node_ids("dynamics").len(), 1);
    assert_eq!(count(author_id.as_str()).await, 0);

    let created = platform.gql(CREATE, json!({ "body": "a real one", "images": ["https://img.example/a.png"] }), Some(author)).await.ok();
    let id = created.data("/createDynamic/id").clone();

    // Likes: not one's own, +1 for a user, +5 for an admin, into likes received; unlike takes it back.
    let like = "mutation($id: ID!) { likeDynamic(id: $id) { likeScore liked } }";
    let unlike = "mutation($id: ID!) { unlikeDynamic(id: $id) { likeScore liked } }";
    assert_eq!(platform.gql(like, json!({ "id": id }), None).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(platform.gql(like, json!({ "id": id }), Some(author)).await.codes(), ["BAD_USER_INPUT"]);
    assert_eq!(platform.gql(like, json!({ "id": id }), Some(muted)).await.codes(), ["FORBIDDEN"]);
    assert_eq!(platform.gql(like, json!({ "id": id }), Some(banned)).await.codes(), ["FORBIDDEN"]);
    assert_eq!(platform.gql(like, json!({ "id": "nope" }), Some(other)).await.codes(), ["BAD_USER_INPUT"]);
    assert_eq!(platform.gql(like, json!({ "id": uuid::Uuid::now_v7() }), Some(other)).await.codes(), ["NOT_FOUND"]);
    assert_eq!(
        platform.gql(like, json!({ "id": id }), Some(other)).await.ok().data("/likeDynamic"),
        &json!({ "likeScore": 1, "liked": true })
    );
    assert_eq!(platform.gql(like, json!({ "id": id }), Some(other)).await.ok().data("/likeDynamic/likeScore"), &json!(1), "idempotent");
    assert_eq!(platform.gql(like, json!({ "id": id }), Some(&admin)).await.ok().data("/likeDynamic/likeScore"), &json!(6));
    let received = "query($u: ID!) { user(id: $u) { likesReceived } }";
    assert_eq!(platform.gql(received, json!({ "u": author_id }), None).await.ok().data("/user/likesReceived"), &json!(6));
    assert_eq!(platform.gql(unlike, json!({ "id": id }), Some(&admin)).await.ok().data("/unlikeDynamic/likeScore"), &json!(1));
    let viewer_state = "query($id: ID!) { dynamic(id: $id) { likedByViewer likeScore } }";
    assert_eq!(
        platform.gql(viewer_state, json!({ "id": id }), Some(other)).await.ok().data("/dynamic"),
        &json!({ "likedByViewer": true, "likeScore": 1 })
    );

    // Comments: signed in, not muted or banned, 1–2,000 characters, on a dynamic that exists.
    let comment = "mutation($d: ID!, $body: String!) { commentDynamic(dynamicId: $d, body: $body) { id body author { id } } }";
    assert_eq!(platform.gql(comment, json!({ "d": id, "body": "hi" }), None).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(platform.gql(comment, json!({ "d": id, "body": "hi" }), Some(muted)).await.codes(), ["FORBIDDEN"]);
    assert_eq!(platform.gql(comment, json!({ "d": id, "body": "hi" }), Some(banned)).await.codes(), ["FORBIDDEN"]);
    for body in [String::new(), "x".repeat(2001), "a forbiddenword".into()] {
        assert_eq!(platform.gql(comment, json!({ "d": id, "body": body }), Some(other)).await.codes(), ["BAD_USER_INPUT"]);
    }
    assert_eq!(platform.gql(comment, json!({ "d": uuid::Uuid::now_v7(), "body": "hi" }), Some(other)).await.codes(), ["NOT_FOUND"]);
    let written = platform.gql(comment, json!({ "d": id, "body": "nice one" }), Some(other)).await.ok();
    let comment_id = written.data("/commentDynamic/id").clone();
    let comments = "query($d: ID!) { dynamicComments(dynamicId: $d) { edges { node { body } } } dynamic(id: $d) { commentCount } }";
    let listed = platform.gql(comments, json!({ "d": id }), None).await.ok();
    assert_eq!(listed.data("/dynamicComments/edges"), &json!([{ "node": { "body": "nice one" } }]));
    assert_eq!(listed.data("/dynamic/commentCount"), &json!(1));
    let delete_comment = "mutation($id: ID!, $reason: String) { deleteDynamicComment(id: $id, reason: $reason) }";
    assert_eq!(platform.gql(delete_comment, json!({ "id": comment_id }), Some(muted)).await.codes(), ["FORBIDDEN"]);
    assert_eq!(
        platform.gql(delete_comment, json!({ "id": comment_id }), Some(&admin)).await.codes(),
        ["BAD_USER_INPUT"],
        "an admin gives a reason"
    );
    platform.gql(delete_comment, json!({ "id": comment_id, "reason": "not here" }), Some(author)).await.ok();
    assert_eq!(platform.gql(comments, json!({ "d": id }), None).await.ok().data("/dynamic/commentCount"), &json!(0));

    // Deleting: the author, or an admin with a reason; nobody else.
    let delete = "mutation($id: ID!, $reason: String) { deleteDynamic(id: $id, reason: $reason) }";
    assert_eq!(platform.gql(delete, json!({ "id": id }), None).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(platform.gql(delete, json!({ "id": id }), Some(other)).await.codes(), ["FORBIDDEN"]);
    assert_eq!(platform.gql(delete, json!({ "id": id }), Some(banned)).await.codes(), ["FORBIDDEN"]);
    assert_eq!(platform.gql(delete, json!({ "id": id }), Some(&admin)).await.codes(), ["BAD_USER_INPUT"]);
    assert_eq!(count(author_id.as_str()).await, 1, "refused deletes deleted nothing");
    platform.gql(delete, json!({ "id": id, "reason": "off topic" }), Some(&admin)).await.ok();
    assert_eq!(count(author_id.as_str()).await, 0);
    assert_eq!(platform.gql(delete, json!({ "id": id }), Some(author)).await.codes(), ["NOT_FOUND"]);
    let log = platform.gql("{ moderationLog(first: 5) { edges { node { action } } } }", json!({}), Some(&admin)).await.ok();
    assert!(log.body.to_string().contains("delete_dynamic"), "{}", log.body);

    // A muted user may still delete their own (only a ban refuses that); the page sizes are bounded.
    let own = platform.gql(CREATE, json!({ "body": "mine" }), Some(other)).await.ok();
    platform.gql(mute, json!({ "u": users[1].0, "until": until }), Some(&admin)).await.ok();
    platform.gql(delete, json!({ "id": own.data("/createDynamic/id") }), Some(other)).await.ok();
    for first in [0, 101] {
        let page = platform
            .gql(
                "query($u: ID!, $n: Int) { dynamics(userId: $u, first: $n) { edges { cursor } } }",
                json!({ "u": author_id, "n": first }),
                None,
            )
            .await;
        assert_eq!(page.codes(), ["BAD_USER_INPUT"]);
    }
    assert_eq!(platform.gql("{ followingDynamics { edges { cursor } } }", json!({}), None).await.codes(), ["UNAUTHENTICATED"]);
    let bad_cursor = platform
        .gql("query($u: ID!) { dynamics(userId: $u, after: \"garbage\") { edges { cursor } } }", json!({ "u": author_id }), None)
        .await;
    assert_eq!(bad_cursor.codes(), ["BAD_USER_INPUT"]);

    // Every counter agrees with the rows it counts.
    assert_eq!(platform.gql(AUDIT, json!({}), Some(&admin)).await.ok().data("/communityAudit"), &json!([]));
    let _ = admin_id;
}
