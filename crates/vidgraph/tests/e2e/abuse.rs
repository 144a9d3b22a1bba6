//! What an abuser tries first: forged client addresses, view fraud, parallel password guesses,
//! registration bursts; and the rows that only grow, pruned.

use crate::harness::{LOGIN, Platform, REGISTER};
use futures::StreamExt;
use platform::request::TrustedProxies;
use serde_json::{Value, json};

const VIEW: &str = "mutation($id: ID!) { recordView(id: $id) { counted video { stat { views } } } }";

/// POSTs an operation to `url` with an optional `X-Forwarded-For`; returns the JSON body.
async fn post(client: &reqwest::Client, url: &str, query: &str, variables: Value, forwarded_for: Option<&str>) -> Value {
    let mut request = client.post(url).json(&json!({ "query": query, "variables": variables }));
    if let Some(forwarded_for) = forwarded_for {
        request = request.header("X-Forwarded-For", forwarded_for);
    }
    let response = request.send().await.expect("request sent");
    assert!(response.status().as_u16() < 500, "status {}", response.status());
    response.json().await.expect("JSON body")
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

/// The views counter of a video, read back from `content`.
async fn views(platform: &Platform, video: &str) -> Value {
    let reply = platform.gql("query($id: ID!) { video(id: $id) { stat { views } } }", json!({ "id": video }), None).await.ok();
    reply.data("/video/stat/views").clone()
}

#[tokio::test]
async fn a_thousand_anonymous_views_from_one_untrusted_address_count_once_whatever_its_forwarded_header() {
    // The test client talks to `content` from 127.0.0.1, which is not a trusted proxy here.
    let platform = Platform::start_with(|_, config| config.http.trusted_proxies = TrustedProxies::none(), &[]).await;
    let (author, _, _) = platform.register("author").await;
    let video = platform.insert_video(&author, "Bait").await;
    let content = platform.subgraph_urls["content"].clone();
    let client = reqwest::Client::new();

    let bodies: Vec<Value> = futures::stream::iter(0..1000u32)
        .map(|n| {
            let (client, content, video) = (client.clone(), content.clone(), video.clone());
            // A fresh forged address on every call: before the trust boundary, each was a new viewer.
            let forged = format!("198.51.{}.{}", n / 250, n % 250);
            async move { post(&client, &content, VIEW, json!({ "id": video }), Some(&forged)).await }
        })
        .buffer_unordered(16)
        .collect()
        .await;

    let counted = bodies.iter().filter(|body| body["data"]["recordView"]["counted"] == json!(true)).count();
    let refused = bodies.iter().filter(|body| code(body) == "RATE_LIMITED").count();
    let not_counted = bodies.iter().filter(|body| body["data"]["recordView"]["counted"] == json!(false)).count();
    assert_eq!(counted, 1, "one address, one counted view");
    assert_eq!(counted + not_counted + refused, 1000, "every answer is a view record or RATE_LIMITED");
    assert_eq!(
        refused,
        1000 - content::domain::interaction::ANONYMOUS_VIEW_LIMIT.max as usize,
        "past the per-address budget, anonymous views are refused before they touch the database"
    );
    assert_eq!(views(&platform, &video).await, json!(1));
}

#[tokio::test]
async fn a_forwarded_header_counts_only_from_a_trusted_proxy() {
    // Default: loopback is trusted, so what the router (or a local client) forwards is believed.
    let platform = Platform::start().await;
    let (author, _, _) = platform.register("author").await;
    let video = platform.insert_video(&author, "Two viewers").await;
    let client = reqwest::Client::new();
    // Through the router: the client's own header is propagated, the right-most hop is the client.
    let through_router = |forwarded: &'static str| {
        let (client, url, video) = (client.clone(), platform.router_url(), video.clone());
        async move { post(&client, &url, VIEW, json!({ "id": video }), Some(forwarded)).await }
    };
    assert_eq!(through_router("203.0.113.1").await["data"]["recordView"]["counted"], json!(true));
    assert_eq!(through_router("203.0.113.2").await["data"]["recordView"]["counted"], json!(true));
    // A forged left part does not make a new viewer: 203.0.113.2 again.
    assert_eq!(through_router("192.0.2.77, 203.0.113.2").await["data"]["recordView"]["counted"], json!(false));
    assert_eq!(views(&platform, &video).await, json!(2));
}

