//! `live` on several replicas: an admin's change of a cached setting (the gift catalogue, the
//! PK whitelist, the phase lengths) made through the router on one replica is in force on
//! another at once; and a `live` process SIGKILLed in the middle of a PK's score phase leaves
//! its deadlines to the replicas still alive, which fire each remaining transition exactly
//! once, within a second of its deadline, with the right scores.

use crate::harness::{Platform, Reply, free_port};
use crate::live_support::{LiveProcess, LiveReplica, SEND_GIFT, base_url, channel, fund, gifts, live_room};
use chrono::{DateTime, Utc};
use platform::clock::ManualClock;
use serde_json::{Value, json};
use std::time::Duration;

const WHITELIST_ADD: &str = "mutation($user: ID!) { addToPkWhitelist(userId: $user) }";
const WHITELIST_REMOVE: &str = "mutation($user: ID!) { removeFromPkWhitelist(userId: $user) }";
const INVITE: &str = "mutation($to: ID!) { invitePk(inviteeId: $to) { id state } }";
const ACCEPT: &str = "mutation($pk: ID!) { acceptPk(pkId: $pk) { id state scoreEndsAt } }";
const REJECT: &str = "mutation($pk: ID!) { rejectPk(pkId: $pk) { state } }";
const GIFTS: &str = "{ gifts { id price } }";
const PHASES: &str = "{ pkPhases { inviteSecs scoreSecs punishmentSecs } }";
const SET_PHASES: &str = "mutation { setPkPhases(inviteSecs: 20, scoreSecs: 60, punishmentSecs: 30) { scoreSecs } }";
const CREATE_GIFT: &str = "mutation { createGift(input: { id: \"comet\", name: \"Comet\", price: 2000 }) { id } }";
const UPDATE_GIFT: &str = "mutation($input: UpdateGiftInput!) { updateGift(id: \"comet\", input: $input) { id price active } }";
const PK: &str = "query($pk: ID!) { pk(id: $pk) { state winner { id } inviter { score } invitee { score } } }";
const TRANSITIONS: &str = "query($pk: ID!) { pkTransitions(pkId: $pk) { to cause firedBy } }";

/// Far under the 30 s periodic reload: a replica that only reloaded periodically fails.
const AT_ONCE: Duration = Duration::from_secs(3);

