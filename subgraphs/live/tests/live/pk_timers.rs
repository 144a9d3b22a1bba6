//! PK link-mic against the database with a manual clock: a whole PK with scores, a draw, an
//! expiry at 15 s, reject, admin close, busy and non-whitelisted invites, and the durable
//! timers on two replicas (each transition fires once; a stopped replica's PK is ended on time
//! by the other).

use crate::harness::{World, user};
use chrono::Duration;
use platform::clock::Clock;
use platform::error::{CodedError, ErrorCode};
use vidgraph_live::domain::gifts::SendGift;
use vidgraph_live::domain::pk::PkMode;
use vidgraph_live::store::pk::Pk;
use vidgraph_live::store::rooms::Room;

async fn gift(world: &World, fan: platform::auth::AuthUser, room: &Room, gift: &str, count: i32, key: &str) -> Option<uuid::Uuid> {
    let request = SendGift::parse(room.id, gift.into(), count, key.into()).expect("valid");
    world.live.gifts.send(fan, request).await.expect("sent").gift.pk_id
}

async fn state_of(world: &World, pk: &Pk) -> Pk {
    world.live.pks.find(pk.id).await.expect("find").expect("exists")
}

async fn wait_for_state(world: &World, pk: &Pk, state: &str) -> Pk {
    world.eventually(state, async || state_of(world, pk).await.state == state).await;
    state_of(world, pk).await
}

#[tokio::test]
async fn a_whole_pk_scores_gifts_in_the_score_phase_only_and_each_transition_fires_once_on_two_replicas() {
    let world = World::start().await;
    let ((a, room_a), (b, room_b)) = (world.live_streamer().await, world.live_streamer().await);
    for streamer in [a, b] {
        world.live.pks.whitelist_add(world.admin, streamer.id).await.expect("whitelist");
    }
    let fan = user();
    world.fund(fan, 100_000).await;
    let replica_b = world.replica();
    let pollers = [
        tokio::spawn(world.live.pks.clone().run_timers(world.config.timer_poll_max())),
        tokio::spawn(replica_b.pks.clone().run_timers(world.config.timer_poll_max())),
    ];

    assert_eq!(gift(&world, fan, &room_a, "rocket", 1, "before").await, None, "no PK yet: scores nothing");
    let pk = world.live.pks.invite(a, b.id, PkMode::Pk).await.expect("invite");
    assert_eq!(pk.state, "invited");
    assert_eq!(pk.invite_expires_at - pk.invited_at, Duration::seconds(15));
    world.clock.advance(Duration::seconds(5));
    let pk = replica_b.pks.accept(b, pk.id).await.expect("accept on the other replica");
    assert_eq!(pk.state, "scoring");
    assert_eq!(pk.score_ends_at, Some(world.clock.now() + Duration::minutes(6)));

    assert_eq!(gift(&world, fan, &room_a, "rocket", 1, "a1").await, Some(pk.id));
    assert_eq!(gift(&world, fan, &room_b, "heart", 3, "b1").await, Some(pk.id));
    gift(&world, fan, &room_b, "flower", 1, "b2").await;
    let scored = state_of(&world, &pk).await;
    assert_eq!((scored.inviter_score, scored.invitee_score), (500, 31), "a point per 0.1 unit of value");

    world.clock.advance(Duration::minutes(6));
    let punished = wait_for_state(&world, &pk, "punishment").await;
    assert_eq!(punished.winner_id, Some(a.id));
    assert_eq!(punished.punishment_ends_at, Some(pk.score_ends_at.expect("deadline") + Duration::minutes(2)));
    assert_eq!(gift(&world, fan, &room_b, "castle", 1, "late").await, None, "after the score phase nothing counts");
    assert_eq!(state_of(&world, &pk).await.invitee_score, 31);

    world.clock.advance(Duration::minutes(2));
    let ended = wait_for_state(&world, &pk, "ended").await;
    assert_eq!((ended.inviter_score, ended.invitee_score, ended.winner_id), (500, 31, Some(a.id)));

    let transitions = world.live.pks.transitions(pk.id).await.expect("transitions");
    let path: Vec<(&str, &str)> = transitions.iter().map(|t| (t.to_state.as_str(), t.cause.as_str())).collect();
    assert_eq!(path, [("invited", "invite"), ("scoring", "accept"), ("punishment", "score_ended"), ("ended", "punishment_ended")]);
    assert_eq!(transitions[1].actor_id, Some(b.id));
    assert!(transitions[2..].iter().all(|t| t.actor_id.is_none() && t.fired_by.is_some()), "timers fired them");
    // Both streamers are free again: a new invite goes through.
    world.live.pks.invite(b, a.id, PkMode::Link).await.expect("free for another link");
    for poller in pollers {
        poller.abort();
    }
}

