//! Comments on videos through the router: posting rules, threads and their pages, likes,
//! deletion rights, the video's counters and stat events, and the cost of a page.

use crate::harness::{Platform, Reply};
use content::store::comments;
use platform::events::{STAT_EVENT_KIND, StatAction, StatEvent};
use serde_json::{Value, json};
use std::collections::HashSet;

const POST: &str = "mutation($input: PostCommentInput!) { postComment(input: $input) { id body rootId replyToId replyCount likeCount viewerHasLiked author { username } video { id } } }";
const DELETE: &str = "mutation($id: ID!) { deleteComment(id: $id) }";
const LIKE: &str = "mutation($id: ID!) { likeComment(id: $id) { id likeCount viewerHasLiked } }";
const UNLIKE: &str = "mutation($id: ID!) { unlikeComment(id: $id) { id likeCount viewerHasLiked } }";
const PAGE: &str = "query($video: ID!, $first: Int, $after: String, $order: CommentOrder) { comments(videoId: $video, first: $first, after: $after, order: $order) { edges { cursor node { id body likeCount replyCount viewerHasLiked author { username } replyPreview { id body rootId replyToId author { username } } } } pageInfo { hasNextPage hasPreviousPage endCursor } } }";
const REPLIES: &str = "query($id: ID!, $first: Int, $after: String) { commentReplies(commentId: $id, first: $first, after: $after) { edges { node { id body rootId replyToId } } pageInfo { hasNextPage endCursor } } }";

fn assert_code(reply: &Reply, code: &str) {
    assert!(reply.status < 500, "status {} for {}", reply.status, reply.body);
    assert_eq!(reply.codes(), [code], "{}", reply.body);
}

async fn post(platform: &Platform, token: &str, video: &str, body: &str, reply_to: Option<&str>) -> Reply {
    platform.gql(POST, json!({ "input": { "videoId": video, "body": body, "replyTo": reply_to } }), Some(token)).await
}

/// Posts and returns the new comment's id.
async fn post_ok(platform: &Platform, token: &str, video: &str, body: &str, reply_to: Option<&str>) -> String {
    let reply = post(platform, token, video, body, reply_to).await.ok();
    reply.data("/postComment/id").as_str().expect("comment id").to_owned()
}

/// Every page of a comment list in `order`, `first` at a time; returns the node lists.
async fn all_pages(platform: &Platform, token: Option<&str>, video: &str, order: &str, first: i32) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let reply = platform.gql(PAGE, json!({ "video": video, "first": first, "after": after, "order": order }), token).await.ok();
        let nodes: Vec<Value> = reply.data("/comments/edges").as_array().expect("edges").iter().map(|e| e["node"].clone()).collect();
        assert_eq!(reply.data("/comments/pageInfo/hasPreviousPage"), &json!(after.is_some()));
        pages.push(nodes);
        if reply.data("/comments/pageInfo/hasNextPage") != &json!(true) {
            return pages;
        }
        after = Some(reply.data("/comments/pageInfo/endCursor").as_str().expect("cursor").to_owned());
    }
}

fn ids(nodes: &[Value]) -> Vec<String> {
    nodes.iter().map(|node| node["id"].as_str().expect("id").to_owned()).collect()
}

/// `content.video_stats.(comments, danmaku)` of a video, read with SQL.
pub(crate) async fn stat_counts(platform: &Platform, video: &str) -> (i64, i64) {
    let db = platform.db();
    let mut conn = db.pool.get().await.expect("connection");
    let stats = content::store::stats::find_many(&mut conn, &[video.parse().expect("video id")]).await.expect("stats");
    let stat = stats.into_iter().next().expect("stat row");
    (stat.comments, stat.danmaku)
}

/// The first `count` stat events on JetStream (each test has its own stream), decoded.
pub(crate) async fn stat_events(platform: &Platform, count: usize) -> Vec<StatEvent> {
    let events = platform.content_events(STAT_EVENT_KIND, count).await;
    events.into_iter().map(|event| serde_json::from_value(event).expect("stat event")).collect()
}

