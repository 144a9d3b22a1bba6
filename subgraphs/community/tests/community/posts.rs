//! Zones, posts, comments, likes and points: exact counters and points through a scripted
//! story, the authorization matrix, bad input, ordering, and a randomized concurrent run
//! after which the recompute check finds nothing.

use crate::world::{World, admin, id_of, user};
use futures::StreamExt;
use platform::auth::Viewer;
use serde_json::{Value, json};

pub const CREATE_ZONE: &str = "mutation($name: String!) { createZone(input: { name: $name }) { id name } }";
pub const CREATE_POST: &str = "mutation($input: CreatePostInput!) { createPost(input: $input) { id likeScore commentCount } }";
pub const CREATE_COMMENT: &str = "mutation($input: CreateCommentInput!) { createPostComment(input: $input) { id threadId quoteId } }";
pub const LIKE_POST: &str = "mutation($id: ID!) { likePost(id: $id) { likeScore liked } }";
const UNLIKE_POST: &str = "mutation($id: ID!) { unlikePost(id: $id) { likeScore liked } }";
const LIKE_COMMENT: &str = "mutation($id: ID!) { likePostComment(id: $id) { likeScore } }";
const UNLIKE_COMMENT: &str = "mutation($id: ID!) { unlikePostComment(id: $id) { likeScore } }";
pub const DELETE_POST: &str = "mutation($id: ID!, $reason: String) { deletePost(id: $id, reason: $reason) }";
const DELETE_COMMENT: &str = "mutation($id: ID!, $reason: String) { deletePostComment(id: $id, reason: $reason) }";
const MOVE_POST: &str = "mutation($id: ID!, $zone: ID!) { movePost(id: $id, zoneId: $zone) { id zone { id } } }";
const EDIT_POST: &str = "mutation($id: ID!, $body: String!) { editPost(id: $id, input: { body: $body }) { body editedAt } }";
const FAME: &str = "query($zone: ID!) { zoneHallOfFame(zoneId: $zone) { rank user { id } points postCount replyCount } }";

fn s(value: &Value) -> String {
    value.as_str().expect("string").to_owned()
}

pub async fn zone(world: &World, admin: &Viewer, name: &str) -> String {
    s(world.run(admin, CREATE_ZONE, json!({ "name": name })).await.ok().data("/createZone/id"))
}

pub async fn post(world: &World, author: &Viewer, zone: &str, body: &str) -> String {
    s(world.run(author, CREATE_POST, json!({ "input": { "zoneId": zone, "body": body } })).await.ok().data("/createPost/id"))
}

async fn comment(world: &World, author: &Viewer, post: &str, reply_to: Option<&str>, quote: Option<&str>) -> String {
    let input = json!({ "postId": post, "replyTo": reply_to, "quote": quote, "body": "nice" });
    s(world.run(author, CREATE_COMMENT, json!({ "input": input })).await.ok().data("/createPostComment/id"))
}

/// (user id, points, posts, replies) of a zone's hall of fame.
async fn fame(world: &World, zone: &str) -> Vec<(String, i64, i64, i64)> {
    let answer = world.run(&Viewer::Anonymous, FAME, json!({ "zone": zone })).await.ok();
    answer
        .data("/zoneHallOfFame")
        .as_array()
        .expect("list")
        .iter()
        .map(|e| {
            let n = |k: &str| e[k].as_i64().expect("number");
            (s(&e["user"]["id"]), n("points"), n("postCount"), n("replyCount"))
        })
        .collect()
}

async fn likes_received(world: &World, viewer: &Viewer) -> i64 {
    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { likesReceived } } }";
    let r = json!({ "r": [{ "__typename": "User", "id": id_of(viewer).to_string() }] });
    world.run(&Viewer::Anonymous, query, r).await.ok().data("/_entities/0/likesReceived").as_i64().expect("n")
}

