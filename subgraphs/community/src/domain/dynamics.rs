//! Streamer dynamics: written by hand (text, images), or made from live's room events (went
//! live) and content's video events (published a video); liked and commented on; pushed to
//! connected followers unless an admin switched push off (then clients poll `dynamicsSince`).
//!
//! Each use case is one transaction in which the dynamic, its counters and the author's likes
//! received change together, taking row locks in the order of [`crate::store`].

use super::CommunityError;
use super::moderation::{self, Activity, require_allowed};
use super::notifications::{self, Event, Notifications, Subject};
use super::rules::{self, PostContent};
use super::text_filter::{KeywordFilter, TextModerator, Verdict};
use crate::events::CommunityEvents;
use crate::events::push::DynamicPush;
use crate::store::dynamics::{self, Dynamic, DynamicComment, NewDynamic, PushSettings};
use crate::store::review;
use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use platform::auth::{AuthUser, Role};
use platform::clock::SharedClock;
use platform::db::Db;
use platform::events::{RoomAction, RoomEvent, VideoLifecycleEvent};
use platform::rate_limit::{RateDecision, RateLimit};
use platform::redis::Redis;
use uuid::Uuid;

/// Dynamics one user may write by hand per window.
pub const DYNAMIC_LIMIT: RateLimit = RateLimit { name: "community:dynamic", max: 30, window: std::time::Duration::from_secs(600) };
/// Comments on dynamics one user may write per window.
pub const DYNAMIC_COMMENT_LIMIT: RateLimit =
    RateLimit { name: "community:dynamic-comment", max: 120, window: std::time::Duration::from_secs(600) };

/// A system dynamic is pushed only when its source event is this recent: a consumer that
/// catches up on a backlog (a first deployment, a long outage) stores the old ones for the
/// feeds without ringing every follower's phone for yesterday's stream.
pub const PUSH_FRESHNESS: Duration = Duration::minutes(10);

/// Shortest and longest poll interval an admin may ask clients for.
pub const POLL_INTERVAL_SECS: std::ops::RangeInclusive<i32> = 5..=3600;

/// The source kind of a dynamic made from a live session.
const SOURCE_LIVE_SESSION: &str = "live_session";
/// The source kind of a dynamic made from a video.
const SOURCE_VIDEO: &str = "video";

/// Rule: the text and images of a hand-written dynamic (the post rules: at most 5,000
/// characters and 9 http(s) images, never empty).
pub fn dynamic_content(body: &str, image_urls: &[String]) -> Result<PostContent, CommunityError> {
    PostContent::parse(body, image_urls, None)
        .map_err(|error| CommunityError::invalid(error.to_string().replace("A post", "A dynamic").replace("a post", "a dynamic")))
}

/// Rule: a poll interval within [`POLL_INTERVAL_SECS`].
pub fn poll_interval(secs: i32) -> Result<i32, CommunityError> {
    if POLL_INTERVAL_SECS.contains(&secs) {
        Ok(secs)
    } else {
        Err(CommunityError::invalid(format!(
            "`pollIntervalSecs` is between {} and {}.",
            POLL_INTERVAL_SECS.start(),
            POLL_INTERVAL_SECS.end()
        )))
    }
}

/// The dynamics service held in the schema data.
#[derive(Clone)]
pub struct Dynamics {
    db: Db,
    redis: Redis,
    clock: SharedClock,
    push: DynamicPush,
    events: CommunityEvents,
    notifications: Notifications,
}

impl Dynamics {
    /// Over these backends, announcing new dynamics through `events` (the outbox), delivering
    /// them to this replica's connections through `push`, and notifying their authors of likes
    /// and comments through `notifications`.
    pub fn new(
        db: Db,
        redis: Redis,
        clock: SharedClock,
        push: DynamicPush,
        events: CommunityEvents,
        notifications: Notifications,
    ) -> Dynamics {
        Dynamics { db, redis, clock, push, events, notifications }
    }

    /// The push side (the subscription registers connections on it).
    pub fn push(&self) -> &DynamicPush {
        &self.push
    }

