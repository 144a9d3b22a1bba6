//! Week-star settings and counters in Postgres: channel switches, the append-only histories of
//! gift sets and switches, the idempotency record of counted gift events, and the per-streamer
//! and per-supporter counters the boards are ranked from.

use super::schema::ranking::{weekstar_channels, weekstar_gift_sets, weekstar_visibility_changes};
use crate::domain::week::IsoWeek;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Int4, Int8, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// One board: (week, channel, gift).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BoardKey {
    /// The ISO week.
    pub week: IsoWeek,
    /// The channel.
    pub channel_id: Uuid,
    /// The gift.
    pub gift_id: String,
}

/// `(iso_year, iso_week)` as stored.
pub(crate) fn year_week(week: IsoWeek) -> (i32, i32) {
    // Weeks are 1..=53: the conversion cannot fail.
    (week.year(), i32::try_from(week.week()).unwrap_or(i32::MAX))
}

/// A channel's current switches.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = weekstar_channels, check_for_backend(diesel::pg::Pg))]
pub struct ChannelRow {
    /// The channel.
    pub channel_id: Uuid,
    /// Shown on the web.
    pub web_visible: bool,
    /// Shown in the app.
    pub app_visible: bool,
    /// Who changed them last.
    pub updated_by: Uuid,
    /// When.
    pub updated_at: DateTime<Utc>,
}

