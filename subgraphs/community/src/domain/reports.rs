//! Reports of posts and comments: one queue entry per item with a count, and its resolution
//! (dismiss, or remove the item and optionally mute or ban its author) in one transaction that
//! records who resolved it, when and how. The entry is locked first, so two admins cannot both
//! resolve it.

use super::CommunityError;
use super::moderation::{self, Activity, require_allowed};
use super::posts::{delete_comment_in, delete_post_in, require_visible};
use crate::store::likes::Target;
use crate::store::moderation as sanctions;
use crate::store::reports::{self, Report, ReportReason};
use crate::store::{comments, posts};
use chrono::{DateTime, Duration, Utc};
use diesel_async::AsyncConnection;
use platform::auth::AuthUser;
use platform::clock::SharedClock;
use platform::db::Db;
use uuid::Uuid;

/// Longest excerpt an entry keeps of the reported text.
const EXCERPT_CHARS: usize = 500;

/// How an admin resolves an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Nothing wrong.
    Dismiss,
    /// Remove the item.
    Remove,
    /// Remove it and mute its author until then.
    RemoveAndMute(DateTime<Utc>),
    /// Remove it and ban its author.
    RemoveAndBan,
}

impl Resolution {
    fn stored(self) -> &'static str {
        match self {
            Resolution::Dismiss => "dismiss",
            Resolution::Remove => "remove",
            Resolution::RemoveAndMute(_) => "remove_and_mute",
            Resolution::RemoveAndBan => "remove_and_ban",
        }
    }
}

/// The report service held in the schema data.
#[derive(Clone)]
pub struct Reports {
    db: Db,
    clock: SharedClock,
}

impl Reports {
    /// Over these backends.
    pub fn new(db: Db, clock: SharedClock) -> Reports {
        Reports { db, clock }
    }

    /// `reporter` reports an item with a reason (1–200 characters). Reporting it again changes
    /// nothing; reports by several users are one entry with their count. An item the reporter
    /// cannot see (removed, pending, rejected, or hidden with its banned author) is `NOT_FOUND`.
    pub async fn report(&self, reporter: AuthUser, target: Target, reason: &str) -> Result<Report, CommunityError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 200 {
            return Err(CommunityError::invalid("A report gives a reason of 1 to 200 characters."));
        }
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, CommunityError, _>(async |conn| {
            require_allowed(conn, reporter.id, Activity::Other, now).await?;
            let (author, text) = match target {
                Target::Post(id) => {
                    let post = posts::find(conn, id).await?.ok_or(CommunityError::NotFound("Post"))?;
                    require_visible(conn, &reporter, post.author_id, post.counted(), "Post").await?;
                    (post.author_id, post.body)
                }
                Target::Comment(id) => {
                    let comment = comments::find_many(conn, &[id]).await?.pop().ok_or(CommunityError::NotFound("Comment"))?;
                    require_visible(conn, &reporter, comment.author_id, comment.counted(), "Comment").await?;
                    (comment.author_id, comment.body)
                }
                // Dynamics have no report queue (their moderation is review and deletion).
                Target::Dynamic(_) => return Err(CommunityError::invalid("Dynamics cannot be reported.")),
            };
            if author == reporter.id {
                return Err(CommunityError::invalid("You cannot report your own post or comment."));
            }
            let excerpt: String = text.chars().take(EXCERPT_CHARS).collect();
            Ok(reports::report(conn, target, author, &excerpt, reporter.id, reason, now).await?)
        })
        .await
    }

    /// Resolves an open entry (admins): `CONFLICT` when it is resolved already. Removing needs
    /// a note (the reason recorded with the removal); a mute ends in the future, within a year.
    pub async fn resolve(&self, admin: AuthUser, id: Uuid, resolution: Resolution, note: Option<&str>) -> Result<Report, CommunityError> {
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        if note.is_some_and(|n| n.chars().count() > 200) {
            return Err(CommunityError::invalid("A note is at most 200 characters."));
        }
        if resolution != Resolution::Dismiss && note.is_none() {
            return Err(CommunityError::invalid("Removing reported content needs a note (its reason)."));
        }
        let now = self.clock.now();
        if let Resolution::RemoveAndMute(until) = resolution
            && (until <= now || until > now + Duration::days(moderation::MAX_MUTE_DAYS))
        {
            return Err(CommunityError::invalid("A mute ends in the future, at most a year from now."));
        }
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, CommunityError, _>(async |conn| {
            // The entry first (before step 1 of the lock order).
            let entry = reports::lock_open(conn, id).await?.ok_or_else(|| CommunityError::Conflict("This report is not open.".into()))?;
            if resolution != Resolution::Dismiss {
                if entry.target_author == admin.id {
                    return Err(CommunityError::invalid("An admin does not resolve reports of their own content."));
                }
                let removed = if entry.target_kind == "post" {
                    delete_post_in(conn, admin, entry.target_id, note, now).await
                } else {
                    delete_comment_in(conn, admin, entry.target_id, note, now).await
                };
                // Removed meanwhile by its author or another admin: the sanction still applies.
                match removed {
                    Ok(_) | Err(CommunityError::NotFound(_)) => {}
                    Err(error) => return Err(error),
                }
            }
            let sanction = match resolution {
                Resolution::RemoveAndMute(until) => {
                    sanctions::set_mute(conn, entry.target_author, Some(until), now).await?;
                    Some(("mute", Some(until)))
                }
                Resolution::RemoveAndBan => {
                    sanctions::set_ban(conn, entry.target_author, true, false, now).await?;
                    Some(("ban", None))
                }
                Resolution::Dismiss | Resolution::Remove => None,
            };
            if let Some((action, expires_at)) = sanction {
                let entry_item = Some((entry.target_kind.as_str(), entry.target_id));
                let action = moderation::Action {
                    actor: admin.id,
                    action,
                    target_user: Some(entry.target_author),
                    item: entry_item,
                    reason: note,
                    expires_at,
                };
                moderation::log(conn, action, now).await?;
            }
            Ok(reports::resolve(conn, id, admin.id, resolution.stored(), note, now).await?)
        })
        .await
    }

    /// Entries that are `open` or `resolved`, latest report first.
    pub async fn list(&self, open: bool, after: Option<(i64, Uuid)>, limit: i64) -> Result<Vec<Report>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(reports::page(&mut conn, if open { "open" } else { "resolved" }, after, limit).await?)
    }

    /// The reasons of these entries, in one statement.
    pub async fn reasons(&self, entries: &[Uuid]) -> Result<Vec<ReportReason>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(reports::reasons(&mut conn, entries).await?)
    }
}
