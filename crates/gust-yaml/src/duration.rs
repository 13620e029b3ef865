//! Durations as DAG files write them: a number of seconds, or `90s`, `5m`, `1h30m`,
//! `500ms`, `2d`.

use std::time::Duration;

/// Reads a duration from text such as `90s`, `5m`, `1h30m`, `250ms` or `2d`; a bare
/// number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("expected a duration such as 30, 90s, 5m or 1h30m".to_owned());
    }
    if let Ok(seconds) = text.parse::<f64>() {
        return seconds_to_duration(seconds);
    }
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!(
                "'{text}' is not a duration; expected e.g. 30, 90s, 5m, 1h30m or 500ms"
            ));
        }
        let number: f64 = rest[..digits]
            .parse()
            .map_err(|_| format!("'{text}' is not a duration"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let seconds_per = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            unit => {
                return Err(format!(
                    "'{text}' has the unknown unit '{unit}'; use ms, s, m, h or d"
                ));
            }
        };
        total += number * seconds_per;
        rest = &rest[unit_len..];
    }
    seconds_to_duration(total)
}

/// A number of seconds as a duration; negative, infinite or huge values are errors.
pub(crate) fn seconds_to_duration(seconds: f64) -> Result<Duration, String> {
    if !seconds.is_finite() || !(0.0..=1e10).contains(&seconds) {
        return Err(format!("{seconds} is not a usable number of seconds"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_every_form() {
        assert_eq!(parse_duration("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert!(
            parse_duration("5 minutes")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_duration("-3").is_err());
        assert!(parse_duration("m").is_err());
    }
}
