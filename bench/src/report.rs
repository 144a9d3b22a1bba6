//! The two reports and their renderings.
//!
//! The text form is one `key  value` pair per line in a fixed order, so a
//! human can read it and `grep '^rps'` still works; the JSON form is the same
//! data on one line for scripts. Field names are part of the tool's interface:
//! rename them only together with the scripts that read them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::stats::LatencySummary;

/// Width of the key column in text reports.
const KEY_WIDTH: usize = 14;

/// Result of `vidgraph-bench http`.
#[derive(Debug, Clone, Serialize)]
pub struct HttpReport {
    /// Always `"http"`, so collected JSON lines say which mode made them.
    pub mode: &'static str,
    /// Target URL.
    pub url: String,
    /// `--operation-name`, if given.
    pub operation_name: Option<String>,
    /// Number of virtual users.
    pub concurrency: usize,
    /// Warm-up length, whose samples were discarded, in seconds.
    pub warmup_s: f64,
    /// Measured window in seconds.
    pub duration_s: f64,
    /// Requests started and completed inside the measured window.
    pub requests: u64,
    /// Requests that were not errors.
    pub ok: u64,
    /// Requests that were errors of any kind.
    pub errors: u64,
    /// `errors / requests`, 0 when there were no requests.
    pub error_rate: f64,
    /// Requests per second over the measured window.
    pub rps: f64,
    /// Latency of every measured request, errors included (as wrk and k6 do).
    pub latency_ms: Option<LatencySummary>,
    /// Error count per kind.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// The first error seen, `kind: body`, truncated.
    pub first_error: Option<String>,
    /// CPU time (user + system) over the measured window divided by `requests`, in µs, per
    /// `--cpu-of` process and for the load tool (`load tool`); a process that ended is absent.
    pub cpu_us_per_request: BTreeMap<String, f64>,
}

/// Result of `vidgraph-bench subscribe`.
#[derive(Debug, Clone, Serialize)]
pub struct SubscribeReport {
    /// Always `"subscribe"`.
    pub mode: &'static str,
    /// WebSocket URL the subscribers connected to.
    pub ws_url: String,
    /// Subscribers asked for.
    pub subscribers_requested: usize,
    /// Subscribers that got `connection_ack` and sent `subscribe`.
    pub subscribers_connected: usize,
    /// Wall time from the first connect to the last `subscribe` sent, in ms.
    pub connect_all_ms: f64,
    /// Per-subscriber connect time (TCP + upgrade + init/ack + subscribe).
    pub connect_ms: Option<LatencySummary>,
    /// Time from the last `subscribe` until every subscriber had received a probe event, in ms.
    pub sync_ms: Option<f64>,
    /// Probe triggers sent during synchronisation (their events are discarded).
    pub probes: u64,
    /// `"tagged"` (events matched by the `{{seq}}` marker) or `"ordinal"` (k-th to k-th).
    pub matching: &'static str,
    /// Measured triggers sent.
    pub events_sent: u64,
    /// Measured triggers that failed (HTTP or GraphQL error).
    pub trigger_errors: u64,
    /// `events_sent × subscribers_connected`.
    pub expected: u64,
    /// Events matched to a trigger.
    pub delivered: u64,
    /// `expected − delivered`.
    pub missing: u64,
    /// `missing / expected`, 0 when nothing was expected.
    pub missing_rate: f64,
    /// Events that could not be matched (extra, duplicate, or received before their trigger was sent).
    pub unmatched: u64,
    /// Delivery latency (receive − trigger send) of every delivered event.
    pub latency_ms: Option<LatencySummary>,
    /// Fan-out completion (tagged matching only): per trigger that reached every subscriber,
    /// the time until the last of them received it.
    pub last_delivery_ms: Option<LatencySummary>,
    /// Subscriber and trigger errors by kind.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// The first error seen, `kind: detail`, truncated.
    pub first_error: Option<String>,
    /// Whether the overall `--timeout` cut the run short.
    pub timed_out: bool,
    /// The CPU time of each `--cpu-of` process and of the load tool while events flowed (from
    /// the first measured trigger until drained); absent when no trigger was sent.
    pub cpu_while_flowing: Option<CpuWindow>,
}

/// CPU time spent by processes over a stretch of wall time.
#[derive(Debug, Clone, Serialize)]
pub struct CpuWindow {
    /// The stretch, in seconds.
    pub wall_s: f64,
    /// CPU seconds (user + system) per process; a process that ended is absent.
    pub cpu_s: BTreeMap<String, f64>,
}