    /// `author` writes a dynamic. Refused when muted or banned, past the rate limit, or when
    /// the keyword filter blocks it; a flagged one is kept back (its author sees it pending).
    pub async fn create(&self, author: AuthUser, body: &str, image_urls: &[String]) -> Result<Dynamic, CommunityError> {
        let content = dynamic_content(body, image_urls)?;
        throttle(&self.redis, &DYNAMIC_LIMIT, author.id, "Too many dynamics").await?;
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        let dynamic = conn
            .transaction::<_, CommunityError, _>(async |conn| {
                require_allowed(conn, author.id, Activity::Publish, now).await?;
                let verdict = judge(conn, &content.body).await?;
                let state = if verdict == Verdict::Flag { dynamics::PENDING } else { dynamics::PUBLISHED };
                let new = NewDynamic {
                    id: Uuid::now_v7(),
                    author_id: author.id,
                    kind: dynamics::KIND_POST,
                    body: &content.body,
                    image_urls: &content.image_urls,
                    video_id: None,
                    room_id: None,
                    source: None,
                    state,
                    created_at: now,
                };
                let dynamic = dynamics::insert(conn, &new).await?.ok_or_else(|| CommunityError::internal(anyhow::anyhow!("no row")))?;
                self.announce(conn, &dynamic, true).await?;
                Ok(dynamic)
            })
            .await?;
        self.events.committed();
        Ok(dynamic)
    }

    /// Makes the dynamic of a room event (going live; a stop makes none). Idempotent: a
    /// redelivered event, or a second event of the same session, makes no second dynamic.
    /// Returns the dynamic it made, if it made one.
    pub async fn from_room_event(&self, event: &RoomEvent) -> Result<Option<Dynamic>, CommunityError> {
        if event.action != RoomAction::WentLive {
            return Ok(None);
        }
        let new = NewDynamic {
            id: Uuid::now_v7(),
            author_id: event.streamer_id,
            kind: dynamics::KIND_LIVE,
            body: &event.title,
            image_urls: &[],
            video_id: None,
            room_id: Some(event.room_id),
            source: Some((SOURCE_LIVE_SESSION, event.session_id)),
            state: dynamics::PUBLISHED,
            created_at: self.clock.now(),
        };
        self.insert_from_event(&new, event.occurred_at).await
    }

    /// Makes the dynamic of a video that was published (other states make none). Idempotent:
    /// one dynamic per video, however often its events arrive.
    pub async fn from_video_event(&self, event: &VideoLifecycleEvent) -> Result<Option<Dynamic>, CommunityError> {
        if event.state != "published" {
            return Ok(None);
        }
        let new = NewDynamic {
            id: Uuid::now_v7(),
            author_id: event.author_id,
            kind: dynamics::KIND_VIDEO,
            body: "",
            image_urls: &[],
            video_id: Some(event.video_id),
            room_id: None,
            source: Some((SOURCE_VIDEO, event.video_id)),
            state: dynamics::PUBLISHED,
            created_at: self.clock.now(),
        };
        self.insert_from_event(&new, event.occurred_at).await
    }

    async fn insert_from_event(&self, new: &NewDynamic<'_>, occurred_at: DateTime<Utc>) -> Result<Option<Dynamic>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        let made = conn
            .transaction::<_, CommunityError, _>(async |conn| {
                let Some(dynamic) = dynamics::insert(conn, new).await? else { return Ok(None) };
                self.announce(conn, &dynamic, new.created_at - occurred_at <= PUSH_FRESHNESS).await?;
                Ok(Some(dynamic))
            })
            .await?;
        if made.is_some() {
            self.events.committed();
        }
        Ok(made)
    }

    /// In the dynamic's transaction: announces a visible, `fresh` dynamic for push when push is
    /// on (as of this transaction); the outbox relay sends it after the commit.
    async fn announce(&self, conn: &mut AsyncPgConnection, dynamic: &Dynamic, fresh: bool) -> Result<(), CommunityError> {
        if fresh && dynamic.visible() && dynamics::push_settings(conn).await?.enabled {
            self.events.dynamic_announced(conn, dynamic).await?;
        }
        Ok(())
    }

