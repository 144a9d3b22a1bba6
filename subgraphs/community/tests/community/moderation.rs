//! Mutes and bans: a muted user cannot post, comment or like until the mute ends (and learns
//! when, in `extensions.mutedUntil`), a banned user cannot do anything; every action is in the
//! moderation log.

use crate::posts::{CREATE_COMMENT, CREATE_POST, CREATE_ZONE, DELETE_POST, LIKE_POST, post, table_counts, zone};
use crate::world::{World, admin, id_of, user};
use platform::auth::Viewer;
use platform::clock::Clock;
use serde_json::{Value, json};

const MUTE: &str = "mutation($id: ID!, $until: DateTime!, $reason: String!) { muteUser(userId: $id, until: $until, reason: $reason) { mutedUntil banned } }";
const BAN: &str = "mutation($id: ID!, $reason: String!) { banUser(userId: $id, reason: $reason) { banned } }";
const UNBAN: &str = "mutation($id: ID!, $reason: String!) { unbanUser(userId: $id, reason: $reason) { banned } }";
const FOLLOW: &str = "mutation($id: ID!) { followUser(userId: $id) { changed } }";

#[tokio::test]
async fn a_muted_user_cannot_publish_until_the_mute_ends_and_learns_when() {
    let world = World::new().await;
    let root = admin();
    let (alice, bob) = (user(), user());
    world.enroll(&[id_of(&alice)]).await;
    let games = zone(&world, &root, "Games").await;
    let p = post(&world, &alice, &games, "hello").await;
    // whole microseconds: what Postgres keeps
    let until = chrono::DateTime::from_timestamp_micros((world.clock.now() + chrono::Duration::hours(1)).timestamp_micros()).expect("time");
    let bob_id = id_of(&bob).to_string();
    let muted = world.run(&root, MUTE, json!({ "id": bob_id, "until": until.to_rfc3339(), "reason": "flooding" })).await.ok();
    assert_eq!(muted.data("/muteUser/banned"), &json!(false));
    let before = table_counts(&world).await;

    let publishing: Vec<(&str, Value)> = vec![
        (CREATE_POST, json!({ "input": { "zoneId": games, "body": "x" } })),
        (CREATE_COMMENT, json!({ "input": { "postId": p, "body": "x" } })),
        (LIKE_POST, json!({ "id": p })),
    ];
    for (mutation, variables) in &publishing {
        let answer = world.run(&bob, mutation, variables.clone()).await;
        assert_eq!(answer.codes(), ["FORBIDDEN"], "{mutation}");
        let said: chrono::DateTime<chrono::Utc> =
            answer.body["errors"][0]["extensions"]["mutedUntil"].as_str().expect("mutedUntil").parse().expect("time");
        assert_eq!(said, until);
    }
    assert_eq!(table_counts(&world).await, before, "nothing written");
    // a mute does not stop following
    world.run(&bob, FOLLOW, json!({ "id": id_of(&alice).to_string() })).await.ok();

    let listed = world.run(&root, "{ mutedUsers { edges { node { user { id } mutedUntil } } } }", json!({})).await.ok();
    assert_eq!(listed.data("/mutedUsers/edges/0/node/user/id"), &json!(bob_id));

    // the clock reaches the end of the mute: publishing works again, and the list is empty
    world.clock.advance(chrono::Duration::hours(1));
    for (mutation, variables) in &publishing {
        world.run(&bob, mutation, variables.clone()).await.ok();
    }
    let listed = world.run(&root, "{ mutedUsers { edges { node { user { id } } } } }", json!({})).await.ok();
    assert_eq!(listed.data("/mutedUsers/edges"), &json!([]));
    assert_eq!(world.audit().await, []);
}

#[tokio::test]
async fn a_banned_user_can_do_nothing_until_unbanned_and_every_action_is_logged() {
    let world = World::new().await;
    let root = admin();
    let (alice, carol) = (user(), user());
    world.enroll(&[id_of(&alice)]).await;
    let games = zone(&world, &root, "Games").await;
    let own = post(&world, &carol, &games, "mine").await;
    let carol_id = id_of(&carol).to_string();
    world.run(&root, BAN, json!({ "id": carol_id, "reason": "spam" })).await.ok();
    let everything: Vec<(&str, Value)> = vec![
        (CREATE_POST, json!({ "input": { "zoneId": games, "body": "x" } })),
        (DELETE_POST, json!({ "id": own })),
        (FOLLOW, json!({ "id": id_of(&alice).to_string() })),
        ("mutation($id: ID!) { followZone(zoneId: $id) { id } }", json!({ "id": games })),
    ];
    for (mutation, variables) in &everything {
        assert_eq!(world.run(&carol, mutation, variables.clone()).await.codes(), ["FORBIDDEN"], "{mutation}");
    }
    let banned = world.run(&root, "{ bannedUsers { edges { node { user { id } banned } } } }", json!({})).await.ok();
    assert_eq!(banned.data("/bannedUsers/edges/0/node"), &json!({ "user": { "id": carol_id }, "banned": true }));
    world.run(&root, UNBAN, json!({ "id": carol_id, "reason": "appeal accepted" })).await.ok();
    world.run(&carol, FOLLOW, json!({ "id": id_of(&alice).to_string() })).await.ok();
    // an admin's delete of someone else's post is a moderation action too
    let theirs = post(&world, &alice, &games, "rule breaking").await;
    world.run(&root, DELETE_POST, json!({ "id": theirs, "reason": "rule 3" })).await.ok();

    let log = world
        .run(&root, "{ moderationLog { edges { node { action actor { id } targetUser { id } targetId reason } } } }", json!({}))
        .await
        .ok();
    let actions: Vec<(String, String)> = log
        .data("/moderationLog/edges")
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| (e["node"]["action"].as_str().expect("action").to_owned(), e["node"]["reason"].as_str().expect("reason").to_owned()))
        .collect();
    assert_eq!(
        actions,
        [("delete_post".into(), "rule 3".into()), ("unban".into(), "appeal accepted".into()), ("ban".into(), "spam".into())]
    );
    assert_eq!(log.data("/moderationLog/edges/0/node/targetId"), &json!(theirs));
    assert_eq!(log.data("/moderationLog/edges/0/node/actor/id"), &json!(id_of(&root).to_string()));
}

