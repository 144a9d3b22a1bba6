//! Week-star boards: weekly gift leaderboards per (ISO week, channel, gift).
//!
//! Rules, in one place:
//! - A channel has up to four week-star gifts. Its first configuration takes effect in the
//!   current week; every later change from the next week, so a running week's rules never change
//!   under its competitors ([`effective_week_of_change`]).
//! - Two switches, web and app. Hiding on one client only hides; with both off the channel stops
//!   counting (a gift counts if counting was on when it was sent) and a week in which counting
//!   was off at any time is settled as skipped: no rewards.
//! - Streamers rank by gift count; on equal counts, whoever reached that count first ranks
//!   higher ([`BoardScore`]). Postgres holds the exact counters; Redis mirrors them as sorted
//!   sets for reads and is rebuilt from Postgres when it lost them.
//! - At the end of each week (Sunday 24:00 in the calendar zone) the boards are frozen with each
//!   winner's best supporter: who gave the winner most of that gift, ties to who got there first.

use super::RankingError;
use super::week::IsoWeek;
use crate::store::{weekstar as store, weekstar_boards as boards, weekstar_settlement as settlement};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel_async::AsyncConnection;
use platform::clock::SharedClock;
use platform::db::Db;
use platform::events::GiftEvent;
use platform::redis::Redis;
use uuid::Uuid;

/// How many gifts a channel can feature per week.
pub const MAX_GIFTS_PER_CHANNEL: usize = 4;
/// Longest gift id accepted (ids also become part of Redis keys).
const MAX_GIFT_ID_LEN: usize = 64;
/// Largest board page.
pub const MAX_BOARD_ENTRIES: usize = 100;

/// A gift type's id, as the gift catalogue names it: 1–64 ASCII letters, digits, `_` or `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GiftId(String);

impl GiftId {
    /// Parses a gift id.
    pub fn parse(raw: &str) -> Result<GiftId, RankingError> {
        let valid =
            !raw.is_empty() && raw.len() <= MAX_GIFT_ID_LEN && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if valid {
            Ok(GiftId(raw.to_owned()))
        } else {
            Err(RankingError::InvalidInput(format!("Gift id {raw:?} must be 1 to {MAX_GIFT_ID_LEN} letters, digits, '_' or '-'.")))
        }
    }
}

impl AsRef<str> for GiftId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A channel's week-star gifts: at most four, no repeats, in the order the admin gave them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WeekStarGifts(Vec<GiftId>);

impl WeekStarGifts {
    /// Parses an admin's list.
    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<WeekStarGifts, RankingError> {
        if raw.len() > MAX_GIFTS_PER_CHANNEL {
            return Err(RankingError::InvalidInput(format!("A channel has at most {MAX_GIFTS_PER_CHANNEL} week-star gifts.")));
        }
        let mut gifts: Vec<GiftId> = Vec::with_capacity(raw.len());
        for id in raw {
            let gift = GiftId::parse(id.as_ref())?;
            if gifts.contains(&gift) {
                return Err(RankingError::InvalidInput(format!("Gift {:?} is listed twice.", gift.0)));
            }
            gifts.push(gift);
        }
        Ok(WeekStarGifts(gifts))
    }

    /// The ids, in order.
    pub fn ids(&self) -> Vec<String> {
        self.0.iter().map(|g| g.0.clone()).collect()
    }
}

/// Which client apps show a channel's week-star boards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visibility {
    /// Shown on the web client.
    pub web: bool,
    /// Shown in the mobile app.
    pub app: bool,
}

impl Visibility {
    /// A channel never switched is shown everywhere.
    pub const DEFAULT: Visibility = Visibility { web: true, app: true };

    /// Gifts count while the boards show on at least one client.
    pub fn counting(self) -> bool {
        self.web || self.app
    }

    /// Whether `client` shows the boards.
    pub fn shown_on(self, client: Client) -> bool {
        match client {
            Client::Web => self.web,
            Client::App => self.app,
        }
    }
}