#[tokio::test]
async fn points_counters_and_likes_follow_posts_comments_likes_moves_and_deletes() {
    let world = World::new().await;
    let root = admin();
    let (alice, bob, carol, dave) = (user(), user(), user(), user());
    let (games, music) = (zone(&world, &root, "Games").await, zone(&world, &root, "Music").await);
    let p = post(&world, &alice, &games, "hello").await;
    assert_eq!(fame(&world, &games).await, [(id_of(&alice).to_string(), 10, 1, 0)]);

    let top = comment(&world, &bob, &p, None, None).await;
    let reply = comment(&world, &carol, &p, Some(&top), None).await;
    // a reply to a reply joins the same thread; a quote of a reply of that thread
    let quoted = world
        .run(&dave, CREATE_COMMENT, json!({ "input": { "postId": p, "replyTo": reply, "quote": reply, "body": "quoting" } }))
        .await
        .ok();
    assert_eq!(quoted.data("/createPostComment/threadId"), &json!(top));
    assert_eq!(quoted.data("/createPostComment/quoteId"), &json!(reply));

    // likes: an admin's weighs 5, a user's 1; unlike takes back exactly that
    assert_eq!(world.run(&root, LIKE_POST, json!({ "id": p })).await.ok().data("/likePost/likeScore"), &json!(5));
    assert_eq!(world.run(&bob, LIKE_POST, json!({ "id": p })).await.ok().data("/likePost/likeScore"), &json!(6));
    assert_eq!(world.run(&bob, LIKE_POST, json!({ "id": p })).await.ok().data("/likePost/likeScore"), &json!(6), "idempotent");
    assert_eq!(likes_received(&world, &alice).await, 6);
    assert_eq!(world.run(&root, UNLIKE_POST, json!({ "id": p })).await.ok().data("/unlikePost/likeScore"), &json!(1));
    assert_eq!(world.run(&root, UNLIKE_POST, json!({ "id": p })).await.ok().data("/unlikePost/likeScore"), &json!(1));
    assert_eq!(likes_received(&world, &alice).await, 1);
    assert_eq!(world.run(&alice, LIKE_COMMENT, json!({ "id": top })).await.ok().data("/likePostComment/likeScore"), &json!(1));
    assert_eq!(likes_received(&world, &bob).await, 1);
    assert_eq!(world.run(&alice, LIKE_POST, json!({ "id": p })).await.codes(), ["BAD_USER_INPUT"], "not one's own");

    let post_state = world
        .run(&Viewer::Anonymous, "query($id: ID!) { post(id: $id) { likeScore commentCount zone { postCount } } }", json!({ "id": p }))
        .await
        .ok();
    assert_eq!(post_state.data("/post"), &json!({ "likeScore": 1, "commentCount": 3, "zone": { "postCount": 1 } }));
    let mut expected = vec![
        (id_of(&alice).to_string(), 10, 1, 0),
        (id_of(&bob).to_string(), 1, 0, 1),
        (id_of(&carol).to_string(), 1, 0, 1),
        (id_of(&dave).to_string(), 1, 0, 1),
    ];
    expected[1..].sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(fame(&world, &games).await, expected);
    assert_eq!(world.audit().await, []);

    // a move takes the post's and its comments' points to the new zone
    let moved = world.run(&root, MOVE_POST, json!({ "id": p, "zone": music })).await.ok();
    assert_eq!(moved.data("/movePost/zone/id"), &json!(music));
    assert_eq!(fame(&world, &games).await, []);
    assert_eq!(fame(&world, &music).await, expected);
    assert_eq!(world.audit().await, []);

    // an admin deletes someone's comment only with a reason; the point goes
    assert_eq!(world.run(&root, DELETE_COMMENT, json!({ "id": reply })).await.codes(), ["BAD_USER_INPUT"]);
    assert_eq!(world.run(&bob, DELETE_COMMENT, json!({ "id": reply, "reason": "mine now" })).await.codes(), ["FORBIDDEN"]);
    world.run(&root, DELETE_COMMENT, json!({ "id": reply, "reason": "off topic" })).await.ok();
    assert_eq!(world.run(&carol, DELETE_COMMENT, json!({ "id": reply })).await.codes(), ["NOT_FOUND"], "deleted already");
    let carol_left: Vec<_> = fame(&world, &music).await.into_iter().filter(|entry| entry.0 == id_of(&carol).to_string()).collect();
    assert_eq!(carol_left, [], "carol's only point is gone");
    assert_eq!(world.audit().await, []);

    // the author deletes the post: its points and its comments' points go
    world.run(&alice, DELETE_POST, json!({ "id": p })).await.ok();
    assert_eq!(fame(&world, &music).await, []);
    assert_eq!(
        world.run(&Viewer::Anonymous, "query($id: ID!) { post(id: $id) { id } }", json!({ "id": p })).await.ok().data("/post"),
        &Value::Null
    );
    // a like received stays received
    assert_eq!(likes_received(&world, &alice).await, 1);
    assert_eq!(world.audit().await, []);
}

