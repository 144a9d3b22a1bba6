//! Two replicas of `content` on one database: both serve, tokens work across them, and a
//! subscription on one sees changes made on the other.

use crate::harness::{Platform, spawn_subgraph};
use crate::subscriptions::{WsClient, updated_bios};
use platform::Deps;
use serde_json::json;
use vidgraph::subgraphs::Subgraph;

#[tokio::test]
async fn a_token_issued_by_one_content_replica_works_on_another() {
    let platform = Platform::start().await;
    let replica_a = platform.subgraph_urls["content"].clone();
    let deps = Deps::connect(platform.services.config(), "content-b").await.expect("deps");
    let (replica_b, _stop) = spawn_subgraph(Subgraph::Content, deps).await;

    let registered = platform
        .post(
            &replica_a,
            crate::harness::REGISTER,
            json!({ "input": { "email": "ada@example.com", "username": "ada", "password": "lovelace1815" } }),
            None,
        )
        .await
        .ok();
    let token = registered.data("/register/accessToken").as_str().expect("token").to_owned();
    let refresh = registered.data("/register/refreshToken").as_str().expect("refresh").to_owned();

    let me_on_b = platform.post(&replica_b, "{ me { username } }", json!({}), Some(&token)).await.ok();
    assert_eq!(me_on_b.data("/me/username"), &json!("ada"));
    // The refresh token issued by A rotates on B.
    let rotated = platform
        .post(&replica_b, "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }", json!({ "t": refresh }), None)
        .await
        .ok();
    assert!(rotated.data("/refreshToken/accessToken").is_string());
}

#[tokio::test]
async fn a_subscription_on_one_replica_sees_an_update_made_on_the_other() {
    let platform = Platform::start().await;
    let (user_id, token, _) = platform.register("ada").await;
    let deps = Deps::connect(platform.services.config(), "content-b").await.expect("deps");
    let (replica_b, _stop) = spawn_subgraph(Subgraph::Content, deps).await;

    let ws_url = replica_b.replace("http://", "ws://");
    let mut client = WsClient::connect(&ws_url, Some(&token)).await;
    client.subscribe("1", "subscription($id: ID!) { userUpdated(id: $id) { id bio } }", json!({ "id": user_id })).await;
    let replica_a = platform.subgraph_urls["content"].clone();
    let bio = updated_bios(&platform, &replica_a, &token, &mut client).await;
    assert!(bio.starts_with("probe"), "{bio}");
}
