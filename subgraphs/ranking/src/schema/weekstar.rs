//! Week-star boards: channel settings, this week's realtime boards, settled boards of past
//! weeks, and the admin mutations. Streamers and supporters are `User` references resolved by
//! `content` through the router.

use crate::domain::RankingError;
use crate::domain::week::IsoWeek;
use crate::domain::weekstar::{self, MAX_BOARD_ENTRIES, SettlementOutcome, Visibility, WeekStarGifts, WeekStars};
use crate::store::weekstar::SettingsChange;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use platform::auth::{AdminOnly, viewer};
use platform::error::CodedResultExt;
use uuid::Uuid;

/// A user, by reference: `content` owns users and resolves the other fields.
#[derive(SimpleObject, Clone)]
#[graphql(name = "User", unresolvable = "id")]
pub struct UserRef {
    /// The user id.
    pub id: ID,
}

impl UserRef {
    fn of(id: Uuid) -> UserRef {
        UserRef { id: ID(id.to_string()) }
    }
}

/// The client app asking, for the per-client switches.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "WeekStarClient")]
pub enum ClientApp {
    /// The web site.
    Web,
    /// The mobile app.
    App,
}

impl From<ClientApp> for weekstar::Client {
    fn from(client: ClientApp) -> Self {
        match client {
            ClientApp::Web => weekstar::Client::Web,
            ClientApp::App => weekstar::Client::App,
        }
    }
}

/// An ISO week on the platform's calendar (it ends Sunday 24:00 in the configured zone).
#[derive(SimpleObject, Clone)]
pub struct WeekStarWeek {
    /// ISO week-based year (differs from the calendar year around New Year).
    year: i32,
    /// Week number, 1–53.
    week: i32,
    /// Monday 00:00 in the calendar zone.
    starts_at: DateTime<Utc>,
    /// The next Monday 00:00 in the calendar zone (the week's end, exclusive).
    ends_at: DateTime<Utc>,
}

impl WeekStarWeek {
    fn of(week: IsoWeek, zone: Tz) -> WeekStarWeek {
        WeekStarWeek {
            year: week.year(),
            week: i32::try_from(week.week()).unwrap_or(i32::MAX),
            starts_at: week.starts_at(zone),
            ends_at: week.ends_at(zone),
        }
    }
}

/// A channel's gifts for one week.
#[derive(SimpleObject)]
pub struct WeekStarGiftSet {
    /// The week.
    week: WeekStarWeek,
    /// The week-star gift ids (at most four; empty when none).
    gift_ids: Vec<String>,
}

/// A channel's week-star settings.
pub struct WeekStarChannel {
    settings: weekstar::ChannelSettings,
    zone: Tz,
}

#[Object]
impl WeekStarChannel {
    /// The channel.
    async fn channel_id(&self) -> ID {
        ID(self.settings.channel_id.to_string())
    }

    /// Whether an admin has given it week-star gifts.
    async fn configured(&self) -> bool {
        self.settings.configured
    }

    /// Boards are shown on the web.
    async fn web_visible(&self) -> bool {
        self.settings.visibility.web
    }

    /// Boards are shown in the app.
    async fn app_visible(&self) -> bool {
        self.settings.visibility.app
    }

    /// Gifts are counted (shown on at least one client).
    async fn counting(&self) -> bool {
        self.settings.visibility.counting()
    }

    /// This week's gifts.
    async fn this_week(&self) -> WeekStarGiftSet {
        let set = &self.settings.this_week;
        WeekStarGiftSet { week: WeekStarWeek::of(set.week, self.zone), gift_ids: set.gift_ids.clone() }
    }

    /// Next week's gifts (a change made this week applies from then).
    async fn next_week(&self) -> WeekStarGiftSet {
        let set = &self.settings.next_week;
        WeekStarGiftSet { week: WeekStarWeek::of(set.week, self.zone), gift_ids: set.gift_ids.clone() }
    }

