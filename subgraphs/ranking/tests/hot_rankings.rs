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
use vidgraph_ranking::domain::recompute::{RecomputeJob, RunOutcome, Stop};
use vidgraph_ranking::store::hot_boards::{HotBoards, VideoScores};

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
    let RunOutcome::Interrupted(killed) = job.execute(run, Some(Stop::AfterBatches(2))).await.expect("interrupted") else {
        panic!("not interrupted")
    };
    assert_eq!(killed.run().videos_processed, 8);
    assert!(killed.run().checkpoint.is_some());
    let killed = killed.run().clone(); // the process dies: its lease stays until it lapses
    // another replica cannot take it while the lease holds; once it lapses, it resumes
    let other = other_replica(&world, "other-replica", 4);
    assert!(other.claim("again", None).await.expect("claim").is_none(), "one run at a time");
    world.clock.advance(Duration::minutes(2));
    let resumed = other.claim("again", None).await.expect("claim").expect("taken over");
    assert_eq!((resumed.run().id, resumed.run().videos_processed), (killed.id, 8));
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
    let mut conn = world.deps.redis.conn().await.expect("redis");
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

// ---- one run at a time, fenced by its lease (issue 14, item 1) ----

/// Another replica's job over the same backends.
fn other_replica(world: &World, name: &str, batch_size: i64) -> RecomputeJob {
    RecomputeJob::new(world.deps.db.clone(), HotBoards::new(world.deps.redis.clone()), world.clock.clone(), name.into())
        .with_batch_size(batch_size)
}

/// `count` videos with growth in the last day, distinct like counts (so every ranking is full).
async fn seed(world: &World, count: i64) {
    let now = world.clock.now();
    for n in 0..count {
        let at = now - Duration::hours(2);
        world
            .rankings
            .apply_stat_event(&stat(Uuid::now_v7(), 1 + (n % 2) as i32, at, at, likes(n + 1), likes(n + 1)))
            .await
            .expect("event");
    }
}

/// Every ranking of the global scope and of regions 1 and 2, as readers see it.
async fn snapshot(world: &World) -> Vec<Vec<(Uuid, i64)>> {
    let mut all = Vec::new();
    for range in TimeRange::ALL {
        for region in [None, Some(1), Some(2)] {
            all.push(world.rankings.page(range, region, 1, 100).await.expect("page").entries);
        }
    }
    all
}

/// Redis keys of this test matching `pattern` (after the prefix).
async fn redis_keys(world: &World, pattern: &str) -> Vec<String> {
    let mut conn = world.deps.redis.conn().await.expect("redis");
    let pattern = format!("{}{pattern}", world.deps.config.redis.key_prefix);
    redis::cmd("KEYS").arg(pattern).query_async(&mut *conn).await.expect("keys")
}

async fn runs(world: &World) -> Vec<vidgraph_ranking::store::runs::Run> {
    world.rankings.job().recent_runs(100).await.expect("runs")
}

#[tokio::test]
async fn two_triggers_in_one_process_start_one_run_even_once_the_first_runs_lease_lapsed() {
    let world = world().await;
    seed(&world, 6).await;
    let job = world.rankings.job().clone().with_batch_size(2);
    let (first, second) = tokio::join!(job.claim("admin", None), world.rankings.job().claim("weights", None));
    let mut claimed: Vec<_> = [first, second].into_iter().filter_map(|c| c.expect("claim")).collect();
    assert_eq!(claimed.len(), 1, "two concurrent triggers, one run");
    let running = claimed.pop().expect("claimed");
    let RunOutcome::Interrupted(running) = job.execute(running, Some(Stop::AfterBatches(1))).await.expect("run") else {
        panic!("not interrupted")
    };

    // the run pauses past its lease: the schedule of the same process must not start a second copy
    world.clock.advance(Duration::minutes(2));
    assert!(job.claim("schedule", None).await.expect("claim").is_none(), "this process still works on the run");
    job.tick(Duration::hours(1)).await.expect("tick");
    assert_eq!(runs(&world).await.len(), 1);
    assert!(world.rankings.request_rebuild("admin", None).await.expect("trigger").is_none());

    // the paused copy lost its lease: it stops; once it is gone, the next tick resumes the run
    assert!(matches!(job.execute(running, None).await.expect("run"), RunOutcome::Lost));
    job.tick(Duration::hours(1)).await.expect("tick");
    let runs = runs(&world).await;
    assert_eq!((runs.len(), runs[0].status.as_str(), runs[0].videos_processed), (1, "succeeded", 6), "one run, resumed and finished");
}

