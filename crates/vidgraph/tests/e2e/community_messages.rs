//! Direct messages through the router: conversations with their last message and unread count,
//! cursor history, mark read, idempotent retries, blocks (a blocked send is refused and writes
//! nothing), mutes, bans, the text filter, the rate limit, bad input, the authorization matrix,
//! and `messageReceived` on whichever `community` replica holds the connection.

use crate::community_notifications::post_of;
use crate::harness::{Platform, spawn_subgraph};
use crate::subscriptions::WsClient;
use platform::Deps;
use serde_json::{Value, json};
use std::time::Duration;
use vidgraph::subgraphs::Subgraph;

const SEND: &str = "mutation($to: ID!, $text: String!, $key: String!) { sendMessage(toUserId: $to, text: $text, idempotencyKey: $key) { \
    replayed message { id conversationId text sender { id } recipient { id } } } }";
const CONVERSATIONS: &str =
    "{ conversations(first: 10) { edges { node { id unreadCount otherUser { id username } lastMessage { text sender { id } } } } } }";
const HISTORY: &str = "query($conversation: ID, $with: ID, $first: Int, $after: String) { \
    messages(conversationId: $conversation, withUserId: $with, first: $first, after: $after) { \
    pageInfo { hasNextPage endCursor } edges { node { id text sender { id } } } } }";
const MARK_READ: &str = "mutation($id: ID!) { markConversationRead(conversationId: $id) { id unreadCount lastReadAt } }";
const BLOCK: &str = "mutation($id: ID!) { blockUser(userId: $id) { blocked changed user { id } } }";
const UNBLOCK: &str = "mutation($id: ID!) { unblockUser(userId: $id) { blocked changed } }";
const BLOCKED: &str = "{ blockedUsers(first: 10) { edges { node { user { id } blockedAt } } } }";
const RECEIVED: &str = "subscription { messageReceived { id text sender { id } recipient { id } } }";

/// Messages stored between two users, read from the database (what "nothing written" means).
async fn stored_between(platform: &Platform, a: &str, b: &str) -> i64 {
    let db = platform.db();
    let mut conn = db.pool.get().await.expect("connection");
    community::store::messages::count_between(&mut conn, a.parse().expect("id"), b.parse().expect("id")).await.expect("count")
}

fn send(to: &str, text: &str, key: &str) -> Value {
    json!({ "to": to, "text": text, "key": key })
}

