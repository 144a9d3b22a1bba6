//! Circuit breakers per platform and per proxy provider (a rule, plus the per-process tables
//! the workers share: one [`Breakers`] per kind).
//!
//! Closed: calls go through and the last [`WINDOW`] outcomes are kept; when at least
//! [`MIN_CALLS`] are known and more than half failed, the breaker opens. Open: no call for
//! [`OPEN_FOR`]. Then half-open: [`PROBES`] calls go through; one failure opens it again, all
//! succeeding closes it. Only failures that say something about the source count (network,
//! timeouts, 5xx, 429); a 404 or a refused URL does not. Each process keeps its own breakers
//! (like Hystrix): a replica stops hammering a failing site on its own evidence.

use chrono::{DateTime, Duration, Utc};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

/// Outcomes remembered while closed.
pub const WINDOW: usize = 20;
/// Outcomes needed before the breaker may open.
pub const MIN_CALLS: usize = 20;
/// How long an open breaker refuses calls.
pub const OPEN_FOR: Duration = Duration::seconds(30);
/// Calls let through while half-open.
pub const PROBES: u32 = 3;

/// Where a breaker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Calls go through.
    Closed,
    /// No call until this time.
    Open {
        /// When it half-opens.
        until: DateTime<Utc>,
    },
    /// Probing.
    HalfOpen {
        /// Probes let through so far.
        started: u32,
        /// Probes that succeeded.
        succeeded: u32,
    },
}

/// Whether a call may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// Go.
    Go,
    /// Wait this long and ask again.
    Wait(Duration),
}

/// One breaker.
#[derive(Debug, Clone)]
pub struct Breaker {
    state: State,
    recent: VecDeque<bool>,
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker { state: State::Closed, recent: VecDeque::with_capacity(WINDOW) }
    }
}

impl Breaker {
    /// The state.
    pub fn state(&self) -> State {
        self.state
    }

    /// (calls, failures) remembered.
    pub fn recent(&self) -> (usize, usize) {
        (self.recent.len(), self.recent.iter().filter(|ok| !**ok).count())
    }

    /// Asks to make a call at `now`.
    pub fn permit(&mut self, now: DateTime<Utc>) -> Permit {
        match self.state {
            State::Closed => Permit::Go,
            State::Open { until } if now < until => Permit::Wait(until - now),
            State::Open { .. } => {
                self.state = State::HalfOpen { started: 1, succeeded: 0 };
                Permit::Go
            }
            State::HalfOpen { started, succeeded } if started < PROBES => {
                self.state = State::HalfOpen { started: started + 1, succeeded };
                Permit::Go
            }
            // Every probe is out: wait for their verdict.
            State::HalfOpen { .. } => Permit::Wait(Duration::seconds(1)),
        }
    }

    /// Records a call's outcome at `now`.
    pub fn record(&mut self, now: DateTime<Utc>, ok: bool) {
        match self.state {
            State::Closed => {
                if self.recent.len() == WINDOW {
                    self.recent.pop_front();
                }
                self.recent.push_back(ok);
                let (calls, failures) = self.recent();
                if calls >= MIN_CALLS && failures * 2 > calls {
                    self.open(now);
                }
            }
            State::HalfOpen { .. } if !ok => self.open(now),
            State::HalfOpen { started, succeeded } => {
                if succeeded + 1 >= PROBES {
                    self.state = State::Closed;
                    self.recent.clear();
                } else {
                    self.state = State::HalfOpen { started, succeeded: succeeded + 1 };
                }
            }
            // A call let through before it opened: its outcome is already reflected.
            State::Open { .. } => {}
        }
    }

    fn open(&mut self, now: DateTime<Utc>) {
        self.state = State::Open { until: now + OPEN_FOR };
        self.recent.clear();
    }
}

/// What a table of breakers guards: its label in metrics (`assets_circuit_state{<label>=…}`).
pub const PLATFORM: &str = "platform";
/// Breakers of proxy providers.
pub const PROXY_PROVIDER: &str = "proxy_provider";

/// The breakers of this process of one kind, by name (the platform, the proxy provider).
#[derive(Debug, Clone)]
pub struct Breakers {
    kind: &'static str,
    by_platform: Arc<Mutex<HashMap<String, Breaker>>>,
}

impl Default for Breakers {
    fn default() -> Self {
        Breakers::of_kind(PLATFORM)
    }
}

fn gauge_value(state: State) -> f64 {
    match state {
        State::Closed => 0.0,
        State::HalfOpen { .. } => 1.0,
        State::Open { .. } => 2.0,
    }
}

impl Breakers {
    /// An empty table of `kind` ([`PLATFORM`], [`PROXY_PROVIDER`]).
    pub fn of_kind(kind: &'static str) -> Breakers {
        Breakers { kind, by_platform: Arc::default() }
    }

