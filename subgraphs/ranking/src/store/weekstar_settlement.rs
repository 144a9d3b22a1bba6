//! Settled week-star boards: the weekly freeze of the counters into ranked boards with each
//! winner's best supporter, done set-wise in a handful of statements inside one REPEATABLE READ
//! transaction (every statement reads the same snapshot of the counters), and the gifts that
//! arrived after it (recorded as late, never added to the frozen counters).

use super::weekstar::year_week;
use crate::domain::week::IsoWeek;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Int4, Int8, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// Advisory-lock class of "a week's counters": settlement holds it exclusively, counting a
/// gift holds it shared (the object is `iso_year * 100 + iso_week`).
const WEEK_LOCK_CLASS: i32 = 7_420_010;

fn week_lock_object(week: IsoWeek) -> i32 {
    let (year, week) = year_week(week);
    year * 100 + week
}

/// Takes `week`'s settlement lock for this session (exclusive; waits for every gift of that
/// week being counted right now to commit). Release it with [`unlock_week`]. Taken outside the
/// settlement's transaction so that its snapshot is taken after the wait, and sees those gifts.
pub async fn lock_week(conn: &mut AsyncPgConnection, week: IsoWeek) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_lock($1, $2)")
        .bind::<Int4, _>(WEEK_LOCK_CLASS)
        .bind::<Int4, _>(week_lock_object(week))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Releases [`lock_week`].
pub async fn unlock_week(conn: &mut AsyncPgConnection, week: IsoWeek) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_unlock($1, $2)")
        .bind::<Int4, _>(WEEK_LOCK_CLASS)
        .bind::<Int4, _>(week_lock_object(week))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Inside a gift's counting transaction: waits while `week` is being settled, and keeps it
/// from being settled until this transaction ends. So a gift is either in the settlement's
/// snapshot or sees the week settled (and is recorded as late), never neither.
pub async fn lock_week_for_counting(conn: &mut AsyncPgConnection, week: IsoWeek) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock_shared($1, $2)")
        .bind::<Int4, _>(WEEK_LOCK_CLASS)
        .bind::<Int4, _>(week_lock_object(week))
        .execute(conn)
        .await
        .map(|_| ())
}

/// A gift that arrived after its week was settled.
pub struct LateGift<'a> {
    /// The gift event.
    pub event_id: Uuid,
    /// Its board.
    pub key: &'a super::weekstar::BoardKey,
    /// Who received it.
    pub streamer_id: Uuid,
    /// Who sent it.
    pub sender_id: Uuid,
    /// How many.
    pub gift_count: i64,
    /// When it was sent.
    pub sent_at: DateTime<Utc>,
}

