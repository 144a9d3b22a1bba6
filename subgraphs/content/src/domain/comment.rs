//! Comments on videos: two-level threads (a root and its replies), likes, soft deletion.
//!
//! Every change that alters how many live comments a video has updates `video_stats` and
//! records its stat event in the same transaction. Row locks are always taken in the order
//! thread root → reply → `video_stats`, so concurrent posts, deletions and likes never deadlock.

use super::ContentError;
use crate::events::CatalogueEvents;
use crate::store::comments::{self, Comment};
use crate::store::{users, videos};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use platform::auth::AuthUser;
use platform::db::Db;
use platform::events::{StatAction, StatCounts};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Longest comment, in characters.
pub const MAX_BODY_CHARS: usize = 1000;
/// Replies shown under each root comment in a page.
pub const REPLY_PREVIEW_LEN: i64 = 3;

/// A comment's text: trimmed, 1 to [`MAX_BODY_CHARS`] characters, line breaks and tabs allowed
/// but no other control characters (PostgreSQL cannot even store a NUL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentBody(String);

impl CommentBody {
    /// Checks the rule above.
    pub fn parse(raw: &str) -> Result<CommentBody, ContentError> {
        let body = raw.trim();
        let length = body.chars().count();
        if !(1..=MAX_BODY_CHARS).contains(&length) {
            return Err(ContentError::InvalidInput(format!("A comment has 1 to {MAX_BODY_CHARS} characters.")));
        }
        if body.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(ContentError::InvalidInput("A comment cannot contain control characters.".into()));
        }
        Ok(CommentBody(body.to_owned()))
    }
}

impl AsRef<str> for CommentBody {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A comment to post, parsed at the edge.
#[derive(Debug, Clone)]
pub struct NewComment {
    /// The video commented on.
    pub video_id: Uuid,
    /// The text.
    pub body: CommentBody,
    /// The comment answered, if this is a reply (a root or a reply of the same video).
    pub reply_to: Option<Uuid>,
}

/// How root comments are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentOrder {
    /// `(created_at DESC, id DESC)`.
    Newest,
    /// `(like_count DESC, id DESC)`.
    Hottest,
}

/// An opaque position in one of the comment orders. It carries the sort key of the last item
/// seen, so the next page is a keyset query, and the order it belongs to, so a cursor of one
/// order is refused by another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentCursor {
    /// Root comments, newest first.
    Newest {
        /// Creation time of the last item seen.
        created_at: DateTime<Utc>,
        /// Its id (breaks ties).
        id: Uuid,
    },
    /// Root comments, most liked first.
    Hottest {
        /// Like count of the last item seen.
        like_count: i64,
        /// Its id (breaks ties).
        id: Uuid,
    },
    /// Replies of one root, oldest first.
    Replies {
        /// Creation time of the last item seen.
        created_at: DateTime<Utc>,
        /// Its id (breaks ties).
        id: Uuid,
    },
}

/// Which kind of list a cursor is decoded for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorKind {
    /// Root comments in this order.
    Roots(CommentOrder),
    /// Replies of a root.
    Replies,
}

fn foreign_cursor() -> ContentError {
    ContentError::InvalidInput("The `after` cursor is not one this list returned.".into())
}

impl CommentCursor {
    /// The cursor of `comment` in a list of `kind`.
    pub fn of(kind: CursorKind, comment: &Comment) -> CommentCursor {
        match kind {
            CursorKind::Roots(CommentOrder::Newest) => CommentCursor::Newest { created_at: comment.created_at, id: comment.id },
            CursorKind::Roots(CommentOrder::Hottest) => CommentCursor::Hottest { like_count: comment.like_count, id: comment.id },
            CursorKind::Replies => CommentCursor::Replies { created_at: comment.created_at, id: comment.id },
        }
    }

