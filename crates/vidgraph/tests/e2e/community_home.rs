//! The home list's pins through the router: site admins pin up to four posts of any zone, they
//! lead the home list's first page (and leave its edges), two admins racing for the last place
//! cannot both take it, and nobody else may pin.

use crate::community_notifications::{CREATE_POST, CREATE_ZONE};
use crate::harness::Platform;
use serde_json::json;

const PIN: &str = "mutation($id: ID!) { pinHomePost(id: $id) { id } }";
const UNPIN: &str = "mutation($id: ID!) { unpinHomePost(id: $id) { id } }";
const HOME: &str =
    "query($after: String) { posts(first: 20, after: $after) { pinned { id } pageInfo { endCursor } edges { node { id } } } }";

fn ids(reply: &crate::harness::Reply, pointer: &str) -> Vec<String> {
    reply
        .data(pointer)
        .as_array()
        .map(|items| items.iter().filter_map(|i| i["id"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn admins_pin_four_posts_that_lead_the_home_list_and_nobody_else_may() {
    let platform = Platform::start().await;
    let (_, admin) = platform.admin("root").await;
    let (_, second_admin) = platform.admin("root2").await;
    let users = platform.users("home", 3).await;
    let ((_, alice), (zone_admin_id, zone_admin), (muted_id, muted)) = (&users[0], &users[1], &users[2]);
    let zone = platform.gql(CREATE_ZONE, json!({}), Some(&admin)).await.ok().data("/createZone/id").as_str().expect("zone").to_owned();
    let mut posts = Vec::new();
    for n in 0..7 {
        let post = platform.gql(CREATE_POST, json!({ "input": { "zoneId": zone, "body": format!("post {n}") } }), Some(alice)).await.ok();
        posts.push(post.data("/createPost/id").as_str().expect("post").to_owned());
    }
    let add = "mutation($zone: ID!, $user: ID!) { addZoneAdmin(zoneId: $zone, userId: $user) { user { id } } }";
    platform.gql(add, json!({ "zone": zone, "user": zone_admin_id }), Some(&admin)).await.ok();
    let mute = "mutation($id: ID!, $until: DateTime!) { muteUser(userId: $id, until: $until, reason: \"calm\") { mutedUntil } }";
    let until = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    platform.gql(mute, json!({ "id": muted_id, "until": until }), Some(&admin)).await.ok();

    // the authorization matrix: only site admins
    assert_eq!(platform.gql(PIN, json!({ "id": posts[0] }), None).await.codes(), ["UNAUTHENTICATED"]);
    for token in [alice, zone_admin, muted] {
        assert_eq!(platform.gql(PIN, json!({ "id": posts[0] }), Some(token)).await.codes(), ["FORBIDDEN"]);
        assert_eq!(platform.gql(UNPIN, json!({ "id": posts[0] }), Some(token)).await.codes(), ["FORBIDDEN"]);
    }
    assert_eq!(ids(&platform.gql(HOME, json!({}), None).await.ok(), "/posts/pinned"), Vec::<String>::new(), "nothing was pinned");

    // three pins, then two admins race four pins for the fourth place: exactly one gets it
    for post in &posts[0..3] {
        platform.gql(PIN, json!({ "id": post }), Some(&admin)).await.ok();
    }
    let racers = posts[3..7].iter().enumerate().map(|(n, post)| {
        let token = if n % 2 == 0 { &admin } else { &second_admin };
        platform.gql(PIN, json!({ "id": post }), Some(token))
    });
    let outcomes = futures::future::join_all(racers).await;
    let winners: Vec<&String> =
        posts[3..7].iter().zip(&outcomes).filter(|(_, reply)| reply.codes().is_empty()).map(|(post, _)| post).collect();
    assert_eq!(winners.len(), 1, "{:?}", outcomes.iter().map(|reply| &reply.body).collect::<Vec<_>>());
    assert!(outcomes.iter().filter(|reply| !reply.codes().is_empty()).all(|reply| reply.codes() == ["CONFLICT"]));
    let winner = winners[0];
    let loser = posts[3..7].iter().find(|post| *post != winner).expect("a loser");
    assert_eq!(platform.gql(PIN, json!({ "id": loser }), Some(&admin)).await.codes(), ["CONFLICT"]);
    platform.gql(PIN, json!({ "id": posts[0] }), Some(&admin)).await.ok(); // idempotent, not a fifth

    // they lead the first page, most recently pinned first, and leave the edges
    let home = platform.gql(HOME, json!({}), None).await.ok();
    assert_eq!(ids(&home, "/posts/pinned"), [winner.clone(), posts[2].clone(), posts[1].clone(), posts[0].clone()]);
    let edges = home.node_ids("posts");
    assert_eq!(edges.len(), 3, "{}", home.body);
    assert!(edges.iter().all(|id| !ids(&home, "/posts/pinned").contains(id)));
    let later = platform.gql(HOME, json!({ "after": home.data("/posts/pageInfo/endCursor") }), None).await.ok();
    assert_eq!(ids(&later, "/posts/pinned"), Vec::<String>::new(), "only the first page has them");
    // the zone's own list is not the home list: its edges keep every post
    let zone_list = platform
        .gql("query($z: ID) { posts(zoneId: $z, first: 20) { pinned { id } edges { node { id } } } }", json!({ "z": zone }), None)
        .await
        .ok();
    assert_eq!((zone_list.node_ids("posts").len(), ids(&zone_list, "/posts/pinned").len()), (7, 0));

    // a deleted pinned post leaves its place; an unpinned one returns to the edges
    platform.gql("mutation($id: ID!) { deletePost(id: $id) }", json!({ "id": posts[1] }), Some(alice)).await.ok();
    platform.gql(PIN, json!({ "id": loser }), Some(&admin)).await.ok();
    platform.gql(UNPIN, json!({ "id": posts[0] }), Some(&admin)).await.ok();
    let home = platform.gql(HOME, json!({}), None).await.ok();
    assert_eq!(ids(&home, "/posts/pinned"), [loser.clone(), winner.clone(), posts[2].clone()]);
    assert!(home.node_ids("posts").contains(&posts[0]));

    // bad input
    assert_eq!(platform.gql(PIN, json!({ "id": posts[1] }), Some(&admin)).await.codes(), ["NOT_FOUND"], "deleted");
    assert_eq!(platform.gql(PIN, json!({ "id": uuid::Uuid::now_v7().to_string() }), Some(&admin)).await.codes(), ["NOT_FOUND"]);
    assert_eq!(platform.gql(PIN, json!({ "id": "nope" }), Some(&admin)).await.codes(), ["BAD_USER_INPUT"]);
    let log = platform.gql("{ moderationLog(first: 50) { edges { node { action } } } }", json!({}), Some(&admin)).await.ok();
    let pins = log.data("/moderationLog/edges").as_array().expect("log").iter().filter(|e| e["node"]["action"] == "pin_home_post").count();
    assert_eq!(pins, 5, "each pin that changed something is logged once");
    let audit = platform.gql("{ communityAudit { counter } }", json!({}), Some(&admin)).await.ok();
    assert_eq!(audit.data("/communityAudit"), &json!([]));
}

#[tokio::test]
async fn a_ban_that_hides_content_takes_it_out_of_every_list_but_the_admins_and_an_unban_restores_it() {
    let platform = Platform::start().await;
    let (_, admin) = platform.admin("root").await;
    let users = platform.users("hide", 3).await;
    let ((alice_id, alice), (_, bob), (carol_id, carol)) = (&users[0], &users[1], &users[2]);
    let zone = platform.gql(CREATE_ZONE, json!({}), Some(&admin)).await.ok().data("/createZone/id").as_str().expect("zone").to_owned();
    let post = |token: &str, body: &str| {
        let (token, body, zone) = (token.to_owned(), body.to_owned(), zone.clone());
        let platform = &platform;
        async move {
            let reply = platform.gql(CREATE_POST, json!({ "input": { "zoneId": zone, "body": body } }), Some(&token)).await.ok();
            reply.data("/createPost/id").as_str().expect("post").to_owned()
        }
    };
    let alices = post(alice, "alice's").await;
    let alices_pinned = post(alice, "alice's pinned").await;
    let bobs = post(bob, "bob's").await;
    let carols = post(carol, "carol's").await;
    platform.gql(PIN, json!({ "id": alices_pinned }), Some(&admin)).await.ok();
    let comment = "mutation($input: CreateCommentInput!) { createPostComment(input: $input) { id } }";
    let alices_comment = platform.gql(comment, json!({ "input": { "postId": bobs, "body": "from alice" } }), Some(alice)).await.ok();
    let alices_comment = alices_comment.data("/createPostComment/id").as_str().expect("comment").to_owned();
    platform.gql("mutation($id: ID!) { likePost(id: $id) { likeScore } }", json!({ "id": alices }), Some(bob)).await.ok();

    let zone_list = "query($z: ID) { posts(zoneId: $z, first: 20) { edges { node { id } } } }";
    let comments = "query($p: ID!) { postComments(postId: $p, first: 20) { edges { node { id } } } }";
    let single = "query($id: ID!) { post(id: $id) { id } }";
    let stats = "query($id: ID!) { user(id: $id) { likesReceived } }";
    let fame = "query($z: ID!) { zoneHallOfFame(zoneId: $z) { points user { id } } }";
    let fame_before = platform.gql(fame, json!({ "z": zone }), None).await.ok().body;

    // carol's plain ban hides nothing; alice's ban hides her posts, pin and comment
    let ban = "mutation($id: ID!, $hide: Boolean!) { banUser(userId: $id, reason: \"spam\", hideContent: $hide) { banned hidesContent } }";
    assert_eq!(platform.gql(ban, json!({ "id": alice_id, "hide": true }), Some(bob)).await.codes(), ["FORBIDDEN"]);
    platform.gql(ban, json!({ "id": carol_id, "hide": false }), Some(&admin)).await.ok();
    let banned = platform.gql(ban, json!({ "id": alice_id, "hide": true }), Some(&admin)).await.ok();
    assert_eq!(banned.data("/banUser"), &json!({ "banned": true, "hidesContent": true }));
    for viewer in [None, Some(bob.as_str())] {
        let home = platform.gql(HOME, json!({}), viewer).await.ok();
        assert_eq!(home.node_ids("posts"), [carols.clone(), bobs.clone()], "{}", home.body);
        assert_eq!(ids(&home, "/posts/pinned"), Vec::<String>::new());
        assert_eq!(platform.gql(zone_list, json!({ "z": zone }), viewer).await.ok().node_ids("posts"), [carols.clone(), bobs.clone()]);
        assert_eq!(platform.gql(comments, json!({ "p": bobs }), viewer).await.ok().node_ids("postComments"), Vec::<String>::new());
        assert_eq!(platform.gql(single, json!({ "id": alices }), viewer).await.ok().data("/post"), &json!(null));
    }
    // admins still see it all
    let home = platform.gql(HOME, json!({}), Some(&admin)).await.ok();
    assert_eq!(home.node_ids("posts"), [carols.clone(), bobs.clone(), alices.clone()]);
    assert_eq!(ids(&home, "/posts/pinned"), std::slice::from_ref(&alices_pinned));
    assert_eq!(
        platform.gql(comments, json!({ "p": bobs }), Some(&admin)).await.ok().node_ids("postComments"),
        std::slice::from_ref(&alices_comment)
    );
    // hiding is a view: counters, points and the recompute check are untouched
    assert_eq!(platform.gql(stats, json!({ "id": alice_id }), None).await.ok().data("/user/likesReceived"), &json!(1));
    assert_eq!(platform.gql(fame, json!({ "z": zone }), None).await.ok().body, fame_before);
    let audit = platform.gql("{ communityAudit { counter } }", json!({}), Some(&admin)).await.ok();
    assert_eq!(audit.data("/communityAudit"), &json!([]));

    // the unban restores everything
    platform
        .gql(
            "mutation($id: ID!) { unbanUser(userId: $id, reason: \"appeal\") { banned hidesContent } }",
            json!({ "id": alice_id }),
            Some(&admin),
        )
        .await
        .ok();
    let home = platform.gql(HOME, json!({}), None).await.ok();
    assert_eq!(home.node_ids("posts"), [carols.clone(), bobs.clone(), alices.clone()]);
    assert_eq!(ids(&home, "/posts/pinned"), std::slice::from_ref(&alices_pinned));
    assert_eq!(platform.gql(comments, json!({ "p": bobs }), None).await.ok().node_ids("postComments"), [alices_comment]);
    assert_eq!(platform.gql(single, json!({ "id": alices }), None).await.ok().data("/post/id"), &json!(alices));
    let audit = platform.gql("{ communityAudit { counter } }", json!({}), Some(&admin)).await.ok();
    assert_eq!(audit.data("/communityAudit"), &json!([]));
}
