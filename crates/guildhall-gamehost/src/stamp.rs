//! Timestamps in file names (`2025-07-12T10-20-30.123Z`): UTC, sortable as text,
//! with no `:` so every filesystem and `scp` take them.

use time::{Date, Month, OffsetDateTime, Time};

/// The file-name form of `at`, to the millisecond.
pub fn file_stamp(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}-{:02}-{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

/// Reads back what [`file_stamp`] wrote (and nothing else).
pub fn parse_file_stamp(text: &str) -> Option<OffsetDateTime> {
    let bytes = text.as_bytes();
    if bytes.len() != 24 || &text[23..] != "Z" {
        return None;
    }
    let separators = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b'-'),
        (16, b'-'),
        (19, b'.'),
    ];
    if separators.iter().any(|&(at, byte)| bytes[at] != byte) {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u32> {
        let digits = &text[from..to];
        digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    let year = i32::try_from(number(0, 4)?).ok()?;
    let month = Month::try_from(u8::try_from(number(5, 7)?).ok()?).ok()?;
    let date = Date::from_calendar_date(year, month, u8::try_from(number(8, 10)?).ok()?).ok()?;
    let time = Time::from_hms_milli(
        u8::try_from(number(11, 13)?).ok()?,
        u8::try_from(number(14, 16)?).ok()?,
        u8::try_from(number(17, 19)?).ok()?,
        u16::try_from(number(20, 23)?).ok()?,
    )
    .ok()?;
    Some(date.with_time(time).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_stamp() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_752_315_630_123_456_789).unwrap();
        assert_eq!(file_stamp(at), "2025-07-12T10-20-30.123Z");
        assert_eq!(
            parse_file_stamp("2025-07-12T10-20-30.123Z")
                .unwrap()
                .unix_timestamp(),
            1_752_315_630
        );
        for bad in [
            "",
            "2025-07-12T10-20-30.123",
            "2025-13-12T10-20-30.123Z",
            "2025-07-12T10:20:30.123Z",
        ] {
            assert_eq!(parse_file_stamp(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn stamps_round_trip_to_the_millisecond_and_sort_as_time(a in 0i64..4_102_444_800_000, b in 0i64..4_102_444_800_000) {
            let at = |ms: i64| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap();
            let (sa, sb) = (file_stamp(at(a)), file_stamp(at(b)));
            prop_assert_eq!(parse_file_stamp(&sa), Some(at(a)));
            prop_assert_eq!(sa.cmp(&sb), a.cmp(&b));
        }
    }
}