    /// Every change of these settings, newest first (admins only).
    #[graphql(guard = "AdminOnly")]
    async fn changes(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<WeekStarSettingsChange>> {
        let stars = ctx.data::<WeekStars>()?;
        let changes = stars.changes(self.settings.channel_id).await.coded()?;
        Ok(changes.into_iter().map(|change| WeekStarSettingsChange { change, zone: self.zone }).collect())
    }
}

/// What a settings change changed.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum WeekStarChangeKind {
    /// The gift set.
    Gifts,
    /// The switches.
    Visibility,
}

/// One recorded change of a channel's week-star settings.
pub struct WeekStarSettingsChange {
    change: SettingsChange,
    zone: Tz,
}

#[Object]
impl WeekStarSettingsChange {
    /// What changed.
    async fn kind(&self) -> WeekStarChangeKind {
        if self.change.kind == "gifts" { WeekStarChangeKind::Gifts } else { WeekStarChangeKind::Visibility }
    }

    /// The new gifts (gift changes).
    async fn gift_ids(&self) -> Option<&Vec<String>> {
        self.change.gift_ids.as_ref()
    }

    /// The week the new gifts apply from (gift changes).
    async fn effective_week(&self) -> Option<WeekStarWeek> {
        let (year, week) = (self.change.effective_year?, u32::try_from(self.change.effective_week?).ok()?);
        IsoWeek::new(year, week).ok().map(|week| WeekStarWeek::of(week, self.zone))
    }

    /// The new web switch (switch changes).
    async fn web_visible(&self) -> Option<bool> {
        self.change.web_visible
    }

    /// The new app switch (switch changes).
    async fn app_visible(&self) -> Option<bool> {
        self.change.app_visible
    }

    /// The admin who made it.
    async fn changed_by(&self) -> UserRef {
        UserRef::of(self.change.changed_by)
    }

    /// When.
    async fn changed_at(&self) -> DateTime<Utc> {
        self.change.changed_at
    }
}

/// A streamer's place on a board.
#[derive(SimpleObject, Clone)]
pub struct WeekStarEntry {
    /// 1-based; equal counts rank by who reached the count first.
    rank: i32,
    /// The streamer.
    streamer: UserRef,
    /// Gifts received that week.
    gift_count: i64,
    /// When the streamer reached that count.
    reached_at: DateTime<Utc>,
}

impl From<weekstar::BoardEntry> for WeekStarEntry {
    fn from(entry: weekstar::BoardEntry) -> Self {
        WeekStarEntry {
            rank: entry.rank,
            streamer: UserRef::of(entry.streamer_id),
            gift_count: entry.gift_count,
            reached_at: entry.reached_at,
        }
    }
}

/// This week's live leaderboard of one gift in one channel.
#[derive(SimpleObject)]
pub struct WeekStarBoard {
    /// The week.
    week: WeekStarWeek,
    /// The channel.
    channel_id: ID,
    /// The gift.
    gift_id: String,
    /// The leading streamers, best first.
    entries: Vec<WeekStarEntry>,
}

/// The best supporter of a settled board's winner.
#[derive(SimpleObject)]
pub struct WeekStarSupporter {
    /// The supporter.
    user: UserRef,
    /// Gifts they gave the winner that week.
    gift_count: i64,
    /// When they reached that count (earlier wins a tie).
    reached_at: DateTime<Utc>,
}

/// A board frozen at the end of its week.
#[derive(SimpleObject)]
pub struct SettledWeekStarBoard {
    /// The week.
    week: WeekStarWeek,
    /// The channel.
    channel_id: ID,
    /// The gift.
    gift_id: String,
    /// Counting was switched off during the week: no rewards, no best supporter.
    skipped: bool,
    /// The week's winner, if anybody received the gift.
    winner: Option<WeekStarEntry>,
    /// Who gave the winner most of the gift (ties: who reached it first).
    best_supporter: Option<WeekStarSupporter>,
    /// The leading streamers, best first.
    entries: Vec<WeekStarEntry>,
    /// Gifts of this board that arrived after the week was settled (a consumer backlog, a
    /// late publisher): recorded and shown here, never added to the frozen entries.
    late_gift_count: i64,
}

