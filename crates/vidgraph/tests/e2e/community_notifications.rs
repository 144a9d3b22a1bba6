//! Notifications through the router: likes of one item fold into one notification that turns
//! unread again when a new liker folds in, replies and follows notify the owner, nobody is
//! notified of their own action or of a user they block, marking read is the owner's alone, and
//! `notificationReceived` reaches the owner on whichever `community` replica holds the
//! connection, and nobody else.

use crate::harness::{Platform, spawn_subgraph};
use crate::subscriptions::WsClient;
use platform::Deps;
use serde_json::{Value, json};
use std::time::Duration;
use vidgraph::subgraphs::Subgraph;

pub const CREATE_ZONE: &str = "mutation { createZone(input: { name: \"Talk\" }) { id } }";
pub const CREATE_POST: &str = "mutation($input: CreatePostInput!) { createPost(input: $input) { id } }";
const COMMENT: &str = "mutation($input: CreateCommentInput!) { createPostComment(input: $input) { id } }";
const LIKE: &str = "mutation($id: ID!) { likePost(id: $id) { likeScore } }";
const UNLIKE: &str = "mutation($id: ID!) { unlikePost(id: $id) { likeScore } }";
const FOLLOW: &str = "mutation($id: ID!) { followUser(userId: $id) { changed } }";
const UNFOLLOW: &str = "mutation($id: ID!) { unfollowUser(userId: $id) { changed } }";
const LIST: &str = "{ notifications(first: 20) { unreadCount edges { node { \
    id kind subjectKind subjectId replyId actorCount otherActorCount read actors { id } } } } }";
const MARK: &str = "mutation($ids: [ID!], $upTo: ID) { markNotificationsRead(ids: $ids, upTo: $upTo) { unreadCount } }";
const RECEIVED: &str = "subscription { notificationReceived { kind subjectKind subjectId actorCount actors { id } } }";

/// A zone (created by `admin`) with one post of `author`'s; returns the post id.
pub async fn post_of(platform: &Platform, admin: &str, author: &str) -> String {
    let zone = platform.gql(CREATE_ZONE, json!({}), Some(admin)).await.ok().data("/createZone/id").as_str().expect("zone").to_owned();
    let post = platform.gql(CREATE_POST, json!({ "input": { "zoneId": zone, "body": "look at this" } }), Some(author)).await.ok();
    post.data("/createPost/id").as_str().expect("post").to_owned()
}

