//! Zones, posts, comments and likes: each use case one transaction in which the content, its
//! counters (post and comment scores, zone counts, likes received) and the points change
//! together, taking row locks in the order of [`crate::store`].

use super::CommunityError;
use super::moderation::{self, Activity, require_allowed};
use super::notifications::{self, Event, Notifications, Subject};
use super::rules::{self, COMMENT_POINTS, MAX_HOME_PINS, MAX_PINS_PER_ZONE, POST_POINTS, PostContent};
use super::text_filter::{KeywordFilter, TextModerator, Verdict};
use crate::store::comments::{self, Comment, NewComment};
use crate::store::home_pins;
use crate::store::points::{self, FameRow, PointDeltas};
use crate::store::posts::{self, NewPost, Order, PENDING, PUBLISHED, Position, Post, REJECTED};
use crate::store::review;
use crate::store::zones::{self, Zone, ZoneAdmin};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use platform::auth::AuthUser;
use platform::clock::SharedClock;
use platform::db::Db;
use platform::rate_limit::{RateDecision, RateLimit};
use platform::redis::Redis;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Posts one user may create per window (a flood is refused with `RATE_LIMITED`).
pub const POST_LIMIT: RateLimit = RateLimit { name: "community:post", max: 30, window: std::time::Duration::from_secs(600) };
/// Comments and replies one user may write per window.
pub const COMMENT_LIMIT: RateLimit = RateLimit { name: "community:comment", max: 120, window: std::time::Duration::from_secs(600) };

/// Counts a hit of `limit` for `user`; `RATE_LIMITED` past it.
async fn throttle(redis: &Redis, limit: &RateLimit, user: Uuid, what: &'static str) -> Result<(), CommunityError> {
    match limit.hit(redis, &user.to_string()).await.map_err(CommunityError::internal)? {
        RateDecision::Limited { retry_after_secs } => Err(CommunityError::RateLimited { what, retry_after_secs }),
        RateDecision::Allowed { .. } => Ok(()),
    }
}

/// Most zones `zones` lists.
pub const MAX_ZONES: i64 = 500;
/// Places in a hall of fame.
pub const HALL_OF_FAME_SIZE: i64 = 50;

/// A new comment: on a post, or a reply to a comment of it, optionally quoting a comment of
/// the same thread.
#[derive(Debug, Clone)]
pub struct NewCommentInput {
    /// The post.
    pub post_id: Uuid,
    /// The comment replied to (`None`: a top-level comment).
    pub reply_to: Option<Uuid>,
    /// The comment quoted (needs `reply_to`; must be in the same thread).
    pub quote: Option<Uuid>,
    /// The text (checked by [`rules::comment_body`]).
    pub body: String,
}

/// The community content service held in the schema data.
#[derive(Clone)]
pub struct Posts {
    db: Db,
    redis: Redis,
    clock: SharedClock,
    notifications: Notifications,
}

impl Posts {
    /// Over these backends; likes and replies are recorded as notifications and pushed
    /// through `notifications`.
    pub fn new(db: Db, redis: Redis, clock: SharedClock, notifications: Notifications) -> Posts {
        Posts { db, redis, clock, notifications }
    }

    /// Creates a zone (admins).
    pub async fn create_zone(&self, admin: AuthUser, name: &str, description: &str) -> Result<Zone, CommunityError> {
        let (name, description) = (rules::zone_name(name)?, rules::zone_description(description)?);
        let mut conn = self.db.pool.get().await?;
        zones::insert(&mut conn, Uuid::now_v7(), &name, &description, admin.id, self.clock.now()).await.map_err(name_taken)
    }

    /// Renames or re-describes a zone (admins).
    pub async fn update_zone(&self, id: Uuid, name: &str, description: &str) -> Result<Zone, CommunityError> {
        let (name, description) = (rules::zone_name(name)?, rules::zone_description(description)?);
        let mut conn = self.db.pool.get().await?;
        zones::update(&mut conn, id, &name, &description, self.clock.now())
            .await
            .map_err(name_taken)?
            .ok_or(CommunityError::NotFound("Zone"))
    }

