//! Zones: `zones`, `zone`, `zoneHallOfFame`, and the admin and follow mutations.

use super::CodedResultExt;
use super::parse_id;
use super::user::User;
use crate::domain::CommunityError;
use crate::domain::directory::{Admin, Directory};
use crate::domain::posts::Posts;
use crate::store::zones::Zone;
use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use platform::auth::{AdminOnly, SignedIn, viewer};
use platform::batch::Batcher;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use uuid::Uuid;

/// A zone (circle/topic) of the community.
pub struct ZoneObject(pub Zone);

#[Object(name = "Zone")]
impl ZoneObject {
    /// Stable id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Description.
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// Live posts in it.
    async fn post_count(&self) -> i64 {
        self.0.post_count
    }

    /// Users following it.
    async fn follower_count(&self) -> i64 {
        self.0.follower_count
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Whether the signed-in viewer follows it (`false` when anonymous).
    async fn is_followed_by_viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let Some(viewer_id) = viewer(ctx).user_id() else { return Ok(false) };
        Ok(ctx.data::<Batcher<(Uuid, Uuid), ZoneFollowLoader>>()?.load_one((viewer_id, self.0.id)).await.coded()?.is_some())
    }
}

/// Zones by id: one statement per batch.
pub struct ZoneLoader(pub Posts);

impl Loader<Uuid> for ZoneLoader {
    type Value = Zone;
    type Error = Arc<CommunityError>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Zone>, Self::Error> {
        Ok(self.0.zones(ids).await.map_err(Arc::new)?.into_iter().map(|zone| (zone.id, zone)).collect())
    }
}

/// Whether (viewer, zone) follows: one statement per viewer in the batch (a request has one).
pub struct ZoneFollowLoader(pub Posts);

impl Loader<(Uuid, Uuid)> for ZoneFollowLoader {
    type Value = ();
    type Error = Arc<CommunityError>;

    async fn load(&self, keys: &[(Uuid, Uuid)]) -> Result<HashMap<(Uuid, Uuid), ()>, Self::Error> {
        let mut by_viewer: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for (viewer, zone) in keys {
            by_viewer.entry(*viewer).or_default().push(*zone);
        }
        let mut followed = HashSet::new();
        for (viewer, zones) in by_viewer {
            followed.extend(self.0.followed_zones(viewer, &zones).await.map_err(Arc::new)?.into_iter().map(|zone| (viewer, zone)));
        }
        Ok(followed.into_iter().map(|key| (key, ())).collect())
    }
}

/// One place of a zone's hall of fame.
#[derive(SimpleObject)]
pub struct FameEntry {
    /// Place, from 1.
    rank: i32,
    /// The user.
    user: User,
    /// Points in the zone (+10 per live post, +1 per live comment or reply).
    points: i64,
    /// Live posts in the zone.
    post_count: i64,
    /// Live comments and replies on the zone's live posts.
    reply_count: i64,
}

/// An admin of a zone: they moderate it (delete with a reason, approve, reject, pin).
#[derive(SimpleObject)]
pub struct ZoneAdminObject {
    /// The user.
    user: User,
    /// The site admin who made them one.
    added_by: User,
    /// When.
    added_at: DateTime<Utc>,
}

fn admins(rows: Vec<crate::store::zones::ZoneAdmin>) -> Vec<ZoneAdminObject> {
    rows.into_iter()
        .map(|a| ZoneAdminObject { user: User { id: a.user_id }, added_by: User { id: a.added_by }, added_at: a.added_at })
        .collect()
}

/// How far an admin's powers reach.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AdminScope {
    /// Every zone and the whole site (an account with the admin role).
    Site,
    /// One zone.
    Zone,
}

/// One of the community's admins.
pub struct CommunityAdmin(Admin);

#[Object]
impl CommunityAdmin {
    /// The admin.
    async fn user(&self) -> User {
        match &self.0 {
            Admin::Site(account) => User { id: account.user_id },
            Admin::Zone(admin) => User { id: admin.user_id },
        }
    }

    /// Their username as community last heard it (`null` for a zone admin: read
    /// `user { username }`, which `content` resolves).
    async fn username(&self) -> Option<&str> {
        match &self.0 {
            Admin::Site(account) => Some(&account.username),
            Admin::Zone(_) => None,
        }
    }

    /// Site-wide or one zone.
    async fn scope(&self) -> AdminScope {
        match self.0 {
            Admin::Site(_) => AdminScope::Site,
            Admin::Zone(_) => AdminScope::Zone,
        }
    }