#[tokio::test]
async fn every_mutation_answers_the_authorization_matrix() {
    let world = World::new().await;
    let root = admin();
    let (author, other) = (user(), user());
    let games = zone(&world, &root, "Games").await;
    let music = zone(&world, &root, "Music").await;
    let p = post(&world, &author, &games, "mine").await;
    let c = comment(&world, &author, &p, None, None).await;
    let anonymous = Viewer::Anonymous;

    let every: Vec<(&str, Value)> = vec![
        (CREATE_ZONE, json!({ "name": "Anon" })),
        ("mutation($id: ID!) { updateZone(id: $id, input: { name: \"X\" }) { id } }", json!({ "id": games })),
        ("mutation($id: ID!) { followZone(zoneId: $id) { id } }", json!({ "id": games })),
        ("mutation($id: ID!) { unfollowZone(zoneId: $id) { id } }", json!({ "id": games })),
        (CREATE_POST, json!({ "input": { "zoneId": games, "body": "x" } })),
        (EDIT_POST, json!({ "id": p, "body": "x" })),
        (DELETE_POST, json!({ "id": p, "reason": "x" })),
        (MOVE_POST, json!({ "id": p, "zone": music })),
        (CREATE_COMMENT, json!({ "input": { "postId": p, "body": "x" } })),
        (DELETE_COMMENT, json!({ "id": c, "reason": "x" })),
        (LIKE_POST, json!({ "id": p })),
        (UNLIKE_POST, json!({ "id": p })),
        (LIKE_COMMENT, json!({ "id": c })),
        (UNLIKE_COMMENT, json!({ "id": c })),
        ("mutation($id: ID!) { followUser(userId: $id) { changed } }", json!({ "id": id_of(&author).to_string() })),
        ("mutation($id: ID!) { unfollowUser(userId: $id) { changed } }", json!({ "id": id_of(&author).to_string() })),
    ];
    for (mutation, variables) in &every {
        assert_eq!(world.run(&anonymous, mutation, variables.clone()).await.codes(), ["UNAUTHENTICATED"], "{mutation}");
    }
    // another user: not an admin, not the author
    for (mutation, variables) in [&every[0], &every[1], &every[5], &every[6], &every[7], &every[9]] {
        assert_eq!(world.run(&other, mutation, variables.clone()).await.codes(), ["FORBIDDEN"], "{mutation}");
    }
    // an admin moderates but does not write in the author's name
    assert_eq!(world.run(&root, EDIT_POST, json!({ "id": p, "body": "admin was here" })).await.codes(), ["FORBIDDEN"]);
    assert_eq!(world.run(&root, DELETE_POST, json!({ "id": p })).await.codes(), ["BAD_USER_INPUT"], "an admin gives a reason");
    // the author edits, and deletes without a reason; an admin moves
    let edited = world.run(&author, EDIT_POST, json!({ "id": p, "body": " better " })).await.ok();
    assert_eq!(edited.data("/editPost/body"), &json!("better"));
    world.run(&root, MOVE_POST, json!({ "id": p, "zone": music })).await.ok();
    world.run(&other, LIKE_POST, json!({ "id": p })).await.ok();
    world.run(&author, DELETE_COMMENT, json!({ "id": c })).await.ok();
    world.run(&author, DELETE_POST, json!({ "id": p })).await.ok();
    assert_eq!(world.run(&other, LIKE_POST, json!({ "id": p })).await.codes(), ["NOT_FOUND"], "deleted");
    assert_eq!(
        world.run(&other, UNLIKE_POST, json!({ "id": p })).await.ok().data("/unlikePost/likeScore"),
        &json!(0),
        "an unlike still reverses"
    );
    assert_eq!(world.audit().await, []);
}

