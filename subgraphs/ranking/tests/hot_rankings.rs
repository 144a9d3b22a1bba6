//! The hot rankings against real PostgreSQL and Redis, driven with content's events and a
//! controllable clock.

use chrono::{DateTime, Duration, Utc};
use platform::Deps;
use platform::clock::{Clock, ManualClock, SharedClock};
use platform::events::{StatAction, StatCounts, StatEvent, VideoLifecycleEvent};
use platform::testkit::TestServices;
use std::sync::Arc;
use uuid::Uuid;
use vidgraph_ranking::domain::hot::{HotWeights, TimeRange};
use vidgraph_ranking::domain::rankings::HotRankings;
use vidgraph_ranking::domain::recompute::RunOutcome;

struct World {
    _services: TestServices,
    deps: Deps,
    clock: Arc<ManualClock>,
    rankings: HotRankings,
}

fn start_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z").expect("time").with_timezone(&Utc)
}

async fn world() -> World {
    let services = TestServices::new().await;
    let deps = Deps::connect(services.config(), "ranking-test").await.expect("deps");
    let clock = ManualClock::starting_at(start_time());
    let shared: SharedClock = clock.clone();
    let rankings = vidgraph_ranking::hot_rankings(&deps, shared).await.expect("rankings");
    World { _services: services, deps, clock, rankings }
}

/// A stat event of `video` that happened at `at`, adding `delta` to `totals`.
fn stat(video: Uuid, region: i32, published: DateTime<Utc>, at: DateTime<Utc>, delta: StatCounts, totals: StatCounts) -> StatEvent {
    StatEvent {
        event_id: Uuid::now_v7(),
        video_id: video,
        author_id: Uuid::nil(),
        region_id: region,
        published_at: Some(published),
        viewer_id: None,
        action: StatAction::Like,
        delta,
        totals,
        occurred_at: at,
    }
}

