//! The recompute check (`communityAudit`, `vidgraph community-check`): every stored counter
//! against what the content tables say.

use super::CommunityError;
use crate::store::audit::{self, Difference};
use platform::db::Db;

/// Every counter that differs from its recomputed value (none when all agree).
pub async fn differences(db: &Db) -> Result<Vec<Difference>, CommunityError> {
    let mut conn = db.pool.get().await?;
    Ok(audit::differences(&mut conn).await?)
}
