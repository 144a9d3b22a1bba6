//! Posts, comments and likes: `posts`, `post`, `postComments`, `postCommentReplies` and their
//! mutations. Entity-like fields of a page (zone, viewer's like) go through dataloaders; the
//! author and the video are references the router resolves in one batch.

use super::CodedResultExt;
use super::parse_id;
use super::user::User;
use super::zones::{ZoneLoader, ZoneObject};
use crate::domain::CommunityError;
use crate::domain::likes::Likes;
use crate::domain::paging::{decode_position, encode_position, page_size};
use crate::domain::posts::{NewCommentInput, Posts};
use crate::domain::rules::PostContent;
use crate::store::comments::Comment;
use crate::store::likes::Target;
use crate::store::posts::{Order, Post};
use async_graphql::connection::{Connection, ConnectionNameType, Edge, EmptyFields};
use async_graphql::dataloader::Loader;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use platform::auth::{AdminOnly, SignedIn, viewer};
use platform::batch::Batcher;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// The order of a list of posts or comments.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListOrder {
    /// Newest first.
    #[default]
    Newest,
    /// Hottest first: like score + 2 × comments (replies for comments).
    Hottest,
}

impl From<ListOrder> for Order {
    fn from(order: ListOrder) -> Self {
        match order {
            ListOrder::Newest => Order::Newest,
            ListOrder::Hottest => Order::Hottest,
        }
    }
}

/// Where an item is in review.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ReviewState {
    /// Visible, and counted in points.
    Published,
    /// Waiting for an admin (review-then-post, or flagged by the keyword filter).
    Pending,
    /// Refused, or taken down after publishing.
    Rejected,
}

impl ReviewState {
    pub(crate) fn stored(self) -> &'static str {
        match self {
            ReviewState::Published => crate::store::posts::PUBLISHED,
            ReviewState::Pending => crate::store::posts::PENDING,
            ReviewState::Rejected => crate::store::posts::REJECTED,
        }
    }

    pub(crate) fn of(stored: &str) -> ReviewState {
        match stored {
            crate::store::posts::PENDING => ReviewState::Pending,
            crate::store::posts::REJECTED => ReviewState::Rejected,
            _ => ReviewState::Published,
        }
    }
}

/// How a zone (or the site) publishes posts or comments.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ReviewMode {
    /// Visible at once, reviewed later (points granted at once, taken back if rejected).
    PostThenReview,
    /// Visible only after approval (points granted on approval).
    ReviewThenPost,
}

impl ReviewMode {
    fn stored(self) -> &'static str {
        match self {
            ReviewMode::PostThenReview => crate::domain::posts::POST_THEN_REVIEW,
            ReviewMode::ReviewThenPost => crate::domain::posts::REVIEW_THEN_POST,
        }
    }

    fn of(stored: &str) -> ReviewMode {
        if stored == crate::domain::posts::REVIEW_THEN_POST { ReviewMode::ReviewThenPost } else { ReviewMode::PostThenReview }
    }
}

/// The review modes in force.
#[derive(SimpleObject)]
pub struct ReviewModes {
    /// For posts.
    posts: ReviewMode,
    /// For comments.
    comments: ReviewMode,
}

/// A video of `content`, by reference.
#[derive(SimpleObject)]
#[graphql(name = "Video", unresolvable = "id")]
pub struct VideoRef {
    /// The video id.
    pub id: ID,
}

/// A post in a zone: text, images, a video, or a mix.
pub struct PostObject(pub Post);

#[Object(name = "Post")]
impl PostObject {
    /// Stable id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Its zone.
    async fn zone(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ZoneObject>> {
        Ok(ctx.data::<Batcher<Uuid, ZoneLoader>>()?.load_one(self.0.zone_id).await.coded()?.map(ZoneObject))
    }

    /// Its author.
    async fn author(&self) -> User {
        User { id: self.0.author_id }
    }

    /// Text (may be empty when it has images or a video).
    async fn body(&self) -> &str {
        &self.0.body
    }

    /// Image URLs.
    async fn image_urls(&self) -> &[String] {
        &self.0.image_urls
    }

    /// The video it shares.
    async fn video(&self) -> Option<VideoRef> {
        self.0.video_id.map(|id| VideoRef { id: ID(id.to_string()) })
    }

    /// Sum of its likes (a user's like counts 1, an admin's 5).
    async fn like_score(&self) -> i64 {
        self.0.like_score
    }

    /// Live comments and replies.
    async fn comment_count(&self) -> i64 {
        self.0.comment_count
    }

    /// When it was posted.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it was last edited.
    async fn edited_at(&self) -> Option<DateTime<Utc>> {
        self.0.edited_at
    }

    /// Where it is in review (only its author and admins see other states than `PUBLISHED`).
    async fn state(&self) -> ReviewState {
        ReviewState::of(&self.0.state)
    }

    /// When an admin pinned it as one of its zone's "today's hot" (`null`: not pinned).
    async fn pinned_at(&self) -> Option<DateTime<Utc>> {
        self.0.pinned_at
    }

    /// Whether the signed-in viewer likes it (`false` when anonymous).
    async fn liked_by_viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        liked(ctx, Target::Post(self.0.id)).await
    }
}

