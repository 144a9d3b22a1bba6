//! Community's account directory, the visibility of hidden content acting by id, and the
//! review of flagged dynamics, through the router.
//!
//! The directory is fed by content's account events (outbox → JetStream → community's durable
//! consumer): a registration, a promotion and the harness's direct accounts all reach it, an id
//! that is no account is `NOT_FOUND` for a follow, a message or a block and writes nothing,
//! and an account community has not heard of yet is waited for (up to two seconds) when its id
//! is fresh, refused at once when it is not.

use crate::community_notifications::{CREATE_POST, CREATE_ZONE};
use crate::harness::Platform;
use serde_json::json;
use std::time::Duration;

const FOLLOW: &str = "mutation($id: ID!) { followUser(userId: $id) { following changed } }";
const SEND: &str = "mutation($to: ID!, $key: String!) { sendMessage(toUserId: $to, text: \"hi\", idempotencyKey: $key) { replayed } }";
const BLOCK: &str = "mutation($id: ID!) { blockUser(userId: $id) { blocked } }";
const ADMINS: &str = "{ communityAdmins { user { id } username scope zone { id } } }";

/// The single `n` of a `SELECT count(*) AS n …`.
async fn count(platform: &Platform, sql: &str) -> i64 {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let db = platform.db();
    let mut conn = db.pool.get().await.expect("connection");
    diesel::sql_query(sql).get_result::<Count>(&mut conn).await.expect("count").n
}

/// Rows the three relation writers leave behind.
async fn relations(platform: &Platform) -> (i64, i64, i64) {
    (
        count(platform, "SELECT count(*) AS n FROM community.user_follows").await,
        count(platform, "SELECT count(*) AS n FROM community.messages").await,
        count(platform, "SELECT count(*) AS n FROM community.blocks").await,
    )
}

#[tokio::test]
async fn follows_messages_and_blocks_of_an_id_that_is_no_account_are_not_found_and_write_nothing() {
    let platform = Platform::start().await;
    let (_, alice, _) = platform.register("alice").await;
    // Registered a moment ago: followed at once, whether or not the directory was already told.
    let (bob_id, _, _) = platform.register("bob").await;
    assert_eq!(platform.gql(FOLLOW, json!({ "id": bob_id }), Some(&alice)).await.ok().data("/followUser/changed"), &json!(true));
    let before = relations(&platform).await;

    let old = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, 1_700_000_000, 0)).to_string();
    for unknown in [uuid::Uuid::new_v4().to_string(), old] {
        let started = std::time::Instant::now();
        assert_eq!(platform.gql(FOLLOW, json!({ "id": unknown }), Some(&alice)).await.codes(), ["NOT_FOUND"]);
        assert_eq!(platform.gql(SEND, json!({ "to": unknown, "key": "k1" }), Some(&alice)).await.codes(), ["NOT_FOUND"]);
        assert_eq!(platform.gql(BLOCK, json!({ "id": unknown }), Some(&alice)).await.codes(), ["NOT_FOUND"]);
        // Ids that cannot be a fresh account are refused at once: nobody waits on guessed ids.
        assert!(started.elapsed() < Duration::from_millis(1500), "{unknown}: {:?}", started.elapsed());
    }
    assert_eq!(relations(&platform).await, before, "the refusals wrote nothing");
}

#[tokio::test]
async fn an_account_the_directory_has_not_heard_of_is_waited_for_then_refused_and_found_once_its_event_arrives() {
    let platform = Platform::start().await;
    let (_, alice, _) = platform.register("alice").await;
    // An account content committed without its event yet (a relay lagging behind).
    let db = platform.db();
    let mut conn = db.pool.get().await.expect("connection");
    let new = content::store::users::NewUser {
        id: uuid::Uuid::now_v7(),
        email: "late@example.com",
        username: "late",
        password_hash: "not-a-hash",
        role: "user",
        display_name: "late",
    };
    let late = content::store::users::insert(&mut conn, &new).await.expect("insert");
    let started = std::time::Instant::now();
    assert_eq!(platform.gql(FOLLOW, json!({ "id": late.id }), Some(&alice)).await.codes(), ["NOT_FOUND"]);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(1900), "a fresh id is waited for (two seconds), waited {waited:?}");
    assert_eq!(relations(&platform).await.0, 0, "nothing written");

    // The event arrives while a follow waits for it: the follow succeeds.
    let accounts = platform.account_events().await;
    let follow = platform.gql(FOLLOW, json!({ "id": late.id }), Some(&alice));
    let publish = async {
        accounts.changed(&mut conn, &late, 1).await.expect("account event");
    };
    let (followed, ()) = tokio::join!(follow, publish);
    assert_eq!(followed.ok().data("/followUser/changed"), &json!(true));
}

