//! Feeds and search through the router: per region, following (fed by follow events),
//! per user, and full-text search in Chinese and English.

use crate::harness::Platform;
use chrono::Utc;
use platform::events::{FOLLOW_EVENT_KIND, FOLLOW_STREAM, FollowEvent};
use serde_json::json;

const CREATE: &str = "mutation($input: CreateVideoInput!) { createVideo(input: $input) { id } }";

async fn publish(platform: &Platform, token: &str, title: &str, region: i32, tags: &[&str], description: &str) -> String {
    let input = json!({
        "title": title, "regionId": region, "tags": tags, "description": description,
        "durationSecs": 120, "sourceUrl": "https://cdn.example.com/v.mp4",
    });
    let reply = platform.gql(CREATE, json!({ "input": input }), Some(token)).await.ok();
    reply.data("/createVideo/id").as_str().expect("id").to_owned()
}

#[tokio::test]
async fn region_user_and_following_feeds_page_newest_first() {
    let platform = Platform::start().await;
    let (alice_id, alice, _) = platform.register("alice").await;
    let (bob_id, bob, _) = platform.register("bob").await;
    let (_, carol, _) = platform.register("carol").await;
    let a1 = publish(&platform, &alice, "Alice one", 2, &[], "").await;
    let b1 = publish(&platform, &bob, "Bob one", 3, &[], "").await;
    let a2 = publish(&platform, &alice, "Alice two", 2, &[], "").await;
    let b2 = publish(&platform, &bob, "Bob two", 2, &[], "").await;

    let all = platform.gql("{ videos(first: 10) { edges { node { id } } } }", json!({}), None).await.ok();
    assert_eq!(all.node_ids("videos"), [b2.clone(), a2.clone(), b1.clone(), a1.clone()]);
    let music = platform.gql("{ videos(regionId: 2) { edges { node { id } } } }", json!({}), None).await.ok();
    assert_eq!(music.node_ids("videos"), [b2.clone(), a2.clone(), a1.clone()]);

    // two pages of two, no overlap, the second knows it is last
    let page = "query($after: String) { userVideos(userId: \"USER\", first: 1, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }"
        .replace("USER", &alice_id);
    let first = platform.gql(&page, json!({}), None).await.ok();
    assert_eq!(first.node_ids("userVideos"), std::slice::from_ref(&a2));
    let cursor = first.data("/userVideos/pageInfo/endCursor").clone();
    let second = platform.gql(&page, json!({ "after": cursor }), None).await.ok();
    assert_eq!(second.node_ids("userVideos"), std::slice::from_ref(&a1));
    assert_eq!(second.data("/userVideos/pageInfo/hasNextPage"), &json!(false));

    // following: carol follows alice and bob (community's events), then unfollows bob; a
    // redelivered old "follow bob" changes nothing
    let following = "{ followingFeed(first: 10) { edges { node { id author { username } } } } }";
    assert_eq!(platform.gql(following, json!({}), None).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(platform.gql(following, json!({}), Some(&carol)).await.ok().node_ids("followingFeed"), Vec::<String>::new());
    let carol_id = platform.gql("{ me { id } }", json!({}), Some(&carol)).await.ok().data("/me/id").as_str().expect("id").to_owned();
    let t0 = Utc::now();
    let follow = |followee: &str, following: bool, at: chrono::DateTime<Utc>| FollowEvent {
        event_id: uuid::Uuid::now_v7(),
        follower_id: carol_id.parse().expect("id"),
        followee_id: followee.parse().expect("id"),
        following,
        changed_at: at,
    };
    let stale_follow = follow(&bob_id, true, t0);
    publish_follow(&platform, &follow(&alice_id, true, t0)).await;
    publish_follow(&platform, &stale_follow).await;
    let feed = wait_for_feed(&platform, &carol, 4).await;
    assert_eq!(feed, [b2.clone(), a2.clone(), b1.clone(), a1.clone()]);
    publish_follow(&platform, &follow(&bob_id, false, t0 + chrono::Duration::seconds(1))).await;
    publish_follow(&platform, &FollowEvent { event_id: uuid::Uuid::now_v7(), ..stale_follow }).await;
    let feed = wait_for_feed(&platform, &carol, 2).await;
    assert_eq!(feed, [a2, a1]);
}

async fn publish_follow(platform: &Platform, event: &FollowEvent) {
    let nats = platform.nats().await;
    FOLLOW_STREAM.ensure(&nats).await.expect("stream");
    let subject = FOLLOW_STREAM.subject(&nats, FOLLOW_EVENT_KIND);
    let ack = nats.jetstream.publish(subject, serde_json::to_vec(event).expect("json").into()).await.expect("publish");
    ack.await.expect("stored");
}

/// The following feed once it has `count` items (the projection follows the events
/// asynchronously): polls the API, which is what a client would see, for up to 10 s.
async fn wait_for_feed(platform: &Platform, token: &str, count: usize) -> Vec<String> {
    let query = "{ followingFeed(first: 10) { edges { node { id } } } }";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let feed = platform.gql(query, json!({}), Some(token)).await.ok().node_ids("followingFeed");
        if feed.len() == count || std::time::Instant::now() > deadline {
            return feed;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn search_finds_english_and_chinese_words_and_parts_sorted_and_filtered() {
    let platform = Platform::start().await;
    let (_, up, _) = platform.register("searcher").await;
    let genshin = publish(&platform, &up, "原神 新版本实况", 3, &["原神", "游戏"], "须弥雨林探索").await;
    let pork = publish(&platform, &up, "手把手教你做红烧肉", 6, &["美食"], "家常菜").await;
    let rust = publish(&platform, &up, "Rust async in 10 minutes", 4, &["rust", "programming"], "Futures and executors").await;
    let tokio_video = publish(&platform, &up, "Tokio deep dive", 4, &["rust"], "An async runtime for Rust").await;
    let _noise = publish(&platform, &up, "Lo-fi beats", 2, &["music"], "").await;

    let search = "query($q: String!, $region: Int, $sort: VideoSearchSort) { \
        searchVideos(query: $q, regionId: $region, sort: $sort, first: 10) { edges { node { id } } } }";
    let run = async |q: &str, region: Option<i32>, sort: &str| {
        platform.gql(search, json!({ "q": q, "region": region, "sort": sort }), None).await.ok().node_ids("searchVideos")
    };

    assert_eq!(run("原神", None, "RELEVANCE").await, std::slice::from_ref(&genshin), "a CJK word inside a title");
    assert_eq!(run("红烧", None, "RELEVANCE").await, std::slice::from_ref(&pork), "part of a CJK word");
    assert_eq!(run("雨林", None, "RELEVANCE").await, std::slice::from_ref(&genshin), "CJK text in the description");
    assert_eq!(run("minutes", None, "RELEVANCE").await, std::slice::from_ref(&rust), "an English word");
    assert_eq!(run("execut", None, "RELEVANCE").await, std::slice::from_ref(&rust), "part of an English word");
    // "rust" is in the title and tags of one, in tags and description of the other: the title wins
    assert_eq!(run("Rust", None, "RELEVANCE").await, [rust.clone(), tokio_video.clone()]);
    assert_eq!(run("rust", None, "NEWEST").await, [tokio_video.clone(), rust.clone()]);
    assert_eq!(run("rust", Some(6), "RELEVANCE").await, Vec::<String>::new(), "filtered by region");

    // most viewed: one view for the Tokio video
    platform.gql("mutation($id: ID!) { recordView(id: $id) { counted } }", json!({ "id": tokio_video }), None).await.ok();
    assert_eq!(run("rust", None, "MOST_VIEWED").await, [tokio_video.clone(), rust.clone()]);

    // paging through offsets, and bad input
    let paged = "query($after: String) { searchVideos(query: \"rust\", sort: NEWEST, first: 1, after: $after) { \
        edges { node { id } } pageInfo { hasNextPage endCursor } } }";
    let first = platform.gql(paged, json!({}), None).await.ok();
    assert_eq!(first.data("/searchVideos/pageInfo/hasNextPage"), &json!(true));
    let second = platform.gql(paged, json!({ "after": first.data("/searchVideos/pageInfo/endCursor") }), None).await.ok();
    assert_eq!(second.node_ids("searchVideos"), [rust]);
    assert_eq!(second.data("/searchVideos/pageInfo/hasNextPage"), &json!(false));
    for bad in [json!({ "q": "  " }), json!({ "q": "x".repeat(101) }), json!({ "q": "rust", "region": 99 })] {
        assert_eq!(platform.gql(search, bad, None).await.codes(), ["BAD_USER_INPUT"]);
    }
    let wildcard = platform.gql(search, json!({ "q": "%" }), None).await.ok();
    assert_eq!(wildcard.node_ids("searchVideos"), Vec::<String>::new(), "a LIKE wildcard matches itself only");
}

#[tokio::test]
async fn search_relevance_ranks_title_hits_first_then_other_matches_newest_first() {
    let platform = Platform::start().await;
    let (_, up, _) = platform.register("tiers").await;
    // published oldest first: recency decides only within a tier
    let title_old = publish(&platform, &up, "Zorbik review", 1, &[], "").await;
    let tag = publish(&platform, &up, "Morning run", 1, &["zorbik"], "").await;
    let description = publish(&platform, &up, "Evening walk", 1, &[], "A walk with the zorbik").await;
    let title_new = publish(&platform, &up, "The ZORBIK sequel", 1, &[], "").await;
    let cjk = publish(&platform, &up, "周末", 1, &["美食教程"], "").await;

    let search = "query($q: String!) { searchVideos(query: $q, first: 10) { edges { node { id } } } }";
    let run = async |q: &str| platform.gql(search, json!({ "q": q }), None).await.ok().node_ids("searchVideos");
    let expected = [title_new, title_old, description, tag];
    assert_eq!(run("zorbik").await, expected);
    assert_eq!(run("orbi").await, expected, "parts of words rank the same way");
    // two CJK characters inside a longer run (a tag): found by its bigram
    assert_eq!(run("食教").await, std::slice::from_ref(&cjk));
    assert_eq!(run("教程").await, [cjk]);
}

/// The relevance order (title hits, then the other matches; newest first within each),
/// computed the plain way over every match: what either plan of `store::search` must return.
async fn relevance_oracle(conn: &mut diesel_async::AsyncPgConnection, word: &str, offset: i64, limit: i64) -> Vec<String> {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
    }
    let rows: Vec<Id> = diesel::sql_query(
        "SELECT id::text AS id FROM content.videos WHERE state = 'published' AND \
            (title ILIKE '%' || $1 || '%' OR array_to_string(tags, ' ') ILIKE '%' || $1 || '%' OR description ILIKE '%' || $1 || '%') \
         ORDER BY title ILIKE '%' || $1 || '%' DESC, \
            published_at DESC, id DESC OFFSET $2 LIMIT $3",
    )
    .bind::<diesel::sql_types::Text, _>(word)
    .bind::<diesel::sql_types::BigInt, _>(offset)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load(conn)
    .await
    .expect("oracle");
    rows.into_iter().map(|row| row.id).collect()
}

#[tokio::test]
async fn search_relevance_pages_are_the_same_whichever_plan_serves_them() {
    use content::store::search::{FEW_MATCHES, MIN_WALK, RelevancePlan, relevance_ids};
    use diesel_async::RunQueryDsl;
    let platform = Platform::start().await;
    let (author, _, _) = platform.register("bulk").await;
    let db = platform.db();
    let mut conn = db.pool.get().await.expect("connection");
    // Five times the least walk, one a minute, newest first: `qcommon` in every 10th title
    // (1,000 title hits), `qold` in the titles of the oldest 400 but the other words' (359:
    // more than a few, none among the newest), `qtagword` in every 3rd video's tags only, `qrare` in ten titles, ten
    // tags and ten descriptions (a few).
    let videos = 5 * MIN_WALK;
    const { assert!(359 > FEW_MATCHES && 30 < FEW_MATCHES) };
    diesel::sql_query(
        "INSERT INTO content.videos (id, author_id, region_id, title, description, duration_secs, state, published_at, tags) \
         SELECT gen_random_uuid(), $1::uuid, 1 + g % 3, \
                CASE WHEN g % 10 = 0 THEN 'Video qcommon ' || g WHEN g % 1000 = 7 THEN 'qrare ' || g \
                     WHEN g > $2 - 400 THEN 'Video qold ' || g ELSE 'Video ' || g END, \
                CASE WHEN g % 1000 = 9 THEN 'about qrare' ELSE 'Just a video' END, 60, 'published', \
                now() - g * interval '1 minute', \
                CASE WHEN g % 3 = 0 THEN ARRAY['qtagword'] WHEN g % 1000 = 8 THEN ARRAY['qrare'] ELSE ARRAY['misc'] END \
         FROM generate_series(1, $2) AS g",
    )
    .bind::<diesel::sql_types::Text, _>(&author)
    .bind::<diesel::sql_types::BigInt, _>(videos)
    .execute(&mut conn)
    .await
    .expect("bulk videos");
    diesel::sql_query("INSERT INTO content.video_stats (video_id) SELECT id FROM content.videos ON CONFLICT DO NOTHING")
        .execute(&mut conn)
        .await
        .expect("stats");

    let paged = "query($q: String!, $after: String) { searchVideos(query: $q, first: 20, after: $after) { edges { node { id } } } }";
    let cases = [
        ("qcommon", 0, RelevancePlan::NewestTitleHits),
        ("qcommon", 40, RelevancePlan::NewestTitleHits),
        ("qcommon", 600, RelevancePlan::NewestTitleHits),
        ("qcommon", 990, RelevancePlan::AllMatches),
        ("qold", 0, RelevancePlan::AllTitleHits),
        ("qold", 340, RelevancePlan::AllMatches),
        ("qtagword", 0, RelevancePlan::NewestOtherHits),
        ("qtagword", 40, RelevancePlan::NewestOtherHits),
        ("qrare", 0, RelevancePlan::FewMatches),
        ("qrare", 20, RelevancePlan::FewMatches),
    ];
    for (word, offset, plan) in cases {
        // the API asks for one row more than the page (to know whether another follows)
        let page = relevance_ids(&mut conn, word, None, offset, 21).await.expect("relevance ids");
        assert_eq!(page.plan, plan, "{word} from {offset}");
        let oracle = relevance_oracle(&mut conn, word, offset, 20).await;
        assert!(!oracle.is_empty(), "{word} from {offset} matches something");
        let after = (offset > 0).then(|| content::domain::video::OffsetCursor(offset).encode());
        let reply = platform.gql(paged, json!({ "q": word, "after": after }), None).await.ok();
        assert_eq!(reply.node_ids("searchVideos"), oracle, "{word} from {offset}");
    }
}