fn nodes(list: &Value) -> Vec<Value> {
    list.pointer("/data/notifications/edges")
        .and_then(Value::as_array)
        .map(|edges| edges.iter().map(|e| e["node"].clone()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn likes_fold_into_one_notification_that_turns_unread_again_and_replies_and_follows_notify_the_owner() {
    let platform = Platform::start().await;
    let (_, admin) = platform.admin("root").await;
    let users = platform.users("fan", 18).await;
    let ((alice_id, alice), (bob_id, bob), (carol_id, carol), (dave_id, dave), (erin_id, erin)) =
        (&users[0], &users[1], &users[2], &users[3], &users[4]);
    let post = post_of(&platform, &admin, alice).await;

    // the first like: one unread notification naming bob
    platform.gql(LIKE, json!({ "id": post }), Some(bob)).await.ok();
    let list = platform.gql(LIST, json!({}), Some(alice)).await.ok();
    assert_eq!(list.data("/notifications/unreadCount"), &json!(1));
    let first = &nodes(&list.body)[0];
    assert_eq!(
        (
            first["kind"].clone(),
            first["subjectKind"].clone(),
            first["subjectId"].clone(),
            first["actorCount"].clone(),
            first["read"].clone()
        ),
        (json!("LIKE"), json!("POST"), json!(post), json!(1), json!(false))
    );
    assert_eq!(first["actors"], json!([{ "id": bob_id }]));
    let notification = first["id"].as_str().expect("id").to_owned();

    // read; a second liker folds in: still one notification, unread again, newest actor first
    assert_eq!(
        platform.gql(MARK, json!({ "upTo": notification }), Some(alice)).await.ok().data("/markNotificationsRead/unreadCount"),
        &json!(0)
    );
    platform.gql(LIKE, json!({ "id": post }), Some(carol)).await.ok();
    let list = platform.gql(LIST, json!({}), Some(alice)).await.ok();
    assert_eq!(list.data("/notifications/unreadCount"), &json!(1));
    let folded = nodes(&list.body);
    assert_eq!(folded.len(), 1, "{}", list.body);
    assert_eq!((folded[0]["id"].as_str(), folded[0]["actorCount"].clone()), (Some(notification.as_str()), json!(2)));
    assert_eq!(folded[0]["actors"], json!([{ "id": carol_id }, { "id": bob_id }]));

    // an unlike and a like again by someone already folded in counts once and stays read
    platform.gql(MARK, json!({ "ids": [notification] }), Some(alice)).await.ok();
    platform.gql(UNLIKE, json!({ "id": post }), Some(bob)).await.ok();
    platform.gql(LIKE, json!({ "id": post }), Some(bob)).await.ok();
    let list = platform.gql(LIST, json!({}), Some(alice)).await.ok();
    assert_eq!(list.data("/notifications/unreadCount"), &json!(0));
    assert_eq!(nodes(&list.body)[0]["actorCount"], json!(2));

    // "and 12 others": 12 more likers
    for (_, token) in &users[6..18] {
        platform.gql(LIKE, json!({ "id": post }), Some(token)).await.ok();
    }
    let list = platform.gql(LIST, json!({}), Some(alice)).await.ok();
    let folded = nodes(&list.body);
    assert_eq!(folded.len(), 1);
    assert_eq!((folded[0]["actorCount"].clone(), folded[0]["otherActorCount"].clone()), (json!(14), json!(11)));
    assert_eq!(folded[0]["actors"].as_array().map(Vec::len), Some(3));
    assert_eq!(folded[0]["actors"][0]["id"], json!(users[17].0));

    // a comment on the post notifies its author; a reply to that comment notifies the comment's
    // author; a comment on one's own post notifies nobody
    let comment = platform.gql(COMMENT, json!({ "input": { "postId": post, "body": "nice" } }), Some(bob)).await.ok();
    let comment = comment.data("/createPostComment/id").as_str().expect("comment").to_owned();
    let reply = platform.gql(COMMENT, json!({ "input": { "postId": post, "replyTo": comment, "body": "agreed" } }), Some(carol)).await.ok();
    let reply = reply.data("/createPostComment/id").as_str().expect("reply").to_owned();
    platform.gql(COMMENT, json!({ "input": { "postId": post, "body": "thanks all" } }), Some(alice)).await.ok();
    let list = platform.gql(LIST, json!({}), Some(alice)).await.ok();
    let alices = nodes(&list.body);
    assert_eq!(alices.len(), 2, "the like and bob's comment, not alice's own: {}", list.body);
    assert_eq!((alices[0]["kind"].clone(), alices[0]["subjectId"].clone()), (json!("REPLY"), json!(post)));
    assert_eq!(alices[0]["actors"], json!([{ "id": bob_id }]));
    let bobs = nodes(&platform.gql(LIST, json!({}), Some(bob)).await.ok().body);
    assert_eq!(bobs.len(), 1);
    assert_eq!(
        (bobs[0]["kind"].clone(), bobs[0]["subjectKind"].clone(), bobs[0]["subjectId"].clone(), bobs[0]["replyId"].clone()),
        (json!("REPLY"), json!("COMMENT"), json!(comment), json!(reply))
    );

    // a follow notifies the followee once, however often it is repeated
    platform.gql(FOLLOW, json!({ "id": alice_id }), Some(dave)).await.ok();
    platform.gql(UNFOLLOW, json!({ "id": alice_id }), Some(dave)).await.ok();
    platform.gql(FOLLOW, json!({ "id": alice_id }), Some(dave)).await.ok();
    let alices = nodes(&platform.gql(LIST, json!({}), Some(alice)).await.ok().body);
    assert_eq!(alices.len(), 3);
    assert_eq!(
        (alices[0]["kind"].clone(), alices[0]["subjectId"].clone(), alices[0]["actorCount"].clone()),
        (json!("FOLLOW"), json!(alice_id), json!(1))
    );
    assert_eq!(alices[0]["actors"], json!([{ "id": dave_id }]));

    // a blocked user's like notifies nothing
    platform.gql("mutation($id: ID!) { blockUser(userId: $id) { changed } }", json!({ "id": erin_id }), Some(alice)).await.ok();
    platform.gql(LIKE, json!({ "id": post }), Some(erin)).await.ok();
    let alices = nodes(&platform.gql(LIST, json!({}), Some(alice)).await.ok().body);
    let like = alices.iter().find(|n| n["kind"] == "LIKE").expect("the like");
    assert_eq!(like["actorCount"], json!(14), "erin is blocked");

    // paging: first 1, then after it
    let page =
        "query($after: String) { notifications(first: 1, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id } } } }";
    let one = platform.gql(page, json!({}), Some(alice)).await.ok();
    assert_eq!(one.data("/notifications/pageInfo/hasNextPage"), &json!(true));
    let next = platform.gql(page, json!({ "after": one.data("/notifications/pageInfo/endCursor") }), Some(alice)).await.ok();
    assert_ne!(next.node_ids("notifications"), one.node_ids("notifications"));

    // marking read: the owner's alone, exactly one selection, ids that parse
    let bob_notification = bobs[0]["id"].as_str().expect("id");
    assert_eq!(platform.gql(MARK, json!({ "upTo": bob_notification }), Some(alice)).await.codes(), ["NOT_FOUND"]);
    assert_eq!(
        platform.gql(MARK, json!({ "ids": [bob_notification] }), Some(alice)).await.ok().data("/markNotificationsRead/unreadCount"),
        &json!(3)
    );
    assert_eq!(nodes(&platform.gql(LIST, json!({}), Some(bob)).await.ok().body)[0]["read"], json!(false), "alice cannot mark bob's");
    assert_eq!(platform.gql(MARK, json!({ "ids": [notification], "upTo": notification }), Some(alice)).await.codes(), ["BAD_USER_INPUT"]);
    assert_eq!(platform.gql(MARK, json!({}), Some(alice)).await.codes(), ["BAD_USER_INPUT"]);
    assert_eq!(platform.gql(MARK, json!({ "ids": [] }), Some(alice)).await.codes(), ["BAD_USER_INPUT"]);
    assert_eq!(platform.gql(MARK, json!({ "upTo": "nope" }), Some(alice)).await.codes(), ["BAD_USER_INPUT"]);
    assert_eq!(platform.gql(LIST, json!({}), None).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(platform.gql(MARK, json!({ "upTo": notification }), None).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(platform.gql("{ notifications(first: 101) { unreadCount } }", json!({}), Some(alice)).await.codes(), ["BAD_USER_INPUT"]);

    // muted: may still read and mark read; banned: every community mutation is refused
    let mute = "mutation($id: ID!, $until: DateTime!) { muteUser(userId: $id, until: $until, reason: \"calm down\") { mutedUntil } }";
    let until = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    platform.gql(mute, json!({ "id": bob_id, "until": until }), Some(&admin)).await.ok();
    assert_eq!(
        platform.gql(MARK, json!({ "upTo": bob_notification }), Some(bob)).await.ok().data("/markNotificationsRead/unreadCount"),
        &json!(0)
    );
    platform
        .gql("mutation($id: ID!) { banUser(userId: $id, reason: \"spam\") { banned } }", json!({ "id": carol_id }), Some(&admin))
        .await
        .ok();
    assert_eq!(platform.gql(MARK, json!({ "ids": [notification] }), Some(carol)).await.codes(), ["FORBIDDEN"]);
    // an admin marks their own (none here: the list is empty, and someone else's is NOT_FOUND)
    assert_eq!(platform.gql(MARK, json!({ "upTo": notification }), Some(&admin)).await.codes(), ["NOT_FOUND"]);

    let audit = platform.gql("{ communityAudit { counter } }", json!({}), Some(&admin)).await.ok();
    assert_eq!(audit.data("/communityAudit"), &json!([]));
}

/// Runs `probe` (an operation that notifies the clients' user) as fresh users until each client
/// has received a notification (a subscription has no acknowledgement, so we probe rather than
/// sleep), then drains what the probes left queued.
async fn until_subscribed(platform: &Platform, probe: &str, variables: Value, probers: &[(String, String)], clients: &mut [&mut WsClient]) {
    let mut pending: Vec<usize> = (0..clients.len()).collect();
    for (_, prober) in probers {
        platform.gql(probe, variables.clone(), Some(prober)).await.ok();
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

/// The next `notificationReceived` payload of `client`.
async fn next_notification(client: &mut WsClient) -> Value {
    let message = client.next_message().await;
    assert_eq!(message["type"], "next", "{message}");
    message["payload"]["data"]["notificationReceived"].clone()
}

#[tokio::test]
async fn notification_received_reaches_the_owner_on_either_replica_and_nobody_else() {
    let platform = Platform::start().await;
    let (_, admin) = platform.admin("root").await;
    let users = platform.users("sub", 30).await;
    let ((alice_id, alice), (bob_id, bob), (carol_id, carol), (_, dave)) = (&users[0], &users[1], &users[2], &users[3]);
    let post = post_of(&platform, &admin, alice).await;
    let deps = Deps::connect(platform.services.config(), "community-b").await.expect("deps");
    let (replica_b, _stop_b) = spawn_subgraph(Subgraph::Community, deps).await;

    // alice through the router (replica A) and, with another token, straight on replica B; bob
    // through the router
    let mut alice_via_router = WsClient::connect(&platform.router_ws_url(), Some(alice)).await;
    alice_via_router.subscribe("1", RECEIVED, json!({})).await;
    let alice_second = platform.token_for(alice_id.parse().expect("id"), platform::auth::Role::User);
    let mut alice_on_b = WsClient::connect(&replica_b.replace("http://", "ws://"), Some(&alice_second)).await;
    alice_on_b.subscribe("1", RECEIVED, json!({})).await;
    let mut bob_via_router = WsClient::connect(&platform.router_ws_url(), Some(bob)).await;
    bob_via_router.subscribe("1", RECEIVED, json!({})).await;
    until_subscribed(&platform, LIKE, json!({ "id": post }), &users[10..20], &mut [&mut alice_via_router, &mut alice_on_b]).await;
    until_subscribed(&platform, FOLLOW, json!({ "id": bob_id }), &users[20..30], &mut [&mut bob_via_router]).await;

    // a like sent to replica B reaches alice on both replicas
    platform.post(&replica_b, LIKE, json!({ "id": post }), Some(carol)).await.ok();
    for client in [&mut alice_via_router, &mut alice_on_b] {
        let received = next_notification(client).await;
        assert_eq!((received["kind"].clone(), received["subjectId"].clone()), (json!("LIKE"), json!(post)));
        assert_eq!(received["actors"][0], json!({ "id": carol_id }));
    }
    // a follow through the router (replica A) too
    platform.gql(FOLLOW, json!({ "id": alice_id }), Some(dave)).await.ok();
    for client in [&mut alice_via_router, &mut alice_on_b] {
        assert_eq!(next_notification(client).await["kind"], json!("FOLLOW"));
    }

    // bob saw none of alice's: the first thing he receives is his own follower
    platform.post(&replica_b, FOLLOW, json!({ "id": bob_id }), Some(carol)).await.ok();
    let bobs = next_notification(&mut bob_via_router).await;
    assert_eq!((bobs["kind"].clone(), bobs["subjectId"].clone()), (json!("FOLLOW"), json!(bob_id)));

    // anonymous: no subscription
    let mut anonymous = WsClient::connect(&platform.router_ws_url(), None).await;
    anonymous.subscribe("1", RECEIVED, json!({})).await;
    let refused = anonymous.next_message().await;
    let code = refused["payload"][0]["extensions"]["code"].clone();
    let code = if code.is_null() { refused["payload"]["errors"][0]["extensions"]["code"].clone() } else { code };
    assert_eq!(code, json!("UNAUTHENTICATED"), "{refused}");
}
