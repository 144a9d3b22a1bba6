//! Reports: several reports of one item are one entry with a count (one per reporter); an
//! admin resolves it once, recording who, when and how; removing takes the item's points
//! back, and a mute or ban of its author comes with it.

use crate::posts::{post, zone};
use crate::world::{World, admin, id_of, user};
use platform::auth::Viewer;
use platform::clock::Clock;
use serde_json::json;

const REPORT: &str = "mutation($id: ID!, $reason: String!) { reportPost(id: $id, reason: $reason) }";
const QUEUE: &str = "query($resolved: Boolean) { reports(resolved: $resolved) { edges { node { \
    id targetId reportCount excerpt reasons { reason } resolved resolvedBy { id } resolution resolutionNote } } } }";
const RESOLVE: &str = "mutation($id: ID!, $action: ReportAction!, $note: String, $until: DateTime) { \
    resolveReport(id: $id, action: $action, note: $note, muteUntil: $until) { resolved resolution } }";

#[tokio::test]
async fn reports_of_one_item_are_one_entry_resolved_once_with_who_when_and_how() {
    let world = World::new().await;
    let (root, other_admin) = (admin(), admin());
    let (alice, bob, carol) = (user(), user(), user());
    let games = zone(&world, &root, "Games").await;
    let p = post(&world, &alice, &games, "buy followers here").await;

    assert_eq!(world.run(&Viewer::Anonymous, REPORT, json!({ "id": p, "reason": "spam" })).await.codes(), ["UNAUTHENTICATED"]);
    assert_eq!(world.run(&alice, REPORT, json!({ "id": p, "reason": "spam" })).await.codes(), ["BAD_USER_INPUT"], "not one's own");
    assert_eq!(world.run(&bob, REPORT, json!({ "id": p, "reason": " " })).await.codes(), ["BAD_USER_INPUT"]);
    world.run(&bob, REPORT, json!({ "id": p, "reason": "spam" })).await.ok();
    world.run(&bob, REPORT, json!({ "id": p, "reason": "spam again" })).await.ok();
    world.run(&carol, REPORT, json!({ "id": p, "reason": "scam" })).await.ok();
    // the author edits the post: the entry keeps what was reported
    world.run(&alice, "mutation($id: ID!) { editPost(id: $id, input: { body: \"innocent\" }) { body } }", json!({ "id": p })).await.ok();
    let forbidden = world.run(&bob, QUEUE, json!({})).await;
    assert_eq!(forbidden.codes(), ["FORBIDDEN"], "{}", forbidden.body);
    let queue = world.run(&root, QUEUE, json!({})).await.ok();
    let node = queue.data("/reports/edges/0/node").clone();
    assert_eq!(queue.data("/reports/edges").as_array().expect("edges").len(), 1, "one entry per item");
    assert_eq!(node["reportCount"], json!(2), "once per reporter");
    assert_eq!(node["excerpt"], json!("buy followers here"));
    assert_eq!(node["reasons"], json!([{ "reason": "spam" }, { "reason": "scam" }]));
    let entry = node["id"].as_str().expect("id").to_owned();

    // removing needs a note; two admins at once: one resolves it, the other gets CONFLICT
    assert_eq!(world.run(&root, RESOLVE, json!({ "id": entry, "action": "REMOVE" })).await.codes(), ["BAD_USER_INPUT"]);
    let until = (world.clock.now() + chrono::Duration::days(1)).to_rfc3339();
    let (a, b) = tokio::join!(
        world.run(&root, RESOLVE, json!({ "id": entry, "action": "REMOVE_AND_MUTE", "note": "spam", "until": until })),
        world.run(&other_admin, RESOLVE, json!({ "id": entry, "action": "DISMISS" })),
    );
    let mut codes = [a.codes(), b.codes()];
    codes.sort();
    assert_eq!(codes, [vec![], vec!["CONFLICT".to_owned()]]);
    let resolved = world.run(&root, QUEUE, json!({ "resolved": true })).await.ok();
    let node = resolved.data("/reports/edges/0/node").clone();
    assert_eq!(node["resolved"], json!(true));
    let by = node["resolvedBy"]["id"].as_str().expect("by").to_owned();
    if node["resolution"] == json!("remove_and_mute") {
        assert_eq!(by, id_of(&root).to_string());
        assert_eq!(
            world.run(&Viewer::Anonymous, "query($id: ID!) { post(id: $id) { id } }", json!({ "id": p })).await.ok().data("/post"),
            &json!(null)
        );
        let refused =
            world.run(&alice, "mutation($z: ID!) { createPost(input: { zoneId: $z, body: \"x\" }) { id } }", json!({ "z": games })).await;
        assert_eq!(refused.codes(), ["FORBIDDEN"], "muted with the removal");
    } else {
        assert_eq!(node["resolution"], json!("dismiss"));
        assert_eq!(by, id_of(&other_admin).to_string());
    }
    assert_eq!(world.run(&root, QUEUE, json!({})).await.ok().data("/reports/edges"), &json!([]));
    // a new report of the item after resolution opens a new entry (when it still exists)
    assert_eq!(world.audit().await, []);
}
