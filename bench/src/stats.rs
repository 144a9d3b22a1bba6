//! Latency percentiles and error tallies.
//!
//! Samples are kept as a plain `Vec<Duration>` and sorted once at the end: a
//! 10 s run at 50k req/s is 500k samples (8 MB), cheap enough that an HDR-style
//! histogram would only add approximation error without saving anything.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

/// How many characters of an error body the report keeps: enough to read a
/// GraphQL error with its `extensions.code`, short enough for one terminal line.
pub const ERROR_BODY_LIMIT: usize = 300;

/// Latency distribution of one run, in milliseconds rounded to microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Number of samples the percentiles were computed from.
    pub samples: usize,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest sample.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
}

impl LatencySummary {
    /// Summarises `samples` (sorted in place); `None` when there are none, so
    /// that an empty run prints `n/a` rather than a misleading `0 ms`.
    pub fn from_samples(samples: &mut [Duration]) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        let total: Duration = samples.iter().sum();
        // `samples.len()` fits in u32 for any realistic run; saturate rather than panic.
        let count = u32::try_from(samples.len()).unwrap_or(u32::MAX);
        Some(Self {
            samples: samples.len(),
            p50: to_ms(percentile(samples, 50.0)?),
            p90: to_ms(percentile(samples, 90.0)?),
            p99: to_ms(percentile(samples, 99.0)?),
            max: to_ms(*samples.last()?),
            mean: to_ms(total / count),
        })
    }
}

/// Nearest-rank percentile of an ascending `sorted` slice: the smallest sample
/// such that at least `p` percent of all samples are less than or equal to it.
///
/// Nearest-rank (no interpolation) always returns a latency that was actually
/// observed, which is what a reader of `p99` expects.
pub fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() || !(0.0..=100.0).contains(&p) {
        return None;
    }
    // The casts are exact: p/100 is in 0..=1, so rank is in 0..=len, and len is far below 2^52.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    // rank 0 only happens for p = 0, which means the minimum.
    let index = rank.saturating_sub(1).min(sorted.len() - 1);
    sorted.get(index).copied()
}

/// Milliseconds rounded to 3 decimals (microseconds), so that reports and JSON
/// lines stay short and stable across runs of the same code.
pub fn to_ms(d: Duration) -> f64 {
    round3(d.as_secs_f64() * 1000.0)
}

