//! Dataloaders: any number of loads within one tick cost one SQL statement per loader.

use crate::domain::ContentError;
use crate::store::{regions, users, videos};
use async_graphql::dataloader::Loader;
use platform::db::Db;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// Accounts by id.
pub struct UserLoader(pub Db);

impl Loader<Uuid> for UserLoader {
    type Value = users::User;
    type Error = Arc<ContentError>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let mut conn = self.0.pool.get().await.map_err(|e| Arc::new(e.into()))?;
        let rows = users::find_many(&mut conn, ids).await.map_err(|e| Arc::new(e.into()))?;
        Ok(rows.into_iter().map(|user| (user.id, user)).collect())
    }
}

/// Published videos by id.
pub struct VideoLoader(pub Db);

impl Loader<Uuid> for VideoLoader {
    type Value = videos::Video;
    type Error = Arc<ContentError>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let mut conn = self.0.pool.get().await.map_err(|e| Arc::new(e.into()))?;
        let rows = videos::find_published(&mut conn, ids).await.map_err(|e| Arc::new(e.into()))?;
        Ok(rows.into_iter().map(|video| (video.id, video)).collect())
    }
}

/// Regions by id (all of them in one statement: there are a handful).
pub struct RegionLoader(pub Db);

impl Loader<i32> for RegionLoader {
    type Value = regions::Region;
    type Error = Arc<ContentError>;

    async fn load(&self, ids: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        let mut conn = self.0.pool.get().await.map_err(|e| Arc::new(e.into()))?;
        let rows = regions::all(&mut conn).await.map_err(|e| Arc::new(e.into()))?;
        Ok(rows.into_iter().filter(|region| ids.contains(&region.id)).map(|region| (region.id, region)).collect())
    }
}
