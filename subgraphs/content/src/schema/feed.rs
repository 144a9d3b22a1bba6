//! Reading the catalogue: `video(id)`, the `Video` entity resolver, feeds (newest, per region,
//! following, a user's videos, the viewer's own), search and `regions`.

use super::parse_id;
use super::video::{PageFields, Region, Video, load_video};
use crate::domain::ContentError;
use crate::domain::catalogue::Catalogue;
use crate::domain::regions::RegionCatalog;
use crate::domain::video::{FeedCursor, OffsetCursor, page_size, search_text};
use crate::store::search::{self, SearchOrder};
use crate::store::videos::{self, FeedPosition};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, Object};
use platform::auth::{SignedIn, viewer};
use platform::db::{Db, DbConn};
use platform::error::CodedResultExt;
use uuid::Uuid;

/// Default page size of feeds.
const DEFAULT_PAGE: i32 = 20;

/// Order of search results.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum VideoSearchSort {
    /// Best match first.
    #[default]
    Relevance,
    /// Newest first.
    Newest,
    /// Most viewed first.
    MostViewed,
}

impl From<VideoSearchSort> for SearchOrder {
    fn from(sort: VideoSearchSort) -> Self {
        match sort {
            VideoSearchSort::Relevance => SearchOrder::Relevance,
            VideoSearchSort::Newest => SearchOrder::Newest,
            VideoSearchSort::MostViewed => SearchOrder::MostViewed,
        }
    }
}

/// Video queries and the `Video` entity resolver.
#[derive(Default)]
pub struct VideoQuery;