/// A client app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// The web site.
    Web,
    /// The mobile app.
    App,
}

/// The week from which a gift-set change applies: the current one for a channel's first
/// configuration, otherwise the next (a running week keeps the gifts it started with).
pub fn effective_week_of_change(current: IsoWeek, already_configured: bool) -> IsoWeek {
    if already_configured { current.next() } else { current }
}

/// A board's sorted-set score: the gift count and, for equal counts, who reached it first,
/// encoded exactly into one `f64`.
///
/// `score = count · 2^30 + (2^30 − 1 − t)` where `t` is the milliseconds from the start of the
/// week to the moment the streamer reached `count` (their latest counted gift's send time).
///
/// Why it is exact: a week lasts at most 7·24 h + 1 h (a daylight-saving change) =
/// 608,400,000 ms < 2^30 = 1,073,741,824, so `t` fits in 30 bits; with `count ≤ 2^23 − 1`
/// the score is at most `(2^23 − 1)·2^30 + 2^30 − 1 = 2^53 − 1`, and every integer up to
/// `2^53` is an exact `f64`. Redis stores scores as doubles and compares them exactly, so a
/// higher count always ranks higher (the time part is below 2^30), and on equal counts an
/// earlier `t` gives a larger score and ranks first in a descending read. Reading a score back
/// gives the count and the time to the millisecond.
///
/// The count is capped at 2^23 − 1 = 8,388,607 of one gift to one streamer in one week, far
/// beyond real traffic; above it the realtime board saturates (and logs), while the Postgres
/// counters and the settled boards stay exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoardScore {
    /// Gifts received.
    pub count: i64,
    /// Milliseconds from the start of the week to when `count` was reached.
    pub reached_after_ms: i64,
}

/// Bits of the score that hold the time.
const TIME_BITS: u32 = 30;
const TIME_SPAN: i64 = 1 << TIME_BITS;

impl BoardScore {
    /// Largest count the score holds exactly.
    pub const MAX_COUNT: i64 = (1 << (53 - TIME_BITS)) - 1;

    /// The score of `count` reached at `reached_at` in a week starting at `week_start`.
    pub fn new(count: i64, reached_at: DateTime<Utc>, week_start: DateTime<Utc>) -> BoardScore {
        let reached_after_ms = (reached_at - week_start).num_milliseconds().clamp(0, TIME_SPAN - 1);
        BoardScore { count: count.clamp(0, Self::MAX_COUNT), reached_after_ms }
    }

    /// The sorted-set score.
    pub fn encode(self) -> f64 {
        let bits = self.count * TIME_SPAN + (TIME_SPAN - 1 - self.reached_after_ms);
        // Exact: `bits` < 2^53 (see the type's proof).
        bits as f64
    }

    /// Reads a score written by [`BoardScore::encode`]; `None` for anything else.
    pub fn decode(score: f64) -> Option<BoardScore> {
        if !(0.0..=9_007_199_254_740_991.0).contains(&score) || score.fract() != 0.0 {
            return None;
        }
        let bits = score as i64;
        Some(BoardScore { count: bits / TIME_SPAN, reached_after_ms: TIME_SPAN - 1 - bits % TIME_SPAN })
    }

    /// When the count was reached, for a week starting at `week_start`.
    pub fn reached_at(self, week_start: DateTime<Utc>) -> DateTime<Utc> {
        week_start + chrono::Duration::milliseconds(self.reached_after_ms)
    }
}

/// What recording a gift event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GiftOutcome {
    /// Counted: the streamer's new total on that board.
    Counted {
        /// The board's week.
        week: IsoWeek,
        /// The streamer's count after this gift.
        count: i64,
    },
    /// Already counted (a redelivery); the realtime board was re-synced from Postgres.
    Duplicate,
    /// Its week was already settled: recorded as a late gift of the settled board (shown as
    /// its late figure), not added to the frozen counters.
    Late {
        /// The settled week.
        week: IsoWeek,
    },
    /// Not a week-star gift of that channel in that week.
    NotWeekStarGift,
    /// The channel had counting switched off when the gift was sent.
    CountingOff,
}