/// Rounds to 3 decimals.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// `part / whole`, 0 when `whole` is 0 (an empty run has no error rate to speak of).
pub fn ratio(part: u64, whole: u64) -> f64 {
    // Counts stay far below 2^52, so the conversion to f64 is exact.
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

/// Errors counted by kind, plus the body of the earliest one.
#[derive(Debug, Clone, Default)]
pub struct ErrorTally {
    /// Count per kind (`http_500`, `invalid_json`, `graphql:UNAUTHENTICATED`, …);
    /// a `BTreeMap` so the report lists kinds in a stable order.
    pub by_kind: BTreeMap<String, u64>,
    /// When and what the first error was, as `kind: body` truncated.
    first: Option<(Instant, String)>,
}

impl ErrorTally {
    /// Counts one error of `kind` seen at `at`, keeping its `detail` if it is the first.
    pub fn record(&mut self, kind: &str, detail: &str, at: Instant) {
        *self.by_kind.entry(kind.to_owned()).or_default() += 1;
        if self.first.as_ref().is_none_or(|(first_at, _)| at < *first_at) {
            self.first = Some((at, format!("{kind}: {}", truncate(detail, ERROR_BODY_LIMIT))));
        }
    }

    /// Adds the counts of `other` and keeps whichever first error came earlier.
    pub fn merge(&mut self, other: Self) {
        for (kind, n) in other.by_kind {
            *self.by_kind.entry(kind).or_default() += n;
        }
        if let Some((at, detail)) = other.first
            && self.first.as_ref().is_none_or(|(first_at, _)| at < *first_at)
        {
            self.first = Some((at, detail));
        }
    }

    /// Total number of errors of every kind.
    pub fn total(&self) -> u64 {
        self.by_kind.values().sum()
    }

    /// The first error, as `kind: body`.
    pub fn first(&self) -> Option<&str> {
        self.first.as_ref().map(|(_, detail)| detail.as_str())
    }
}

/// Cuts `s` to at most `max` characters (on a char boundary), marking the cut,
/// and flattens newlines so a body never breaks the one-line-per-key report.
pub fn truncate(s: &str, max: usize) -> String {
    let flat: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    match flat.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn percentiles_of_one_to_hundred_ms_are_the_nearest_rank() {
        let mut samples: Vec<Duration> = (1..=100).rev().map(ms).collect();
        let s = LatencySummary::from_samples(&mut samples).expect("non-empty");
        assert_eq!(s.samples, 100);
        assert_eq!(s.p50, 50.0);
        assert_eq!(s.p90, 90.0);
        assert_eq!(s.p99, 99.0);
        assert_eq!(s.max, 100.0);
        assert_eq!(s.mean, 50.5);
    }

    #[test]
    fn percentile_never_interpolates_between_samples() {
        let sorted = [ms(10), ms(20), ms(30), ms(40)];
        assert_eq!(percentile(&sorted, 50.0), Some(ms(20)));
        assert_eq!(percentile(&sorted, 51.0), Some(ms(30)));
        assert_eq!(percentile(&sorted, 99.0), Some(ms(40)));
        assert_eq!(percentile(&sorted, 100.0), Some(ms(40)));
        assert_eq!(percentile(&sorted, 0.0), Some(ms(10)));
    }

    #[test]
    fn a_single_sample_is_every_percentile() {
        let mut samples = vec![Duration::from_micros(1_234)];
        let s = LatencySummary::from_samples(&mut samples).expect("non-empty");
        assert_eq!((s.p50, s.p90, s.p99, s.max, s.mean), (1.234, 1.234, 1.234, 1.234, 1.234));
    }

    #[test]
    fn p99_of_a_thousand_samples_ignores_only_the_ten_slowest() {
        // 990 fast samples, 10 slow outliers: p99 is the 990th sample, still fast.
        let mut samples: Vec<Duration> = std::iter::repeat_n(ms(1), 990).chain(std::iter::repeat_n(ms(500), 10)).collect();
        let s = LatencySummary::from_samples(&mut samples).expect("non-empty");
        assert_eq!(s.p99, 1.0);
        assert_eq!(s.max, 500.0);
    }

    #[test]
    fn empty_samples_have_no_summary_and_no_percentile() {
        assert_eq!(LatencySummary::from_samples(&mut []), None);
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[ms(1)], 101.0), None);
    }

    #[test]
    fn sub_microsecond_detail_is_rounded_away() {
        assert_eq!(to_ms(Duration::from_nanos(1_234_567)), 1.235);
    }

    #[test]
    fn tally_counts_kinds_and_keeps_the_earliest_first_error() {
        let t0 = Instant::now();
        let mut a = ErrorTally::default();
        a.record("http_500", "late", t0 + ms(10));
        let mut b = ErrorTally::default();
        b.record("invalid_json", "early\nbody", t0);
        b.record("http_500", "x", t0 + ms(20));
        a.merge(b);
        assert_eq!(a.total(), 3);
        assert_eq!(a.by_kind.get("http_500"), Some(&2));
        assert_eq!(a.by_kind.get("invalid_json"), Some(&1));
        assert_eq!(a.first(), Some("invalid_json: early body"));
    }

    #[test]
    fn ratio_of_nothing_is_zero() {
        assert_eq!(ratio(0, 0), 0.0);
        assert_eq!(ratio(1, 4), 0.25);
    }

    #[test]
    fn truncate_cuts_on_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "hé…");
        assert_eq!(truncate("short", 10), "short");
    }
}