#[tokio::test]
async fn posting_needs_a_session_a_valid_body_a_published_video_and_a_reply_target_of_that_video() {
    let platform = Platform::start().await;
    let (ada, token, _) = platform.register("ada").await;
    let video = platform.insert_video(&ada, "first").await;
    let other_video = platform.insert_video(&ada, "second").await;

    let anonymous = platform.gql(POST, json!({ "input": { "videoId": video, "body": "hi" } }), None).await;
    assert_code(&anonymous, "UNAUTHENTICATED");
    assert_code(&post(&platform, &token, &video, "   ", None).await, "BAD_USER_INPUT");
    assert_code(&post(&platform, &token, &video, &"a".repeat(1001), None).await, "BAD_USER_INPUT");
    assert_code(&post(&platform, &token, &uuid::Uuid::now_v7().to_string(), "hi", None).await, "NOT_FOUND");
    assert_code(&post(&platform, &token, "not-an-id", "hi", None).await, "BAD_USER_INPUT");

    let longest = post(&platform, &token, &video, &format!("  {}  ", "a".repeat(1000)), None).await.ok();
    assert_eq!(longest.data("/postComment/body").as_str().map(str::len), Some(1000), "the body is trimmed");
    assert_eq!(longest.data("/postComment/author/username"), &json!("ada"));
    assert_eq!(longest.data("/postComment/video/id"), &json!(video));
    assert_eq!(longest.data("/postComment/rootId"), &json!(null));
    assert_eq!(longest.data("/postComment/viewerHasLiked"), &json!(false));

    let elsewhere = post_ok(&platform, &token, &other_video, "on the other video", None).await;
    assert_code(&post(&platform, &token, &video, "wrong thread", Some(&elsewhere)).await, "BAD_USER_INPUT");
    assert_code(&post(&platform, &token, &video, "no such thread", Some(&uuid::Uuid::now_v7().to_string())).await, "BAD_USER_INPUT");

    // Nothing half-written: only the two successful posts counted.
    assert_eq!(stat_counts(&platform, &video).await, (1, 0));
    assert_eq!(stat_counts(&platform, &other_video).await, (1, 0));
}

