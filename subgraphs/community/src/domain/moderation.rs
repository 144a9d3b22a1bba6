//! Mutes, bans and the moderation log. Every community write checks the writer's standing
//! ([`require_allowed`]) inside its transaction; every moderator action is logged in the
//! transaction of the action.

use super::CommunityError;
use crate::store::moderation::{self, LogEntry, Sanction};
use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use platform::auth::AuthUser;
use platform::clock::SharedClock;
use platform::db::Db;
use uuid::Uuid;

/// Longest mute.
pub const MAX_MUTE_DAYS: i64 = 366;

/// What a user is about to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// Publish or react: post, edit, comment, like, message. A mute refuses it.
    Publish,
    /// Anything else in the community (follow, delete one's own content). Only a ban refuses it.
    Other,
}

/// Rule: what a sanction allows at `now`.
pub fn check_standing(sanction: Option<&Sanction>, activity: Activity, now: DateTime<Utc>) -> Result<(), CommunityError> {
    let Some(sanction) = sanction else { return Ok(()) };
    if sanction.banned {
        return Err(CommunityError::Forbidden("You are banned from the community.".into()));
    }
    match sanction.muted_until {
        Some(until) if activity == Activity::Publish && until > now => Err(CommunityError::Muted { until }),
        _ => Ok(()),
    }
}

/// Refuses a banned user anything and a muted one [`Activity::Publish`], in the caller's
/// transaction.
pub async fn require_allowed(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    activity: Activity,
    now: DateTime<Utc>,
) -> Result<(), CommunityError> {
    let sanction = moderation::find(conn, user).await?;
    check_standing(sanction.as_ref(), activity, now)
}

/// A moderator action, for the log.
#[derive(Debug, Clone, Copy)]
pub struct Action<'a> {
    /// Who did it.
    pub actor: Uuid,
    /// What (`mute`, `unmute`, `ban`, `unban`, `delete_post`, `delete_comment`, `move_post`).
    pub action: &'a str,
    /// To whom.
    pub target_user: Option<Uuid>,
    /// To which item: (`post` or `comment`, id).
    pub item: Option<(&'a str, Uuid)>,
    /// Why.
    pub reason: Option<&'a str>,
    /// Until when (mutes).
    pub expires_at: Option<DateTime<Utc>>,
}

/// Appends a moderator action to the log, in the caller's transaction.
pub async fn log(conn: &mut AsyncPgConnection, action: Action<'_>, now: DateTime<Utc>) -> Result<(), CommunityError> {
    let entry = LogEntry {
        id: Uuid::now_v7(),
        actor_id: action.actor,
        action: action.action.to_owned(),
        target_user: action.target_user,
        target_kind: action.item.map(|(kind, _)| kind.to_owned()),
        target_id: action.item.map(|(_, id)| id),
        reason: action.reason.map(str::to_owned),
        expires_at: action.expires_at,
        created_at: now,
    };
    Ok(moderation::log(conn, &entry).await?)
}

/// A moderator's reason: 1–200 characters.
fn reason(raw: &str) -> Result<String, CommunityError> {
    let reason = raw.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(CommunityError::invalid("A reason is 1 to 200 characters."));
    }
    Ok(reason.to_owned())
}

/// The moderation service held in the schema data.
#[derive(Clone)]
pub struct Moderation {
    db: Db,
    clock: SharedClock,
}

impl Moderation {
    /// Over these backends.
    pub fn new(db: Db, clock: SharedClock) -> Moderation {
        Moderation { db, clock }
    }

    /// Mutes `user` until `until` (in the future, at most [`MAX_MUTE_DAYS`] away), or unmutes
    /// them (`None`). Admins; never oneself. Logged.
    pub async fn set_mute(&self, admin: AuthUser, user: Uuid, until: Option<DateTime<Utc>>, why: &str) -> Result<Sanction, CommunityError> {
        let why = reason(why)?;
        let now = self.clock.now();
        if user == admin.id {
            return Err(CommunityError::invalid("You cannot mute yourself."));
        }
        if let Some(until) = until
            && (until <= now || until > now + Duration::days(MAX_MUTE_DAYS))
        {
            return Err(CommunityError::invalid(format!("A mute ends in the future, at most {MAX_MUTE_DAYS} days from now.")));
        }
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, CommunityError, _>(async |conn| {
            let sanction = moderation::set_mute(conn, user, until, now).await?;
            let action = if until.is_some() { "mute" } else { "unmute" };
            let entry = Action { actor: admin.id, action, target_user: Some(user), item: None, reason: Some(&why), expires_at: until };
            log(conn, entry, now).await?;
            Ok(sanction)
        })
        .await
    }

    /// Bans or unbans `user`. A ban with `hide_content` hides their posts and comments from
    /// everyone but admins while it lasts; an unban shows them again. Hiding is a view, not a
    /// removal: the content, its counters and its points stay as they are (so the recompute
    /// check agrees with them, and an unban restores exactly what was there). Admins; never
    /// oneself. Logged.
    pub async fn set_ban(
        &self,
        admin: AuthUser,
        user: Uuid,
        banned: bool,
        hide_content: bool,
        why: &str,
    ) -> Result<Sanction, CommunityError> {
        let why = reason(why)?;
        if user == admin.id {
            return Err(CommunityError::invalid("You cannot ban yourself."));
        }
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, CommunityError, _>(async |conn| {
            let sanction = moderation::set_ban(conn, user, banned, hide_content, now).await?;
            let action = match (banned, hide_content) {
                (true, true) => "ban_hiding_content",
                (true, false) => "ban",
                (false, _) => "unban",
            };
            log(conn, Action { actor: admin.id, action, target_user: Some(user), item: None, reason: Some(&why), expires_at: None }, now)
                .await?;
            Ok(sanction)
        })
        .await
    }

    /// Users muted now, latest mute end first.
    pub async fn muted(&self, after: Option<(i64, Uuid)>, limit: i64) -> Result<Vec<Sanction>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(moderation::muted(&mut conn, self.clock.now(), after, limit).await?)
    }

    /// Banned users, most recently changed first.
    pub async fn banned(&self, after: Option<(i64, Uuid)>, limit: i64) -> Result<Vec<Sanction>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(moderation::banned(&mut conn, after, limit).await?)
    }

    /// The moderation log, newest first.
    pub async fn log(&self, after: Option<(i64, Uuid)>, limit: i64) -> Result<Vec<LogEntry>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(moderation::log_page(&mut conn, after, limit).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sanction(muted_until: Option<DateTime<Utc>>, banned: bool) -> Sanction {
        Sanction { user_id: Uuid::now_v7(), muted_until, banned, hides_content: false, updated_at: Utc::now() }
    }

    #[test]
    fn a_mute_refuses_publishing_until_it_ends_and_a_ban_refuses_everything() {
        let now = Utc::now();
        let muted = sanction(Some(now + Duration::hours(1)), false);
        assert!(
            matches!(check_standing(Some(&muted), Activity::Publish, now), Err(CommunityError::Muted { until }) if until == now + Duration::hours(1))
        );
        assert!(check_standing(Some(&muted), Activity::Other, now).is_ok());
        assert!(check_standing(Some(&muted), Activity::Publish, now + Duration::hours(1)).is_ok(), "ended");
        let banned = sanction(None, true);
        assert!(matches!(check_standing(Some(&banned), Activity::Other, now), Err(CommunityError::Forbidden(_))));
        assert!(check_standing(None, Activity::Publish, now).is_ok());
    }
}