#[tokio::test]
async fn community_admins_lists_site_admins_and_zone_admins_with_their_scope_to_anyone() {
    let platform = Platform::start().await;
    let (root_id, root) = platform.admin("root").await;
    let users = platform.users("mod", 2).await;
    let ((moderator_id, _), (_, plain)) = (&users[0], &users[1]);
    let zone = platform.gql(CREATE_ZONE, json!({}), Some(&root)).await.ok().data("/createZone/id").as_str().expect("zone").to_owned();
    let add = "mutation($zone: ID!, $user: ID!) { addZoneAdmin(zoneId: $zone, userId: $user) { user { id } } }";
    platform.gql(add, json!({ "zone": zone, "user": moderator_id }), Some(&root)).await.ok();
    // An id that is no account is not made an admin of anything.
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(platform.gql(add, json!({ "zone": zone, "user": unknown }), Some(&root)).await.codes(), ["NOT_FOUND"]);

    let expected = json!([
        { "user": { "id": root_id }, "username": "root", "scope": "SITE", "zone": null },
        { "user": { "id": moderator_id }, "username": null, "scope": "ZONE", "zone": { "id": zone } },
    ]);
    // The promotion reaches the directory through content's outbox and community's consumer.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let listed = platform.gql(ADMINS, json!({}), None).await.ok();
        if listed.data("/communityAdmins") == &expected {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", listed.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Public: a signed-in user sees the same list.
    assert_eq!(platform.gql(ADMINS, json!({}), Some(plain)).await.ok().data("/communityAdmins"), &expected);
}

#[tokio::test]
async fn hidden_removed_rejected_and_pending_content_cannot_be_liked_commented_or_reported_by_id() {
    let platform = Platform::start().await;
    let (_, admin) = platform.admin("root").await;
    let users = platform.users("vis", 3).await;
    let ((alice_id, alice), (_, bob), (_, carol)) = (&users[0], &users[1], &users[2]);
    let zone = platform.gql(CREATE_ZONE, json!({}), Some(&admin)).await.ok().data("/createZone/id").as_str().expect("zone").to_owned();
    let post = |token: &str, body: &str| {
        let (token, body, zone) = (token.to_owned(), body.to_owned(), zone.clone());
        let platform = &platform;
        async move {
            let reply = platform.gql(CREATE_POST, json!({ "input": { "zoneId": zone, "body": body } }), Some(&token)).await.ok();
            reply.data("/createPost/id").as_str().expect("post").to_owned()
        }
    };
    let comment = "mutation($input: CreateCommentInput!) { createPostComment(input: $input) { id } }";
    let like_post = "mutation($id: ID!) { likePost(id: $id) { likeScore } }";
    let like_comment = "mutation($id: ID!) { likePostComment(id: $id) { likeScore } }";
    let report_post = "mutation($id: ID!) { reportPost(id: $id, reason: \"spam\") }";
    let report_comment = "mutation($id: ID!) { reportPostComment(id: $id, reason: \"spam\") }";

    // Alice's post and her comment on Carol's post, then a ban that hides her content.
    let hidden = post(alice, "alice's").await;
    let carols = post(carol, "carol's").await;
    let alices_comment = platform.gql(comment, json!({ "input": { "postId": carols, "body": "by alice" } }), Some(alice)).await.ok();
    let alices_comment = alices_comment.data("/createPostComment/id").as_str().expect("comment").to_owned();
    // Removed by its author; rejected by an admin.
    let removed = post(carol, "removed").await;
    platform.gql("mutation($id: ID!) { deletePost(id: $id) }", json!({ "id": removed }), Some(carol)).await.ok();
    let rejected = post(carol, "rejected").await;
    platform
        .gql("mutation($id: ID!) { rejectPost(id: $id, reason: \"off topic\") { id } }", json!({ "id": rejected }), Some(&admin))
        .await
        .ok();
    let ban = "mutation($id: ID!) { banUser(userId: $id, reason: \"spam\", hideContent: true) { banned } }";
    platform.gql(ban, json!({ "id": alice_id }), Some(&admin)).await.ok();
    // Pending: the zone holds new posts for review.
    let modes = "mutation($z: ID!) { setReviewModes(zoneId: $z, posts: REVIEW_THEN_POST) { posts } }";
    platform.gql(modes, json!({ "z": zone }), Some(&admin)).await.ok();
    let pending = post(carol, "pending").await;

    let written = async || {
        (
            count(&platform, "SELECT count(*) AS n FROM community.likes").await,
            count(&platform, "SELECT count(*) AS n FROM community.comments").await,
            count(&platform, "SELECT count(*) AS n FROM community.reports").await,
        )
    };
    let before = written().await;
    for id in [&hidden, &removed, &rejected, &pending] {
        assert_eq!(platform.gql(like_post, json!({ "id": id }), Some(bob)).await.codes(), ["NOT_FOUND"], "like {id}");
        let reply = platform.gql(comment, json!({ "input": { "postId": id, "body": "hello?" } }), Some(bob)).await;
        assert_eq!(reply.codes(), ["NOT_FOUND"], "comment on {id}");
        assert_eq!(platform.gql(report_post, json!({ "id": id }), Some(bob)).await.codes(), ["NOT_FOUND"], "report {id}");
    }
    // A hidden comment: no like, no reply, no quote, no report.
    assert_eq!(platform.gql(like_comment, json!({ "id": alices_comment }), Some(bob)).await.codes(), ["NOT_FOUND"]);
    let reply = json!({ "input": { "postId": carols, "body": "re", "replyTo": alices_comment } });
    assert_eq!(platform.gql(comment, reply, Some(bob)).await.codes(), ["NOT_FOUND"]);
    assert_eq!(platform.gql(report_comment, json!({ "id": alices_comment }), Some(bob)).await.codes(), ["NOT_FOUND"]);
    assert_eq!(written().await, before, "the refusals wrote nothing");

    // Site admins still see hidden content and may act on it; visible content is unaffected.
    assert_eq!(platform.gql(like_post, json!({ "id": hidden }), Some(&admin)).await.ok().data("/likePost/likeScore"), &json!(5));
    assert_eq!(platform.gql(like_post, json!({ "id": carols }), Some(bob)).await.ok().data("/likePost/likeScore"), &json!(1));
}

#[tokio::test]
async fn flagged_dynamics_wait_in_the_admin_review_list_and_are_approved_or_rejected_with_a_reason() {
    let platform = Platform::start().await;
    let (_, admin) = platform.admin("root").await;
    let users = platform.users("dynrev", 2).await;
    let ((streamer_id, streamer), (_, fan)) = (&users[0], &users[1]);
    platform.gql(FOLLOW, json!({ "id": streamer_id }), Some(fan)).await.ok();
    platform.gql("mutation { setModerationWords(blocked: [], flagged: [\"iffyword\"]) }", json!({}), Some(&admin)).await.ok();
    let create = "mutation($b: String!) { createDynamic(body: $b) { id state published } }";
    let flagged = |body: &'static str| {
        let platform = &platform;
        async move { platform.gql(create, json!({ "b": body }), Some(streamer)).await.ok().data("/createDynamic").clone() }
    };
    let first = flagged("an iffyword here").await;
    let second = flagged("another iffyword").await;
    assert_eq!((&first["state"], &first["published"]), (&json!("PENDING"), &json!(false)));
    let (first, second) = (first["id"].as_str().expect("id").to_owned(), second["id"].as_str().expect("id").to_owned());

    let queue = "query($s: ReviewState!) { dynamicsForReview(state: $s) { edges { node { id } } } }";
    let listed = |state: &'static str| {
        let platform = &platform;
        let admin = admin.clone();
        async move {
            let reply = platform.gql(queue, json!({ "s": state }), Some(&admin)).await.ok();
            reply.data("/dynamicsForReview/edges").as_array().expect("edges").iter().map(|e| e["node"]["id"].clone()).collect::<Vec<_>>()
        }
    };
    assert_eq!(listed("PENDING").await, [json!(second), json!(first)], "newest first");
    assert_eq!(platform.gql(queue, json!({ "s": "PENDING" }), Some(fan)).await.codes(), ["FORBIDDEN"]);
    assert_eq!(platform.gql(queue, json!({ "s": "PENDING" }), None).await.codes(), ["UNAUTHENTICATED"]);

    let approve = "mutation($id: ID!) { approveDynamic(id: $id) { state published } }";
    let reject = "mutation($id: ID!, $r: String!) { rejectDynamic(id: $id, reason: $r) { state } }";
    for token in [fan, streamer] {
        assert_eq!(platform.gql(approve, json!({ "id": first }), Some(token)).await.codes(), ["FORBIDDEN"]);
    }
    assert_eq!(platform.gql(reject, json!({ "id": second, "r": "  " }), Some(&admin)).await.codes(), ["BAD_USER_INPUT"]);
    assert_eq!(platform.gql(approve, json!({ "id": uuid::Uuid::now_v7() }), Some(&admin)).await.codes(), ["NOT_FOUND"]);
    let approved = platform.gql(approve, json!({ "id": first }), Some(&admin)).await.ok();
    assert_eq!(approved.data("/approveDynamic"), &json!({ "state": "PUBLISHED", "published": true }));
    let rejected = platform.gql(reject, json!({ "id": second, "r": "spoilers" }), Some(&admin)).await.ok();
    assert_eq!(rejected.data("/rejectDynamic/state"), &json!("REJECTED"));

    assert_eq!(listed("PENDING").await, Vec::<serde_json::Value>::new());
    assert_eq!(listed("REJECTED").await, [json!(second)]);
    let feed = "{ followingDynamics(first: 10) { edges { node { id } } } }";
    let seen = platform.gql(feed, json!({}), Some(fan)).await.ok();
    assert_eq!(seen.data("/followingDynamics/edges"), &json!([{ "node": { "id": first } }]), "approved shows, rejected does not");
    let own = "query($u: ID!) { dynamics(userId: $u) { edges { node { id state } } } }";
    let mine = platform.gql(own, json!({ "u": streamer_id }), Some(streamer)).await.ok();
    assert_eq!(mine.data("/dynamics/edges/0/node"), &json!({ "id": second, "state": "REJECTED" }), "its author still sees it");
    let log =
        count(&platform, "SELECT count(*) AS n FROM community.moderation_log WHERE action IN ('approve_dynamic', 'reject_dynamic')").await;
    assert_eq!(log, 2);
}