/// A malformed event: it can never be counted, so the consumer dead-letters it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid gift event: {0}")]
pub struct InvalidGiftEvent(pub String);

/// A gift set in force for a week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekGiftSet {
    /// The week.
    pub week: IsoWeek,
    /// Its gifts (empty when the channel has none that week).
    pub gift_ids: Vec<String>,
}

/// A channel's week-star settings as clients and admins see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelSettings {
    /// The channel.
    pub channel_id: Uuid,
    /// Whether an admin has configured it.
    pub configured: bool,
    /// Current switches.
    pub visibility: Visibility,
    /// Gifts of the current week.
    pub this_week: WeekGiftSet,
    /// Gifts of the next week (what a pending change will make them).
    pub next_week: WeekGiftSet,
}

/// One streamer's place on a board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardEntry {
    /// 1-based.
    pub rank: i32,
    /// The streamer (user id).
    pub streamer_id: Uuid,
    /// Gifts received.
    pub gift_count: i64,
    /// When that count was reached.
    pub reached_at: DateTime<Utc>,
}

/// A realtime board of the current week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealtimeBoard {
    /// The week.
    pub week: IsoWeek,
    /// The channel.
    pub channel_id: Uuid,
    /// The gift.
    pub gift_id: String,
    /// The leading entries, best first.
    pub entries: Vec<BoardEntry>,
}

/// The best supporter of a settled board's winner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supporter {
    /// The user.
    pub user_id: Uuid,
    /// Gifts given to the winner.
    pub gift_count: i64,
    /// When they reached that count.
    pub reached_at: DateTime<Utc>,
}

/// A board frozen at the end of its week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettledBoard {
    /// The week.
    pub week: IsoWeek,
    /// The channel.
    pub channel_id: Uuid,
    /// The gift.
    pub gift_id: String,
    /// Counting was switched off at some time that week: no rewards, no best supporter.
    pub skipped: bool,
    /// The leading entries, best first (the winner first).
    pub entries: Vec<BoardEntry>,
    /// Who gave the winner most of the gift (none when skipped or nobody received any).
    pub best_supporter: Option<Supporter>,
    /// Gifts of this board that arrived after the week was settled: recorded, shown here, and
    /// never added to the entries above.
    pub late_gift_count: i64,
}

/// A settlement run's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettlementOutcome {
    /// This run froze the week's boards.
    Settled {
        /// Boards frozen.
        boards: i32,
    },
    /// Another run (maybe on another replica) had already settled it: nothing changed.
    AlreadySettled,
}

/// The week-star service: configuration, counting, boards and settlement.
#[derive(Clone)]
pub struct WeekStars {
    db: Db,
    redis: Redis,
    clock: SharedClock,
    zone: Tz,
}

impl WeekStars {
    /// Over these backends, reading time from `clock` and weeks on `zone`'s wall clock.
    pub fn new(db: Db, redis: Redis, clock: SharedClock, zone: Tz) -> WeekStars {
        WeekStars { db, redis, clock, zone }
    }

    /// The calendar zone.
    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// The clock's now.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The week the clock is in.
    pub fn current_week(&self) -> IsoWeek {
        IsoWeek::containing(self.clock.now(), self.zone)
    }