/// Row counts of every content table, to prove a refused request wrote nothing.
pub async fn table_counts(world: &World) -> Vec<String> {
    world
        .texts(
            "SELECT concat_ws(',', (SELECT count(*) FROM community.posts), (SELECT count(*) FROM community.comments), \
             (SELECT count(*) FROM community.likes), (SELECT coalesce(sum(points), 0) FROM community.zone_points), \
             (SELECT count(*) FROM community.user_follows), (SELECT count(*) FROM community.outbox), \
             (SELECT sum(post_count) FROM community.zones)) AS v",
        )
        .await
}

#[tokio::test]
async fn bad_input_is_a_coded_error_and_writes_nothing() {
    let world = World::new().await;
    let root = admin();
    let (alice, bob) = (user(), user());
    let games = zone(&world, &root, "Games").await;
    let p = post(&world, &alice, &games, "hello").await;
    let other_post = post(&world, &alice, &games, "other").await;
    let top = comment(&world, &bob, &p, None, None).await;
    let other_top = comment(&world, &bob, &p, None, None).await;
    let other_thread_reply = comment(&world, &bob, &p, Some(&other_top), None).await;
    let gone = comment(&world, &bob, &p, None, None).await;
    world.run(&bob, DELETE_COMMENT, json!({ "id": gone })).await.ok();
    let before = table_counts(&world).await;

    let oversized = "字".repeat(5001);
    let cases: Vec<(&str, Value, &str)> = vec![
        (CREATE_POST, json!({ "input": { "zoneId": games, "body": "   " } }), "BAD_USER_INPUT"),
        (CREATE_POST, json!({ "input": { "zoneId": games, "body": oversized } }), "BAD_USER_INPUT"),
        (CREATE_POST, json!({ "input": { "zoneId": games, "body": "x", "imageUrls": ["javascript:alert(1)"] } }), "BAD_USER_INPUT"),
        (CREATE_POST, json!({ "input": { "zoneId": uuid::Uuid::now_v7().to_string(), "body": "x" } }), "NOT_FOUND"),
        (CREATE_POST, json!({ "input": { "zoneId": "not-an-id", "body": "x" } }), "BAD_USER_INPUT"),
        (CREATE_COMMENT, json!({ "input": { "postId": p, "replyTo": gone, "body": "x" } }), "NOT_FOUND"),
        (CREATE_COMMENT, json!({ "input": { "postId": p, "replyTo": top, "quote": other_thread_reply, "body": "x" } }), "BAD_USER_INPUT"),
        (CREATE_COMMENT, json!({ "input": { "postId": other_post, "replyTo": top, "body": "x" } }), "BAD_USER_INPUT"),
        (CREATE_COMMENT, json!({ "input": { "postId": p, "quote": top, "body": "x" } }), "BAD_USER_INPUT"),
        (CREATE_COMMENT, json!({ "input": { "postId": p, "body": "" } }), "BAD_USER_INPUT"),
        (CREATE_COMMENT, json!({ "input": { "postId": uuid::Uuid::now_v7().to_string(), "body": "x" } }), "NOT_FOUND"),
        ("mutation($id: ID!) { followUser(userId: $id) { changed } }", json!({ "id": id_of(&bob).to_string() }), "BAD_USER_INPUT"),
        (LIKE_COMMENT, json!({ "id": top }), "BAD_USER_INPUT"),
        (CREATE_ZONE, json!({ "name": "games" }), "CONFLICT"),
        (CREATE_ZONE, json!({ "name": "" }), "BAD_USER_INPUT"),
    ];
    for (mutation, variables, code) in cases {
        let by = if mutation == CREATE_ZONE { &root } else { &bob };
        assert_eq!(world.run(by, mutation, variables.clone()).await.codes(), [code], "{mutation} {variables}");
    }
    assert_eq!(table_counts(&world).await, before, "nothing written");
    let page = "query($after: String) { posts(first: 1, after: $after) { edges { cursor } } }";
    assert_eq!(world.run(&bob, page, json!({ "after": "garbage" })).await.codes(), ["BAD_USER_INPUT"]);
    assert_eq!(world.audit().await, []);
}

