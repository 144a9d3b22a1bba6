//! A like of and a comment on a streamer dynamic notify its author through the router, like those
//! of posts: likes fold into one notification, a comment is one of its own, nobody is notified of
//! their own dynamic.

use crate::harness::Platform;
use serde_json::{Value, json};

const CREATE: &str = "mutation($body: String!) { createDynamic(body: $body, imageUrls: []) { id } }";
const LIKE: &str = "mutation($id: ID!) { likeDynamic(id: $id) { likeScore } }";
const COMMENT: &str = "mutation($id: ID!, $body: String!) { commentDynamic(dynamicId: $id, body: $body) { id } }";
const LIST: &str = "{ notifications(first: 20) { unreadCount edges { node { kind subjectKind subjectId replyId actorCount } } } }";

fn nodes(list: &Value) -> Vec<Value> {
    let edges = list.pointer("/data/notifications/edges").and_then(Value::as_array).cloned().unwrap_or_default();
    edges.into_iter().map(|edge| edge["node"].clone()).collect()
}

#[tokio::test]
async fn likes_of_a_dynamic_fold_into_one_notification_and_a_comment_notifies_its_author() {
    let platform = Platform::start().await;
    let users = platform.users("streamfan", 3).await;
    let ((_, streamer), (_, first_fan), (_, second_fan)) = (&users[0], &users[1], &users[2]);
    let created = platform.gql(CREATE, json!({ "body": "going on stage at eight" }), Some(streamer)).await.ok();
    let dynamic = created.data("/createDynamic/id").as_str().expect("dynamic").to_owned();

    platform.gql(LIKE, json!({ "id": dynamic }), Some(first_fan)).await.ok();
    platform.gql(LIKE, json!({ "id": dynamic }), Some(second_fan)).await.ok();
    let comment = platform.gql(COMMENT, json!({ "id": dynamic, "body": "see you there" }), Some(first_fan)).await.ok();
    let comment = comment.data("/commentDynamic/id").clone();

    let list = platform.gql(LIST, json!({}), Some(streamer)).await.ok();
    assert_eq!(list.data("/notifications/unreadCount"), &json!(2), "{}", list.body);
    let mut seen: Vec<(Value, Value, Value, Value, Value)> = nodes(&list.body)
        .iter()
        .map(|n| (n["kind"].clone(), n["subjectKind"].clone(), n["subjectId"].clone(), n["replyId"].clone(), n["actorCount"].clone()))
        .collect();
    seen.sort_by_key(|entry| entry.0.to_string());
    assert_eq!(
        seen,
        [
            (json!("LIKE"), json!("DYNAMIC"), json!(dynamic), Value::Null, json!(2)),
            (json!("REPLY"), json!("DYNAMIC"), json!(dynamic), comment, json!(1)),
        ]
    );
    // The fans were notified of nothing: the actions were theirs.
    for fan in [first_fan, second_fan] {
        assert_eq!(platform.gql(LIST, json!({}), Some(fan)).await.ok().data("/notifications/unreadCount"), &json!(0));
    }
}
