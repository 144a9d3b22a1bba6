//! `ranking.viewer_authors`, `ranking.viewer_regions`, `ranking.viewer_watched`: what each
//! signed-in viewer engages with, and the candidates recommendations choose from.

use crate::domain::recommend::{Candidate, Taste};
use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel::sql_types::{Array, BigInt, Int4, Nullable, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::collections::HashSet;
use uuid::Uuid;

type SqlUuid = diesel::sql_types::Uuid;

/// Adds `points` (negative to take away; never below zero) to the viewer's taste for an author
/// and a region.
pub async fn add_points(
    conn: &mut AsyncPgConnection,
    viewer_id: Uuid,
    author_id: Uuid,
    region_id: i32,
    points: i64,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO ranking.viewer_authors AS a (viewer_id, author_id, points, updated_at) VALUES ($1, $2, greatest($3, 0), $4) \
         ON CONFLICT (viewer_id, author_id) DO UPDATE SET points = greatest(a.points + $3, 0), updated_at = $4",
    )
    .bind::<SqlUuid, _>(viewer_id)
    .bind::<SqlUuid, _>(author_id)
    .bind::<BigInt, _>(points)
    .bind::<Timestamptz, _>(at)
    .execute(conn)
    .await?;
    diesel::sql_query(
        "INSERT INTO ranking.viewer_regions AS r (viewer_id, region_id, points, updated_at) VALUES ($1, $2, greatest($3, 0), $4) \
         ON CONFLICT (viewer_id, region_id) DO UPDATE SET points = greatest(r.points + $3, 0), updated_at = $4",
    )
    .bind::<SqlUuid, _>(viewer_id)
    .bind::<Int4, _>(region_id)
    .bind::<BigInt, _>(points)
    .bind::<Timestamptz, _>(at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Records that the viewer watched a video.
pub async fn watched(conn: &mut AsyncPgConnection, viewer_id: Uuid, video_id: Uuid, at: DateTime<Utc>) -> QueryResult<()> {
    diesel::sql_query("INSERT INTO ranking.viewer_watched (viewer_id, video_id, watched_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind::<SqlUuid, _>(viewer_id)
        .bind::<SqlUuid, _>(video_id)
        .bind::<Timestamptz, _>(at)
        .execute(conn)
        .await
        .map(|_| ())
}

#[derive(diesel::QueryableByName)]
struct TasteRow {
    #[diesel(sql_type = Nullable<SqlUuid>)]
    author_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Int4>)]
    region_id: Option<i32>,
    #[diesel(sql_type = BigInt)]
    points: i64,
}

/// The viewer's taste: their 5 best authors and 3 best regions.
pub async fn taste(conn: &mut AsyncPgConnection, viewer_id: Uuid) -> QueryResult<Taste> {
    let rows: Vec<TasteRow> = diesel::sql_query(
        "(SELECT author_id, NULL::int4 AS region_id, points FROM ranking.viewer_authors WHERE viewer_id = $1 AND points > 0 \
            ORDER BY points DESC LIMIT 5) \
         UNION ALL \
         (SELECT NULL::uuid, region_id, points FROM ranking.viewer_regions WHERE viewer_id = $1 AND points > 0 \
            ORDER BY points DESC LIMIT 3)",
    )
    .bind::<SqlUuid, _>(viewer_id)
    .load(conn)
    .await?;
    let mut taste = Taste::default();
    for row in rows {
        match (row.author_id, row.region_id) {
            (Some(author), _) => {
                taste.authors.insert(author, row.points);
            }
            (None, Some(region)) => {
                taste.regions.insert(region, row.points);
            }
            (None, None) => {}
        }
    }
    Ok(taste)
}

/// Which of `video_ids` the viewer watched.
pub async fn watched_among(conn: &mut AsyncPgConnection, viewer_id: Uuid, video_ids: &[Uuid]) -> QueryResult<HashSet<Uuid>> {
    #[derive(diesel::QueryableByName)]
    struct Watched {
        #[diesel(sql_type = SqlUuid)]
        video_id: Uuid,
    }
    let rows: Vec<Watched> = diesel::sql_query("SELECT video_id FROM ranking.viewer_watched WHERE viewer_id = $1 AND video_id = ANY($2)")
        .bind::<SqlUuid, _>(viewer_id)
        .bind::<Array<SqlUuid>, _>(video_ids)
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|row| row.video_id).collect())
}

#[derive(diesel::QueryableByName)]
struct CandidateRow {
    #[diesel(sql_type = SqlUuid)]
    video_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    author_id: Uuid,
    #[diesel(sql_type = Int4)]
    region_id: i32,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    published_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Array<BigInt>)]
    totals: Vec<i64>,
}

/// Published candidates in one statement: `hot_ids` (from the hot ranking), the best `per_source`
/// videos of the taste's authors and of its regions (by likes and views), and the newest
/// `per_source` published since `fresh_since`. Each with its totals; the caller scores them.
pub async fn candidates(
    conn: &mut AsyncPgConnection,
    hot_ids: &[Uuid],
    taste: &Taste,
    fresh_since: DateTime<Utc>,
    per_source: i64,
) -> QueryResult<Vec<(Candidate, Vec<i64>)>> {
    let authors: Vec<Uuid> = taste.authors.keys().copied().collect();
    let regions: Vec<i32> = taste.regions.keys().copied().collect();
    let rows: Vec<CandidateRow> = diesel::sql_query(
        "WITH picked AS ( \
            SELECT video_id FROM ranking.videos WHERE state = 'published' AND video_id = ANY($1) \
            UNION (SELECT video_id FROM ranking.videos WHERE state = 'published' AND author_id = ANY($2) \
                   ORDER BY likes * 10 + views DESC LIMIT $5) \
            UNION (SELECT video_id FROM ranking.videos WHERE state = 'published' AND region_id = ANY($3) \
                   ORDER BY likes * 10 + views DESC LIMIT $5) \
            UNION (SELECT video_id FROM ranking.videos WHERE state = 'published' AND published_at >= $4 \
                   ORDER BY published_at DESC LIMIT $5)) \
         SELECT v.video_id, v.author_id, v.region_id, v.published_at, \
                ARRAY[v.views, v.likes, v.coins, v.favourites, v.shares, v.comments, v.danmaku] AS totals \
         FROM ranking.videos v JOIN picked USING (video_id)",
    )
    .bind::<Array<SqlUuid>, _>(hot_ids)
    .bind::<Array<SqlUuid>, _>(&authors)
    .bind::<Array<Int4>, _>(&regions)
    .bind::<Timestamptz, _>(fresh_since)
    .bind::<BigInt, _>(per_source)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let candidate = Candidate {
                video_id: row.video_id,
                author_id: row.author_id,
                region_id: row.region_id,
                published_at: row.published_at,
                hot: 0,
            };
            (candidate, row.totals)
        })
        .collect())
}
