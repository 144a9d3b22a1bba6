//! The `Video` entity and its parts: `Region`, `VideoStat`, `VideoViewerState`.
//!
//! A page of videos (feeds, search, a user's videos) preloads what its items show in one
//! statement per kind for the whole page: authors, counters and, for a signed-in viewer, what
//! they did. So a page costs the same number of statements whatever its size, and whatever the
//! timing of the dataloaders' batching windows. A single video (or an entity fetched by the
//! router) resolves the same fields through the dataloaders instead.

use super::loaders::{StatLoader, VideoLoader, ViewerStateLoader};
use super::{User, user::load_user};
use crate::domain::ContentError;
use crate::domain::regions::RegionCatalog;
use crate::store::interactions::{self, ViewerState};
use crate::store::stats::{self, VideoStat};
use crate::store::{regions, users, videos};
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use platform::auth::viewer;
use platform::batch::Batcher;
use platform::db::DbConn;
use platform::error::CodedResultExt;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// A video.
pub struct Video {
    /// Shared with the batch that loaded it: a page of entities does not copy each row.
    row: Arc<videos::Video>,
    page: Option<Arc<PagePreload>>,
    /// Counters known from the action that produced this value (interactions return them).
    fresh_stat: Option<VideoStat>,
}

/// What a page of videos loaded for all its items at once; `None` for a part the query does
/// not show (its resolver would then use the loaders).
#[derive(Default)]
pub(crate) struct PagePreload {
    authors: Option<HashMap<Uuid, Arc<users::User>>>,
    stats: Option<HashMap<Uuid, VideoStat>>,
    /// Also `None` for an anonymous viewer.
    viewer_states: Option<HashMap<Uuid, ViewerState>>,
}

/// Which of the preloadable parts a page's query shows (`author`, `stat`, `viewerState` on
/// its videos): a page reads only those, so a signed-in feed that shows no `viewerState` does
/// not read the viewer's interactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageFields {
    author: bool,
    stat: bool,
    viewer_state: bool,
}

impl PageFields {
    /// The parts selected on the videos of the connection being resolved (`edges { node }` or
    /// `nodes`).
    pub(crate) fn of_connection(ctx: &Context<'_>) -> PageFields {
        let connection = ctx.look_ahead();
        let edge_node = connection.field("edges").field("node");
        let node = connection.field("nodes");
        let shows = |field: &str| edge_node.field(field).exists() || node.field(field).exists();
        PageFields { author: shows("author"), stat: shows("stat"), viewer_state: shows("viewerState") }
    }
}

impl Video {
    /// A video resolved on its own (through the loaders).
    pub(crate) fn single(row: impl Into<Arc<videos::Video>>) -> Video {
        Video { row: row.into(), page: None, fresh_stat: None }
    }

    /// A video with the counters an action just committed.
    pub(crate) fn with_stat(row: videos::Video, stat: VideoStat) -> Video {
        Video { row: Arc::new(row), page: None, fresh_stat: Some(stat) }
    }

    /// Turns a page of rows into videos, preloading what `fields` shows of them (authors,
    /// counters, the viewer's state) with one statement each.
    pub(crate) async fn page(
        conn: &mut DbConn<'_>,
        viewer_id: Option<Uuid>,
        rows: Vec<videos::Video>,
        fields: PageFields,
    ) -> Result<Vec<Video>, ContentError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = rows.iter().map(|video| video.id).collect();
        let authors = if fields.author {
            let mut author_ids: Vec<Uuid> = rows.iter().map(|video| video.author_id).collect();
            author_ids.sort_unstable();
            author_ids.dedup();
            Some(users::find_many(conn, &author_ids).await?.into_iter().map(|user| (user.id, Arc::new(user))).collect())
        } else {
            None
        };
        let stats = match fields.stat {
            true => Some(stats::find_many(conn, &ids).await?.into_iter().map(|stat| (stat.video_id, stat)).collect()),
            false => None,
        };
        let viewer_states = match viewer_id.filter(|_| fields.viewer_state) {
            Some(viewer_id) => {
                Some(interactions::viewer_states(conn, viewer_id, &ids).await?.into_iter().map(|state| (state.video_id, state)).collect())
            }
            None => None,
        };
        let page = Arc::new(PagePreload { authors, stats, viewer_states });
        Ok(rows.into_iter().map(|row| Video { row: Arc::new(row), page: Some(page.clone()), fresh_stat: None }).collect())
    }
}

/// Where a video stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum VideoState {
    /// Only its author (and admins) see it.
    Draft,
    /// Public.
    Published,
    /// Deleted; nobody sees it.
    Removed,
}

impl VideoState {
    fn from_stored(state: &str) -> VideoState {
        match state {
            videos::STATE_DRAFT => VideoState::Draft,
            videos::STATE_PUBLISHED => VideoState::Published,
            _ => VideoState::Removed,
        }
    }
}

