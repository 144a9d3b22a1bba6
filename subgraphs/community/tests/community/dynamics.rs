//! Dynamics' guarantees that the end-to-end tests cannot isolate: a poll never skips a
//! dynamic whose transaction commits late, a pushed dynamic costs one SQL statement per
//! replica whatever the number of connected users, reaching only the followers among them, and
//! a dynamic's push is announced through the outbox in its own transaction.

use crate::world::{World, id_of, user};
use diesel_async::AsyncConnection;
use futures::StreamExt;
use platform::auth::Viewer;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;
use vidgraph_community::domain::dynamics::Dynamics;
use vidgraph_community::domain::notifications::Notifications;
use vidgraph_community::events::CommunityEvents;
use vidgraph_community::events::inbox::InboxPush;
use vidgraph_community::events::push::{self, DynamicPush};
use vidgraph_community::store::dynamics::{self, NewDynamic};

const SINCE: &str = "query($c: String) { dynamicsSince(cursor: $c) { cursor dynamics { body } } }";

async fn follow(world: &World, follower: &Viewer, followee: Uuid) {
    world.enroll(&[followee]).await;
    world.run(follower, "mutation($u: ID!) { followUser(userId: $u) { following } }", json!({ "u": followee })).await.ok();
}

fn new_dynamic(author: Uuid, body: &str) -> NewDynamic<'_> {
    NewDynamic {
        id: Uuid::now_v7(),
        author_id: author,
        kind: dynamics::KIND_POST,
        body,
        image_urls: &[],
        video_id: None,
        room_id: None,
        source: None,
        state: dynamics::PUBLISHED,
        created_at: chrono::Utc::now(),
    }
}