/// Creates the channel's row if missing (switches on) and locks it for the transaction, so
/// changes of one channel apply one after the other.
pub async fn lock_channel(conn: &mut AsyncPgConnection, channel_id: Uuid, by: Uuid, at: DateTime<Utc>) -> QueryResult<()> {
    diesel::insert_into(weekstar_channels::table)
        .values((
            weekstar_channels::channel_id.eq(channel_id),
            weekstar_channels::web_visible.eq(true),
            weekstar_channels::app_visible.eq(true),
            weekstar_channels::updated_by.eq(by),
            weekstar_channels::updated_at.eq(at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    weekstar_channels::table.find(channel_id).select(weekstar_channels::channel_id).for_update().get_result::<Uuid>(conn).await.map(|_| ())
}

/// The channel's switches, if it was ever configured or switched.
pub async fn channel(conn: &mut AsyncPgConnection, channel_id: Uuid) -> QueryResult<Option<ChannelRow>> {
    weekstar_channels::table.find(channel_id).select(ChannelRow::as_select()).first(conn).await.optional()
}

/// Whether the channel has any gift set (it has been configured before).
pub async fn has_gift_sets(conn: &mut AsyncPgConnection, channel_id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(weekstar_gift_sets::table.filter(weekstar_gift_sets::channel_id.eq(channel_id))))
        .get_result(conn)
        .await
}

/// Records a gift-set change in force from `effective`.
pub async fn insert_gift_set(
    conn: &mut AsyncPgConnection,
    channel_id: Uuid,
    effective: IsoWeek,
    gift_ids: &[String],
    by: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let (year, week) = year_week(effective);
    diesel::insert_into(weekstar_gift_sets::table)
        .values((
            weekstar_gift_sets::channel_id.eq(channel_id),
            weekstar_gift_sets::effective_year.eq(year),
            weekstar_gift_sets::effective_week.eq(week),
            weekstar_gift_sets::gift_ids.eq(gift_ids),
            weekstar_gift_sets::changed_by.eq(by),
            weekstar_gift_sets::changed_at.eq(at),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// The gift set in force in `week`: the latest change effective at or before it.
pub async fn gift_set_for(conn: &mut AsyncPgConnection, channel_id: Uuid, week: IsoWeek) -> QueryResult<Option<Vec<String>>> {
    let (year, week) = year_week(week);
    weekstar_gift_sets::table
        .filter(weekstar_gift_sets::channel_id.eq(channel_id))
        .filter(
            weekstar_gift_sets::effective_year
                .lt(year)
                .or(weekstar_gift_sets::effective_year.eq(year).and(weekstar_gift_sets::effective_week.le(week))),
        )
        .order((weekstar_gift_sets::effective_year.desc(), weekstar_gift_sets::effective_week.desc(), weekstar_gift_sets::id.desc()))
        .select(weekstar_gift_sets::gift_ids)
        // A Postgres array may hold NULLs as far as its type says; ours never do (written above).
        .first::<Vec<Option<String>>>(conn)
        .await
        .optional()
        .map(|ids| ids.map(|ids| ids.into_iter().flatten().collect()))
}

/// Sets the channel's switches and records the change.
pub async fn set_visibility(
    conn: &mut AsyncPgConnection,
    channel_id: Uuid,
    web: bool,
    app: bool,
    by: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(weekstar_channels::table.find(channel_id))
        .set((
            weekstar_channels::web_visible.eq(web),
            weekstar_channels::app_visible.eq(app),
            weekstar_channels::updated_by.eq(by),
            weekstar_channels::updated_at.eq(at),
        ))
        .execute(conn)
        .await?;
    diesel::insert_into(weekstar_visibility_changes::table)
        .values((
            weekstar_visibility_changes::channel_id.eq(channel_id),
            weekstar_visibility_changes::web_visible.eq(web),
            weekstar_visibility_changes::app_visible.eq(app),
            weekstar_visibility_changes::changed_by.eq(by),
            weekstar_visibility_changes::changed_at.eq(at),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// One recorded change of a channel's settings.
#[derive(Debug, Clone, QueryableByName)]
pub struct SettingsChange {
    /// `gifts` or `visibility`.
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// The new gifts (for `gifts`).
    #[diesel(sql_type = diesel::sql_types::Nullable<Array<Text>>)]
    pub gift_ids: Option<Vec<String>>,
    /// ISO year the gifts apply from (for `gifts`).
    #[diesel(sql_type = diesel::sql_types::Nullable<Int4>)]
    pub effective_year: Option<i32>,
    /// ISO week the gifts apply from (for `gifts`).
    #[diesel(sql_type = diesel::sql_types::Nullable<Int4>)]
    pub effective_week: Option<i32>,
    /// New web switch (for `visibility`).
    #[diesel(sql_type = diesel::sql_types::Nullable<Bool>)]
    pub web_visible: Option<bool>,
    /// New app switch (for `visibility`).
    #[diesel(sql_type = diesel::sql_types::Nullable<Bool>)]
    pub app_visible: Option<bool>,
    /// Who.
    #[diesel(sql_type = SqlUuid)]
    pub changed_by: Uuid,
    /// When.
    #[diesel(sql_type = Timestamptz)]
    pub changed_at: DateTime<Utc>,
}

/// The channel's change history (gift sets and switches), newest first.
pub async fn changes(conn: &mut AsyncPgConnection, channel_id: Uuid) -> QueryResult<Vec<SettingsChange>> {
    diesel::sql_query(
        "SELECT 'gifts' AS kind, gift_ids, effective_year, effective_week, NULL::boolean AS web_visible, \
                NULL::boolean AS app_visible, changed_by, changed_at, id \
         FROM ranking.weekstar_gift_sets WHERE channel_id = $1 \
         UNION ALL \
         SELECT 'visibility', NULL, NULL, NULL, web_visible, app_visible, changed_by, changed_at, id \
         FROM ranking.weekstar_visibility_changes WHERE channel_id = $1 \
         ORDER BY changed_at DESC, id DESC",
    )
    .bind::<SqlUuid, _>(channel_id)
    .load(conn)
    .await
}

/// What decides whether a gift counts: the week's gift set and the switches in force when it
/// was sent (switches never changed: both on).
#[derive(Debug, Clone, QueryableByName)]
pub struct CountingRule {
    /// Gifts of the week (empty when none).
    #[diesel(sql_type = Array<Text>)]
    pub gift_ids: Vec<String>,
    /// Web switch at the send time.
    #[diesel(sql_type = Bool)]
    pub web_visible: bool,
    /// App switch at the send time.
    #[diesel(sql_type = Bool)]
    pub app_visible: bool,
}

/// The counting rule for a gift sent at `sent_at` in `week`, in one statement.
pub async fn counting_rule(
    conn: &mut AsyncPgConnection,
    channel_id: Uuid,
    week: IsoWeek,
    sent_at: DateTime<Utc>,
) -> QueryResult<CountingRule> {
    let (year, week) = year_week(week);
    diesel::sql_query(
        "SELECT \
           COALESCE((SELECT g.gift_ids FROM ranking.weekstar_gift_sets g \
                     WHERE g.channel_id = $1 AND (g.effective_year, g.effective_week) <= ($2, $3) \
                     ORDER BY g.effective_year DESC, g.effective_week DESC, g.id DESC LIMIT 1), '{}') AS gift_ids, \
           COALESCE(v.web_visible, true) AS web_visible, COALESCE(v.app_visible, true) AS app_visible \
         FROM (SELECT 1) AS one \
         LEFT JOIN LATERAL (SELECT web_visible, app_visible FROM ranking.weekstar_visibility_changes \
                            WHERE channel_id = $1 AND changed_at <= $4 ORDER BY changed_at DESC, id DESC LIMIT 1) v ON true",
    )
    .bind::<SqlUuid, _>(channel_id)
    .bind::<Int4, _>(year)
    .bind::<Int4, _>(week)
    .bind::<Timestamptz, _>(sent_at)
    .get_result(conn)
    .await
}

/// Records that a gift event was counted; `false` if it already was.
pub async fn mark_processed(conn: &mut AsyncPgConnection, event_id: Uuid, at: DateTime<Utc>) -> QueryResult<bool> {
    diesel::sql_query("INSERT INTO ranking.weekstar_processed_gifts (event_id, processed_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind::<SqlUuid, _>(event_id)
        .bind::<Timestamptz, _>(at)
        .execute(conn)
        .await
        .map(|inserted| inserted == 1)
}

/// Deletes idempotency records older than `before`; returns how many.
pub async fn prune_processed(conn: &mut AsyncPgConnection, before: DateTime<Utc>) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM ranking.weekstar_processed_gifts WHERE processed_at < $1")
        .bind::<Timestamptz, _>(before)
        .execute(conn)
        .await
}

/// A streamer's total on a board.
#[derive(Debug, Clone, Copy, QueryableByName)]
pub struct StreamerTotal {
    /// The streamer.
    #[diesel(sql_type = SqlUuid)]
    pub streamer_id: Uuid,
    /// Gifts received.
    #[diesel(sql_type = Int8)]
    pub gift_count: i64,
    /// The send time of the latest counted gift: when the total was reached.
    #[diesel(sql_type = Timestamptz)]
    pub reached_at: DateTime<Utc>,
}

/// Adds `count` gifts sent at `sent_at` to a streamer's total (counted at `now`); returns the
/// new total. The total is reached at the latest send time among its gifts, whatever order they
/// arrive in.
pub async fn add_to_streamer(
    conn: &mut AsyncPgConnection,
    key: &BoardKey,
    streamer_id: Uuid,
    count: i64,
    sent_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<StreamerTotal> {
    let (year, week) = year_week(key.week);
    diesel::sql_query(
        "INSERT INTO ranking.weekstar_streamer_counts AS c (iso_year, iso_week, channel_id, gift_id, streamer_id, gift_count, reached_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (iso_year, iso_week, channel_id, gift_id, streamer_id) DO UPDATE \
         SET gift_count = c.gift_count + EXCLUDED.gift_count, reached_at = GREATEST(c.reached_at, EXCLUDED.reached_at), \
             updated_at = EXCLUDED.updated_at \
         RETURNING streamer_id, gift_count, reached_at",
    )
    .bind::<Int4, _>(year)
    .bind::<Int4, _>(week)
    .bind::<SqlUuid, _>(key.channel_id)
    .bind::<Text, _>(&key.gift_id)
    .bind::<SqlUuid, _>(streamer_id)
    .bind::<Int8, _>(count)
    .bind::<Timestamptz, _>(sent_at)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
}

/// Adds `count` gifts of `sender_id` to `streamer_id` on a board (for the best supporter).
pub async fn add_to_supporter(
    conn: &mut AsyncPgConnection,
    key: &BoardKey,
    streamer_id: Uuid,
    sender_id: Uuid,
    count: i64,
    sent_at: DateTime<Utc>,
) -> QueryResult<()> {
    let (year, week) = year_week(key.week);
    diesel::sql_query(
        "INSERT INTO ranking.weekstar_supporter_counts AS c \
           (iso_year, iso_week, channel_id, gift_id, streamer_id, sender_id, gift_count, reached_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (iso_year, iso_week, channel_id, gift_id, streamer_id, sender_id) DO UPDATE \
         SET gift_count = c.gift_count + EXCLUDED.gift_count, reached_at = GREATEST(c.reached_at, EXCLUDED.reached_at)",
    )
    .bind::<Int4, _>(year)
    .bind::<Int4, _>(week)
    .bind::<SqlUuid, _>(key.channel_id)
    .bind::<Text, _>(&key.gift_id)
    .bind::<SqlUuid, _>(streamer_id)
    .bind::<SqlUuid, _>(sender_id)
    .bind::<Int8, _>(count)
    .bind::<Timestamptz, _>(sent_at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A streamer's committed total on a board.
pub async fn streamer_total(conn: &mut AsyncPgConnection, key: &BoardKey, streamer_id: Uuid) -> QueryResult<Option<StreamerTotal>> {
    let (year, week) = year_week(key.week);
    diesel::sql_query(
        "SELECT streamer_id, gift_count, reached_at FROM ranking.weekstar_streamer_counts \
         WHERE iso_year = $1 AND iso_week = $2 AND channel_id = $3 AND gift_id = $4 AND streamer_id = $5",
    )
    .bind::<Int4, _>(year)
    .bind::<Int4, _>(week)
    .bind::<SqlUuid, _>(key.channel_id)
    .bind::<Text, _>(&key.gift_id)
    .bind::<SqlUuid, _>(streamer_id)
    .get_result(conn)
    .await
    .optional()
}

/// The first `limit` places of a board, in board order (most gifts, then who reached the total
/// first): what the realtime board shows when Redis cannot be read.
pub async fn board_top(conn: &mut AsyncPgConnection, key: &BoardKey, limit: usize) -> QueryResult<Vec<StreamerTotal>> {
    let (year, week) = year_week(key.week);
    diesel::sql_query(
        "SELECT streamer_id, gift_count, reached_at FROM ranking.weekstar_streamer_counts \
         WHERE iso_year = $1 AND iso_week = $2 AND channel_id = $3 AND gift_id = $4 \
         ORDER BY gift_count DESC, reached_at ASC, streamer_id ASC LIMIT $5",
    )
    .bind::<Int4, _>(year)
    .bind::<Int4, _>(week)
    .bind::<SqlUuid, _>(key.channel_id)
    .bind::<Text, _>(&key.gift_id)
    .bind::<Int8, _>(i64::try_from(limit).unwrap_or(i64::MAX))
    .load(conn)
    .await
}

/// Every streamer's total on a board (to rebuild its Redis copy).
pub async fn board_totals(conn: &mut AsyncPgConnection, key: &BoardKey) -> QueryResult<Vec<StreamerTotal>> {
    let (year, week) = year_week(key.week);
    diesel::sql_query(
        "SELECT streamer_id, gift_count, reached_at FROM ranking.weekstar_streamer_counts \
         WHERE iso_year = $1 AND iso_week = $2 AND channel_id = $3 AND gift_id = $4",
    )
    .bind::<Int4, _>(year)
    .bind::<Int4, _>(week)
    .bind::<SqlUuid, _>(key.channel_id)
    .bind::<Text, _>(&key.gift_id)
    .load(conn)
    .await
}
