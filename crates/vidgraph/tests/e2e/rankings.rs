//! Hot rankings through the router: content's events move videos, `video` references resolve
//! in one batch, and admins manage weights and runs.

use crate::harness::Platform;
use serde_json::json;
use std::time::{Duration, Instant};

const RANKING: &str = "query($size: Int!, $range: HotTimeRange) { hotRanking(timeRange: $range, pageSize: $size) { total \
    items { rank hotValue video { id title author { username } stat { likes } hotRank } } } }";

/// The day ranking once `done` holds for it: the consumer applies events asynchronously, so
/// this polls the API, as a client would, for up to 10 s.
async fn wait_for_ranking(platform: &Platform, done: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = platform.gql(RANKING, json!({ "size": 50, "range": "DAY" }), None).await.ok();
        let ranking = reply.body["data"]["hotRanking"].clone();
        if done(&ranking) || Instant::now() > deadline {
            return ranking;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn likes_move_videos_and_a_page_of_50_resolves_its_videos_in_one_batch() {
    let platform = Platform::start().await;
    let (author_id, _, _) = platform.register("ranked").await;
    let fans = platform.users("rfan", 3).await;
    let mut videos = Vec::new();
    for n in 0..55 {
        videos.push(platform.insert_video(&author_id, &format!("Ranked {n}")).await);
    }
    let like = "mutation($id: ID!) { likeVideo(id: $id) { id } }";
    for video in &videos {
        platform.gql(like, json!({ "id": video }), Some(&fans[0].1)).await.ok();
    }
    let ranking = wait_for_ranking(&platform, |r| r["total"] == json!(55)).await;
    assert_eq!(ranking["total"], json!(55));
    assert_eq!(ranking["items"].as_array().map(Vec::len), Some(50));

    // two more likes put the last video first: 3 likes × 10 points, ×1.5 while it is new
    let last = videos.last().expect("video").clone();
    for (_, token) in &fans[1..] {
        platform.gql(like, json!({ "id": last }), Some(token)).await.ok();
    }
    let ranking =
        wait_for_ranking(&platform, |r| r["items"][0]["video"]["stat"]["likes"] == json!(3) && r["items"][0]["hotValue"] == json!(45))
            .await;
    let top = &ranking["items"][0];
    assert_eq!(top["rank"], json!(1));
    assert_eq!(top["video"]["id"], json!(last));
    assert_eq!(top["video"]["stat"]["likes"], json!(3));
    assert_eq!(top["hotValue"], json!(3 * 10 * 150 / 100), "3 likes, boosted: the video is new");
    assert!(
        ranking["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|item| item["video"]["title"].is_string() && item["video"]["author"]["username"] == json!("ranked"))
    );

    // the page's 50 videos cost content the same statements as a page of 5: one batch
    let mut costs = Vec::new();
    for size in [5, 50] {
        let before = platform.content_statements.get();
        platform.gql(RANKING, json!({ "size": size, "range": "DAY" }), None).await.ok();
        costs.push(platform.content_statements.get() - before);
    }
    assert_eq!(costs[0], costs[1], "a ranking page costs content a constant number of statements");
    assert!(costs[1] <= 3, "videos (or the cache) + authors + counters: {costs:?}");

    // a deleted video leaves the ranking at once
    let admin = platform.admin("rankadmin").await.1;
    platform.gql("mutation($id: ID!) { deleteVideo(id: $id) }", json!({ "id": last }), Some(&admin)).await.ok();
    let ranking = wait_for_ranking(&platform, |r| r["total"] == json!(54)).await;
    assert_eq!(ranking["total"], json!(54));
    assert!(ranking["items"].as_array().expect("items").iter().all(|item| item["video"]["id"] != json!(last)));
}

#[tokio::test]
async fn only_admins_change_weights_and_see_runs() {
    let platform = Platform::start().await;
    let (_, user, _) = platform.register("plainuser").await;
    let admin = platform.admin("weightadmin").await.1;
    let set = "mutation($w: HotWeightsInput!) { setHotWeights(input: $w) { id likes changedBy } }";
    let weights = json!({ "views": 1, "likes": 3, "coins": 5, "favourites": 4, "shares": 6, "comments": 2, "danmaku": 1,
        "newBoostPercent": 120, "newBoostHours": 12 });
    assert_eq!(platform.gql(set, json!({ "w": weights }), None).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(platform.gql(set, json!({ "w": weights }), Some(&user)).await.codes(), ["FORBIDDEN"]);
    let mut bad = weights.clone();
    bad["likes"] = json!(-1);
    assert_eq!(platform.gql(set, json!({ "w": bad }), Some(&admin)).await.codes(), ["BAD_USER_INPUT"]);
    let stored = platform.gql(set, json!({ "w": weights }), Some(&admin)).await.ok();
    assert_eq!(stored.data("/setHotWeights/likes"), &json!(3));
    assert!(stored.data("/setHotWeights/changedBy").is_string());
    assert_eq!(platform.gql("{ hotWeights { likes } }", json!({}), None).await.ok().data("/hotWeights/likes"), &json!(3));
    let history = platform.gql("{ hotWeightHistory { likes changedBy } }", json!({}), Some(&admin)).await.ok();
    assert_eq!(history.data("/hotWeightHistory").as_array().map(Vec::len), Some(2), "the defaults and the change");

    let runs = "{ hotRecomputeRuns { reason status videosProcessed } }";
    assert_eq!(platform.gql(runs, json!({}), Some(&user)).await.codes(), ["FORBIDDEN"]);
    let seen = platform.gql(runs, json!({}), Some(&admin)).await.ok();
    assert!(seen.data("/hotRecomputeRuns").as_array().is_some_and(|runs| !runs.is_empty()), "{}", seen.body);
    let bad_page = platform.gql("{ hotRanking(pageSize: 101) { total } }", json!({}), None).await;
    assert_eq!(bad_page.codes(), ["BAD_USER_INPUT"]);
}