    /// These zones (unknown ids absent), in one statement.
    pub async fn zones(&self, ids: &[Uuid]) -> Result<Vec<Zone>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(zones::find_many(&mut conn, ids).await?)
    }

    /// Every zone, by name.
    pub async fn all_zones(&self) -> Result<Vec<Zone>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(zones::all(&mut conn, MAX_ZONES).await?)
    }

    /// `user` follows (`following`) or unfollows a zone; idempotent. Returns the zone after it.
    pub async fn set_zone_following(&self, user: AuthUser, zone: Uuid, following: bool) -> Result<Zone, CommunityError> {
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, CommunityError, _>(async |conn| {
            require_allowed(conn, user.id, Activity::Other, now).await?;
            zone_exists(conn, zone).await?;
            // Lock order: the follow row (step 1), then the zone (step 6).
            let changed =
                if following { zones::follow(conn, user.id, zone, now).await? } else { zones::unfollow(conn, user.id, zone).await? };
            if changed {
                zones::add_followers(conn, zone, if following { 1 } else { -1 }).await?;
            }
            Ok(())
        })
        .await?;
        self.zones(&[zone]).await?.pop().ok_or(CommunityError::NotFound("Zone"))
    }

    /// Which of `zones` `user` follows, in one statement.
    pub async fn followed_zones(&self, user: Uuid, zones: &[Uuid]) -> Result<Vec<Uuid>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(zones::followed_among(&mut conn, user, zones).await?)
    }

    /// Posts in `zone`: its points, post count and zone count change with it.
    pub async fn create_post(&self, author: AuthUser, zone: Uuid, content: PostContent) -> Result<Post, CommunityError> {
        throttle(&self.redis, &POST_LIMIT, author.id, "Too many posts").await?;
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, CommunityError, _>(async |conn| {
            require_allowed(conn, author.id, Activity::Publish, now).await?;
            zone_exists(conn, zone).await?;
            let verdict = judge(conn, &content.body).await?;
            let (mode, _) = review::modes(conn, zone).await?;
            let state = if verdict == Verdict::Flag || mode == REVIEW_THEN_POST { PENDING } else { PUBLISHED };
            let post = posts::insert(
                conn,
                &NewPost {
                    id: Uuid::now_v7(),
                    zone_id: zone,
                    author_id: author.id,
                    body: &content.body,
                    image_urls: &content.image_urls,
                    video_id: content.video_id,
                    points: POST_POINTS,
                    state,
                    created_at: now,
                },
            )
            .await?;
            // Lock order: the new post (step 3), points (step 5), the zone (step 6). A pending
            // post counts from its approval on.
            if post.counted() {
                count_post(conn, &post, 1).await?;
            }
            Ok(post)
        })
        .await
    }

    /// Replaces a post's text and images (its author only; the video stays).
    pub async fn edit_post(&self, editor: AuthUser, id: Uuid, body: &str, image_urls: &[String]) -> Result<Post, CommunityError> {
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, CommunityError, _>(async |conn| {
            require_allowed(conn, editor.id, Activity::Publish, now).await?;
            let post = posts::lock_live(conn, id).await?.ok_or(CommunityError::NotFound("Post"))?;
            if post.author_id != editor.id {
                return Err(CommunityError::Forbidden("Only the author can edit a post.".into()));
            }
            let content = PostContent::parse(body, image_urls, post.video_id)?;
            let verdict = judge(conn, &content.body).await?;
            let edited = posts::edit(conn, id, &content.body, &content.image_urls, now).await?;
            // A flagged edit of a published post goes back to review, and stops counting.
            if verdict == Verdict::Flag && edited.state == PUBLISHED {
                count_post(conn, &edited, -1).await?;
                return Ok(review::set_state::<Post>(conn, id, PENDING, editor.id, Some("flagged by the keyword filter"), now).await?);
            }
            Ok(edited)
        })
        .await
    }

    /// Deletes a post (its author, or an admin with a reason): its points and its live
    /// comments' points leave the zone's totals.
    pub async fn delete_post(&self, actor: AuthUser, id: Uuid, reason: Option<&str>) -> Result<(), CommunityError> {
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, CommunityError, _>(async |conn| {
            require_allowed(conn, actor.id, Activity::Other, now).await?;
            delete_post_in(conn, actor, id, reason, now).await.map(|_| ())
        })
        .await
    }
}