#[tokio::test]
async fn a_holder_whose_lease_lapsed_mid_run_cannot_publish_and_the_new_holders_rankings_stand() {
    let world = world().await;
    seed(&world, 10).await;
    rebuild(&world).await;
    let expected = snapshot(&world).await;
    assert!(expected.iter().all(|ranking| !ranking.is_empty()));
    let (a, b, c) = (other_replica(&world, "a", 3), other_replica(&world, "b", 3), other_replica(&world, "c", 3));

    // a stops after one batch; its lease lapses; b takes the run over and builds it to the end
    let run = a.claim("schedule", None).await.expect("claim").expect("run");
    let RunOutcome::Interrupted(paused_a) = a.execute(run, Some(Stop::AfterBatches(1))).await.expect("a") else { panic!("a") };
    world.clock.advance(Duration::minutes(2));
    let taken = b.claim("resume", None).await.expect("claim").expect("lapsed: taken over");
    assert_eq!((taken.run().id, taken.lease().epoch()), (paused_a.run().id, paused_a.lease().epoch() + 1));
    let RunOutcome::Interrupted(built_b) = b.execute(taken, Some(Stop::BeforePublish)).await.expect("b") else { panic!("b") };

    // a wakes up: fenced off before it touches the build
    assert!(matches!(a.execute(paused_a, None).await.expect("a again"), RunOutcome::Lost));
    // b pauses before publishing past its lease; c takes over and publishes
    world.clock.advance(Duration::minutes(2));
    let taken = c.claim("resume", None).await.expect("claim").expect("taken over");
    assert!(matches!(c.execute(taken, None).await.expect("c"), RunOutcome::Finished(_)));
    assert_eq!(snapshot(&world).await, expected, "c's rankings");

    // b wakes up and tries to publish: its build keys were swapped in by c, so an unfenced
    // publish would read them as empty rankings and delete every one
    assert!(matches!(b.publish(built_b).await.expect("b publishes"), RunOutcome::Lost));
    assert_eq!(snapshot(&world).await, expected, "c's rankings stand");
    let runs = runs(&world).await;
    assert_eq!(runs.iter().filter(|run| run.status == "succeeded").count(), 2, "the first rebuild and c's");
}

#[tokio::test]
async fn a_failed_run_leaves_no_build_keys_and_no_building_marker() {
    let world = world().await;
    seed(&world, 8).await;
    rebuild(&world).await;
    let job = world.rankings.job().clone().with_batch_size(3);
    let run = job.claim("schedule", None).await.expect("claim").expect("run");
    let RunOutcome::Interrupted(run) = job.execute(run, Some(Stop::AfterBatches(1))).await.expect("run") else { panic!("run") };
    assert!(!redis_keys(&world, "hot:*:build:*").await.is_empty());
    // the next batch's write into the day ranking's build fails (a key of the wrong type)
    let day_build = format!("{}hot:{{day:0}}:build:{}", world.deps.config.redis.key_prefix, run.run().id);
    let mut conn = world.deps.redis.conn().await.expect("redis");
    let _: () = redis::cmd("DEL").arg(&day_build).query_async(&mut *conn).await.expect("del");
    let _: () = redis::cmd("SET").arg(&day_build).arg("not a ranking").query_async(&mut *conn).await.expect("set");
    let id = run.run().id;
    assert!(job.execute(run, None).await.is_err(), "the run fails");

    assert_eq!(redis_keys(&world, "hot:*:build:*").await, Vec::<String>::new(), "no build keys");
    assert_eq!(redis_keys(&world, "hot:building").await, Vec::<String>::new(), "no building marker");
    // live updates no longer copy every change into a build
    seed(&world, 1).await;
    assert_eq!(redis_keys(&world, "hot:*:build:*").await, Vec::<String>::new());
    let failed = runs(&world).await.into_iter().find(|r| r.id == id).expect("run");
    assert_eq!(failed.status, "failed");
    assert!(other_replica(&world, "next", 3).claim("schedule", None).await.expect("claim").is_some(), "the lease was released");
}