impl SettledWeekStarBoard {
    fn of(board: weekstar::SettledBoard, zone: Tz) -> SettledWeekStarBoard {
        let entries: Vec<WeekStarEntry> = board.entries.into_iter().map(WeekStarEntry::from).collect();
        SettledWeekStarBoard {
            week: WeekStarWeek::of(board.week, zone),
            channel_id: ID(board.channel_id.to_string()),
            gift_id: board.gift_id,
            skipped: board.skipped,
            winner: entries.first().cloned(),
            best_supporter: board.best_supporter.map(|s| WeekStarSupporter {
                user: UserRef::of(s.user_id),
                gift_count: s.gift_count,
                reached_at: s.reached_at,
            }),
            entries,
            late_gift_count: board.late_gift_count,
        }
    }
}

/// The result of a settlement request.
#[derive(SimpleObject)]
pub struct WeekStarSettlement {
    /// The week.
    week: WeekStarWeek,
    /// `true` if this request froze the boards, `false` if the week was already settled.
    settled_now: bool,
    /// Boards frozen by this request.
    boards: i32,
}

fn parse_channel(id: &ID) -> Result<Uuid, RankingError> {
    id.parse().map_err(|_| RankingError::InvalidInput("channelId must be a UUID.".into()))
}

fn parse_first(first: i32) -> Result<usize, RankingError> {
    usize::try_from(first)
        .ok()
        .filter(|n| (1..=MAX_BOARD_ENTRIES).contains(n))
        .ok_or_else(|| RankingError::InvalidInput(format!("first must be between 1 and {MAX_BOARD_ENTRIES}.")))
}

fn parse_week(year: i32, week: i32) -> Result<IsoWeek, RankingError> {
    u32::try_from(week)
        .ok()
        .and_then(|week| IsoWeek::new(year, week).ok())
        .ok_or_else(|| RankingError::InvalidInput(format!("{year} has no ISO week {week}.")))
}

/// Week-star queries.
#[derive(Default)]
pub struct WeekStarQuery;

#[Object]
impl WeekStarQuery {
    /// A channel's week-star settings: switches, this week's and next week's gifts.
    async fn week_star_channel(&self, ctx: &Context<'_>, channel_id: ID) -> async_graphql::Result<WeekStarChannel> {
        let stars = ctx.data::<WeekStars>()?;
        let settings = stars.channel(parse_channel(&channel_id).coded()?).await.coded()?;
        Ok(WeekStarChannel { settings, zone: stars.zone() })
    }

    /// This week's realtime boards of a channel, one per week-star gift; empty when the channel
    /// hides week-star on `client`.
    async fn week_star_boards(
        &self,
        ctx: &Context<'_>,
        channel_id: ID,
        client: ClientApp,
        #[graphql(default = 20)] first: i32,
    ) -> async_graphql::Result<Vec<WeekStarBoard>> {
        let stars = ctx.data::<WeekStars>()?;
        let (channel_id, first) = (parse_channel(&channel_id).coded()?, parse_first(first).coded()?);
        let boards = stars.realtime_boards(channel_id, client.into(), first).await.coded()?;
        Ok(boards
            .into_iter()
            .map(|board| WeekStarBoard {
                week: WeekStarWeek::of(board.week, stars.zone()),
                channel_id: ID(board.channel_id.to_string()),
                gift_id: board.gift_id,
                entries: board.entries.into_iter().map(WeekStarEntry::from).collect(),
            })
            .collect())
    }