    /// Deletes a dynamic: its author, or an admin with a reason (logged). Its likes stay
    /// received (as for posts).
    pub async fn delete(&self, actor: AuthUser, id: Uuid, reason: Option<&str>) -> Result<(), CommunityError> {
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, CommunityError, _>(async |conn| {
            require_allowed(conn, actor.id, Activity::Other, now).await?;
            let dynamic = dynamics::lock_live(conn, id).await?.ok_or(CommunityError::NotFound("Dynamic"))?;
            let reason = rules::delete_reason(&actor, actor.role == Role::Admin, dynamic.author_id, reason)?;
            dynamics::delete(conn, id, actor.id, reason.as_deref(), now).await?;
            if actor.id != dynamic.author_id {
                let action = moderation::Action {
                    actor: actor.id,
                    action: "delete_dynamic",
                    target_user: Some(dynamic.author_id),
                    item: Some(("dynamic", id)),
                    reason: reason.as_deref(),
                    expires_at: None,
                };
                moderation::log(conn, action, now).await?;
            }
            Ok(())
        })
        .await
    }

    /// Approves (`approve`) or rejects (with a reason) a dynamic, through the review path of
    /// posts and comments (admins; logged). A dynamic published by the approval is written to
    /// the polling position of this transaction (pollers find it now) and announced for push
    /// when push is on; a rejected one is seen by its author only. Its likes and comments stay.
    pub async fn review(&self, admin: AuthUser, id: Uuid, approve: bool, reason: Option<&str>) -> Result<Dynamic, CommunityError> {
        if admin.role != Role::Admin {
            return Err(CommunityError::Forbidden("Only an admin can review dynamics.".into()));
        }
        let reason = rules::review_reason(approve, reason)?;
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        let reviewed = conn
            .transaction::<_, CommunityError, _>(async |conn| {
                let dynamic = dynamics::lock_live(conn, id).await?.ok_or(CommunityError::NotFound("Dynamic"))?;
                let state = if approve { dynamics::PUBLISHED } else { dynamics::REJECTED };
                let mut reviewed = review::set_state::<Dynamic>(conn, id, state, admin.id, reason.as_deref(), now).await?;
                let published_now = reviewed.visible() && !dynamic.visible();
                if published_now {
                    reviewed = dynamics::republish(conn, id).await?;
                }
                let entry = moderation::Action {
                    actor: admin.id,
                    action: if approve { "approve_dynamic" } else { "reject_dynamic" },
                    target_user: Some(dynamic.author_id),
                    item: Some(("dynamic", id)),
                    reason: reason.as_deref(),
                    expires_at: None,
                };
                moderation::log(conn, entry, now).await?;
                if published_now {
                    self.announce(conn, &reviewed, true).await?;
                }
                Ok(reviewed)
            })
            .await?;
        self.events.committed();
        Ok(reviewed)
    }