#[tokio::test]
async fn threads_are_two_levels_and_pages_continue_without_duplicates_in_both_orders() {
    let platform = Platform::start().await;
    let (owner, _, _) = platform.register("owner").await;
    let video = platform.insert_video(&owner, "talk").await;
    let fans = platform.users("fan", 7).await;
    let token = &fans[0].1;

    // Seven roots, newest last; root 0 gets a thread of four replies, one answering a reply.
    let mut roots = Vec::new();
    for n in 0..7 {
        roots.push(post_ok(&platform, token, &video, &format!("root {n}"), None).await);
    }
    let first_reply = post_ok(&platform, token, &video, "reply 1", Some(&roots[0])).await;
    let nested = post(&platform, token, &video, "reply 2 (to reply 1)", Some(&first_reply)).await.ok();
    assert_eq!(nested.data("/postComment/rootId"), &json!(roots[0]), "a reply to a reply joins the root's thread");
    assert_eq!(nested.data("/postComment/replyToId"), &json!(first_reply));
    let mut replies = vec![first_reply, nested.data("/postComment/id").as_str().expect("id").to_owned()];
    for n in 3..=4 {
        replies.push(post_ok(&platform, token, &video, &format!("reply {n}"), Some(&roots[0])).await);
    }

    // Likes make the hottest order differ from the newest: root n gets likes from fans 0..n%4.
    for (n, root) in roots.iter().enumerate() {
        for (_, fan) in fans.iter().take(n % 4) {
            platform.gql(LIKE, json!({ "id": root }), Some(fan)).await.ok();
        }
    }

    let newest = all_pages(&platform, Some(token), &video, "NEWEST", 3).await;
    assert_eq!(newest.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 1]);
    let newest_ids: Vec<String> = newest.iter().flat_map(|page| ids(page)).collect();
    let expected: Vec<String> = roots.iter().rev().cloned().collect();
    assert_eq!(newest_ids, expected, "roots only, newest first, no duplicates");

    let hottest = all_pages(&platform, None, &video, "HOTTEST", 2).await;
    let hottest_nodes: Vec<&Value> = hottest.iter().flatten().collect();
    let hottest_ids: Vec<String> = hottest_nodes.iter().map(|n| n["id"].as_str().expect("id").to_owned()).collect();
    assert_eq!(hottest_ids.iter().collect::<HashSet<_>>().len(), 7, "every root once: {hottest_ids:?}");
    let mut expected: Vec<(i64, String)> = roots.iter().enumerate().map(|(n, id)| ((n % 4) as i64, id.clone())).collect();
    expected.sort_by(|a, b| b.cmp(a)); // like count desc, then id desc (ids are time-ordered)
    assert_eq!(hottest_ids, expected.iter().map(|(_, id)| id.clone()).collect::<Vec<_>>());
    assert!(hottest_nodes.iter().all(|n| n["viewerHasLiked"] == json!(false)), "anonymous viewers liked nothing");

    // The thread root shows its count and its first three replies, oldest first.
    let root0 = newest.iter().flatten().find(|n| n["id"] == json!(roots[0])).expect("root 0");
    assert_eq!(root0["replyCount"], json!(4));
    assert_eq!(ids(root0["replyPreview"].as_array().expect("preview")), replies[..3].to_vec());
    assert_eq!(root0["replyPreview"][1]["replyToId"], json!(replies[0]));
    assert_eq!(root0["replyPreview"][0]["author"]["username"], json!("fan0"));
    let root1 = newest.iter().flatten().find(|n| n["id"] == json!(roots[1])).expect("root 1");
    assert_eq!(root1["replyPreview"], json!([]));
    assert_eq!(root1["viewerHasLiked"], json!(true), "fan 0 liked root 1");

    // All replies, two at a time.
    let page1 = platform.gql(REPLIES, json!({ "id": roots[0], "first": 2 }), None).await.ok();
    let cursor = page1.data("/commentReplies/pageInfo/endCursor").as_str().expect("cursor").to_owned();
    let page2 = platform.gql(REPLIES, json!({ "id": roots[0], "first": 2, "after": cursor }), None).await.ok();
    let listed: Vec<String> = [&page1, &page2]
        .iter()
        .flat_map(|page| {
            page.data("/commentReplies/edges").as_array().expect("edges").iter().map(|e| e["node"]["id"].as_str().expect("id").to_owned())
        })
        .collect();
    assert_eq!(listed, replies);
    assert_eq!(page2.data("/commentReplies/pageInfo/hasNextPage"), &json!(false));

    // Bad page sizes and foreign cursors.
    for first in [0, 101] {
        assert_code(&platform.gql(PAGE, json!({ "video": video, "first": first }), None).await, "BAD_USER_INPUT");
    }
    let newest_cursor = platform.gql(PAGE, json!({ "video": video, "first": 1 }), None).await.ok();
    let newest_cursor = newest_cursor.data("/comments/pageInfo/endCursor").as_str().expect("cursor").to_owned();
    let mixed = platform.gql(PAGE, json!({ "video": video, "first": 1, "after": newest_cursor, "order": "HOTTEST" }), None).await;
    assert_code(&mixed, "BAD_USER_INPUT");
    assert_code(&platform.gql(PAGE, json!({ "video": video, "after": "garbage" }), None).await, "BAD_USER_INPUT");
    assert_code(&platform.gql(PAGE, json!({ "video": uuid::Uuid::now_v7() }), None).await, "NOT_FOUND");
}

