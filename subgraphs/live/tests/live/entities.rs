//! `User` entity fields are batched: however many users the router asks about in one
//! `_entities` fetch, each field costs one SQL statement.

use crate::harness::{World, user};
use async_graphql::{Request, Variables};
use serde_json::json;
use vidgraph_live::domain::medals::{MedalFields, NewMedal};

#[tokio::test]
async fn user_fields_cost_one_statement_each_for_a_whole_batch_of_users() {
    let world = World::start().await;
    let group = world.live.medals.create_group(world.admin, "Site", false).await.expect("group");
    let fields = MedalFields { group_id: group.id, name: "Regular".into(), visible: true, ..Default::default() };
    let medal = world.live.medals.create_medal(world.admin, NewMedal::parse(fields).expect("valid")).await.expect("medal");
    let mut ids = Vec::new();
    for _ in 0..10 {
        let (streamer, _) = world.live_streamer().await;
        world.live.medals.grant(world.admin, streamer.id, medal.id, "").await.expect("grant");
        world.live.medals.wear(streamer, medal.id).await.expect("wear");
        ids.push(streamer.id);
    }
    ids.push(user().id); // one without a room or medals
    let representations: Vec<_> = ids.iter().map(|id| json!({ "__typename": "User", "id": id })).collect();
    let schema = vidgraph_live::build_schema(&world.deps, &world.live);
    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id room { title isLive } medals { unlocked } wornMedals { name } } } }";

    let before = world.deps.db.statements.get();
    let response = schema.execute(Request::new(query).variables(Variables::from_json(json!({ "r": representations })))).await;
    let statements = world.deps.db.statements.get() - before;

    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let data = response.data.into_json().expect("json");
    let entities = data["_entities"].as_array().expect("entities");
    assert_eq!(entities.len(), 11);
    assert_eq!(entities[0]["wornMedals"], json!([{ "name": "Regular" }]));
    assert_eq!(entities[10]["room"], json!(null));
    assert_eq!(statements, 3, "one for rooms, one for medals, one for worn medals");
}