/// Deletes a post in the caller's transaction (see [`Posts::delete_post`]); returns its author.
pub(crate) async fn delete_post_in(
    conn: &mut AsyncPgConnection,
    actor: AuthUser,
    id: Uuid,
    reason: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Uuid, CommunityError> {
    let post = posts::lock_live(conn, id).await?.ok_or(CommunityError::NotFound("Post"))?;
    let moderator = is_moderator(conn, &actor, post.zone_id).await?;
    let reason = rules::delete_reason(&actor, moderator, post.author_id, reason)?;
    if post.counted() {
        count_post(conn, &post, -1).await?;
    }
    posts::delete(conn, id, actor.id, reason.as_deref(), now).await?;
    if actor.id != post.author_id {
        let action = moderation::Action {
            actor: actor.id,
            action: "delete_post",
            target_user: Some(post.author_id),
            item: Some(("post", id)),
            reason: reason.as_deref(),
            expires_at: None,
        };
        moderation::log(conn, action, now).await?;
    }
    Ok(post.author_id)
}

impl Posts {
    /// Moves a post to another zone (admins): its points and its comments' points move with it.
    pub async fn move_post(&self, admin: AuthUser, id: Uuid, to: Uuid) -> Result<Post, CommunityError> {
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, CommunityError, _>(async |conn| {
            let post = posts::lock_live(conn, id).await?.ok_or(CommunityError::NotFound("Post"))?;
            zone_exists(conn, to).await?;
            if post.zone_id == to {
                return Ok(post);
            }
            let earnings = if post.counted() { posts::comment_earnings(conn, id).await? } else { Vec::new() };
            let moved = posts::set_zone(conn, id, to).await?;
            let action = moderation::Action {
                actor: admin.id,
                action: "move_post",
                target_user: Some(post.author_id),
                item: Some(("post", id)),
                reason: None,
                expires_at: None,
            };
            moderation::log(conn, action, now).await?;
            if post.counted() {
                let mut deltas = PointDeltas::default();
                deltas.add(post.zone_id, post.author_id, -post.points, -1, 0).add(to, post.author_id, post.points, 1, 0);
                for earned in &earnings {
                    deltas.add(post.zone_id, earned.author_id, -earned.points, 0, -earned.comments);
                    deltas.add(to, earned.author_id, earned.points, 0, earned.comments);
                }
                points::add(conn, &deltas).await?;
                zones::add_posts(conn, &BTreeMap::from([(post.zone_id, -1), (to, 1)])).await?;
            }
            Ok(moved)
        })
        .await
    }

    /// Makes `user` an admin of `zone` (`add`) or no longer one (site admins). Logged.
    pub async fn set_zone_admin(&self, admin: AuthUser, zone: Uuid, user: Uuid, add: bool) -> Result<Vec<ZoneAdmin>, CommunityError> {
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, CommunityError, _>(async |conn| {
            zone_exists(conn, zone).await?;
            let changed =
                if add { zones::add_admin(conn, zone, user, admin.id, now).await? } else { zones::remove_admin(conn, zone, user).await? };
            if changed {
                let action = if add { "add_zone_admin" } else { "remove_zone_admin" };
                let entry = moderation::Action {
                    actor: admin.id,
                    action,
                    target_user: Some(user),
                    item: Some(("zone", zone)),
                    reason: None,
                    expires_at: None,
                };
                moderation::log(conn, entry, now).await?;
            }
            Ok(zones::admins(conn, zone).await?)
        })
        .await
    }

    /// The admins of a zone.
    pub async fn zone_admins(&self, zone: Uuid) -> Result<Vec<ZoneAdmin>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        zone_exists(&mut conn, zone).await?;
        Ok(zones::admins(&mut conn, zone).await?)
    }

    /// Pins a post to lead its zone's list (`pinned`), or unpins it (admins). At most
    /// [`MAX_PINS_PER_ZONE`] per zone: the zone's row is locked while counting, so two admins
    /// pinning at once cannot both take the last place. Idempotent; logged.
    pub async fn set_pinned(&self, admin: AuthUser, id: Uuid, pinned: bool) -> Result<Post, CommunityError> {
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, CommunityError, _>(async |conn| {
            // Lock order: the post (step 3), then its zone (step 6).
            let post = posts::lock_live(conn, id).await?.ok_or(CommunityError::NotFound("Post"))?;
            require_moderator(conn, &admin, post.zone_id).await?;
            if post.pinned_at.is_some() == pinned {
                return Ok(post);
            }
            zones::lock(conn, post.zone_id).await?;
            if pinned && posts::pinned(conn, post.zone_id, true).await?.len() >= MAX_PINS_PER_ZONE {
                return Err(CommunityError::Conflict(format!("A zone has at most {MAX_PINS_PER_ZONE} pinned posts; unpin one first.")));
            }
            let updated = posts::set_pinned(conn, id, pinned.then_some(now)).await?;
            let action = moderation::Action {
                actor: admin.id,
                action: if pinned { "pin_post" } else { "unpin_post" },
                target_user: Some(post.author_id),
                item: Some(("post", id)),
                reason: None,
                expires_at: None,
            };
            moderation::log(conn, action, now).await?;
            Ok(updated)
        })
        .await
    }

    /// Pins a post of any zone to lead the home list (`pinned`), or unpins it (site admins). At
    /// most [`MAX_HOME_PINS`] live posts: the home list's pin lock is held while counting, so
    /// two admins pinning at once cannot both take the last place. Idempotent; logged.
    pub async fn set_home_pinned(&self, admin: AuthUser, id: Uuid, pinned: bool) -> Result<Post, CommunityError> {
        if admin.role != platform::auth::Role::Admin {
            return Err(CommunityError::Forbidden("Only a site admin can pin posts on the home list.".into()));
        }
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, CommunityError, _>(async |conn| {
            // Lock order: the post (step 3), then the home list's pin lock (step 6).
            let post = posts::lock_live(conn, id).await?.filter(Post::counted).ok_or(CommunityError::NotFound("Post"))?;
            home_pins::lock(conn).await?;
            if home_pins::is_pinned(conn, id).await? == pinned {
                return Ok(post);
            }
            if pinned {
                if home_pins::pinned(conn, true).await?.len() >= MAX_HOME_PINS {
                    return Err(CommunityError::Conflict(format!(
                        "The home list has at most {MAX_HOME_PINS} pinned posts; unpin one first."
                    )));
                }
                home_pins::pin(conn, id, admin.id, now).await?;
            } else {
                home_pins::unpin(conn, id).await?;
            }
            let action = moderation::Action {
                actor: admin.id,
                action: if pinned { "pin_home_post" } else { "unpin_home_post" },
                target_user: Some(post.author_id),
                item: Some(("post", id)),
                reason: None,
                expires_at: None,
            };
            moderation::log(conn, action, now).await?;
            Ok(post)
        })
        .await
    }

    /// The live posts pinned on the home list, most recently pinned first (hidden content only
    /// if `show_hidden`).
    pub async fn home_pinned(&self, show_hidden: bool) -> Result<Vec<Post>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(home_pins::pinned(&mut conn, show_hidden).await?)
    }

    /// Approves (`approve`) or rejects a post (admins; a rejection needs a reason). Approving a
    /// pending or rejected post publishes it and grants its points; rejecting a published one
    /// takes them back (with its comments'); approving a published post records the review.
    /// Logged.
    pub async fn review_post(&self, admin: AuthUser, id: Uuid, approve: bool, reason: Option<&str>) -> Result<Post, CommunityError> {
        let reason = rules::review_reason(approve, reason)?;
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, CommunityError, _>(async |conn| {
            let post = posts::lock_live(conn, id).await?.ok_or(CommunityError::NotFound("Post"))?;
            require_moderator(conn, &admin, post.zone_id).await?;
            let state = if approve { PUBLISHED } else { REJECTED };
            let reviewed = review::set_state::<Post>(conn, id, state, admin.id, reason.as_deref(), now).await?;
            match (post.counted(), reviewed.counted()) {
                (false, true) => count_post(conn, &reviewed, 1).await?,
                (true, false) => count_post(conn, &post, -1).await?,
                _ => {}
            }
            let action = if approve { "approve_post" } else { "reject_post" };
            let entry = moderation::Action {
                actor: admin.id,
                action,
                target_user: Some(post.author_id),
                item: Some(("post", id)),
                reason: reason.as_deref(),
                expires_at: None,
            };
            moderation::log(conn, entry, now).await?;
            Ok(reviewed)
        })
        .await
    }

    /// Approves or rejects a comment, as [`Posts::review_post`] does a post.
    pub async fn review_comment(&self, admin: AuthUser, id: Uuid, approve: bool, reason: Option<&str>) -> Result<Comment, CommunityError> {
        let reason = rules::review_reason(approve, reason)?;
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        let (reviewed, notified) = conn
            .transaction::<_, CommunityError, _>(async |conn| {
                let found = comments::find_many(conn, &[id]).await?.pop().ok_or(CommunityError::NotFound("Comment"))?;
                // Lock order: the comment and its thread (step 2), then the post (step 3).
                let locked = comments::lock_many(conn, &[found.id, found.thread()]).await?;
                let comment =
                    locked.into_iter().find(|c| c.id == id && c.deleted_at.is_none()).ok_or(CommunityError::NotFound("Comment"))?;
                let post = posts::lock_any(conn, comment.post_id).await?.ok_or(CommunityError::NotFound("Post"))?;
                require_moderator(conn, &admin, post.zone_id).await?;
                let state = if approve { PUBLISHED } else { REJECTED };
                let reviewed = review::set_state::<Comment>(conn, id, state, admin.id, reason.as_deref(), now).await?;
                match (comment.counted(), reviewed.counted()) {
                    (false, true) => count_comment(conn, &reviewed, &post, 1).await?,
                    (true, false) => count_comment(conn, &comment, &post, -1).await?,
                    _ => {}
                }
                let action = if approve { "approve_comment" } else { "reject_comment" };
                let entry = moderation::Action {
                    actor: admin.id,
                    action,
                    target_user: Some(comment.author_id),
                    item: Some(("comment", id)),
                    reason: reason.as_deref(),
                    expires_at: None,
                };
                moderation::log(conn, entry, now).await?;
                // Lock order: the notification last (step 7). A comment published by this review
                // notifies now (a re-approval folds into the same notification, so never twice);
                // the parent it replied to is not stored, so a reply notifies
                // the author of the comment it quotes, or else of its thread's top-level comment.
                let notified = if reviewed.counted() && !comment.counted() {
                    notify_reply(conn, &reviewed, reviewed.quote_id.or(reviewed.thread_id), &post, now).await?
                } else {
                    None
                };
                Ok((reviewed, notified))
            })
            .await?;
        self.notifications.push(notified).await;
        Ok(reviewed)
    }

    /// Live posts in a review state, newest first: every author's (admins) or one author's.
    pub async fn posts_in_state(
        &self,
        state: &str,
        author: Option<Uuid>,
        after: Option<Position>,
        limit: i64,
    ) -> Result<Vec<Post>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(review::by_state::<Post>(&mut conn, state, author, after, limit).await?)
    }

    /// Live comments in a review state, newest first: every author's (admins) or one author's.
    pub async fn comments_in_state(
        &self,
        state: &str,
        author: Option<Uuid>,
        after: Option<Position>,
        limit: i64,
    ) -> Result<Vec<Comment>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(review::by_state::<Comment>(&mut conn, state, author, after, limit).await?)
    }

    /// Sets the review modes of a zone (`Some`) or of the site (admins). A zone's `None` mode
    /// goes back to the site's.
    pub async fn set_review_modes(
        &self,
        zone: Option<Uuid>,
        posts: Option<&str>,
        comments: Option<&str>,
    ) -> Result<(String, String), CommunityError> {
        let mut conn = self.db.pool.get().await?;
        match zone {
            Some(zone) => {
                if !review::set_zone_modes(&mut conn, zone, posts, comments).await? {
                    return Err(CommunityError::NotFound("Zone"));
                }
                Ok(review::modes(&mut conn, zone).await?)
            }
            None => {
                let (posts, comments) = (posts.unwrap_or(POST_THEN_REVIEW), comments.unwrap_or(POST_THEN_REVIEW));
                review::set_site_modes(&mut conn, posts, comments).await?;
                Ok((posts.to_owned(), comments.to_owned()))
            }
        }
    }

    /// Replaces the keyword filter's lists (admins): every replica uses them from the next write.
    pub async fn set_words(&self, blocked: &[String], flagged: &[String]) -> Result<(), CommunityError> {
        let normalize = |words: &[String]| -> Result<Vec<String>, CommunityError> {
            if words.len() > 1000 {
                return Err(CommunityError::invalid("A list has at most 1000 words."));
            }
            Ok(words.iter().filter_map(|word| super::text_filter::normalize_word(word)).collect())
        };
        let (blocked, flagged) = (normalize(blocked)?, normalize(flagged)?);
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, CommunityError, _>(async |conn| Ok(review::replace_words(conn, &blocked, &flagged).await?)).await
    }

    /// The pinned posts of a zone, most recently pinned first.
    pub async fn pinned(&self, zone: Uuid, show_hidden: bool) -> Result<Vec<Post>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(posts::pinned(&mut conn, zone, show_hidden).await?)
    }

    /// A live post (a banned user's hidden one only if `show_hidden`).
    pub async fn post(&self, id: Uuid, show_hidden: bool) -> Result<Option<Post>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(posts::find_live_many(&mut conn, &[id], show_hidden).await?.pop())
    }

    /// A page of live posts (a banned user's hidden ones only if `show_hidden`).
    pub async fn posts(
        &self,
        zone: Option<Uuid>,
        order: Order,
        after: Option<Position>,
        limit: i64,
        show_hidden: bool,
    ) -> Result<Vec<Post>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        if let Some(zone) = zone {
            zone_exists(&mut conn, zone).await?;
        }
        Ok(posts::page(&mut conn, zone, order, after, limit, show_hidden).await?)
    }

    /// Comments on a post, a reply, or a quote reply: the post's comment count, the thread's
    /// reply count and the author's points in the post's zone change with it.
    pub async fn create_comment(&self, author: AuthUser, input: NewCommentInput) -> Result<Comment, CommunityError> {
        let body = rules::comment_body(&input.body)?;
        if input.quote.is_some() && input.reply_to.is_none() {
            return Err(CommunityError::invalid("A quote reply replies to a comment (`replyTo`)."));
        }
        throttle(&self.redis, &COMMENT_LIMIT, author.id, "Too many comments").await?;
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        let (comment, notified) = conn
            .transaction::<_, CommunityError, _>(async |conn| {
                require_allowed(conn, author.id, Activity::Publish, now).await?;
                let thread = match input.reply_to {
                    None => None,
                    Some(parent_id) => Some(lock_thread(conn, &author, input.post_id, parent_id, input.quote).await?),
                };
                // Lock order: comments (step 2, above), the post (step 3), points (step 5).
                let post = posts::lock_live(conn, input.post_id).await?.ok_or(CommunityError::NotFound("Post"))?;
                require_visible(conn, &author, post.author_id, post.counted(), "Post").await?;
                let verdict = judge(conn, &body).await?;
                let (_, mode) = review::modes(conn, post.zone_id).await?;
                let state = if verdict == Verdict::Flag || mode == REVIEW_THEN_POST { PENDING } else { PUBLISHED };
                let comment = comments::insert(
                    conn,
                    &NewComment {
                        id: Uuid::now_v7(),
                        post_id: post.id,
                        thread_id: thread,
                        quote_id: input.quote,
                        author_id: author.id,
                        body: &body,
                        points: COMMENT_POINTS,
                        state,
                        created_at: now,
                    },
                )
                .await?;
                let notified = if comment.counted() {
                    count_comment(conn, &comment, &post, 1).await?;
                    // Lock order: the notification last (step 7). A pending comment notifies
                    // nobody yet (it is not visible): its approval does.
                    notify_reply(conn, &comment, input.reply_to, &post, now).await?
                } else {
                    None
                };
                Ok((comment, notified))
            })
            .await?;
        self.notifications.push(notified).await;
        Ok(comment)
    }

    /// Deletes a comment (its author, or an admin with a reason): its points leave the zone's
    /// totals (when its post is live), and its post's and thread's counts drop.
    pub async fn delete_comment(&self, actor: AuthUser, id: Uuid, reason: Option<&str>) -> Result<(), CommunityError> {
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, CommunityError, _>(async |conn| {
            require_allowed(conn, actor.id, Activity::Other, now).await?;
            delete_comment_in(conn, actor, id, reason, now).await.map(|_| ())
        })
        .await
    }
}