#[tokio::test]
async fn a_like_counts_once_per_user_even_when_concurrent_and_unlike_withdraws_it() {
    let platform = Platform::start().await;
    let (ada, ada_token, _) = platform.register("ada").await;
    let video = platform.insert_video(&ada, "clip").await;
    let comment = post_ok(&platform, &ada_token, &video, "like me", None).await;

    let once = platform.gql(LIKE, json!({ "id": comment }), Some(&ada_token)).await.ok();
    assert_eq!(once.data("/likeComment"), &json!({ "id": comment, "likeCount": 1, "viewerHasLiked": true }));
    let twice = platform.gql(LIKE, json!({ "id": comment }), Some(&ada_token)).await.ok();
    assert_eq!(twice.data("/likeComment/likeCount"), &json!(1));

    // Twenty users, each liking five times at once: exactly twenty likes.
    let fans = platform.users("fan", 20).await;
    let likes = fans
        .iter()
        .flat_map(|(_, token)| (0..5).map(move |_| token))
        .map(|token| platform.gql(LIKE, json!({ "id": comment }), Some(token)));
    for reply in futures::future::join_all(likes).await {
        reply.ok();
    }
    let page = platform.gql(PAGE, json!({ "video": video }), Some(&fans[0].1)).await.ok();
    assert_eq!(page.data("/comments/edges/0/node/likeCount"), &json!(21));
    assert_eq!(page.data("/comments/edges/0/node/viewerHasLiked"), &json!(true));

    let unliked = platform.gql(UNLIKE, json!({ "id": comment }), Some(&ada_token)).await.ok();
    assert_eq!(unliked.data("/unlikeComment"), &json!({ "id": comment, "likeCount": 20, "viewerHasLiked": false }));
    let again = platform.gql(UNLIKE, json!({ "id": comment }), Some(&ada_token)).await.ok();
    assert_eq!(again.data("/unlikeComment/likeCount"), &json!(20), "unliking twice withdraws once");

    assert_code(&platform.gql(LIKE, json!({ "id": comment }), None).await, "UNAUTHENTICATED");
    assert_code(&platform.gql(LIKE, json!({ "id": uuid::Uuid::now_v7() }), Some(&ada_token)).await, "NOT_FOUND");
}

