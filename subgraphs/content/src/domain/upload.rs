//! Uploads backing videos (placeholder on `main` until the uploads branch lands: only `attach`).

use super::ContentError;
use crate::store::schema::content::uploads;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// Marks a complete upload of `owner_id` as backing a video, inside the caller's transaction.
pub async fn attach(conn: &mut AsyncPgConnection, upload_id: Uuid, owner_id: Uuid) -> Result<(), ContentError> {
    let state: Option<String> = uploads::table
        .find(upload_id)
        .filter(uploads::owner_id.eq(owner_id))
        .select(uploads::state)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    match state.as_deref() {
        None => Err(ContentError::NotFound("Upload")),
        Some("complete") => {
            diesel::update(uploads::table.find(upload_id)).set(uploads::state.eq("attached")).execute(conn).await?;
            Ok(())
        }
        Some("attached") => Err(ContentError::Conflict("This upload already backs a video.".into())),
        Some(_) => Err(ContentError::InvalidInput("The upload is not finished yet.".into())),
    }
}