#[tokio::test]
async fn the_prune_drops_build_keys_runs_left_behind_and_keeps_the_running_runs() {
    let world = world().await;
    seed(&world, 6).await;
    rebuild(&world).await;
    // a run that crashed after writing part of its build, and whose row says it failed (or that
    // a replica which lost the lease wrote after the run ended)
    let boards = HotBoards::new(world.deps.redis.clone());
    let stray = Uuid::now_v7();
    boards.begin_build(stray).await.expect("marker");
    let video = VideoScores { video_id: Uuid::now_v7(), region_id: 1, values: [1, 1, 1, 1] };
    boards.add_to_build(stray, &[video]).await.expect("stray build");
    // and a run in progress
    let job = world.rankings.job().clone().with_batch_size(2);
    let run = job.claim("schedule", None).await.expect("claim").expect("run");
    let RunOutcome::Interrupted(running) = job.execute(run, Some(Stop::AfterBatches(1))).await.expect("run") else { panic!("run") };
    let keys = redis_keys(&world, "hot:*:build:*").await;
    assert!(
        keys.iter().any(|key| key.ends_with(&stray.to_string())) && keys.iter().any(|key| key.ends_with(&running.run().id.to_string()))
    );

    job.tick(Duration::hours(1)).await.expect("tick prunes");
    let keys = redis_keys(&world, "hot:*:build:*").await;
    assert!(!keys.is_empty() && keys.iter().all(|key| key.ends_with(&running.run().id.to_string())), "only the running run's: {keys:?}");
    assert_eq!(boards.building().await.expect("marker"), Some(running.run().id));
    assert!(matches!(job.execute(running, None).await.expect("run"), RunOutcome::Finished(_)));
    assert_eq!(redis_keys(&world, "hot:*:build:*").await, Vec::<String>::new());
    assert_eq!(boards.registered_builds().await.expect("registry"), Vec::<Uuid>::new());
}

#[tokio::test]
async fn new_weights_set_during_a_run_get_a_run_of_their_own_after_it() {
    let world = world().await;
    let now = world.clock.now();
    let (viewed, liked) = (Uuid::now_v7(), Uuid::now_v7());
    let old = now - Duration::days(10);
    let views = StatCounts { views: 900, ..Default::default() };
    world.rankings.apply_stat_event(&stat(viewed, 1, old, old, views, views)).await.expect("views");
    world.rankings.apply_stat_event(&stat(liked, 1, old, old, likes(80), likes(80))).await.expect("likes");
    rebuild(&world).await;
    assert_eq!(ids(&world, TimeRange::All, None).await, [viewed, liked], "900 views beat 80 likes");

    // a run with the old weights is in progress in this process when an admin sets new ones
    let job = world.rankings.job().clone().with_batch_size(1);
    let run = job.claim("schedule", None).await.expect("claim").expect("run");
    let RunOutcome::Interrupted(old_run) = job.execute(run, Some(Stop::AfterBatches(1))).await.expect("run") else { panic!("run") };
    let weights = HotWeights {
        views: 0,
        likes: 100,
        coins: 0,
        favourites: 0,
        shares: 0,
        comments: 0,
        danmaku: 0,
        new_boost_percent: 100,
        new_boost_hours: 0,
    };
    let row = world.rankings.set_weights(&HotWeights::parse(weights).expect("weights"), Uuid::now_v7()).await.expect("set");
    assert_eq!(runs(&world).await.len(), 2, "the first rebuild and the run in progress: the old run is not joined");

    let RunOutcome::Finished(finished) = job.execute(old_run, None).await.expect("old run") else { panic!("old run") };
    assert_ne!(finished.weights_id, row.id, "it keeps the weights it started with");
    job.tick(Duration::hours(1)).await.expect("tick");
    let last = runs(&world).await.into_iter().next().expect("run");
    assert_eq!((last.status.as_str(), last.reason.as_str(), last.weights_id), ("succeeded", "weights", row.id));
    assert_eq!(ids(&world, TimeRange::All, None).await, [liked, viewed], "ranked with the new weights");
}

// ---- lifecycle events: the newer wins, `removed` is final (issue 14, item 3) ----

