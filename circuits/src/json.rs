//! JSON encodings shared by every v2 artifact (`docs/SPEC.md` §7).
//!
//! A 64-bit integer is written as a decimal string: JavaScript's `JSON.parse` reads
//! every number as a double and silently rounds integers above `2^53`, so a checker
//! written from the docs in JavaScript would read another epoch id. Only the
//! canonical spelling is accepted (ASCII digits, no sign, no leading zero), so one
//! value has one spelling.

use serde::{Deserialize, Deserializer, Serializer};

/// Parses the canonical decimal spelling of a `u64`.
pub fn parse_u64(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text.len() == 1 || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

/// `0x` + `2·N` lowercase hex digits as `N` bytes: the one spelling of an address,
/// a commitment or a signature (mixed or upper case is refused, not reinterpreted).
pub fn lower_hex_bytes<const N: usize>(text: &str) -> Option<[u8; N]> {
    let digits = text.strip_prefix("0x")?;
    if digits.len() != 2 * N
        || !digits
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(digits, &mut out).ok()?;
    Some(out)
}

/// `#[serde(with = "backstop_circuits::json::u64_string")]`: a `u64` as a canonical
/// decimal string.
pub mod u64_string {
    use super::*;

    /// Writes the decimal string.
    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    /// Reads a canonical decimal string; a JSON number is refused.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let text = String::deserialize(d)?;
        parse_u64(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{text:?} is not a canonical decimal string of a 64-bit unsigned integer"
            ))
        })
    }
}

/// `#[serde(with = "backstop_circuits::json::opt_u64_string")]`: an optional `u64`
/// as a canonical decimal string, or `null`.
pub mod opt_u64_string {
    use super::*;

    /// Writes the decimal string, or `null`.
    pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }
}

/// `1`, the default of a shape's bracket count `T` in JSON (risk model v1).
pub fn one() -> usize {
    1
}

/// Whether a shape's `T` is the default 1 (not written, so that a risk model v1
/// file is what it was before risk model v2).
pub fn is_one(v: &usize) -> bool {
    *v == 1
}

/// Whether a shape's waterfall flag is the default false (not written).
pub fn is_false(v: &bool) -> bool {
    !*v
}

/// Whether a shape's `A` is the default 0 (not written, like [`is_one`]).
pub fn is_zero(v: &usize) -> bool {
    *v == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct T {
        #[serde(with = "u64_string")]
        v: u64,
    }

    #[test]
    fn only_the_canonical_string_is_read() {
        let max = T { v: u64::MAX };
        let text = serde_json::to_string(&max).unwrap();
        assert_eq!(text, r#"{"v":"18446744073709551615"}"#);
        assert_eq!(serde_json::from_str::<T>(&text).unwrap(), max);
        for bad in [
            r#"{"v":7}"#,
            r#"{"v":"07"}"#,
            r#"{"v":"+7"}"#,
            r#"{"v":""}"#,
            r#"{"v":"18446744073709551616"}"#,
            r#"{"v":"7.0"}"#,
        ] {
            assert!(serde_json::from_str::<T>(bad).is_err(), "{bad}");
        }
        assert_eq!(serde_json::from_str::<T>(r#"{"v":"0"}"#).unwrap().v, 0);
    }
}
