//! Week-star boards against real PostgreSQL, Redis and JetStream: gifts are published as
//! `live` will publish them and counted by the real consumer; time is a manual clock.

mod harness;

use chrono_tz::Tz;
use harness::{World, at, id};
use vidgraph_ranking::domain::week::IsoWeek;
use vidgraph_ranking::domain::weekstar::{Client, SettlementOutcome};

fn week(year: i32, week: u32) -> IsoWeek {
    IsoWeek::new(year, week).expect("week exists")
}

const CHANNEL: u128 = 0xC0FFEE;

#[tokio::test]
async fn equal_counts_rank_who_reached_them_first_for_streamers_and_best_supporters() {
    // Wednesday of 2026-W48
    let world = World::start(Tz::UTC, at("2026-11-25T12:00:00Z")).await;
    let channel = id(CHANNEL);
    world.configure(channel, &["rocket"]).await;
    // Ids chosen so that id order would pick the other one: only time can decide.
    let (early, late) = (id(1), id(2));
    let (first_fan, second_fan) = (id(11), id(10));
    // `early` reaches 4 at 10:05 (supporters: second_fan 2 at 10:03, first_fan 1+1 at 10:05);
    // `late` reaches 4 at 10:06 in one go.
    world.gift(channel, "rocket", early, first_fan, 1, "2026-11-25T10:00:00Z").await;
    world.gift(channel, "rocket", early, second_fan, 2, "2026-11-25T10:03:00Z").await;
    world.gift(channel, "rocket", early, first_fan, 1, "2026-11-25T10:05:00.000Z").await;
    world.gift(channel, "rocket", late, id(12), 4, "2026-11-25T10:05:00.001Z").await;
    world.consumed().await;

    assert_eq!(world.board(channel, "rocket").await, [(early, 4), (late, 4)], "one millisecond earlier ranks first");
    let boards = world.boards(channel, Client::Web).await;
    assert_eq!(boards[0].entries[0].reached_at, at("2026-11-25T10:05:00Z"));
    assert_eq!(boards[0].entries[1].reached_at, at("2026-11-25T10:05:00.001Z"));
    assert_eq!(boards[0].week, week(2026, 48));

    world.clock.set(at("2026-11-30T00:02:00Z"));
    world.settlement_job().tick().await;
    let settled = world.stars.settled_boards(channel, week(2026, 48), 10).await.expect("read").expect("settled");
    assert_eq!(settled.len(), 1);
    let board = &settled[0];
    assert!(!board.skipped);
    assert_eq!(board.entries.iter().map(|e| (e.rank, e.streamer_id, e.gift_count)).collect::<Vec<_>>(), [(1, early, 4), (2, late, 4)]);
    let best = board.best_supporter.as_ref().expect("best supporter");
    assert_eq!((best.user_id, best.gift_count), (second_fan, 2), "both gave 2; second_fan had them at 10:03, first_fan at 10:05");
    assert_eq!(best.reached_at, at("2026-11-25T10:03:00Z"));
}

#[tokio::test]
async fn a_gift_delivered_again_is_counted_once() {
    let world = World::start(Tz::UTC, at("2026-11-25T12:00:00Z")).await;
    let channel = id(CHANNEL);
    world.configure(channel, &["rocket"]).await;
    let event = world.gift(channel, "rocket", id(1), id(10), 5, "2026-11-25T11:00:00Z").await;
    world.publish(&event).await;
    world.publish(&event).await;
    world.gift(channel, "rocket", id(1), id(10), 1, "2026-11-25T11:30:00Z").await;
    world.consumed().await;
    assert_eq!(world.board(channel, "rocket").await, [(id(1), 6)]);

    // and the supporter counter too: settle and look at the best supporter's count
    world.clock.set(at("2026-11-30T00:00:00Z"));
    world.stars.settle(week(2026, 48), world.clock_now()).await.expect("settle");
    let settled = world.stars.settled_boards(channel, week(2026, 48), 10).await.expect("read").expect("settled");
    assert_eq!(settled[0].best_supporter.as_ref().map(|s| s.gift_count), Some(6));
}

