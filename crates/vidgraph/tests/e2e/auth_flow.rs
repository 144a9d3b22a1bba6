//! The whole session life cycle through the router.

use crate::harness::{LOGIN, Platform, REGISTER};
use serde_json::json;

const ME: &str = "{ me { id username displayName bio email } }";
const UPDATE: &str = "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { id displayName bio } }";
const REFRESH: &str = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }";
const LOGOUT: &str = "mutation($t: String!) { logout(refreshToken: $t) }";

#[tokio::test]
async fn register_login_me_update_refresh_reuse_and_logout_work_through_the_router() {
    let platform = Platform::start().await;

    // register
    let registered = platform
        .gql(REGISTER, json!({ "input": { "email": "Ada@Example.com", "username": "ada", "password": "lovelace1815" } }), None)
        .await
        .ok();
    let user_id = registered.data("/register/user/id").as_str().expect("id").to_owned();

    // login (by e-mail, case-insensitively)
    let login = platform.gql(LOGIN, json!({ "input": { "login": "ada@example.com", "password": "lovelace1815" } }), None).await.ok();
    let access = login.data("/login/accessToken").as_str().expect("access").to_owned();
    let first_refresh = login.data("/login/refreshToken").as_str().expect("refresh").to_owned();

    // me
    let me = platform.gql(ME, json!({}), Some(&access)).await.ok();
    assert_eq!(me.data("/me/id"), &json!(user_id));
    assert_eq!(me.data("/me/email"), &json!("ada@example.com"));
    let anonymous = platform.gql(ME, json!({}), None).await.ok();
    assert_eq!(anonymous.data("/me"), &json!(null));

    // updateProfile
    let updated =
        platform.gql(UPDATE, json!({ "input": { "displayName": "Ada L.", "bio": "First programmer" } }), Some(&access)).await.ok();
    assert_eq!(updated.data("/updateProfile/displayName"), &json!("Ada L."));
    let me = platform.gql(ME, json!({}), Some(&access)).await.ok();
    assert_eq!(me.data("/me/bio"), &json!("First programmer"));

    // refresh rotates
    let rotated = platform.gql(REFRESH, json!({ "t": first_refresh }), None).await.ok();
    let second_refresh = rotated.data("/refreshToken/refreshToken").as_str().expect("refresh").to_owned();
    let second_access = rotated.data("/refreshToken/accessToken").as_str().expect("access").to_owned();
    assert_ne!(second_refresh, first_refresh);
    platform.gql(ME, json!({}), Some(&second_access)).await.ok();

    // reusing the spent token is refused and revokes the family: the new token dies too
    let reuse = platform.gql(REFRESH, json!({ "t": first_refresh }), None).await;
    assert_eq!(reuse.codes(), ["UNAUTHENTICATED"]);
    let after_reuse = platform.gql(REFRESH, json!({ "t": second_refresh }), None).await;
    assert_eq!(after_reuse.codes(), ["UNAUTHENTICATED"]);

    // logout ends a fresh session; logging out twice is fine
    let login = platform.gql(LOGIN, json!({ "input": { "login": "ada", "password": "lovelace1815" } }), None).await.ok();
    let refresh = login.data("/login/refreshToken").as_str().expect("refresh").to_owned();
    assert_eq!(platform.gql(LOGOUT, json!({ "t": refresh }), None).await.ok().data("/logout"), &json!(true));
    assert_eq!(platform.gql(LOGOUT, json!({ "t": refresh }), None).await.ok().data("/logout"), &json!(true));
    let after_logout = platform.gql(REFRESH, json!({ "t": refresh }), None).await;
    assert_eq!(after_logout.codes(), ["UNAUTHENTICATED"]);
}

#[tokio::test]
async fn private_fields_are_hidden_from_others_and_profile_edits_need_a_session() {
    let platform = Platform::start().await;
    let (ada, _, _) = platform.register("ada").await;
    let (_, bob_token, _) = platform.register("bob").await;

    let seen_by_bob =
        platform.gql("query($id: ID!) { user(id: $id) { username email role } }", json!({ "id": ada }), Some(&bob_token)).await.ok();
    assert_eq!(seen_by_bob.data("/user/username"), &json!("ada"));
    assert_eq!(seen_by_bob.data("/user/email"), &json!(null));
    assert_eq!(seen_by_bob.data("/user/role"), &json!(null));

    let anonymous_edit = platform.gql(UPDATE, json!({ "input": { "bio": "hacked" } }), None).await;
    assert_eq!(anonymous_edit.codes(), ["UNAUTHENTICATED"]);
    let bad_edit = platform.gql(UPDATE, json!({ "input": { "bio": "x".repeat(501) } }), Some(&bob_token)).await;
    assert_eq!(bad_edit.codes(), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn the_cli_creates_an_admin_who_can_see_private_fields_of_others() {
    let platform = Platform::start().await;
    let (ada, _, _) = platform.register("ada").await;
    vidgraph::db_admin::create_admin(&platform.services.config(), "root@example.com", "root", "r00t-pass-word")
        .await
        .expect("create admin");

    let login = platform.gql(LOGIN, json!({ "input": { "login": "root", "password": "r00t-pass-word" } }), None).await.ok();
    let token = login.data("/login/accessToken").as_str().expect("token").to_owned();
    let seen = platform.gql("query($id: ID!) { user(id: $id) { email role } }", json!({ "id": ada }), Some(&token)).await.ok();
    assert_eq!(seen.data("/user/email"), &json!("ada@example.com"));
    assert_eq!(seen.data("/user/role"), &json!("USER"));

    // Running it again for an existing e-mail promotes instead of failing.
    vidgraph::db_admin::create_admin(&platform.services.config(), "ada@example.com", "ada", "whatever-1").await.expect("promote");
    let login = platform.gql(LOGIN, json!({ "input": { "login": "ada", "password": "s3cret-pass" } }), None).await.ok();
    let token = login.data("/login/accessToken").as_str().expect("token").to_owned();
    assert_eq!(platform.gql("{ me { role } }", json!({}), Some(&token)).await.ok().data("/me/role"), &json!("ADMIN"));
}

#[tokio::test]
async fn every_subgraph_answers_through_the_router_and_exposes_health_and_metrics() {
    let platform = Platform::start().await;
    let reply = platform
        .gql("{ rankingStatus { subgraph postgres redis nats } communityStatus { subgraph } liveStatus { subgraph } assetsStatus { subgraph } regions { slug } }", json!({}), None)
        .await
        .ok();
    assert_eq!(reply.data("/rankingStatus"), &json!({ "subgraph": "ranking", "postgres": true, "redis": true, "nats": true }));
    for name in ["community", "live", "assets"] {
        assert_eq!(reply.data(&format!("/{name}Status/subgraph")), &json!(name));
    }
    assert_eq!(reply.data("/regions").as_array().map(Vec::len), Some(8));

    let client = reqwest::Client::new();
    for url in platform.subgraph_urls.values() {
        let ready = client.get(url.replace("/graphql", "/health/ready")).send().await.expect("ready");
        assert_eq!(ready.status(), 200);
    }
    let metrics = client.get(platform.subgraph_urls["content"].replace("/graphql", "/metrics")).send().await.expect("metrics");
    let text = metrics.text().await.expect("text");
    assert!(text.contains("graphql_requests_total"), "{text}");
    assert!(text.contains("db_statements_total"), "{text}");
}
