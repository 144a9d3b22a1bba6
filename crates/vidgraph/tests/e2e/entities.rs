//! Batching: `_entities` for many users or videos, and pages of videos, cost a constant number
//! of SQL statements whatever their size.

use crate::harness::Platform;
use serde_json::{Value, json};

const ENTITIES: &str = "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id username } } }";

#[tokio::test]
async fn resolving_100_user_references_runs_exactly_one_sql_statement() {
    let platform = Platform::start().await;
    let ids: Vec<String> = platform.users("bulk", 100).await.into_iter().map(|(id, _)| id).collect();
    let representations: Vec<_> = ids.iter().map(|id| json!({ "__typename": "User", "id": id })).collect();

    let before = platform.content_statements.get();
    let reply = platform.post(&platform.subgraph_urls["content"], ENTITIES, json!({ "reps": representations }), None).await.ok();
    let statements = platform.content_statements.get() - before;

    let resolved = reply.data("/_entities").as_array().expect("entities");
    assert_eq!(resolved.len(), 100);
    for (entity, id) in resolved.iter().zip(&ids) {
        assert_eq!(entity["id"], json!(id), "entities come back in representation order");
    }
    assert_eq!(statements, 1, "100 representations must cost one statement");
}

#[tokio::test]
async fn unknown_and_malformed_references_resolve_to_null() {
    let platform = Platform::start().await;
    let reps = json!([{ "__typename": "User", "id": uuid::Uuid::now_v7() }, { "__typename": "User", "id": "nope" }]);
    let reply = platform.post(&platform.subgraph_urls["content"], ENTITIES, json!({ "reps": reps }), None).await.ok();
    assert_eq!(reply.data("/_entities"), &json!([null, null]));
}

const FEED_PAGE: &str = "query($first: Int!, $after: String) { videos(first: $first, after: $after) { \
    edges { node { id title author { username } region { slug } stat { views likes coins } viewerState { liked coins } } } \
    pageInfo { hasNextPage endCursor } } }";

#[tokio::test]
async fn a_feed_page_costs_the_same_few_statements_whatever_its_size() {
    let platform = Platform::start().await;
    content::seed::run(&platform.db(), content::seed::SeedSize { videos: 300, viewers: 0 }).await.expect("seed");
    let viewer = platform.users("viewer", 1).await.remove(0).1;
    // The region list is read once per process; read it before measuring.
    platform.gql("{ regions { id } }", json!({}), None).await.ok();

    let mut costs = Vec::new();
    for first in [50, 100] {
        let before = platform.content_statements.get();
        let reply = platform.gql(FEED_PAGE, json!({ "first": first }), Some(&viewer)).await.ok();
        costs.push(platform.content_statements.get() - before);
        let edges = reply.data("/videos/edges").as_array().expect("edges");
        assert_eq!(edges.len(), first);
        assert!(edges.iter().all(|edge| edge["node"]["author"]["username"].is_string() && edge["node"]["stat"]["views"].is_i64()));
        assert!(edges.iter().all(|edge| edge["node"]["viewerState"]["liked"] == json!(false)));
    }
    // page + authors + counters + the viewer's state, for 50 as for 100
    assert_eq!(costs, [4, 4], "a page costs a constant number of statements");

    let anonymous_before = platform.content_statements.get();
    let reply = platform.gql(FEED_PAGE, json!({ "first": 50 }), None).await.ok();
    assert_eq!(platform.content_statements.get() - anonymous_before, 3, "anonymous: no viewer-state statement");
    assert_eq!(reply.data("/videos/edges/0/node/viewerState"), &json!(null));

    // A page reads only what its query shows: signed in, without `viewerState`, no viewer-state
    // statement; without authors and counters, the page alone.
    let before = platform.content_statements.get();
    let shown = platform
        .gql("{ videos(first: 50) { edges { node { id author { username } stat { views } } } } }", json!({}), Some(&viewer))
        .await
        .ok();
    assert_eq!(platform.content_statements.get() - before, 3, "signed in, no viewerState shown: page + authors + counters");
    assert!(shown.data("/videos/edges").as_array().expect("edges").iter().all(|edge| edge["node"]["author"]["username"].is_string()));
    let before = platform.content_statements.get();
    platform.gql("{ videos(first: 50) { nodes { id title } } }", json!({}), Some(&viewer)).await.ok();
    assert_eq!(platform.content_statements.get() - before, 1, "titles only: the page alone");

    let edges = reply.data("/videos/edges").as_array().expect("edges").clone();
    let cursor = reply.data("/videos/pageInfo/endCursor").as_str().expect("cursor").to_owned();
    let next = platform.gql(FEED_PAGE, json!({ "first": 50, "after": cursor }), None).await.ok();
    let first_ids: Vec<_> = edges.iter().map(|e| e["node"]["id"].clone()).collect();
    let next_edges = next.data("/videos/edges").as_array().expect("edges");
    assert_eq!(next_edges.len(), 50);
    assert!(next_edges.iter().all(|e| !first_ids.contains(&e["node"]["id"])), "pages do not overlap");
}

#[tokio::test]
async fn video_entities_resolve_in_one_batch_and_then_from_the_cache() {
    let platform = Platform::start().await;
    content::seed::run(&platform.db(), content::seed::SeedSize { videos: 120, viewers: 0 }).await.expect("seed");
    let page = platform.gql("{ videos(first: 100) { edges { node { id } } } }", json!({}), None).await.ok();
    let ids: Vec<Value> = page.data("/videos/edges").as_array().expect("edges").iter().map(|e| e["node"]["id"].clone()).collect();
    let reps: Vec<Value> = ids.iter().map(|id| json!({ "__typename": "Video", "id": id })).collect();
    let query =
        "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Video { id title author { username } stat { likes } } } }";

    let mut costs = Vec::new();
    for _ in 0..2 {
        let before = platform.content_statements.get();
        let reply = platform.post(&platform.subgraph_urls["content"], query, json!({ "reps": reps }), None).await.ok();
        costs.push(platform.content_statements.get() - before);
        let resolved = reply.data("/_entities").as_array().expect("entities");
        assert_eq!(resolved.iter().map(|v| v["id"].clone()).collect::<Vec<_>>(), ids);
        assert!(resolved.iter().all(|video| video["author"]["username"].is_string()));
    }
    // cold: videos, then authors + counters; warm: the videos come from Redis. A batch closes
    // when a round of the request's resolvers adds no key (platform::batch), not after a time
    // window, so a busy machine cannot split it: exactly one statement per kind.
    assert_eq!(costs, [3, 2], "statements per 100 entities, cold then warm");
}