/// A report that can be printed as text or as one JSON line.
pub trait Render: Serialize {
    /// Human-readable, one `key  value` per line.
    fn to_text(&self) -> String;

    /// The same data as a single JSON line.
    fn to_json_line(&self) -> serde_json::Result<String> {
        serde_json::to_string(self)
    }
}

impl Render for HttpReport {
    fn to_text(&self) -> String {
        let mut out = String::new();
        line(&mut out, "mode", self.mode);
        line(&mut out, "url", &self.url);
        line(&mut out, "operation", self.operation_name.as_deref().unwrap_or("-"));
        line(&mut out, "concurrency", self.concurrency);
        line(&mut out, "warmup_s", format!("{:.3}", self.warmup_s));
        line(&mut out, "duration_s", format!("{:.3}", self.duration_s));
        line(&mut out, "requests", self.requests);
        line(&mut out, "rps", format!("{:.1}", self.rps));
        line(&mut out, "latency_ms", latency(self.latency_ms.as_ref()));
        line(&mut out, "errors", format!("{} ({})", self.errors, percent(self.error_rate)));
        errors(&mut out, &self.errors_by_kind, self.first_error.as_deref());
        for (name, us) in &self.cpu_us_per_request {
            line(&mut out, &format!("cpu_us[{name}]"), format!("{us:.1} per request"));
        }
        out
    }
}

impl Render for SubscribeReport {
    fn to_text(&self) -> String {
        let mut out = String::new();
        line(&mut out, "mode", self.mode);
        line(&mut out, "ws_url", &self.ws_url);
        line(&mut out, "subscribers", format!("{} connected / {} requested", self.subscribers_connected, self.subscribers_requested));
        line(&mut out, "connect_all_ms", format!("{:.3}", self.connect_all_ms));
        line(&mut out, "connect_ms", latency(self.connect_ms.as_ref()));
        let sync = self.sync_ms.map_or_else(|| "n/a".to_owned(), |ms| format!("{ms:.3}"));
        line(&mut out, "sync_ms", format!("{sync} ({} probes)", self.probes));
        line(&mut out, "matching", self.matching);
        line(&mut out, "events_sent", format!("{} ({} trigger errors)", self.events_sent, self.trigger_errors));
        line(&mut out, "delivered", format!("{} / {} expected", self.delivered, self.expected));
        line(&mut out, "missing", format!("{} ({})", self.missing, percent(self.missing_rate)));
        line(&mut out, "unmatched", self.unmatched);
        line(&mut out, "latency_ms", latency(self.latency_ms.as_ref()));
        if self.last_delivery_ms.is_some() {
            line(&mut out, "last_delivery_ms", latency(self.last_delivery_ms.as_ref()));
        }
        errors(&mut out, &self.errors_by_kind, self.first_error.as_deref());
        line(&mut out, "timed_out", self.timed_out);
        if let Some(window) = &self.cpu_while_flowing {
            let spent: Vec<String> = window.cpu_s.iter().map(|(name, s)| format!("{name} {s:.1}")).collect();
            line(&mut out, "cpu_s", format!("while events flow ({:.1} s wall): {}", window.wall_s, spent.join("  ")));
        }
        out
    }
}

fn line(out: &mut String, key: &str, value: impl std::fmt::Display) {
    // At least one space, so that a long key such as `error[graphql:FORBIDDEN]`
    // still splits from its value on whitespace.
    let pad = KEY_WIDTH.saturating_sub(key.chars().count()).max(1);
    // Writing to a String cannot fail.
    let _ = writeln!(out, "{key}{:pad$}{value}", "");
}

fn latency(summary: Option<&LatencySummary>) -> String {
    summary.map_or_else(
        || "n/a".to_owned(),
        |s| format!("p50={:.3} p90={:.3} p99={:.3} max={:.3} mean={:.3} (n={})", s.p50, s.p90, s.p99, s.max, s.mean, s.samples),
    )
}

fn percent(rate: f64) -> String {
    format!("{:.2}%", rate * 100.0)
}