/// Records a late gift (once per event id); the settled counters are left as frozen.
pub async fn record_late(conn: &mut AsyncPgConnection, gift: &LateGift<'_>, now: DateTime<Utc>) -> QueryResult<()> {
    let (year, week) = year_week(gift.key.week);
    diesel::sql_query(
        "INSERT INTO ranking.weekstar_late_gifts \
           (event_id, iso_year, iso_week, channel_id, gift_id, streamer_id, sender_id, gift_count, sent_at, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind::<SqlUuid, _>(gift.event_id)
    .bind::<Int4, _>(year)
    .bind::<Int4, _>(week)
    .bind::<SqlUuid, _>(gift.key.channel_id)
    .bind::<Text, _>(&gift.key.gift_id)
    .bind::<SqlUuid, _>(gift.streamer_id)
    .bind::<SqlUuid, _>(gift.sender_id)
    .bind::<Int8, _>(gift.gift_count)
    .bind::<Timestamptz, _>(gift.sent_at)
    .bind::<Timestamptz, _>(now)
    .execute(conn)
    .await
    .map(|_| ())
}

#[derive(QueryableByName)]
struct Boards {
    #[diesel(sql_type = Int4)]
    boards: i32,
}

/// Settles `week` (which runs from `starts_at` to `ends_at`) inside the caller's transaction.
/// Returns the number of boards frozen, or `None` if the week was already settled.
///
/// The settlement row is the lease: its insert conflicts with any other run's, and a
/// concurrent run's insert waits for this transaction and then finds the row, so exactly one
/// run settles a week, and a run that failed half-way left nothing behind.
pub async fn settle(
    conn: &mut AsyncPgConnection,
    week: IsoWeek,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<Option<i32>> {
    let (year, week) = year_week(week);
    let won = diesel::sql_query(
        "INSERT INTO ranking.weekstar_settlements (iso_year, iso_week, settled_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind::<Int4, _>(year)
    .bind::<Int4, _>(week)
    .bind::<Timestamptz, _>(now)
    .execute(conn)
    .await?;
    if won == 0 {
        return Ok(None);
    }
    // One board per gift of each channel's set in force that week. Skipped: counting was off
    // (both switches) when the week started, or was switched off during it.
    diesel::sql_query(
        "WITH sets AS ( \
           SELECT DISTINCT ON (channel_id) channel_id, gift_ids FROM ranking.weekstar_gift_sets \
           WHERE (effective_year, effective_week) <= ($1, $2) \
           ORDER BY channel_id, effective_year DESC, effective_week DESC, id DESC \
         ), boards AS (SELECT channel_id, unnest(gift_ids) AS gift_id FROM sets) \
         INSERT INTO ranking.weekstar_settled_boards (iso_year, iso_week, channel_id, gift_id, skipped) \
         SELECT $1, $2, b.channel_id, b.gift_id, \
           COALESCE((SELECT NOT (v.web_visible OR v.app_visible) FROM ranking.weekstar_visibility_changes v \
                     WHERE v.channel_id = b.channel_id AND v.changed_at < $3 \
                     ORDER BY v.changed_at DESC, v.id DESC LIMIT 1), false) \
           OR EXISTS (SELECT 1 FROM ranking.weekstar_visibility_changes v \
                      WHERE v.channel_id = b.channel_id AND v.changed_at >= $3 AND v.changed_at < $4 \
                        AND NOT (v.web_visible OR v.app_visible)) \
         FROM boards b",
    )
    .bind::<Int4, _>(year)
    .bind::<Int4, _>(week)
    .bind::<Timestamptz, _>(starts_at)
    .bind::<Timestamptz, _>(ends_at)
    .execute(conn)
    .await?;
    // Ranked entries: count, then who reached it first; the last key matches the realtime
    // board's order for equal scores (Redis orders equal scores by member, descending here).
    diesel::sql_query(
        "INSERT INTO ranking.weekstar_settled_entries (iso_year, iso_week, channel_id, gift_id, rank, streamer_id, gift_count, reached_at) \
         SELECT c.iso_year, c.iso_week, c.channel_id, c.gift_id, \
           row_number() OVER (PARTITION BY c.channel_id, c.gift_id ORDER BY c.gift_count DESC, c.reached_at ASC, c.streamer_id DESC), \
           c.streamer_id, c.gift_count, c.reached_at \
         FROM ranking.weekstar_streamer_counts c \
         JOIN ranking.weekstar_settled_boards b \
           ON b.iso_year = c.iso_year AND b.iso_week = c.iso_week AND b.channel_id = c.channel_id AND b.gift_id = c.gift_id \
         WHERE c.iso_year = $1 AND c.iso_week = $2",
    )
    .bind::<Int4, _>(year)
    .bind::<Int4, _>(week)
    .execute(conn)
    .await?;
    // Best supporter of each winner: most gifts to the winner, then who reached that first.
    diesel::sql_query(
        "UPDATE ranking.weekstar_settled_boards b \
         SET best_supporter_id = s.sender_id, best_supporter_count = s.gift_count, best_supporter_reached_at = s.reached_at \
         FROM ( \
           SELECT DISTINCT ON (e.channel_id, e.gift_id) e.channel_id, e.gift_id, s.sender_id, s.gift_count, s.reached_at \
           FROM ranking.weekstar_settled_entries e \
           JOIN ranking.weekstar_supporter_counts s \
             ON s.iso_year = e.iso_year AND s.iso_week = e.iso_week AND s.channel_id = e.channel_id \
            AND s.gift_id = e.gift_id AND s.streamer_id = e.streamer_id \
           WHERE e.iso_year = $1 AND e.iso_week = $2 AND e.rank = 1 \
           ORDER BY e.channel_id, e.gift_id, s.gift_count DESC, s.reached_at ASC, s.sender_id \
         ) s \
         WHERE b.iso_year = $1 AND b.iso_week = $2 AND b.channel_id = s.channel_id AND b.gift_id = s.gift_id AND NOT b.skipped",
    )
    .bind::<Int4, _>(year)
    .bind::<Int4, _>(week)
    .execute(conn)
    .await?;
    let Boards { boards } = diesel::sql_query(
        "UPDATE ranking.weekstar_settlements SET boards = \
           (SELECT count(*)::int FROM ranking.weekstar_settled_boards WHERE iso_year = $1 AND iso_week = $2) \
         WHERE iso_year = $1 AND iso_week = $2 RETURNING boards",
    )
    .bind::<Int4, _>(year)
    .bind::<Int4, _>(week)
    .get_result(conn)
    .await?;
    Ok(Some(boards))
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = Int4)]
    #[expect(dead_code, reason = "only the row's presence matters")]
    one: i32,
}

/// Whether `week` is settled.
pub async fn is_settled(conn: &mut AsyncPgConnection, week: IsoWeek) -> QueryResult<bool> {
    let (year, week) = year_week(week);
    diesel::sql_query("SELECT 1 AS one FROM ranking.weekstar_settlements WHERE iso_year = $1 AND iso_week = $2")
        .bind::<Int4, _>(year)
        .bind::<Int4, _>(week)
        .get_result::<Found>(conn)
        .await
        .optional()
        .map(|found| found.is_some())
}

#[derive(QueryableByName)]
struct UnsettledWeek {
    #[diesel(sql_type = Int4)]
    iso_year: i32,
    #[diesel(sql_type = Int4)]
    iso_week: i32,
}

/// Weeks up to `last` with counted gifts that were never settled.
pub async fn unsettled_weeks_up_to(conn: &mut AsyncPgConnection, last: IsoWeek) -> QueryResult<Vec<IsoWeek>> {
    let (year, week) = year_week(last);
    let rows: Vec<UnsettledWeek> = diesel::sql_query(
        "SELECT DISTINCT c.iso_year, c.iso_week FROM ranking.weekstar_streamer_counts c \
         WHERE (c.iso_year, c.iso_week) <= ($1, $2) AND NOT EXISTS ( \
           SELECT 1 FROM ranking.weekstar_settlements s WHERE s.iso_year = c.iso_year AND s.iso_week = c.iso_week)",
    )
    .bind::<Int4, _>(year)
    .bind::<Int4, _>(week)
    .load(conn)
    .await?;
    Ok(rows.into_iter().filter_map(|row| IsoWeek::new(row.iso_year, u32::try_from(row.iso_week).ok()?).ok()).collect())
}

/// A settled board of a channel.
#[derive(Debug, Clone, QueryableByName)]
pub struct SettledBoardRow {
    /// The gift.
    #[diesel(sql_type = Text)]
    pub gift_id: String,
    /// No rewards that week.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub skipped: bool,
    /// Best supporter of the winner.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub best_supporter_id: Option<Uuid>,
    /// Their gifts to the winner.
    #[diesel(sql_type = Nullable<Int8>)]
    pub best_supporter_count: Option<i64>,
    /// When they reached that.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub best_supporter_reached_at: Option<DateTime<Utc>>,
    /// Gifts of this board counted after the settlement (not in its counters).
    #[diesel(sql_type = Int8)]
    pub late_gift_count: i64,
}

/// The settled boards of a channel in `week`, by gift id.
pub async fn boards(conn: &mut AsyncPgConnection, channel_id: Uuid, week: IsoWeek) -> QueryResult<Vec<SettledBoardRow>> {
    let (year, week) = year_week(week);
    diesel::sql_query(
        "SELECT b.gift_id, b.skipped, b.best_supporter_id, b.best_supporter_count, b.best_supporter_reached_at, \
           COALESCE((SELECT sum(l.gift_count) FROM ranking.weekstar_late_gifts l \
                     WHERE l.iso_year = b.iso_year AND l.iso_week = b.iso_week AND l.channel_id = b.channel_id AND l.gift_id = b.gift_id), 0)::int8 \
             AS late_gift_count \
         FROM ranking.weekstar_settled_boards b WHERE b.iso_year = $1 AND b.iso_week = $2 AND b.channel_id = $3 ORDER BY b.gift_id",
    )
    .bind::<Int4, _>(year)
    .bind::<Int4, _>(week)
    .bind::<SqlUuid, _>(channel_id)
    .load(conn)
    .await
}

/// One ranked entry of a settled board.
#[derive(Debug, Clone, QueryableByName)]
pub struct SettledEntryRow {
    /// The board's gift.
    #[diesel(sql_type = Text)]
    pub gift_id: String,
    /// 1-based.
    #[diesel(sql_type = Int4)]
    pub rank: i32,
    /// The streamer.
    #[diesel(sql_type = SqlUuid)]
    pub streamer_id: Uuid,
    /// Gifts received.
    #[diesel(sql_type = Int8)]
    pub gift_count: i64,
    /// When reached.
    #[diesel(sql_type = Timestamptz)]
    pub reached_at: DateTime<Utc>,
}

/// The first `limit` entries of each settled board of a channel in `week`, in rank order.
pub async fn entries(conn: &mut AsyncPgConnection, channel_id: Uuid, week: IsoWeek, limit: usize) -> QueryResult<Vec<SettledEntryRow>> {
    let (year, week) = year_week(week);
    diesel::sql_query(
        "SELECT gift_id, rank, streamer_id, gift_count, reached_at FROM ranking.weekstar_settled_entries \
         WHERE iso_year = $1 AND iso_week = $2 AND channel_id = $3 AND rank <= $4 ORDER BY gift_id, rank",
    )
    .bind::<Int4, _>(year)
    .bind::<Int4, _>(week)
    .bind::<SqlUuid, _>(channel_id)
    .bind::<Int4, _>(i32::try_from(limit).unwrap_or(i32::MAX))
    .load(conn)
    .await
}