    /// The opaque string form.
    pub fn encode(&self) -> String {
        let text = match self {
            CommentCursor::Newest { created_at, id } => format!("n|{}|{id}", created_at.timestamp_micros()),
            CommentCursor::Hottest { like_count, id } => format!("h|{like_count}|{id}"),
            CommentCursor::Replies { created_at, id } => format!("r|{}|{id}", created_at.timestamp_micros()),
        };
        URL_SAFE_NO_PAD.encode(text)
    }

    /// Parses what [`CommentCursor::encode`] produced for a list of `kind`.
    pub fn decode(cursor: &str, kind: CursorKind) -> Result<CommentCursor, ContentError> {
        let invalid = foreign_cursor;
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let mut parts = text.splitn(3, '|');
        let (Some(tag), Some(key), Some(id)) = (parts.next(), parts.next(), parts.next()) else { return Err(invalid()) };
        let id: Uuid = id.parse().map_err(|_| invalid())?;
        let time = |key: &str| key.parse::<i64>().ok().and_then(DateTime::from_timestamp_micros).ok_or_else(invalid);
        match (tag, kind) {
            ("n", CursorKind::Roots(CommentOrder::Newest)) => Ok(CommentCursor::Newest { created_at: time(key)?, id }),
            ("h", CursorKind::Roots(CommentOrder::Hottest)) => {
                Ok(CommentCursor::Hottest { like_count: key.parse().map_err(|_| invalid())?, id })
            }
            ("r", CursorKind::Replies) => Ok(CommentCursor::Replies { created_at: time(key)?, id }),
            _ => Err(invalid()),
        }
    }
}

/// A comment with what a page shows beside it, loaded for the whole page at once.
#[derive(Debug, Clone)]
pub struct CommentView {
    /// The stored comment.
    pub comment: Comment,
    /// Its author (`None` only if the account vanished).
    pub author: Option<users::User>,
    /// Whether the viewer liked it (`false` when anonymous).
    pub viewer_has_liked: bool,
    /// The first replies of a root comment, oldest first (empty for a reply).
    pub reply_preview: Vec<CommentView>,
}

/// One page of a comment list.
#[derive(Debug, Clone)]
pub struct CommentPage {
    /// The comments, in list order.
    pub items: Vec<CommentView>,
    /// Whether more follow.
    pub has_next: bool,
}

/// The comment service: the rules above over the database and the catalogue events.
pub struct Comments {
    db: Db,
    catalogue: CatalogueEvents,
}

impl Comments {
    /// Builds the service.
    pub fn new(db: Db, catalogue: CatalogueEvents) -> Comments {
        Comments { db, catalogue }
    }

    /// Posts a root comment or a reply on a published video, and counts it in the video's
    /// stats. A reply joins the thread of the comment it answers (threads are two levels deep)
    /// and increments the root's reply count.
    #[tracing::instrument(skip_all, fields(video.id = %new.video_id, user.id = %author.id))]
    pub async fn post(&self, author: AuthUser, new: NewComment) -> Result<CommentView, ContentError> {
        let catalogue = &self.catalogue;
        let mut conn = self.db.pool.get().await?;
        let comment = conn
            .transaction(async |conn| {
                let video = videos::find_one_published(conn, new.video_id).await?.ok_or(ContentError::NotFound("Video"))?;
                let (root_id, reply_to_id) = match new.reply_to {
                    None => (None, None),
                    Some(target_id) => {
                        let not_in_thread = || ContentError::InvalidInput("`replyTo` is not a comment of this video.".into());
                        let target = comments::find(conn, target_id).await?.ok_or_else(not_in_thread)?;
                        if target.video_id != video.id || target.deleted_at.is_some() {
                            return Err(not_in_thread());
                        }
                        let root_id = target.root_id.unwrap_or(target.id);
                        // Locks the root; fails if it was deleted meanwhile (its deletion hides
                        // the whole thread, so a reply must not slip in after it).
                        if !comments::add_replies_to_live(conn, root_id, 1).await? {
                            return Err(not_in_thread());
                        }
                        (Some(root_id), Some(target.id))
                    }
                };
                let row = comments::NewComment {
                    id: Uuid::now_v7(),
                    video_id: video.id,
                    author_id: author.id,
                    root_id,
                    reply_to_id,
                    body: new.body.as_ref(),
                };
                let comment = comments::insert(conn, &row).await?;
                let delta = StatCounts { comments: 1, ..Default::default() };
                catalogue.stat_changed(conn, &video, Some(author.id), StatAction::Comment, delta).await?;
                Ok::<_, ContentError>(comment)
            })
            .await?;
        self.catalogue.committed();
        self.view(&mut conn, comment, Some(author.id)).await
    }