#[Object]
impl VideoQuery {
    /// A video by id: published ones for everyone, drafts for their author and admins;
    /// `null` when there is none (or it was deleted).
    async fn video(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Video>> {
        let id = parse_id(&id).ok_or_else(|| ContentError::InvalidInput("`id` is not a video id.".into())).coded()?;
        if let Some(video) = load_video(ctx, id).await? {
            return Ok(Some(video));
        }
        let Ok(user) = viewer(ctx).require_user() else { return Ok(None) };
        let own = ctx.data::<Catalogue>()?.find_own(user, id).await.coded()?;
        Ok(own.map(Video::single))
    }

    /// Resolves `Video` references from other subgraphs (published videos only); batched
    /// through the loader and its Redis cache.
    #[graphql(entity)]
    async fn find_video_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Video>> {
        match parse_id(&id) {
            Some(id) => load_video(ctx, id).await,
            None => Ok(None),
        }
    }

    /// Published videos, newest first, optionally in one region. `first` is 1–100 (default 20).
    async fn videos(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        region_id: Option<i32>,
    ) -> async_graphql::Result<Connection<String, Video>> {
        if let Some(region_id) = region_id {
            ctx.data::<RegionCatalog>()?.require(region_id).await.coded()?;
        }
        newest_feed(ctx, first, after, async |conn, after, limit| videos::newest(conn, region_id, after, limit).await).await
    }

    /// Newest videos of the accounts the viewer follows (the follow graph is `community`'s;
    /// `content` keeps a projection of it, fed by its follow events).
    #[graphql(guard = "SignedIn")]
    async fn following_feed(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Video>> {
        let user = viewer(ctx).require_user().coded()?;
        newest_feed(ctx, first, after, async |conn, after, limit| videos::newest_followed(conn, user.id, after, limit).await).await
    }

    /// A user's published videos, newest first.
    async fn user_videos(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Video>> {
        let author = parse_id(&user_id).ok_or_else(|| ContentError::InvalidInput("`userId` is not a user id.".into())).coded()?;
        newest_feed(ctx, first, after, async |conn, after, limit| videos::newest_by_author(conn, author, after, limit).await).await
    }

    /// The viewer's own videos, drafts included, most recently changed first.
    #[graphql(guard = "SignedIn")]
    async fn my_videos(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Video>> {
        let user = viewer(ctx).require_user().coded()?;
        // Ordered by change time (drafts have no publication time); the cursor has the same shape.
        let position = |video: &videos::Video| Some((video.updated_at, video.id));
        keyset_feed(ctx, first, after, position, async |conn, after, limit| videos::own(conn, user.id, after, limit).await).await
    }

    /// Full-text search over published videos (titles, tags, descriptions; words, parts of
    /// words and CJK text), optionally in one region, by relevance unless `sort` says
    /// otherwise. Pages reach at most 1000 results deep.
    async fn search_videos(
        &self,
        ctx: &Context<'_>,
        query: String,
        region_id: Option<i32>,
        sort: Option<VideoSearchSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Video>> {
        let text = search_text(&query).coded()?;
        if let Some(region_id) = region_id {
            ctx.data::<RegionCatalog>()?.require(region_id).await.coded()?;
        }
        let limit = page_size(first, DEFAULT_PAGE).coded()?;
        let offset = after.as_deref().map(OffsetCursor::decode).transpose().coded()?.map_or(0, |cursor| cursor.0);
        let db = ctx.data::<Db>()?;
        let mut conn = db.pool.get().await.map_err(ContentError::from).coded()?;
        let rows = search::search(&mut conn, &text, region_id, sort.unwrap_or_default().into(), offset, limit + 1)
            .await
            .map_err(ContentError::from)
            .coded()?;
        let mut position = offset;
        page_connection(&mut conn, viewer(ctx).user_id(), PageFields::of_connection(ctx), rows, limit, offset > 0, |_| {
            position += 1;
            Some(OffsetCursor(position).encode())
        })
        .await
        .coded()
    }

    /// All regions.
    async fn regions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Region>> {
        let regions = ctx.data::<RegionCatalog>()?.all().await.coded()?;
        Ok(regions.iter().cloned().map(Region).collect())
    }
}

/// A newest-first feed page, positioned by publication time.
async fn newest_feed(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    load: impl AsyncFnOnce(&mut DbConn<'_>, Option<FeedPosition>, i64) -> diesel::QueryResult<Vec<videos::Video>>,
) -> async_graphql::Result<Connection<String, Video>> {
    let position = |video: &videos::Video| Some((video.published_at?, video.id));
    keyset_feed(ctx, first, after, position, load).await
}

/// A page of a keyset-paged list: `load` fetches `limit` rows strictly after the cursor's
/// position, and `position` gives each row's position for its cursor.
async fn keyset_feed(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    position: impl Fn(&videos::Video) -> Option<FeedPosition>,
    load: impl AsyncFnOnce(&mut DbConn<'_>, Option<FeedPosition>, i64) -> diesel::QueryResult<Vec<videos::Video>>,
) -> async_graphql::Result<Connection<String, Video>> {
    let limit = page_size(first, DEFAULT_PAGE).coded()?;
    let after = after.as_deref().map(FeedCursor::decode).transpose().coded()?;
    let db = ctx.data::<Db>()?;
    let mut conn = db.pool.get().await.map_err(ContentError::from).coded()?;
    let rows = load(&mut conn, after.map(|c| (c.published_at, c.id)), limit + 1).await.map_err(ContentError::from).coded()?;
    page_connection(&mut conn, viewer(ctx).user_id(), PageFields::of_connection(ctx), rows, limit, after.is_some(), |video| {
        position(video).map(|(published_at, id)| FeedCursor { published_at, id }.encode())
    })
    .await
    .coded()
}

/// A connection from `limit + 1` rows (the extra one only says there is a next page), with
/// the page preloaded.
async fn page_connection(
    conn: &mut DbConn<'_>,
    viewer_id: Option<Uuid>,
    fields: PageFields,
    mut rows: Vec<videos::Video>,
    limit: i64,
    has_previous: bool,
    mut cursor: impl FnMut(&videos::Video) -> Option<String>,
) -> Result<Connection<String, Video>, ContentError> {
    let has_next = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let cursors: Vec<Option<String>> = rows.iter().map(&mut cursor).collect();
    let videos = Video::page(conn, viewer_id, rows, fields).await?;
    let mut connection = Connection::new(has_previous, has_next);
    connection.edges.extend(videos.into_iter().zip(cursors).filter_map(|(video, cursor)| Some(Edge::new(cursor?, video))));
    Ok(connection)
}