#[tokio::test]
async fn only_the_author_the_video_owner_or_an_admin_deletes_and_counters_and_events_follow() {
    let platform = Platform::start().await;
    let (owner, owner_token, _) = platform.register("owner").await;
    let (_, alice_token, _) = platform.register("alice").await;
    let (_, bob_token, _) = platform.register("bob").await;
    let (_, admin_token) = platform.admin("root").await;
    let video = platform.insert_video(&owner, "debate").await;

    let root = post_ok(&platform, &alice_token, &video, "thread", None).await;
    let reply_a = post_ok(&platform, &bob_token, &video, "first answer", Some(&root)).await;
    let _reply_b = post_ok(&platform, &bob_token, &video, "second answer", Some(&root)).await;
    let reply_c = post_ok(&platform, &alice_token, &video, "third answer", Some(&reply_a)).await;
    let lone = post_ok(&platform, &bob_token, &video, "standalone", None).await;
    let own = post_ok(&platform, &alice_token, &video, "I will regret this", None).await;
    assert_eq!(stat_counts(&platform, &video).await, (6, 0));

    assert_code(&platform.gql(DELETE, json!({ "id": lone }), Some(&alice_token)).await, "FORBIDDEN");
    assert_code(&platform.gql(DELETE, json!({ "id": lone }), None).await, "UNAUTHENTICATED");
    assert_code(&platform.gql(DELETE, json!({ "id": uuid::Uuid::now_v7() }), Some(&admin_token)).await, "NOT_FOUND");

    // The author deletes their own comment.
    assert_eq!(platform.gql(DELETE, json!({ "id": own }), Some(&alice_token)).await.ok().data("/deleteComment"), &json!(true));
    // The video's owner deletes someone's reply: the root's reply count follows.
    assert_eq!(platform.gql(DELETE, json!({ "id": reply_c }), Some(&owner_token)).await.ok().data("/deleteComment"), &json!(true));
    assert_eq!(stat_counts(&platform, &video).await, (4, 0));
    let thread = platform.gql(PAGE, json!({ "video": video }), None).await.ok();
    let root_node =
        thread.data("/comments/edges").as_array().expect("edges").iter().find(|e| e["node"]["id"] == json!(root)).expect("root");
    assert_eq!(root_node["node"]["replyCount"], json!(2));
    assert_eq!(root_node["node"]["replyPreview"].as_array().map(Vec::len), Some(2));

    // An admin deletes the root: its two live replies go with it.
    assert_eq!(platform.gql(DELETE, json!({ "id": root }), Some(&admin_token)).await.ok().data("/deleteComment"), &json!(true));
    assert_eq!(stat_counts(&platform, &video).await, (1, 0));
    // Deleting again is not an error, and changes nothing.
    assert_eq!(platform.gql(DELETE, json!({ "id": root }), Some(&admin_token)).await.ok().data("/deleteComment"), &json!(false));
    assert_eq!(platform.gql(DELETE, json!({ "id": reply_a }), Some(&bob_token)).await.ok().data("/deleteComment"), &json!(false));
    assert_eq!(stat_counts(&platform, &video).await, (1, 0));

    let left = platform.gql(PAGE, json!({ "video": video }), None).await.ok();
    let left: Vec<String> =
        left.data("/comments/edges").as_array().expect("edges").iter().map(|e| e["node"]["id"].as_str().expect("id").to_owned()).collect();
    assert_eq!(left, [lone]);
    assert_code(&platform.gql(REPLIES, json!({ "id": root }), None).await, "NOT_FOUND");
    assert_code(&post(&platform, &bob_token, &video, "too late", Some(&reply_a)).await, "BAD_USER_INPUT");
    assert_code(&platform.gql(LIKE, json!({ "id": root }), Some(&bob_token)).await, "NOT_FOUND");

    // Six posts, then deletions of 1, 1 and 3 live comments, as stat events on JetStream.
    let events = stat_events(&platform, 9).await;
    assert!(events.iter().all(|e| e.video_id.to_string() == video));
    let summary: Vec<(StatAction, i64)> = events.iter().map(|e| (e.action, e.delta.comments)).collect();
    let mut expected = vec![(StatAction::Comment, 1); 6];
    expected.extend([(StatAction::CommentDeleted, -1), (StatAction::CommentDeleted, -1), (StatAction::CommentDeleted, -3)]);
    assert_eq!(summary, expected);
    assert_eq!(events.last().map(|e| e.totals.comments), Some(1));
}

/// Inserts a comment (a reply answers its root) straight into the store; returns its id.
async fn insert_comment(
    conn: &mut platform::db::DbConn<'_>,
    video_id: uuid::Uuid,
    author_id: uuid::Uuid,
    root_id: Option<uuid::Uuid>,
    body: &str,
) -> uuid::Uuid {
    let row = comments::NewComment { id: uuid::Uuid::now_v7(), video_id, author_id, root_id, reply_to_id: root_id, body };
    comments::insert(conn, &row).await.expect("insert comment").id
}