/// A comment on a post, or a reply in a comment's thread.
pub struct CommentObject(pub Comment);

#[Object(name = "PostComment")]
impl CommentObject {
    /// Stable id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The post's id.
    async fn post_id(&self) -> ID {
        ID(self.0.post_id.to_string())
    }

    /// The top-level comment of its thread (`null`: it is one).
    async fn thread_id(&self) -> Option<ID> {
        self.0.thread_id.map(|id| ID(id.to_string()))
    }

    /// The comment of the same thread it quotes.
    async fn quote_id(&self) -> Option<ID> {
        self.0.quote_id.map(|id| ID(id.to_string()))
    }

    /// Its author.
    async fn author(&self) -> User {
        User { id: self.0.author_id }
    }

    /// Text.
    async fn body(&self) -> &str {
        &self.0.body
    }

    /// Sum of its likes (a user's like counts 1, an admin's 5).
    async fn like_score(&self) -> i64 {
        self.0.like_score
    }

    /// Live replies in its thread (top-level comments).
    async fn reply_count(&self) -> i64 {
        self.0.reply_count
    }

    /// When it was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Where it is in review.
    async fn state(&self) -> ReviewState {
        ReviewState::of(&self.0.state)
    }

    /// Whether the signed-in viewer likes it (`false` when anonymous).
    async fn liked_by_viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        liked(ctx, Target::Comment(self.0.id)).await
    }
}

pub(crate) async fn liked(ctx: &Context<'_>, target: Target) -> async_graphql::Result<bool> {
    let Some(viewer_id) = viewer(ctx).user_id() else { return Ok(false) };
    Ok(ctx.data::<Batcher<(Uuid, Target), LikeLoader>>()?.load_one((viewer_id, target)).await.coded()?.is_some())
}

/// Whether (viewer, item) is a like, for posts, comments and dynamics: one statement per batch.
pub struct LikeLoader(pub Likes);

impl Loader<(Uuid, Target)> for LikeLoader {
    type Value = ();
    type Error = Arc<CommunityError>;

    async fn load(&self, keys: &[(Uuid, Target)]) -> Result<HashMap<(Uuid, Target), ()>, Self::Error> {
        Ok(self.0.liked(keys).await.map_err(Arc::new)?.into_iter().map(|key| (key, ())).collect())
    }
}

/// A page of a zone's (or the home) list: its edges, and the pinned posts that lead it.
pub type PostList = Connection<String, PostObject, PinnedPosts, EmptyFields, PostListName>;

/// Names [`PostList`] `PostListConnection` (the review lists are plain `PostConnection`s).
pub struct PostListName;

impl ConnectionNameType for PostListName {
    fn type_name<T: async_graphql::OutputType>() -> String {
        "PostListConnection".to_owned()
    }
}

/// What leads a zone's list.
#[derive(SimpleObject)]
pub struct PinnedPosts {
    /// The zone's pinned posts, most recently pinned first (first page of a zone's list only).
    pinned: Vec<PostObject>,
}

/// Post and comment queries.
#[derive(Default)]
pub struct PostQuery;

#[Object]
impl PostQuery {
    /// Posts in a review state, newest first (the review queue: `PENDING`; the published ones
    /// to review later; the rejected). Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn posts_for_review(
        &self,
        ctx: &Context<'_>,
        state: ReviewState,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, PostObject>> {
        posts_in_state(ctx, state, None, first, after).await
    }

    /// Comments in a review state, newest first. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn post_comments_for_review(
        &self,
        ctx: &Context<'_>,
        state: ReviewState,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, CommentObject>> {
        comments_in_state(ctx, state, None, first, after).await
    }