#[tokio::test]
async fn posts_page_newest_or_hottest_without_overlap() {
    let world = World::new().await;
    let root = admin();
    let games = zone(&world, &root, "Games").await;
    let authors: Vec<Viewer> = (0..5).map(|_| user()).collect();
    let mut ids = Vec::new();
    for (i, author) in authors.iter().enumerate() {
        ids.push(post(&world, author, &games, &format!("post {i}")).await);
    }
    // post 2 gets an admin like (5), post 4 a user like (1)
    world.run(&root, LIKE_POST, json!({ "id": ids[2] })).await.ok();
    world.run(&authors[0], LIKE_POST, json!({ "id": ids[4] })).await.ok();
    let walk = async |order: &str| {
        let query = format!(
            "query($zone: ID, $after: String) {{ posts(zoneId: $zone, order: {order}, first: 2, after: $after) {{ \
             edges {{ node {{ id author {{ id }} likedByViewer }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
        );
        let (mut seen, mut after) = (Vec::new(), Value::Null);
        loop {
            let answer = world.run(&authors[0], &query, json!({ "zone": games, "after": after })).await.ok();
            seen.extend(answer.data("/posts/edges").as_array().expect("edges").iter().map(|e| s(&e["node"]["id"])));
            if answer.data("/posts/pageInfo/hasNextPage") != &json!(true) {
                return seen;
            }
            after = answer.data("/posts/pageInfo/endCursor").clone();
        }
    };
    let mut newest = ids.clone();
    newest.sort_by(|a, b| b.cmp(a)); // the manual clock stood still: ties by id, newest id first
    assert_eq!(walk("NEWEST").await, newest);
    let hottest = walk("HOTTEST").await;
    assert_eq!(hottest[..2], [ids[2].clone(), ids[4].clone()]);
    assert_eq!(hottest.len(), 5);
}

