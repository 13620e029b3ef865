//! Time as SSM writes it: epoch seconds (JSON numbers) for timestamp members, ISO 8601 strings
//! for GetCommandInvocation's execution times, ISO 8601 durations for its elapsed time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

/// Seconds since the epoch, to the millisecond, as timestamp members carry them.
pub(crate) fn epoch_seconds(time: SystemTime) -> f64 {
    let millis = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis());
    millis as f64 / 1000.0
}

/// `2024-06-07T12:30:00.123Z`.
pub(crate) fn iso(time: SystemTime) -> String {
    DateTime::<Utc>::from(time).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `PT1.234S`.
pub(crate) fn iso_duration(duration: Duration) -> String {
    format!("PT{}.{:03}S", duration.as_secs(), duration.subsec_millis())
}

/// A filter value such as `2024-07-07T00:00:00Z` or `2024-07-07`.
pub(crate) fn parse_instant(text: &str) -> Option<SystemTime> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc).into());
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_ssm() {
        let time = UNIX_EPOCH + Duration::from_millis(1_717_763_400_123);
        assert_eq!(epoch_seconds(time), 1_717_763_400.123);
        assert_eq!(iso(time), "2024-06-07T12:30:00.123Z");
        assert_eq!(iso_duration(Duration::from_millis(61_005)), "PT61.005S");
    }

    #[test]
    fn parses_filter_values() {
        let midnight = UNIX_EPOCH + Duration::from_secs(1_720_310_400);
        assert_eq!(parse_instant("2024-07-07T00:00:00Z"), Some(midnight));
        assert_eq!(parse_instant("2024-07-07"), Some(midnight));
        assert_eq!(parse_instant("yesterday"), None);
    }
}