    /// The viewer's own posts in a review state (what waits for approval, what was rejected).
    #[graphql(guard = "SignedIn")]
    async fn my_posts(
        &self,
        ctx: &Context<'_>,
        state: ReviewState,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, PostObject>> {
        let user = viewer(ctx).require_user().coded()?;
        posts_in_state(ctx, state, Some(user.id), first, after).await
    }

    /// The viewer's own comments in a review state.
    #[graphql(guard = "SignedIn")]
    async fn my_post_comments(
        &self,
        ctx: &Context<'_>,
        state: ReviewState,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, CommentObject>> {
        let user = viewer(ctx).require_user().coded()?;
        comments_in_state(ctx, state, Some(user.id), first, after).await
    }

    /// Live posts of a zone (or of every zone: the home list). `first` is 1–100 (default 20).
    /// In a zone, its pinned posts ("today's hot", at most 4) lead the list; on the home list,
    /// the posts admins pinned there (at most 4). They are in `pinned` of the first page, and
    /// not among the edges.
    async fn posts(
        &self,
        ctx: &Context<'_>,
        zone_id: Option<ID>,
        #[graphql(default)] order: ListOrder,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PostList> {
        let zone = zone_id.as_ref().map(|id| parse_id(id, "zoneId")).transpose()?;
        let limit = page_size(first).coded()?;
        let after = decode_position(after.as_deref()).coded()?;
        let service = ctx.data::<Posts>()?;
        let show_hidden = sees_hidden(ctx);
        let rows = service.posts(zone, order.into(), after, limit + 1, show_hidden).await.coded()?;
        let pinned = match zone {
            _ if after.is_some() => Vec::new(),
            Some(zone) => service.pinned(zone, show_hidden).await.coded()?.into_iter().map(PostObject).collect(),
            None => service.home_pinned(show_hidden).await.coded()?.into_iter().map(PostObject).collect(),
        };
        let page = page(rows, limit, after.is_some(), |post| post_position(post, order), PostObject);
        let mut connection = PostList::with_additional_fields(page.has_previous_page, page.has_next_page, PinnedPosts { pinned });
        connection.edges = page.edges;
        Ok(connection)
    }

    /// A live post by id (`null` when there is none or it was deleted).
    async fn post(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<PostObject>> {
        let id = parse_id(&id, "id")?;
        Ok(ctx.data::<Posts>()?.post(id, sees_hidden(ctx)).await.coded()?.map(PostObject))
    }

    /// The live top-level comments of a post. `first` is 1–100 (default 20).
    async fn post_comments(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        #[graphql(default)] order: ListOrder,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, CommentObject>> {
        let post = parse_id(&post_id, "postId")?;
        comment_page(ctx, post, None, order, first, after).await
    }

    /// The live replies in a top-level comment's thread. `first` is 1–100 (default 20).
    async fn post_comment_replies(
        &self,
        ctx: &Context<'_>,
        comment_id: ID,
        #[graphql(default)] order: ListOrder,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, CommentObject>> {
        let thread = parse_id(&comment_id, "commentId")?;
        let posts = ctx.data::<Posts>()?;
        let root = posts.comment(thread).await.coded()?.ok_or(CommunityError::NotFound("Comment")).coded()?;
        comment_page(ctx, root.post_id, Some(root.id), order, first, after).await
    }
}

async fn posts_in_state(
    ctx: &Context<'_>,
    state: ReviewState,
    author: Option<Uuid>,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<Connection<String, PostObject>> {
    let limit = page_size(first).coded()?;
    let after = decode_position(after.as_deref()).coded()?;
    let rows = ctx.data::<Posts>()?.posts_in_state(state.stored(), author, after, limit + 1).await.coded()?;
    Ok(page(rows, limit, after.is_some(), |p| (p.created_at.timestamp_micros(), p.id), PostObject))
}

async fn comments_in_state(
    ctx: &Context<'_>,
    state: ReviewState,
    author: Option<Uuid>,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<Connection<String, CommentObject>> {
    let limit = page_size(first).coded()?;
    let after = decode_position(after.as_deref()).coded()?;
    let rows = ctx.data::<Posts>()?.comments_in_state(state.stored(), author, after, limit + 1).await.coded()?;
    Ok(page(rows, limit, after.is_some(), |c| (c.created_at.timestamp_micros(), c.id), CommentObject))
}

async fn comment_page(
    ctx: &Context<'_>,
    post: Uuid,
    thread: Option<Uuid>,
    order: ListOrder,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<Connection<String, CommentObject>> {
    let limit = page_size(first).coded()?;
    let after = decode_position(after.as_deref()).coded()?;
    let rows = ctx.data::<Posts>()?.comments(post, thread, order.into(), after, limit + 1, sees_hidden(ctx)).await.coded()?;
    Ok(page(rows, limit, after.is_some(), |comment| comment_position(comment, order), CommentObject))
}

/// Whether the viewer sees the content a ban hid: site admins only.
fn sees_hidden(ctx: &Context<'_>) -> bool {
    matches!(viewer(ctx), platform::auth::Viewer::User(user) if user.role == platform::auth::Role::Admin)
}

fn post_position(post: &Post, order: ListOrder) -> (i64, Uuid) {
    match order {
        ListOrder::Newest => (post.created_at.timestamp_micros(), post.id),
        ListOrder::Hottest => (post.hot_score(), post.id),
    }
}

fn comment_position(comment: &Comment, order: ListOrder) -> (i64, Uuid) {
    match order {
        ListOrder::Newest => (comment.created_at.timestamp_micros(), comment.id),
        ListOrder::Hottest => (comment.like_score + 2 * comment.reply_count, comment.id),
    }
}

/// A connection from `limit + 1` rows (the extra one only says there is a next page).
fn page<R, N: async_graphql::OutputType>(
    mut rows: Vec<R>,
    limit: i64,
    has_previous: bool,
    position: impl Fn(&R) -> (i64, Uuid),
    node: impl Fn(R) -> N,
) -> Connection<String, N> {
    let has_next = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let mut connection = Connection::new(has_previous, has_next);
    connection.edges.extend(rows.into_iter().map(|row| Edge::new(encode_position(position(&row)), node(row))));
    connection
}

/// A new post.
#[derive(InputObject)]
pub struct CreatePostInput {
    /// The zone.
    zone_id: ID,
    /// Text: at most 5000 characters (may be empty with images or a video).
    #[graphql(default)]
    body: String,
    /// Up to 9 image URLs (http/https).
    #[graphql(default)]
    image_urls: Vec<String>,
    /// A video of `content` to share.
    video_id: Option<ID>,
}

/// A post's new text and images.
#[derive(InputObject)]
pub struct EditPostInput {
    /// Text: at most 5000 characters.
    #[graphql(default)]
    body: String,
    /// Up to 9 image URLs.
    #[graphql(default)]
    image_urls: Vec<String>,
}

/// A new comment, reply or quote reply.
#[derive(InputObject)]
pub struct CreateCommentInput {
    /// The post.
    post_id: ID,
    /// The comment replied to (a reply joins that comment's thread).
    reply_to: Option<ID>,
    /// A comment of the same thread to quote (needs `replyTo`).
    quote: Option<ID>,
    /// 1–2000 characters.
    body: String,
}

/// A like or unlike: the item's score after it.
#[derive(SimpleObject)]
pub struct LikeResult {
    /// The item's like score now.
    like_score: i64,
    /// Whether the viewer likes it now.
    liked: bool,
}

/// Post, comment and like mutations.
#[derive(Default)]
pub struct PostMutation;

#[Object]
impl PostMutation {
    /// Posts in a zone: +10 points for the author there.
    #[graphql(guard = "SignedIn")]
    async fn create_post(&self, ctx: &Context<'_>, input: CreatePostInput) -> async_graphql::Result<PostObject> {
        let author = viewer(ctx).require_user().coded()?;
        let zone = parse_id(&input.zone_id, "zoneId")?;
        let video = input.video_id.as_ref().map(|id| parse_id(id, "videoId")).transpose()?;
        let content = PostContent::parse(&input.body, &input.image_urls, video).coded()?;
        Ok(PostObject(ctx.data::<Posts>()?.create_post(author, zone, content).await.coded()?))
    }

    /// Replaces a post's text and images. Its author only.
    #[graphql(guard = "SignedIn")]
    async fn edit_post(&self, ctx: &Context<'_>, id: ID, input: EditPostInput) -> async_graphql::Result<PostObject> {
        let editor = viewer(ctx).require_user().coded()?;
        let id = parse_id(&id, "id")?;
        Ok(PostObject(ctx.data::<Posts>()?.edit_post(editor, id, &input.body, &input.image_urls).await.coded()?))
    }

    /// Deletes a post: its author, or an admin giving a `reason`. Its points and its comments'
    /// points are deducted.
    #[graphql(guard = "SignedIn")]
    async fn delete_post(&self, ctx: &Context<'_>, id: ID, reason: Option<String>) -> async_graphql::Result<bool> {
        let actor = viewer(ctx).require_user().coded()?;
        let id = parse_id(&id, "id")?;
        ctx.data::<Posts>()?.delete_post(actor, id, reason.as_deref()).await.coded()?;
        Ok(true)
    }

    /// Moves a post to another zone, with its points and its comments' points. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn move_post(&self, ctx: &Context<'_>, id: ID, zone_id: ID) -> async_graphql::Result<PostObject> {
        let admin = viewer(ctx).require_admin().coded()?;
        let (id, zone) = (parse_id(&id, "id")?, parse_id(&zone_id, "zoneId")?);
        Ok(PostObject(ctx.data::<Posts>()?.move_post(admin, id, zone).await.coded()?))
    }

    /// Approves a post: a pending or rejected one is published and its points granted.
    /// An admin of the site or of the post's zone; logged.
    #[graphql(guard = "SignedIn")]
    async fn approve_post(&self, ctx: &Context<'_>, id: ID, reason: Option<String>) -> async_graphql::Result<PostObject> {
        let admin = viewer(ctx).require_user().coded()?;
        Ok(PostObject(ctx.data::<Posts>()?.review_post(admin, parse_id(&id, "id")?, true, reason.as_deref()).await.coded()?))
    }

    /// Rejects a post with a reason: a published one is taken down and its points (and its
    /// comments') taken back. An admin of the site or of the post's zone; logged.
    #[graphql(guard = "SignedIn")]
    async fn reject_post(&self, ctx: &Context<'_>, id: ID, reason: String) -> async_graphql::Result<PostObject> {
        let admin = viewer(ctx).require_user().coded()?;
        Ok(PostObject(ctx.data::<Posts>()?.review_post(admin, parse_id(&id, "id")?, false, Some(&reason)).await.coded()?))
    }

    /// Approves a comment (published, its point granted). An admin of the site or of the post's zone; logged.
    #[graphql(guard = "SignedIn")]
    async fn approve_post_comment(&self, ctx: &Context<'_>, id: ID, reason: Option<String>) -> async_graphql::Result<CommentObject> {
        let admin = viewer(ctx).require_user().coded()?;
        Ok(CommentObject(ctx.data::<Posts>()?.review_comment(admin, parse_id(&id, "id")?, true, reason.as_deref()).await.coded()?))
    }

    /// Rejects a comment with a reason (its point taken back). An admin of the site or of the post's zone; logged.
    #[graphql(guard = "SignedIn")]
    async fn reject_post_comment(&self, ctx: &Context<'_>, id: ID, reason: String) -> async_graphql::Result<CommentObject> {
        let admin = viewer(ctx).require_user().coded()?;
        Ok(CommentObject(ctx.data::<Posts>()?.review_comment(admin, parse_id(&id, "id")?, false, Some(&reason)).await.coded()?))
    }

    /// Sets how a zone (`zoneId`) or the whole site (no `zoneId`: the default of zones without
    /// their own) publishes posts and comments; a zone's omitted mode follows the site. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn set_review_modes(
        &self,
        ctx: &Context<'_>,
        zone_id: Option<ID>,
        posts: Option<ReviewMode>,
        comments: Option<ReviewMode>,
    ) -> async_graphql::Result<ReviewModes> {
        viewer(ctx).require_admin().coded()?;
        let zone = zone_id.as_ref().map(|id| parse_id(id, "zoneId")).transpose()?;
        let (p, c) =
            ctx.data::<Posts>()?.set_review_modes(zone, posts.map(ReviewMode::stored), comments.map(ReviewMode::stored)).await.coded()?;
        Ok(ReviewModes { posts: ReviewMode::of(&p), comments: ReviewMode::of(&c) })
    }

    /// Replaces the keyword filter's word lists: a text containing a `blocked` word is refused
    /// (`BAD_USER_INPUT`), one containing a `flagged` word waits for review. Case-insensitive;
    /// at most 1000 words each. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn set_moderation_words(&self, ctx: &Context<'_>, blocked: Vec<String>, flagged: Vec<String>) -> async_graphql::Result<bool> {
        viewer(ctx).require_admin().coded()?;
        ctx.data::<Posts>()?.set_words(&blocked, &flagged).await.coded()?;
        Ok(true)
    }

    /// Pins a post as one of its zone's "today's hot" (at most 4 per zone: `CONFLICT` past
    /// that). An admin of the site or of the zone; idempotent; logged.
    #[graphql(guard = "SignedIn")]
    async fn pin_post(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<PostObject> {
        let admin = viewer(ctx).require_user().coded()?;
        Ok(PostObject(ctx.data::<Posts>()?.set_pinned(admin, parse_id(&id, "id")?, true).await.coded()?))
    }

    /// Pins a post of any zone to lead the home list (`posts` without `zoneId`; at most 4:
    /// `CONFLICT` past that). Site admins only; idempotent; logged.
    #[graphql(guard = "AdminOnly")]
    async fn pin_home_post(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<PostObject> {
        let admin = viewer(ctx).require_admin().coded()?;
        Ok(PostObject(ctx.data::<Posts>()?.set_home_pinned(admin, parse_id(&id, "id")?, true).await.coded()?))
    }

    /// Unpins a post from the home list. Site admins only; idempotent; logged.
    #[graphql(guard = "AdminOnly")]
    async fn unpin_home_post(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<PostObject> {
        let admin = viewer(ctx).require_admin().coded()?;
        Ok(PostObject(ctx.data::<Posts>()?.set_home_pinned(admin, parse_id(&id, "id")?, false).await.coded()?))
    }

    /// Unpins a post. An admin of the site or of the zone; idempotent; logged.
    #[graphql(guard = "SignedIn")]
    async fn unpin_post(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<PostObject> {
        let admin = viewer(ctx).require_user().coded()?;
        Ok(PostObject(ctx.data::<Posts>()?.set_pinned(admin, parse_id(&id, "id")?, false).await.coded()?))
    }

    /// Comments on a post, replies to a comment, or quotes a comment of the same thread:
    /// +1 point for the author in the post's zone.
    #[graphql(guard = "SignedIn")]
    async fn create_post_comment(&self, ctx: &Context<'_>, input: CreateCommentInput) -> async_graphql::Result<CommentObject> {
        let author = viewer(ctx).require_user().coded()?;
        let input = NewCommentInput {
            post_id: parse_id(&input.post_id, "postId")?,
            reply_to: input.reply_to.as_ref().map(|id| parse_id(id, "replyTo")).transpose()?,
            quote: input.quote.as_ref().map(|id| parse_id(id, "quote")).transpose()?,
            body: input.body,
        };
        Ok(CommentObject(ctx.data::<Posts>()?.create_comment(author, input).await.coded()?))
    }

    /// Deletes a comment: its author, or an admin giving a `reason`. Its point is deducted.
    #[graphql(guard = "SignedIn")]
    async fn delete_post_comment(&self, ctx: &Context<'_>, id: ID, reason: Option<String>) -> async_graphql::Result<bool> {
        let actor = viewer(ctx).require_user().coded()?;
        let id = parse_id(&id, "id")?;
        ctx.data::<Posts>()?.delete_comment(actor, id, reason.as_deref()).await.coded()?;
        Ok(true)
    }

    /// Likes a post (+1, an admin +5; idempotent). Not one's own.
    #[graphql(guard = "SignedIn")]
    async fn like_post(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<LikeResult> {
        set_like(ctx, Target::Post(parse_id(&id, "id")?), true).await
    }

    /// Withdraws a like of a post (takes back exactly what it added; idempotent).
    #[graphql(guard = "SignedIn")]
    async fn unlike_post(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<LikeResult> {
        set_like(ctx, Target::Post(parse_id(&id, "id")?), false).await
    }

    /// Likes a comment or reply (+1, an admin +5; idempotent). Not one's own.
    #[graphql(guard = "SignedIn")]
    async fn like_post_comment(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<LikeResult> {
        set_like(ctx, Target::Comment(parse_id(&id, "id")?), true).await
    }

    /// Withdraws a like of a comment (takes back exactly what it added; idempotent).
    #[graphql(guard = "SignedIn")]
    async fn unlike_post_comment(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<LikeResult> {
        set_like(ctx, Target::Comment(parse_id(&id, "id")?), false).await
    }
}

async fn set_like(ctx: &Context<'_>, target: Target, like: bool) -> async_graphql::Result<LikeResult> {
    let liker = viewer(ctx).require_user().coded()?;
    let like_score = ctx.data::<Likes>()?.set_like(liker, target, like).await.coded()?;
    Ok(LikeResult { like_score, liked: like })
}