/// Deletes a comment in the caller's transaction (see [`Posts::delete_comment`]); returns its
/// author.
pub(crate) async fn delete_comment_in(
    conn: &mut AsyncPgConnection,
    actor: AuthUser,
    id: Uuid,
    reason: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Uuid, CommunityError> {
    let found = comments::find_many(conn, &[id]).await?.pop().ok_or(CommunityError::NotFound("Comment"))?;
    // Lock order: the comment and its thread's top-level comment (step 2, ascending id),
    // then the post (step 3).
    let locked = comments::lock_many(conn, &[found.id, found.thread()]).await?;
    let comment = locked.into_iter().find(|c| c.id == id && c.deleted_at.is_none()).ok_or(CommunityError::NotFound("Comment"))?;
    let post = posts::lock_any(conn, comment.post_id).await?.ok_or(CommunityError::NotFound("Post"))?;
    let moderator = is_moderator(conn, &actor, post.zone_id).await?;
    let reason = rules::delete_reason(&actor, moderator, comment.author_id, reason)?;
    if comment.counted() {
        count_comment(conn, &comment, &post, -1).await?;
    }
    comments::delete(conn, id, actor.id, reason.as_deref(), now).await?;
    if actor.id != comment.author_id {
        let action = moderation::Action {
            actor: actor.id,
            action: "delete_comment",
            target_user: Some(comment.author_id),
            item: Some(("comment", id)),
            reason: reason.as_deref(),
            expires_at: None,
        };
        moderation::log(conn, action, now).await?;
    }
    Ok(comment.author_id)
}

impl Posts {
    /// A live comment.
    pub async fn comment(&self, id: Uuid) -> Result<Option<Comment>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(comments::find_many(&mut conn, &[id]).await?.pop().filter(|c| c.deleted_at.is_none()))
    }

    /// A page of the live top-level comments of a live post (`thread` `None`) or of the
    /// replies in a thread.
    pub async fn comments(
        &self,
        post: Uuid,
        thread: Option<Uuid>,
        order: Order,
        after: Option<Position>,
        limit: i64,
        show_hidden: bool,
    ) -> Result<Vec<Comment>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        Ok(comments::page(&mut conn, post, thread, order, after, limit, show_hidden).await?)
    }

    /// The top users of a zone by points.
    pub async fn hall_of_fame(&self, zone: Uuid) -> Result<Vec<FameRow>, CommunityError> {
        let mut conn = self.db.pool.get().await?;
        zone_exists(&mut conn, zone).await?;
        Ok(points::hall_of_fame(&mut conn, zone, HALL_OF_FAME_SIZE).await?)
    }
}