#[tokio::test]
async fn a_randomized_concurrent_run_of_a_thousand_operations_leaves_every_counter_right() {
    use rand::{Rng, SeedableRng};
    let world = World::new().await;
    let root = admin();
    let users: Vec<Viewer> = (0..8).map(|_| user()).chain((0..2).map(|_| admin())).collect();
    let zones = [zone(&world, &root, "A").await, zone(&world, &root, "B").await, zone(&world, &root, "C").await];
    // a base of posts and comments the operations work on
    let mut posts = Vec::new();
    for (i, author) in users.iter().enumerate() {
        posts.push(post(&world, author, &zones[i % 3], "base").await);
    }
    let mut comments = Vec::new();
    for (i, author) in users.iter().enumerate() {
        comments.push(comment(&world, author, &posts[(i + 1) % posts.len()], None, None).await);
    }
    // from now on zone C holds new posts and comments back for review: approvals grant points,
    // rejections take them back
    let modes = "mutation($zone: ID) { setReviewModes(zoneId: $zone, posts: REVIEW_THEN_POST, comments: REVIEW_THEN_POST) { posts } }";
    world.run(&root, modes, json!({ "zone": zones[2] })).await.ok();
    let (world, users, zones, posts, comments) = (&world, &users, &zones, &posts, &comments);
    let mut rng = rand::rngs::StdRng::seed_from_u64(1009);
    let operations: Vec<(usize, u32, usize, usize)> =
        (0..1000).map(|_| (rng.gen_range(0..users.len()), rng.gen_range(0..14), rng.gen_range(0..1000), rng.gen_range(0..1000))).collect();
    let outcomes: Vec<Vec<String>> = futures::stream::iter(operations)
        .map(|(who, kind, a, b)| async move {
            let actor = &users[who];
            let post = &posts[a % posts.len()];
            let comment = &comments[b % comments.len()];
            let (query, variables) = match kind {
                0 => (CREATE_POST, json!({ "input": { "zoneId": zones[a % 3], "body": "more" } })),
                1 => (CREATE_COMMENT, json!({ "input": { "postId": post, "body": "c" } })),
                2 => (CREATE_COMMENT, json!({ "input": { "postId": post, "replyTo": comment, "body": "r" } })),
                3 => (LIKE_POST, json!({ "id": post })),
                4 => (UNLIKE_POST, json!({ "id": post })),
                5 => (LIKE_COMMENT, json!({ "id": comment })),
                6 => (UNLIKE_COMMENT, json!({ "id": comment })),
                7 => (MOVE_POST, json!({ "id": post, "zone": zones[b % 3] })),
                8 => (DELETE_COMMENT, json!({ "id": comment, "reason": "random" })),
                9 => (DELETE_POST, json!({ "id": post, "reason": "random" })),
                10 => ("mutation($id: ID!) { approvePost(id: $id) { id } }", json!({ "id": post })),
                11 => ("mutation($id: ID!) { rejectPost(id: $id, reason: \"random\") { id } }", json!({ "id": post })),
                12 => ("mutation($id: ID!) { approvePostComment(id: $id) { id } }", json!({ "id": comment })),
                _ => ("mutation($id: ID!) { rejectPostComment(id: $id, reason: \"random\") { id } }", json!({ "id": comment })),
            };
            // deletes are rarer: only one in four attempts is sent
            if (kind == 8 || kind == 9) && a % 4 != 0 {
                return Vec::new();
            }
            world.run(actor, query, variables).await.codes()
        })
        .buffer_unordered(8)
        .collect()
        .await;
    // refusals the rules make (not the author, not an admin, deleted, own item) are fine;
    // anything else (a deadlock, an internal error) is not
    let allowed = ["FORBIDDEN", "NOT_FOUND", "BAD_USER_INPUT"];
    let unexpected: Vec<&String> = outcomes.iter().flatten().filter(|code| !allowed.contains(&code.as_str())).collect();
    assert_eq!(unexpected, Vec::<&String>::new());
    let succeeded = outcomes.iter().filter(|codes| codes.is_empty()).count();
    assert!(succeeded > 300, "{succeeded} operations succeeded");
    assert_eq!(world.audit().await, []);
}

#[tokio::test]
async fn the_recompute_check_reports_each_tampered_counter() {
    let world = World::new().await;
    let root = admin();
    let alice = user();
    let games = zone(&world, &root, "Games").await;
    let p = post(&world, &alice, &games, "hello").await;
    world.run(&root, LIKE_POST, json!({ "id": p })).await.ok();
    assert_eq!(world.audit().await, []);
    let mut conn = world.deps.db.pool.get().await.expect("connection");
    use diesel_async::SimpleAsyncConnection;
    conn.batch_execute(
        "UPDATE community.user_stats SET likes_received = likes_received + 1; \
         UPDATE community.zone_points SET points = points - 3; \
         UPDATE community.posts SET comment_count = 7;",
    )
    .await
    .expect("tamper");
    let found: Vec<(String, i64, i64)> = world.audit().await.into_iter().map(|d| (d.counter, d.stored, d.actual)).collect();
    assert_eq!(found, [("likes_received".into(), 6, 5), ("post.comment_count".into(), 7, 0), ("zone_points.points".into(), 7, 10)]);
}