#[tokio::test]
async fn hiding_on_one_client_keeps_counting_and_switching_both_off_stops_it_and_skips_the_week() {
    let world = World::start(Tz::UTC, at("2026-11-25T12:00:00Z")).await;
    let channel = id(CHANNEL);
    world.configure(channel, &["rocket"]).await;
    world.gift(channel, "rocket", id(1), id(10), 1, "2026-11-25T12:00:01Z").await;

    world.clock.set(at("2026-11-25T13:00:00Z"));
    world.switch(channel, false, true).await;
    world.gift(channel, "rocket", id(1), id(10), 1, "2026-11-25T13:00:01Z").await;
    world.consumed().await;
    assert!(world.boards(channel, Client::Web).await.is_empty(), "hidden on the web");
    assert_eq!(world.board(channel, "rocket").await, [(id(1), 2)], "still shown and counting in the app");

    world.clock.set(at("2026-11-25T14:00:00Z"));
    world.switch(channel, false, false).await;
    world.gift(channel, "rocket", id(1), id(10), 1, "2026-11-25T14:00:01Z").await;
    world.gift(channel, "rocket", id(2), id(10), 7, "2026-11-25T14:30:00Z").await;
    world.consumed().await;
    assert!(world.boards(channel, Client::App).await.is_empty(), "hidden everywhere");
    let settings = world.stars.channel(channel).await.expect("settings");
    assert!(!settings.visibility.counting());

    // switched back on: counting resumes, but the week's rewards stay skipped
    world.clock.set(at("2026-11-25T15:00:00Z"));
    world.switch(channel, true, true).await;
    world.gift(channel, "rocket", id(1), id(10), 1, "2026-11-25T15:00:01Z").await;
    world.consumed().await;
    assert_eq!(world.board(channel, "rocket").await, [(id(1), 3)], "the gifts sent while off were not counted");

    world.clock.set(at("2026-11-30T00:00:00Z"));
    world.stars.settle(week(2026, 48), world.clock_now()).await.expect("settle");
    let settled = world.stars.settled_boards(channel, week(2026, 48), 10).await.expect("read").expect("settled");
    assert!(settled[0].skipped, "counting was off during the week");
    assert_eq!(settled[0].best_supporter, None, "no rewards");
    assert_eq!(settled[0].entries.len(), 1, "the board is still frozen for the record");

    // the next week is not skipped
    world.gift(channel, "rocket", id(1), id(10), 1, "2026-11-30T10:00:00Z").await;
    world.consumed().await;
    world.clock.set(at("2026-12-07T00:00:00Z"));
    world.stars.settle(week(2026, 49), world.clock_now()).await.expect("settle");
    let next = world.stars.settled_boards(channel, week(2026, 49), 10).await.expect("read").expect("settled");
    assert!(!next[0].skipped);
    assert_eq!(next[0].best_supporter.as_ref().map(|s| s.user_id), Some(id(10)));
}

#[tokio::test]
async fn a_channel_first_configuration_applies_at_once_and_later_changes_next_week() {
    let world = World::start(Tz::UTC, at("2026-11-25T12:00:00Z")).await;
    let channel = id(CHANNEL);
    world.configure(channel, &["rocket"]).await;
    world.configure(channel, &["flower", "car"]).await;
    let settings = world.stars.channel(channel).await.expect("settings");
    assert_eq!((settings.this_week.week, settings.this_week.gift_ids.clone()), (week(2026, 48), vec!["rocket".to_owned()]));
    assert_eq!(
        (settings.next_week.week, settings.next_week.gift_ids.clone()),
        (week(2026, 49), vec!["flower".to_owned(), "car".to_owned()])
    );
    let history = world.stars.changes(channel).await.expect("history");
    assert_eq!(history.len(), 2, "every change is recorded");
    assert!(history.iter().all(|change| change.changed_by == world.admin));

    world.gift(channel, "flower", id(1), id(10), 1, "2026-11-25T12:00:01Z").await;
    world.gift(channel, "rocket", id(1), id(10), 2, "2026-11-25T12:00:02Z").await;
    world.consumed().await;
    let boards = world.boards(channel, Client::Web).await;
    assert_eq!(boards.iter().map(|b| b.gift_id.as_str()).collect::<Vec<_>>(), ["rocket"]);
    assert_eq!(world.board(channel, "rocket").await, [(id(1), 2)]);

    world.clock.set(at("2026-11-30T08:00:00Z"));
    world.gift(channel, "flower", id(1), id(10), 3, "2026-11-30T08:00:01Z").await;
    world.gift(channel, "rocket", id(1), id(10), 4, "2026-11-30T08:00:02Z").await;
    world.consumed().await;
    let boards = world.boards(channel, Client::Web).await;
    assert_eq!(boards.iter().map(|b| b.gift_id.as_str()).collect::<Vec<_>>(), ["flower", "car"]);
    assert_eq!(world.board(channel, "flower").await, [(id(1), 3)]);
    assert_eq!(world.board(channel, "rocket").await, [], "no longer a week-star gift");
}

