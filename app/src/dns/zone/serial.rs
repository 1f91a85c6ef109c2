//! SOA serial numbers: the YYYYMMDDnn convention and RFC 1982 arithmetic.
//!
//! Secondaries only transfer a zone whose serial is *greater* in the sense
//! of RFC 1982 (a 32-bit circle), not in plain integer order, so both
//! functions here reason on that circle.

/// Half of the serial space; RFC 1982 comparisons are undefined at exactly
/// this distance.
const HALF: u32 = 1 << 31;

/// RFC 1982 §3.2: true when `a` is greater than `b` on the serial circle.
///
/// `a` is greater when it is ahead of `b` by less than 2^31. At a distance
/// of exactly 2^31 the relation is undefined and this returns `false` both
/// ways.
pub fn serial_gt(a: u32, b: u32) -> bool {
    (a < b && b - a > HALF) || (a > b && a - b < HALF)
}

/// Next serial for a zone change made on `today = (year, month, day)`.
///
/// Uses the date convention YYYYMMDDnn: if the current serial is behind
/// `today·100` (i.e. YYYYMMDD00) on the serial circle, jump to that value;
/// otherwise add one, wrapping at 2^32 as RFC 1982 allows. Comparing on the
/// circle rather than as integers means a serial that has already wrapped
/// past 2^32 (and looks small) still moves forward correctly.
///
/// The date is not checked for validity; a year above 4294 would not fit the
/// convention and the arithmetic simply wraps.
pub fn next_serial(current: u32, today: (u32, u32, u32)) -> u32 {
    let (year, month, day) = today;
    let dated = year
        .wrapping_mul(1_000_000)
        .wrapping_add(month.wrapping_mul(10_000))
        .wrapping_add(day.wrapping_mul(100));
    if serial_gt(dated, current) {
        dated
    } else {
        current.wrapping_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_comparisons() {
        assert!(serial_gt(2, 1));
        assert!(!serial_gt(1, 2));
        assert!(!serial_gt(5, 5));
        assert!(serial_gt(2024010101, 2024010100));
    }

    #[test]
    fn comparisons_at_the_wrap() {
        assert!(serial_gt(0, u32::MAX));
        assert!(!serial_gt(u32::MAX, 0));
        assert!(serial_gt(5, u32::MAX - 5));
        assert!(serial_gt(HALF - 1, 0));
        assert!(!serial_gt(0, HALF - 1));
        // Exactly half way: undefined, neither is greater.
        assert!(!serial_gt(HALF, 0));
        assert!(!serial_gt(0, HALF));
        assert!(!serial_gt(u32::MAX, HALF - 1));
        assert!(!serial_gt(HALF - 1, u32::MAX));
    }

    #[test]
    fn date_serials() {
        // Older date-based serial: jump to today's first.
        assert_eq!(next_serial(2023123105, (2024, 1, 15)), 2024011500);
        // Same day: increment.
        assert_eq!(next_serial(2024011500, (2024, 1, 15)), 2024011501);
        assert_eq!(next_serial(2024011509, (2024, 1, 15)), 2024011510);
        // Ahead of today (e.g. 100 edits in a day or clock skew): increment.
        assert_eq!(next_serial(2024011699, (2024, 1, 15)), 2024011700);
        // Small counter-style serial: today is ahead, jump.
        assert_eq!(next_serial(1, (2024, 1, 15)), 2024011500);
    }

    #[test]
    fn increments_wrap() {
        // The date is behind u32::MAX here, so the increment wraps to 0,
        // which RFC 1982 counts as greater.
        assert_eq!(next_serial(u32::MAX, (4294, 12, 31)), 0);
        assert!(serial_gt(0, u32::MAX));
        // From u32::MAX any 20xx date is ahead on the circle: jump to it.
        assert_eq!(next_serial(u32::MAX, (2024, 1, 15)), 2024011500);
        // Integers disagree with the circle here: 4.2e9 > 2024011500 as
        // integers, yet on the circle the date is ahead, so we jump to it.
        assert_eq!(
            next_serial(4_200_000_000, (2024, 1, 15)),
            2024011500,
            "4.2e9 is behind 2024011500 on the circle"
        );
        assert!(serial_gt(
            next_serial(4_200_000_000, (2024, 1, 15)),
            4_200_000_000
        ));
        assert_eq!(next_serial(3_000_000_000, (2024, 1, 15)), 3_000_000_001);
    }

    #[test]
    fn next_is_always_greater() {
        for cur in [
            0,
            1,
            HALF - 1,
            HALF,
            HALF + 1,
            u32::MAX - 1,
            u32::MAX,
            2024011500,
        ] {
            for day in [(2024, 1, 15), (2099, 12, 31), (1970, 1, 1)] {
                let next = next_serial(cur, day);
                assert!(serial_gt(next, cur), "{cur} -> {next}");
            }
        }
    }
}