#[tokio::test]
async fn direct_messages_list_page_mark_read_and_retry_through_the_router() {
    let platform = Platform::start().await;
    let (alice_id, alice, _) = platform.register("alice").await;
    let (bob_id, bob, _) = platform.register("bob").await;
    let (_, carol, _) = platform.register("carol").await;

    let sent = platform.gql(SEND, send(&bob_id, "  hi bob  ", "k1"), Some(&alice)).await.ok();
    assert_eq!(sent.data("/sendMessage/replayed"), &json!(false));
    assert_eq!(sent.data("/sendMessage/message/text"), &json!("hi bob"));
    assert_eq!(sent.data("/sendMessage/message/recipient/id"), &json!(bob_id));
    let first_id = sent.data("/sendMessage/message/id").clone();
    let conversation = sent.data("/sendMessage/message/conversationId").as_str().expect("conversation").to_owned();

    // a retry with the same key returns the first message; the same key for something else is a conflict
    let retry = platform.gql(SEND, send(&bob_id, "hi bob", "k1"), Some(&alice)).await.ok();
    assert_eq!((retry.data("/sendMessage/replayed"), retry.data("/sendMessage/message/id")), (&json!(true), &first_id));
    assert_eq!(platform.gql(SEND, send(&bob_id, "other text", "k1"), Some(&alice)).await.codes(), ["CONFLICT"]);
    assert_eq!(stored_between(&platform, &alice_id, &bob_id).await, 1);

    // bob's list: the conversation with alice, one unread, alice's name from content
    let list = platform.gql(CONVERSATIONS, json!({}), Some(&bob)).await.ok();
    assert_eq!(
        list.data("/conversations/edges/0/node"),
        &json!({ "id": conversation, "unreadCount": 1, "otherUser": { "id": alice_id, "username": "alice" }, "lastMessage": { "text": "hi bob", "sender": { "id": alice_id } } })
    );
    platform.gql(SEND, send(&alice_id, "hello alice", "b1"), Some(&bob)).await.ok();
    platform.gql(SEND, send(&bob_id, "how are you", "k2"), Some(&alice)).await.ok();
    let list = platform.gql(CONVERSATIONS, json!({}), Some(&bob)).await.ok();
    assert_eq!(list.data("/conversations/edges/0/node/unreadCount"), &json!(2));
    assert_eq!(list.data("/conversations/edges/0/node/lastMessage/text"), &json!("how are you"));
    let alices = platform.gql(CONVERSATIONS, json!({}), Some(&alice)).await.ok();
    assert_eq!(alices.data("/conversations/edges/0/node/unreadCount"), &json!(1));

    // history, newest first, by conversation or by the other user, two pages
    let page = platform.gql(HISTORY, json!({ "conversation": conversation, "first": 2 }), Some(&bob)).await.ok();
    let texts = |reply: &crate::harness::Reply| -> Vec<Value> {
        reply.data("/messages/edges").as_array().map(|edges| edges.iter().map(|e| e["node"]["text"].clone()).collect()).unwrap_or_default()
    };
    assert_eq!(texts(&page), [json!("how are you"), json!("hello alice")]);
    assert_eq!(page.data("/messages/pageInfo/hasNextPage"), &json!(true));
    let rest = platform
        .gql(HISTORY, json!({ "with": alice_id, "first": 2, "after": page.data("/messages/pageInfo/endCursor") }), Some(&bob))
        .await
        .ok();
    assert_eq!(texts(&rest), [json!("hi bob")]);
    assert_eq!(rest.data("/messages/pageInfo/hasNextPage"), &json!(false));
    let nobody = platform.gql(HISTORY, json!({ "with": bob_id }), Some(&carol)).await.ok();
    assert_eq!(texts(&nobody), Vec::<Value>::new(), "carol never wrote with bob");

    // read: bob's unread drops to zero, alice's stays
    let read = platform.gql(MARK_READ, json!({ "id": conversation }), Some(&bob)).await.ok();
    assert_eq!(read.data("/markConversationRead/unreadCount"), &json!(0));
    assert!(read.data("/markConversationRead/lastReadAt").is_string());
    assert_eq!(platform.gql(CONVERSATIONS, json!({}), Some(&alice)).await.ok().data("/conversations/edges/0/node/unreadCount"), &json!(1));

    // someone else's conversation does not exist for them
    assert_eq!(platform.gql(HISTORY, json!({ "conversation": conversation }), Some(&carol)).await.codes(), ["NOT_FOUND"]);
    assert_eq!(platform.gql(MARK_READ, json!({ "id": conversation }), Some(&carol)).await.codes(), ["NOT_FOUND"]);
    assert_eq!(
        platform.gql("query($id: ID!) { conversation(id: $id) { id } }", json!({ "id": conversation }), Some(&carol)).await.codes(),
        ["NOT_FOUND"]
    );
    assert_eq!(
        platform.gql(HISTORY, json!({ "conversation": conversation, "with": alice_id }), Some(&bob)).await.codes(),
        ["BAD_USER_INPUT"]
    );
    assert_eq!(platform.gql(HISTORY, json!({}), Some(&bob)).await.codes(), ["BAD_USER_INPUT"]);
    assert_eq!(platform.gql(HISTORY, json!({ "with": alice_id, "first": 0 }), Some(&bob)).await.codes(), ["BAD_USER_INPUT"]);
    assert_eq!(platform.gql(HISTORY, json!({ "with": alice_id, "after": "garbage" }), Some(&bob)).await.codes(), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn blocked_muted_banned_filtered_oversized_and_flooding_sends_are_refused_and_write_nothing() {
    let platform = Platform::start().await;
    let (admin_id, admin) = platform.admin("root").await;
    let users = platform.users("dm", 6).await;
    let ((alice_id, alice), (bob_id, bob), (carol_id, carol), (dave_id, dave), (zone_admin_id, zone_admin), (flood_id, flood)) =
        (&users[0], &users[1], &users[2], &users[3], &users[4], &users[5]);

    // bob blocks alice: her send is refused and nothing is written, his to her too
    let blocked = platform.gql(BLOCK, json!({ "id": alice_id }), Some(bob)).await.ok();
    assert_eq!(blocked.data("/blockUser"), &json!({ "blocked": true, "changed": true, "user": { "id": alice_id } }));
    assert_eq!(platform.gql(BLOCK, json!({ "id": alice_id }), Some(bob)).await.ok().data("/blockUser/changed"), &json!(false));
    assert_eq!(platform.gql(SEND, send(bob_id, "let me in", "a1"), Some(alice)).await.codes(), ["FORBIDDEN"]);
    assert_eq!(platform.gql(SEND, send(alice_id, "go away", "b1"), Some(bob)).await.codes(), ["FORBIDDEN"]);
    assert_eq!(stored_between(&platform, alice_id, bob_id).await, 0);
    assert_eq!(platform.gql(CONVERSATIONS, json!({}), Some(bob)).await.ok().data("/conversations/edges"), &json!([]));
    assert_eq!(platform.gql(BLOCKED, json!({}), Some(bob)).await.ok().data("/blockedUsers/edges/0/node/user/id"), &json!(alice_id));
    // unblocked, she can write again (the refused key was not used up)
    assert_eq!(
        platform.gql(UNBLOCK, json!({ "id": alice_id }), Some(bob)).await.ok().data("/unblockUser"),
        &json!({ "blocked": false, "changed": true })
    );
    platform.gql(SEND, send(bob_id, "let me in", "a1"), Some(alice)).await.ok();
    assert_eq!(stored_between(&platform, alice_id, bob_id).await, 1);
    assert_eq!(platform.gql(BLOCKED, json!({}), Some(bob)).await.ok().data("/blockedUsers/edges"), &json!([]));

    // muted: FORBIDDEN with the end of the mute, nothing written; blocking is still allowed
    let mute = "mutation($id: ID!, $until: DateTime!) { muteUser(userId: $id, until: $until, reason: \"flood\") { mutedUntil } }";
    let until = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    platform.gql(mute, json!({ "id": carol_id, "until": until }), Some(&admin)).await.ok();
    let refused = platform.gql(SEND, send(bob_id, "psst", "c1"), Some(carol)).await;
    assert_eq!(refused.codes(), ["FORBIDDEN"]);
    assert!(refused.body["errors"][0]["extensions"]["mutedUntil"].is_string(), "{}", refused.body);
    assert_eq!(stored_between(&platform, carol_id, bob_id).await, 0);
    platform.gql(BLOCK, json!({ "id": dave_id }), Some(carol)).await.ok();

    // banned: every message mutation is refused
    platform
        .gql("mutation($id: ID!) { banUser(userId: $id, reason: \"spam\") { banned } }", json!({ "id": dave_id }), Some(&admin))
        .await
        .ok();
    assert_eq!(platform.gql(SEND, send(bob_id, "buy now", "d1"), Some(dave)).await.codes(), ["FORBIDDEN"]);
    assert_eq!(platform.gql(BLOCK, json!({ "id": bob_id }), Some(dave)).await.codes(), ["FORBIDDEN"]);
    let any_conversation = uuid::Uuid::now_v7().to_string();
    assert_eq!(platform.gql(MARK_READ, json!({ "id": any_conversation }), Some(dave)).await.codes(), ["FORBIDDEN"]);
    assert_eq!(stored_between(&platform, dave_id, bob_id).await, 0);

    // anonymous: UNAUTHENTICATED for each
    assert_eq!(platform.gql(SEND, send(bob_id, "hi", "x"), None).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(platform.gql(BLOCK, json!({ "id": bob_id }), None).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(platform.gql(UNBLOCK, json!({ "id": bob_id }), None).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(platform.gql(MARK_READ, json!({ "id": any_conversation }), None).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(platform.gql(CONVERSATIONS, json!({}), None).await.codes(), ["UNAUTHENTICATED"]);

    // a zone admin and a site admin message like anyone; the site admin cannot read others' conversations
    let post = post_of(&platform, &admin, alice).await;
    let zone = platform.gql("query($id: ID!) { post(id: $id) { zone { id } } }", json!({ "id": post }), None).await.ok();
    let add = "mutation($zone: ID!, $user: ID!) { addZoneAdmin(zoneId: $zone, userId: $user) { user { id } } }";
    platform.gql(add, json!({ "zone": zone.data("/post/zone/id"), "user": zone_admin_id }), Some(&admin)).await.ok();
    let from_zone_admin = platform.gql(SEND, send(bob_id, "zone news", "z1"), Some(zone_admin)).await.ok();
    assert_eq!(from_zone_admin.data("/sendMessage/replayed"), &json!(false));
    let from_admin = platform.gql(SEND, send(alice_id, "welcome", "r1"), Some(&admin)).await.ok();
    let bobs_conversation = from_zone_admin.data("/sendMessage/message/conversationId").clone();
    assert_eq!(platform.gql(MARK_READ, json!({ "id": bobs_conversation }), Some(&admin)).await.codes(), ["NOT_FOUND"]);
    assert_eq!(platform.gql(HISTORY, json!({ "conversation": bobs_conversation }), Some(&admin)).await.codes(), ["NOT_FOUND"]);
    assert_eq!(from_admin.data("/sendMessage/message/sender/id"), &json!(admin_id));

    // bad input: empty, oversized, to oneself, a bad key, a bad id, a filtered word
    let before = stored_between(&platform, alice_id, bob_id).await;
    for (variables, what) in [
        (send(bob_id, "   ", "e1"), "empty"),
        (send(bob_id, &"x".repeat(2001), "e2"), "oversized"),
        (send(alice_id, "me", "e3"), "oneself"),
        (send(bob_id, "hi", ""), "empty key"),
        (send(bob_id, "hi", &"k".repeat(65)), "long key"),
        (send("not-an-id", "hi", "e4"), "bad id"),
    ] {
        assert_eq!(platform.gql(SEND, variables, Some(alice)).await.codes(), ["BAD_USER_INPUT"], "{what}");
    }
    assert_eq!(platform.gql(BLOCK, json!({ "id": alice_id }), Some(alice)).await.codes(), ["BAD_USER_INPUT"]);
    let words = "mutation { setModerationWords(blocked: [\"scamlink\"], flagged: []) }";
    platform.gql(words, json!({}), Some(&admin)).await.ok();
    assert_eq!(platform.gql(SEND, send(bob_id, "visit SCAMLINK now", "f1"), Some(alice)).await.codes(), ["BAD_USER_INPUT"]);
    assert_eq!(stored_between(&platform, alice_id, bob_id).await, before, "nothing written by any refused send");

    // the rate limit: 30 a minute
    for n in 0..30 {
        platform.gql(SEND, send(bob_id, &format!("spam {n}"), &format!("s{n}")), Some(flood)).await.ok();
    }
    assert_eq!(platform.gql(SEND, send(bob_id, "one more", "s30"), Some(flood)).await.codes(), ["RATE_LIMITED"]);
    // a retry of a sent message is answered, not counted
    assert_eq!(platform.gql(SEND, send(bob_id, "spam 0", "s0"), Some(flood)).await.ok().data("/sendMessage/replayed"), &json!(true));
    assert_eq!(stored_between(&platform, flood_id, bob_id).await, 30);
}

/// Sends probes to the clients' user until each client has received one (a subscription has no
/// acknowledgement, so we probe rather than sleep), then drains the probes.
async fn until_subscribed(platform: &Platform, to: &str, prober: &str, clients: &mut [&mut WsClient]) {
    let mut pending: Vec<usize> = (0..clients.len()).collect();
    for attempt in 0..20 {
        platform.gql(SEND, send(to, &format!("probe {attempt}"), &format!("probe-{to}-{attempt}")), Some(prober)).await.ok();
        let mut still = Vec::new();
        for index in pending {
            if clients[index].try_next(Duration::from_millis(300)).await.is_none() {
                still.push(index);
            }
        }
        pending = still;
        if pending.is_empty() {
            for client in clients.iter_mut() {
                while client.try_next(Duration::from_millis(200)).await.is_some() {}
            }
            return;
        }
    }
    panic!("subscribers {pending:?} never received a probe");
}

async fn next_received(client: &mut WsClient) -> Value {
    let message = client.next_message().await;
    assert_eq!(message["type"], "next", "{message}");
    message["payload"]["data"]["messageReceived"].clone()
}

#[tokio::test]
async fn message_received_reaches_both_members_on_either_replica_and_nobody_else() {
    let platform = Platform::start().await;
    let users = platform.users("ws", 4).await;
    let ((alice_id, alice), (bob_id, bob), (carol_id, carol), (_, prober)) = (&users[0], &users[1], &users[2], &users[3]);
    let deps = Deps::connect(platform.services.config(), "community-b").await.expect("deps");
    let (replica_b, _stop_b) = spawn_subgraph(Subgraph::Community, deps).await;

    // bob through the router (replica A) and, with another token, straight on replica B;
    // carol through the router
    let mut bob_via_router = WsClient::connect(&platform.router_ws_url(), Some(bob)).await;
    bob_via_router.subscribe("1", RECEIVED, json!({})).await;
    let bob_second = platform.token_for(bob_id.parse().expect("id"), platform::auth::Role::User);
    let mut bob_on_b = WsClient::connect(&replica_b.replace("http://", "ws://"), Some(&bob_second)).await;
    bob_on_b.subscribe("1", RECEIVED, json!({})).await;
    let mut carol_via_router = WsClient::connect(&platform.router_ws_url(), Some(carol)).await;
    carol_via_router.subscribe("1", RECEIVED, json!({})).await;
    until_subscribed(&platform, bob_id, prober, &mut [&mut bob_via_router, &mut bob_on_b]).await;
    until_subscribed(&platform, carol_id, prober, &mut [&mut carol_via_router]).await;

    // alice sends on replica B: bob gets it on both replicas
    let sent = platform.post(&replica_b, SEND, send(bob_id, "across replicas", "x1"), Some(alice)).await.ok();
    let id = sent.data("/sendMessage/message/id").clone();
    for client in [&mut bob_via_router, &mut bob_on_b] {
        let received = next_received(client).await;
        assert_eq!(received, json!({ "id": id, "text": "across replicas", "sender": { "id": alice_id }, "recipient": { "id": bob_id } }));
    }
    // bob answers through the router (replica A): his own devices see what he sent
    platform.gql(SEND, send(alice_id, "got it", "y1"), Some(bob)).await.ok();
    for client in [&mut bob_via_router, &mut bob_on_b] {
        assert_eq!(next_received(client).await["text"], json!("got it"));
    }
    // a retried send pushes nothing again; carol saw none of it: the first thing she receives is hers
    platform.post(&replica_b, SEND, send(bob_id, "across replicas", "x1"), Some(alice)).await.ok();
    platform.gql(SEND, send(carol_id, "for carol", "z1"), Some(alice)).await.ok();
    assert_eq!(next_received(&mut carol_via_router).await["text"], json!("for carol"));
    platform.gql(SEND, send(bob_id, "after the retry", "x2"), Some(alice)).await.ok();
    assert_eq!(next_received(&mut bob_via_router).await["text"], json!("after the retry"), "the retry was not pushed");
}