    /// Live dynamics in a review state, newest first: every author's (admins) or one author's.
    pub async fn in_state(
        &self,
        state: &str,
        author: Option<Uuid>,
        after: Option<(i64, Uuid)>,
        limit: i64,
    ) -> Result<Vec<Dynamic>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(review::by_state::<Dynamic>(&mut conn, state, author, after, limit).await?)
    }

    /// `author` comments on a visible dynamic (1–2,000 characters, keyword-filtered: a flagged
    /// comment is refused, dynamics' comments having no review queue); its comment count grows
    /// in the same transaction.
    ///
    /// Where a "your dynamic was commented on" notification is recorded: in this transaction,
    /// after the comment was inserted.
    pub async fn comment(&self, author: AuthUser, id: Uuid, body: &str) -> Result<DynamicComment, CommunityError> {
        let body = rules::comment_body(body)?;
        throttle(&self.redis, &DYNAMIC_COMMENT_LIMIT, author.id, "Too many comments").await?;
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        let (comment, notified) = conn
            .transaction::<_, CommunityError, _>(async |conn| {
                require_allowed(conn, author.id, Activity::Publish, now).await?;
                if judge(conn, &body).await? == Verdict::Flag {
                    return Err(CommunityError::invalid(
                        "The text contains a word that needs review; comments on dynamics cannot wait for one.",
                    ));
                }
                // Lock order: the new comment has no lock to take before the dynamic (step 3).
                let dynamic = dynamics::lock_live(conn, id).await?.filter(Dynamic::visible).ok_or(CommunityError::NotFound("Dynamic"))?;
                let comment = dynamics::insert_comment(conn, Uuid::now_v7(), dynamic.id, author.id, &body, now).await?;
                dynamics::add_counts(conn, dynamic.id, 0, 1).await?;
                // Lock order: the notification last (step 7).
                let replied = Event::Replied { subject: Subject::Dynamic(dynamic.id), reply: comment.id };
                let notified = notifications::record(conn, dynamic.author_id, author.id, replied, now).await?;
                Ok((comment, notified))
            })
            .await?;
        self.notifications.push(notified).await;
        Ok(comment)
    }

    /// Deletes a comment on a dynamic: its author, the dynamic's author, or an admin (with a
    /// reason when it is someone else's; logged).
    pub async fn delete_comment(&self, actor: AuthUser, id: Uuid, reason: Option<&str>) -> Result<(), CommunityError> {
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, CommunityError, _>(async |conn| {
            require_allowed(conn, actor.id, Activity::Other, now).await?;
            // Lock order: the comment (step 2), then its dynamic (step 3).
            let comment = dynamics::lock_live_comment(conn, id).await?.ok_or(CommunityError::NotFound("Comment"))?;
            // Deleted or not, its comment count stays the count of its live comments.
            let dynamic = dynamics::lock_any(conn, comment.dynamic_id).await?;
            let owner = dynamic.as_ref().is_some_and(|d| d.author_id == actor.id);
            let reason = rules::delete_reason(&actor, actor.role == Role::Admin || owner, comment.author_id, reason)?;
            dynamics::delete_comment(conn, id, actor.id, reason.as_deref(), now).await?;
            dynamics::add_counts(conn, comment.dynamic_id, 0, -1).await?;
            if actor.id != comment.author_id {
                let action = moderation::Action {
                    actor: actor.id,
                    action: "delete_dynamic_comment",
                    target_user: Some(comment.author_id),
                    item: Some(("dynamic_comment", id)),
                    reason: reason.as_deref(),
                    expires_at: None,
                };
                moderation::log(conn, action, now).await?;
            }
            Ok(())
        })
        .await
    }

    /// A dynamic others may see (or the viewer's own pending one).
    pub async fn dynamic(&self, viewer: Option<Uuid>, id: Uuid) -> Result<Option<Dynamic>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        let found = dynamics::find_many(&mut conn, &[id]).await?.pop();
        Ok(found.filter(|d| d.deleted_at.is_none() && (d.visible() || Some(d.author_id) == viewer)))
    }

    /// A page of `author`'s dynamics, newest first (their own pending ones too when they ask).
    pub async fn by_author(
        &self,
        viewer: Option<Uuid>,
        author: Uuid,
        after: Option<(i64, Uuid)>,
        limit: i64,
    ) -> Result<Vec<Dynamic>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(dynamics::by_author(&mut conn, author, viewer == Some(author), after, limit).await?)
    }

    /// A page of the dynamics of everyone `viewer` follows, newest first.
    pub async fn following(&self, viewer: Uuid, after: Option<(i64, Uuid)>, limit: i64) -> Result<Vec<Dynamic>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(dynamics::of_followed(&mut conn, viewer, after, limit).await?)
    }

    /// The dynamics of everyone `viewer` follows written after `cursor` (oldest first), and the
    /// cursor to poll with next. No cursor: start now (nothing returned, only the cursor).
    pub async fn since(
        &self,
        viewer: Uuid,
        cursor: Option<(i64, Uuid)>,
        limit: i64,
    ) -> Result<(Vec<Dynamic>, (i64, Uuid)), CommunityError> {
        let mut conn = self.db.pool.get().await?;
        let Some(cursor) = cursor else { return Ok((Vec::new(), (dynamics::poll_start(&mut conn).await?, Uuid::nil()))) };
        let rows = dynamics::of_followed_since(&mut conn, viewer, cursor, limit).await?;
        let next = rows.last().map_or(cursor, |last| (last.txid, last.id));
        Ok((rows, next))
    }

    /// A page of a visible dynamic's comments, newest first.
    pub async fn comments(&self, id: Uuid, after: Option<(i64, Uuid)>, limit: i64) -> Result<Vec<DynamicComment>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        if !dynamics::find_many(&mut conn, &[id]).await?.first().is_some_and(Dynamic::visible) {
            return Err(CommunityError::NotFound("Dynamic"));
        }
        Ok(dynamics::comments(&mut conn, id, after, limit).await?)
    }

    /// The push switch.
    pub async fn push_settings(&self) -> Result<PushSettings, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(dynamics::push_settings(&mut conn).await?)
    }

    /// Turns push on or off and sets the poll interval (admins; logged). Every replica follows
    /// it from the next dynamic on: publishers read it in the dynamic's transaction.
    pub async fn set_push_settings(&self, admin: AuthUser, enabled: bool, poll_interval_secs: i32) -> Result<PushSettings, CommunityError> {
        let secs = poll_interval(poll_interval_secs)?;
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, CommunityError, _>(async |conn| {
            let settings = dynamics::set_push_settings(conn, enabled, secs, admin.id, now).await?;
            let reason = format!("push {}, poll every {secs} s", if enabled { "on" } else { "off" });
            let action = moderation::Action {
                actor: admin.id,
                action: "set_push",
                target_user: None,
                item: None,
                reason: Some(&reason),
                expires_at: None,
            };
            moderation::log(conn, action, now).await?;
            Ok(settings)
        })
        .await
    }
}