#[tokio::test]
async fn only_admins_moderate_and_bad_sanctions_are_refused() {
    let world = World::new().await;
    let root = admin();
    let (bob, carol) = (user(), user());
    let later = (world.clock.now() + chrono::Duration::hours(1)).to_rfc3339();
    let mute = |id: String, until: String, reason: &str| json!({ "id": id, "until": until, "reason": reason });
    let bob_id = id_of(&bob).to_string();
    assert_eq!(world.run(&Viewer::Anonymous, MUTE, mute(bob_id.clone(), later.clone(), "x")).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(world.run(&carol, MUTE, mute(bob_id.clone(), later.clone(), "x")).await.codes(), ["FORBIDDEN"]);
    assert_eq!(world.run(&carol, BAN, json!({ "id": bob_id, "reason": "x" })).await.codes(), ["FORBIDDEN"]);
    assert_eq!(world.run(&carol, CREATE_ZONE, json!({ "name": "x" })).await.codes(), ["FORBIDDEN"]);
    let past = (world.clock.now() - chrono::Duration::seconds(1)).to_rfc3339();
    let far = (world.clock.now() + chrono::Duration::days(400)).to_rfc3339();
    for bad in [
        mute(bob_id.clone(), past, "x"),
        mute(bob_id.clone(), far, "x"),
        mute(bob_id.clone(), later.clone(), " "),
        mute(id_of(&root).to_string(), later, "x"),
    ] {
        assert_eq!(world.run(&root, MUTE, bad.clone()).await.codes(), ["BAD_USER_INPUT"], "{bad}");
    }
    let log = world.run(&root, "{ moderationLog { edges { node { id } } } }", json!({})).await.ok();
    assert_eq!(log.data("/moderationLog/edges"), &json!([]));
}

#[tokio::test]
async fn a_zone_admin_moderates_their_zone_only() {
    let world = World::new().await;
    let root = admin();
    let (keeper, alice) = (user(), user());
    // Only accounts can be made zone admins.
    world.enroll(&[id_of(&keeper)]).await;
    let (games, music) = (zone(&world, &root, "Games").await, zone(&world, &root, "Music").await);
    let add = "mutation($z: ID!, $u: ID!) { addZoneAdmin(zoneId: $z, userId: $u) { user { id } addedBy { id } } }";
    let keeper_id = id_of(&keeper).to_string();
    assert_eq!(world.run(&keeper, add, json!({ "z": games, "u": keeper_id })).await.codes(), ["FORBIDDEN"], "site admins only");
    world.run(&root, add, json!({ "z": games, "u": keeper_id })).await.ok();
    let listed =
        world.run(&Viewer::Anonymous, "query($z: ID!) { zoneAdmins(zoneId: $z) { user { id } } }", json!({ "z": games })).await.ok();
    assert_eq!(listed.data("/zoneAdmins"), &json!([{ "user": { "id": keeper_id } }]));

    let here = post(&world, &alice, &games, "in games").await;
    let there = post(&world, &alice, &music, "in music").await;
    let pin = "mutation($id: ID!) { pinPost(id: $id) { pinnedAt } }";
    let reject = "mutation($id: ID!) { rejectPost(id: $id, reason: \"off topic\") { state } }";
    assert_eq!(world.run(&keeper, pin, json!({ "id": there })).await.codes(), ["FORBIDDEN"]);
    assert_eq!(world.run(&keeper, reject, json!({ "id": there })).await.codes(), ["FORBIDDEN"]);
    assert_eq!(world.run(&keeper, DELETE_POST, json!({ "id": there, "reason": "x" })).await.codes(), ["FORBIDDEN"]);
    world.run(&keeper, pin, json!({ "id": here })).await.ok();
    assert_eq!(world.run(&keeper, reject, json!({ "id": here })).await.ok().data("/rejectPost/state"), &json!("REJECTED"));
    world.run(&keeper, "mutation($id: ID!) { approvePost(id: $id) { state } }", json!({ "id": here })).await.ok();
    assert_eq!(world.run(&keeper, DELETE_POST, json!({ "id": here })).await.codes(), ["BAD_USER_INPUT"], "a reason, as for site admins");
    world.run(&keeper, DELETE_POST, json!({ "id": here, "reason": "spam" })).await.ok();
    let log = world.run(&root, "{ moderationLog { edges { node { action actor { id } } } } }", json!({})).await.ok();
    let by_keeper =
        log.data("/moderationLog/edges").as_array().expect("edges").iter().filter(|e| e["node"]["actor"]["id"] == json!(keeper_id)).count();
    assert_eq!(by_keeper, 4, "pin, reject, approve, delete");
    assert_eq!(world.audit().await, []);
}