    /// Sets a channel's gifts: at once if it is the channel's first configuration, otherwise
    /// from the next week (replacing a change already pending for it). Recorded with who and when.
    #[tracing::instrument(skip_all, fields(channel.id = %channel_id))]
    pub async fn configure_gifts(&self, admin: Uuid, channel_id: Uuid, gifts: WeekStarGifts) -> Result<ChannelSettings, RankingError> {
        let now = self.clock.now();
        let current = IsoWeek::containing(now, self.zone);
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, RankingError, _>(async |conn| {
            // Serialises concurrent first configurations of one channel (both would otherwise
            // see "unconfigured" and both apply at once).
            store::lock_channel(conn, channel_id, admin, now).await?;
            let configured = store::has_gift_sets(conn, channel_id).await?;
            let effective = effective_week_of_change(current, configured);
            store::insert_gift_set(conn, channel_id, effective, &gifts.ids(), admin, now).await?;
            Ok(())
        })
        .await?;
        self.settings_at(&mut conn, channel_id, current).await
    }

    /// Sets a channel's switches, at once. Recorded with who and when.
    #[tracing::instrument(skip_all, fields(channel.id = %channel_id))]
    pub async fn set_visibility(&self, admin: Uuid, channel_id: Uuid, visibility: Visibility) -> Result<ChannelSettings, RankingError> {
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        conn.transaction::<_, RankingError, _>(async |conn| {
            store::lock_channel(conn, channel_id, admin, now).await?;
            store::set_visibility(conn, channel_id, visibility.web, visibility.app, admin, now).await?;
            Ok(())
        })
        .await?;
        self.settings_at(&mut conn, channel_id, IsoWeek::containing(now, self.zone)).await
    }

    /// A channel's settings (defaults for a channel never configured).
    pub async fn channel(&self, channel_id: Uuid) -> Result<ChannelSettings, RankingError> {
        let mut conn = self.db.pool.get().await?;
        self.settings_at(&mut conn, channel_id, self.current_week()).await
    }

    async fn settings_at(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        channel_id: Uuid,
        current: IsoWeek,
    ) -> Result<ChannelSettings, RankingError> {
        let row = store::channel(conn, channel_id).await?;
        let this_week = store::gift_set_for(conn, channel_id, current).await?;
        let next_week = store::gift_set_for(conn, channel_id, current.next()).await?;
        Ok(ChannelSettings {
            channel_id,
            configured: this_week.is_some() || next_week.is_some(),
            visibility: row.map_or(Visibility::DEFAULT, |r| Visibility { web: r.web_visible, app: r.app_visible }),
            this_week: WeekGiftSet { week: current, gift_ids: this_week.unwrap_or_default() },
            next_week: WeekGiftSet { week: current.next(), gift_ids: next_week.unwrap_or_default() },
        })
    }

    /// Every recorded change of a channel's settings, newest first.
    pub async fn changes(&self, channel_id: Uuid) -> Result<Vec<store::SettingsChange>, RankingError> {
        let mut conn = self.db.pool.get().await?;
        Ok(store::changes(&mut conn, channel_id).await?)
    }