#[tokio::test]
async fn settlement_crosses_the_year_boundary_on_the_local_calendar_once_and_reruns_change_nothing() {
    // Shanghai (UTC+8): Sunday 2027-01-03 23:00 local, in 2026-W53.
    let world = World::start(chrono_tz::Asia::Shanghai, at("2027-01-03T15:00:00Z")).await;
    let channel = id(CHANNEL);
    world.configure(channel, &["rocket"]).await;
    assert_eq!(world.stars.current_week(), week(2026, 53));
    world.gift(channel, "rocket", id(1), id(10), 2, "2027-01-03T15:59:59.999Z").await; // Sunday 23:59:59.999
    world.gift(channel, "rocket", id(2), id(11), 1, "2027-01-03T15:30:00Z").await;
    world.gift(channel, "rocket", id(2), id(11), 9, "2027-01-03T16:00:00Z").await; // Monday 00:00: 2027-W01
    world.consumed().await;

    let job = world.settlement_job();
    job.tick().await;
    assert!(world.stars.settled_boards(channel, week(2026, 53), 10).await.expect("read").is_none(), "not over yet");

    world.clock.set(at("2027-01-03T16:00:00Z"));
    assert_eq!(world.stars.current_week(), week(2027, 1));
    job.tick().await;
    assert!(world.stars.settled_boards(channel, week(2026, 53), 10).await.expect("read").is_none(), "gifts may still be arriving");
    world.clock.set(at("2027-01-03T16:02:00Z"));
    let due = world.stars.settle_due(world.clock_now(), true).await.expect("settle");
    assert!(due.contains(&(week(2026, 53), SettlementOutcome::Settled { boards: 1 })), "{due:?}");
    let settled = world.stars.settled_boards(channel, week(2026, 53), 10).await.expect("read").expect("settled");
    let entries: Vec<_> = settled[0].entries.iter().map(|e| (e.rank, e.streamer_id, e.gift_count)).collect();
    assert_eq!(entries, [(1, id(1), 2), (2, id(2), 1)], "the Monday gift belongs to 2027-W01");
    assert_eq!(world.board(channel, "rocket").await, [(id(2), 9)], "this week's realtime board is 2027-W01's");
    let last_week = world.stars.settled_boards(channel, world.stars.current_week().previous(), 10).await.expect("read");
    assert_eq!(last_week.as_ref(), Some(&settled), "last week is 2026-W53");

    // again, by the job, by hand and by two replicas at once: nothing changes
    job.tick().await;
    assert_eq!(world.stars.settle(week(2026, 53), world.clock_now()).await.expect("rerun"), SettlementOutcome::AlreadySettled);
    let (a, b) = tokio::join!(
        world.stars.settle(week(2027, 1), at("2027-01-10T16:00:00Z")),
        world.stars.settle(week(2027, 1), at("2027-01-10T16:00:00Z"))
    );
    let outcomes = [a.expect("a"), b.expect("b")];
    assert_eq!(outcomes.iter().filter(|o| matches!(o, SettlementOutcome::Settled { .. })).count(), 1, "{outcomes:?}");
    assert_eq!(world.stars.settled_boards(channel, week(2026, 53), 10).await.expect("read").expect("settled"), settled);
    assert!(world.stars.settle(week(2027, 2), at("2027-01-10T16:00:00Z")).await.is_err(), "a week that has not ended is refused");
}

#[tokio::test]
async fn a_flushed_redis_is_rebuilt_from_postgres_even_after_new_gifts() {
    let world = World::start(Tz::UTC, at("2026-11-25T12:00:00Z")).await;
    let channel = id(CHANNEL);
    world.configure(channel, &["rocket", "flower"]).await;
    world.gift(channel, "rocket", id(1), id(10), 3, "2026-11-25T10:00:00Z").await;
    world.gift(channel, "rocket", id(2), id(10), 3, "2026-11-25T09:00:00Z").await;
    world.gift(channel, "rocket", id(3), id(10), 1, "2026-11-25T08:00:00Z").await;
    world.gift(channel, "flower", id(3), id(10), 2, "2026-11-25T08:00:00Z").await;
    world.consumed().await;
    let before = world.boards(channel, Client::Web).await;
    assert_eq!(world.board(channel, "rocket").await, [(id(2), 3), (id(1), 3), (id(3), 1)]);

    world.flush_redis().await;
    assert_eq!(world.boards(channel, Client::Web).await, before, "rebuilt on the first read");

    // flushed again, and a gift lands before anyone reads: the board holds that one streamer
    // but is not complete, and the next read rebuilds the rest around it
    world.flush_redis().await;
    world.gift(channel, "rocket", id(3), id(10), 5, "2026-11-25T11:00:00Z").await;
    world.consumed().await;
    assert_eq!(world.board(channel, "rocket").await, [(id(3), 6), (id(2), 3), (id(1), 3)]);
    assert_eq!(world.board(channel, "flower").await, [(id(3), 2)]);
}

