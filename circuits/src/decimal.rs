//! Exact decimal strings ⇄ fixed-point integers (`docs/SPEC.md` §3).
//!
//! A decimal string is `[-]digits[.digits]`: no exponent, no `+`, no spaces, no
//! thousands separators. Parsing never rounds: more fractional digits than the
//! field declares is an error, unless the extra digits are all zero.

use ethnum::{I256, U256};
use thiserror::Error;

/// Why a decimal string was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecimalError {
    /// The string is empty.
    #[error("empty value")]
    Empty,
    /// Not of the form `[-]digits[.digits]`.
    #[error("not a decimal number: {0:?}")]
    Malformed(String),
    /// A `-` sign where only non-negative values are allowed.
    #[error("negative value {0:?} not allowed")]
    Negative(String),
    /// More fractional digits than declared.
    #[error("{value:?} has more than {decimals} decimal places (would need rounding)")]
    TooManyDecimals {
        /// The offending string.
        value: String,
        /// The declared number of decimals.
        decimals: u32,
    },
    /// Outside the declared bound.
    #[error("{value:?} is out of bounds ({bound})")]
    OutOfBounds {
        /// The offending string.
        value: String,
        /// The bound, in words.
        bound: &'static str,
    },
}

/// Parses a non-negative exact decimal with at most `decimals` fractional digits
/// into minimal units, over the full `u128` range; `bound` describes the limit in
/// the error for a value above `u128::MAX`. A leading `-` is refused, even for zero.
pub fn parse_unsigned_scaled(
    s: &str,
    decimals: u32,
    bound: &'static str,
) -> Result<u128, DecimalError> {
    let v = parse_unsigned_u256(s, decimals, bound)?;
    u128::try_from(v).map_err(|_| DecimalError::OutOfBounds {
        value: s.to_owned(),
        bound,
    })
}

/// [`parse_unsigned_scaled`] over 256 bits: for totals in common units (`D` may
/// reach 2^226, `docs/SPEC.md` §3). `decimals` may exceed 18 here (up to 36).
pub fn parse_unsigned_u256(
    s: &str,
    decimals: u32,
    bound: &'static str,
) -> Result<U256, DecimalError> {
    if s.is_empty() {
        return Err(DecimalError::Empty);
    }
    if s.starts_with('-') {
        return Err(DecimalError::Negative(s.to_owned()));
    }
    let malformed = || DecimalError::Malformed(s.to_owned());
    let (int_part, frac) = match s.split_once('.') {
        Some((_, "")) => return Err(malformed()),
        Some(parts) => parts,
        None => (s, ""),
    };
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if int_part.is_empty() || !digits(int_part) || !digits(frac) {
        return Err(malformed());
    }
    // Fractional digits beyond `decimals` are accepted only if they are zeros.
    let (kept, dropped) = frac.split_at(frac.len().min(decimals as usize));
    if dropped.bytes().any(|b| b != b'0') {
        return Err(DecimalError::TooManyDecimals {
            value: s.to_owned(),
            decimals,
        });
    }
    let too_big = || DecimalError::OutOfBounds {
        value: s.to_owned(),
        bound,
    };
    let ten = U256::from(10u8);
    let mut acc = U256::ZERO;
    for b in int_part.bytes().chain(kept.bytes()) {
        acc = acc
            .checked_mul(ten)
            .and_then(|v| v.checked_add(U256::from(b - b'0')))
            .ok_or_else(too_big)?;
    }
    for _ in kept.len()..decimals as usize {
        acc = acc.checked_mul(ten).ok_or_else(too_big)?;
    }
    Ok(acc)
}

