//! Review: review-then-post grants points on approval, post-then-review takes them back on
//! rejection; the author sees their pending items, nobody else but admins; the keyword filter
//! refuses blocked words and sends flagged ones to review.

use crate::posts::{CREATE_COMMENT, CREATE_POST, post, table_counts, zone};
use crate::world::{World, admin, id_of, user};
use platform::auth::Viewer;
use serde_json::{Value, json};

const MODES: &str =
    "mutation($zone: ID, $p: ReviewMode, $c: ReviewMode) { setReviewModes(zoneId: $zone, posts: $p, comments: $c) { posts comments } }";
const APPROVE: &str = "mutation($id: ID!) { approvePost(id: $id) { state } }";
const REJECT: &str = "mutation($id: ID!, $reason: String!) { rejectPost(id: $id, reason: $reason) { state } }";
const FAME: &str = "query($zone: ID!) { zoneHallOfFame(zoneId: $zone) { points user { id } } }";

async fn fame(world: &World, zone: &str) -> Vec<(String, i64)> {
    let answer = world.run(&Viewer::Anonymous, FAME, json!({ "zone": zone })).await.ok();
    answer
        .data("/zoneHallOfFame")
        .as_array()
        .expect("list")
        .iter()
        .map(|e| (e["user"]["id"].as_str().expect("id").to_owned(), e["points"].as_i64().expect("points")))
        .collect()
}

fn ids(answer: &Value, pointer: &str) -> Vec<String> {
    answer
        .pointer(pointer)
        .and_then(Value::as_array)
        .map_or_else(Vec::new, |edges| edges.iter().map(|e| e["node"]["id"].as_str().expect("id").to_owned()).collect())
}

#[tokio::test]
async fn review_then_post_grants_points_on_approval_and_post_then_review_takes_them_back() {
    let world = World::new().await;
    let root = admin();
    let (alice, bob, carol) = (user(), user(), user());
    let (held, open) = (zone(&world, &root, "Held").await, zone(&world, &root, "Open").await);
    let set = world.run(&root, MODES, json!({ "zone": held, "p": "REVIEW_THEN_POST", "c": "REVIEW_THEN_POST" })).await.ok();
    assert_eq!(set.data("/setReviewModes"), &json!({ "posts": "REVIEW_THEN_POST", "comments": "REVIEW_THEN_POST" }));
    assert_eq!(world.run(&alice, MODES, json!({ "zone": held, "p": "POST_THEN_REVIEW" })).await.codes(), ["FORBIDDEN"]);

    // review-then-post: pending, invisible, no points, until approved
    let created = world.run(&alice, CREATE_POST, json!({ "input": { "zoneId": held, "body": "wait for it" } })).await.ok();
    let pending = created.data("/createPost/id").as_str().expect("id").to_owned();
    let list = "query($zone: ID) { posts(zoneId: $zone) { edges { node { id } } } }";
    assert_eq!(ids(&world.run(&bob, list, json!({ "zone": held })).await.body, "/data/posts/edges"), Vec::<String>::new());
    assert_eq!(
        world.run(&bob, "query($id: ID!) { post(id: $id) { id } }", json!({ "id": pending })).await.ok().data("/post"),
        &Value::Null
    );
    assert_eq!(fame(&world, &held).await, []);
    let mine = world.run(&alice, "{ myPosts(state: PENDING) { edges { node { id state } } } }", json!({})).await.ok();
    assert_eq!(ids(&mine.body, "/data/myPosts/edges"), std::slice::from_ref(&pending));
    assert_eq!(
        ids(&world.run(&bob, "{ myPosts(state: PENDING) { edges { node { id } } } }", json!({})).await.body, "/data/myPosts/edges"),
        Vec::<String>::new()
    );
    let queue = "{ postsForReview(state: PENDING) { edges { node { id } } } }";
    assert_eq!(world.run(&bob, queue, json!({})).await.codes(), ["FORBIDDEN"]);
    assert_eq!(ids(&world.run(&root, queue, json!({})).await.ok().body, "/data/postsForReview/edges"), std::slice::from_ref(&pending));
    assert_eq!(world.run(&bob, CREATE_COMMENT, json!({ "input": { "postId": pending, "body": "x" } })).await.codes(), ["NOT_FOUND"]);
    assert_eq!(world.run(&root, APPROVE, json!({ "id": pending })).await.ok().data("/approvePost/state"), &json!("PUBLISHED"));
    assert_eq!(fame(&world, &held).await, [(id_of(&alice).to_string(), 10)]);
    // a comment there waits too, and its point comes with its approval
    let c = world.run(&bob, CREATE_COMMENT, json!({ "input": { "postId": pending, "body": "late" } })).await.ok();
    let c = c.data("/createPostComment/id").as_str().expect("id").to_owned();
    assert_eq!(fame(&world, &held).await.len(), 1);
    world.run(&root, "mutation($id: ID!) { approvePostComment(id: $id) { state } }", json!({ "id": c })).await.ok();
    assert_eq!(fame(&world, &held).await.len(), 2);

    // post-then-review (the site default): counted at once, taken back (with its comments) on rejection
    let p = post(&world, &bob, &open, "visible").await;
    world.run(&carol, CREATE_COMMENT, json!({ "input": { "postId": p, "body": "me too" } })).await.ok();
    assert_eq!(fame(&world, &open).await.len(), 2);
    assert_eq!(
        world.run(&root, "mutation($id: ID!) { rejectPost(id: $id, reason: \" \") { state } }", json!({ "id": p })).await.codes(),
        ["BAD_USER_INPUT"]
    );
    assert_eq!(
        world.run(&root, REJECT, json!({ "id": p, "reason": "off topic" })).await.ok().data("/rejectPost/state"),
        &json!("REJECTED")
    );
    assert_eq!(fame(&world, &open).await, []);
    let rejected = world.run(&bob, "{ myPosts(state: REJECTED) { edges { node { id } } } }", json!({})).await.ok();
    assert_eq!(ids(&rejected.body, "/data/myPosts/edges"), std::slice::from_ref(&p));
    world.run(&root, APPROVE, json!({ "id": p })).await.ok();
    assert_eq!(fame(&world, &open).await.len(), 2, "approved after all: the points come back");
    let log = world.run(&root, "{ moderationLog { edges { node { action } } } }", json!({})).await.ok();
    let actions: Vec<&str> =
        log.data("/moderationLog/edges").as_array().expect("edges").iter().map(|e| e["node"]["action"].as_str().expect("a")).collect();
    assert_eq!(actions, ["approve_post", "reject_post", "approve_comment", "approve_post"]);
    assert_eq!(world.audit().await, []);
}