#[derive(diesel::QueryableByName)]
struct Total {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn likes(n: i64) -> StatCounts {
    StatCounts { likes: n, ..StatCounts::default() }
}

async fn ids(world: &World, range: TimeRange, region: Option<i32>) -> Vec<Uuid> {
    world.rankings.page(range, region, 1, 100).await.expect("page").entries.into_iter().map(|(id, _)| id).collect()
}

/// Rebuilds the rankings (the first read of an empty Redis needs one anyway).
async fn rebuild(world: &World) {
    let run = world.rankings.job().claim("test", None).await.expect("claim").expect("no other run");
    assert!(matches!(world.rankings.job().execute(run, None).await.expect("run"), RunOutcome::Finished(_)));
}

#[tokio::test]
async fn day_counts_only_recent_growth_and_all_counts_everything() {
    let world = world().await;
    let now = world.clock.now();
    let (old, fresh) = (Uuid::now_v7(), Uuid::now_v7());
    let month_ago = now - Duration::days(40);
    // `old`: 1000 likes long ago, nothing since; `fresh`: 50 likes in the last hour.
    world.rankings.apply_stat_event(&stat(old, 1, month_ago, month_ago, likes(1000), likes(1000))).await.expect("old");
    world
        .rankings
        .apply_stat_event(&stat(fresh, 2, now - Duration::days(3), now - Duration::minutes(30), likes(50), likes(50)))
        .await
        .expect("fresh");
    rebuild(&world).await;

    assert_eq!(ids(&world, TimeRange::All, None).await, [old, fresh]);
    assert_eq!(ids(&world, TimeRange::Day, None).await, [fresh], "no growth today: not in the day ranking");
    assert_eq!(ids(&world, TimeRange::Month, None).await, [fresh]);
    assert_eq!(ids(&world, TimeRange::All, Some(2)).await, [fresh], "per region");
    let page = world.rankings.page(TimeRange::All, None, 1, 1).await.expect("page");
    assert_eq!((page.total, page.entries[0].1), (2, 1000 * 10), "likes weigh 10 by default");
}

#[tokio::test]
async fn the_new_video_boost_and_new_weights_change_the_order_without_a_restart() {
    let world = world().await;
    let now = world.clock.now();
    let (viewed, liked) = (Uuid::now_v7(), Uuid::now_v7());
    let old = now - Duration::days(10);
    world
        .rankings
        .apply_stat_event(&stat(
            viewed,
            1,
            old,
            old,
            StatCounts { views: 900, ..Default::default() },
            StatCounts { views: 900, ..Default::default() },
        ))
        .await
        .expect("views");
    // 80 likes = 800 points, boosted ×1.5 to 1200 while the video is under 24 h old
    let young = now - Duration::hours(2);
    world.rankings.apply_stat_event(&stat(liked, 1, young, young, likes(80), likes(80))).await.expect("likes");
    rebuild(&world).await;
    assert_eq!(ids(&world, TimeRange::All, None).await, [liked, viewed]);
    let boosted = world.rankings.page(TimeRange::All, None, 1, 1).await.expect("page").entries[0].1;
    assert_eq!(boosted, 1200);

    // an admin stores new weights: views count 2, likes 1 (what the mutation does, minus GraphQL)
    let weights = HotWeights::parse(HotWeights {
        views: 2,
        likes: 1,
        coins: 0,
        favourites: 0,
        shares: 0,
        comments: 0,
        danmaku: 0,
        new_boost_percent: 100,
        new_boost_hours: 0,
    })
    .expect("weights");
    let mut conn = world.deps.db.pool.get().await.expect("conn");
    vidgraph_ranking::store::weights::insert(&mut conn, &weights, Uuid::now_v7()).await.expect("store weights");
    world.rankings.weights().reload(&world.deps.db).await.expect("reload");
    rebuild(&world).await;
    assert_eq!(ids(&world, TimeRange::All, None).await, [viewed, liked], "the same service, new weights");
}

#[tokio::test]
async fn a_killed_recompute_resumes_from_its_checkpoint_and_ends_equal_to_a_clean_run() {
    let world = world().await;
    let now = world.clock.now();
    for n in 0..25i64 {
        let video = Uuid::now_v7();
        let at = now - Duration::hours(n * 10);
        world
            .rankings
            .apply_stat_event(&stat(video, 1 + (n % 3) as i32, at, at, likes(n * 7 % 11 + 1), likes(n * 7 % 11 + 1)))
            .await
            .expect("event");
    }
    let job = world.rankings.job().clone().with_batch_size(4);
    // a clean run, for reference
    let clean = job.claim("clean", None).await.expect("claim").expect("run");
    assert!(matches!(job.execute(clean, None).await.expect("clean run"), RunOutcome::Finished(_)));
    let mut expected = Vec::new();
    for range in TimeRange::ALL {
        expected.push(world.rankings.page(range, None, 1, 100).await.expect("page").entries);
    }

    // a run killed after 2 of its 7 batches keeps its lease and checkpoint
    let run = job.claim("killed", None).await.expect("claim").expect("run");
    let RunOutcome::Interrupted(killed) = job.execute(run, Some(2)).await.expect("interrupted") else { panic!("not interrupted") };
    assert_eq!(killed.videos_processed, 8);
    assert!(killed.checkpoint.is_some());
    // another replica cannot take it while the lease holds; once it lapses, it resumes
    let other = vidgraph_ranking::domain::recompute::RecomputeJob::new(
        world.deps.db.clone(),
        vidgraph_ranking::store::hot_boards::HotBoards::new(world.deps.redis.clone()),
        world.clock.clone(),
        "other-replica".into(),
    )
    .with_batch_size(4);
    assert!(other.claim("again", None).await.expect("claim").is_none(), "one run at a time");
    world.clock.advance(Duration::minutes(2));
    let resumed = other.claim("again", None).await.expect("claim").expect("taken over");
    assert_eq!((resumed.id, resumed.videos_processed), (killed.id, 8));
    let RunOutcome::Finished(finished) = other.execute(resumed, None).await.expect("resumed") else { panic!("not finished") };
    assert_eq!(finished.videos_processed, 25, "resumed after the checkpoint, not from the start");
    for (range, expected) in TimeRange::ALL.into_iter().zip(expected) {
        assert_eq!(world.rankings.page(range, None, 1, 100).await.expect("page").entries, expected, "{range:?}");
    }
}

#[tokio::test]
async fn readers_during_a_rebuild_see_the_whole_old_ranking_or_the_whole_new_one() {
    let world = world().await;
    let now = world.clock.now();
    for n in 0..40i64 {
        let at = now - Duration::days(2);
        world.rankings.apply_stat_event(&stat(Uuid::now_v7(), 1, at, at, likes(n + 1), likes(n + 1))).await.expect("event");
    }
    rebuild(&world).await;
    let job = world.rankings.job().clone().with_batch_size(3);
    let run = job.claim("rebuild", None).await.expect("claim").expect("run");
    let reader = {
        let rankings = world.rankings.clone();
        tokio::spawn(async move {
            let mut reads = 0;
            loop {
                let page = rankings.page(TimeRange::All, None, 1, 100).await.expect("page");
                assert_eq!((page.total, page.entries.len()), (40, 40), "a reader saw a partial ranking");
                reads += 1;
                if reads >= 200 {
                    return reads;
                }
                tokio::task::yield_now().await;
            }
        })
    };
    assert!(matches!(job.execute(run, None).await.expect("run"), RunOutcome::Finished(_)));
    assert_eq!(reader.await.expect("reader"), 200);
}

#[tokio::test]
async fn removed_videos_leave_every_ranking_at_once_and_duplicates_count_once() {
    let world = world().await;
    let now = world.clock.now();
    let (kept, removed) = (Uuid::now_v7(), Uuid::now_v7());
    world.rankings.apply_stat_event(&stat(kept, 3, now, now, likes(1), likes(1))).await.expect("kept");
    let event = stat(removed, 3, now, now, likes(5), likes(5));
    world.rankings.apply_stat_event(&event).await.expect("removed");
    world.rankings.apply_stat_event(&event).await.expect("redelivered");
    rebuild(&world).await;
    assert_eq!(ids(&world, TimeRange::Day, Some(3)).await, [removed, kept]);
    let mut conn = world.deps.db.pool.get().await.expect("conn");
    let buckets: Total = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query("SELECT coalesce(sum(likes), 0)::bigint AS n FROM ranking.stat_buckets"),
        &mut conn,
    )
    .await
    .expect("sum");
    let buckets = buckets.n;
    assert_eq!(buckets, 6, "the redelivered event was applied once");

