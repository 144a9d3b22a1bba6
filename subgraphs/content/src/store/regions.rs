//! `content.regions`: the fixed list of video regions.

use super::schema::content::regions;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A region.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = regions, check_for_backend(diesel::pg::Pg))]
pub struct Region {
    /// Id.
    pub id: i32,
    /// URL-safe name.
    pub slug: String,
    /// Display name.
    pub name: String,
}

/// All regions, by id.
pub async fn all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Region>> {
    regions::table.order(regions::id).select(Region::as_select()).load(conn).await
}