    /// Counts one gift event, exactly once however often it is delivered: the event id is
    /// recorded in the same transaction as the counters, then the realtime board is updated
    /// from the committed totals (a redelivery re-syncs it, so a failed Redis write heals).
    #[tracing::instrument(skip_all, fields(gift.event_id = %event.event_id, channel.id = %event.channel_id))]
    pub async fn record_gift(&self, event: &GiftEvent) -> Result<Result<GiftOutcome, InvalidGiftEvent>, RankingError> {
        let gift = match GiftId::parse(&event.gift_id) {
            Ok(gift) => gift,
            Err(_) => return Ok(Err(InvalidGiftEvent(format!("gift id {:?}", event.gift_id)))),
        };
        if event.count < 1 {
            return Ok(Err(InvalidGiftEvent(format!("count {}", event.count))));
        }
        let week = IsoWeek::containing(event.sent_at, self.zone);
        // Milliseconds are what the board score keeps; storing the same keeps Postgres and Redis
        // in the same order.
        let sent_at = truncate_to_millis(event.sent_at);
        let key = store::BoardKey { week, channel_id: event.channel_id, gift_id: gift.as_ref().to_owned() };
        let now = self.clock.now();
        let mut conn = self.db.pool.get().await?;
        let outcome = conn
            .transaction::<_, RankingError, _>(async |conn| {
                // First: a settlement of this week either waits for this gift or has committed.
                settlement::lock_week_for_counting(conn, week).await?;
                let rule = store::counting_rule(conn, event.channel_id, week, sent_at).await?;
                if !rule.gift_ids.iter().any(|id| id == gift.as_ref()) {
                    return Ok(GiftOutcome::NotWeekStarGift);
                }
                if !(Visibility { web: rule.web_visible, app: rule.app_visible }).counting() {
                    return Ok(GiftOutcome::CountingOff);
                }
                if !store::mark_processed(conn, event.event_id, now).await? {
                    return Ok(GiftOutcome::Duplicate);
                }
                if settlement::is_settled(conn, week).await? {
                    let late = settlement::LateGift {
                        event_id: event.event_id,
                        key: &key,
                        streamer_id: event.streamer_id,
                        sender_id: event.sender_id,
                        gift_count: event.count,
                        sent_at,
                    };
                    settlement::record_late(conn, &late, now).await?;
                    return Ok(GiftOutcome::Late { week });
                }
                let total = store::add_to_streamer(conn, &key, event.streamer_id, event.count, sent_at, now).await?;
                store::add_to_supporter(conn, &key, event.streamer_id, event.sender_id, event.count, sent_at).await?;
                Ok(GiftOutcome::Counted { week, count: total.gift_count })
            })
            .await?;
        let total = match outcome {
            GiftOutcome::Counted { .. } | GiftOutcome::Duplicate => store::streamer_total(&mut conn, &key, event.streamer_id).await?,
            GiftOutcome::Late { .. } | GiftOutcome::NotWeekStarGift | GiftOutcome::CountingOff => None,
        };
        drop(conn);
        if let Some(total) = total {
            let week_start = week.starts_at(self.zone);
            if total.gift_count > BoardScore::MAX_COUNT {
                tracing::warn!(streamer.id = %event.streamer_id, count = total.gift_count, "week-star count beyond the board score's exact range");
            }
            let score = BoardScore::new(total.gift_count, total.reached_at, week_start);
            boards::raise(&self.redis, &boards::key(&self.redis, &key), event.streamer_id, score, self.board_expiry(week))
                .await
                .map_err(RankingError::internal)?;
        }
        Ok(Ok(outcome))
    }