/// Parses `s` as a signed exact decimal (`[-]digits[.digits]`) with at most
/// `decimals` fractional digits, scaled by `10^decimals`, in the `i128` range.
/// Callers check the tighter bounds of the model.
pub fn parse_scaled(s: &str, decimals: u32) -> Result<i128, DecimalError> {
    const BOUND: &str = "magnitude too large";
    if s.is_empty() {
        return Err(DecimalError::Empty);
    }
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let magnitude = match parse_unsigned_scaled(body, decimals, BOUND) {
        // "-" alone or "--1": report the whole string.
        Err(DecimalError::Empty | DecimalError::Negative(_) | DecimalError::Malformed(_)) => {
            return Err(DecimalError::Malformed(s.to_owned()));
        }
        Err(DecimalError::TooManyDecimals { decimals, .. }) => {
            return Err(DecimalError::TooManyDecimals {
                value: s.to_owned(),
                decimals,
            });
        }
        other => other.map_err(|_| DecimalError::OutOfBounds {
            value: s.to_owned(),
            bound: BOUND,
        })?,
    };
    let too_big = || DecimalError::OutOfBounds {
        value: s.to_owned(),
        bound: BOUND,
    };
    let v = i128::try_from(magnitude).map_err(|_| too_big())?;
    Ok(if negative { -v } else { v })
}

/// Formats `value / 10^decimals` exactly, with trailing fractional zeros removed
/// down to `min_decimals` places (so `format_scaled(1500, 3, 2) == "1.50"`).
pub fn format_scaled(value: I256, decimals: u32, min_decimals: u32) -> String {
    let negative = value < 0;
    let magnitude: U256 = value.unsigned_abs();
    let mut digits = magnitude.to_string();
    let decimals = decimals as usize;
    if digits.len() <= decimals {
        digits = "0".repeat(decimals + 1 - digits.len()) + &digits;
    }
    let (int_part, frac_part) = digits.split_at(digits.len() - decimals);
    let keep = frac_part
        .trim_end_matches('0')
        .len()
        .max((min_decimals as usize).min(decimals));
    let mut out = String::with_capacity(digits.len() + 2);
    if negative {
        out.push('-');
    }
    out.push_str(int_part);
    if keep > 0 {
        out.push('.');
        out.push_str(&frac_part[..keep]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exactly() {
        assert_eq!(parse_scaled("1.5", 6), Ok(1_500_000));
        assert_eq!(parse_scaled("-0.000001", 6), Ok(-1));
        assert_eq!(parse_scaled("42", 0), Ok(42));
        assert_eq!(parse_scaled("007.10", 2), Ok(710));
        assert_eq!(parse_scaled("1.2300", 2), Ok(123));
        assert_eq!(parse_scaled("0", 18), Ok(0));
    }

    #[test]
    fn refuses_rounding_and_garbage() {
        assert!(matches!(
            parse_scaled("1.234", 2),
            Err(DecimalError::TooManyDecimals { .. })
        ));
        for bad in [
            "", "-", ".5", "5.", "1e5", "+1", " 1", "1 ", "1,000", "--1", "0x10", "1.2.3",
        ] {
            assert!(parse_scaled(bad, 6).is_err(), "{bad:?} accepted");
        }
        assert!(matches!(
            parse_unsigned_scaled("-0", 2, "b"),
            Err(DecimalError::Negative(_))
        ));
        assert_eq!(
            parse_unsigned_scaled("340282366920938463463374607431768211455", 0, "b"),
            Ok(u128::MAX)
        );
        assert!(matches!(
            parse_unsigned_scaled("340282366920938463463374607431768211456", 0, "b"),
            Err(DecimalError::OutOfBounds { bound: "b", .. })
        ));
        assert!(matches!(
            parse_scaled("1701411834604692317316873037158841057280", 0),
            Err(DecimalError::OutOfBounds { .. })
        ));
    }

    #[test]
    fn formats_exactly() {
        assert_eq!(format_scaled(I256::from(1500), 3, 2), "1.50");
        assert_eq!(format_scaled(I256::from(1500), 3, 0), "1.5");
        assert_eq!(format_scaled(I256::from(-7), 4, 2), "-0.0007");
        assert_eq!(format_scaled(I256::from(0), 6, 2), "0.00");
        assert_eq!(format_scaled(I256::from(12), 0, 0), "12");
        assert_eq!(format_scaled(I256::from(1_000_000), 6, 0), "1");
    }

    #[test]
    fn round_trips() {
        for v in [0i128, 1, -1, 123_456_789, -(1 << 62), i64::MAX as i128] {
            let s = format_scaled(I256::from(v), 6, 0);
            assert_eq!(parse_scaled(&s, 6), Ok(v), "{s}");
        }
    }
}