    /// Soft-deletes a comment; deleting a root hides its replies too. Allowed for the author,
    /// the video's owner and admins. Returns `false` when it was already deleted.
    #[tracing::instrument(skip_all, fields(comment.id = %id, user.id = %actor.id))]
    pub async fn delete(&self, actor: AuthUser, id: Uuid) -> Result<bool, ContentError> {
        let catalogue = &self.catalogue;
        let mut conn = self.db.pool.get().await?;
        let deleted = conn
            .transaction(async |conn| {
                let comment = lock_in_thread_order(conn, id).await?.ok_or(ContentError::NotFound("Comment"))?;
                // A comment of a video that is no longer public is hidden with it.
                let video = videos::find_one_published(conn, comment.video_id).await?.ok_or(ContentError::NotFound("Comment"))?;
                if !actor.is_owner_or_admin(&[comment.author_id, video.author_id]) {
                    return Err(ContentError::Forbidden("Only the author, the video's owner or an admin can delete this comment."));
                }
                if comment.deleted_at.is_some() {
                    return Ok(false);
                }
                let hidden = comments::soft_delete_thread(conn, comment.id, Utc::now()).await?;
                if let Some(root_id) = comment.root_id {
                    comments::add_replies_to_live(conn, root_id, -1).await?;
                }
                let delta = StatCounts { comments: -i64::try_from(hidden).map_err(ContentError::internal)?, ..Default::default() };
                catalogue.stat_changed(conn, &video, Some(actor.id), StatAction::CommentDeleted, delta).await?;
                Ok::<_, ContentError>(true)
            })
            .await?;
        if deleted {
            self.catalogue.committed();
        }
        Ok(deleted)
    }

    /// Likes a live comment once per user: a second like changes nothing.
    #[tracing::instrument(skip_all, fields(comment.id = %id, user.id = %user.id))]
    pub async fn like(&self, user: AuthUser, id: Uuid) -> Result<CommentView, ContentError> {
        self.set_like(user, id, true).await
    }

    /// Withdraws a like; withdrawing one that does not exist changes nothing.
    #[tracing::instrument(skip_all, fields(comment.id = %id, user.id = %user.id))]
    pub async fn unlike(&self, user: AuthUser, id: Uuid) -> Result<CommentView, ContentError> {
        self.set_like(user, id, false).await
    }

    /// The like row and the counter change together, and the counter moves only when the row
    /// did: concurrent (un)likes of one user wait on the row's unique key, so `like_count`
    /// stays exactly the number of rows.
    async fn set_like(&self, user: AuthUser, id: Uuid, liked: bool) -> Result<CommentView, ContentError> {
        let mut conn = self.db.pool.get().await?;
        let comment = conn
            .transaction(async |conn| {
                let comment = visible_comment(conn, id).await?.ok_or(ContentError::NotFound("Comment"))?;
                let changed = if liked {
                    comments::insert_like(conn, comment.id, user.id).await?
                } else {
                    comments::delete_like(conn, comment.id, user.id).await?
                };
                if !changed {
                    return Ok::<_, ContentError>(comment);
                }
                let delta = if liked { 1 } else { -1 };
                Ok(comments::add_likes(conn, comment.id, delta).await?)
            })
            .await?;
        self.view(&mut conn, comment, Some(user.id)).await
    }

