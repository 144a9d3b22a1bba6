//! Bad credentials and bad input: each gets its code, never a 500.

use crate::harness::{LOGIN, Platform, REGISTER};
use base64::Engine;
use platform::auth::{AccessClaims, AuthUser, KeyPair, Role, TokenSigner};
use serde_json::json;

const ME: &str = "{ me { id } }";

fn assert_code(reply: &crate::harness::Reply, code: &str) {
    assert!(reply.status < 500, "status {} for {}", reply.status, reply.body);
    assert_eq!(reply.codes(), [code], "{}", reply.body);
}

#[tokio::test]
async fn invalid_tokens_are_unauthenticated_through_the_router_and_on_the_subgraph() {
    let platform = Platform::start().await;
    let (id, _, _) = platform.register("ada").await;
    let user = AuthUser { id: id.parse().expect("uuid"), role: Role::User };
    let now = chrono::Utc::now().timestamp();

    let expired = platform
        .signer()
        .sign_claims(&AccessClaims {
            sub: user.id,
            role: Role::Admin,
            iss: "vidgraph".into(),
            aud: "vidgraph".into(),
            iat: now - 7200,
            exp: now - 3600,
        })
        .expect("sign");
    let foreign = TokenSigner::new(&KeyPair::generate().expect("key"), &platform.services.config().auth)
        .sign(&user, chrono::Utc::now())
        .expect("sign");
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let unsigned = format!(
        "{}.{}.",
        engine.encode(r#"{"alg":"none","typ":"JWT"}"#),
        engine.encode(
            json!({ "sub": user.id, "role": "admin", "iss": "vidgraph", "aud": "vidgraph", "iat": now, "exp": now + 600 }).to_string()
        )
    );

    let content = platform.subgraph_urls["content"].clone();
    for (what, token) in [("malformed", "not.a.jwt".to_owned()), ("expired", expired), ("foreign key", foreign), ("alg none", unsigned)] {
        let through_router = platform.gql(ME, json!({}), Some(&token)).await;
        assert_code(&through_router, "UNAUTHENTICATED");
        let direct = platform.post(&content, ME, json!({}), Some(&token)).await;
        assert_code(&direct, "UNAUTHENTICATED");
        assert!(through_router.body["data"]["me"].is_null(), "{what}: {}", through_router.body);
    }
}

#[tokio::test]
async fn registration_and_login_mistakes_get_their_codes() {
    let platform = Platform::start().await;
    platform.register("ada").await;

    let register =
        |email: &str, username: &str, password: &str| json!({ "input": { "email": email, "username": username, "password": password } });
    assert_code(&platform.gql(REGISTER, register("new@example.com", "newbie", "short1"), None).await, "BAD_USER_INPUT");
    assert_code(&platform.gql(REGISTER, register("new@example.com", "newbie", "onlyletters"), None).await, "BAD_USER_INPUT");
    assert_code(&platform.gql(REGISTER, register("not-an-email", "newbie", "g00d-pass"), None).await, "BAD_USER_INPUT");
    assert_code(&platform.gql(REGISTER, register("ADA@example.com", "other", "g00d-pass"), None).await, "CONFLICT");
    assert_code(&platform.gql(REGISTER, register("other@example.com", "ADA", "g00d-pass"), None).await, "CONFLICT");

    let wrong = platform.gql(LOGIN, json!({ "input": { "login": "ada", "password": "wrong-pass-1" } }), None).await;
    assert_code(&wrong, "UNAUTHENTICATED");
    let nobody = platform.gql(LOGIN, json!({ "input": { "login": "nobody", "password": "wrong-pass-1" } }), None).await;
    assert_code(&nobody, "UNAUTHENTICATED");

    let malformed_id = platform.gql("{ user(id: \"not-a-uuid\") { id } }", json!({}), None).await;
    assert_code(&malformed_id, "BAD_USER_INPUT");
    let bad_cursor = platform.gql("{ videos(first: 5, after: \"zzz\") { edges { cursor } } }", json!({}), None).await;
    assert_code(&bad_cursor, "BAD_USER_INPUT");
    let huge_page = platform.gql("{ videos(first: 1000) { edges { cursor } } }", json!({}), None).await;
    assert_code(&huge_page, "BAD_USER_INPUT");
}

#[tokio::test]
async fn the_login_rate_limit_trips_per_account_and_a_right_password_does_not_bypass_it() {
    let platform = Platform::start().await;
    platform.register("ada").await;
    let limit = platform.services.config().auth.login_limit_per_account;
    let attempt = |password: &'static str| json!({ "input": { "login": "ada", "password": password } });
    for _ in 0..limit {
        assert_code(&platform.gql(LOGIN, attempt("wrong-pass-1"), None).await, "UNAUTHENTICATED");
    }
    assert_code(&platform.gql(LOGIN, attempt("wrong-pass-1"), None).await, "RATE_LIMITED");
    assert_code(&platform.gql(LOGIN, attempt("s3cret-pass"), None).await, "RATE_LIMITED");
}

#[tokio::test]
async fn the_login_rate_limit_trips_per_client_address() {
    let platform = Platform::start().await;
    let limit = platform.services.config().auth.login_limit_per_address;
    let client = reqwest::Client::new();
    let mut codes = Vec::new();
    for n in 0..=limit {
        // Different accounts, one address (forwarded by the router): only the address limit applies.
        let response = client
            .post(platform.router_url())
            .header("X-Forwarded-For", "198.51.100.23")
            .json(&json!({ "query": LOGIN, "variables": { "input": { "login": format!("someone{n}"), "password": "wrong-pass-1" } } }))
            .send()
            .await
            .expect("sent");
        let body: serde_json::Value = response.json().await.expect("json");
        codes.push(body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default().to_owned());
    }
    assert!(codes[..limit as usize].iter().all(|code| code == "UNAUTHENTICATED"), "{codes:?}");
    assert_eq!(codes[limit as usize], "RATE_LIMITED");
}

#[tokio::test]
async fn queries_over_the_depth_limit_are_refused_with_a_code() {
    let platform = Platform::start().await;
    // Deeper than the subgraph limit (12) but within the router's (15): the subgraph refuses.
    let deep = format!(
        "{{ {} }}",
        "__schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } }"
    );
    let direct = platform.post(&platform.subgraph_urls["content"], &deep, json!({}), None).await;
    assert_code(&direct, "BAD_USER_INPUT");
    let through_router = platform.gql(&deep, json!({}), None).await;
    assert!(through_router.status < 500, "{}", through_router.body);
    assert!(!through_router.codes().is_empty() && !through_router.codes().contains(&"<none>".to_owned()), "{}", through_router.body);
}
