//! Time on the wire: RFC 3339 UTC with milliseconds, as Fynd renders it.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// Renders a time the way Fynd does: `2020-03-11T09:28:41.982Z`.
pub fn to_wire(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Milliseconds since the Unix epoch: how both stores keep times.
pub fn to_millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// The inverse of [`to_millis`]; out-of-range values clamp to the epoch.
pub fn from_millis(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis)
        .single()
        .unwrap_or_default()
}

/// Parses an RFC 3339 timestamp (any offset) into UTC.
pub fn parse_rfc3339(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_format_has_millis_and_z() {
        let at = parse_rfc3339("2020-03-11T09:28:41.982+00:00").unwrap();
        assert_eq!(to_wire(at), "2020-03-11T09:28:41.982Z");
        assert_eq!(from_millis(to_millis(at)), at);
    }
}