    /// A page of a published video's root comments in `order`, each with its author, the
    /// viewer's like and its first replies. Costs a fixed number of statements, whatever the
    /// page size.
    pub async fn roots(
        &self,
        video_id: Uuid,
        order: CommentOrder,
        after: Option<CommentCursor>,
        limit: i64,
        viewer: Option<Uuid>,
    ) -> Result<CommentPage, ContentError> {
        let mut conn = self.db.pool.get().await?;
        videos::find_one_published(&mut conn, video_id).await?.ok_or(ContentError::NotFound("Video"))?;
        let page = match (order, after) {
            (CommentOrder::Newest, None) => comments::RootsPage::Newest(None),
            (CommentOrder::Newest, Some(CommentCursor::Newest { created_at, id })) => comments::RootsPage::Newest(Some((created_at, id))),
            (CommentOrder::Hottest, None) => comments::RootsPage::Hottest(None),
            (CommentOrder::Hottest, Some(CommentCursor::Hottest { like_count, id })) => {
                comments::RootsPage::Hottest(Some((like_count, id)))
            }
            (_, Some(_)) => return Err(foreign_cursor()),
        };
        let rows = comments::roots(&mut conn, video_id, page, limit + 1).await?;
        self.page(&mut conn, rows, limit, viewer).await
    }

    /// A page of the live replies of a root comment, oldest first.
    pub async fn replies(
        &self,
        root_id: Uuid,
        after: Option<CommentCursor>,
        limit: i64,
        viewer: Option<Uuid>,
    ) -> Result<CommentPage, ContentError> {
        let mut conn = self.db.pool.get().await?;
        let root = visible_comment(&mut conn, root_id).await?.ok_or(ContentError::NotFound("Comment"))?;
        if root.root_id.is_some() {
            return Err(ContentError::InvalidInput("`commentId` is a reply; replies are listed under their root comment.".into()));
        }
        let after = match after {
            None => None,
            Some(CommentCursor::Replies { created_at, id }) => Some((created_at, id)),
            Some(_) => return Err(foreign_cursor()),
        };
        let rows = comments::replies(&mut conn, root.id, after, limit + 1).await?;
        self.page(&mut conn, rows, limit, viewer).await
    }

    async fn page(
        &self,
        conn: &mut AsyncPgConnection,
        mut rows: Vec<Comment>,
        limit: i64,
        viewer: Option<Uuid>,
    ) -> Result<CommentPage, ContentError> {
        let has_next = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(CommentPage { items: hydrate(conn, rows, viewer).await?, has_next })
    }

    async fn view(&self, conn: &mut AsyncPgConnection, comment: Comment, viewer: Option<Uuid>) -> Result<CommentView, ContentError> {
        hydrate(conn, vec![comment], viewer)
            .await?
            .pop()
            .ok_or_else(|| ContentError::internal(anyhow::anyhow!("hydrated comment vanished")))
    }
}

