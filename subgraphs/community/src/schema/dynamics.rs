//! Streamer dynamics: `dynamics`, `followingDynamics`, `dynamicsSince`, `dynamic`,
//! `dynamicComments`, `pushSettings`, their mutations, and the `dynamicPublished` subscription.
//! The viewer's like goes through a dataloader; the author, the video and the room are
//! references the router resolves in one batch.

use super::CodedResultExt;
use super::parse_id;
use super::posts::{ReviewState, VideoRef};
use super::user::User;
use crate::domain::CommunityError;
use crate::domain::dynamics::Dynamics;
use crate::domain::likes::Likes;
use crate::domain::paging::{decode_position, encode_position, page_size};
use crate::store::dynamics::{self, Dynamic, DynamicComment, PushSettings};
use crate::store::likes::Target;
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use platform::auth::{AdminOnly, SignedIn, viewer};
use std::sync::Arc;
use uuid::Uuid;

/// What made a dynamic.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum DynamicKind {
    /// Written by the streamer (text, images).
    Post,
    /// The streamer went live.
    Live,
    /// The streamer published a video.
    Video,
}

/// A streamer's dynamic.
pub struct DynamicObject(pub Dynamic);

#[Object(name = "Dynamic")]
impl DynamicObject {
    /// Stable id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The streamer.
    async fn author(&self) -> User {
        User { id: self.0.author_id }
    }

    /// What made it.
    async fn kind(&self) -> DynamicKind {
        match self.0.kind.as_str() {
            dynamics::KIND_LIVE => DynamicKind::Live,
            dynamics::KIND_VIDEO => DynamicKind::Video,
            _ => DynamicKind::Post,
        }
    }

    /// Text (a live dynamic: the room's title; a video dynamic: empty, see `video`).
    async fn body(&self) -> &str {
        &self.0.body
    }

    /// Image URLs.
    async fn image_urls(&self) -> &[String] {
        &self.0.image_urls
    }

    /// The video published (video dynamics).
    async fn video(&self) -> Option<VideoRef> {
        self.0.video_id.map(|id| VideoRef { id: ID(id.to_string()) })
    }

    /// The id of the room that went live (live dynamics).
    async fn room_id(&self) -> Option<ID> {
        self.0.room_id.map(|id| ID(id.to_string()))
    }

    /// `false` while the keyword filter holds it back (only its author sees it then).
    async fn published(&self) -> bool {
        self.0.state == dynamics::PUBLISHED
    }

    /// Its review state: `PENDING` while the keyword filter holds it back, `REJECTED` after an
    /// admin refused it (only its author sees either).
    async fn state(&self) -> ReviewState {
        ReviewState::of(&self.0.state)
    }

    /// Sum of its likes (a user's like counts 1, an admin's 5).
    async fn like_score(&self) -> i64 {
        self.0.like_score
    }

    /// Live comments.
    async fn comment_count(&self) -> i64 {
        self.0.comment_count
    }

    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Whether the signed-in viewer likes it (`false` when anonymous).
    async fn liked_by_viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        super::posts::liked(ctx, Target::Dynamic(self.0.id)).await
    }
}

/// A comment on a dynamic.
pub struct DynamicCommentObject(pub DynamicComment);

#[Object(name = "DynamicComment")]
impl DynamicCommentObject {
    /// Stable id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The dynamic's id.
    async fn dynamic_id(&self) -> ID {
        ID(self.0.dynamic_id.to_string())
    }

    /// Its author.
    async fn author(&self) -> User {
        User { id: self.0.author_id }
    }

    /// Text.
    async fn body(&self) -> &str {
        &self.0.body
    }

    /// When it was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Whether dynamics are pushed, and how often clients poll when they are not.
pub struct PushSettingsObject(PushSettings);

#[Object(name = "PushSettings")]
impl PushSettingsObject {
    /// `true`: new dynamics arrive on `dynamicPublished`. `false`: nothing is pushed; poll
    /// `dynamicsSince` every `pollIntervalSecs`.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }

    /// Seconds between two polls of `dynamicsSince` while push is off.
    async fn poll_interval_secs(&self) -> i32 {
        self.0.poll_interval_secs
    }

