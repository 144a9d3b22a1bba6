//! The hot value of a video and the time ranges rankings cover.
//!
//! hot = Σ weightₖ × countₖ over views, likes, coins, favourites, shares, comments and danmaku,
//! where a range (day, week, month) counts only the growth inside it and `all` the lifetime
//! totals; a video published less than `new_boost_hours` ago (at the time of ranking) gets
//! `new_boost_percent` of that. Integers throughout: scores are integer minor units, and the
//! Redis score (an f64) holds them exactly below 2⁵³, which [`MAX_HOT_VALUE`] guarantees.

use super::RankingError;
use chrono::{DateTime, Duration, Utc};
use platform::events::StatCounts;

/// The largest hot value; sorted-set scores are f64 and exact only up to 2⁵³.
pub const MAX_HOT_VALUE: i64 = 1 << 53;

/// The weights in force: integer points per unit of each counter, and the boost of new videos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HotWeights {
    /// Points per view.
    pub views: i64,
    /// Points per like.
    pub likes: i64,
    /// Points per coin.
    pub coins: i64,
    /// Points per favourite.
    pub favourites: i64,
    /// Points per share.
    pub shares: i64,
    /// Points per comment.
    pub comments: i64,
    /// Points per danmaku.
    pub danmaku: i64,
    /// A new video's value in percent of the plain value (150 = ×1.5).
    pub new_boost_percent: i64,
    /// How long a video counts as new.
    pub new_boost_hours: i64,
}

impl HotWeights {
    /// Largest accepted weight.
    pub const MAX_WEIGHT: i64 = 10_000;

    /// Checks an admin's weights: each 0–10,000 points, the boost 100–1000 % for 0–168 hours.
    pub fn parse(weights: HotWeights) -> Result<HotWeights, RankingError> {
        let points = [weights.views, weights.likes, weights.coins, weights.favourites, weights.shares, weights.comments, weights.danmaku];
        if points.iter().any(|w| !(0..=Self::MAX_WEIGHT).contains(w)) {
            return Err(RankingError::InvalidInput(format!("Every weight is 0 to {} points.", Self::MAX_WEIGHT)));
        }
        if !(100..=1000).contains(&weights.new_boost_percent) || !(0..=168).contains(&weights.new_boost_hours) {
            return Err(RankingError::InvalidInput("The new-video boost is 100–1000 % for 0–168 hours.".into()));
        }
        Ok(weights)
    }

    /// The hot value of `counts` for a video published at `published_at`, ranked at `now`.
    /// Negative counts (a range where unlikes outnumber likes) count as zero.
    pub fn hot_value(&self, counts: &StatCounts, published_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> i64 {
        let terms = [
            (self.views, counts.views),
            (self.likes, counts.likes),
            (self.coins, counts.coins),
            (self.favourites, counts.favourites),
            (self.shares, counts.shares),
            (self.comments, counts.comments),
            (self.danmaku, counts.danmaku),
        ];
        let plain = terms.iter().fold(0i64, |sum, (weight, count)| sum.saturating_add(weight.saturating_mul((*count).max(0))));
        let boosted = match published_at {
            Some(published) if self.is_new(published, now) => plain.saturating_mul(self.new_boost_percent) / 100,
            _ => plain,
        };
        boosted.min(MAX_HOT_VALUE)
    }

    /// A video published after `now` (a ranking as of a moment before its publication, like a
    /// rebuild that started just before) is new too.
    fn is_new(&self, published_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        now - published_at < Duration::hours(self.new_boost_hours)
    }
}

/// The stretch of time a ranking covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeRange {
    /// Growth in the last 24 hours.
    Day,
    /// Growth in the last 7 days.
    Week,
    /// Growth in the last 30 days.
    Month,
    /// Lifetime totals.
    All,
}

impl TimeRange {
    /// Every range, in the order jobs build them.
    pub const ALL: [TimeRange; 4] = [TimeRange::Day, TimeRange::Week, TimeRange::Month, TimeRange::All];

    /// How far back the range reaches; `None` for lifetime.
    pub fn window(self) -> Option<Duration> {
        match self {
            TimeRange::Day => Some(Duration::days(1)),
            TimeRange::Week => Some(Duration::days(7)),
            TimeRange::Month => Some(Duration::days(30)),
            TimeRange::All => None,
        }
    }

    /// Name in Redis keys.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeRange::Day => "day",
            TimeRange::Week => "week",
            TimeRange::Month => "month",
            TimeRange::All => "all",
        }
    }
}

/// What a ranking page may ask for: page 1–500, 1–100 items per page.
pub fn page_bounds(page: i32, page_size: i32) -> Result<(isize, isize), RankingError> {
    if !(1..=100).contains(&page_size) {
        return Err(RankingError::InvalidInput("`pageSize` must be between 1 and 100.".into()));
    }
    if !(1..=500).contains(&page) {
        return Err(RankingError::InvalidInput("`page` must be between 1 and 500.".into()));
    }
    let start = (page as isize - 1) * page_size as isize;
    Ok((start, start + page_size as isize - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weights() -> HotWeights {
        HotWeights {
            views: 1,
            likes: 10,
            coins: 20,
            favourites: 15,
            shares: 25,
            comments: 5,
            danmaku: 2,
            new_boost_percent: 150,
            new_boost_hours: 24,
        }
    }

    #[test]
    fn the_hot_value_is_a_weighted_sum_with_a_boost_for_new_videos() {
        let counts = StatCounts { views: 1000, likes: 100, coins: 10, favourites: 20, shares: 4, comments: 6, danmaku: 50 };
        let plain = 1000 + 100 * 10 + 10 * 20 + 20 * 15 + 4 * 25 + 6 * 5 + 50 * 2;
        let now = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        assert_eq!(weights().hot_value(&counts, Some(now - Duration::days(3)), now), plain);
        assert_eq!(weights().hot_value(&counts, Some(now - Duration::hours(23)), now), plain * 150 / 100);
        assert_eq!(weights().hot_value(&counts, Some(now - Duration::hours(24)), now), plain, "24 h old is no longer new");
        assert_eq!(weights().hot_value(&counts, None, now), plain);
        assert_eq!(weights().hot_value(&counts, Some(now + Duration::minutes(1)), now), plain * 150 / 100, "published after `now`");
        let unliked = StatCounts { likes: -3, ..StatCounts::default() };
        assert_eq!(weights().hot_value(&unliked, None, now), 0, "negative growth counts as zero");
        let huge = StatCounts { views: i64::MAX, ..StatCounts::default() };
        assert_eq!(weights().hot_value(&huge, None, now), MAX_HOT_VALUE, "capped where f64 scores stay exact");
        assert_eq!(MAX_HOT_VALUE as f64 as i64, MAX_HOT_VALUE);
    }

    #[test]
    fn weights_and_pages_are_bounded() {
        assert!(HotWeights::parse(weights()).is_ok());
        assert!(HotWeights::parse(HotWeights { likes: -1, ..weights() }).is_err());
        assert!(HotWeights::parse(HotWeights { new_boost_percent: 99, ..weights() }).is_err());
        assert_eq!(page_bounds(2, 50).expect("page"), (50, 99));
        assert!(page_bounds(0, 50).is_err() && page_bounds(1, 101).is_err());
    }
}