#[tokio::test]
async fn a_replica_stopped_in_the_score_phase_leaves_its_pk_to_the_other_which_ends_it_on_time() {
    let world = World::start().await;
    let ((a, room_a), (b, _)) = (world.live_streamer().await, world.live_streamer().await);
    for streamer in [a, b] {
        world.live.pks.whitelist_add(world.admin, streamer.id).await.expect("whitelist");
    }
    let fan = user();
    world.fund(fan, 10_000).await;
    let first = tokio::spawn(world.live.pks.clone().run_timers(world.config.timer_poll_max()));
    let pk = world.live.pks.invite(a, b.id, PkMode::Pk).await.expect("invite");
    world.live.pks.accept(b, pk.id).await.expect("accept");
    gift(&world, fan, &room_a, "heart", 7, "h").await;
    // The replica that wrote the timers goes away mid-phase.
    first.abort();
    let _ = first.await;
    let survivor = world.replica();
    let second = tokio::spawn(survivor.pks.clone().run_timers(world.config.timer_poll_max()));

    world.clock.advance(Duration::minutes(6));
    let punished = wait_for_state(&world, &pk, "punishment").await;
    assert_eq!((punished.inviter_score, punished.invitee_score), (70, 0));
    world.clock.advance(Duration::minutes(2));
    wait_for_state(&world, &pk, "ended").await;
    let transitions = world.live.pks.transitions(pk.id).await.expect("transitions");
    let fired: Vec<Option<&str>> = transitions.iter().filter(|t| t.actor_id.is_none()).map(|t| t.fired_by.as_deref()).collect();
    assert_eq!(fired, [Some(survivor.pks.holder()), Some(survivor.pks.holder())], "the survivor fired both, once each");
    second.abort();
}

#[tokio::test]
async fn equal_scores_are_a_draw_and_an_unanswered_invite_expires_at_15_seconds() {
    let world = World::start().await;
    let ((a, _), (b, _)) = (world.live_streamer().await, world.live_streamer().await);
    for streamer in [a, b] {
        world.live.pks.whitelist_add(world.admin, streamer.id).await.expect("whitelist");
    }
    // Expiry: nothing due at 14 s, expired at 15 s.
    let invite = world.live.pks.invite(a, b.id, PkMode::Pk).await.expect("invite");
    world.clock.advance(Duration::seconds(14));
    assert_eq!(world.live.pks.fire_due().await.expect("timers"), 0);
    assert_eq!(state_of(&world, &invite).await.state, "invited");
    world.clock.advance(Duration::seconds(1));
    assert_eq!(world.live.pks.fire_due().await.expect("timers"), 1);
    assert_eq!(state_of(&world, &invite).await.state, "expired");
    let late = world.live.pks.accept(b, invite.id).await.expect_err("expired");
    assert_eq!(late.code(), ErrorCode::Conflict);
    assert_eq!(world.live.pks.fire_due().await.expect("timers"), 0, "a timer fires once");

    // Draw: no gifts, the score phase ends level, no punishment.
    let pk = world.live.pks.invite(a, b.id, PkMode::Pk).await.expect("invite again");
    world.live.pks.accept(b, pk.id).await.expect("accept");
    world.clock.advance(Duration::minutes(6));
    assert_eq!(world.live.pks.fire_due().await.expect("timers"), 1);
    let drawn = state_of(&world, &pk).await;
    assert_eq!((drawn.state.as_str(), drawn.winner_id, drawn.punishment_ends_at), ("ended", None, None));
}

