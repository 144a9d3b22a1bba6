//! Publishing, editing and deleting videos through the router: who may do what, what bad
//! input gets, and that a deleted video disappears from every reader.

use crate::harness::Platform;
use serde_json::{Value, json};

const CREATE: &str = "mutation($input: CreateVideoInput!) { createVideo(input: $input) { \
    id title description tags state durationSecs sourceUrl publishedAt region { id } author { id } stat { views likes } } }";
const UPDATE: &str =
    "mutation($id: ID!, $input: UpdateVideoInput!) { updateVideo(id: $id, input: $input) { id title state coverUrl region { id } } }";
const DELETE: &str = "mutation($id: ID!) { deleteVideo(id: $id) }";
const VIDEO: &str = "query($id: ID!) { video(id: $id) { id title state } }";

fn video_input(title: &str) -> Value {
    json!({
        "title": title,
        "description": "A walk through async Rust",
        "regionId": 4,
        "tags": ["rust", "async"],
        "durationSecs": 600,
        "sourceUrl": "https://cdn.example.com/v/1.mp4",
    })
}

fn with(mut input: Value, key: &str, value: Value) -> Value {
    input[key] = value;
    input
}

#[tokio::test]
async fn an_author_publishes_edits_and_deletes_and_others_may_not() {
    let platform = Platform::start().await;
    let (author_id, author, _) = platform.register("author").await;
    let (_, stranger, _) = platform.register("stranger").await;
    let (_, admin) = platform.admin("moderator").await;

    // anonymous cannot publish
    let anonymous = platform.gql(CREATE, json!({ "input": video_input("Rust async") }), None).await;
    assert_eq!(anonymous.codes(), ["UNAUTHENTICATED"]);

    // the author publishes; everyone sees it
    let created = platform.gql(CREATE, json!({ "input": video_input("  Rust async  ") }), Some(&author)).await.ok();
    let id = created.data("/createVideo/id").as_str().expect("id").to_owned();
    assert_eq!(created.data("/createVideo/title"), &json!("Rust async"));
    assert_eq!(created.data("/createVideo/state"), &json!("PUBLISHED"));
    assert_eq!(created.data("/createVideo/author/id"), &json!(author_id));
    assert_eq!(created.data("/createVideo/stat"), &json!({ "views": 0, "likes": 0 }));
    assert!(created.data("/createVideo/publishedAt").is_string());
    let seen = platform.gql(VIDEO, json!({ "id": id }), None).await.ok();
    assert_eq!(seen.data("/video/title"), &json!("Rust async"));

    // a stranger may neither edit nor delete it
    let edit = platform.gql(UPDATE, json!({ "id": id, "input": { "title": "Mine now" } }), Some(&stranger)).await;
    assert_eq!(edit.codes(), ["FORBIDDEN"]);
    let delete = platform.gql(DELETE, json!({ "id": id }), Some(&stranger)).await;
    assert_eq!(delete.codes(), ["FORBIDDEN"]);
    let anonymous_delete = platform.gql(DELETE, json!({ "id": id }), None).await;
    assert_eq!(anonymous_delete.codes(), ["UNAUTHENTICATED"]);

    // the author and an admin may edit; the cached copy follows the edit
    let edited = platform
        .gql(
            UPDATE,
            json!({ "id": id, "input": { "title": "Rust async, revised", "regionId": 3, "coverUrl": "https://img.example.com/c.jpg" } }),
            Some(&author),
        )
        .await
        .ok();
    assert_eq!(edited.data("/updateVideo/region/id"), &json!(3));
    assert_eq!(platform.gql(VIDEO, json!({ "id": id }), None).await.ok().data("/video/title"), &json!("Rust async, revised"));
    let moderated = platform.gql(UPDATE, json!({ "id": id, "input": { "coverUrl": null } }), Some(&admin)).await.ok();
    assert_eq!(moderated.data("/updateVideo/coverUrl"), &json!(null));

    // the author deletes it: gone from video(id), the feed, search and entities; twice is fine
    assert_eq!(platform.gql(DELETE, json!({ "id": id }), Some(&author)).await.ok().data("/deleteVideo"), &json!(true));
    assert_eq!(platform.gql(DELETE, json!({ "id": id }), Some(&author)).await.ok().data("/deleteVideo"), &json!(false));
    assert_eq!(platform.gql(VIDEO, json!({ "id": id }), None).await.ok().data("/video"), &json!(null));
    assert_eq!(platform.gql(VIDEO, json!({ "id": id }), Some(&author)).await.ok().data("/video"), &json!(null));
    let feed = platform.gql("{ videos(first: 10) { edges { node { id } } } }", json!({}), None).await.ok();
    assert_eq!(feed.data("/videos/edges"), &json!([]));
    let search = platform.gql("{ searchVideos(query: \"revised\") { edges { node { id } } } }", json!({}), None).await.ok();
    assert_eq!(search.data("/searchVideos/edges"), &json!([]));
    let entities = platform
        .post(
            &platform.subgraph_urls["content"],
            "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Video { id } } }",
            json!({ "reps": [{ "__typename": "Video", "id": id }] }),
            None,
        )
        .await
        .ok();
    assert_eq!(entities.data("/_entities"), &json!([null]));
    let edit_deleted = platform.gql(UPDATE, json!({ "id": id, "input": { "title": "Back" } }), Some(&author)).await;
    assert_eq!(edit_deleted.codes(), ["NOT_FOUND"]);

    // an admin deletes someone else's video
    let other = platform.gql(CREATE, json!({ "input": video_input("Second") }), Some(&author)).await.ok();
    let other_id = other.data("/createVideo/id").as_str().expect("id").to_owned();
    assert_eq!(platform.gql(DELETE, json!({ "id": other_id }), Some(&admin)).await.ok().data("/deleteVideo"), &json!(true));
}

