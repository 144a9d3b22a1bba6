//! Medals: a user wears at most one per group (wearing another swaps them), a medal that is
//! not held or has expired cannot be worn, an expired grant shows as locked and stops being
//! worn, and revoking takes it off.

use crate::harness::{World, user};
use chrono::Duration;
use platform::error::{CodedError, ErrorCode};
use vidgraph_live::domain::medals::{MedalFields, NewMedal};

fn medal(group_id: uuid::Uuid, name: &str, validity_days: Option<i32>, weight: i32) -> NewMedal {
    NewMedal::parse(MedalFields { group_id, name: name.into(), validity_days, weight, visible: true, ..Default::default() }).expect("valid")
}

#[tokio::test]
async fn one_medal_per_group_is_worn_swaps_are_atomic_and_expired_medals_lock_again() {
    let world = World::start().await;
    let medals = &world.live.medals;
    let fan = user();
    let site = medals.create_group(world.admin, "Site", false).await.expect("group");
    let event = medals.create_group(world.admin, "Winter event", true).await.expect("group");
    assert_eq!(medals.create_group(fan, "Mine", false).await.expect_err("admins only").code(), ErrorCode::Forbidden);
    let owl = medals.create_medal(world.admin, medal(site.id, "Night owl", Some(30), 5)).await.expect("medal");
    let lark = medals.create_medal(world.admin, medal(site.id, "Early lark", None, 9)).await.expect("medal");
    let snow = medals.create_medal(world.admin, medal(event.id, "Snowflake", Some(1), 1)).await.expect("medal");

    // Not granted yet: cannot be worn, nothing written.
    assert_eq!(medals.wear(fan, owl.id).await.expect_err("not held").code(), ErrorCode::BadUserInput);
    for granted in [&owl, &lark, &snow] {
        medals.grant(world.admin, fan.id, granted.id, "welcome").await.expect("grant");
    }
    medals.wear(fan, owl.id).await.expect("wear owl");
    medals.wear(fan, snow.id).await.expect("wear snowflake (another group)");
    medals.wear(fan, lark.id).await.expect("swap owl for lark");
    let worn: Vec<String> = medals.worn_by(&[fan.id]).await.expect("worn").into_iter().map(|w| w.medal.name).collect();
    assert_eq!(worn, ["Early lark", "Snowflake"], "one per group, heaviest first");

    // A day later the snowflake has expired: locked, no longer worn, not wearable.
    world.clock.advance(Duration::days(1) + Duration::seconds(1));
    let worn: Vec<String> = medals.worn_by(&[fan.id]).await.expect("worn").into_iter().map(|w| w.medal.name).collect();
    assert_eq!(worn, ["Early lark"]);
    let states: Vec<(String, bool, bool)> =
        medals.of_users(&[fan.id]).await.expect("medals").into_iter().map(|m| (m.medal.name, m.unlocked, m.worn)).collect();
    assert_eq!(
        states,
        [("Early lark".into(), true, true), ("Night owl".into(), true, false), ("Snowflake".into(), false, false)],
        "an expired medal shows as locked"
    );
    assert_eq!(medals.wear(fan, snow.id).await.expect_err("expired").code(), ErrorCode::BadUserInput);

    // Revoked: taken off, locked.
    assert!(medals.revoke(world.admin, fan.id, lark.id, "abuse").await.expect("revoke"));
    assert!(medals.worn_by(&[fan.id]).await.expect("worn").is_empty());
    assert!(!medals.revoke(world.admin, fan.id, lark.id, "again").await.expect("revoke"), "nothing left to revoke");
    // Granting again renews.
    medals.grant(world.admin, fan.id, snow.id, "again").await.expect("grant again");
    medals.wear(fan, snow.id).await.expect("wear the renewed snowflake");
}