    /// Realtime boards of the current week for `channel_id` on `client`, `limit` entries each:
    /// empty when the channel hides week-star on that client.
    pub async fn realtime_boards(&self, channel_id: Uuid, client: Client, limit: usize) -> Result<Vec<RealtimeBoard>, RankingError> {
        let week = self.current_week();
        let limit = limit.clamp(1, MAX_BOARD_ENTRIES);
        let mut conn = self.db.pool.get().await?;
        let visibility = store::channel(&mut conn, channel_id)
            .await?
            .map_or(Visibility::DEFAULT, |r| Visibility { web: r.web_visible, app: r.app_visible });
        if !visibility.shown_on(client) {
            return Ok(Vec::new());
        }
        let gift_ids = store::gift_set_for(&mut conn, channel_id, week).await?.unwrap_or_default();
        let keys: Vec<store::BoardKey> =
            gift_ids.iter().map(|gift_id| store::BoardKey { week, channel_id, gift_id: gift_id.clone() }).collect();
        let redis_keys: Vec<String> = keys.iter().map(|key| boards::key(&self.redis, key)).collect();
        let week_start = week.starts_at(self.zone);
        let mut read = match boards::read(&self.redis, &redis_keys, limit).await {
            Ok(read) => read,
            Err(error) => {
                // Postgres holds every board's truth; Redis only makes reading it cheap.
                tracing::warn!(error = format!("{error:#}"), "redis unavailable; week-star boards read from Postgres");
                let mut boards = Vec::with_capacity(keys.len());
                for key in &keys {
                    let rows = store::board_top(&mut conn, key, limit).await?;
                    boards.push(Some(
                        rows.iter().map(|row| (row.streamer_id, BoardScore::new(row.gift_count, row.reached_at, week_start))).collect(),
                    ));
                }
                boards
            }
        };
        // A board Redis does not have (flushed, evicted, new instance) is rebuilt from Postgres.
        let missing: Vec<usize> = read.iter().enumerate().filter(|(_, board)| board.is_none()).map(|(i, _)| i).collect();
        if !missing.is_empty() {
            for &i in &missing {
                let rows = store::board_totals(&mut conn, &keys[i]).await?;
                let scores: Vec<(Uuid, BoardScore)> =
                    rows.iter().map(|row| (row.streamer_id, BoardScore::new(row.gift_count, row.reached_at, week_start))).collect();
                boards::rebuild(&self.redis, &redis_keys[i], &scores, self.board_expiry(week)).await.map_err(RankingError::internal)?;
                tracing::info!(board = %redis_keys[i], entries = scores.len(), "rebuilt a week-star board from Postgres");
            }
            let missing_keys: Vec<String> = missing.iter().map(|&i| redis_keys[i].clone()).collect();
            let reread = boards::read(&self.redis, &missing_keys, limit).await.map_err(RankingError::internal)?;
            for (&i, board) in missing.iter().zip(reread) {
                read[i] = Some(board.unwrap_or_default());
            }
        }
        Ok(keys
            .into_iter()
            .zip(read)
            .map(|(key, members)| RealtimeBoard {
                week,
                channel_id,
                entries: members
                    .unwrap_or_default()
                    .into_iter()
                    .enumerate()
                    .map(|(i, (streamer_id, score))| BoardEntry {
                        rank: i32::try_from(i + 1).unwrap_or(i32::MAX),
                        streamer_id,
                        gift_count: score.count,
                        reached_at: score.reached_at(week_start),
                    })
                    .collect(),
                gift_id: key.gift_id,
            })
            .collect())
    }

