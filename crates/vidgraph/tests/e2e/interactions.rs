//! Likes, coins, favourites, shares and views through the router: idempotent per viewer,
//! counted in the same transaction, reported to JetStream, and exact under concurrency.

use crate::harness::Platform;
use futures::future::join_all;
use serde_json::json;

const STATE: &str = "{ stat { views likes coins favourites shares } viewerState { liked coins favourited shared watched } }";

fn mutation(name: &str) -> String {
    format!("mutation($id: ID!) {{ {name}(id: $id) {STATE} }}")
}

#[tokio::test]
async fn each_interaction_is_idempotent_counted_and_reported() {
    let platform = Platform::start().await;
    let (author_id, author, _) = platform.register("creator").await;
    let (viewer_id, viewer, _) = platform.register("fan").await;
    let video = platform.insert_video(&author_id, "Counted").await;
    let vars = json!({ "id": video });

    // anonymous viewers may watch but not like
    assert_eq!(platform.gql(&mutation("likeVideo"), vars.clone(), None).await.codes(), ["UNAUTHENTICATED"]);

    // like twice counts once; unlike twice uncounts once
    platform.gql(&mutation("likeVideo"), vars.clone(), Some(&viewer)).await.ok();
    let liked = platform.gql(&mutation("likeVideo"), vars.clone(), Some(&viewer)).await.ok();
    assert_eq!(liked.data("/likeVideo/stat/likes"), &json!(1));
    assert_eq!(liked.data("/likeVideo/viewerState/liked"), &json!(true));
    platform.gql(&mutation("unlikeVideo"), vars.clone(), Some(&viewer)).await.ok();
    let unliked = platform.gql(&mutation("unlikeVideo"), vars.clone(), Some(&viewer)).await.ok();
    assert_eq!(unliked.data("/unlikeVideo/stat/likes"), &json!(0));
    platform.gql(&mutation("likeVideo"), vars.clone(), Some(&viewer)).await.ok();

    // coins: at most two per viewer, none for one's own video
    let coin = "mutation($id: ID!, $n: Int!) { coinVideo(id: $id, coins: $n) { stat { coins } viewerState { coins } } }";
    let one = platform.gql(coin, json!({ "id": video, "n": 1 }), Some(&viewer)).await.ok();
    assert_eq!(one.data("/coinVideo/viewerState/coins"), &json!(1));
    let two = platform.gql(coin, json!({ "id": video, "n": 1 }), Some(&viewer)).await.ok();
    assert_eq!(two.data("/coinVideo/stat/coins"), &json!(2));
    let third = platform.gql(coin, json!({ "id": video, "n": 1 }), Some(&viewer)).await;
    assert_eq!(third.codes(), ["BAD_USER_INPUT"], "a third coin is refused");
    assert_eq!(platform.gql(coin, json!({ "id": video, "n": 3 }), Some(&viewer)).await.codes(), ["BAD_USER_INPUT"]);
    assert_eq!(platform.gql(coin, json!({ "id": video, "n": 1 }), Some(&author)).await.codes(), ["BAD_USER_INPUT"]);

    // favourite, unfavourite, share (once per viewer)
    platform.gql(&mutation("favouriteVideo"), vars.clone(), Some(&viewer)).await.ok();
    platform.gql(&mutation("favouriteVideo"), vars.clone(), Some(&viewer)).await.ok();
    platform.gql(&mutation("shareVideo"), vars.clone(), Some(&viewer)).await.ok();
    let shared = platform.gql(&mutation("shareVideo"), vars.clone(), Some(&viewer)).await.ok();
    assert_eq!(shared.data("/shareVideo/stat/favourites"), &json!(1));
    assert_eq!(shared.data("/shareVideo/stat/shares"), &json!(1));

    // views count once per viewer per window: the signed-in fan and one anonymous address
    let view = "mutation($id: ID!) { recordView(id: $id) { counted video { stat { views } } } }";
    assert_eq!(platform.gql(view, vars.clone(), Some(&viewer)).await.ok().data("/recordView/counted"), &json!(true));
    assert_eq!(platform.gql(view, vars.clone(), Some(&viewer)).await.ok().data("/recordView/counted"), &json!(false));
    assert_eq!(platform.gql(view, vars.clone(), None).await.ok().data("/recordView/counted"), &json!(true));
    let again = platform.gql(view, vars.clone(), None).await.ok();
    assert_eq!(again.data("/recordView/counted"), &json!(false));
    assert_eq!(again.data("/recordView/video/stat/views"), &json!(2));

    // the viewer's state, read back through the entity
    let read = platform.gql(&format!("query($id: ID!) {{ video(id: $id) {STATE} }}"), vars.clone(), Some(&viewer)).await.ok();
    assert_eq!(read.data("/video/viewerState"), &json!({ "liked": true, "coins": 2, "favourited": true, "shared": true, "watched": true }));
    assert_eq!(read.data("/video/stat"), &json!({ "views": 2, "likes": 1, "coins": 2, "favourites": 1, "shares": 1 }));
    let anonymous = platform.gql(&format!("query($id: ID!) {{ video(id: $id) {STATE} }}"), vars.clone(), None).await.ok();
    assert_eq!(anonymous.data("/video/viewerState"), &json!(null));

    // every change reached JetStream once, in order, with ids and totals: like, unlike, like,
    // coin, coin, favourite, share, view, view
    let events = platform.content_events("stats", 9).await;
    let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str().expect("action")).collect();
    assert_eq!(actions, ["like", "unlike", "like", "coin", "coin", "favourite", "share", "view", "view"]);
    assert!(events.iter().all(|e| e["video_id"] == json!(video) && e["author_id"] == json!(author_id)));
    assert_eq!(events[0]["viewer_id"], json!(viewer_id));
    assert_eq!(events[8]["viewer_id"], json!(null), "the anonymous view carries no viewer");
    assert_eq!(events[8]["totals"]["views"], json!(2));
    let ids: std::collections::HashSet<_> = events.iter().map(|e| e["event_id"].clone()).collect();
    assert_eq!(ids.len(), 9, "every event has its own id");

    // unknown and malformed ids
    let unknown = platform.gql(&mutation("likeVideo"), json!({ "id": uuid::Uuid::now_v7() }), Some(&viewer)).await;
    assert_eq!(unknown.codes(), ["NOT_FOUND"]);
    assert_eq!(platform.gql(&mutation("likeVideo"), json!({ "id": "x" }), Some(&viewer)).await.codes(), ["NOT_FOUND"]);
}

