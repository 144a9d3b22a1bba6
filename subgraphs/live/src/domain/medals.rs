//! Medals: groups and medals (admins), grants that expire at the end of their validity and can
//! be revoked (who, why, when), and wearing at most one medal per group (a swap is one
//! statement, so no reader ever sees two worn in a group).

use super::rooms::{parse_name, parse_url};
use super::{LiveError, LiveResult};
use crate::store::medals::{self, Medal, MedalGroup, UserMedal};
use diesel_async::AsyncConnection;
use platform::auth::{AuthUser, Role};
use platform::clock::SharedClock;
use platform::db::Db;
use uuid::Uuid;

/// Longest validity of a medal, in days (ten years).
pub const MAX_VALIDITY_DAYS: i32 = 3650;

/// A new medal, checked.
#[derive(Debug, Clone)]
pub struct NewMedal(Medal);

/// The fields of a new medal as asked.
#[derive(Debug, Clone, Default)]
pub struct MedalFields {
    /// The group.
    pub group_id: Uuid,
    /// 1–40 characters.
    pub name: String,
    /// At most 500 characters.
    pub description: String,
    /// Images (http(s) URLs): web locked, web unlocked, app locked, app unlocked.
    pub images: [Option<String>; 4],
    /// At most 200 characters.
    pub unlock_condition: String,
    /// 1–3650 days, or permanent.
    pub validity_days: Option<i32>,
    /// Sort weight.
    pub weight: i32,
    /// Whether users see it.
    pub visible: bool,
}

/// A change of a medal: `None` keeps a field; for the nullable ones (images, validity)
/// `Some(None)` clears it (no image; permanent).
#[derive(Debug, Clone, Default)]
pub struct MedalChange {
    /// Move it to this group.
    pub group_id: Option<Uuid>,
    /// 1–40 characters.
    pub name: Option<String>,
    /// At most 500 characters.
    pub description: Option<String>,
    /// Web locked, web unlocked, app locked, app unlocked.
    pub images: [Option<Option<String>>; 4],
    /// At most 200 characters.
    pub unlock_condition: Option<String>,
    /// 1–3650 days, or `Some(None)`: permanent.
    pub validity_days: Option<Option<i32>>,
    /// Sort weight.
    pub weight: Option<i32>,
    /// Whether users see it.
    pub visible: Option<bool>,
}

impl NewMedal {
    /// Checks every field.
    pub fn parse(fields: MedalFields) -> LiveResult<NewMedal> {
        let name = parse_name("name", &fields.name)?;
        if fields.description.chars().count() > 500 {
            return Err(LiveError::invalid("`description` must be at most 500 characters."));
        }
        if fields.unlock_condition.chars().count() > 200 {
            return Err(LiveError::invalid("`unlockCondition` must be at most 200 characters."));
        }
        if fields.validity_days.is_some_and(|days| !(1..=MAX_VALIDITY_DAYS).contains(&days)) {
            return Err(LiveError::invalid(format!("`validityDays` must be between 1 and {MAX_VALIDITY_DAYS}, or null for permanent.")));
        }
        let [a, b, c, d] = fields.images.map(|image| image.map(|url| parse_url("image", &url)).transpose());
        Ok(NewMedal(Medal {
            id: Uuid::now_v7(),
            group_id: fields.group_id,
            name,
            description: fields.description,
            web_image_locked: a?,
            web_image_unlocked: b?,
            app_image_locked: c?,
            app_image_unlocked: d?,
            unlock_condition: fields.unlock_condition,
            validity_days: fields.validity_days,
            weight: fields.weight,
            visible: fields.visible,
        }))
    }
}

/// Medals.
#[derive(Clone)]
pub struct Medals {
    db: Db,
    clock: SharedClock,
}

impl Medals {
    /// The service over `db`.
    pub fn new(db: Db, clock: SharedClock) -> Medals {
        Medals { db, clock }
    }

    /// Creates a group (admins): `limited` (limited-time) or `site` (site-wide).
    pub async fn create_group(&self, admin: AuthUser, name: &str, limited: bool) -> LiveResult<MedalGroup> {
        require_admin(admin)?;
        let group = MedalGroup {
            id: Uuid::now_v7(),
            name: parse_name("name", name)?,
            kind: if limited { "limited" } else { "site" }.into(),
            created_at: self.clock.now(),
        };
        let mut conn = self.db.pool.get().await?;
        medals::insert_group(&mut conn, &group).await?.ok_or_else(|| LiveError::Conflict("A medal group with this name exists.".into()))
    }

    /// Every group.
    pub async fn groups(&self) -> LiveResult<Vec<MedalGroup>> {
        let mut conn = self.db.pool.get().await?;
        Ok(medals::groups(&mut conn).await?)
    }

    /// Creates a medal (admins).
    pub async fn create_medal(&self, admin: AuthUser, new: NewMedal) -> LiveResult<Medal> {
        require_admin(admin)?;
        let mut conn = self.db.pool.get().await?;
        let now = self.clock.now();
        conn.transaction::<_, LiveError, _>(async |conn| {
            if !medals::groups(conn).await?.iter().any(|group| group.id == new.0.group_id) {
                return Err(LiveError::NotFound("Medal group"));
            }
            Ok(medals::insert_medal(conn, &new.0, now).await?)
        })
        .await
    }