    let gone = VideoLifecycleEvent {
        event_id: Uuid::now_v7(),
        video_id: removed,
        author_id: Uuid::nil(),
        region_id: 3,
        state: "removed".into(),
        published_at: Some(now),
        occurred_at: now,
    };
    world.rankings.apply_lifecycle_event(&gone).await.expect("lifecycle");
    for range in TimeRange::ALL {
        assert_eq!(ids(&world, range, None).await, [kept], "{range:?}");
        assert_eq!(ids(&world, range, Some(3)).await, [kept], "{range:?} in the region");
    }
    rebuild(&world).await;
    assert_eq!(ids(&world, TimeRange::All, None).await, [kept], "a rebuild does not bring it back");
}

#[tokio::test]
async fn a_flushed_redis_is_rebuilt_from_postgres_on_the_next_read() {
    let world = world().await;
    let now = world.clock.now();
    let video = Uuid::now_v7();
    world.rankings.apply_stat_event(&stat(video, 1, now, now, likes(3), likes(3))).await.expect("event");
    rebuild(&world).await;
    let prefix = world.deps.config.redis.key_prefix.clone();
    let mut conn = world.deps.redis.pool.get().await.expect("redis");
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut *conn).await.expect("keys");
    assert!(!keys.is_empty());
    let _: () = redis::cmd("DEL").arg(&keys).query_async(&mut *conn).await.expect("flush");
    assert_eq!(ids(&world, TimeRange::All, None).await, [video], "rebuilt on read");
}