#[tokio::test]
async fn the_keyword_filter_refuses_blocked_words_and_holds_flagged_ones_for_review() {
    let world = World::new().await;
    let root = admin();
    let (alice, bob) = (user(), user());
    let games = zone(&world, &root, "Games").await;
    let p = post(&world, &alice, &games, "clean").await;
    let words = "mutation($b: [String!]!, $f: [String!]!) { setModerationWords(blocked: $b, flagged: $f) }";
    assert_eq!(world.run(&alice, words, json!({ "b": ["scam"], "f": [] })).await.codes(), ["FORBIDDEN"]);
    world.run(&root, words, json!({ "b": [" Scam ", "赌博"], "f": ["casino"] })).await.ok();
    let before = table_counts(&world).await;
    for (mutation, variables) in [
        (CREATE_POST, json!({ "input": { "zoneId": games, "body": "A SCAM for you" } })),
        (CREATE_POST, json!({ "input": { "zoneId": games, "body": "网上赌博" } })),
        (CREATE_COMMENT, json!({ "input": { "postId": p, "body": "scam!" } })),
    ] {
        assert_eq!(world.run(&bob, mutation, variables.clone()).await.codes(), ["BAD_USER_INPUT"], "{variables}");
    }
    assert_eq!(table_counts(&world).await, before, "nothing written");
    let flagged = world
        .run(
            &bob,
            "mutation($input: CreatePostInput!) { createPost(input: $input) { id state } }",
            json!({ "input": { "zoneId": games, "body": "Casino night" } }),
        )
        .await
        .ok();
    assert_eq!(flagged.data("/createPost/state"), &json!("PENDING"), "flagged: held for review although the zone publishes at once");
    let flagged_edit =
        world.run(&alice, "mutation($id: ID!) { editPost(id: $id, input: { body: \"casino\" }) { state } }", json!({ "id": p })).await.ok();
    assert_eq!(flagged_edit.data("/editPost/state"), &json!("PENDING"), "an edit is judged too");
    assert_eq!(fame(&world, &games).await, [], "neither counts until approved");
    assert_eq!(world.audit().await, []);
}