#[tokio::test]
async fn fifty_parallel_wrong_passwords_get_exactly_the_configured_number_of_verdicts() {
    let platform = Platform::start().await;
    platform.register("ada").await;
    let limit = platform.services.config().auth.login_limit_per_account as usize;
    let client = reqwest::Client::new();
    // Straight to `content` (from loopback, a trusted peer), so nothing in between can merge
    // identical requests; the forwarded address keeps the per-address limit out of the way.
    let attempt = |password: &'static str, from: &'static str| {
        let (client, url) = (client.clone(), platform.subgraph_urls["content"].clone());
        async move { post(&client, &url, LOGIN, json!({ "input": { "login": "ada", "password": password } }), Some(from)).await }
    };

    let bodies = futures::future::join_all((0..50).map(|_| attempt("wrong-pass-1", "203.0.113.10"))).await;
    let codes: Vec<&str> = bodies.iter().map(code).collect();
    assert_eq!(codes.iter().filter(|c| **c == "UNAUTHENTICATED").count(), limit, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == "RATE_LIMITED").count(), 50 - limit, "{codes:?}");
    // From a fresh address, so only the account's limit can refuse it.
    assert_eq!(code(&attempt("s3cret-pass", "203.0.113.11").await), "RATE_LIMITED", "not even the right password gets through now");
}

#[tokio::test]
async fn a_registration_burst_from_one_address_is_rate_limited() {
    let platform = Platform::start_with(|_, config| config.auth.register_limit_per_address = 3, &[]).await;
    let client = reqwest::Client::new();
    let register = |n: u32, forwarded: Option<&'static str>| {
        let (client, url) = (client.clone(), platform.router_url());
        let input =
            json!({ "input": { "email": format!("burst{n}@example.com"), "username": format!("burst{n}"), "password": "s3cret-pass" } });
        async move { post(&client, &url, REGISTER, input, forwarded).await }
    };
    let bodies = futures::future::join_all((0..8).map(|n| register(n, Some("203.0.113.50")))).await;
    let created = bodies.iter().filter(|body| body["data"]["register"]["user"]["id"].is_string()).count();
    let refused = bodies.iter().filter(|body| code(body) == "RATE_LIMITED").count();
    assert_eq!((created, refused), (3, 5), "{bodies:?}");
    // Another network still can.
    assert!(register(100, Some("203.0.113.51")).await["data"]["register"]["user"]["id"].is_string());
}

#[tokio::test]
async fn password_hashing_never_runs_more_hashes_at_once_than_the_pool_allows() {
    let platform = Platform::start().await;
    let client = reqwest::Client::new();
    // Distinct forwarded addresses (the router on loopback is trusted): no rate limit applies,
    // every registration hashes.
    let bodies = futures::future::join_all((0..12u32).map(|n| {
        let (client, url) = (client.clone(), platform.router_url());
        let input =
            json!({ "input": { "email": format!("many{n}@example.com"), "username": format!("many{n}"), "password": "s3cret-pass" } });
        async move { post(&client, &url, REGISTER, input, Some(&format!("203.0.113.{n}"))).await }
    }))
    .await;
    assert!(bodies.iter().all(|body| body["data"]["register"]["user"]["id"].is_string()), "{bodies:?}");
    let pool = content::domain::password::hashing();
    assert!(pool.peak_in_flight() >= 1, "the registrations hashed in the pool");
    assert!(pool.peak_in_flight() <= pool.size(), "peak {} over {} permits", pool.peak_in_flight(), pool.size());
}