    /// The settled boards of `channel_id` for `week`, `limit` entries each; `None` while the
    /// week is not settled.
    pub async fn settled_boards(&self, channel_id: Uuid, week: IsoWeek, limit: usize) -> Result<Option<Vec<SettledBoard>>, RankingError> {
        let limit = limit.clamp(1, MAX_BOARD_ENTRIES);
        let mut conn = self.db.pool.get().await?;
        if !settlement::is_settled(&mut conn, week).await? {
            return Ok(None);
        }
        let boards = settlement::boards(&mut conn, channel_id, week).await?;
        let mut entries = settlement::entries(&mut conn, channel_id, week, limit).await?;
        Ok(Some(
            boards
                .into_iter()
                .map(|board| {
                    let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut entries).into_iter().partition(|e| e.gift_id == board.gift_id);
                    entries = rest;
                    SettledBoard {
                        week,
                        channel_id,
                        skipped: board.skipped,
                        entries: mine
                            .into_iter()
                            .map(|e| BoardEntry {
                                rank: e.rank,
                                streamer_id: e.streamer_id,
                                gift_count: e.gift_count,
                                reached_at: e.reached_at,
                            })
                            .collect(),
                        best_supporter: match (board.best_supporter_id, board.best_supporter_count, board.best_supporter_reached_at) {
                            (Some(user_id), Some(gift_count), Some(reached_at)) => Some(Supporter { user_id, gift_count, reached_at }),
                            _ => None,
                        },
                        late_gift_count: board.late_gift_count,
                        gift_id: board.gift_id,
                    }
                })
                .collect(),
        ))
    }

    /// Freezes `week`'s boards, once: the first run settles, every later or concurrent run
    /// (another replica, a retry) finds it settled and changes nothing. Refused before the week
    /// has ended at `now`.
    #[tracing::instrument(skip_all, fields(week = %week))]
    pub async fn settle(&self, week: IsoWeek, now: DateTime<Utc>) -> Result<SettlementOutcome, RankingError> {
        let (starts_at, ends_at) = (week.starts_at(self.zone), week.ends_at(self.zone));
        if now < ends_at {
            return Err(RankingError::InvalidInput(format!("Week {week} has not ended yet.")));
        }
        let mut conn = self.db.pool.get().await?;
        // The lock waits for gifts of the week being counted now; the snapshot is taken after it.
        settlement::lock_week(&mut conn, week).await?;
        let settled = conn
            .build_transaction()
            .repeatable_read()
            .run::<_, RankingError, _>(async |conn| {
                Ok(match settlement::settle(conn, week, starts_at, ends_at, now).await? {
                    Some(boards) => SettlementOutcome::Settled { boards },
                    None => SettlementOutcome::AlreadySettled,
                })
            })
            .await;
        let unlocked = settlement::unlock_week(&mut conn, week).await;
        let outcome = settled?;
        unlocked?;
        if let SettlementOutcome::Settled { boards } = outcome {
            tracing::info!(boards, "settled week-star boards");
        }
        Ok(outcome)
    }

    /// Settles every week that is due at `now` ([`settlement_due`]): normally the week before
    /// the current one, shortly after it ended; also an older unsettled week with counted gifts
    /// (the service was down over its end, or a backlog of its gifts was being counted).
    ///
    /// Nothing is settled unless `gifts_caught_up`: the gift consumer had applied every gift
    /// event the stream held when it was read at (or after) `now`, so no gift published before
    /// then is still waiting in JetStream (a lagging or stalled consumer holds settlement back;
    /// a gift published later still is recorded as late, visibly).
    pub async fn settle_due(&self, now: DateTime<Utc>, gifts_caught_up: bool) -> Result<Vec<(IsoWeek, SettlementOutcome)>, RankingError> {
        if !gifts_caught_up {
            return Ok(Vec::new());
        }
        let last_week = IsoWeek::containing(now, self.zone).previous();
        let unsettled = {
            let mut conn = self.db.pool.get().await?;
            settlement::unsettled_weeks_up_to(&mut conn, last_week).await?
        };
        let mut due: Vec<IsoWeek> = unsettled.iter().filter(|week| settlement_due(week.ends_at(self.zone), now)).copied().collect();
        if !unsettled.contains(&last_week) && settlement_due(last_week.ends_at(self.zone), now) {
            due.push(last_week);
        }
        due.sort();
        let mut settled = Vec::with_capacity(due.len());
        for week in due {
            settled.push((week, self.settle(week, now).await?));
        }
        Ok(settled)
    }

    /// Forgets idempotency records older than `keep`: JetStream no longer holds (and so never
    /// redelivers) events that old.
    pub async fn prune_processed(&self, keep: chrono::Duration) -> Result<usize, RankingError> {
        let mut conn = self.db.pool.get().await?;
        Ok(store::prune_processed(&mut conn, self.clock.now() - keep).await?)
    }

    /// Realtime boards outlive their week long enough for late readers, then Redis drops them;
    /// the settled copy is in Postgres.
    fn board_expiry(&self, week: IsoWeek) -> DateTime<Utc> {
        week.ends_at(self.zone) + chrono::Duration::days(14)
    }
}

/// How long after a week's end it is settled at the earliest: gifts sent just before Sunday
/// 24:00 are still on their way through `live`'s outbox right after it. Whether they have been
/// counted is not guessed from this: settlement also waits for the gift consumer to catch up
/// (see [`WeekStars::settle_due`]).
pub const SETTLEMENT_GRACE: chrono::Duration = chrono::Duration::minutes(2);

/// Whether a week that ends at `ends_at` is due for settlement at `now` (the gift consumer
/// having caught up is checked besides).
pub fn settlement_due(ends_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    ends_at <= now - SETTLEMENT_GRACE
}