/// The review mode that holds items back until an admin approves them.
pub const REVIEW_THEN_POST: &str = "review_then_post";
/// The review mode that publishes at once and reviews later.
pub const POST_THEN_REVIEW: &str = "post_then_review";

/// Whether `user` moderates `zone`: a site admin, or one of its zone admins.
pub(crate) async fn is_moderator(conn: &mut AsyncPgConnection, user: &AuthUser, zone: Uuid) -> Result<bool, CommunityError> {
    Ok(user.role == platform::auth::Role::Admin || zones::is_zone_admin(conn, zone, user.id).await?)
}

/// `NOT_FOUND` (`what`), as if absent, unless `viewer` may see an item by `author` that is
/// `counted` (published and not deleted): a removed, rejected or pending item is absent for
/// everyone acting on it by id, and the content of a user banned with `hideContent` is absent
/// for everyone but site admins (who see it in lists too). Reads the author's sanction without
/// locking it (sanctions are only read by writers, see the lock order).
pub(crate) async fn require_visible(
    conn: &mut AsyncPgConnection,
    viewer: &AuthUser,
    author: Uuid,
    counted: bool,
    what: &'static str,
) -> Result<(), CommunityError> {
    if !counted {
        return Err(CommunityError::NotFound(what));
    }
    if viewer.role != platform::auth::Role::Admin
        && crate::store::moderation::find(conn, author).await?.is_some_and(|s| s.banned && s.hides_content)
    {
        return Err(CommunityError::NotFound(what));
    }
    Ok(())
}

