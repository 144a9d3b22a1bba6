//! `Comment`, `comments`, `commentReplies`, `postComment`, `deleteComment`, `likeComment`,
//! `unlikeComment`.

use super::video::{Video, load_video};
use super::{User, parse_id};
use crate::domain::ContentError;
use crate::domain::comment::{self, CommentBody, CommentCursor, CommentPage, CommentView, Comments, CursorKind, NewComment};
use crate::domain::video::page_size;
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use platform::auth::{SignedIn, viewer};
use platform::error::CodedResultExt;

/// A comment on a video: a root comment or a reply in its thread.
pub struct Comment(CommentView);

#[Object(name = "Comment")]
impl Comment {
    /// Stable id.
    async fn id(&self) -> ID {
        ID(self.0.comment.id.to_string())
    }

    /// Text.
    async fn body(&self) -> &str {
        &self.0.comment.body
    }

    /// Who wrote it.
    async fn author(&self) -> Option<User> {
        self.0.author.clone().map(User::public)
    }

    /// The video it is on.
    async fn video(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Video>> {
        load_video(ctx, self.0.comment.video_id).await
    }

    /// Likes.
    async fn like_count(&self) -> i64 {
        self.0.comment.like_count
    }

    /// Live replies (0 for a reply).
    async fn reply_count(&self) -> i64 {
        self.0.comment.reply_count
    }

    /// When it was posted.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.comment.created_at
    }

    /// The thread's root comment; `null` for a root.
    async fn root_id(&self) -> Option<ID> {
        self.0.comment.root_id.map(|id| ID(id.to_string()))
    }

    /// The comment this one answers; `null` for a root.
    async fn reply_to_id(&self) -> Option<ID> {
        self.0.comment.reply_to_id.map(|id| ID(id.to_string()))
    }

    /// Whether the viewer liked it (`false` when anonymous).
    async fn viewer_has_liked(&self) -> bool {
        self.0.viewer_has_liked
    }

    /// The first replies of a root comment, oldest first (empty for a reply); the rest
    /// through `commentReplies`.
    async fn reply_preview(&self) -> Vec<Comment> {
        self.0.reply_preview.iter().cloned().map(Comment).collect()
    }
}

/// How root comments are ordered.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum CommentOrder {
    /// Newest first.
    #[default]
    Newest,
    /// Most liked first.
    Hottest,
}

impl From<CommentOrder> for comment::CommentOrder {
    fn from(order: CommentOrder) -> Self {
        match order {
            CommentOrder::Newest => comment::CommentOrder::Newest,
            CommentOrder::Hottest => comment::CommentOrder::Hottest,
        }
    }
}

/// A comment to post.
#[derive(InputObject)]
pub struct PostCommentInput {
    /// The video (published).
    video_id: ID,
    /// 1–1000 characters after trimming.
    body: String,
    /// The comment answered, if this is a reply: a live comment of the same video.
    reply_to: Option<ID>,
}

impl TryFrom<PostCommentInput> for NewComment {
    type Error = ContentError;

    fn try_from(input: PostCommentInput) -> Result<Self, Self::Error> {
        Ok(NewComment {
            video_id: parse_id(&input.video_id).ok_or_else(|| ContentError::InvalidInput("`videoId` is not a video id.".into()))?,
            body: CommentBody::parse(&input.body)?,
            reply_to: input
                .reply_to
                .map(|id| parse_id(&id).ok_or_else(|| ContentError::InvalidInput("`replyTo` is not a comment id.".into())))
                .transpose()?,
        })
    }
}

/// The comment service of the schema.
fn comments<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Comments> {
    ctx.data::<Comments>()
}

fn comment_id(id: &ID, field: &str) -> async_graphql::Result<uuid::Uuid> {
    parse_id(id).ok_or_else(|| ContentError::InvalidInput(format!("`{field}` is not a comment id."))).coded()
}

fn connection(page: CommentPage, kind: CursorKind, has_previous: bool) -> Connection<String, Comment> {
    let mut connection = Connection::new(has_previous, page.has_next);
    connection.edges.extend(page.items.into_iter().map(|view| Edge::new(CommentCursor::of(kind, &view.comment).encode(), Comment(view))));
    connection
}

/// Comment lists.
#[derive(Default)]
pub struct CommentQuery;

#[Object]
impl CommentQuery {
    /// Root comments of a published video, each with its first replies. `first` is 1–100
    /// (default 20).
    async fn comments(
        &self,
        ctx: &Context<'_>,
        video_id: ID,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default_with = "Some(CommentOrder::Newest)")] order: Option<CommentOrder>,
    ) -> async_graphql::Result<Connection<String, Comment>> {
        // An explicit `null` means the default too.
        let order = order.unwrap_or_default();
        let video_id = parse_id(&video_id).ok_or_else(|| ContentError::InvalidInput("`videoId` is not a video id.".into())).coded()?;
        let limit = page_size(first, 20).coded()?;
        let kind = CursorKind::Roots(order.into());
        let after = after.as_deref().map(|cursor| CommentCursor::decode(cursor, kind)).transpose().coded()?;
        let page = comments(ctx)?.roots(video_id, order.into(), after, limit, viewer(ctx).user_id()).await.coded()?;
        Ok(connection(page, kind, after.is_some()))
    }

    /// Replies in a root comment's thread, oldest first. `first` is 1–100 (default 20).
    async fn comment_replies(
        &self,
        ctx: &Context<'_>,
        comment_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Comment>> {
        let root_id = self::comment_id(&comment_id, "commentId")?;
        let limit = page_size(first, 20).coded()?;
        let after = after.as_deref().map(|cursor| CommentCursor::decode(cursor, CursorKind::Replies)).transpose().coded()?;
        let page = comments(ctx)?.replies(root_id, after, limit, viewer(ctx).user_id()).await.coded()?;
        Ok(connection(page, CursorKind::Replies, after.is_some()))
    }
}

/// Writing, deleting and liking comments.
#[derive(Default)]
pub struct CommentMutation;

#[Object]
impl CommentMutation {
    /// Posts a comment, or a reply when `replyTo` is set.
    #[graphql(guard = "SignedIn")]
    async fn post_comment(&self, ctx: &Context<'_>, input: PostCommentInput) -> async_graphql::Result<Comment> {
        let user = viewer(ctx).require_user().coded()?;
        let new = NewComment::try_from(input).coded()?;
        comments(ctx)?.post(user, new).await.coded().map(Comment)
    }

    /// Deletes a comment (and, for a root, its replies): its author, the video's owner or an
    /// admin. `false` when it was already deleted.
    #[graphql(guard = "SignedIn")]
    async fn delete_comment(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        let user = viewer(ctx).require_user().coded()?;
        let id = comment_id(&id, "id")?;
        comments(ctx)?.delete(user, id).await.coded()
    }

    /// Likes a comment; liking it again changes nothing.
    #[graphql(guard = "SignedIn")]
    async fn like_comment(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Comment> {
        let user = viewer(ctx).require_user().coded()?;
        let id = comment_id(&id, "id")?;
        comments(ctx)?.like(user, id).await.coded().map(Comment)
    }

    /// Withdraws a like; withdrawing one that does not exist changes nothing.
    #[graphql(guard = "SignedIn")]
    async fn unlike_comment(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Comment> {
        let user = viewer(ctx).require_user().coded()?;
        let id = comment_id(&id, "id")?;
        comments(ctx)?.unlike(user, id).await.coded().map(Comment)
    }
}