#[tokio::test]
async fn invites_are_refused_to_the_busy_and_the_unlisted_and_links_end_by_reject_or_admin_close() {
    let world = World::start().await;
    let ((a, _), (b, _), (c, _)) = (world.live_streamer().await, world.live_streamer().await, world.live_streamer().await);
    let (outsider, _) = world.live_streamer().await;
    for streamer in [a, b, c] {
        world.live.pks.whitelist_add(world.admin, streamer.id).await.expect("whitelist");
    }
    assert_eq!(world.live.pks.invite(a, outsider.id, PkMode::Pk).await.expect_err("unlisted").code(), ErrorCode::Forbidden);
    assert_eq!(world.live.pks.invite(outsider, a.id, PkMode::Pk).await.expect_err("unlisted").code(), ErrorCode::Forbidden);
    assert_eq!(world.live.pks.whitelist_add(user(), c.id).await.expect_err("admins only").code(), ErrorCode::Forbidden);

    let pk = world.live.pks.invite(a, b.id, PkMode::Pk).await.expect("invite");
    assert_eq!(world.live.pks.invite(c, b.id, PkMode::Pk).await.expect_err("b is busy").code(), ErrorCode::Conflict);
    assert_eq!(world.live.pks.invite(b, c.id, PkMode::Pk).await.expect_err("b is busy").code(), ErrorCode::Conflict);
    assert_eq!(world.live.pks.accept(a, pk.id).await.expect_err("only the invitee answers").code(), ErrorCode::Forbidden);
    let rejected = world.live.pks.reject(b, pk.id).await.expect("reject");
    assert_eq!(rejected.state, "rejected");

    let pk = world.live.pks.invite(c, b.id, PkMode::Pk).await.expect("b is free again");
    world.live.pks.accept(b, pk.id).await.expect("accept");
    assert_eq!(world.live.pks.close(b, pk.id).await.expect_err("admins only").code(), ErrorCode::Forbidden);
    let closed = world.live.pks.close(world.admin, pk.id).await.expect("close");
    assert_eq!(closed.state, "closed");
    world.clock.advance(Duration::minutes(10));
    assert_eq!(world.live.pks.fire_due().await.expect("timers"), 0, "a closed PK's timers are gone");

    // Stopping a room closes its link.
    let link = world.live.pks.invite(a, c.id, PkMode::Link).await.expect("link");
    world.live.pks.accept(c, link.id).await.expect("accept");
    world.live.rooms.stop_live(a, None).await.expect("stop");
    assert_eq!(state_of(&world, &link).await.state, "closed");
}

#[tokio::test]
async fn new_phase_lengths_reach_every_replica_at_once_and_apply_to_pks_invited_afterwards() {
    let world = World::start().await;
    let ((a, _), (b, _)) = (world.live_streamer().await, world.live_streamer().await);
    for streamer in [a, b] {
        world.live.pks.whitelist_add(world.admin, streamer.id).await.expect("whitelist");
    }
    let other = world.replica();
    // Listening once `reloader()` returns; its first look loads everything.
    let reloader = tokio::spawn(other.caches.clone().reloader().await);
    let running = world.live.pks.invite(a, b.id, PkMode::Pk).await.expect("invite with the defaults");
    assert_eq!(running.score_secs, 360);
    world.live.pks.reject(b, running.id).await.expect("reject");

    let changed = vidgraph_live::domain::pk_settings::parse_phases(20, 60, 30).expect("valid");
    assert_eq!(world.live.pks.settings().set(user(), changed).await.expect_err("admins only").code(), ErrorCode::Forbidden);
    world.live.pks.settings().set(world.admin, changed).await.expect("set");
    world.eventually("the other replica to reload", async || other.pks.settings().current().await.expect("phases") == changed).await;
    let pk = other.pks.invite(a, b.id, PkMode::Pk).await.expect("invite on the other replica");
    assert_eq!((pk.invite_expires_at - pk.invited_at, pk.score_secs, pk.punishment_secs), (Duration::seconds(20), 60, 30));
    reloader.abort();
}
