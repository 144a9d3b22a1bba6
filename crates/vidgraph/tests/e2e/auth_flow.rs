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
    let updated = platform
        .gql(UPDATE, json!({ "input": { "displayName": "Ada L.", "bio": "First programmer" } }), Some(&access))
        .await
        .ok();
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

    let seen_by_bob = platform.gql("query($id: ID!) { user(id: $id) { username email role } }", json!({ "id": ada }), Some(&bob_token)).await.ok();
    assert_eq!(seen_by_bob.data("/user/username"), &json!("ada"));
    assert_eq!(seen_by_bob.data("/user/email"), &json!(null));
    assert_eq!(seen_by_bob.data("/user/role"), &json!(null));

    let anonymous_edit = platform.gql(UPDATE, json!({ "input": { "bio": "hacked" } }), None).await;
    assert_eq!(anonymous_edit.codes(), ["UNAUTHENTICATED"]);
    let bad_edit = platform.gql(UPDATE, json!({ "input": { "bio": "x".repeat(501) } }), Some(&bob_token)).await;
    assert_eq!(bad_edit.codes(), ["BAD_USER_INPUT"]);
}
