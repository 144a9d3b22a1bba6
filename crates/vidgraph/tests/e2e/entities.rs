//! `_entities` for many users costs one SQL statement (the dataloader batches them).

use crate::harness::Platform;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use secrecy::ExposeSecret;
use serde_json::json;

const ENTITIES: &str = "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id username } } }";

async fn insert_users(platform: &Platform, count: usize) -> Vec<uuid::Uuid> {
    let url = platform.services.config().db.url.expose_secret().to_owned();
    let mut conn = AsyncPgConnection::establish(&url).await.expect("connect");
    let ids: Vec<uuid::Uuid> = (0..count).map(|_| uuid::Uuid::now_v7()).collect();
    for (n, id) in ids.iter().enumerate() {
        diesel::sql_query(
            "INSERT INTO content.users (id, email, username, password_hash, display_name) VALUES ($1, $2, $3, 'x', $3)",
        )
        .bind::<diesel::sql_types::Uuid, _>(id)
        .bind::<diesel::sql_types::Text, _>(format!("bulk{n}@example.com"))
        .bind::<diesel::sql_types::Text, _>(format!("bulk{n}"))
        .execute(&mut conn)
        .await
        .expect("insert user");
    }
    ids
}

#[tokio::test]
async fn resolving_100_user_references_runs_exactly_one_sql_statement() {
    let platform = Platform::start().await;
    let ids = insert_users(&platform, 100).await;
    let representations: Vec<_> = ids.iter().map(|id| json!({ "__typename": "User", "id": id })).collect();

    let before = platform.content_statements.get();
    let reply = platform.post(&platform.subgraph_urls["content"], ENTITIES, json!({ "reps": representations }), None).await.ok();
    let statements = platform.content_statements.get() - before;

    let resolved = reply.data("/_entities").as_array().expect("entities");
    assert_eq!(resolved.len(), 100);
    for (entity, id) in resolved.iter().zip(&ids) {
        assert_eq!(entity["id"], json!(id.to_string()), "entities come back in representation order");
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

#[tokio::test]
async fn a_feed_page_resolves_authors_through_one_batched_statement() {
    let platform = Platform::start().await;
    let db = platform::db::Db::connect(&platform.services.config().db, "seed");
    content::seed::run(&db).await.expect("seed");

    let before = platform.content_statements.get();
    let reply = platform
        .gql("{ videos(first: 50) { edges { node { id title author { username } region { slug } } } pageInfo { hasNextPage endCursor } } }", json!({}), None)
        .await
        .ok();
    let statements = platform.content_statements.get() - before;
    let edges = reply.data("/videos/edges").as_array().expect("edges");
    assert_eq!(edges.len(), 50);
    assert!(edges.iter().all(|edge| edge["node"]["author"]["username"].is_string()));
    assert_eq!(reply.data("/videos/pageInfo/hasNextPage"), &json!(true));
    // page + authors + regions, whatever the page size
    assert_eq!(statements, 3, "a page costs a constant number of statements");

    let cursor = reply.data("/videos/pageInfo/endCursor").as_str().expect("cursor").to_owned();
    let next = platform
        .gql("query($after: String) { videos(first: 50, after: $after) { edges { node { id } } } }", json!({ "after": cursor }), None)
        .await
        .ok();
    let first_ids: Vec<_> = edges.iter().map(|e| e["node"]["id"].clone()).collect();
    let next_edges = next.data("/videos/edges").as_array().expect("edges");
    assert_eq!(next_edges.len(), 50);
    assert!(next_edges.iter().all(|e| !first_ids.contains(&e["node"]["id"])), "pages do not overlap");
}
