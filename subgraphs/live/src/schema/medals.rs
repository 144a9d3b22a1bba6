//! Medals: groups and medals (admins), grant and revoke (admins), wear and take off, and the
//! `User.medals` / `User.wornMedals` fields (one statement per batch of users).

use super::{id_of, parse_id};
use crate::domain::LiveError;
use crate::domain::medals::{MedalChange, MedalFields, Medals, NewMedal};
use crate::store::medals as rows;
use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use platform::auth::{AdminOnly, SignedIn, viewer};
use platform::error::CodedResultExt;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// A medal group.
#[derive(SimpleObject)]
pub struct MedalGroup {
    /// Id.
    id: ID,
    /// Name.
    name: String,
    /// Limited-time (else site-wide).
    limited: bool,
}

impl From<rows::MedalGroup> for MedalGroup {
    fn from(row: rows::MedalGroup) -> Self {
        MedalGroup { id: id_of(row.id), name: row.name, limited: row.kind == "limited" }
    }
}

/// A medal.
#[derive(SimpleObject, Clone)]
pub struct Medal {
    /// Id.
    id: ID,
    /// Its group.
    group_id: ID,
    /// Name.
    name: String,
    /// Description.
    description: String,
    /// Web image while locked.
    web_image_locked: Option<String>,
    /// Web image once unlocked.
    web_image_unlocked: Option<String>,
    /// App image while locked.
    app_image_locked: Option<String>,
    /// App image once unlocked.
    app_image_unlocked: Option<String>,
    /// How it is earned.
    unlock_condition: String,
    /// Days a grant lasts (`null`: permanent).
    validity_days: Option<i32>,
    /// Sort weight (higher first).
    weight: i32,
    /// Whether users see it.
    visible: bool,
}

impl From<rows::Medal> for Medal {
    fn from(row: rows::Medal) -> Self {
        Medal {
            id: id_of(row.id),
            group_id: id_of(row.group_id),
            name: row.name,
            description: row.description,
            web_image_locked: row.web_image_locked,
            web_image_unlocked: row.web_image_unlocked,
            app_image_locked: row.app_image_locked,
            app_image_unlocked: row.app_image_unlocked,
            unlock_condition: row.unlock_condition,
            validity_days: row.validity_days,
            weight: row.weight,
            visible: row.visible,
        }
    }
}

/// A medal a user was granted, with its state now.
#[derive(SimpleObject)]
pub struct UserMedal {
    /// The medal.
    medal: Medal,
    /// Granted, not revoked, not expired (else it shows as locked).
    unlocked: bool,
    /// Worn now.
    worn: bool,
    /// Latest grant.
    granted_at: DateTime<Utc>,
    /// When the grant ends (`null`: permanent).
    expires_at: Option<DateTime<Utc>>,
}

impl From<rows::UserMedal> for UserMedal {
    fn from(row: rows::UserMedal) -> Self {
        UserMedal {
            medal: row.medal.into(),
            unlocked: row.unlocked,
            worn: row.worn,
            granted_at: row.granted_at,
            expires_at: row.expires_at,
        }
    }
}

/// What users were granted (`User.medals`).
pub struct UserMedalsLoader(pub Medals);

impl Loader<Uuid> for UserMedalsLoader {
    type Value = Vec<rows::UserMedal>;
    type Error = Arc<LiveError>;

    async fn load(&self, users: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        Ok(group(self.0.of_users(users).await.map_err(Arc::new)?))
    }
}

/// What users wear (`User.wornMedals`).
pub struct WornMedalsLoader(pub Medals);

impl Loader<Uuid> for WornMedalsLoader {
    type Value = Vec<rows::UserMedal>;
    type Error = Arc<LiveError>;

    async fn load(&self, users: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        Ok(group(self.0.worn_by(users).await.map_err(Arc::new)?))
    }
}

fn group(rows: Vec<rows::UserMedal>) -> HashMap<Uuid, Vec<rows::UserMedal>> {
    let mut by_user: HashMap<Uuid, Vec<rows::UserMedal>> = HashMap::new();
    for row in rows {
        by_user.entry(row.user_id).or_default().push(row);
    }
    by_user
}

/// A new medal (admins).
#[derive(InputObject)]
pub struct CreateMedalInput {
    /// Its group.
    group_id: ID,
    /// 1–40 characters.
    name: String,
    /// At most 500 characters.
    #[graphql(default)]
    description: String,
    /// http(s) URL.
    web_image_locked: Option<String>,
    /// http(s) URL.
    web_image_unlocked: Option<String>,
    /// http(s) URL.
    app_image_locked: Option<String>,
    /// http(s) URL.
    app_image_unlocked: Option<String>,
    /// At most 200 characters.
    #[graphql(default)]
    unlock_condition: String,
    /// 1–3650 days; absent or `null`: permanent.
    validity_days: Option<i32>,
    /// Sort weight (higher first).
    #[graphql(default)]
    weight: i32,
    /// Whether users see it.
    #[graphql(default = true)]
    visible: bool,
}

/// A change of a medal: absent fields stay as they are.
#[derive(InputObject)]
pub struct UpdateMedalInput {
    /// Move it to this group (it is taken off whoever wears it).
    group_id: Option<ID>,
    /// 1–40 characters.
    name: Option<String>,
    /// At most 500 characters.
    description: Option<String>,
    /// http(s) URL, or `null` for none.
    web_image_locked: MaybeUndefined<String>,
    /// http(s) URL, or `null` for none.
    web_image_unlocked: MaybeUndefined<String>,
    /// http(s) URL, or `null` for none.
    app_image_locked: MaybeUndefined<String>,
    /// http(s) URL, or `null` for none.
    app_image_unlocked: MaybeUndefined<String>,
    /// At most 200 characters.
    unlock_condition: Option<String>,
    /// 1–3650 days, or `null`: permanent (applies to grants from now on).
    validity_days: MaybeUndefined<i32>,
    /// Sort weight (higher first).
    weight: Option<i32>,
    /// Whether users see it.
    visible: Option<bool>,
}

