//! Following users: idempotence, never oneself, counters in the transaction, one event per
//! change (through the outbox), lists, and the `User` fields batched.

use crate::world::{World, admin, id_of, user};
use futures::StreamExt;
use platform::auth::Viewer;
use serde_json::json;
use uuid::Uuid;

const FOLLOW: &str = "mutation($id: ID!) { followUser(userId: $id) { following changed user { id followerCount followingCount } } }";
const UNFOLLOW: &str = "mutation($id: ID!) { unfollowUser(userId: $id) { following changed user { followerCount } } }";

fn entities_query(ids: &[Uuid]) -> (String, serde_json::Value) {
    let representations: Vec<_> = ids.iter().map(|id| json!({ "__typename": "User", "id": id.to_string() })).collect();
    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id followerCount followingCount likesReceived isFollowedByViewer } } }";
    (query.to_owned(), json!({ "r": representations }))
}

/// The follow events in the outbox, oldest first, as (follower, followee, following, changed_at).
async fn outbox_events(world: &World) -> Vec<serde_json::Value> {
    world
        .texts("SELECT payload::text AS v FROM community.outbox ORDER BY seq")
        .await
        .into_iter()
        .map(|text| serde_json::from_str(&text).expect("event JSON"))
        .collect()
}

#[tokio::test]
async fn following_is_idempotent_never_oneself_and_each_change_is_one_event() {
    let world = World::new().await;
    let (alice, bob) = (user(), user());
    world.enroll(&[id_of(&bob)]).await;
    let bob_id = id_of(&bob).to_string();

    let first = world.run(&alice, FOLLOW, json!({ "id": bob_id })).await.ok();
    assert_eq!(first.data("/followUser/following"), &json!(true));
    assert_eq!(first.data("/followUser/changed"), &json!(true));
    assert_eq!(first.data("/followUser/user/followerCount"), &json!(1));
    let again = world.run(&alice, FOLLOW, json!({ "id": bob_id })).await.ok();
    assert_eq!(again.data("/followUser/changed"), &json!(false), "following twice changes nothing");
    assert_eq!(again.data("/followUser/user/followerCount"), &json!(1));

    // the follower's side of the counters, and the list on both sides
    let (query, variables) = entities_query(&[id_of(&alice), id_of(&bob)]);
    let seen_by_alice = world.run(&alice, &query, variables.clone()).await.ok();
    assert_eq!(seen_by_alice.data("/_entities/0/followingCount"), &json!(1));
    assert_eq!(seen_by_alice.data("/_entities/0/isFollowedByViewer"), &json!(false), "never oneself");
    assert_eq!(seen_by_alice.data("/_entities/1/followerCount"), &json!(1));
    assert_eq!(seen_by_alice.data("/_entities/1/isFollowedByViewer"), &json!(true));
    let anonymous = world.run(&Viewer::Anonymous, &query, variables).await.ok();
    assert_eq!(anonymous.data("/_entities/1/isFollowedByViewer"), &json!(false));

    let unfollowed = world.run(&alice, UNFOLLOW, json!({ "id": bob_id })).await.ok();
    assert_eq!(unfollowed.data("/unfollowUser/changed"), &json!(true));
    assert_eq!(unfollowed.data("/unfollowUser/user/followerCount"), &json!(0));
    let again = world.run(&alice, UNFOLLOW, json!({ "id": bob_id })).await.ok();
    assert_eq!(again.data("/unfollowUser/changed"), &json!(false));
    // follow again at once: the third change of the pair
    world.run(&alice, FOLLOW, json!({ "id": bob_id })).await.ok();

    // exactly one event per change, each strictly later than the one before (the consumers
    // keep the latest change per pair by that time), although the test clock never moved
    let events = outbox_events(&world).await;
    let states: Vec<bool> = events.iter().map(|event| event["following"].as_bool().expect("following")).collect();
    assert_eq!(states, [true, false, true]);
    let times: Vec<chrono::DateTime<chrono::Utc>> =
        events.iter().map(|event| event["changed_at"].as_str().expect("time").parse().expect("RFC 3339")).collect();
    assert!(times.windows(2).all(|pair| pair[0] < pair[1]), "{times:?}");
    assert!(events.iter().all(|event| event["follower_id"] == json!(id_of(&alice)) && event["followee_id"] == json!(bob_id)));

    // bad input: oneself, a malformed id, anonymous; nothing written
    assert_eq!(world.run(&alice, FOLLOW, json!({ "id": id_of(&alice).to_string() })).await.codes(), ["BAD_USER_INPUT"]);
    assert_eq!(world.run(&alice, UNFOLLOW, json!({ "id": id_of(&alice).to_string() })).await.codes(), ["BAD_USER_INPUT"]);
    assert_eq!(world.run(&alice, FOLLOW, json!({ "id": "not-an-id" })).await.codes(), ["BAD_USER_INPUT"]);
    assert_eq!(world.run(&Viewer::Anonymous, FOLLOW, json!({ "id": bob_id })).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(world.run(&Viewer::Anonymous, UNFOLLOW, json!({ "id": bob_id })).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(outbox_events(&world).await.len(), 3);
    assert_eq!(world.audit().await, []);
}

#[tokio::test]
async fn follow_lists_page_most_recent_first_without_overlap() {
    let world = World::new().await;
    let star = user();
    world.enroll(&[id_of(&star)]).await;
    let fans: Vec<Viewer> = (0..5).map(|_| user()).collect();
    for fan in &fans {
        world.run(fan, FOLLOW, json!({ "id": id_of(&star).to_string() })).await.ok();
    }
    let page = "query($id: ID!, $after: String) { userFollowers(userId: $id, first: 2, after: $after) { \
        edges { node { user { id } followedAt } } pageInfo { hasNextPage endCursor } } }";
    let mut seen = Vec::new();
    let mut after = serde_json::Value::Null;
    loop {
        let answer = world.run(&Viewer::Anonymous, page, json!({ "id": id_of(&star).to_string(), "after": after })).await.ok();
        let edges = answer.data("/userFollowers/edges").as_array().expect("edges").clone();
        seen.extend(edges.iter().map(|edge| edge["node"]["user"]["id"].as_str().expect("id").to_owned()));
        if answer.data("/userFollowers/pageInfo/hasNextPage") != &json!(true) {
            break;
        }
        after = answer.data("/userFollowers/pageInfo/endCursor").clone();
    }
    let mut expected: Vec<String> = fans.iter().rev().map(|fan| id_of(fan).to_string()).collect();
    // equal follow times (the manual clock stood still) fall back to id order, descending
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, expected);

    let following = "query($id: ID!) { userFollowing(userId: $id) { edges { node { user { id } } } } }";
    let answer = world.run(&Viewer::Anonymous, following, json!({ "id": id_of(&fans[0]).to_string() })).await.ok();
    assert_eq!(answer.data("/userFollowing/edges/0/node/user/id"), &json!(id_of(&star).to_string()));

    for bad in [json!({ "id": id_of(&star).to_string(), "after": "garbage" }), json!({ "id": "x", "after": null })] {
        assert_eq!(world.run(&Viewer::Anonymous, page, bad).await.codes(), ["BAD_USER_INPUT"]);
    }
    let too_many = "query($id: ID!) { userFollowers(userId: $id, first: 101) { edges { cursor } } }";
    assert_eq!(world.run(&Viewer::Anonymous, too_many, json!({ "id": id_of(&star).to_string() })).await.codes(), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn user_fields_of_many_users_cost_one_statement_per_loader() {
    let world = World::new().await;
    let viewer = user();
    let users: Vec<Viewer> = (0..40).map(|_| user()).collect();
    world.enroll(&users.iter().map(id_of).collect::<Vec<_>>()).await;
    for target in users.iter().step_by(2) {
        world.run(&viewer, FOLLOW, json!({ "id": id_of(target).to_string() })).await.ok();
    }
    let ids: Vec<Uuid> = users.iter().map(id_of).collect();
    let (query, variables) = entities_query(&ids);
    // warm: the pool's connections exist and are set up
    world.run(&viewer, &query, variables.clone()).await.ok();
    // the fewest of three runs: on a loaded machine a batch window can split once (or a new
    // pooled connection runs its setup statements); a query per user would cost 80
    let mut fewest = u64::MAX;
    let mut answer = None;
    for _ in 0..3 {
        let before = world.deps.db.statements.get();
        answer = Some(world.run(&viewer, &query, variables.clone()).await.ok());
        fewest = fewest.min(world.deps.db.statements.get() - before);
    }
    let answer = answer.expect("answered");
    assert_eq!(fewest, 2, "one for the counters, one for the follow states, for 40 users");
    let followed: Vec<bool> =
        (0..40).map(|i| answer.data(&format!("/_entities/{i}/isFollowedByViewer")).as_bool().expect("bool")).collect();
    assert_eq!(followed, (0..40).map(|i| i % 2 == 0).collect::<Vec<_>>());
    assert_eq!(answer.data("/_entities/0/followerCount"), &json!(1));
    assert_eq!(answer.data("/_entities/1/followerCount"), &json!(0));
}

#[tokio::test]
async fn concurrent_follows_and_unfollows_never_deadlock_and_the_counters_match_the_graph() {
    use rand::{Rng, SeedableRng};
    let world = World::new().await;
    let users: Vec<Viewer> = (0..12).map(|_| user()).collect();
    world.enroll(&users.iter().map(id_of).collect::<Vec<_>>()).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    let operations: Vec<(usize, usize, bool)> = (0..600)
        .map(|_| {
            let a = rng.gen_range(0..users.len());
            let b = (a + rng.gen_range(1..users.len())) % users.len();
            (a, b, rng.gen_bool(0.6))
        })
        .collect();
    let world = &world;
    let users = &users;
    let failures: Vec<String> = futures::stream::iter(operations)
        .map(|(a, b, follow)| async move {
            let query = if follow { FOLLOW } else { UNFOLLOW };
            let answer = world.run(&users[a], query, json!({ "id": id_of(&users[b]).to_string() })).await;
            answer.body.get("errors").map(|errors| errors.to_string())
        })
        .buffer_unordered(8)
        .filter_map(|failure| async move { failure })
        .collect()
        .await;
    assert_eq!(failures, Vec::<String>::new(), "no deadlock, no failure");
    assert_eq!(world.audit().await, []);
    // the counters are those of the graph, and they are not all zero
    let (query, variables) = entities_query(&users.iter().map(id_of).collect::<Vec<_>>());
    let answer = world.run(&admin(), &query, variables).await.ok();
    let followers: i64 = (0..users.len()).map(|i| answer.data(&format!("/_entities/{i}/followerCount")).as_i64().expect("n")).sum();
    let edges = world.texts("SELECT count(*)::text AS v FROM community.user_follows WHERE following").await;
    assert_eq!(followers.to_string(), edges[0]);
    assert!(followers > 0);
}