    /// The zone, for a zone admin.
    async fn zone(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ZoneObject>> {
        let Admin::Zone(admin) = &self.0 else { return Ok(None) };
        Ok(ctx.data::<Batcher<Uuid, ZoneLoader>>()?.load_one(admin.zone_id).await.coded()?.map(ZoneObject))
    }

    /// Since when (a zone admin's appointment; a site admin's last role change).
    async fn since(&self) -> DateTime<Utc> {
        match &self.0 {
            Admin::Site(account) => account.changed_at,
            Admin::Zone(admin) => admin.added_at,
        }
    }
}

/// Zone queries.
#[derive(Default)]
pub struct ZoneQuery;

#[Object]
impl ZoneQuery {
    /// Every zone, by name.
    async fn zones(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ZoneObject>> {
        Ok(ctx.data::<Posts>()?.all_zones().await.coded()?.into_iter().map(ZoneObject).collect())
    }

    /// A zone by id (`null` when there is none).
    async fn zone(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<ZoneObject>> {
        let id = parse_id(&id, "id")?;
        Ok(ctx.data::<Batcher<Uuid, ZoneLoader>>()?.load_one(id).await.coded()?.map(ZoneObject))
    }

    /// The admins of a zone (besides the site's admins, who moderate every zone).
    async fn zone_admins(&self, ctx: &Context<'_>, zone_id: ID) -> async_graphql::Result<Vec<ZoneAdminObject>> {
        let zone = parse_id(&zone_id, "zoneId")?;
        Ok(admins(ctx.data::<Posts>()?.zone_admins(zone).await.coded()?))
    }

    /// Everyone who moderates the community: the site's admins (by username), then every zone's
    /// admins (by zone). Public, like a forum's staff page: who moderates is part of the rules
    /// users post under, and it shows only ids, usernames and scopes (at most
    /// `ADMIN_LIST_LIMIT` = 500 of each kind).
    async fn community_admins(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CommunityAdmin>> {
        Ok(ctx.data::<Directory>()?.admins().await.coded()?.into_iter().map(CommunityAdmin).collect())
    }

    /// The top 50 users of a zone by points, with their live posts and replies there.
    async fn zone_hall_of_fame(&self, ctx: &Context<'_>, zone_id: ID) -> async_graphql::Result<Vec<FameEntry>> {
        let zone = parse_id(&zone_id, "zoneId")?;
        let rows = ctx.data::<Posts>()?.hall_of_fame(zone).await.coded()?;
        Ok(rows
            .into_iter()
            .zip(1..)
            .map(|(row, rank)| FameEntry {
                rank,
                user: User { id: row.user_id },
                points: row.points,
                post_count: row.post_count,
                reply_count: row.reply_count,
            })
            .collect())
    }
}

/// A zone's name and description.
#[derive(InputObject)]
pub struct ZoneInput {
    /// 1–40 characters, one line, unique (case-insensitively).
    name: String,
    /// At most 500 characters.
    #[graphql(default)]
    description: String,
}

/// Zone mutations.
#[derive(Default)]
pub struct ZoneMutation;

#[Object]
impl ZoneMutation {
    /// Creates a zone. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn create_zone(&self, ctx: &Context<'_>, input: ZoneInput) -> async_graphql::Result<ZoneObject> {
        let admin = viewer(ctx).require_admin().coded()?;
        Ok(ZoneObject(ctx.data::<Posts>()?.create_zone(admin, &input.name, &input.description).await.coded()?))
    }

    /// Renames or re-describes a zone. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn update_zone(&self, ctx: &Context<'_>, id: ID, input: ZoneInput) -> async_graphql::Result<ZoneObject> {
        viewer(ctx).require_admin().coded()?;
        let id = parse_id(&id, "id")?;
        Ok(ZoneObject(ctx.data::<Posts>()?.update_zone(id, &input.name, &input.description).await.coded()?))
    }

    /// Makes a user an admin of a zone (idempotent). Site admins only; logged.
    #[graphql(guard = "AdminOnly")]
    async fn add_zone_admin(&self, ctx: &Context<'_>, zone_id: ID, user_id: ID) -> async_graphql::Result<Vec<ZoneAdminObject>> {
        let admin = viewer(ctx).require_admin().coded()?;
        let (zone, user) = (parse_id(&zone_id, "zoneId")?, parse_id(&user_id, "userId")?);
        ctx.data::<Directory>()?.require_account(user).await.coded()?;
        Ok(admins(ctx.data::<Posts>()?.set_zone_admin(admin, zone, user, true).await.coded()?))
    }

    /// Removes a user from a zone's admins (idempotent). Site admins only; logged.
    #[graphql(guard = "AdminOnly")]
    async fn remove_zone_admin(&self, ctx: &Context<'_>, zone_id: ID, user_id: ID) -> async_graphql::Result<Vec<ZoneAdminObject>> {
        let admin = viewer(ctx).require_admin().coded()?;
        let (zone, user) = (parse_id(&zone_id, "zoneId")?, parse_id(&user_id, "userId")?);
        Ok(admins(ctx.data::<Posts>()?.set_zone_admin(admin, zone, user, false).await.coded()?))
    }

    /// Follows a zone (idempotent).
    #[graphql(guard = "SignedIn")]
    async fn follow_zone(&self, ctx: &Context<'_>, zone_id: ID) -> async_graphql::Result<ZoneObject> {
        set_zone_following(ctx, zone_id, true).await
    }

    /// Stops following a zone (idempotent).
    #[graphql(guard = "SignedIn")]
    async fn unfollow_zone(&self, ctx: &Context<'_>, zone_id: ID) -> async_graphql::Result<ZoneObject> {
        set_zone_following(ctx, zone_id, false).await
    }
}

async fn set_zone_following(ctx: &Context<'_>, zone_id: ID, following: bool) -> async_graphql::Result<ZoneObject> {
    let user = viewer(ctx).require_user().coded()?;
    let zone = parse_id(&zone_id, "zoneId")?;
    Ok(ZoneObject(ctx.data::<Posts>()?.set_zone_following(user, zone, following).await.coded()?))
}
