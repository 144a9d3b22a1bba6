//! `updateMedal` through the router: every admin-managed field changes (and `null` clears an
//! image or makes a medal permanent); bad input is a coded error that changes nothing; moving
//! a medal to another group takes it off whoever wears it.

use crate::harness::Platform;
use serde_json::json;

const GROUP: &str = "mutation($name: String!) { createMedalGroup(name: $name) { id } }";
const CREATE: &str = "mutation($group: ID!) { createMedal(input: { groupId: $group, name: \"Night owl\", validityDays: 30, \
    webImageLocked: \"https://img.example/owl-grey.png\" }) { id } }";
const UPDATE: &str = "mutation($id: ID!, $input: UpdateMedalInput!) { updateMedal(id: $id, input: $input) { id } }";
const MEDALS: &str = "{ medals(includeHidden: true) { id groupId name description webImageLocked webImageUnlocked appImageLocked \
    appImageUnlocked unlockCondition validityDays weight visible } }";
const GRANT: &str = "mutation($user: ID!, $medal: ID!) { grantMedal(userId: $user, medalId: $medal) { id } }";
const WEAR: &str = "mutation($medal: ID!) { wearMedal(medalId: $medal) { id } }";
const WORN: &str = "{ me { wornMedals { id } } }";

#[tokio::test]
async fn update_medal_changes_every_admin_field_refuses_bad_input_unchanged_and_a_group_move_takes_it_off() {
    let platform = Platform::start().await;
    let (_, admin) = platform.admin("medalboss").await;
    let fans = platform.users("medalfan", 1).await;
    let fan = &fans[0];
    let site = platform.gql(GROUP, json!({ "name": "Site" }), Some(&admin)).await.ok().data("/createMedalGroup/id").clone();
    let winter = platform.gql(GROUP, json!({ "name": "Winter" }), Some(&admin)).await.ok().data("/createMedalGroup/id").clone();
    let medal = platform.gql(CREATE, json!({ "group": site }), Some(&admin)).await.ok().data("/createMedal/id").clone();
    platform.gql(GRANT, json!({ "user": fan.0, "medal": medal }), Some(&admin)).await.ok();
    platform.gql(WEAR, json!({ "medal": medal }), Some(&fan.1)).await.ok();
    assert_eq!(platform.gql(WORN, json!({}), Some(&fan.1)).await.ok().data("/me/wornMedals"), &json!([{ "id": medal }]));

    let everything = json!({
        "groupId": winter, "name": "Snow owl", "description": "Up all winter", "webImageLocked": null,
        "webImageUnlocked": "https://img.example/owl.png", "appImageLocked": "https://img.example/owl-grey-app.png",
        "appImageUnlocked": "https://img.example/owl-app.png", "unlockCondition": "Watch 100 nights", "validityDays": null,
        "weight": 7, "visible": false
    });
    platform.gql(UPDATE, json!({ "id": medal, "input": everything }), Some(&admin)).await.ok();
    let expected = json!([{
        "id": medal, "groupId": winter, "name": "Snow owl", "description": "Up all winter", "webImageLocked": null,
        "webImageUnlocked": "https://img.example/owl.png", "appImageLocked": "https://img.example/owl-grey-app.png",
        "appImageUnlocked": "https://img.example/owl-app.png", "unlockCondition": "Watch 100 nights", "validityDays": null,
        "weight": 7, "visible": false
    }]);
    assert_eq!(platform.gql(MEDALS, json!({}), Some(&admin)).await.ok().data("/medals"), &expected);
    assert_eq!(platform.gql(WORN, json!({}), Some(&fan.1)).await.ok().data("/me/wornMedals"), &json!([]), "moved: taken off");

    // Absent fields stay; a validity can be set again.
    platform.gql(UPDATE, json!({ "id": medal, "input": { "validityDays": 90 } }), Some(&admin)).await.ok();
    let mut expected = expected;
    expected[0]["validityDays"] = json!(90);
    assert_eq!(platform.gql(MEDALS, json!({}), Some(&admin)).await.ok().data("/medals"), &expected);

    let refused = [
        (json!({ "name": "" }), "BAD_USER_INPUT"),
        (json!({ "name": "n".repeat(41) }), "BAD_USER_INPUT"),
        (json!({ "description": "d".repeat(501), "weight": 1 }), "BAD_USER_INPUT"),
        (json!({ "unlockCondition": "u".repeat(201) }), "BAD_USER_INPUT"),
        (json!({ "webImageUnlocked": "javascript:alert(1)" }), "BAD_USER_INPUT"),
        (json!({ "validityDays": 0 }), "BAD_USER_INPUT"),
        (json!({ "validityDays": 3651 }), "BAD_USER_INPUT"),
        (json!({ "groupId": "not-an-id" }), "BAD_USER_INPUT"),
        (json!({ "groupId": uuid::Uuid::now_v7().to_string(), "weight": 1 }), "NOT_FOUND"),
    ];
    for (input, code) in refused {
        let reply = platform.gql(UPDATE, json!({ "id": medal, "input": input }), Some(&admin)).await;
        assert_eq!(reply.codes(), [code], "{input}");
    }
    let unknown = json!({ "id": uuid::Uuid::now_v7().to_string(), "input": { "weight": 1 } });
    assert_eq!(platform.gql(UPDATE, unknown, Some(&admin)).await.codes(), ["NOT_FOUND"]);
    let by_fan = platform.gql(UPDATE, json!({ "id": medal, "input": { "weight": 1 } }), Some(&fan.1)).await;
    assert_eq!(by_fan.codes(), ["FORBIDDEN"]);
    assert_eq!(platform.gql(MEDALS, json!({}), Some(&admin)).await.ok().data("/medals"), &expected, "nothing was written");
}