    /// Changes any admin-managed field of a medal (admins), checked as a new medal's are; a bad
    /// field changes nothing. A new validity applies to grants from now on. Moving a medal to
    /// another group takes it off everyone wearing it, in the same transaction, so nobody
    /// wears two medals of its new group.
    pub async fn update_medal(&self, admin: AuthUser, id: Uuid, change: MedalChange) -> LiveResult<Medal> {
        require_admin(admin)?;
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, LiveError, _>(async |conn| {
            let current = medals::find_medal_for_update(conn, id).await?.ok_or(LiveError::NotFound("Medal"))?;
            let mut images = [current.web_image_locked, current.web_image_unlocked, current.app_image_locked, current.app_image_unlocked];
            for (image, change) in images.iter_mut().zip(change.images) {
                if let Some(new) = change {
                    *image = new;
                }
            }
            let fields = MedalFields {
                group_id: change.group_id.unwrap_or(current.group_id),
                name: change.name.unwrap_or(current.name),
                description: change.description.unwrap_or(current.description),
                images,
                unlock_condition: change.unlock_condition.unwrap_or(current.unlock_condition),
                validity_days: change.validity_days.unwrap_or(current.validity_days),
                weight: change.weight.unwrap_or(current.weight),
                visible: change.visible.unwrap_or(current.visible),
            };
            let NewMedal(mut updated) = NewMedal::parse(fields)?;
            updated.id = id;
            if updated.group_id != current.group_id {
                if !medals::groups(conn).await?.iter().any(|group| group.id == updated.group_id) {
                    return Err(LiveError::NotFound("Medal group"));
                }
                medals::take_off_everywhere(conn, id).await?;
            }
            medals::update_medal(conn, &updated, now).await?.ok_or(LiveError::NotFound("Medal"))
        })
        .await
    }

    /// Every medal (hidden ones too for admins asking for them).
    pub async fn medals(&self, include_hidden: bool) -> LiveResult<Vec<Medal>> {
        let mut conn = self.db.pool.get().await?;
        Ok(medals::medals(&mut conn, include_hidden).await?)
    }

    /// Grants a medal to a user until the end of its validity (admins); granting again renews.
    pub async fn grant(&self, admin: AuthUser, user_id: Uuid, medal_id: Uuid, reason: &str) -> LiveResult<Medal> {
        require_admin(admin)?;
        check_reason(reason)?;
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, LiveError, _>(async |conn| {
            let medal = medals::find_medal(conn, medal_id).await?.ok_or(LiveError::NotFound("Medal"))?;
            let expires_at = medal.validity_days.map(|days| now + chrono::Duration::days(days.into()));
            medals::grant(conn, medal.id, user_id, admin.id, reason, now, expires_at).await?;
            Ok(medal)
        })
        .await
    }

    /// Revokes a user's medal (admins); it is taken off too. `false` when they did not hold it.
    pub async fn revoke(&self, admin: AuthUser, user_id: Uuid, medal_id: Uuid, reason: &str) -> LiveResult<bool> {
        require_admin(admin)?;
        check_reason(reason)?;
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, LiveError, _>(async |conn| Ok(medals::revoke(conn, medal_id, user_id, admin.id, reason, now).await?)).await
    }

    /// Wears a medal the user holds, replacing the one worn in its group.
    pub async fn wear(&self, user: AuthUser, medal_id: Uuid) -> LiveResult<Medal> {
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, LiveError, _>(async |conn| {
            let medal = medals::find_medal(conn, medal_id).await?.ok_or(LiveError::NotFound("Medal"))?;
            if !medals::holds(conn, medal.id, user.id, now).await? {
                return Err(LiveError::invalid("You do not hold this medal, or it has expired."));
            }
            medals::wear(conn, user.id, &medal, now).await?;
            Ok(medal)
        })
        .await
    }

    /// Takes a medal off; `false` when it was not worn.
    pub async fn take_off(&self, user: AuthUser, medal_id: Uuid) -> LiveResult<bool> {
        let mut conn = self.db.pool.get().await?;
        Ok(medals::take_off(&mut conn, user.id, medal_id).await?)
    }

    /// The medals each of `users` was granted, with their state now (one statement).
    pub async fn of_users(&self, users: &[Uuid]) -> LiveResult<Vec<UserMedal>> {
        let mut conn = self.db.pool.get().await?;
        Ok(medals::of_users(&mut conn, users, self.clock.now()).await?)
    }

    /// The medals each of `users` wears now (one statement).
    pub async fn worn_by(&self, users: &[Uuid]) -> LiveResult<Vec<UserMedal>> {
        let mut conn = self.db.pool.get().await?;
        Ok(medals::worn_by(&mut conn, users, self.clock.now()).await?)
    }
}

fn check_reason(reason: &str) -> LiveResult<()> {
    if reason.chars().count() > 200 { Err(LiveError::invalid("`reason` must be at most 200 characters.")) } else { Ok(()) }
}

fn require_admin(user: AuthUser) -> LiveResult<()> {
    if user.role == Role::Admin { Ok(()) } else { Err(LiveError::Forbidden("Only an admin can do this.".into())) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medal_fields_are_bounded() {
        let ok = MedalFields { name: "Night owl".into(), visible: true, validity_days: Some(30), ..Default::default() };
        assert!(NewMedal::parse(ok.clone()).is_ok());
        assert!(NewMedal::parse(MedalFields { validity_days: None, ..ok.clone() }).is_ok(), "permanent");
        assert!(NewMedal::parse(MedalFields { validity_days: Some(0), ..ok.clone() }).is_err());
        assert!(NewMedal::parse(MedalFields { name: String::new(), ..ok.clone() }).is_err());
        assert!(NewMedal::parse(MedalFields { description: "d".repeat(501), ..ok.clone() }).is_err());
        assert!(NewMedal::parse(MedalFields { images: [Some("ftp://x".into()), None, None, None], ..ok }).is_err());
    }
}