fn lifecycle(video: Uuid, region: i32, state: &str, at: DateTime<Utc>) -> VideoLifecycleEvent {
    VideoLifecycleEvent {
        event_id: Uuid::now_v7(),
        video_id: video,
        author_id: Uuid::nil(),
        region_id: region,
        state: state.into(),
        published_at: Some(at - Duration::days(1)),
        occurred_at: at,
    }
}

#[tokio::test]
async fn a_removed_video_stays_out_of_every_ranking_after_an_older_a_redelivered_or_a_late_published_event() {
    let world = world().await;
    let now = world.clock.now();
    let (kept, gone) = (Uuid::now_v7(), Uuid::now_v7());
    let published = lifecycle(gone, 3, "published", now - Duration::minutes(10));
    world.rankings.apply_lifecycle_event(&published).await.expect("published");
    for video in [kept, gone] {
        world
            .rankings
            .apply_stat_event(&stat(video, 3, now - Duration::days(1), now - Duration::minutes(5), likes(4), likes(4)))
            .await
            .expect("stat");
    }
    rebuild(&world).await;
    assert_eq!(ids(&world, TimeRange::All, Some(3)).await.len(), 2);

    world.rankings.apply_lifecycle_event(&lifecycle(gone, 3, "removed", now)).await.expect("removed");
    let older = lifecycle(gone, 3, "published", now - Duration::minutes(1));
    let later = lifecycle(gone, 3, "published", now + Duration::minutes(1));
    for (what, event) in [("an older published", &older), ("a redelivered published", &published), ("a later published", &later)] {
        world.rankings.apply_lifecycle_event(event).await.expect("lifecycle");
        world.rankings.apply_stat_event(&stat(gone, 3, now, now, likes(1), likes(5))).await.expect("a stat event after removal");
        for range in TimeRange::ALL {
            assert_eq!(ids(&world, range, None).await, [kept], "{what}: {range:?}");
            assert_eq!(ids(&world, range, Some(3)).await, [kept], "{what}: {range:?} in the region");
        }
    }
    rebuild(&world).await;
    assert_eq!(ids(&world, TimeRange::All, None).await, [kept], "a rebuild does not bring it back");
}

#[tokio::test]
async fn an_older_move_does_not_file_a_video_back_under_its_old_region() {
    let world = world().await;
    let now = world.clock.now();
    let video = Uuid::now_v7();
    world.rankings.apply_lifecycle_event(&lifecycle(video, 1, "published", now - Duration::minutes(10))).await.expect("published");
    world
        .rankings
        .apply_stat_event(&stat(video, 1, now - Duration::days(1), now - Duration::minutes(9), likes(2), likes(2)))
        .await
        .expect("stat");
    rebuild(&world).await;
    world.rankings.apply_lifecycle_event(&lifecycle(video, 2, "published", now)).await.expect("moved to 2");
    // an edit committed before the move arrives late: it still names region 1
    world.rankings.apply_lifecycle_event(&lifecycle(video, 1, "published", now - Duration::minutes(5))).await.expect("late edit");
    assert_eq!(ids(&world, TimeRange::All, Some(2)).await, [video]);
    assert_eq!(ids(&world, TimeRange::All, Some(1)).await, Vec::<Uuid>::new());
    assert_eq!(ids(&world, TimeRange::All, None).await, [video]);
    rebuild(&world).await;
    assert_eq!(ids(&world, TimeRange::All, Some(2)).await, [video], "stored under region 2");
}