/// Loads what the comments show beside them in three statements whatever their number: the
/// reply previews of every root (one LATERAL query), the authors of all comments and previews,
/// and the viewer's likes among them.
async fn hydrate(conn: &mut AsyncPgConnection, rows: Vec<Comment>, viewer: Option<Uuid>) -> Result<Vec<CommentView>, ContentError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let root_ids: Vec<Uuid> = rows.iter().filter(|c| c.root_id.is_none()).map(|c| c.id).collect();
    let previews = if root_ids.is_empty() { Vec::new() } else { comments::first_replies(conn, &root_ids, REPLY_PREVIEW_LEN).await? };

    let all = || rows.iter().chain(previews.iter());
    let author_ids: Vec<Uuid> = all().map(|c| c.author_id).collect::<HashSet<_>>().into_iter().collect();
    let authors: HashMap<Uuid, users::User> = users::find_many(conn, &author_ids).await?.into_iter().map(|u| (u.id, u)).collect();
    let liked: HashSet<Uuid> = match viewer {
        Some(viewer) => {
            let ids: Vec<Uuid> = all().map(|c| c.id).collect();
            comments::liked_among(conn, viewer, &ids).await?.into_iter().collect()
        }
        None => HashSet::new(),
    };

    let view = |comment: Comment| CommentView {
        author: authors.get(&comment.author_id).cloned(),
        viewer_has_liked: liked.contains(&comment.id),
        reply_preview: Vec::new(),
        comment,
    };
    let mut previews_by_root: HashMap<Uuid, Vec<CommentView>> = HashMap::new();
    for reply in previews {
        if let Some(root_id) = reply.root_id {
            previews_by_root.entry(root_id).or_default().push(view(reply));
        }
    }
    Ok(rows
        .into_iter()
        .map(|comment| {
            let reply_preview = previews_by_root.remove(&comment.id).unwrap_or_default();
            CommentView { reply_preview, ..view(comment) }
        })
        .collect())
}

/// A live comment of a published video.
async fn visible_comment(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<Comment>, ContentError> {
    let Some(comment) = comments::find(conn, id).await?.filter(|c| c.deleted_at.is_none()) else { return Ok(None) };
    Ok(videos::find_one_published(conn, comment.video_id).await?.map(|_| comment))
}

/// Locks the thread root and then the comment itself (when it is a reply), the order every
/// writer uses, and returns the comment as locked.
async fn lock_in_thread_order(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<Comment>, ContentError> {
    let Some(unlocked) = comments::find(conn, id).await? else { return Ok(None) };
    let root = comments::lock(conn, unlocked.root_id.unwrap_or(unlocked.id)).await?;
    if unlocked.root_id.is_none() {
        return Ok(root);
    }
    Ok(comments::lock(conn, id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_trimmed_and_bounded() {
        assert_eq!(CommentBody::parse("  hello \n").expect("valid").as_ref(), "hello");
        assert!(CommentBody::parse("").is_err());
        assert!(CommentBody::parse(" \n\t ").is_err());
        assert!(CommentBody::parse(&"字".repeat(MAX_BODY_CHARS)).is_ok(), "the limit counts characters, not bytes");
        assert!(CommentBody::parse(&"a".repeat(MAX_BODY_CHARS + 1)).is_err());
        assert!(CommentBody::parse("line one\nline two").is_ok());
        assert!(CommentBody::parse("nul\0byte").is_err());
    }

    #[test]
    fn cursors_round_trip_within_their_own_list_only() {
        let id = Uuid::now_v7();
        let created_at = DateTime::from_timestamp_micros(1_700_000_000_123_456).expect("time");
        let newest = CommentCursor::Newest { created_at, id };
        let hottest = CommentCursor::Hottest { like_count: 42, id };
        let replies = CommentCursor::Replies { created_at, id };
        let roots_newest = CursorKind::Roots(CommentOrder::Newest);
        let roots_hottest = CursorKind::Roots(CommentOrder::Hottest);
        assert_eq!(CommentCursor::decode(&newest.encode(), roots_newest).expect("newest"), newest);
        assert_eq!(CommentCursor::decode(&hottest.encode(), roots_hottest).expect("hottest"), hottest);
        assert_eq!(CommentCursor::decode(&replies.encode(), CursorKind::Replies).expect("replies"), replies);
        assert!(CommentCursor::decode(&newest.encode(), roots_hottest).is_err());
        assert!(CommentCursor::decode(&hottest.encode(), CursorKind::Replies).is_err());
        assert!(CommentCursor::decode("garbage!", roots_newest).is_err());
        assert!(CommentCursor::decode(&URL_SAFE_NO_PAD.encode("h|many|nope"), roots_hottest).is_err());
        assert!(CommentCursor::decode(&URL_SAFE_NO_PAD.encode(format!("n|{}", i64::MAX)), roots_newest).is_err());
    }
}