/// Polls `query` on one replica (not through the router) until `done` holds, for at most
/// [`AT_ONCE`].
async fn within_a_moment(
    platform: &Platform,
    url: &str,
    query: &str,
    variables: Value,
    token: &str,
    done: impl Fn(&Reply) -> bool,
) -> Reply {
    let deadline = tokio::time::Instant::now() + AT_ONCE;
    loop {
        let reply = platform.post(url, query, variables.clone(), Some(token)).await;
        if done(&reply) {
            return reply;
        }
        assert!(tokio::time::Instant::now() < deadline, "the other replica still served a stale value after {AT_ONCE:?}: {}", reply.body);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn an_admin_change_through_one_replica_is_in_force_on_another_at_once() {
    let port = free_port();
    let platform = Platform::start_with(|_, _| {}, &[("live", format!("http://127.0.0.1:{port}/graphql"))]).await;
    let clock = ManualClock::starting_at(Utc::now());
    let first = LiveReplica::start(&platform, clock.clone(), port).await;
    let other = LiveReplica::start(&platform, clock, 0).await;
    let (_, admin) = platform.admin("cacheboss").await;
    let users = platform.users("cached", 3).await;
    let (a, b, fan) = (&users[0], &users[1], &users[2]);
    let games = channel(&platform, &admin, "cache-games").await;
    let room = live_room(&platform, &a.1, &games).await;
    live_room(&platform, &b.1, &games).await;
    fund(&platform, &base_url(&first.url), &fan.1, 100_000).await;

    // The other replica has cached every setting before the changes.
    let before = platform.post(&other.url, GIFTS, json!({}), Some(&admin)).await.ok();
    assert_eq!(before.data("/gifts"), &json!([]));
    let before = platform.post(&other.url, PHASES, json!({}), Some(&admin)).await.ok();
    assert_eq!(before.data("/pkPhases/scoreSecs"), &json!(360));
    // Inviting the fan (never live) writes nothing whatever the answer: FORBIDDEN while the
    // inviter is off the whitelist, CONFLICT ("not live") once both are on it.
    let probe = json!({ "to": fan.0 });
    let refused = platform.post(&other.url, INVITE, probe.clone(), Some(&a.1)).await;
    assert_eq!(refused.codes(), ["FORBIDDEN"], "not whitelisted yet");

    // Admins change all three through the router (the first replica).
    platform.gql(CREATE_GIFT, json!({}), Some(&admin)).await.ok();
    for streamer in [a, b, fan] {
        platform.gql(WHITELIST_ADD, json!({ "user": streamer.0 }), Some(&admin)).await.ok();
    }
    platform.gql(SET_PHASES, json!({}), Some(&admin)).await.ok();

    let url = &other.url;
    within_a_moment(&platform, url, GIFTS, json!({}), &admin, |r| r.data("/gifts") == &json!([{ "id": "comet", "price": 2000 }])).await;
    within_a_moment(&platform, url, PHASES, json!({}), &admin, |r| {
        r.data("/pkPhases") == &json!({ "inviteSecs": 20, "scoreSecs": 60, "punishmentSecs": 30 })
    })
    .await;
    within_a_moment(&platform, url, INVITE, probe.clone(), &a.1, |r| r.codes() == ["CONFLICT"]).await;
    let invited = platform.post(url, INVITE, json!({ "to": b.0 }), Some(&a.1)).await.ok();
    platform.post(url, REJECT, json!({ "pk": invited.data("/invitePk/id") }), Some(&b.1)).await.ok();

    // A price change is charged by the other replica at once; a deactivated gift is refused.
    platform.gql(UPDATE_GIFT, json!({ "input": { "price": 3000 } }), Some(&admin)).await.ok();
    within_a_moment(&platform, url, GIFTS, json!({}), &admin, |r| r.data("/gifts/0/price") == &json!(3000)).await;
    let gift = json!({ "room": room, "gift": "comet", "count": 2, "key": "priced" });
    let sent = platform.post(url, SEND_GIFT, gift, Some(&fan.1)).await.ok();
    assert_eq!(sent.data("/sendGift/totalValue"), &json!(6000));
    platform.gql(UPDATE_GIFT, json!({ "input": { "active": false } }), Some(&admin)).await.ok();
    within_a_moment(&platform, url, GIFTS, json!({}), &admin, |r| r.data("/gifts") == &json!([])).await;
    let gift = json!({ "room": room, "gift": "comet", "count": 1, "key": "inactive" });
    assert_eq!(platform.post(url, SEND_GIFT, gift, Some(&fan.1)).await.codes(), ["BAD_USER_INPUT"]);

    // Taken off the whitelist: the other replica refuses the invite at once.
    platform.gql(WHITELIST_REMOVE, json!({ "user": a.0 }), Some(&admin)).await.ok();
    within_a_moment(&platform, url, INVITE, probe, &a.1, |r| r.codes() == ["FORBIDDEN"]).await;
    let wallet = platform.gql(crate::live_support::MY_WALLET, json!({}), Some(&fan.1)).await.ok();
    assert_eq!(wallet.data("/myWallet/balance"), &json!(94_000), "only the priced gift was charged");
    other.stop().await;
    first.stop().await;
}

/// How late a timer may fire after its deadline.
const ON_TIME: chrono::Duration = chrono::Duration::seconds(1);

/// The recorded transitions of `pk` once it reached `state`, read from the database (polled,
/// bounded).
async fn transitions_once(platform: &Platform, pk: uuid::Uuid, state: &str) -> (live::store::pk::Pk, Vec<live::store::pk::TransitionRow>) {
    let db = platform.db();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut conn = db.pool.get().await.expect("connection");
        let current = live::store::pk::find(&mut conn, pk).await.expect("read").expect("pk");
        if current.state == state {
            return (current, live::store::pk::transitions(&mut conn, pk).await.expect("transitions"));
        }
        assert!(tokio::time::Instant::now() < deadline, "the PK never reached {state}; it is {}", current.state);
        drop(conn);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn fired_on_time(transitions: &[live::store::pk::TransitionRow], cause: &str, deadline: Option<DateTime<Utc>>) {
    let fired: Vec<_> = transitions.iter().filter(|t| t.cause == cause).collect();
    assert_eq!(fired.len(), 1, "`{cause}` fired exactly once: {transitions:?}");
    let deadline = deadline.expect("the deadline is stored");
    let late = fired[0].at - deadline;
    assert!(late >= chrono::Duration::zero() && late < ON_TIME, "`{cause}` fired {late} after its deadline");
    assert!(fired[0].fired_by.is_some(), "a timer fired `{cause}`");
}

#[tokio::test]
async fn a_live_process_killed_with_sigkill_mid_score_phase_still_ends_its_pk_on_time_with_the_right_scores_once() {
    // The router talks to a `live` process; a second process and the platform's own `live`
    // are the other replicas. All run on the real clock: the deadlines are real.
    let port = free_port();
    let platform = Platform::start_with(|_, _| {}, &[("live", format!("http://127.0.0.1:{port}/graphql"))]).await;
    let (score_secs, punishment_secs) = (6, 3);
    let doomed = LiveProcess::start(&platform, port, score_secs, punishment_secs).await;
    let survivor = LiveProcess::start(&platform, free_port(), score_secs, punishment_secs).await;
    let (_, admin) = platform.admin("killboss").await;
    let users = platform.users("killed", 3).await;
    let (a, b, fan) = (&users[0], &users[1], &users[2]);
    let games = channel(&platform, &admin, "kill-games").await;
    gifts(&platform, &admin).await;
    let rooms = (live_room(&platform, &a.1, &games).await, live_room(&platform, &b.1, &games).await);
    for streamer in [a, b] {
        platform.gql(WHITELIST_ADD, json!({ "user": streamer.0 }), Some(&admin)).await.ok();
    }
    fund(&platform, &base_url(&doomed.url), &fan.1, 100_000).await;

    let invited = platform.gql(INVITE, json!({ "to": b.0 }), Some(&a.1)).await.ok();
    let pk = invited.data("/invitePk/id").as_str().expect("pk id").to_owned();
    let accepted = platform.gql(ACCEPT, json!({ "pk": pk }), Some(&b.1)).await.ok();
    let score_ends: DateTime<Utc> = accepted.data("/acceptPk/scoreEndsAt").as_str().expect("deadline").parse().expect("time");
    for (room, gift, count, key) in [(&rooms.0, "heart", 7, "h7"), (&rooms.1, "heart", 2, "h2"), (&rooms.1, "flower", 3, "f3")] {
        let sent = platform.gql(SEND_GIFT, json!({ "room": room, "gift": gift, "count": count, "key": key }), Some(&fan.1)).await.ok();
        assert_eq!(sent.data("/sendGift/pkId"), &json!(pk), "scored in the PK");
    }

    // SIGKILL the process the router talks to, in the middle of the score phase.
    assert!(Utc::now() < score_ends - chrono::Duration::seconds(1), "the arrangement took the whole score phase");
    doomed.kill_9().await;
    let id = pk.parse().expect("uuid");
    let (punished, transitions) = transitions_once(&platform, id, "punishment").await;
    assert_eq!((punished.inviter_score, punished.invitee_score), (70, 23), "a point per 0.1 unit of value, each gift once");
    fired_on_time(&transitions, "score_ended", punished.score_ends_at);

    // The killed process comes back on its port; the router finds it again.
    let restarted = LiveProcess::start(&platform, port, score_secs, punishment_secs).await;
    let (ended, transitions) = transitions_once(&platform, id, "ended").await;
    fired_on_time(&transitions, "punishment_ended", ended.punishment_ends_at);
    let path: Vec<(&str, &str)> = transitions.iter().map(|t| (t.to_state.as_str(), t.cause.as_str())).collect();
    assert_eq!(path, [("invited", "invite"), ("scoring", "accept"), ("punishment", "score_ended"), ("ended", "punishment_ended")]);

    let through_router = platform.gql(PK, json!({ "pk": pk }), None).await.ok();
    assert_eq!(
        through_router.data("/pk"),
        &json!({ "state": "ENDED", "winner": { "id": a.0 }, "inviter": { "score": 70 }, "invitee": { "score": 23 } })
    );
    let recorded = platform.gql(TRANSITIONS, json!({ "pk": pk }), None).await.ok();
    assert_eq!(recorded.data("/pkTransitions").as_array().map(Vec::len), Some(4), "each transition once, through the router too");
    drop((restarted, survivor));
}
