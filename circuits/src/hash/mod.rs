//! Algebraic hashes used by Backstop's commitments (`docs/SPEC.md` §5).
//!
//! Two instantiations of one interface:
//! - [`Bn254Poseidon`]: Poseidon over the BN254 scalar field with circomlib's
//!   parameters (x^5, 8 full rounds, widths t = 2..=17), so that circomlibjs and
//!   Solidity Poseidon libraries reproduce every hash. Used by the Groth16 path.
//! - [`PastaPoseidon`]: Poseidon `P128Pow5T3` over the Pallas base field (the
//!   halo2_gadgets primitive) with `ConstantLength<L>` domains. Used by the halo2 path.
//!
//! Every hash in the spec takes between 1 and [`MAX_HASH_INPUTS`] inputs.

mod bn254;
mod grain;
pub mod matrix;
mod pasta;

pub use bn254::{Bn254Poseidon, FastConstants};
pub use pasta::PastaPoseidon;

use ethnum::U256;

/// The largest number of field elements one hash call absorbs (circomlib's limit).
pub const MAX_HASH_INPUTS: usize = 16;

/// A hash over a prime field, as used by the commitments of `docs/SPEC.md` §5.
pub trait FieldHasher: Clone + Copy + core::fmt::Debug + Send + Sync + 'static {
    /// The field the hash works over.
    type F: Copy
        + Eq
        + core::fmt::Debug
        + Send
        + Sync
        + 'static
        + core::ops::Add<Output = Self::F>
        + core::ops::Sub<Output = Self::F>
        + core::ops::Mul<Output = Self::F>;

    /// Short name for diagnostics and serialized artifacts ("bn254-poseidon", "pasta-poseidon").
    const NAME: &'static str;

    /// Hashes `inputs` (1 ≤ len ≤ [`MAX_HASH_INPUTS`]) to one field element.
    ///
    /// # Panics
    /// Panics if the length is outside that range: every call site in this crate
    /// passes a length fixed by the spec, so that is a programming error.
    fn hash(inputs: &[Self::F]) -> Self::F;

    /// Embeds an integer `< 2^256`, reduced modulo the field's order.
    /// All values the spec embeds are below 2^227, so no reduction happens for them.
    fn from_u256(value: U256) -> Self::F;

    /// Embeds a big-endian byte string, reduced modulo the field's order
    /// (used for the venue secret).
    fn from_be_bytes_mod_order(bytes: &[u8]) -> Self::F;

    /// The canonical little-endian representation, 32 bytes.
    fn to_le_bytes(value: &Self::F) -> [u8; 32];

    /// The element whose canonical little-endian representation is `bytes`, or
    /// `None` if `bytes` encodes an integer not below the field's order.
    fn from_canonical_le_bytes(bytes: &[u8; 32]) -> Option<Self::F> {
        let v = Self::from_u256(U256::from_le_bytes(*bytes));
        (Self::to_le_bytes(&v) == *bytes).then_some(v)
    }

    /// `0x` and 64 hexadecimal digits, big-endian: how field elements are published.
    fn to_hex(value: &Self::F) -> String {
        let mut bytes = Self::to_le_bytes(value);
        bytes.reverse();
        format!("0x{}", hex::encode(bytes))
    }

    /// Parses [`FieldHasher::to_hex`]'s form; refuses anything else, including
    /// non-canonical values (not below the field's order).
    fn from_hex(text: &str) -> Option<Self::F> {
        let digits = text.strip_prefix("0x")?;
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(digits, &mut bytes).ok()?;
        bytes.reverse();
        Self::from_canonical_le_bytes(&bytes)
    }

    /// Embeds a small integer.
    fn from_u64(value: u64) -> Self::F {
        Self::from_u256(U256::from(value))
    }
}

/// A BN254 scalar from big-endian hex (`0x` optional), reduced: the form the
/// tests' circomlib vectors are written in.
#[cfg(test)]
pub(crate) fn test_fr(hex_be: &str) -> ark_bn254::Fr {
    use ark_ff::PrimeField;
    let bytes = hex::decode(hex_be.trim_start_matches("0x")).expect("valid hex");
    ark_bn254::Fr::from_be_bytes_mod_order(&bytes)
}
