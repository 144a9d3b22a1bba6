//! Daily download quotas (rules): the limit of a user, the day a download counts for and when
//! the quota resets. A day is a calendar day in the configured time zone (`calendar.time_zone`).

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use platform::auth::{AuthUser, Role};

/// The daily limit of `user` at `level` from the configured table; `None` is unlimited
/// (admins). A level past the table gets its last entry; an empty table is unlimited.
pub fn daily_limit(user: &AuthUser, level: i32, limits: &[u32]) -> Option<u32> {
    if user.role == Role::Admin {
        return None;
    }
    let index = usize::try_from(level).unwrap_or(0);
    limits.get(index).or(limits.last()).copied()
}

/// The quota day of `now`.
pub fn quota_day(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// When the quota day of `now` ends (the next local midnight), in UTC.
pub fn resets_at(now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let next = quota_day(now, tz) + Duration::days(1);
    let midnight = next.and_hms_opt(0, 0, 0).unwrap_or_default();
    // A midnight skipped by a DST change: the first instant after it.
    tz.from_local_datetime(&midnight).earliest().map_or_else(|| now + Duration::days(1), |local| local.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn limits_follow_the_level_table_and_admins_are_unlimited() {
        let user = AuthUser { id: Uuid::now_v7(), role: Role::User };
        let admin = AuthUser { role: Role::Admin, ..user };
        assert_eq!(daily_limit(&user, 0, &[5, 20]), Some(5));
        assert_eq!(daily_limit(&user, 1, &[5, 20]), Some(20));
        assert_eq!(daily_limit(&user, 7, &[5, 20]), Some(20));
        assert_eq!(daily_limit(&user, -1, &[5, 20]), Some(5));
        assert_eq!(daily_limit(&admin, 0, &[5, 20]), None);
        assert_eq!(daily_limit(&user, 0, &[]), None);
    }

    #[test]
    fn the_quota_day_and_its_reset_follow_the_calendar_zone() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T20:30:00Z").expect("time").with_timezone(&Utc);
        assert_eq!(quota_day(now, Tz::UTC).to_string(), "2026-12-01");
        assert_eq!(resets_at(now, Tz::UTC).to_rfc3339(), "2026-12-02T00:00:00+00:00");
        // 04:30 on the 2nd in Shanghai; resets at Shanghai midnight = 16:00 UTC on the 2nd.
        assert_eq!(quota_day(now, chrono_tz::Asia::Shanghai).to_string(), "2026-12-02");
        assert_eq!(resets_at(now, chrono_tz::Asia::Shanghai).to_rfc3339(), "2026-12-02T16:00:00+00:00");
    }
}
