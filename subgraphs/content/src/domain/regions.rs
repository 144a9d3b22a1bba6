//! The region list, read once per process: regions only change with a migration (which
//! restarts the subgraphs), and every publish and every page of videos needs them.

use super::ContentError;
use crate::store::regions::{self, Region};
use platform::db::Db;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// The regions of this deployment.
#[derive(Clone)]
pub struct RegionCatalog {
    db: Db,
    regions: Arc<OnceCell<Vec<Region>>>,
}

impl RegionCatalog {
    /// Loads lazily from `db`.
    pub fn new(db: Db) -> RegionCatalog {
        RegionCatalog { db, regions: Arc::new(OnceCell::new()) }
    }

    /// All regions by id (one statement the first time, none after).
    pub async fn all(&self) -> Result<&[Region], ContentError> {
        let regions = self
            .regions
            .get_or_try_init(|| async {
                let mut conn = self.db.pool.get().await?;
                Ok::<_, ContentError>(regions::all(&mut conn).await?)
            })
            .await?;
        Ok(regions)
    }

    /// The region with this id.
    pub async fn find(&self, id: i32) -> Result<Option<Region>, ContentError> {
        Ok(self.all().await?.iter().find(|region| region.id == id).cloned())
    }

    /// The region with this id, or the error a client sees for an unknown one.
    pub async fn require(&self, id: i32) -> Result<Region, ContentError> {
        self.find(id).await?.ok_or_else(|| ContentError::InvalidInput(format!("There is no region {id}; see `regions`.")))
    }
}