/// Counts a hit of `limit` for `user`; `RATE_LIMITED` past it.
async fn throttle(redis: &Redis, limit: &RateLimit, user: Uuid, what: &'static str) -> Result<(), CommunityError> {
    match limit.hit(redis, &user.to_string()).await.map_err(CommunityError::internal)? {
        RateDecision::Limited { retry_after_secs } => Err(CommunityError::RateLimited { what, retry_after_secs }),
        RateDecision::Allowed { .. } => Ok(()),
    }
}

/// The keyword filter's verdict on `text` (`BAD_USER_INPUT` when it blocks it).
async fn judge(conn: &mut AsyncPgConnection, text: &str) -> Result<Verdict, CommunityError> {
    let filter = KeywordFilter::new(&review::words(conn).await?);
    match filter.judge(text) {
        Verdict::Block => Err(CommunityError::invalid("The text contains a word that is not allowed here.")),
        verdict => Ok(verdict),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dynamic_needs_text_or_images_within_the_limits() {
        assert!(dynamic_content("  hello  ", &[]).is_ok_and(|c| c.body == "hello"));
        assert!(dynamic_content("", &["https://img.example/a.png".into()]).is_ok());
        for (body, images) in [("", vec![]), ("   ", vec![]), (&*"x".repeat(5001), vec![]), ("hi", vec!["ftp://x/y".to_owned()])] {
            assert!(matches!(dynamic_content(body, &images), Err(CommunityError::InvalidInput(_))), "{body:?} {images:?}");
        }
        assert!(dynamic_content("hi", &vec!["https://img.example/a.png".to_owned(); 10]).is_err());
    }

    #[test]
    fn poll_intervals_are_bounded() {
        assert_eq!(poll_interval(5).ok(), Some(5));
        assert_eq!(poll_interval(3600).ok(), Some(3600));
        for bad in [0, 4, 3601, -1] {
            assert!(poll_interval(bad).is_err(), "{bad}");
        }
    }
}