#[tokio::test]
async fn at_most_four_pinned_posts_lead_a_zone_even_when_admins_pin_at_once() {
    let world = World::new().await;
    let (root, other_admin) = (admin(), admin());
    let alice = user();
    let (games, music) = (zone(&world, &root, "Games").await, zone(&world, &root, "Music").await);
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(post(&world, &alice, &games, &format!("post {i}")).await);
    }
    let pin = "mutation($id: ID!) { pinPost(id: $id) { pinnedAt } }";
    for id in &ids[..3] {
        world.run(&root, pin, json!({ "id": id })).await.ok();
    }
    assert_eq!(world.run(&alice, pin, json!({ "id": ids[3] })).await.codes(), ["FORBIDDEN"]);
    // two admins race for the last place: exactly one gets it
    let (a, b) = tokio::join!(world.run(&root, pin, json!({ "id": ids[3] })), world.run(&other_admin, pin, json!({ "id": ids[4] })));
    let mut codes = [a.codes(), b.codes()];
    codes.sort();
    assert_eq!(codes, [vec![], vec!["CONFLICT".to_owned()]]);
    let pinned_now: Vec<String> = world.texts("SELECT id::text AS v FROM community.posts WHERE pinned_at IS NOT NULL").await;
    assert_eq!(pinned_now.len(), 4);

    let list = "query($zone: ID, $after: String) { posts(zoneId: $zone, first: 2, after: $after) { \
        pinned { id } edges { node { id } } pageInfo { endCursor } } }";
    let first = world.run(&alice, list, json!({ "zone": games, "after": null })).await.ok();
    let pinned: Vec<String> = first.data("/posts/pinned").as_array().expect("pinned").iter().map(|p| s(&p["id"])).collect();
    let mut expected_pins = pinned_now.clone();
    expected_pins.sort();
    let mut sorted = pinned.clone();
    sorted.sort();
    assert_eq!(sorted, expected_pins);
    let edges: Vec<String> = first.data("/posts/edges").as_array().expect("edges").iter().map(|e| s(&e["node"]["id"])).collect();
    assert!(edges.iter().all(|id| !pinned.contains(id)), "a pinned post is not repeated among the edges");
    let second = world.run(&alice, list, json!({ "zone": games, "after": first.data("/posts/pageInfo/endCursor") })).await.ok();
    assert_eq!(second.data("/posts/pinned"), &json!([]));

    // unpinning frees a place; a moved post leaves its pin behind
    world.run(&root, "mutation($id: ID!) { unpinPost(id: $id) { pinnedAt } }", json!({ "id": pinned[0] })).await.ok();
    let free = ids.iter().find(|id| !pinned_now.contains(id)).expect("an unpinned post");
    world.run(&root, pin, json!({ "id": free })).await.ok();
    let moved = world
        .run(
            &root,
            "mutation($id: ID!, $zone: ID!) { movePost(id: $id, zoneId: $zone) { pinnedAt } }",
            json!({ "id": free, "zone": music }),
        )
        .await
        .ok();
    assert_eq!(moved.data("/movePost/pinnedAt"), &Value::Null);
    assert_eq!(world.audit().await, []);
}

#[tokio::test]
async fn a_flood_of_posts_is_rate_limited_and_writes_nothing_more() {
    let world = World::new().await;
    let root = admin();
    let spammer = user();
    let games = zone(&world, &root, "Games").await;
    for i in 0..30 {
        post(&world, &spammer, &games, &format!("spam {i}")).await;
    }
    let before = table_counts(&world).await;
    let refused = world.run(&spammer, CREATE_POST, json!({ "input": { "zoneId": games, "body": "one more" } })).await;
    assert_eq!(refused.codes(), ["RATE_LIMITED"]);
    assert_eq!(table_counts(&world).await, before);
    // another user is not affected
    post(&world, &user(), &games, "hello").await;
}
