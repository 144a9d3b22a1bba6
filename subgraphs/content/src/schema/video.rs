//! `Video` (entity), `video(id)`, `videos` (newest first), `regions`.

use super::{RegionLoader, User, VideoLoader, parse_id, user::load_user};
use crate::domain::ContentError;
use crate::domain::video::{FeedCursor, page_size};
use crate::store::{regions, users, videos};
use std::collections::HashMap;
use async_graphql::connection::{Connection, Edge};
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use platform::db::Db;
use platform::error::CodedResultExt;

/// A published video. A feed page preloads the authors and regions of all its videos in one
/// statement each, so a page costs the same number of statements whatever the timing of the
/// dataloader's batching window; a single video (or entity) loads them through the loaders.
pub struct Video {
    row: videos::Video,
    preloaded: Option<Preloaded>,
}

struct Preloaded {
    author: Option<users::User>,
    region: Option<regions::Region>,
}

impl Video {
    fn single(row: videos::Video) -> Video {
        Video { row, preloaded: None }
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

    /// When it was published.
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.row.published_at
    }

    /// The uploader.
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        match &self.preloaded {
            Some(preloaded) => Ok(preloaded.author.clone().map(User::public)),
            None => load_user(ctx, self.row.author_id).await,
        }
    }

    /// The region it is filed under.
    async fn region(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Region>> {
        if let Some(preloaded) = &self.preloaded {
            return Ok(preloaded.region.clone().map(Region));
        }
        let loader = ctx.data::<DataLoader<RegionLoader>>()?;
        Ok(loader.load_one(self.row.region_id).await.coded()?.map(Region))
    }
}

/// A video region (animation, music, gaming…).
pub struct Region(regions::Region);

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

/// Video queries and the `Video` entity resolver.
#[derive(Default)]
pub struct VideoQuery;

#[Object]
impl VideoQuery {
    /// A published video by id, or `null`.
    async fn video(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Video>> {
        let id = parse_id(&id).ok_or_else(|| ContentError::InvalidInput("`id` is not a video id.".into())).coded()?;
        load_video(ctx, id).await
    }

    /// Resolves `Video` references from other subgraphs; batched through the loader.
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
        let limit = page_size(first, 20).coded()?;
        let after = after.as_deref().map(FeedCursor::decode).transpose().coded()?;
        let db = ctx.data::<Db>()?;
        let mut conn = db.pool.get().await.map_err(ContentError::from).coded()?;
        let mut rows = videos::newest(&mut conn, region_id, after.map(|c| (c.published_at, c.id)), limit + 1)
            .await
            .map_err(ContentError::from)
            .coded()?;
        let has_next = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        let author_ids: Vec<uuid::Uuid> = rows.iter().map(|video| video.author_id).collect();
        let authors: HashMap<uuid::Uuid, users::User> = users::find_many(&mut conn, &author_ids)
            .await
            .map_err(ContentError::from)
            .coded()?
            .into_iter()
            .map(|user| (user.id, user))
            .collect();
        let all_regions: HashMap<i32, regions::Region> =
            regions::all(&mut conn).await.map_err(ContentError::from).coded()?.into_iter().map(|r| (r.id, r)).collect();
        let mut connection = Connection::new(after.is_some(), has_next);
        connection.edges.extend(rows.into_iter().filter_map(|video| {
            let cursor = FeedCursor { published_at: video.published_at?, id: video.id };
            let preloaded = Preloaded { author: authors.get(&video.author_id).cloned(), region: all_regions.get(&video.region_id).cloned() };
            Some(Edge::new(cursor.encode(), Video { row: video, preloaded: Some(preloaded) }))
        }));
        Ok(connection)
    }

    /// All regions.
    async fn regions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Region>> {
        let db = ctx.data::<Db>()?;
        let mut conn = db.pool.get().await.map_err(ContentError::from).coded()?;
        let rows = regions::all(&mut conn).await.map_err(ContentError::from).coded()?;
        Ok(rows.into_iter().map(Region).collect())
    }
}

pub(crate) async fn load_video(ctx: &Context<'_>, id: uuid::Uuid) -> async_graphql::Result<Option<Video>> {
    let loader = ctx.data::<DataLoader<VideoLoader>>()?;
    Ok(loader.load_one(id).await.coded()?.map(Video::single))
}
