//! Cursor strings (SLS-API.md §7): standard base64 of the ASCII decimal form of an `i64`.
//!
//! Only the text form lives here. What a cursor *means* (begin/end of a shard, validity ranges) is the
//! emulator's model; clients rely on consecutive LogGroups having consecutive integers.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

use crate::ProtocolError;

/// Standard alphabet, accepting input with or without `=` padding (docs show both forms).
const LENIENT_PADDING: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Longest valid payload: `-9223372036854775808` (20 characters).
const MAX_PAYLOAD_LEN: usize = 20;

/// Encodes a cursor: standard base64 (with `=` padding) of the ASCII decimal of `v`.
///
/// `encode_cursor(1700000000000000000) == "MTcwMDAwMDAwMDAwMDAwMDAwMA=="`.
pub fn encode_cursor(v: i64) -> String {
    STANDARD.encode(v.to_string())
}

/// Decodes a cursor produced by [`encode_cursor`] (or by the real service).
///
/// Accepts padded or unpadded standard base64 whose payload is an ASCII decimal `i64` with an optional
/// leading `-` (no `+`, no spaces, no surrounding whitespace in the cursor itself).
///
/// # Errors
/// [`ProtocolError::InvalidCursor`] when the text is not base64, the payload is not such a decimal, or it
/// does not fit in an `i64`.
pub fn decode_cursor(s: &str) -> Result<i64, ProtocolError> {
    // A valid cursor is at most 28 base64 characters; refuse long garbage before decoding it.
    if s.len() > 4 * MAX_PAYLOAD_LEN.div_ceil(3) {
        return Err(ProtocolError::InvalidCursor(format!(
            "cursor is too long ({} characters)",
            s.len()
        )));
    }
    let payload = LENIENT_PADDING
        .decode(s)
        .map_err(|e| ProtocolError::InvalidCursor(format!("cursor is not base64: {e}")))?;
    let digits = payload.strip_prefix(b"-").unwrap_or(&payload);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(ProtocolError::InvalidCursor(
            "cursor payload is not a decimal integer".to_owned(),
        ));
    }
    // Only ASCII digits and '-' remain, so this is valid UTF-8 and only overflow can fail.
    std::str::from_utf8(&payload)
        .ok()
        .and_then(|text| text.parse::<i64>().ok())
        .ok_or_else(|| ProtocolError::InvalidCursor("cursor value does not fit in i64".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_cursors_from_the_docs() {
        assert_eq!(
            encode_cursor(1_700_000_000_000_000_000),
            "MTcwMDAwMDAwMDAwMDAwMDAwMA=="
        );
        assert_eq!(
            decode_cursor("MTcwMDAwMDAwMDAwMDAwMDAwMA==").unwrap(),
            1_700_000_000_000_000_000
        );
        assert_eq!(
            decode_cursor("MTUyNDE1NTM3OTM3MzkwODQ5Ng==").unwrap(),
            1_524_155_379_373_908_496
        );
        // Unpadded form shown in the docs.
        assert_eq!(
            decode_cursor("MTQ0NzMyOTQwMTEwMjEzMDkwNA").unwrap(),
            1_447_329_401_102_130_904
        );
    }

    #[test]
    fn extremes_round_trip() {
        for v in [i64::MIN, -1, 0, 1, i64::MAX] {
            assert_eq!(decode_cursor(&encode_cursor(v)).unwrap(), v);
        }
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            " MTcwMDAwMDAwMDAwMDAwMDAwMA==",
            "MTcwMDAwMDAwMDAwMDAwMDAwMA== ",
            "MTcwMDAwMDAwMDAwMDAwMDAwM", // truncated (the Java function test's case)
            "not base64!",
            "YWJj",                         // "abc"
            "KzE=",                         // "+1"
            "LQ==",                         // "-"
            "IDE=",                         // " 1"
            "OTIyMzM3MjAzNjg1NDc3NTgwOA==", // 9223372036854775808 (overflow)
            "MTcwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw",
        ] {
            assert!(
                matches!(decode_cursor(bad), Err(ProtocolError::InvalidCursor(_))),
                "{bad:?} should be rejected"
            );
        }
    }

    proptest! {
        #[test]
        fn round_trip_any_i64(v in any::<i64>()) {
            let text = encode_cursor(v);
            prop_assert!(!text.contains('+') && !text.contains('/'));
            prop_assert_eq!(decode_cursor(&text).unwrap(), v);
            // The unpadded form decodes to the same value.
            prop_assert_eq!(decode_cursor(text.trim_end_matches('=')).unwrap(), v);
        }

        #[test]
        fn never_panics_on_arbitrary_text(s in ".{0,40}") {
            let _ = decode_cursor(&s);
        }

        #[test]
        fn rejects_base64_of_non_decimal(payload in "[^0-9-]{1,12}") {
            let text = STANDARD.encode(payload.as_bytes());
            prop_assert!(decode_cursor(&text).is_err());
        }
    }
}