#[tokio::test]
async fn with_redis_unreachable_the_realtime_boards_are_read_from_postgres() {
    let world = World::start(Tz::UTC, at("2026-11-25T12:00:00Z")).await;
    let channel = id(CHANNEL);
    world.configure(channel, &["rocket", "heart"]).await;
    world.gift(channel, "rocket", id(1), id(10), 3, "2026-11-25T10:00:00Z").await;
    world.gift(channel, "rocket", id(2), id(11), 3, "2026-11-25T09:00:00Z").await;
    world.gift(channel, "rocket", id(3), id(12), 1, "2026-11-25T08:00:00Z").await;
    world.gift(channel, "heart", id(3), id(12), 7, "2026-11-25T08:00:00Z").await;
    world.consumed().await;
    let from_redis = world.boards(channel, Client::Web).await;

    let degraded = world.stars_without_redis().realtime_boards(channel, Client::Web, 100).await.expect("served from Postgres");
    assert_eq!(degraded, from_redis, "same boards, same order, same times");
    assert_eq!(degraded[0].entries.iter().map(|e| (e.streamer_id, e.gift_count)).collect::<Vec<_>>(), [(id(2), 3), (id(1), 3), (id(3), 1)]);
    // The page size holds on the fallback too.
    let top = world.stars_without_redis().realtime_boards(channel, Client::Web, 2).await.expect("served from Postgres");
    assert_eq!(top[0].entries.len(), 2);
}

#[tokio::test]
async fn gifts_published_during_a_postgres_outage_longer_than_any_delivery_budget_are_each_counted_once() {
    let (world, faults) = World::start_with_faults(Tz::UTC, at("2026-11-25T12:00:00Z")).await;
    let channel = id(CHANNEL);
    world.configure(channel, &["rocket"]).await;

    faults.postgres.cut().await;
    let first = world.gift(channel, "rocket", id(1), id(10), 2, "2026-11-25T11:00:00Z").await;
    world.gift(channel, "rocket", id(2), id(11), 3, "2026-11-25T11:01:00Z").await;
    world.publish(&first).await; // delivered again, as a relay retry would
    // Three messages, 31 deliveries: at least one of them was delivered 11 times, beyond the
    // 10 deliveries after which a capped consumer drops a message for good.
    world.deliveries_reach(31).await;

    faults.postgres.restore();
    world.consumed().await;
    assert_eq!(world.board(channel, "rocket").await, [(id(2), 3), (id(1), 2)], "every gift counted, and once");
    assert!(world.dead_letters().await.is_empty(), "an outage is not the message's fault");
    world.clock.set(at("2026-11-30T00:00:00Z"));
    world.stars.settle(week(2026, 48), world.clock_now()).await.expect("settle");
    let settled = world.stars.settled_boards(channel, week(2026, 48), 10).await.expect("read").expect("settled");
    let entries: Vec<_> = settled[0].entries.iter().map(|e| (e.streamer_id, e.gift_count)).collect();
    assert_eq!(entries, [(id(2), 3), (id(1), 2)], "the Postgres counters hold each gift once");
}

#[tokio::test]
async fn a_board_whose_redis_write_failed_after_the_count_committed_converges() {
    let (world, faults) = World::start_with_faults(Tz::UTC, at("2026-11-25T12:00:00Z")).await;
    let channel = id(CHANNEL);
    world.configure(channel, &["rocket"]).await;
    world.gift(channel, "rocket", id(1), id(10), 1, "2026-11-25T10:00:00Z").await;
    world.consumed().await;
    assert_eq!(world.board(channel, "rocket").await, [(id(1), 1)], "the board is built in Redis");

    faults.redis.cut().await;
    world.gift(channel, "rocket", id(1), id(10), 4, "2026-11-25T11:00:00Z").await;
    // The count commits in Postgres, every board write fails; 11 more deliveries: beyond a
    // delivery cap of 10.
    world.deliveries_reach(1 + 11).await;
    assert_eq!(world.board(channel, "rocket").await, [(id(1), 1)], "stale while Redis is unreachable for the consumer");

    faults.redis.restore();
    world.consumed().await;
    assert_eq!(world.board(channel, "rocket").await, [(id(1), 5)], "the board holds Postgres' total");
}