#[Object(name = "Video")]
impl Video {
    /// Stable id.
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }

    /// Title.
    async fn title(&self) -> &str {
        &self.row.title
    }

    /// Description.
    async fn description(&self) -> &str {
        &self.row.description
    }

    /// Cover image URL.
    async fn cover_url(&self) -> Option<&str> {
        self.row.cover_url.as_deref()
    }

    /// Length in seconds.
    async fn duration_secs(&self) -> i32 {
        self.row.duration_secs
    }

    /// Tags.
    async fn tags(&self) -> &[String] {
        &self.row.tags
    }

    /// Draft, published or removed.
    async fn state(&self) -> VideoState {
        VideoState::from_stored(&self.row.state)
    }

    /// When it was published (`null` for a draft).
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.row.published_at
    }

    /// Last change of its metadata.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }

    /// Media hosted elsewhere, when that is where it lives.
    async fn source_url(&self) -> Option<&str> {
        self.row.source_url.as_deref()
    }

    /// The `assets` file backing it, when that is where it lives.
    async fn asset_ref(&self) -> Option<&str> {
        self.row.asset_ref.as_deref()
    }

    /// The upload backing it, when it was uploaded here.
    async fn upload_id(&self) -> Option<ID> {
        self.row.upload_id.map(|id| ID(id.to_string()))
    }

    /// The uploader.
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        match self.page.as_ref().and_then(|page| page.authors.as_ref()) {
            Some(authors) => Ok(authors.get(&self.row.author_id).cloned().map(User::public)),
            None => load_user(ctx, self.row.author_id).await,
        }
    }

    /// The region it is filed under.
    async fn region(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Region>> {
        let regions = ctx.data::<RegionCatalog>()?;
        Ok(regions.find(self.row.region_id).await.coded()?.map(Region))
    }

    /// Views, likes, coins, favourites, shares, comments and danmaku.
    async fn stat(&self, ctx: &Context<'_>) -> async_graphql::Result<Stat> {
        let id = self.row.id;
        let preloaded = self.page.as_ref().and_then(|page| page.stats.as_ref());
        let stat = match (&self.fresh_stat, preloaded) {
            (Some(stat), _) => Some(*stat),
            (None, Some(stats)) => stats.get(&id).copied(),
            (None, None) => ctx.data::<Batcher<Uuid, StatLoader>>()?.load_one(id).await.coded()?,
        };
        Ok(Stat(stat.unwrap_or_else(|| VideoStat::zero(id))))
    }

    /// What the signed-in viewer already did to this video; `null` when anonymous.
    async fn viewer_state(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<VideoViewerState>> {
        let Some(viewer_id) = viewer(ctx).user_id() else { return Ok(None) };
        let id = self.row.id;
        let state = match self.page.as_ref().and_then(|page| page.viewer_states.as_ref()) {
            Some(states) => states.get(&id).copied(),
            None => ctx.data::<Batcher<(Uuid, Uuid), ViewerStateLoader>>()?.load_one((viewer_id, id)).await.coded()?,
        };
        Ok(Some(state.map_or_else(VideoViewerState::default, VideoViewerState::from)))
    }
}

/// The counters of a video.
pub struct Stat(VideoStat);

#[Object(name = "VideoStat")]
impl Stat {
    /// Counted views (one per viewer per 30 minutes).
    async fn views(&self) -> i64 {
        self.0.views
    }
    /// Likes.
    async fn likes(&self) -> i64 {
        self.0.likes
    }
    /// Coins given.
    async fn coins(&self) -> i64 {
        self.0.coins
    }
    /// Favourites.
    async fn favourites(&self) -> i64 {
        self.0.favourites
    }
    /// Shares.
    async fn shares(&self) -> i64 {
        self.0.shares
    }
    /// Comments and replies.
    async fn comments(&self) -> i64 {
        self.0.comments
    }
    /// VOD danmaku.
    async fn danmaku(&self) -> i64 {
        self.0.danmaku
    }
}

/// What the signed-in viewer did to a video.
#[derive(SimpleObject, Default)]
pub struct VideoViewerState {
    /// Liked it.
    liked: bool,
    /// Coins given (0–2).
    coins: i32,
    /// Favourited it.
    favourited: bool,
    /// Shared it.
    shared: bool,
    /// Watched it (a counted view).
    watched: bool,
}

impl From<ViewerState> for VideoViewerState {
    fn from(state: ViewerState) -> Self {
        VideoViewerState {
            liked: state.liked,
            coins: i32::from(state.coins),
            favourited: state.favourited,
            shared: state.shared,
            watched: state.watched,
        }
    }
}

/// A video region (animation, music, gaming…).
pub struct Region(pub(crate) regions::Region);

#[Object(name = "Region")]
impl Region {
    /// Id used in filters.
    async fn id(&self) -> i32 {
        self.0.id
    }

    /// URL-safe name.
    async fn slug(&self) -> &str {
        &self.0.slug
    }

    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
}

/// A published video by id through the loader (and its cache), or `None`.
pub(crate) async fn load_video(ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Option<Video>> {
    let loader = ctx.data::<Batcher<Uuid, VideoLoader>>()?;
    Ok(loader.load_one(id).await.coded()?.map(Video::single))
}
