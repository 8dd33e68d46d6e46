//! Timestamps in Dispatch's format, `%Y-%m-%dT%H:%M:%S.%fZ` (microseconds, UTC).

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// Now, in milliseconds since the Unix epoch: how leases, claims and deadlines are stored.
pub fn epoch_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Now, in seconds since the Unix epoch.
pub fn epoch_seconds() -> i64 {
    Utc::now().timestamp()
}

/// A UTC instant that serialises as Dispatch does, e.g. `2024-01-02T03:04:05.000678Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// Now, truncated to microseconds (the precision of the format).
    pub fn now() -> Self {
        let now = Utc::now();
        Self::parse(&now.format(FORMAT).to_string()).unwrap_or(Self(now))
    }

    /// Parses Dispatch's format.
    pub fn parse(text: &str) -> Option<Self> {
        NaiveDateTime::parse_from_str(text, FORMAT)
            .ok()
            .map(|naive| Self(naive.and_utc()))
    }

    /// Seconds since the Unix epoch (throttle windows, token times).
    pub fn unix_seconds(&self) -> i64 {
        self.0.timestamp()
    }

    /// The instant.
    pub fn as_datetime(&self) -> DateTime<Utc> {
        self.0
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.format(FORMAT))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom("invalid timestamp"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_dispatch() {
        let t = Timestamp::parse("2024-01-02T03:04:05.000678Z").unwrap();
        assert_eq!(t.to_string(), "2024-01-02T03:04:05.000678Z");
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2024-01-02T03:04:05.000678Z\""
        );
        let now = Timestamp::now().to_string();
        assert_eq!(now.len(), "2024-01-02T03:04:05.000678Z".len(), "{now}");
    }
}