#[tokio::test]
async fn a_poison_message_is_dead_lettered_with_its_reason_without_blocking_the_gifts_behind_it() {
    let world = World::start(Tz::UTC, at("2026-11-25T12:00:00Z")).await;
    let channel = id(CHANNEL);
    world.configure(channel, &["rocket"]).await;
    world.publish_raw(b"{not json").await;
    let zero = world.gift(channel, "rocket", id(1), id(10), 0, "2026-11-25T10:00:00Z").await;
    world.gift(channel, "rocket", id(1), id(10), 2, "2026-11-25T10:01:00Z").await;
    world.consumed().await;
    assert_eq!(world.board(channel, "rocket").await, [(id(1), 2)], "the gift behind the poison was counted");

    let letters = world.dead_letters().await;
    assert_eq!(letters.len(), 2, "{letters:?}");
    assert!(letters[0].reason.starts_with("undecodable payload"), "{}", letters[0].reason);
    assert_eq!(letters[0].payload, "{not json");
    assert_eq!((letters[0].stream_sequence, letters[0].deliveries), (1, 1), "set aside at once, from sequence 1");
    assert!(letters[1].reason.contains("count 0"), "{}", letters[1].reason);
    assert_eq!(serde_json::from_str::<platform::events::GiftEvent>(&letters[1].payload).expect("payload kept"), zero);
    assert!(letters.iter().all(|l| l.consumer == vidgraph_ranking::events::gifts::DURABLE && l.subject.ends_with("live.gifts.sent")));

    // Re-driven, it goes back to the gift subject; still invalid, it is dead-lettered again.
    let dead = platform::consumer::dead_letters::DeadLetters::new(&world.nats);
    let redriven = dead.redrive(letters[1].id, &[vidgraph_ranking::events::gifts::DURABLE]).await.expect("redrive");
    assert!(matches!(redriven, platform::consumer::dead_letters::Redrive::Redriven { .. }));
    assert_eq!(
        dead.redrive(letters[1].id, &[vidgraph_ranking::events::gifts::DURABLE]).await.expect("again"),
        platform::consumer::dead_letters::Redrive::NotFound,
        "re-driven once"
    );
    world.published_up_to(world.stream_last().await);
    world.consumed().await;
    let after = world.dead_letters().await;
    assert_eq!(after.len(), 2, "{after:?}");
    assert_eq!(after[0].id, letters[0].id, "the other one stays");
    assert!(after[1].id > letters[1].id && after[1].reason == letters[1].reason, "dead-lettered again: {after:?}");
    assert_eq!(world.board(channel, "rocket").await, [(id(1), 2)]);
}

#[tokio::test]
async fn settlement_waits_for_pending_gifts_of_the_week_and_a_gift_after_it_shows_as_late() {
    let (world, faults) = World::start_with_faults(Tz::UTC, at("2026-11-29T23:00:00Z")).await;
    let channel = id(CHANNEL);
    world.configure(channel, &["rocket"]).await;
    world.gift(channel, "rocket", id(1), id(10), 1, "2026-11-29T22:00:00Z").await;
    world.consumed().await;

    // The consumer cannot reach Postgres; a gift sent before the week's end waits in JetStream.
    faults.postgres.cut().await;
    world.gift(channel, "rocket", id(2), id(11), 5, "2026-11-29T23:59:00Z").await;
    world.clock.set(at("2026-11-30T01:00:00Z"));
    let job = world.settlement_job();
    job.tick().await;
    assert!(world.stars.settled_boards(channel, week(2026, 48), 10).await.expect("read").is_none(), "a gift of the week is pending");

    faults.postgres.restore();
    world.consumed().await;
    job.tick().await;
    let settled = world.stars.settled_boards(channel, week(2026, 48), 10).await.expect("read").expect("settled once caught up");
    let entries: Vec<_> = settled[0].entries.iter().map(|e| (e.streamer_id, e.gift_count)).collect();
    assert_eq!(entries, [(id(2), 5), (id(1), 1)], "the pending gift is in the settlement");
    assert_eq!(settled[0].late_gift_count, 0);

    // A gift of the settled week that arrives now is recorded as late, not added.
    let late = world.gift(channel, "rocket", id(1), id(10), 7, "2026-11-29T23:30:00Z").await;
    world.publish(&late).await;
    world.consumed().await;
    let after = world.stars.settled_boards(channel, week(2026, 48), 10).await.expect("read").expect("settled");
    assert_eq!(after[0].entries, settled[0].entries, "the frozen entries do not move");
    assert_eq!(after[0].late_gift_count, 7, "counted once, as late");
}
