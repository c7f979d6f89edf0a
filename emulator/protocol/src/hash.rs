//! Shard hash keys (SLS-API.md §8): 128-bit values written as 32 lower-case hex digits.
//!
//! Shard ranges and routing decisions belong to the emulator's model; this module only converts between
//! the text form and `u128`.

use md5::{Digest, Md5};

use crate::ProtocolError;

/// Number of hex digits of a full hash key.
pub const HASH_KEY_DIGITS: usize = 32;

/// Parses a shard hash key: 1 to 32 hex digits (either case), padded on the **right** with zeros to 32
/// digits (`"5F"` is `0x5f000000_00000000_00000000_00000000`), as a `u128`.
///
/// # Errors
/// [`ProtocolError::InvalidHashKey`] when the key is empty, longer than 32 characters or contains anything
/// but hex digits (signs and spaces included).
pub fn parse_hash_key(s: &str) -> Result<u128, ProtocolError> {
    if s.is_empty() || s.len() > HASH_KEY_DIGITS {
        return Err(ProtocolError::InvalidHashKey(format!(
            "hash key must have 1 to {HASH_KEY_DIGITS} hex digits, got {} characters",
            s.len()
        )));
    }
    let mut value: u128 = 0;
    for c in s.chars() {
        let digit = c.to_digit(16).ok_or_else(|| {
            ProtocolError::InvalidHashKey(format!("hash key {s:?} contains a non-hex character"))
        })?;
        value = (value << 4) | u128::from(digit);
    }
    // s.len() is 1..=32 here, so the shift is 0..=124.
    Ok(value << (4 * (HASH_KEY_DIGITS - s.len())))
}

/// Formats a hash key as 32 lower-case hex digits.
pub fn format_hash_key(v: u128) -> String {
    format!("{v:032x}")
}

/// MD5 of arbitrary bytes as a `u128` (big-endian): how producers turn a routing key into a hash key.
pub fn md5_hash_key(data: &[u8]) -> u128 {
    u128::from_be_bytes(Md5::digest(data).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pads_short_keys_on_the_right() {
        assert_eq!(parse_hash_key("5F").unwrap(), 0x5f << 120);
        assert_eq!(parse_hash_key("8").unwrap(), 1u128 << 127);
        assert_eq!(
            parse_hash_key("80000000000000000000000000000000").unwrap(),
            1u128 << 127
        );
        assert_eq!(
            parse_hash_key("ffffffffffffffffffffffffffffffff").unwrap(),
            u128::MAX
        );
        assert_eq!(
            parse_hash_key("0123456789abcdef0123456789ABCDEF").unwrap(),
            0x0123456789abcdef0123456789abcdef
        );
    }

    #[test]
    fn formats_lower_case_32_digits() {
        assert_eq!(format_hash_key(0), "00000000000000000000000000000000");
        assert_eq!(
            format_hash_key(1u128 << 127),
            "80000000000000000000000000000000"
        );
        assert_eq!(
            format_hash_key(u128::MAX),
            "ffffffffffffffffffffffffffffffff"
        );
    }

    #[test]
    fn rejects_bad_keys() {
        for bad in [
            "",
            "+5",
            "-5",
            " 5",
            "5 ",
            "xyz",
            "0x5f",
            "é",
            "000000000000000000000000000000000",
        ] {
            assert!(
                matches!(parse_hash_key(bad), Err(ProtocolError::InvalidHashKey(_))),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn md5_of_known_inputs() {
        assert_eq!(
            format_hash_key(md5_hash_key(b"")),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert_eq!(
            format_hash_key(md5_hash_key(b"abc")),
            "900150983cd24fb0d6963f7d28e17f72"
        );
    }

    proptest! {
        #[test]
        fn format_parse_round_trip(v in any::<u128>()) {
            prop_assert_eq!(parse_hash_key(&format_hash_key(v)).unwrap(), v);
            prop_assert_eq!(parse_hash_key(&format_hash_key(v).to_uppercase()).unwrap(), v);
        }

        #[test]
        fn prefix_equals_right_padded(key in "[0-9a-fA-F]{1,32}") {
            let padded = format!("{key:0<32}");
            prop_assert_eq!(parse_hash_key(&key).unwrap(), parse_hash_key(&padded).unwrap());
        }

        #[test]
        fn never_panics(s in ".{0,40}") {
            let _ = parse_hash_key(&s);
        }
    }
}
