//! `ranking.hot_weights`: every version of the weights, the newest in force.

use super::schema::ranking::hot_weights;
use crate::domain::hot::HotWeights;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// One stored version.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = hot_weights, check_for_backend(diesel::pg::Pg))]
pub struct WeightsRow {
    /// Version.
    pub id: i64,
    /// Points per view.
    pub views: i32,
    /// Points per like.
    pub likes: i32,
    /// Points per coin.
    pub coins: i32,
    /// Points per favourite.
    pub favourites: i32,
    /// Points per share.
    pub shares: i32,
    /// Points per comment.
    pub comments: i32,
    /// Points per danmaku.
    pub danmaku: i32,
    /// Boost in percent.
    pub new_boost_percent: i32,
    /// Boost window.
    pub new_boost_hours: i32,
    /// The admin who set them (`None`: the shipped defaults).
    pub changed_by: Option<Uuid>,
    /// When.
    pub changed_at: DateTime<Utc>,
}

impl WeightsRow {
    /// The weights as the domain uses them.
    pub fn weights(&self) -> HotWeights {
        HotWeights {
            views: self.views.into(),
            likes: self.likes.into(),
            coins: self.coins.into(),
            favourites: self.favourites.into(),
            shares: self.shares.into(),
            comments: self.comments.into(),
            danmaku: self.danmaku.into(),
            new_boost_percent: self.new_boost_percent.into(),
            new_boost_hours: self.new_boost_hours.into(),
        }
    }
}

/// The weights in force.
pub async fn current(conn: &mut AsyncPgConnection) -> QueryResult<WeightsRow> {
    hot_weights::table.order(hot_weights::id.desc()).select(WeightsRow::as_select()).first(conn).await
}

/// One version by id.
pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<WeightsRow> {
    hot_weights::table.find(id).select(WeightsRow::as_select()).first(conn).await
}

/// The newest `limit` versions.
pub async fn history(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<WeightsRow>> {
    hot_weights::table.order(hot_weights::id.desc()).limit(limit).select(WeightsRow::as_select()).load(conn).await
}

/// Stores a new version (already checked) set by `changed_by`.
pub async fn insert(conn: &mut AsyncPgConnection, weights: &HotWeights, changed_by: Uuid) -> QueryResult<WeightsRow> {
    let small = |value: i64| i32::try_from(value).unwrap_or(i32::MAX);
    diesel::insert_into(hot_weights::table)
        .values((
            hot_weights::views.eq(small(weights.views)),
            hot_weights::likes.eq(small(weights.likes)),
            hot_weights::coins.eq(small(weights.coins)),
            hot_weights::favourites.eq(small(weights.favourites)),
            hot_weights::shares.eq(small(weights.shares)),
            hot_weights::comments.eq(small(weights.comments)),
            hot_weights::danmaku.eq(small(weights.danmaku)),
            hot_weights::new_boost_percent.eq(small(weights.new_boost_percent)),
            hot_weights::new_boost_hours.eq(small(weights.new_boost_hours)),
            hot_weights::changed_by.eq(Some(changed_by)),
        ))
        .returning(WeightsRow::as_returning())
        .get_result(conn)
        .await
}
