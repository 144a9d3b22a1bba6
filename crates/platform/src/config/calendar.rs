use chrono_tz::Tz;
use serde::Deserialize;

/// The platform's calendar: where its days and weeks begin and end.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CalendarConfig {
    /// `VIDGRAPH_CALENDAR__TIME_ZONE`, an IANA zone name such as `Asia/Shanghai`; default `UTC`.
    /// Weekly boards close at Sunday 24:00 on this zone's wall clock (stored times stay UTC).
    /// An unknown name is refused when the configuration loads.
    pub time_zone: Tz,
}

impl Default for CalendarConfig {
    fn default() -> Self {
        Self { time_zone: default_time_zone() }
    }
}

fn default_time_zone() -> Tz {
    Tz::UTC
}