#[tokio::test]
async fn a_video_removed_or_moved_while_a_rebuild_reads_it_is_not_published_back_by_the_rebuild() {
    let world = world().await;
    let now = world.clock.now();
    let videos: Vec<Uuid> = (0..6).map(|_| Uuid::now_v7()).collect();
    for video in &videos {
        world.rankings.apply_lifecycle_event(&lifecycle(*video, 1, "published", now - Duration::hours(3))).await.expect("published");
        world
            .rankings
            .apply_stat_event(&stat(*video, 1, now - Duration::days(1), now - Duration::hours(2), likes(3), likes(3)))
            .await
            .expect("stat");
    }
    rebuild(&world).await;
    let job = world.rankings.job().clone().with_batch_size(3);
    let run = job.claim("schedule", None).await.expect("claim").expect("run");
    let RunOutcome::Interrupted(run) = job.execute(run, Some(Stop::AfterBatches(1))).await.expect("run") else { panic!("run") };
    // the first batch read videos 0..3 as published in region 1; then video 0 is removed and
    // video 1 moves to region 2 (the consumer takes them out of the build) ...
    let (removed, moved) = (videos[0], videos[1]);
    world.rankings.apply_lifecycle_event(&lifecycle(removed, 1, "removed", now)).await.expect("removed");
    world.rankings.apply_lifecycle_event(&lifecycle(moved, 2, "published", now)).await.expect("moved");
    // ... and only then does the batch's write land (as it would when the two interleave)
    let boards = HotBoards::new(world.deps.redis.clone());
    let stale: Vec<VideoScores> =
        [removed, moved].map(|video| VideoScores { video_id: video, region_id: 1, values: [30, 30, 30, 30] }).into();
    boards.add_to_build(run.run().id, &stale).await.expect("late batch write");
    assert!(matches!(job.execute(run, None).await.expect("run"), RunOutcome::Finished(_)));

    for range in TimeRange::ALL {
        assert!(!ids(&world, range, None).await.contains(&removed), "{range:?}");
        assert!(!ids(&world, range, Some(1)).await.contains(&removed), "{range:?} region 1");
        assert!(!ids(&world, range, Some(1)).await.contains(&moved), "{range:?}: moved out of region 1");
        assert!(ids(&world, range, Some(2)).await.contains(&moved), "{range:?}: moved into region 2");
        assert!(ids(&world, range, None).await.contains(&moved), "{range:?}: still ranked globally");
    }
}

#[tokio::test]
async fn a_late_second_swap_of_a_run_or_an_older_runs_swap_changes_no_ranking() {
    let world = world().await;
    let older = Uuid::now_v7();
    seed(&world, 6).await;
    rebuild(&world).await;
    let expected = snapshot(&world).await;
    assert!(expected.iter().all(|ranking| !ranking.is_empty()));
    let published = runs(&world).await[0].id;
    // what a publisher that paused past its fence would send: its build keys are gone (swapped in)
    let boards = HotBoards::new(world.deps.redis.clone());
    boards.publish_build(published).await.expect("the same run again");
    assert_eq!(snapshot(&world).await, expected, "a second swap of the same run is a no-op");
    boards.publish_build(older).await.expect("an older run");
    assert_eq!(snapshot(&world).await, expected, "an older run's swap is a no-op");
}

/// Redis's count of values it freed on its background thread (`INFO memory`).
async fn lazily_freed(world: &World) -> u64 {
    let mut conn = world.deps.redis.conn().await.expect("redis");
    let info: String = redis::cmd("INFO").arg("memory").query_async(&mut *conn).await.expect("info");
    info.lines().find_map(|line| line.strip_prefix("lazyfreed_objects:")).expect("lazyfreed_objects").trim().parse().expect("count")
}

#[tokio::test]
async fn a_swap_leaves_freeing_the_replaced_rankings_to_redis_s_background_thread() {
    // `RENAME` over a live ranking (or `DEL` of it) frees its members inside the swap script: a
    // second or more for a million, past the client's response timeout, so a recompute of a
    // million videos over existing rankings failed at its swap. Freed by `UNLINK`, they are
    // counted in `lazyfreed_objects` (other tests' unlinks can only add to it).
    let world = world().await;
    let boards = HotBoards::new(world.deps.redis.clone());
    let batch: Vec<VideoScores> =
        (1..=500).map(|value| VideoScores { video_id: Uuid::now_v7(), region_id: 1, values: [value; 4] }).collect();
    let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
    for run in [first, second] {
        boards.begin_build(run).await.expect("marker");
        boards.add_to_build(run, &batch).await.expect("build");
    }
    boards.publish_build(first).await.expect("first swap: nothing to replace");
    let before = lazily_freed(&world).await;
    boards.publish_build(second).await.expect("second swap");
    // The background thread counts a value once it has freed it, a moment after the swap.
    // 4 ranges, global and region 1: every ranking the second run replaced.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut freed = 0;
    while freed < 8 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        freed = lazily_freed(&world).await - before;
    }
    assert!(freed >= 8, "{freed} values freed in the background, expected the 8 replaced rankings");
    assert_eq!(ids(&world, TimeRange::Week, Some(1)).await.len(), 100, "the new rankings are in place");
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