#[tokio::test]
async fn drafts_are_private_until_published() {
    let platform = Platform::start().await;
    let (_, author, _) = platform.register("drafter").await;
    let (_, stranger, _) = platform.register("peeker").await;

    let bare = json!({ "title": "Work in progress", "regionId": 1, "durationSecs": 90, "draft": true });
    let draft = platform.gql(CREATE, json!({ "input": bare }), Some(&author)).await.ok();
    let id = draft.data("/createVideo/id").as_str().expect("id").to_owned();
    assert_eq!(draft.data("/createVideo/state"), &json!("DRAFT"));
    assert_eq!(draft.data("/createVideo/publishedAt"), &json!(null));

    assert_eq!(platform.gql(VIDEO, json!({ "id": id }), None).await.ok().data("/video"), &json!(null));
    assert_eq!(platform.gql(VIDEO, json!({ "id": id }), Some(&stranger)).await.ok().data("/video"), &json!(null));
    assert_eq!(platform.gql(VIDEO, json!({ "id": id }), Some(&author)).await.ok().data("/video/state"), &json!("DRAFT"));
    let mine = platform.gql("{ myVideos(first: 5) { edges { node { id state } } } }", json!({}), Some(&author)).await.ok();
    assert_eq!(mine.data("/myVideos/edges/0/node/id"), &json!(id));
    let feed = platform.gql("{ videos { edges { node { id } } } }", json!({}), None).await.ok();
    assert_eq!(feed.data("/videos/edges"), &json!([]));

    // a draft without media cannot go public; with a source it can
    let refused = platform.gql(UPDATE, json!({ "id": id, "input": { "publish": true } }), Some(&author)).await;
    assert_eq!(refused.codes(), ["BAD_USER_INPUT"]);
    let with_media = with(video_input("Ready"), "draft", json!(true));
    let ready = platform.gql(CREATE, json!({ "input": with_media }), Some(&author)).await.ok();
    let ready_id = ready.data("/createVideo/id").as_str().expect("id").to_owned();
    let published = platform.gql(UPDATE, json!({ "id": ready_id, "input": { "publish": true } }), Some(&author)).await.ok();
    assert_eq!(published.data("/updateVideo/state"), &json!("PUBLISHED"));
    assert_eq!(platform.gql(VIDEO, json!({ "id": ready_id }), None).await.ok().data("/video/state"), &json!("PUBLISHED"));
}

#[tokio::test]
async fn bad_video_input_is_refused_with_a_code_and_nothing_is_stored() {
    let platform = Platform::start().await;
    let (_, author, _) = platform.register("careless").await;
    let cases = [
        ("empty title", with(video_input(""), "title", json!("   "))),
        ("long title", video_input(&"长".repeat(81))),
        ("unknown region", with(video_input("x"), "regionId", json!(99))),
        ("zero duration", with(video_input("x"), "durationSecs", json!(0))),
        ("two sources", with(video_input("x"), "assetRef", json!("asset:1"))),
        ("no media", with(video_input("x"), "sourceUrl", Value::Null)),
        ("bad source", with(video_input("x"), "sourceUrl", json!("javascript:alert(1)"))),
        ("bad cover", with(video_input("x"), "coverUrl", json!("not a url"))),
        ("too many tags", with(video_input("x"), "tags", json!((0..13).map(|n| format!("t{n}")).collect::<Vec<_>>()))),
        ("long description", with(video_input("x"), "description", json!("d".repeat(2001)))),
        ("unknown upload", with(with(video_input("x"), "sourceUrl", Value::Null), "uploadId", json!(uuid::Uuid::now_v7()))),
    ];
    for (case, input) in cases {
        let reply = platform.gql(CREATE, json!({ "input": input }), Some(&author)).await;
        let expected = if case == "unknown upload" { "NOT_FOUND" } else { "BAD_USER_INPUT" };
        assert_eq!(reply.codes(), [expected], "{case}: {}", reply.body);
        assert_eq!(reply.status, 200, "{case}");
    }
    let mine = platform.gql("{ myVideos { edges { node { id } } } }", json!({}), Some(&author)).await.ok();
    assert_eq!(mine.data("/myVideos/edges"), &json!([]), "nothing half-written");

    let bad_id = platform.gql(VIDEO, json!({ "id": "not-an-id" }), None).await;
    assert_eq!(bad_id.codes(), ["BAD_USER_INPUT"]);
    let bad_region_feed = platform.gql("{ videos(regionId: 42) { edges { node { id } } } }", json!({}), None).await;
    assert_eq!(bad_region_feed.codes(), ["BAD_USER_INPUT"]);
}