#[tokio::test]
async fn two_hundred_concurrent_likes_count_exactly_and_a_double_like_counts_once() {
    let platform = Platform::start().await;
    let (author_id, _, _) = platform.register("hot").await;
    let video = platform.insert_video(&author_id, "Hot video").await;
    let fans = platform.users("fan", 200).await;
    let like = mutation("likeVideo");

    let replies = join_all(fans.iter().map(|(_, token)| platform.gql(&like, json!({ "id": video }), Some(token)))).await;
    assert!(replies.iter().all(|reply| reply.codes().is_empty()), "every like succeeds");
    // the same fan twice at once
    let (_, twice) = &fans[0];
    let doubled = join_all((0..2).map(|_| platform.gql(&like, json!({ "id": video }), Some(twice)))).await;
    assert!(doubled.iter().all(|reply| reply.codes().is_empty()));

    let read = platform.gql("query($id: ID!) { video(id: $id) { stat { likes } } }", json!({ "id": video }), None).await.ok();
    assert_eq!(read.data("/video/stat/likes"), &json!(200));
    // one event per counted like; the outbox orders them by insertion, not commit, so the
    // highest total (not necessarily the last event) is the final count
    let events = platform.content_events("stats", 200).await;
    assert_eq!(events.iter().filter_map(|e| e["totals"]["likes"].as_i64()).max(), Some(200));
}
