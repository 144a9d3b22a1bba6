//! Notifications and direct messages under concurrency: folds into one notification take
//! turns and count each actor once; concurrent retries of one send store one message.

use crate::posts::{LIKE_POST, post, zone};
use crate::world::{World, admin, id_of, user};
use futures::StreamExt;
use serde_json::json;

#[tokio::test]
async fn concurrent_likes_of_one_post_fold_into_one_notification_counting_each_liker_once() {
    let world = World::new().await;
    let (root, author) = (admin(), user());
    let zone = zone(&world, &root, "Folds").await;
    let post = post(&world, &author, &zone, "like me").await;
    let likers: Vec<_> = (0..40).map(|_| user()).collect();
    // every liker twice at once: the second like of each changes nothing
    let likes = likers.iter().chain(likers.iter()).map(|liker| world.run(liker, LIKE_POST, json!({ "id": post })));
    let answers: Vec<_> = futures::stream::iter(likes).buffer_unordered(32).collect().await;
    assert!(answers.iter().all(|answer| answer.codes().is_empty()), "every like answers");

    let list = "{ notifications(first: 10) { unreadCount edges { node { kind actorCount otherActorCount actors { id } } } } }";
    let seen = world.run(&author, list, json!({})).await.ok();
    assert_eq!(seen.data("/notifications/unreadCount"), &json!(1));
    let edges = seen.data("/notifications/edges").as_array().expect("edges");
    assert_eq!(edges.len(), 1, "{}", seen.body);
    assert_eq!((edges[0]["node"]["actorCount"].clone(), edges[0]["node"]["otherActorCount"].clone()), (json!(40), json!(37)));
    let named: Vec<_> = edges[0]["node"]["actors"].as_array().expect("actors").iter().map(|a| a["id"].clone()).collect();
    assert_eq!(named.len(), 3);
    assert!(named.iter().all(|id| likers.iter().any(|liker| json!(id_of(liker).to_string()) == *id)));
    assert_eq!(world.texts("SELECT count(*)::text AS v FROM community.notification_actors").await, ["40"]);
    assert!(world.audit().await.is_empty());
}

#[tokio::test]
async fn concurrent_retries_of_one_send_store_one_message_and_answer_each_with_it() {
    let world = World::new().await;
    let (sender, recipient) = (user(), user());
    world.enroll(&[id_of(&recipient)]).await;
    let send = "mutation($to: ID!) { sendMessage(toUserId: $to, text: \"once\", idempotencyKey: \"retry-1\") { replayed message { id } } }";
    let to = id_of(&recipient).to_string();
    let answers: Vec<_> =
        futures::stream::iter((0..10).map(|_| world.run(&sender, send, json!({ "to": to })))).buffer_unordered(10).collect().await;
    let ids: std::collections::HashSet<_> = answers.iter().map(|a| a.data("/sendMessage/message/id").clone()).collect();
    assert_eq!(ids.len(), 1, "every retry answers with the one message: {ids:?}");
    assert_eq!(answers.iter().filter(|a| a.data("/sendMessage/replayed") == &json!(false)).count(), 1);
    assert_eq!(world.texts("SELECT count(*)::text AS v FROM community.messages").await, ["1"]);
    let unread = world.run(&recipient, "{ conversations { edges { node { unreadCount } } } }", json!({})).await.ok();
    assert_eq!(unread.data("/conversations/edges/0/node/unreadCount"), &json!(1), "counted once");
}

#[tokio::test]
async fn at_most_four_posts_are_pinned_on_the_home_list_however_many_admins_pin_at_once() {
    let world = World::new().await;
    let (root, other_admin, author) = (admin(), admin(), user());
    let zone = zone(&world, &root, "Home").await;
    let mut posts = Vec::new();
    for n in 0..24 {
        posts.push(post(&world, &author, &zone, &format!("post {n}")).await);
    }
    let pin = "mutation($id: ID!) { pinHomePost(id: $id) { id } }";
    let pins = posts.iter().enumerate().map(|(n, id)| world.run(if n % 2 == 0 { &root } else { &other_admin }, pin, json!({ "id": id })));
    let answers: Vec<_> = futures::stream::iter(pins).buffer_unordered(24).collect().await;
    assert_eq!(answers.iter().filter(|a| a.codes().is_empty()).count(), 4);
    assert!(answers.iter().filter(|a| !a.codes().is_empty()).all(|a| a.codes() == ["CONFLICT"]));
    assert_eq!(world.texts("SELECT count(*)::text AS v FROM community.home_pins").await, ["4"]);
    assert_eq!(world.run(&author, pin, json!({ "id": posts[0] })).await.codes(), ["FORBIDDEN"]);
}

#[tokio::test]
async fn a_held_comment_notifies_the_post_author_on_its_approval_and_only_once() {
    let world = World::new().await;
    let (root, author, commenter) = (admin(), user(), user());
    let zone = zone(&world, &root, "Held").await;
    let modes = "mutation($zone: ID) { setReviewModes(zoneId: $zone, comments: REVIEW_THEN_POST) { comments } }";
    world.run(&root, modes, json!({ "zone": zone })).await.ok();
    let post = post(&world, &author, &zone, "discuss").await;
    let create = "mutation($p: ID!) { createPostComment(input: { postId: $p, body: \"held\" }) { id state } }";
    let comment = world.run(&commenter, create, json!({ "p": post })).await.ok();
    assert_eq!(comment.data("/createPostComment/state"), &json!("PENDING"));
    let comment = comment.data("/createPostComment/id").clone();
    let list = "{ notifications { edges { node { kind subjectId replyId actorCount } } } }";
    assert_eq!(world.run(&author, list, json!({})).await.ok().data("/notifications/edges"), &json!([]), "not visible yet");

    let approve = "mutation($id: ID!) { approvePostComment(id: $id) { state } }";
    let reject = "mutation($id: ID!) { rejectPostComment(id: $id, reason: \"no\") { state } }";
    world.run(&root, approve, json!({ "id": comment })).await.ok();
    let expected = json!([{ "node": { "kind": "REPLY", "subjectId": post, "replyId": comment, "actorCount": 1 } }]);
    assert_eq!(world.run(&author, list, json!({})).await.ok().data("/notifications/edges"), &expected);
    // rejected and approved again: still the one notification
    world.run(&root, reject, json!({ "id": comment })).await.ok();
    world.run(&root, approve, json!({ "id": comment })).await.ok();
    assert_eq!(world.run(&author, list, json!({})).await.ok().data("/notifications/edges"), &expected);
    assert!(world.audit().await.is_empty());
}
