//! Dataloaders: any number of loads within one tick cost one SQL statement per loader.

use crate::domain::LiveError;
use crate::store::channels::{self, Channel};
use crate::store::rooms::{self, Room, Session};
use async_graphql::dataloader::Loader;
use platform::db::Db;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

fn internal(error: impl Into<LiveError>) -> Arc<LiveError> {
    Arc::new(error.into())
}

/// Rooms by owner (`User.room`).
pub struct RoomByOwnerLoader(pub Db);

impl Loader<Uuid> for RoomByOwnerLoader {
    type Value = Room;
    type Error = Arc<LiveError>;

    async fn load(&self, owners: &[Uuid]) -> Result<HashMap<Uuid, Room>, Self::Error> {
        let mut conn = self.0.pool.get().await.map_err(internal)?;
        let rows = rooms::find_by_owners(&mut conn, owners).await.map_err(internal)?;
        Ok(rows.into_iter().map(|room| (room.owner_id, room)).collect())
    }
}

/// Channels by id (`Room.channel`).
pub struct ChannelLoader(pub Db);

impl Loader<Uuid> for ChannelLoader {
    type Value = Channel;
    type Error = Arc<LiveError>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Channel>, Self::Error> {
        let mut conn = self.0.pool.get().await.map_err(internal)?;
        let rows = channels::find_many(&mut conn, ids).await.map_err(internal)?;
        Ok(rows.into_iter().map(|channel| (channel.id, channel)).collect())
    }
}

/// Sessions by id (`Room.currentSession`).
pub struct SessionLoader(pub Db);

impl Loader<Uuid> for SessionLoader {
    type Value = Session;
    type Error = Arc<LiveError>;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Session>, Self::Error> {
        let mut conn = self.0.pool.get().await.map_err(internal)?;
        let rows = rooms::find_sessions(&mut conn, ids).await.map_err(internal)?;
        Ok(rows.into_iter().map(|session| (session.id, session)).collect())
    }
}