/// Medal queries.
#[derive(Default)]
pub struct MedalQuery;

#[Object]
impl MedalQuery {
    /// Every medal group.
    async fn medal_groups(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<MedalGroup>> {
        Ok(ctx.data::<Medals>()?.groups().await.coded()?.into_iter().map(Into::into).collect())
    }

    /// Every medal, heaviest first (hidden ones only for admins asking for them).
    async fn medals(&self, ctx: &Context<'_>, #[graphql(default = false)] include_hidden: bool) -> async_graphql::Result<Vec<Medal>> {
        if include_hidden {
            viewer(ctx).require_admin().coded()?;
        }
        Ok(ctx.data::<Medals>()?.medals(include_hidden).await.coded()?.into_iter().map(Into::into).collect())
    }
}

/// Medal mutations.
#[derive(Default)]
pub struct MedalMutation;

#[Object]
impl MedalMutation {
    /// Creates a medal group. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn create_medal_group(
        &self,
        ctx: &Context<'_>,
        name: String,
        #[graphql(default = false)] limited: bool,
    ) -> async_graphql::Result<MedalGroup> {
        let admin = viewer(ctx).require_admin().coded()?;
        Ok(ctx.data::<Medals>()?.create_group(admin, &name, limited).await.coded()?.into())
    }

    /// Creates a medal. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn create_medal(&self, ctx: &Context<'_>, input: CreateMedalInput) -> async_graphql::Result<Medal> {
        let admin = viewer(ctx).require_admin().coded()?;
        let fields = MedalFields {
            group_id: parse_id(&input.group_id, "groupId")?,
            name: input.name,
            description: input.description,
            images: [input.web_image_locked, input.web_image_unlocked, input.app_image_locked, input.app_image_unlocked],
            unlock_condition: input.unlock_condition,
            validity_days: input.validity_days,
            weight: input.weight,
            visible: input.visible,
        };
        let new = NewMedal::parse(fields).coded()?;
        Ok(ctx.data::<Medals>()?.create_medal(admin, new).await.coded()?.into())
    }

    /// Changes any field of a medal (absent fields stay; `null` clears an image or makes it
    /// permanent). Moving it to another group takes it off whoever wears it. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn update_medal(&self, ctx: &Context<'_>, id: ID, input: UpdateMedalInput) -> async_graphql::Result<Medal> {
        let admin = viewer(ctx).require_admin().coded()?;
        let nullable = |value: MaybeUndefined<String>| match value {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(url) => Some(Some(url)),
        };
        let change = MedalChange {
            group_id: input.group_id.as_ref().map(|group| parse_id(group, "groupId")).transpose()?,
            name: input.name,
            description: input.description,
            images: [
                nullable(input.web_image_locked),
                nullable(input.web_image_unlocked),
                nullable(input.app_image_locked),
                nullable(input.app_image_unlocked),
            ],
            unlock_condition: input.unlock_condition,
            validity_days: match input.validity_days {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(days) => Some(Some(days)),
            },
            weight: input.weight,
            visible: input.visible,
        };
        Ok(ctx.data::<Medals>()?.update_medal(admin, parse_id(&id, "id")?, change).await.coded()?.into())
    }

    /// Grants a medal to a user until the end of its validity (granting again renews). Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn grant_medal(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        medal_id: ID,
        #[graphql(default)] reason: String,
    ) -> async_graphql::Result<Medal> {
        let admin = viewer(ctx).require_admin().coded()?;
        let (user, medal) = (parse_id(&user_id, "userId")?, parse_id(&medal_id, "medalId")?);
        Ok(ctx.data::<Medals>()?.grant(admin, user, medal, &reason).await.coded()?.into())
    }

    /// Revokes a user's medal (and takes it off); `false` when they did not hold it. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn revoke_medal(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        medal_id: ID,
        #[graphql(default)] reason: String,
    ) -> async_graphql::Result<bool> {
        let admin = viewer(ctx).require_admin().coded()?;
        let (user, medal) = (parse_id(&user_id, "userId")?, parse_id(&medal_id, "medalId")?);
        ctx.data::<Medals>()?.revoke(admin, user, medal, &reason).await.coded()
    }

    /// Wears a medal the signed-in user holds, in place of the one worn in its group.
    #[graphql(guard = "SignedIn")]
    async fn wear_medal(&self, ctx: &Context<'_>, medal_id: ID) -> async_graphql::Result<Medal> {
        let user = viewer(ctx).require_user().coded()?;
        Ok(ctx.data::<Medals>()?.wear(user, parse_id(&medal_id, "medalId")?).await.coded()?.into())
    }

    /// Takes a medal off; `false` when it was not worn.
    #[graphql(guard = "SignedIn")]
    async fn take_off_medal(&self, ctx: &Context<'_>, medal_id: ID) -> async_graphql::Result<bool> {
        let user = viewer(ctx).require_user().coded()?;
        ctx.data::<Medals>()?.take_off(user, parse_id(&medal_id, "medalId")?).await.coded()
    }
}

/// The medals of a danmaku's sender, as sent.
pub fn snapshot(medals: Vec<rows::Medal>) -> Vec<Medal> {
    medals.into_iter().map(Medal::from).collect()
}