    /// When an admin last changed it.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A poll of `dynamicsSince`.
#[derive(SimpleObject)]
pub struct DynamicsSince {
    /// The followed streamers' dynamics written after the cursor, oldest first.
    dynamics: Vec<DynamicObject>,
    /// The cursor of the next poll.
    cursor: String,
    /// Whether more are waiting already (poll again at once).
    has_more: bool,
}

/// A like or unlike of a dynamic: its score after it.
#[derive(SimpleObject)]
pub struct DynamicLikeResult {
    /// The dynamic's like score now.
    like_score: i64,
    /// Whether the viewer likes it now.
    liked: bool,
}

/// A connection from `limit + 1` newest-first rows (the extra one only says there is more).
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

fn newest(dynamic: &Dynamic) -> (i64, Uuid) {
    (dynamic.created_at.timestamp_micros(), dynamic.id)
}

/// Dynamic queries.
#[derive(Default)]
pub struct DynamicQuery;

#[Object]
impl DynamicQuery {
    /// A streamer's dynamics, newest first (their own pending ones too, when they ask). `first`
    /// is 1–100 (default 20).
    async fn dynamics(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, DynamicObject>> {
        let author = parse_id(&user_id, "userId")?;
        let limit = page_size(first).coded()?;
        let after = decode_position(after.as_deref()).coded()?;
        let rows = ctx.data::<Dynamics>()?.by_author(viewer(ctx).user_id(), author, after, limit + 1).await.coded()?;
        Ok(page(rows, limit, after.is_some(), newest, DynamicObject))
    }

    /// The dynamics of everyone the viewer follows, newest first. `first` is 1–100 (default 20).
    #[graphql(guard = "SignedIn")]
    async fn following_dynamics(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, DynamicObject>> {
        let user = viewer(ctx).require_user().coded()?;
        let limit = page_size(first).coded()?;
        let after = decode_position(after.as_deref()).coded()?;
        let rows = ctx.data::<Dynamics>()?.following(user.id, after, limit + 1).await.coded()?;
        Ok(page(rows, limit, after.is_some(), newest, DynamicObject))
    }

    /// Polling, for when push is off (`pushSettings`): the dynamics of everyone the viewer
    /// follows written after `cursor`, oldest first, and the cursor of the next poll. Without a
    /// cursor it starts now: call it once before reading `followingDynamics`, then poll with
    /// the cursor it returns; no dynamic is skipped, even one whose write commits late.
    /// `first` is 1–100 (default 20).
    #[graphql(guard = "SignedIn")]
    async fn dynamics_since(&self, ctx: &Context<'_>, cursor: Option<String>, first: Option<i32>) -> async_graphql::Result<DynamicsSince> {
        let user = viewer(ctx).require_user().coded()?;
        let limit = page_size(first).coded()?;
        let cursor = decode_position(cursor.as_deref()).coded()?;
        let (mut rows, next) = ctx.data::<Dynamics>()?.since(user.id, cursor, limit + 1).await.coded()?;
        let has_more = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        let next = rows.last().map_or(next, |last| (last.txid, last.id));
        Ok(DynamicsSince { dynamics: rows.into_iter().map(DynamicObject).collect(), cursor: encode_position(next), has_more })
    }

    /// A dynamic by id (`null` when there is none, it was deleted, or it is held back and not
    /// the viewer's).
    async fn dynamic(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<DynamicObject>> {
        let id = parse_id(&id, "id")?;
        Ok(ctx.data::<Dynamics>()?.dynamic(viewer(ctx).user_id(), id).await.coded()?.map(DynamicObject))
    }

    /// The live comments of a dynamic, newest first. `first` is 1–100 (default 20).
    async fn dynamic_comments(
        &self,
        ctx: &Context<'_>,
        dynamic_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, DynamicCommentObject>> {
        let id = parse_id(&dynamic_id, "dynamicId")?;
        let limit = page_size(first).coded()?;
        let after = decode_position(after.as_deref()).coded()?;
        let rows = ctx.data::<Dynamics>()?.comments(id, after, limit + 1).await.coded()?;
        Ok(page(rows, limit, after.is_some(), |c| (c.created_at.timestamp_micros(), c.id), DynamicCommentObject))
    }

    /// Dynamics in a review state, newest first (the review queue: `PENDING`, what the keyword
    /// filter flagged; the published; the rejected). Admin only. `first` is 1–100 (default 20).
    #[graphql(guard = "AdminOnly")]
    async fn dynamics_for_review(
        &self,
        ctx: &Context<'_>,
        state: ReviewState,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, DynamicObject>> {
        viewer(ctx).require_admin().coded()?;
        let limit = page_size(first).coded()?;
        let after = decode_position(after.as_deref()).coded()?;
        let rows = ctx.data::<Dynamics>()?.in_state(state.stored(), None, after, limit + 1).await.coded()?;
        Ok(page(rows, limit, after.is_some(), newest, DynamicObject))
    }

    /// Whether dynamics are pushed now, and the poll interval for when they are not.
    async fn push_settings(&self, ctx: &Context<'_>) -> async_graphql::Result<PushSettingsObject> {
        Ok(PushSettingsObject(ctx.data::<Dynamics>()?.push_settings().await.coded()?))
    }
}

/// Dynamic mutations.
#[derive(Default)]
pub struct DynamicMutation;

#[Object]
impl DynamicMutation {
    /// Approves a dynamic: a pending or rejected one is published (and pushed, when push is
    /// on). Admin only; logged.
    #[graphql(guard = "AdminOnly")]
    async fn approve_dynamic(&self, ctx: &Context<'_>, id: ID, reason: Option<String>) -> async_graphql::Result<DynamicObject> {
        let admin = viewer(ctx).require_admin().coded()?;
        Ok(DynamicObject(ctx.data::<Dynamics>()?.review(admin, parse_id(&id, "id")?, true, reason.as_deref()).await.coded()?))
    }

    /// Rejects a dynamic with a reason (1–200 characters): only its author sees it then.
    /// Admin only; logged.
    #[graphql(guard = "AdminOnly")]
    async fn reject_dynamic(&self, ctx: &Context<'_>, id: ID, reason: String) -> async_graphql::Result<DynamicObject> {
        let admin = viewer(ctx).require_admin().coded()?;
        Ok(DynamicObject(ctx.data::<Dynamics>()?.review(admin, parse_id(&id, "id")?, false, Some(&reason)).await.coded()?))
    }

    /// Posts a dynamic: text (at most 5,000 characters) and/or up to 9 http(s) image URLs.
    /// Followers connected to `dynamicPublished` receive it at once (unless push is off). A
    /// text the keyword filter flags is held back (`published: false`).
    #[graphql(guard = "SignedIn")]
    async fn create_dynamic(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] body: String,
        #[graphql(default)] image_urls: Vec<String>,
    ) -> async_graphql::Result<DynamicObject> {
        let user = viewer(ctx).require_user().coded()?;
        Ok(DynamicObject(ctx.data::<Dynamics>()?.create(user, &body, &image_urls).await.coded()?))
    }

    /// Deletes a dynamic: its author, or an admin with a reason.
    #[graphql(guard = "SignedIn")]
    async fn delete_dynamic(&self, ctx: &Context<'_>, id: ID, reason: Option<String>) -> async_graphql::Result<bool> {
        let user = viewer(ctx).require_user().coded()?;
        let id = parse_id(&id, "id")?;
        ctx.data::<Dynamics>()?.delete(user, id, reason.as_deref()).await.coded()?;
        Ok(true)
    }

    /// Likes a dynamic (+1, an admin +5, to it and its author's likes received). Idempotent.
    #[graphql(guard = "SignedIn")]
    async fn like_dynamic(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<DynamicLikeResult> {
        set_like(ctx, id, true).await
    }

    /// Takes a like back (exactly what it added). Idempotent.
    #[graphql(guard = "SignedIn")]
    async fn unlike_dynamic(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<DynamicLikeResult> {
        set_like(ctx, id, false).await
    }

    /// Comments on a dynamic (1–2,000 characters).
    #[graphql(guard = "SignedIn")]
    async fn comment_dynamic(&self, ctx: &Context<'_>, dynamic_id: ID, body: String) -> async_graphql::Result<DynamicCommentObject> {
        let user = viewer(ctx).require_user().coded()?;
        let id = parse_id(&dynamic_id, "dynamicId")?;
        Ok(DynamicCommentObject(ctx.data::<Dynamics>()?.comment(user, id, &body).await.coded()?))
    }

    /// Deletes a comment on a dynamic: its author, the dynamic's author, or an admin (with a
    /// reason when it is someone else's).
    #[graphql(guard = "SignedIn")]
    async fn delete_dynamic_comment(&self, ctx: &Context<'_>, id: ID, reason: Option<String>) -> async_graphql::Result<bool> {
        let user = viewer(ctx).require_user().coded()?;
        let id = parse_id(&id, "id")?;
        ctx.data::<Dynamics>()?.delete_comment(user, id, reason.as_deref()).await.coded()?;
        Ok(true)
    }

    /// Turns the push of dynamics on or off (off under overload: clients then poll
    /// `dynamicsSince` every `pollIntervalSecs`, 5–3,600). Admins.
    #[graphql(guard = "AdminOnly")]
    async fn set_push_enabled(
        &self,
        ctx: &Context<'_>,
        enabled: bool,
        poll_interval_secs: i32,
    ) -> async_graphql::Result<PushSettingsObject> {
        let admin = viewer(ctx).require_user().coded()?;
        Ok(PushSettingsObject(ctx.data::<Dynamics>()?.set_push_settings(admin, enabled, poll_interval_secs).await.coded()?))
    }
}

async fn set_like(ctx: &Context<'_>, id: ID, like: bool) -> async_graphql::Result<DynamicLikeResult> {
    let user = viewer(ctx).require_user().coded()?;
    let id = parse_id(&id, "id")?;
    let like_score = ctx.data::<Likes>()?.set_like(user, Target::Dynamic(id), like).await.coded()?;
    Ok(DynamicLikeResult { like_score, liked: like })
}

/// Dynamic subscriptions.
#[derive(Default)]
pub struct DynamicSubscription;

#[Subscription]
impl DynamicSubscription {
    /// Every new dynamic of the streamers the viewer follows, from now on, whichever replica
    /// it was written on and whichever holds this connection (nothing while push is off).
    #[graphql(guard = "SignedIn")]
    async fn dynamic_published(&self, ctx: &Context<'_>) -> async_graphql::Result<impl Stream<Item = DynamicObject> + use<>> {
        let user = viewer(ctx).require_user().coded()?;
        let feed = ctx.data::<Dynamics>()?.push().connect(user.id).await.map_err(CommunityError::internal).coded()?;
        Ok(feed.map(|dynamic| DynamicObject(Arc::unwrap_or_clone(dynamic))))
    }
}