#[tokio::test]
async fn one_prune_pass_deletes_expired_rows_and_keeps_live_ones() {
    use content::domain::housekeeping::{Housekeeping, PruneReport};
    use diesel_async::RunQueryDsl;
    let platform = Platform::start().await;
    let (author, _, _) = platform.register("author").await;
    let video = platform.insert_video(&author, "Pruned").await;
    let db = platform.db();
    let mut conn = db.pool.get().await.expect("connection");
    let now = chrono::Utc::now();
    let days = |n: i64| now - chrono::Duration::days(n);
    let minutes = |n: i64| now - chrono::Duration::minutes(n);

    // Views: old and fresh anonymous markers, and an old signed-in one (the `watched` flag).
    for (key, at) in [("addr:198.51.100.1", minutes(31)), ("addr:198.51.100.2", minutes(5)), (&*format!("user:{author}"), days(40))] {
        diesel::sql_query("INSERT INTO content.video_views (video_id, viewer_key, last_counted_at) VALUES ($1::uuid, $2, $3)")
            .bind::<diesel::sql_types::Text, _>(&video)
            .bind::<diesel::sql_types::Text, _>(key)
            .bind::<diesel::sql_types::Timestamptz, _>(at)
            .execute(&mut conn)
            .await
            .expect("insert view");
    }
    // Refresh tokens (beside the one `register` issued): expired long ago, expired within the
    // grace, revoked long ago, used but live (kept for reuse detection), live.
    let grace_days = i64::try_from(platform.services.config().auth.refresh_prune_grace_secs / 86_400).expect("days");
    type Time = chrono::DateTime<chrono::Utc>;
    // (name, expires_at, used_at, revoked_at)
    let tokens: [(&str, Time, Option<Time>, Option<Time>); 5] = [
        ("expired-old", days(grace_days + 1), None, None),
        ("expired-recent", days(1), None, None),
        ("revoked-old", now + chrono::Duration::days(20), None, Some(days(grace_days + 1))),
        ("used-live", now + chrono::Duration::days(20), Some(days(grace_days + 1)), None),
        ("live", now + chrono::Duration::days(20), None, None),
    ];
    for (name, expires_at, used_at, revoked_at) in tokens {
        diesel::sql_query(
            "INSERT INTO content.refresh_tokens (id, family_id, user_id, token_hash, expires_at, used_at, revoked_at) \
             VALUES (gen_random_uuid(), gen_random_uuid(), $1::uuid, convert_to($2, 'UTF8'), $3, $4, $5)",
        )
        .bind::<diesel::sql_types::Text, _>(&author)
        .bind::<diesel::sql_types::Text, _>(name)
        .bind::<diesel::sql_types::Timestamptz, _>(expires_at)
        .bind::<diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>, _>(used_at)
        .bind::<diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>, _>(revoked_at)
        .execute(&mut conn)
        .await
        .expect("insert token");
    }

    let uploads = content::domain::upload::Uploads::from_config(db.clone(), &platform.services.config()).expect("uploads");
    let housekeeping = Housekeeping::new(db.clone(), uploads, platform.services.config().auth.refresh_prune_grace_secs);
    assert_eq!(housekeeping.prune(now).await.expect("prune"), PruneReport { anonymous_views: 1, refresh_tokens: 2 });
    assert_eq!(housekeeping.prune(now).await.expect("prune again"), PruneReport::default(), "a second pass finds nothing");

    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let names = |sql: &'static str| {
        let db = db.clone();
        async move {
            let mut conn = db.pool.get().await.expect("connection");
            let mut names: Vec<String> =
                diesel::sql_query(sql).load::<Name>(&mut conn).await.expect("names").into_iter().map(|n| n.name).collect();
            names.sort();
            names
        }
    };
    let kept_views = names("SELECT viewer_key AS name FROM content.video_views").await;
    assert_eq!(kept_views, ["addr:198.51.100.2".to_owned(), format!("user:{author}")]);
    let kept_tokens =
        names("SELECT convert_from(token_hash, 'UTF8') AS name FROM content.refresh_tokens WHERE length(token_hash) < 20").await;
    assert_eq!(kept_tokens, ["expired-recent", "live", "used-live"]);
    let issued = names("SELECT 'issued' AS name FROM content.refresh_tokens WHERE length(token_hash) >= 20").await;
    assert_eq!(issued.len(), 1, "the session `register` issued is kept");
}

#[tokio::test]
async fn stat_buckets_older_than_the_longest_window_are_pruned_and_the_rest_kept() {
    use diesel_async::RunQueryDsl;
    let services = platform::testkit::TestServices::new().await;
    let db = platform::db::Db::connect(&services.config().db, "e2e-arrange");
    let mut conn = db.pool.get().await.expect("connection");
    let now: chrono::DateTime<chrono::Utc> = "2026-12-01T10:30:00Z".parse().expect("time");
    let video = uuid::Uuid::now_v7();
    let hours_ago = [1_i64, 24 * 29, 24 * 30, 24 * 30 + 2, 24 * 90];
    for hours in hours_ago {
        diesel::sql_query("INSERT INTO ranking.stat_buckets (video_id, bucket, views) VALUES ($1, date_trunc('hour', $2::timestamptz), 1)")
            .bind::<diesel::sql_types::Uuid, _>(video)
            .bind::<diesel::sql_types::Timestamptz, _>(now - chrono::Duration::hours(hours))
            .execute(&mut conn)
            .await
            .expect("insert bucket");
    }

    assert_eq!(ranking::prune_stat_buckets(&db, now).await.expect("prune"), 2, "the buckets that start more than 30 days and an hour ago");
    assert_eq!(ranking::prune_stat_buckets(&db, now).await.expect("prune again"), 0);

    #[derive(diesel::QueryableByName)]
    struct Bucket {
        #[diesel(sql_type = diesel::sql_types::Timestamptz)]
        bucket: chrono::DateTime<chrono::Utc>,
    }
    let kept: Vec<Bucket> =
        diesel::sql_query("SELECT bucket FROM ranking.stat_buckets ORDER BY bucket DESC").load(&mut conn).await.expect("buckets");
    let kept: Vec<i64> = kept.iter().map(|b| (now - b.bucket).num_minutes()).collect();
    // Bucket starts are whole hours, so each is 30 minutes older than the time it was written for.
    assert_eq!(kept, [90, 24 * 29 * 60 + 30, 24 * 30 * 60 + 30], "everything the month window reads is kept, plus the margin");
}