fn errors(out: &mut String, by_kind: &BTreeMap<String, u64>, first: Option<&str>) {
    for (kind, count) in by_kind {
        line(out, &format!("error[{kind}]"), count);
    }
    if let Some(first) = first {
        line(out, "first_error", first);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> LatencySummary {
        LatencySummary { samples: 1000, p50: 1.5, p90: 2.25, p99: 10.0, max: 42.125, mean: 1.75 }
    }

    fn http_report() -> HttpReport {
        HttpReport {
            mode: "http",
            url: "http://127.0.0.1:4000/graphql".into(),
            operation_name: Some("Me".into()),
            concurrency: 32,
            warmup_s: 2.0,
            duration_s: 10.0,
            requests: 1000,
            ok: 997,
            errors: 3,
            error_rate: 0.003,
            rps: 100.0,
            latency_ms: Some(summary()),
            errors_by_kind: BTreeMap::from([("graphql:UNAUTHENTICATED".into(), 1), ("http_500".into(), 2)]),
            first_error: Some("http_500: oops".into()),
            cpu_us_per_request: BTreeMap::from([("content".into(), 812.5), ("load tool".into(), 95.0)]),
        }
    }

    #[test]
    fn http_text_report_has_one_stable_line_per_key() {
        let expected = "\
mode          http
url           http://127.0.0.1:4000/graphql
operation     Me
concurrency   32
warmup_s      2.000
duration_s    10.000
requests      1000
rps           100.0
latency_ms    p50=1.500 p90=2.250 p99=10.000 max=42.125 mean=1.750 (n=1000)
errors        3 (0.30%)
error[graphql:UNAUTHENTICATED] 1
error[http_500] 2
first_error   http_500: oops
cpu_us[content] 812.5 per request
cpu_us[load tool] 95.0 per request
";
        assert_eq!(http_report().to_text(), expected);
    }

    #[test]
    fn http_json_report_is_one_line_with_every_number() {
        let json = http_report().to_json_line().expect("serialisable");
        assert!(!json.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(v["mode"], "http");
        assert_eq!(v["requests"], 1000);
        assert_eq!(v["rps"], 100.0);
        assert_eq!(v["error_rate"], 0.003);
        assert_eq!(v["latency_ms"]["p99"], 10.0);
        assert_eq!(v["errors_by_kind"]["http_500"], 2);
        assert_eq!(v["first_error"], "http_500: oops");
        assert_eq!(v["cpu_us_per_request"]["content"], 812.5);
    }

    #[test]
    fn empty_run_prints_na_instead_of_zero_latency() {
        let report = HttpReport {
            requests: 0,
            ok: 0,
            errors: 0,
            error_rate: 0.0,
            rps: 0.0,
            latency_ms: None,
            errors_by_kind: BTreeMap::new(),
            first_error: None,
            operation_name: None,
            cpu_us_per_request: BTreeMap::new(),
            ..http_report()
        };
        let text = report.to_text();
        assert!(text.contains("\nlatency_ms    n/a\n"), "{text}");
        assert!(text.contains("\noperation     -\n"), "{text}");
        assert!(text.ends_with("errors        0 (0.00%)\n"), "{text}");
        let v: serde_json::Value = serde_json::from_str(&report.to_json_line().expect("serialisable")).expect("valid JSON");
        assert!(v["latency_ms"].is_null());
    }

    #[test]
    fn subscribe_text_report_lists_delivery_and_timeout() {
        let report = SubscribeReport {
            mode: "subscribe",
            ws_url: "ws://127.0.0.1:4000/ws".into(),
            subscribers_requested: 100,
            subscribers_connected: 99,
            connect_all_ms: 250.0,
            connect_ms: Some(summary()),
            sync_ms: Some(120.5),
            probes: 2,
            matching: "tagged",
            events_sent: 10,
            trigger_errors: 0,
            expected: 990,
            delivered: 980,
            missing: 10,
            missing_rate: 10.0 / 990.0,
            unmatched: 0,
            latency_ms: Some(summary()),
            last_delivery_ms: None,
            errors_by_kind: BTreeMap::from([("connect".into(), 1)]),
            first_error: Some("connect: refused".into()),
            timed_out: true,
            cpu_while_flowing: Some(CpuWindow {
                wall_s: 10.04,
                cpu_s: BTreeMap::from([("content".into(), 0.12), ("load tool".into(), 7.9), ("router".into(), 6.8)]),
            }),
        };
        let text = report.to_text();
        for expected in [
            "subscribers   99 connected / 100 requested\n",
            "sync_ms       120.500 (2 probes)\n",
            "events_sent   10 (0 trigger errors)\n",
            "delivered     980 / 990 expected\n",
            "missing       10 (1.01%)\n",
            "error[connect] 1\n",
            "timed_out     true\n",
            "cpu_s         while events flow (10.0 s wall): content 0.1  load tool 7.9  router 6.8\n",
        ] {
            assert!(text.contains(expected), "missing `{expected}` in\n{text}");
        }
    }
}