#[tokio::test]
async fn a_page_with_authors_likes_and_reply_previews_costs_the_same_statements_for_10_and_50_comments() {
    let platform = Platform::start().await;
    let (owner, _, _) = platform.register("owner").await;
    let video = platform.insert_video(&owner, "popular").await;
    let people = platform.users("p", 4).await;
    let (viewer, viewer_token) = people[0].clone();
    let authors: Vec<uuid::Uuid> = people.iter().map(|(id, _)| id.parse().expect("id")).collect();

    // 60 roots with 4 replies each, by rotating authors; the viewer liked every third root and
    // the second reply of every thread. Inserted through the store: 300 posts through the
    // API would only slow the test down.
    let db = platform.db();
    let mut conn = db.pool.get().await.expect("connection");
    let video_id: uuid::Uuid = video.parse().expect("video id");
    let viewer_id: uuid::Uuid = viewer.parse().expect("viewer id");
    for n in 0..60 {
        let root = insert_comment(&mut conn, video_id, authors[n % 4], None, &format!("root {n}")).await;
        for (r, author) in authors.iter().enumerate() {
            let reply = insert_comment(&mut conn, video_id, *author, Some(root), &format!("reply {r}")).await;
            if r == 1 {
                comments::insert_like(&mut conn, reply, viewer_id).await.expect("like");
                comments::add_likes(&mut conn, reply, 1).await.expect("count like");
            }
        }
        comments::add_replies_to_live(&mut conn, root, 4).await.expect("reply count");
        if n % 3 == 0 {
            comments::insert_like(&mut conn, root, viewer_id).await.expect("like");
            comments::add_likes(&mut conn, root, 1).await.expect("count like");
        }
    }

    let mut costs = Vec::new();
    for first in [10, 50] {
        let before = platform.content_statements.get();
        let reply = platform.gql(PAGE, json!({ "video": video, "first": first }), Some(&viewer_token)).await.ok();
        costs.push(platform.content_statements.get() - before);
        let nodes: Vec<&Value> = reply.data("/comments/edges").as_array().expect("edges").iter().map(|e| &e["node"]).collect();
        assert_eq!(nodes.len(), first);
        assert!(nodes.iter().all(|n| n["author"]["username"].is_string()));
        assert!(nodes.iter().all(|n| n["replyPreview"].as_array().map(Vec::len) == Some(3)));
        assert!(nodes.iter().flat_map(|n| n["replyPreview"].as_array().expect("preview")).all(|r| r["author"]["username"].is_string()));
        let liked = nodes.iter().filter(|n| n["viewerHasLiked"] == json!(true)).count();
        assert!(liked > 0 && liked < nodes.len(), "the viewer liked some comments of the page");
    }
    // video check + page + reply previews + authors + the viewer's likes, whatever the size
    assert_eq!(costs, [5, 5], "statements for 10 and for 50 comments");
}

#[tokio::test]
async fn replies_and_deletions_racing_on_one_thread_keep_counters_exact_and_never_deadlock() {
    let platform = Platform::start().await;
    let (owner, owner_token, _) = platform.register("owner").await;
    let video = platform.insert_video(&owner, "race").await;
    let fans = platform.users("fan", 10).await;

    let mut posted = Vec::new();
    for round in 0..5 {
        let root = post_ok(&platform, &owner_token, &video, &format!("thread {round}"), None).await;
        let mut existing = Vec::new();
        for (_, token) in fans.iter().take(3) {
            existing.push(post_ok(&platform, token, &video, "early", Some(&root)).await);
        }
        posted.push(root.clone());
        posted.extend(existing.iter().cloned());
        // New replies, the deletion of a reply by its author and of the root by its author,
        // all at once.
        let replies = fans.iter().map(|(_, token)| post(&platform, token, &video, "late", Some(&root)));
        let (replies, delete_reply, delete_root) = tokio::join!(
            futures::future::join_all(replies),
            platform.gql(DELETE, json!({ "id": existing[0] }), Some(&fans[0].1)),
            platform.gql(DELETE, json!({ "id": root }), Some(&owner_token)),
        );
        for reply in &replies {
            assert!(reply.codes().is_empty() || reply.codes() == ["BAD_USER_INPUT"], "a reply races the deletion: {}", reply.body);
            posted.extend(reply.data("/postComment/id").as_str().map(str::to_owned));
        }
        let delete_reply = delete_reply.ok();
        assert!(delete_reply.data("/deleteComment").is_boolean());
        assert_eq!(delete_root.ok().data("/deleteComment"), &json!(true));
    }

    // Every thread was deleted, so every comment that was ever posted must be deleted too
    // (a reply that slipped in after its root's deletion would stay live, and be counted).
    let db = platform.db();
    let mut conn = db.pool.get().await.expect("connection");
    for id in &posted {
        let comment = comments::find(&mut conn, id.parse().expect("id")).await.expect("find").expect("comment exists");
        assert!(comment.deleted_at.is_some(), "comment {id} outlived its thread");
    }
    assert_eq!(stat_counts(&platform, &video).await, (0, 0), "the counter equals the live comments");
}
