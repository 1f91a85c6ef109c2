//! Instants as the pages show them.
//!
//! The server's rows hold `chrono` times; what travels to the browser is
//! whole seconds since the Unix epoch ([`Timestamp`]), written out here by a
//! few lines of calendar arithmetic, so the wasm carries neither chrono's
//! format machinery nor its RFC 3339 reader (see the README's "What a
//! browser downloads"). Every page shows UTC.

use serde::{Deserialize, Serialize};

/// An instant, in whole seconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// Now, by the server's clock.
    #[cfg(feature = "ssr")]
    pub fn now() -> Self {
        chrono::Utc::now().into()
    }

    /// `2026-12-06 14:05 UTC`.
    pub fn minutes(self) -> String {
        let (y, mo, d, h, mi, _) = self.parts();
        format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02} UTC")
    }

    /// `2026-12-06 14:05:09 UTC`.
    pub fn seconds(self) -> String {
        let (y, mo, d, h, mi, s) = self.parts();
        format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} UTC")
    }

    /// `2026-12-06 14:05:09` (table cells whose column says UTC).
    pub fn plain(self) -> String {
        let (y, mo, d, h, mi, s) = self.parts();
        format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
    }

    /// `2026-12-06T14:05:09Z`, for a `<time datetime>` attribute.
    pub fn iso(self) -> String {
        let (y, mo, d, h, mi, s) = self.parts();
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }

    /// Year, month, day, hour, minute, second (proleptic Gregorian, UTC), by
    /// H. Hinnant's `civil_from_days` (eras of 400 years from 0000-03-01).
    fn parts(self) -> (i64, u32, u32, u32, u32, u32) {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400) as u32;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097); // [0, 146096]
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
        let mp = (5 * doy + 2) / 153; // [0, 11], March first
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        (year, month, day, secs / 3600, secs / 60 % 60, secs % 60)
    }
}

#[cfg(feature = "ssr")]
impl Timestamp {
    /// The instant as the database stores it.
    pub fn to_chrono(self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp(self.0, 0).unwrap_or_default()
    }
}

#[cfg(feature = "ssr")]
impl From<chrono::DateTime<chrono::Utc>> for Timestamp {
    fn from(t: chrono::DateTime<chrono::Utc>) -> Self {
        Timestamp(t.timestamp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants_read_as_written() {
        assert_eq!(Timestamp::EPOCH.seconds(), "1970-01-01 00:00:00 UTC");
        assert_eq!(Timestamp(951_782_400).iso(), "2000-02-29T00:00:00Z");
        assert_eq!(Timestamp(1_796_569_509).minutes(), "2026-12-06 15:05 UTC");
        assert_eq!(Timestamp(-1).seconds(), "1969-12-31 23:59:59 UTC");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn every_day_of_four_centuries_agrees_with_chrono() {
        use chrono::{DateTime, Utc};
        // One instant a day (at a varying second) from 1900 to 2300.
        let mut t = -2_208_988_800_i64;
        while t < 10_413_792_000 {
            let c = DateTime::<Utc>::from_timestamp(t, 0).unwrap();
            let ours = Timestamp::from(c);
            assert_eq!(
                ours.seconds(),
                c.format("%Y-%m-%d %H:%M:%S UTC").to_string()
            );
            assert_eq!(ours.iso(), c.format("%Y-%m-%dT%H:%M:%SZ").to_string());
            t += 86_400 + 37;
        }
    }
}
