//! Zones, posts, comments, likes and points through the router: a post list page carries
//! authors resolved by `content` next to community's counts and viewer state, and the hall of
//! fame and the recompute check agree with what happened.

use crate::harness::Platform;
use serde_json::json;

#[tokio::test]
async fn a_zone_page_through_the_router_joins_authors_counts_viewer_state_and_points() {
    let platform = Platform::start().await;
    let (_, admin) = platform.admin("root").await;
    let (alice_id, alice, _) = platform.register("alice").await;
    let (_, bob, _) = platform.register("bob").await;

    let zone = platform.gql("mutation { createZone(input: { name: \"Games\" }) { id } }", json!({}), Some(&admin)).await.ok();
    let zone = zone.data("/createZone/id").as_str().expect("zone").to_owned();
    assert_eq!(
        platform.gql("mutation { createZone(input: { name: \"Mine\" }) { id } }", json!({}), Some(&bob)).await.codes(),
        ["FORBIDDEN"]
    );
    let create = "mutation($input: CreatePostInput!) { createPost(input: $input) { id } }";
    let post = platform
        .gql(create, json!({ "input": { "zoneId": zone, "body": "hello", "videoId": uuid::Uuid::now_v7().to_string() } }), Some(&alice))
        .await
        .ok();
    let post = post.data("/createPost/id").as_str().expect("post").to_owned();
    let comment = "mutation($input: CreateCommentInput!) { createPostComment(input: $input) { id } }";
    platform.gql(comment, json!({ "input": { "postId": post, "body": "first!" } }), Some(&bob)).await.ok();
    platform.gql("mutation($id: ID!) { likePost(id: $id) { likeScore } }", json!({ "id": post }), Some(&bob)).await.ok();
    platform.gql("mutation($id: ID!) { likePost(id: $id) { likeScore } }", json!({ "id": post }), Some(&admin)).await.ok();

    let page = "query($zone: ID) { posts(zoneId: $zone, first: 20) { edges { node { \
        id body likeScore commentCount likedByViewer zone { name } author { username likesReceived } } } } }";
    let seen = platform.gql(page, json!({ "zone": zone }), Some(&bob)).await.ok();
    assert_eq!(
        seen.data("/posts/edges/0/node"),
        &json!({
            "id": post, "body": "hello", "likeScore": 6, "commentCount": 1, "likedByViewer": true,
            "zone": { "name": "Games" }, "author": { "username": "alice", "likesReceived": 6 },
        })
    );
    let anonymous = platform.gql(page, json!({ "zone": zone }), None).await.ok();
    assert_eq!(anonymous.data("/posts/edges/0/node/likedByViewer"), &json!(false));

    let fame = "query($zone: ID!) { zoneHallOfFame(zoneId: $zone) { rank points postCount replyCount user { id username } } }";
    let fame = platform.gql(fame, json!({ "zone": zone }), None).await.ok();
    assert_eq!(
        fame.data("/zoneHallOfFame/0"),
        &json!({ "rank": 1, "points": 10, "postCount": 1, "replyCount": 0, "user": { "id": alice_id, "username": "alice" } })
    );
    assert_eq!(fame.data("/zoneHallOfFame/1/user/username"), &json!("bob"));
    let audit = platform.gql("{ communityAudit { counter } }", json!({}), Some(&admin)).await.ok();
    assert_eq!(audit.data("/communityAudit"), &json!([]));

    // a muted user's post is refused with the end of the mute, which the router passes on
    let bob_id = platform.gql("{ me { id } }", json!({}), Some(&bob)).await.ok().data("/me/id").as_str().expect("id").to_owned();
    let until = "2099-01-01T00:00:00+00:00";
    let mute = "mutation($id: ID!, $until: DateTime!) { muteUser(userId: $id, until: $until, reason: \"flood\") { mutedUntil } }";
    let too_far = platform.gql(mute, json!({ "id": bob_id, "until": until }), Some(&admin)).await;
    assert_eq!(too_far.codes(), ["BAD_USER_INPUT"], "at most a year");
    let until = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    platform.gql(mute, json!({ "id": bob_id, "until": until }), Some(&admin)).await.ok();
    let refused = platform.gql(create, json!({ "input": { "zoneId": zone, "body": "spam" } }), Some(&bob)).await;
    assert_eq!(refused.codes(), ["FORBIDDEN"]);
    assert!(refused.body["errors"][0]["extensions"]["mutedUntil"].is_string(), "{}", refused.body);
}