    /// Last week's settled boards of a channel with their best supporters; `null` until last
    /// week is settled (shortly after Sunday 24:00).
    async fn last_week_star_boards(
        &self,
        ctx: &Context<'_>,
        channel_id: ID,
        #[graphql(default = 20)] first: i32,
    ) -> async_graphql::Result<Option<Vec<SettledWeekStarBoard>>> {
        let stars = ctx.data::<WeekStars>()?;
        settled(stars, &channel_id, stars.current_week().previous(), first).await
    }

    /// The settled boards of a channel in any past ISO week; `null` if that week is not settled.
    async fn settled_week_star_boards(
        &self,
        ctx: &Context<'_>,
        channel_id: ID,
        year: i32,
        week: i32,
        #[graphql(default = 20)] first: i32,
    ) -> async_graphql::Result<Option<Vec<SettledWeekStarBoard>>> {
        let stars = ctx.data::<WeekStars>()?;
        settled(stars, &channel_id, parse_week(year, week).coded()?, first).await
    }
}

async fn settled(
    stars: &WeekStars,
    channel_id: &ID,
    week: IsoWeek,
    first: i32,
) -> async_graphql::Result<Option<Vec<SettledWeekStarBoard>>> {
    let (channel_id, first) = (parse_channel(channel_id).coded()?, parse_first(first).coded()?);
    let boards = stars.settled_boards(channel_id, week, first).await.coded()?;
    Ok(boards.map(|boards| boards.into_iter().map(|board| SettledWeekStarBoard::of(board, stars.zone())).collect()))
}

/// Week-star admin mutations.
#[derive(Default)]
pub struct WeekStarMutation;

#[Object]
impl WeekStarMutation {
    /// Sets a channel's week-star gifts (at most four). A channel's first configuration applies
    /// this week; later ones from next week.
    #[graphql(guard = "AdminOnly")]
    async fn configure_week_star_gifts(
        &self,
        ctx: &Context<'_>,
        channel_id: ID,
        gift_ids: Vec<String>,
    ) -> async_graphql::Result<WeekStarChannel> {
        let admin = viewer(ctx).require_admin().coded()?;
        let stars = ctx.data::<WeekStars>()?;
        let gifts = WeekStarGifts::parse(&gift_ids).coded()?;
        let settings = stars.configure_gifts(admin.id, parse_channel(&channel_id).coded()?, gifts).await.coded()?;
        Ok(WeekStarChannel { settings, zone: stars.zone() })
    }

    /// Shows or hides a channel's boards per client, at once. Hidden on both stops counting and
    /// skips the week's rewards.
    #[graphql(guard = "AdminOnly")]
    async fn set_week_star_visibility(
        &self,
        ctx: &Context<'_>,
        channel_id: ID,
        web_visible: bool,
        app_visible: bool,
    ) -> async_graphql::Result<WeekStarChannel> {
        let admin = viewer(ctx).require_admin().coded()?;
        let stars = ctx.data::<WeekStars>()?;
        let visibility = Visibility { web: web_visible, app: app_visible };
        let settings = stars.set_visibility(admin.id, parse_channel(&channel_id).coded()?, visibility).await.coded()?;
        Ok(WeekStarChannel { settings, zone: stars.zone() })
    }

    /// Settles an ended week now instead of waiting for the job; settling a settled week
    /// changes nothing.
    #[graphql(guard = "AdminOnly")]
    async fn settle_week_star_week(&self, ctx: &Context<'_>, year: i32, week: i32) -> async_graphql::Result<WeekStarSettlement> {
        let stars = ctx.data::<WeekStars>()?;
        let week = parse_week(year, week).coded()?;
        let outcome = stars.settle(week, stars.now()).await.coded()?;
        let (settled_now, boards) = match outcome {
            SettlementOutcome::Settled { boards } => (true, boards),
            SettlementOutcome::AlreadySettled => (false, 0),
        };
        Ok(WeekStarSettlement { week: WeekStarWeek::of(week, stars.zone()), settled_now, boards })
    }
}
