//! Loaders, run by per-request `platform::batch::Batcher`s: the loads of one round of a
//! request's resolvers cost one SQL statement per loader (the
//! viewer-state loader: one per distinct viewer in the batch).

use crate::domain::ContentError;
use crate::store::interactions::{self, ViewerState};
use crate::store::stats::{self, VideoStat};
use crate::store::video_cache::VideoCache;
use crate::store::{users, videos};
use async_graphql::dataloader::Loader;
use platform::db::Db;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

fn internal(error: impl Into<ContentError>) -> Arc<ContentError> {
    Arc::new(error.into())
}

/// Accounts by id (shared: the videos of one author get the same row).
pub struct UserLoader(pub Db);

impl Loader<Uuid> for UserLoader {
    type Value = Arc<users::User>;
    type Error = Arc<ContentError>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let mut conn = self.0.pool.get().await.map_err(internal)?;
        let rows = users::find_many(&mut conn, ids).await.map_err(internal)?;
        Ok(rows.into_iter().map(|user| (user.id, Arc::new(user))).collect())
    }
}

/// Published videos by id: Redis first, the database for the misses (one statement), which
/// are then cached. Shared (`Arc`): each load of the batch gets its row without a copy.
pub struct VideoLoader {
    /// Database.
    pub db: Db,
    /// The video cache.
    pub cache: VideoCache,
}

impl Loader<Uuid> for VideoLoader {
    type Value = Arc<videos::Video>;
    type Error = Arc<ContentError>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        // A cache outage slows reads down; it does not fail them.
        let cached = self.cache.get_many(ids).await.unwrap_or_else(|error| {
            tracing::warn!(error = format!("{error:#}"), "video cache unavailable");
            Vec::new()
        });
        let mut found: HashMap<Uuid, Arc<videos::Video>> = cached.into_iter().map(|video| (video.id, Arc::new(video))).collect();
        let missing: Vec<Uuid> = ids.iter().copied().filter(|id| !found.contains_key(id)).collect();
        if !missing.is_empty() {
            let mut conn = self.db.pool.get().await.map_err(internal)?;
            let rows = videos::find_published(&mut conn, &missing).await.map_err(internal)?;
            if let Err(error) = self.cache.put_many(&rows).await {
                tracing::warn!(error = format!("{error:#}"), "could not fill the video cache");
            }
            found.extend(rows.into_iter().map(|video| (video.id, Arc::new(video))));
        }
        Ok(found)
    }
}

/// Counters by video id (never cached: they change with every interaction).
pub struct StatLoader(pub Db);

impl Loader<Uuid> for StatLoader {
    type Value = VideoStat;
    type Error = Arc<ContentError>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let mut conn = self.0.pool.get().await.map_err(internal)?;
        let rows = stats::find_many(&mut conn, ids).await.map_err(internal)?;
        Ok(rows.into_iter().map(|stat| (stat.video_id, stat)).collect())
    }
}

/// What a viewer did to a video, by (viewer id, video id).
pub struct ViewerStateLoader(pub Db);

impl Loader<(Uuid, Uuid)> for ViewerStateLoader {
    type Value = ViewerState;
    type Error = Arc<ContentError>;

    async fn load(&self, keys: &[(Uuid, Uuid)]) -> Result<HashMap<(Uuid, Uuid), Self::Value>, Self::Error> {
        let mut by_viewer: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for (viewer, video) in keys {
            by_viewer.entry(*viewer).or_default().push(*video);
        }
        let mut conn = self.0.pool.get().await.map_err(internal)?;
        let mut states = HashMap::with_capacity(keys.len());
        for (viewer, videos) in by_viewer {
            for state in interactions::viewer_states(&mut conn, viewer, &videos).await.map_err(internal)? {
                states.insert((viewer, state.video_id), state);
            }
        }
        Ok(states)
    }
}
