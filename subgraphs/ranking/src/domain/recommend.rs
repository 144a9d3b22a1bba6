//! Recommendations for one viewer, from what they engaged with.
//!
//! Taste is learned from the viewer ids in content's stat events: each action adds engagement
//! points to the video's author and region for that viewer ([`engagement_points`]).
//! Candidates come from four sources — the week's hot ranking, the best videos of the viewer's
//! top authors and top regions, and fresh videos — and every candidate gets one score:
//!
//! ```text
//! score = 0.45 × taste + 0.35 × popularity + 0.20 × freshness
//! taste      = (author points / the viewer's best author's points
//!               + region points / the viewer's best region's points) / 2        ∈ [0, 1]
//! popularity = ln(1 + hot value) / ln(1 + the best candidate's hot value)        ∈ [0, 1]
//! freshness  = 1 − age / 48 h for a video younger than 48 hours, else 0          ∈ [0, 1]
//! ```
//!
//! Popularity is log-scaled so that one viral video does not flatten every other difference;
//! taste weighs most because it is what makes the list personal. On top of the score, every
//! fifth place goes to the best fresh video not placed yet, so new uploads get seen even by a
//! viewer whose taste would otherwise fill the list. Watched videos never appear. A viewer with
//! no taste yet (or an anonymous one) gets popularity and freshness only: the hot list.

use chrono::{DateTime, Duration, Utc};
use platform::events::{StatAction, StatCounts};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// How long a video counts as fresh.
pub const FRESH_FOR_HOURS: i64 = 48;
/// Every this many places, one goes to a fresh video.
const FRESH_EVERY: usize = 5;

/// Engagement points an action gives the video's author and region in the viewer's taste
/// (negative for withdrawals; taste never goes below zero).
pub fn engagement_points(action: StatAction, delta: &StatCounts) -> i64 {
    match action {
        StatAction::View => 1,
        StatAction::Like => 3,
        StatAction::Unlike => -3,
        StatAction::Coin => 5 * delta.coins.max(1),
        StatAction::Favourite => 4,
        StatAction::Unfavourite => -4,
        StatAction::Share => 4,
        StatAction::Comment => 2,
        StatAction::CommentDeleted => 0,
        StatAction::Danmaku => 1,
    }
}

/// A video that may be recommended.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The video.
    pub video_id: Uuid,
    /// Its author.
    pub author_id: Uuid,
    /// Its region.
    pub region_id: i32,
    /// Its publication time.
    pub published_at: Option<DateTime<Utc>>,
    /// Its all-time hot value.
    pub hot: i64,
}

/// What a viewer engages with: points per author and per region.
#[derive(Debug, Clone, Default)]
pub struct Taste {
    /// Points per author.
    pub authors: HashMap<Uuid, i64>,
    /// Points per region.
    pub regions: HashMap<i32, i64>,
}

/// The recommended order of `candidates` for a viewer with `taste` who watched `watched`.
pub fn recommend(candidates: &[Candidate], taste: &Taste, watched: &HashSet<Uuid>, now: DateTime<Utc>) -> Vec<Uuid> {
    let mut seen = HashSet::new();
    let pool: Vec<&Candidate> = candidates.iter().filter(|c| !watched.contains(&c.video_id) && seen.insert(c.video_id)).collect();
    let best_hot = pool.iter().map(|c| c.hot).max().unwrap_or(0).max(1) as f64;
    let best_author = taste.authors.values().copied().max().unwrap_or(0).max(1) as f64;
    let best_region = taste.regions.values().copied().max().unwrap_or(0).max(1) as f64;
    let freshness = |c: &Candidate| match c.published_at {
        Some(published) if now - published < Duration::hours(FRESH_FOR_HOURS) => {
            let age = (now - published).num_seconds().max(0) as f64;
            1.0 - age / (FRESH_FOR_HOURS * 3600) as f64
        }
        _ => 0.0,
    };
    let mut scored: Vec<(f64, bool, Uuid)> = pool
        .iter()
        .map(|c| {
            let author = *taste.authors.get(&c.author_id).unwrap_or(&0) as f64 / best_author;
            let region = *taste.regions.get(&c.region_id).unwrap_or(&0) as f64 / best_region;
            let taste_part = (author + region) / 2.0;
            let popularity = (1.0 + c.hot.max(0) as f64).ln() / (1.0 + best_hot).ln();
            let fresh = freshness(c);
            (0.45 * taste_part + 0.35 * popularity + 0.20 * fresh, fresh > 0.0, c.video_id)
        })
        .collect();
    // Best score first; ties by id, so the order (and so the cursors) are stable.
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.2.cmp(&a.2)));
    let mut by_score: Vec<(bool, Uuid)> = scored.iter().map(|(_, fresh, id)| (*fresh, *id)).collect();
    let mut order = Vec::with_capacity(by_score.len());
    while !by_score.is_empty() {
        let fresh_turn = (order.len() + 1) % FRESH_EVERY == 0;
        let index = if fresh_turn { by_score.iter().position(|(fresh, _)| *fresh).unwrap_or(0) } else { 0 };
        order.push(by_score.remove(index).1);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(author: Uuid, region: i32, hot: i64, age_hours: i64, now: DateTime<Utc>) -> Candidate {
        Candidate {
            video_id: Uuid::now_v7(),
            author_id: author,
            region_id: region,
            published_at: Some(now - Duration::hours(age_hours)),
            hot,
        }
    }

    #[test]
    fn taste_beats_popularity_watched_videos_never_return_and_fresh_ones_get_a_place() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        let (loved, other) = (Uuid::now_v7(), Uuid::now_v7());
        let viral = candidate(other, 1, 1_000_000, 500, now);
        let favourite_author = candidate(loved, 3, 2_000, 500, now);
        let watched = candidate(loved, 3, 50_000, 500, now);
        let olds: Vec<Candidate> = (0..6).map(|n| candidate(other, 1, 10_000 + n, 500, now)).collect();
        let fresh = candidate(other, 2, 10, 1, now);
        let mut all = vec![viral.clone(), favourite_author.clone(), watched.clone(), fresh.clone()];
        all.extend(olds);
        let taste = Taste { authors: HashMap::from([(loved, 30)]), regions: HashMap::from([(3, 30), (1, 3)]) };
        let order = recommend(&all, &taste, &HashSet::from([watched.video_id]), now);
        assert_eq!(order[0], favourite_author.video_id, "taste first");
        assert_eq!(order[1], viral.video_id);
        assert!(!order.contains(&watched.video_id));
        assert!(order.iter().position(|id| *id == fresh.video_id).is_some_and(|p| p < 5), "a fresh video within the first five");
        assert_eq!(order.len(), all.len() - 1);

        let anonymous = recommend(&all, &Taste::default(), &HashSet::new(), now);
        assert_eq!(anonymous[0], viral.video_id, "no taste: popularity");
    }

    #[test]
    fn actions_have_engagement_points() {
        assert!(
            engagement_points(StatAction::Coin, &StatCounts { coins: 2, ..StatCounts::default() })
                > engagement_points(StatAction::Like, &StatCounts::default())
        );
        assert!(engagement_points(StatAction::Unlike, &StatCounts::default()) < 0);
    }
}