/// `FORBIDDEN` unless `user` moderates `zone`.
async fn require_moderator(conn: &mut AsyncPgConnection, user: &AuthUser, zone: Uuid) -> Result<(), CommunityError> {
    if is_moderator(conn, user, zone).await? {
        Ok(())
    } else {
        Err(CommunityError::Forbidden("Only an admin of the site or of this zone can do this.".into()))
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

/// Adds (`sign` 1) or removes (-1) a post from the counts: its points and post in its zone,
/// with the points and replies of its counted comments, and the zone's post count. Call it
/// with the post locked (its comments cannot change meanwhile).
async fn count_post(conn: &mut AsyncPgConnection, post: &Post, sign: i64) -> Result<(), CommunityError> {
    let earnings = posts::comment_earnings(conn, post.id).await?;
    let mut deltas = PointDeltas::default();
    deltas.add(post.zone_id, post.author_id, sign * post.points, sign, 0);
    for earned in &earnings {
        deltas.add(post.zone_id, earned.author_id, sign * earned.points, 0, sign * earned.comments);
    }
    points::add(conn, &deltas).await?;
    zones::add_posts(conn, &BTreeMap::from([(post.zone_id, sign)])).await?;
    Ok(())
}

/// Adds (`sign` 1) or removes (-1) a comment from the counts: its thread's replies, its
/// post's comments and, while the post counts, its point and reply in the post's zone. Call it
/// with the comment, its thread and its post locked.
async fn count_comment(conn: &mut AsyncPgConnection, comment: &Comment, post: &Post, sign: i64) -> Result<(), CommunityError> {
    if let Some(thread) = comment.thread_id {
        comments::add_counts(conn, thread, 0, sign).await?;
    }
    posts::add_counts(conn, post.id, 0, sign).await?;
    if post.counted() {
        points::add(conn, PointDeltas::default().add(post.zone_id, comment.author_id, sign * comment.points, 0, sign)).await?;
    }
    Ok(())
}

/// Records the notification of a published `comment`: to the author of the comment it replies
/// to (`parent`), or of the post. Call it last in the transaction (step 7 of the lock order).
async fn notify_reply(
    conn: &mut AsyncPgConnection,
    comment: &Comment,
    parent: Option<Uuid>,
    post: &Post,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<crate::store::notifications::NotificationRow>, CommunityError> {
    let (recipient, subject) = match parent {
        Some(parent) => {
            let parent = comments::find_many(conn, &[parent]).await?.pop().ok_or(CommunityError::NotFound("Comment"))?;
            (parent.author_id, Subject::Comment(parent.id))
        }
        None => (post.author_id, Subject::Post(post.id)),
    };
    notifications::record(conn, recipient, comment.author_id, Event::Replied { subject, reply: comment.id }, now).await
}

/// `NOT_FOUND` unless the zone exists (zones are never deleted, so no lock is needed).
async fn zone_exists(conn: &mut AsyncPgConnection, zone: Uuid) -> Result<(), CommunityError> {
    if zones::find_many(conn, &[zone]).await?.is_empty() { Err(CommunityError::NotFound("Zone")) } else { Ok(()) }
}

/// Locks the comments a reply needs (the parent, the quoted one, the thread's top-level
/// comment) in ascending id and checks them: the parent is live and on `post`, the quote is
/// live and in the same thread. Returns the thread.
async fn lock_thread(
    conn: &mut AsyncPgConnection,
    author: &AuthUser,
    post: Uuid,
    parent_id: Uuid,
    quote: Option<Uuid>,
) -> Result<Uuid, CommunityError> {
    let parent = comments::find_many(conn, &[parent_id]).await?.pop().ok_or(CommunityError::NotFound("Comment"))?;
    let mut ids = vec![parent.id, parent.thread()];
    ids.extend(quote);
    let locked = comments::lock_many(conn, &ids).await?;
    let live = |id: Uuid| locked.iter().find(|c| c.id == id && c.counted());
    let parent = live(parent_id).ok_or(CommunityError::NotFound("Comment"))?;
    require_visible(conn, author, parent.author_id, true, "Comment").await?;
    if parent.post_id != post {
        return Err(CommunityError::invalid("`replyTo` is a comment of another post."));
    }
    let thread = parent.thread();
    if let Some(quote) = quote {
        let quoted = live(quote).ok_or(CommunityError::NotFound("Comment"))?;
        require_visible(conn, author, quoted.author_id, true, "Comment").await?;
        if quoted.thread() != thread {
            return Err(CommunityError::invalid("A quote reply quotes a comment of the same thread."));
        }
    }
    Ok(thread)
}

/// A unique violation of the zone name is `CONFLICT`; anything else is internal.
fn name_taken(error: DieselError) -> CommunityError {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            CommunityError::Conflict("A zone with this name exists.".into())
        }
        other => other.into(),
    }
}
