//! The download centre's services on the real backends: the daily quota under concurrency,
//! idempotent starts, and the cleanup sweep (expiry, watermark).

use platform::auth::{AuthUser, Role};
use platform::clock::{Clock, ManualClock};
use platform::testkit::TestServices;
use platform::{Deps, config::AppConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use vidgraph_assets::domain::AssetsError;
use vidgraph_assets::domain::cleanup::{Cleanup, UsageProbe};
use vidgraph_assets::domain::downloads::{DownloadCentre, Mode, StartDownload};
use vidgraph_assets::testing::MediaServer;

fn config(services: &TestServices) -> AppConfig {
    let mut config = services.config();
    config.assets.root = services.storage_root().join("assets");
    config.assets.allow_destinations = vec!["127.0.0.0/8".into()];
    config.assets.daily_limits = vec![10];
    config.db.pool_size = 16;
    config
}

async fn centre(services: &TestServices, clock: Arc<ManualClock>) -> (Deps, DownloadCentre) {
    let deps = Deps::connect(config(services), "assets").await.expect("backends");
    let options = vidgraph_assets::Options { clock, ..Default::default() };
    let centre = vidgraph_assets::download_centre(&deps, &options).await.expect("centre");
    (deps, centre)
}

fn user() -> AuthUser {
    AuthUser { id: uuid::Uuid::now_v7(), role: Role::User }
}

fn request(url: &str, mode: Mode, key: Option<&str>) -> StartDownload {
    StartDownload { url: url.to_owned(), format_id: None, mode, idempotency_key: key.map(str::to_owned) }
}

#[tokio::test]
async fn a_hundred_concurrent_starts_against_a_limit_of_ten_accept_exactly_ten() {
    let services = TestServices::new().await;
    let (_deps, centre) = centre(&services, ManualClock::starting_at(chrono::Utc::now())).await;
    let server = MediaServer::start().await;
    let url = server.url("/media/race.mp4?size=1000");
    let user = user();
    let attempts = (0..100).map(|_| {
        let (centre, url) = (centre.clone(), url.clone());
        tokio::spawn(async move { centre.start(user, request(&url, Mode::Quick, None)).await })
    });
    let outcomes = futures::future::join_all(attempts).await;
    let accepted = outcomes.iter().filter(|outcome| matches!(outcome, Ok(Ok(_)))).count();
    let refused = outcomes.iter().filter(|outcome| matches!(outcome, Ok(Err(AssetsError::QuotaExceeded { limit: 10, .. })))).count();
    assert_eq!(
        (accepted, refused),
        (10, 90),
        "{:?}",
        outcomes.iter().find(|outcome| !matches!(outcome, Ok(Ok(_)) | Ok(Err(AssetsError::QuotaExceeded { .. }))))
    );
    let quota = centre.quota(user).await.expect("quota");
    assert_eq!((quota.used, quota.limit), (10, Some(10)));
    assert!(quota.resets_at > chrono::Utc::now());
    let (rows, more) = centre.list(user, None, None, 100, None).await.expect("list");
    assert_eq!((rows.len(), more), (10, false), "one history row per accepted start");
}

#[tokio::test]
async fn a_retried_start_with_the_same_key_returns_the_first_task_and_counts_once() {
    let services = TestServices::new().await;
    let (_deps, centre) = centre(&services, ManualClock::starting_at(chrono::Utc::now())).await;
    let server = MediaServer::start().await;
    let url = server.url("/media/retry.mp4?size=1000");
    let user = user();
    let first = centre.start(user, request(&url, Mode::Archive, Some("click-1"))).await.expect("first");
    let again = centre.start(user, request(&url, Mode::Archive, Some("click-1"))).await.expect("again");
    assert_eq!(first.id, again.id);
    assert_eq!(centre.quota(user).await.expect("quota").used, 1);
    let bad_key = centre.start(user, request(&url, Mode::Archive, Some(""))).await;
    assert!(matches!(bad_key, Err(AssetsError::InvalidInput(_))));
    let unknown_format = centre.start(user, StartDownload { format_id: Some("8k".into()), ..request(&url, Mode::Quick, None) }).await;
    assert!(matches!(unknown_format, Err(AssetsError::InvalidInput(_))));
    assert_eq!(centre.quota(user).await.expect("quota").used, 1, "refused starts use no quota");
}

fn usage(percent: Arc<AtomicU64>) -> UsageProbe {
    Arc::new(move |_| {
        let percent = percent.load(Ordering::Relaxed) as f64;
        Box::pin(async move { Ok(percent) })
    })
}

/// Inserts a completed download of `user` with a file on disk; returns (id, file path).
async fn completed(
    deps: &Deps,
    centre: &DownloadCentre,
    user: AuthUser,
    mode: &str,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
) -> (uuid::Uuid, std::path::PathBuf) {
    use diesel_async::RunQueryDsl;
    let id = uuid::Uuid::now_v7();
    let storage = &centre.inner().storage;
    let relative = storage.final_relative(id, user.id, mode == "archive", chrono::Utc::now().date_naive(), "file-x.mp4");
    let path = storage.root().join(&relative);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
    std::fs::write(&path, b"video").expect("file");
    let mut conn = deps.db.pool.get().await.expect("conn");
    diesel::sql_query(
        "INSERT INTO assets.downloads (id, user_id, url, platform, extractor, format_id, mode, status, title, file_path, file_name, \
         content_type, size_bytes, sha256, quota_day, completed_at, expires_at) VALUES ($1, $2, 'http://x.test/a.mp4', 'x.test', 'direct', \
         'direct', $3, 'completed', 't', $4, 'file-x.mp4', 'video/mp4', 5, 'ab', current_date, now(), $5)",
    )
    .bind::<diesel::sql_types::Uuid, _>(id)
    .bind::<diesel::sql_types::Uuid, _>(user.id)
    .bind::<diesel::sql_types::Text, _>(mode)
    .bind::<diesel::sql_types::Text, _>(relative.to_string_lossy().into_owned())
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>, _>(expires_at)
    .execute(&mut conn)
    .await
    .expect("insert");
    (id, path)
}

#[tokio::test]
async fn cleanup_removes_expired_quick_files_keeps_archives_and_the_high_watermark_refuses_quick_tasks() {
    let services = TestServices::new().await;
    let clock = ManualClock::starting_at(chrono::Utc::now());
    let (deps, centre) = centre(&services, clock.clone()).await;
    let user = user();
    let (quick, quick_path) = completed(&deps, &centre, user, "quick", Some(clock.now() + chrono::Duration::hours(24))).await;
    let (_, archive_path) = completed(&deps, &centre, user, "archive", None).await;
    let percent = Arc::new(AtomicU64::new(50));
    let cleanup = Cleanup::new(centre.clone(), usage(percent.clone()));

    let report = cleanup.pass().await.expect("pass");
    assert_eq!(report.expired, 0, "not expired yet");
    assert!(quick_path.exists());

    clock.advance(chrono::Duration::hours(25));
    let report = cleanup.pass().await.expect("pass");
    assert_eq!(report.expired, 1);
    assert!(!quick_path.exists(), "the expired quick file is gone");
    assert!(archive_path.exists(), "archives are kept");
    assert!(matches!(centre.get(user, quick).await, Err(AssetsError::NotFound(_))), "and so is its history entry");

    // Above the high watermark: quick downloads are refused, archives still accepted.
    percent.store(95, Ordering::Relaxed);
    cleanup.pass().await.expect("pass");
    assert!(centre.inner().disk.above_high());
    let server = MediaServer::start().await;
    let url = server.url("/media/full.mp4?size=1000");
    assert!(matches!(centre.start(user, request(&url, Mode::Quick, None)).await, Err(AssetsError::StorageFull)));
    centre.start(user, request(&url, Mode::Archive, None)).await.expect("archive accepted");
    percent.store(40, Ordering::Relaxed);
    cleanup.pass().await.expect("pass");
    centre.start(user, request(&url, Mode::Quick, None)).await.expect("quick accepted again");
}

#[tokio::test]
async fn without_redis_the_quota_is_counted_under_a_lock_in_postgres_and_still_holds_under_concurrency() {
    let services = TestServices::new().await;
    let mut config = config(&services);
    config.redis.url = platform::testkit::refused_redis_url();
    let deps = Deps::connect(config, "assets").await.expect("backends");
    let centre = vidgraph_assets::download_centre(&deps, &vidgraph_assets::Options::default()).await.expect("centre");
    let server = MediaServer::start().await;
    let url = server.url("/media/no-redis.mp4?size=1000");
    let user = user();
    let attempts = (0..30).map(|_| {
        let (centre, url) = (centre.clone(), url.clone());
        tokio::spawn(async move { centre.start(user, request(&url, Mode::Quick, None)).await })
    });
    let outcomes = futures::future::join_all(attempts).await;
    let accepted = outcomes.iter().filter(|outcome| matches!(outcome, Ok(Ok(_)))).count();
    let refused = outcomes.iter().filter(|outcome| matches!(outcome, Ok(Err(AssetsError::QuotaExceeded { .. })))).count();
    assert_eq!((accepted, refused), (10, 20));
}

#[tokio::test]
async fn a_running_task_whose_worker_stopped_renewing_is_queued_again_by_the_sweep() {
    use diesel_async::RunQueryDsl;
    let services = TestServices::new().await;
    let clock = ManualClock::starting_at(chrono::Utc::now());
    let (deps, centre) = centre(&services, clock.clone()).await;
    let user = user();
    let id = uuid::Uuid::now_v7();
    let mut conn = deps.db.pool.get().await.expect("conn");
    diesel::sql_query(
        "INSERT INTO assets.downloads (id, user_id, url, platform, extractor, format_id, mode, status, title, quota_day, worker, lease_until) \
         VALUES ($1, $2, 'http://x.test/a.mp4', 'x.test', 'direct', 'direct', 'quick', 'running', 't', current_date, 'dead-worker', $3)",
    )
    .bind::<diesel::sql_types::Uuid, _>(id)
    .bind::<diesel::sql_types::Uuid, _>(user.id)
    .bind::<diesel::sql_types::Timestamptz, _>(clock.now() + chrono::Duration::seconds(30))
    .execute(&mut conn)
    .await
    .expect("insert");
    let cleanup = Cleanup::new(centre.clone(), usage(Arc::new(AtomicU64::new(10))));
    assert_eq!(cleanup.pass().await.expect("pass").requeued, 0, "its lease still runs");
    clock.advance(chrono::Duration::seconds(31));
    assert_eq!(cleanup.pass().await.expect("pass").requeued, 1);
    assert_eq!(centre.get(user, id).await.expect("task").status, "queued");
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let pending: Count = diesel::sql_query("SELECT count(*) AS n FROM assets.outbox WHERE payload->>'task_id' = $1")
        .bind::<diesel::sql_types::Text, _>(id.to_string())
        .get_result(&mut conn)
        .await
        .expect("outbox");
    assert_eq!(pending.n, 1, "a new work-queue message is on its way, written with the requeue");
    assert_eq!(cleanup.pass().await.expect("pass").requeued, 0, "once");
}