fn truncate_to_millis(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("instant")
    }

    #[test]
    fn the_score_bound_is_exactly_f64s_integer_range() {
        let longest_week_ms: i64 = (7 * 24 + 1) * 3600 * 1000;
        assert!(longest_week_ms < TIME_SPAN, "a week with a DST hour fits the time bits");
        let max = BoardScore { count: BoardScore::MAX_COUNT, reached_after_ms: 0 }.encode();
        assert_eq!(max, 9_007_199_254_740_991.0, "2^53 - 1");
        assert_eq!(max as i64, (1_i64 << 53) - 1);
        // the neighbour of the largest score is still distinct: no rounding anywhere below it
        let below = BoardScore { count: BoardScore::MAX_COUNT, reached_after_ms: 1 }.encode();
        assert_eq!(max - below, 1.0);
    }

    #[test]
    fn scores_order_by_count_then_by_who_reached_it_first_and_decode_exactly() {
        let start = at("2026-12-28T00:00:00Z");
        let early = BoardScore::new(5, at("2026-12-28T10:00:00.001Z"), start);
        let late = BoardScore::new(5, at("2026-12-28T10:00:00.002Z"), start);
        let more = BoardScore::new(6, at("2027-01-03T23:59:59.999Z"), start);
        assert!(early.encode() > late.encode(), "one millisecond earlier ranks first");
        assert!(more.encode() > early.encode(), "a higher count beats any time");
        for score in [early, late, more, BoardScore::new(BoardScore::MAX_COUNT, start, start)] {
            assert_eq!(BoardScore::decode(score.encode()), Some(score));
        }
        assert_eq!(more.reached_at(start), at("2027-01-03T23:59:59.999Z"));
        assert_eq!(BoardScore::decode(-1.0), None, "the rebuild marker is not a score");
    }

    #[test]
    fn counts_beyond_the_exact_range_saturate_instead_of_rounding() {
        let start = at("2026-12-28T00:00:00Z");
        let huge = BoardScore::new(BoardScore::MAX_COUNT + 10, start, start);
        assert_eq!(huge.count, BoardScore::MAX_COUNT);
        assert!(huge.encode() <= 9_007_199_254_740_991.0);
    }

    #[test]
    fn a_week_is_due_once_its_grace_after_the_end_has_passed() {
        let ends = at("2026-11-30T00:00:00Z");
        assert!(!settlement_due(ends, at("2026-11-30T00:01:59Z")), "just ended");
        assert!(settlement_due(ends, at("2026-11-30T00:02:00Z")));
    }

    #[test]
    fn the_first_configuration_applies_now_and_later_ones_next_week() {
        let current = IsoWeek::new(2026, 53).expect("week");
        assert_eq!(effective_week_of_change(current, false), current);
        assert_eq!(effective_week_of_change(current, true), IsoWeek::new(2027, 1).expect("week"));
    }

    #[test]
    fn gift_sets_hold_up_to_four_distinct_well_formed_ids() {
        assert_eq!(WeekStarGifts::parse(&["rocket", "flower_2", "a-b"]).expect("valid").ids(), ["rocket", "flower_2", "a-b"]);
        assert!(WeekStarGifts::parse(&["a", "b", "c", "d", "e"]).is_err());
        assert!(WeekStarGifts::parse(&["a", "a"]).is_err());
        assert!(WeekStarGifts::parse(&["has space"]).is_err());
        assert!(WeekStarGifts::parse(&[""]).is_err());
        assert!(WeekStarGifts::parse(&["x".repeat(65)]).is_err());
        assert!(WeekStarGifts::parse::<&str>(&[]).expect("none is allowed").ids().is_empty());
    }

    #[test]
    fn hiding_on_one_client_keeps_counting_and_both_off_stops_it() {
        let web_only = Visibility { web: true, app: false };
        assert!(web_only.counting());
        assert!(web_only.shown_on(Client::Web));
        assert!(!web_only.shown_on(Client::App));
        assert!(!Visibility { web: false, app: false }.counting());
    }
}
