//! Following through `community`, seen by `content`: the followee's new video reaches the
//! follower's `followingFeed` (community's outbox → FOLLOW_STREAM → content's projection), and
//! the `User` entity carries community's counters through the router.

use crate::harness::Platform;
use serde_json::json;
use std::time::{Duration, Instant};

const FOLLOW: &str = "mutation($id: ID!) { followUser(userId: $id) { following changed user { id username followerCount } } }";
const UNFOLLOW: &str = "mutation($id: ID!) { unfollowUser(userId: $id) { following changed } }";
const CREATE: &str = "mutation($input: CreateVideoInput!) { createVideo(input: $input) { id } }";
const FEED: &str = "{ followingFeed(first: 10) { edges { node { id author { username followerCount } } } } }";

/// The following feed once `done` holds for its video ids: polls the API (the projection
/// follows the events asynchronously) for up to 10 s.
async fn feed_until(platform: &Platform, token: &str, done: impl Fn(&[String]) -> bool) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let feed = platform.gql(FEED, json!({}), Some(token)).await.ok().node_ids("followingFeed");
        if done(&feed) || Instant::now() > deadline {
            return feed;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_follow_through_community_puts_the_followees_new_video_in_contents_following_feed() {
    let platform = Platform::start().await;
    let (alice_id, alice, _) = platform.register("alice").await;
    let (_, carol, _) = platform.register("carol").await;

    let followed = platform.gql(FOLLOW, json!({ "id": alice_id }), Some(&carol)).await.ok();
    assert_eq!(followed.data("/followUser/changed"), &json!(true));
    // `username` from content, `followerCount` from community: one entity through the router
    assert_eq!(followed.data("/followUser/user/username"), &json!("alice"));
    assert_eq!(followed.data("/followUser/user/followerCount"), &json!(1));

    let input = json!({ "title": "Alice live again", "regionId": 2, "durationSecs": 60, "sourceUrl": "https://cdn.example.com/a.mp4" });
    let video =
        platform.gql(CREATE, json!({ "input": input }), Some(&alice)).await.ok().data("/createVideo/id").as_str().expect("id").to_owned();
    let feed = feed_until(&platform, &carol, |feed| !feed.is_empty()).await;
    assert_eq!(feed, std::slice::from_ref(&video));
    let me = platform.gql("{ me { username followingCount followerCount isFollowedByViewer } }", json!({}), Some(&carol)).await.ok();
    assert_eq!(me.data("/me"), &json!({ "username": "carol", "followingCount": 1, "followerCount": 0, "isFollowedByViewer": false }));
    let author = platform.gql(FEED, json!({}), Some(&carol)).await.ok();
    assert_eq!(author.data("/followingFeed/edges/0/node/author"), &json!({ "username": "alice", "followerCount": 1 }));

    // unfollow: the feed empties; a repeated unfollow publishes nothing and changes nothing
    assert_eq!(platform.gql(UNFOLLOW, json!({ "id": alice_id }), Some(&carol)).await.ok().data("/unfollowUser/changed"), &json!(true));
    assert_eq!(platform.gql(UNFOLLOW, json!({ "id": alice_id }), Some(&carol)).await.ok().data("/unfollowUser/changed"), &json!(false));
    assert_eq!(feed_until(&platform, &carol, <[String]>::is_empty).await, Vec::<String>::new());

    // the authorization matrix of follows (muted and banned users arrive with moderation)
    let carol_id = platform.gql("{ me { id } }", json!({}), Some(&carol)).await.ok().data("/me/id").as_str().expect("id").to_owned();
    assert_eq!(platform.gql(FOLLOW, json!({ "id": alice_id }), None).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(platform.gql(FOLLOW, json!({ "id": alice_id }), Some("garbage")).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(platform.gql(FOLLOW, json!({ "id": carol_id }), Some(&carol)).await.codes(), ["BAD_USER_INPUT"]);
    let (_, admin) = platform.admin("root").await;
    let audit = platform.gql("{ communityAudit { subject counter stored actual } }", json!({}), Some(&admin)).await.ok();
    assert_eq!(audit.data("/communityAudit"), &json!([]));
    assert_eq!(platform.gql("{ communityAudit { subject } }", json!({}), Some(&carol)).await.codes(), ["FORBIDDEN"]);
}
