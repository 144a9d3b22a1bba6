//! CPU time of processes over a measured window, from `/proc/<pid>/stat`: steadier than
//! throughput on a shared machine, and it says which process spends it.

use std::collections::BTreeMap;
use std::time::Duration;

/// The unit of `utime` and `stime` in `/proc/<pid>/stat`: Linux reports them in USER_HZ, which
/// is 100 on every architecture it supports (what `getconf CLK_TCK` prints), whatever the
/// kernel's own tick rate.
const USER_HZ: u64 = 100;

/// Parses a `--cpu-of NAME=PID` argument.
pub fn parse_target(raw: &str) -> Result<(String, u32), String> {
    let (name, pid) = raw.split_once('=').ok_or_else(|| format!("expected NAME=PID, got `{raw}`"))?;
    let pid = pid.parse().map_err(|_| format!("`{pid}` is not a process id"))?;
    Ok((name.to_owned(), pid))
}

/// The CPU time (user + system) a process has used so far; `None` when the process is gone or
/// the system has no procfs. `pid` `None` is this process.
fn cpu_time(pid: Option<u32>) -> Option<Duration> {
    let path = pid.map_or_else(|| "/proc/self/stat".to_owned(), |pid| format!("/proc/{pid}/stat"));
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 1000 / USER_HZ))
}

/// The CPU time of every target and of the load tool itself (`load tool`), at one instant.
pub struct Snapshot(Vec<(String, Option<Duration>)>);

impl Snapshot {
    /// Reads every target's CPU time now.
    pub fn take(targets: &[(String, u32)]) -> Snapshot {
        let own = std::iter::once(("load tool".to_owned(), cpu_time(None)));
        Snapshot(targets.iter().map(|(name, pid)| (name.clone(), cpu_time(Some(*pid)))).chain(own).collect())
    }

    /// The CPU time each process spent from `self` to `later`; a process that ended between
    /// them is absent.
    pub fn spent_until(self, later: Snapshot) -> BTreeMap<String, Duration> {
        self.0.into_iter().zip(later.0).filter_map(|((name, before), (_, after))| Some((name, after?.checked_sub(before?)?))).collect()
    }
}
