//! A minimal Solidity ABI encoder: enough for the epoch contract's calls.
//!
//! Values are [`Token`]s; [`encode_call`] prefixes the encoded arguments with the
//! function selector (the first 4 bytes of the Keccak-256 of the signature).
//! Encoding follows the Solidity ABI specification: static values in place, dynamic
//! ones (`T[]`, and tuples or fixed arrays holding one) behind an offset.

use ark_ff::{BigInteger, PrimeField};
use sha3::{Digest, Keccak256};

/// Keccak-256.
pub fn keccak256(bytes: &[u8]) -> [u8; 32] {
    Keccak256::digest(bytes).into()
}

/// One ABI value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// Any 32-byte static value (`uintN`, `bool`, `bytes32`, `address`), as its word.
    Word([u8; 32]),
    /// A dynamic array `T[]`.
    Array(Vec<Token>),
    /// A fixed-size array `T[k]`.
    FixedArray(Vec<Token>),
    /// A tuple (a struct).
    Tuple(Vec<Token>),
    /// A byte string `bytes`.
    Bytes(Vec<u8>),
}

impl Token {
    /// An unsigned integer.
    pub fn uint(v: u128) -> Self {
        let mut w = [0u8; 32];
        w[16..].copy_from_slice(&v.to_be_bytes());
        Token::Word(w)
    }

    /// A boolean.
    pub fn bool(v: bool) -> Self {
        Token::uint(v.into())
    }

    /// Whether the value is encoded behind an offset.
    fn is_dynamic(&self) -> bool {
        match self {
            Token::Word(_) => false,
            Token::Array(_) | Token::Bytes(_) => true,
            Token::FixedArray(items) | Token::Tuple(items) => items.iter().any(Token::is_dynamic),
        }
    }

    /// The value's encoding.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Token::Word(w) => w.to_vec(),
            Token::Array(items) => {
                let mut out = Token::uint(items.len() as u128).encode();
                out.extend(encode_sequence(items));
                out
            }
            Token::FixedArray(items) | Token::Tuple(items) => encode_sequence(items),
            Token::Bytes(bytes) => {
                let mut out = Token::uint(bytes.len() as u128).encode();
                out.extend(bytes);
                out.resize(32 + bytes.len().div_ceil(32) * 32, 0);
                out
            }
        }
    }
}

/// The canonical big-endian 32 bytes of a field element (BN254's base or scalar
/// field): its word as a `uint256`.
pub fn be32<F: PrimeField>(x: &F) -> [u8; 32] {
    let bytes = x.into_bigint().to_bytes_be();
    let mut out = [0u8; 32];
    out[32 - bytes.len()..].copy_from_slice(&bytes);
    out
}

/// Encodes values in sequence, as a tuple's members: heads (values or offsets), then
/// the dynamic values' tails.
pub fn encode_sequence(items: &[Token]) -> Vec<u8> {
    let encoded: Vec<(bool, Vec<u8>)> =
        items.iter().map(|t| (t.is_dynamic(), t.encode())).collect();
    let head_len: usize = encoded
        .iter()
        .map(|(dynamic, e)| if *dynamic { 32 } else { e.len() })
        .sum();
    let mut head = Vec::with_capacity(head_len);
    let mut tail = Vec::new();
    for (dynamic, e) in encoded {
        if dynamic {
            head.extend(Token::uint((head_len + tail.len()) as u128).encode());
            tail.extend(e);
        } else {
            head.extend(e);
        }
    }
    head.extend(tail);
    head
}

/// The 4-byte selector of a function or error signature such as `f(uint256,bool)`.
pub fn selector(signature: &str) -> [u8; 4] {
    let h = keccak256(signature.as_bytes());
    [h[0], h[1], h[2], h[3]]
}

/// Calldata for `signature` with `args`.
pub fn encode_call(signature: &str, args: &[Token]) -> Vec<u8> {
    let mut out = selector(signature).to_vec();
    out.extend(encode_sequence(args));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex_words(bytes: &[u8]) -> Vec<String> {
        bytes.chunks(32).map(hex::encode).collect()
    }

    #[test]
    fn field_elements_are_big_endian() {
        use ark_bn254::Fr;
        use ark_ff::Field;
        let mut one = [0u8; 32];
        one[31] = 1;
        assert_eq!(be32(&Fr::ONE), one);
        assert_eq!(be32(&Fr::from(0x0102u64))[30..], [1, 2]);
        let minus_one = be32(&-Fr::ONE);
        assert_eq!(
            hex::encode(minus_one),
            "30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000000"
        );
    }

    #[test]
    fn selectors_match_known_values() {
        assert_eq!(
            hex::encode(selector("transfer(address,uint256)")),
            "a9059cbb"
        );
        assert_eq!(hex::encode(selector("balanceOf(address)")), "70a08231");
    }

    /// `[[1, 2], [3]]` as a `uint256[][]`, as in the nested-array example of the
    /// Solidity ABI specification.
    #[test]
    fn nested_dynamic_arrays_use_offsets() {
        let v = Token::Array(vec![
            Token::Array(vec![Token::uint(1), Token::uint(2)]),
            Token::Array(vec![Token::uint(3)]),
        ]);
        let words = hex_words(&encode_sequence(&[v]));
        let n = |x: u64| format!("{x:064x}");
        assert_eq!(
            words,
            [
                n(0x20),
                n(2),
                n(0x40),
                n(0xa0),
                n(2),
                n(1),
                n(2),
                n(1),
                n(3)
            ]
        );
    }

    #[test]
    fn static_tuples_are_inline_and_dynamic_ones_behind_offsets() {
        let st = Token::Tuple(vec![Token::uint(7), Token::bool(true)]);
        assert_eq!(encode_sequence(std::slice::from_ref(&st)).len(), 64);
        let dy = Token::Tuple(vec![Token::uint(7), Token::Array(vec![])]);
        let words = hex_words(&encode_sequence(&[dy]));
        let n = |x: u64| format!("{x:064x}");
        assert_eq!(words, [n(0x20), n(7), n(0x40), n(0)]);
    }

    /// `sam("dave", true, [1, 2, 3])`, the `bytes` example of the Solidity ABI
    /// specification.
    #[test]
    fn bytes_are_length_prefixed_and_right_padded() {
        let args = [
            Token::Bytes(b"dave".to_vec()),
            Token::bool(true),
            Token::Array(vec![Token::uint(1), Token::uint(2), Token::uint(3)]),
        ];
        let words = hex_words(&encode_sequence(&args));
        let n = |x: u64| format!("{x:064x}");
        let dave = format!("{}{}", hex::encode(b"dave"), "0".repeat(56));
        assert_eq!(
            words,
            [n(0x60), n(1), n(0xa0), n(4), dave, n(3), n(1), n(2), n(3)]
        );
        let empty = hex_words(&encode_sequence(&[Token::Bytes(vec![])]));
        assert_eq!(empty, [n(0x20), n(0)]);
    }
}