#[tokio::test]
async fn recommendations_follow_the_viewers_taste_skip_what_they_watched_and_fall_back_to_hot() {
    let world = world().await;
    let now = world.clock.now();
    let viewer = Uuid::now_v7();
    let (loved_author, other_author) = (Uuid::now_v7(), Uuid::now_v7());
    let old = now - Duration::days(5);
    let video = |author: Uuid, region: i32, likes_count: i64, viewer: Option<Uuid>, action: StatAction| {
        let id = Uuid::now_v7();
        let mut event = stat(id, region, old, now - Duration::hours(1), likes(likes_count), likes(likes_count));
        event.author_id = author;
        event.viewer_id = viewer;
        event.action = action;
        (id, event)
    };
    // the viewer liked one video of `loved_author` (region 4) and watched another
    let (liked, liked_event) = video(loved_author, 4, 1, Some(viewer), StatAction::Like);
    let (seen, seen_event) = video(loved_author, 4, 1, Some(viewer), StatAction::View);
    // one more of that author they have not met, and popular videos of someone else
    let (unseen, unseen_event) = video(loved_author, 4, 1, None, StatAction::Like);
    let (popular, popular_event) = video(other_author, 1, 500, None, StatAction::Like);
    for event in [&liked_event, &seen_event, &unseen_event, &popular_event] {
        world.rankings.apply_stat_event(event).await.expect("event");
    }
    rebuild(&world).await;

    let for_viewer = world.rankings.recommended(Some(viewer), 0, 10).await.expect("recommend");
    assert!(for_viewer[..2].contains(&unseen) && for_viewer[..2].contains(&liked), "the loved author's videos first: {for_viewer:?}");
    assert!(!for_viewer.contains(&seen), "never what they watched");
    assert!(for_viewer.contains(&popular));
    let anonymous = world.rankings.recommended(None, 0, 10).await.expect("hot list");
    assert_eq!(anonymous.first(), Some(&popular), "anonymous: the hot list");
    assert!(anonymous.contains(&seen));
}

#[tokio::test]
async fn content_events_published_during_a_postgres_outage_longer_than_any_delivery_budget_are_each_applied_once() {
    use async_nats::jetstream::consumer::pull;
    use platform::consumer::RetryPolicy;
    use platform::events::{CONTENT_STREAM, STAT_EVENT_KIND};
    use platform::testkit::FaultProxy;
    use std::time::Duration as StdDuration;
    use vidgraph_ranking::events::content::{DURABLE, content_consumer};

    let world = world().await;
    // The consumer reaches Postgres through a proxy and waits 200 ms at most for a connection.
    let mut config = world._services.config();
    let postgres = FaultProxy::in_front_of_url(&mut config.db.url).await;
    config.db.connect_timeout_ms = 200;
    let proxied = Deps::connect(config, "ranking-consumer").await.expect("deps");
    let rankings = vidgraph_ranking::hot_rankings(&proxied, world.clock.clone()).await.expect("rankings");
    let nats = world.deps.nats.clone();
    let mut stream = CONTENT_STREAM.ensure(&nats).await.expect("stream");
    let retry = RetryPolicy { initial: StdDuration::from_millis(50), max: StdDuration::from_millis(200) };
    let consumer = tokio::spawn(content_consumer(rankings, &nats).retry(retry).run(nats.clone()));

    postgres.cut().await;
    let now = world.clock.now();
    let video = Uuid::now_v7();
    let events: Vec<StatEvent> = (1..=3).map(|n| stat(video, 2, now, now + Duration::seconds(n), likes(1), likes(n))).collect();
    let subject = CONTENT_STREAM.subject(&nats, STAT_EVENT_KIND);
    for event in events.iter().chain([&events[0]]) {
        let payload = serde_json::to_vec(event).expect("json");
        nats.jetstream.publish(subject.clone(), payload.into()).await.expect("publish").await.expect("stored");
    }
    // Four messages, 41 deliveries: one of them was delivered at least 11 times, beyond a cap of 10.
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(90);
    let delivered = |count: u64| {
        let stream = stream.clone();
        async move {
            match stream.get_consumer::<pull::Config>(DURABLE).await {
                Ok(mut consumer) => consumer.info().await.map(|info| info.delivered.consumer_sequence >= count).unwrap_or(false),
                Err(_) => false,
            }
        }
    };
    while !delivered(41).await {
        assert!(tokio::time::Instant::now() < deadline, "the consumer was not redelivered in time");
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }

    postgres.restore();
    let last = stream.info().await.expect("info").state.last_sequence;
    loop {
        let mut consumer = stream.get_consumer::<pull::Config>(DURABLE).await.expect("consumer");
        if consumer.info().await.expect("info").ack_floor.stream_sequence >= last {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the consumer did not catch up in time");
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    consumer.abort();

    let mut conn = world.deps.db.pool.get().await.expect("conn");
    let sum: Total = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query("SELECT coalesce(sum(likes), 0)::bigint AS n FROM ranking.stat_buckets"),
        &mut conn,
    )
    .await
    .expect("sum");
    assert_eq!(sum.n, 3, "three likes, each applied once (the duplicate too)");
    rebuild(&world).await;
    assert_eq!(ids(&world, TimeRange::Day, Some(2)).await, [video]);
}