#[tokio::test]
async fn a_dynamic_whose_transaction_commits_after_a_newer_one_is_not_skipped_by_a_poll() {
    let world = World::new().await;
    let (streamer, fan) = (user(), user());
    follow(&world, &fan, id_of(&streamer)).await;
    let start = world.run(&fan, SINCE, json!({ "c": null })).await.ok();
    let cursor = start.data("/dynamicsSince/cursor").clone();

    // A writer opens its transaction first and commits last.
    let db = world.deps.db.clone();
    let (opened, open) = tokio::sync::oneshot::channel::<()>();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let author = id_of(&streamer);
    let slow_writer = tokio::spawn(async move {
        let mut slow = db.pool.get().await.expect("connection");
        slow.transaction::<_, diesel::result::Error, _>(async |conn| {
            dynamics::insert(conn, &new_dynamic(author, "written first, committed last")).await?;
            let _ = opened.send(());
            let _ = released.await;
            Ok(())
        })
        .await
        .expect("slow writer");
    });
    open.await.expect("slow writer opened");
    let mut conn = world.deps.db.pool.get().await.expect("connection");
    dynamics::insert(&mut conn, &new_dynamic(author, "written second")).await.expect("insert");

    // While the first is open, neither is handed out: the second would move the cursor past it.
    let early = world.run(&fan, SINCE, json!({ "c": cursor })).await.ok();
    assert_eq!(early.data("/dynamicsSince/dynamics"), &json!([]));
    let cursor = early.data("/dynamicsSince/cursor").clone();

    release.send(()).expect("release");
    slow_writer.await.expect("slow writer joined");
    // Polled as a client polls (from each answer's cursor), until both arrived: a poll sees a
    // dynamic once every write transaction older than it has ended, anywhere on the server.
    let (mut cursor, mut seen) = (cursor, Vec::new());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while seen.len() < 2 {
        assert!(std::time::Instant::now() < deadline, "only {seen:?} arrived");
        let late = world.run(&fan, SINCE, json!({ "c": cursor })).await.ok();
        seen.extend(late.data("/dynamicsSince/dynamics").as_array().expect("dynamics").iter().map(|d| d["body"].clone()));
        cursor = late.data("/dynamicsSince/cursor").clone();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(seen, [json!("written first, committed last"), json!("written second")], "both, in transaction order");
}

#[tokio::test]
async fn a_pushed_dynamic_reaches_only_connected_followers_in_one_statement_for_any_number_connected() {
    let world = World::new().await;
    let streamer = user();
    let push = DynamicPush::new(&world.deps.nats, &world.deps.db);
    let mut feeds = Vec::new();
    let mut followers = 0;
    for n in 0..300 {
        let viewer = user();
        if n % 3 != 0 {
            follow(&world, &viewer, id_of(&streamer)).await;
            followers += 1;
        }
        feeds.push((n % 3 != 0, push.connect(id_of(&viewer)).await.expect("connect")));
    }
    assert_eq!(push.connected_users(), 300);
    let mut conn = world.deps.db.pool.get().await.expect("connection");
    let dynamic = dynamics::insert(&mut conn, &new_dynamic(id_of(&streamer), "to my fans")).await.expect("insert").expect("new");
    drop(conn);

    let before = world.deps.db.statements.get();
    let delivered = push.deliver(Arc::new(dynamic.clone())).await.expect("deliver");
    assert_eq!(world.deps.db.statements.get() - before, 1, "one statement for 300 connected users");
    assert_eq!(delivered, followers);
    for (follows, feed) in &mut feeds {
        let got = tokio::time::timeout(Duration::from_millis(1), feed.next()).await.ok().flatten();
        assert_eq!(got.is_some(), *follows, "a follower gets it, a non-follower never does");
    }

    // A dropped connection is forgotten; nobody connected costs no statement.
    drop(feeds);
    assert_eq!(push.connected_users(), 0);
    let before = world.deps.db.statements.get();
    assert_eq!(push.deliver(Arc::new(dynamic)).await.expect("deliver"), 0);
    assert_eq!(world.deps.db.statements.get(), before);
}

#[tokio::test]
async fn a_page_of_following_dynamics_costs_the_same_statements_for_5_and_50() {
    let world = World::new().await;
    let fan = user();
    let mut conn = world.deps.db.pool.get().await.expect("connection");
    for n in 0..10 {
        let streamer = user();
        follow(&world, &fan, id_of(&streamer)).await;
        for _ in 0..6 {
            let body = format!("dynamic of streamer {n}");
            dynamics::insert(&mut conn, &new_dynamic(id_of(&streamer), &body)).await.expect("insert");
        }
    }
    drop(conn);
    let page = "query($n: Int) { followingDynamics(first: $n) { edges { node { id likeScore likedByViewer author { id } } } } }";
    let mut costs = Vec::new();
    for first in [5, 50] {
        // The fewest of three runs: a loaded machine can split one dataloader batch window.
        let mut fewest = u64::MAX;
        for _ in 0..3 {
            let before = world.deps.db.statements.get();
            let answer = world.run(&fan, page, json!({ "n": first })).await.ok();
            assert_eq!(answer.data("/followingDynamics/edges").as_array().map(Vec::len), Some(first));
            fewest = fewest.min(world.deps.db.statements.get() - before);
        }
        costs.push(fewest);
    }
    assert_eq!(costs, [2, 2], "the page, then the viewer's likes in one batch");
}

/// Rows of `community.outbox` that announce a dynamic for push.
async fn announcements(world: &World) -> Vec<String> {
    world
        .texts(&format!(
            "SELECT payload->>'body' AS v FROM community.outbox WHERE subject LIKE '%.{}.{}' ORDER BY seq",
            push::PUSH_STREAM.subjects,
            push::DYNAMIC_PUSH_KIND
        ))
        .await
}

#[tokio::test]
async fn a_dynamic_is_announced_in_its_own_transaction_and_a_relay_started_after_the_commit_pushes_it() {
    let world = World::new().await;
    let (streamer, fan) = (user(), user());
    follow(&world, &fan, id_of(&streamer)).await;
    push::PUSH_STREAM.ensure(&world.deps.nats).await.expect("stream");
    let events = CommunityEvents::new(&world.deps.nats);
    let notifications = Notifications::new(world.deps.db.clone(), world.clock.clone(), InboxPush::new(world.deps.nats.clone()));
    let delivery = DynamicPush::new(&world.deps.nats, &world.deps.db);
    let service = Dynamics::new(
        world.deps.db.clone(),
        world.deps.redis.clone(),
        world.clock.clone(),
        delivery.clone(),
        events.clone(),
        notifications,
    );
    let mut feed = delivery.connect(id_of(&fan)).await.expect("connect");

    // A transaction that writes a dynamic and its announcement, then rolls back, leaves neither.
    let mut conn = world.deps.db.pool.get().await.expect("connection");
    let rolled_back = conn
        .transaction::<(), diesel::result::Error, _>(async |conn| {
            let dynamic = dynamics::insert(conn, &new_dynamic(id_of(&streamer), "rolled back")).await?.expect("new");
            events.dynamic_announced(conn, &dynamic).await?;
            Err(diesel::result::Error::RollbackTransaction)
        })
        .await;
    assert!(rolled_back.is_err());
    drop(conn);
    assert_eq!(announcements(&world).await, Vec::<String>::new(), "a rolled-back dynamic announces nothing");

    // The service commits the dynamic with its announcement; no relay runs yet, so nothing is
    // published: the row waits in the outbox (as after a crash between commit and publish).
    let author = streamer.require_user().expect("signed in");
    let written = service.create(author, "committed", &[]).await.expect("create");
    assert_eq!(announcements(&world).await, ["committed"], "announced in the dynamic's transaction");

    // A relay started afterwards sends it, and the connected follower receives it.
    let relay = tokio::spawn(events.outbox().clone().relay(world.deps.db.clone(), world.deps.nats.clone()));
    let pushed = tokio::time::timeout(Duration::from_secs(10), feed.next()).await.expect("pushed within 10 s").expect("feed open");
    assert_eq!(pushed.id, written.id);
    relay.abort();
}