    /// Its kind.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// Asks to call `platform` at `now`.
    pub fn permit(&self, platform: &str, now: DateTime<Utc>) -> Permit {
        let mut table = self.by_platform.lock().unwrap_or_else(PoisonError::into_inner);
        let breaker = table.entry(platform.to_owned()).or_default();
        let permit = breaker.permit(now);
        metrics::gauge!("assets_circuit_state", self.kind => platform.to_owned()).set(gauge_value(breaker.state()));
        permit
    }

    /// Until when the breaker of `platform` refuses every call, when it is open at `now`. A
    /// look only: unlike [`Breakers::permit`] it never half-opens the breaker or takes a probe.
    pub fn open_until(&self, platform: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let table = self.by_platform.lock().unwrap_or_else(PoisonError::into_inner);
        match table.get(platform).map(Breaker::state) {
            Some(State::Open { until }) if now < until => Some(until),
            _ => None,
        }
    }

    /// Records an outcome of a call to `platform`.
    pub fn record(&self, platform: &str, now: DateTime<Utc>, ok: bool) {
        let mut table = self.by_platform.lock().unwrap_or_else(PoisonError::into_inner);
        let breaker = table.entry(platform.to_owned()).or_default();
        let before = breaker.state();
        breaker.record(now, ok);
        let after = breaker.state();
        if std::mem::discriminant(&before) != std::mem::discriminant(&after) {
            tracing::warn!(kind = self.kind, name = platform, state = ?after, "circuit breaker changed state");
        }
        metrics::gauge!("assets_circuit_state", self.kind => platform.to_owned()).set(gauge_value(after));
    }

    /// Every breaker: (platform, breaker), by platform.
    pub fn snapshot(&self) -> Vec<(String, Breaker)> {
        let table = self.by_platform.lock().unwrap_or_else(PoisonError::into_inner);
        let mut all: Vec<_> = table.iter().map(|(platform, breaker)| (platform.clone(), breaker.clone())).collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).expect("time")
    }

    #[test]
    fn it_opens_when_more_than_half_of_twenty_calls_failed_and_not_before() {
        let mut breaker = Breaker::default();
        for _ in 0..19 {
            breaker.record(at(0), false);
        }
        assert_eq!(breaker.state(), State::Closed, "19 calls are not enough evidence");
        breaker.record(at(0), true);
        assert_eq!(breaker.state(), State::Open { until: at(30) }, "19 of 20 failed");
        let mut half = Breaker::default();
        for n in 0..20 {
            half.record(at(0), n % 2 == 0);
        }
        assert_eq!(half.state(), State::Closed, "exactly half is not more than half");
        half.record(at(1), false);
        assert_eq!(half.state(), State::Open { until: at(31) });
    }

    #[test]
    fn looking_at_an_open_breaker_neither_half_opens_it_nor_takes_a_probe() {
        let breakers = Breakers::of_kind(PROXY_PROVIDER);
        assert_eq!(breakers.open_until("provider", at(0)), None, "an unknown breaker is closed");
        for _ in 0..MIN_CALLS {
            breakers.record("provider", at(0), false);
        }
        assert_eq!(breakers.open_until("provider", at(10)), Some(at(30)));
        for _ in 0..10 {
            assert_eq!(breakers.open_until("provider", at(30)), None, "due to half-open");
        }
        for _ in 0..PROBES {
            assert_eq!(breakers.permit("provider", at(30)), Permit::Go, "every probe is still there");
        }
        assert!(matches!(breakers.permit("provider", at(30)), Permit::Wait(_)));
    }

    #[test]
    fn an_open_breaker_waits_then_three_probes_decide() {
        let mut breaker = Breaker::default();
        for _ in 0..20 {
            breaker.record(at(0), false);
        }
        assert_eq!(breaker.permit(at(10)), Permit::Wait(Duration::seconds(20)));
        for _ in 0..PROBES {
            assert_eq!(breaker.permit(at(30)), Permit::Go);
        }
        assert!(matches!(breaker.permit(at(30)), Permit::Wait(_)), "only three probes");
        breaker.record(at(31), true);
        breaker.record(at(31), true);
        assert!(matches!(breaker.state(), State::HalfOpen { .. }));
        breaker.record(at(31), true);
        assert_eq!(breaker.state(), State::Closed);

        for _ in 0..20 {
            breaker.record(at(40), false);
        }
        assert_eq!(breaker.permit(at(70)), Permit::Go);
        breaker.record(at(71), false);
        assert_eq!(breaker.state(), State::Open { until: at(101) }, "a failed probe opens it again");
    }
}
