//! Download progress (a rule): percent, speed over a sliding window and ETA from byte counts
//! sampled over time.

use std::collections::VecDeque;

/// Seconds of samples the speed is averaged over.
const WINDOW_SECS: f64 = 3.0;

/// Speed and ETA from `(seconds, bytes so far)` samples.
#[derive(Debug, Default)]
pub struct ProgressMeter {
    samples: VecDeque<(f64, u64)>,
}

/// One reading of a meter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// Bytes so far.
    pub bytes_done: u64,
    /// Whole size, when known.
    pub bytes_total: Option<u64>,
    /// 0–100, when the size is known.
    pub percent: Option<f64>,
    /// Bytes per second over the last few seconds.
    pub speed_bps: u64,
    /// Seconds left at that speed, when the size is known and the speed is not zero.
    pub eta_secs: Option<u64>,
}

impl ProgressMeter {
    /// Records that `bytes` were done `at` seconds (any monotonic origin) and reads the meter.
    pub fn sample(&mut self, at: f64, bytes: u64, total: Option<u64>) -> Reading {
        // A restart (bytes going down) starts the window again.
        if self.samples.back().is_some_and(|(_, last)| *last > bytes) {
            self.samples.clear();
        }
        self.samples.push_back((at, bytes));
        while self.samples.len() > 2 && self.samples.front().is_some_and(|(first, _)| at - first > WINDOW_SECS) {
            self.samples.pop_front();
        }
        let speed_bps = match (self.samples.front(), self.samples.back()) {
            (Some((t0, b0)), Some((t1, b1))) if t1 - t0 > 0.0 => ((b1 - b0) as f64 / (t1 - t0)) as u64,
            _ => 0,
        };
        let total = total.filter(|total| *total > 0);
        let percent = total.map(|total| (bytes as f64 * 100.0 / total as f64).min(100.0));
        let eta_secs = total.filter(|_| speed_bps > 0).map(|total| total.saturating_sub(bytes).div_ceil(speed_bps));
        Reading { bytes_done: bytes, bytes_total: total, percent, speed_bps, eta_secs }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_is_averaged_over_the_window_and_eta_follows_from_it() {
        let mut meter = ProgressMeter::default();
        let first = meter.sample(0.0, 0, Some(10_000));
        assert_eq!((first.speed_bps, first.eta_secs, first.percent), (0, None, Some(0.0)));
        meter.sample(1.0, 1_000, Some(10_000));
        let reading = meter.sample(2.0, 2_000, Some(10_000));
        assert_eq!(reading.speed_bps, 1_000);
        assert_eq!(reading.eta_secs, Some(8));
        assert_eq!(reading.percent, Some(20.0));
        // Old samples leave the window: a burst shows up at once.
        meter.sample(5.0, 2_000, Some(10_000));
        let burst = meter.sample(6.0, 8_000, Some(10_000));
        assert!(burst.speed_bps >= 2_000, "{burst:?}");
    }

    #[test]
    fn unknown_sizes_have_no_percent_or_eta_and_restarts_reset_the_window() {
        let mut meter = ProgressMeter::default();
        meter.sample(0.0, 0, None);
        let reading = meter.sample(1.0, 500, None);
        assert_eq!((reading.percent, reading.eta_secs, reading.speed_bps), (None, None, 500));
        let restarted = meter.sample(2.0, 100, None);
        assert_eq!(restarted.speed_bps, 0);
    }
}
