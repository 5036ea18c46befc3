//! Poseidon `P128Pow5T3` over the Pallas base field, via `halo2_poseidon`.
//!
//! A hash of `L` inputs is `halo2_poseidon`'s `Hash::<_, P128Pow5T3,
//! ConstantLength<L>, 3, 2>` (width 3, rate 2, `R_F = 8`, `R_P = 56`; the length
//! is encoded in the capacity element as `L · 2^64` and the message is padded with
//! zeros to a multiple of the rate). This is the primitive the `halo2_gadgets`
//! Poseidon chip constrains, so native and in-circuit hashes agree.

use ethnum::U256;
use ff::{Field, FromUniformBytes, PrimeField};
use halo2_poseidon::{ConstantLength, Hash, P128Pow5T3};
use pasta_curves::pallas::Base as Fp;

use super::{FieldHasher, MAX_HASH_INPUTS};

/// Poseidon `P128Pow5T3` with `ConstantLength<L>` domains over the Pallas base
/// field ([`pasta_curves::pallas::Base`]).
#[derive(Clone, Copy, Debug)]
pub struct PastaPoseidon;

/// Number of bytes [`FromUniformBytes`] reduces in one call.
const WIDE_BYTES: usize = 64;

/// Reduces a big-endian integer of at most [`WIDE_BYTES`] bytes modulo `p`.
fn reduce_wide_be(bytes: &[u8]) -> Fp {
    debug_assert!(bytes.len() <= WIDE_BYTES);
    let mut wide = [0u8; WIDE_BYTES];
    for (dst, src) in wide.iter_mut().zip(bytes.iter().rev()) {
        *dst = *src;
    }
    Fp::from_uniform_bytes(&wide)
}

/// `ConstantLength<L>` hash of exactly `L` inputs.
fn hash_len<const L: usize>(inputs: &[Fp]) -> Fp {
    // In bounds: the caller dispatches on `inputs.len()`.
    let message: [Fp; L] = core::array::from_fn(|i| inputs[i]);
    Hash::<Fp, P128Pow5T3, ConstantLength<L>, 3, 2>::init().hash(message)
}

impl FieldHasher for PastaPoseidon {
    type F = Fp;

    const NAME: &'static str = "pasta-poseidon";

    fn hash(inputs: &[Fp]) -> Fp {
        let n = inputs.len();
        assert!(
            (1..=MAX_HASH_INPUTS).contains(&n),
            "Poseidon takes 1..={MAX_HASH_INPUTS} inputs, got {n}"
        );
        match n {
            1 => hash_len::<1>(inputs),
            2 => hash_len::<2>(inputs),
            3 => hash_len::<3>(inputs),
            4 => hash_len::<4>(inputs),
            5 => hash_len::<5>(inputs),
            6 => hash_len::<6>(inputs),
            7 => hash_len::<7>(inputs),
            8 => hash_len::<8>(inputs),
            9 => hash_len::<9>(inputs),
            10 => hash_len::<10>(inputs),
            11 => hash_len::<11>(inputs),
            12 => hash_len::<12>(inputs),
            13 => hash_len::<13>(inputs),
            14 => hash_len::<14>(inputs),
            15 => hash_len::<15>(inputs),
            16 => hash_len::<16>(inputs),
            _ => unreachable!("length checked above"),
        }
    }

    /// Canonical values (`< p`) map directly through `from_repr`; larger ones are
    /// reduced modulo `p`.
    fn from_u256(value: U256) -> Fp {
        let bytes = value.to_le_bytes();
        Option::from(Fp::from_repr(bytes)).unwrap_or_else(|| reduce_wide_be(&value.to_be_bytes()))
    }

    /// Inputs of up to 64 bytes are reduced in one step with
    /// [`FromUniformBytes<64>`] (the big-endian bytes are reversed into a
    /// zero-extended little-endian 64-byte buffer). Longer inputs are reduced in
    /// 64-byte chunks, most significant first, by Horner's rule
    /// (`acc · 2^(8·len) + chunk`), so any length is accepted.
    fn from_be_bytes_mod_order(bytes: &[u8]) -> Fp {
        if bytes.len() <= WIDE_BYTES {
            return reduce_wide_be(bytes);
        }
        let mut acc = Fp::ZERO;
        for chunk in bytes.chunks(WIDE_BYTES) {
            let shift = Fp::from(2u64).pow_vartime([8 * chunk.len() as u64]);
            acc = acc * shift + reduce_wide_be(chunk);
        }
        acc
    }

    fn to_le_bytes(value: &Fp) -> [u8; 32] {
        value.to_repr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_halo2_poseidon_directly() {
        let inputs: Vec<Fp> = (1..=16u64).map(Fp::from).collect();
        assert_eq!(
            PastaPoseidon::hash(&inputs[..2]),
            Hash::<Fp, P128Pow5T3, ConstantLength<2>, 3, 2>::init().hash([inputs[0], inputs[1]])
        );
        // Different lengths are different domains, even with zero padding.
        assert_ne!(
            PastaPoseidon::hash(&inputs[..1]),
            PastaPoseidon::hash(&[inputs[0], Fp::ZERO])
        );
        let outputs: Vec<Fp> = (1..=16)
            .map(|n| PastaPoseidon::hash(&inputs[..n]))
            .collect();
        for (i, a) in outputs.iter().enumerate() {
            for b in &outputs[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn from_u256_canonical_and_reduced() {
        let p_minus_1 = -Fp::ONE;
        let repr = p_minus_1.to_repr();
        let as_u256 = U256::from_le_bytes(repr);
        assert_eq!(PastaPoseidon::from_u256(as_u256), p_minus_1);
        assert_eq!(PastaPoseidon::from_u256(as_u256 + 1), Fp::ZERO);
        assert_eq!(PastaPoseidon::from_u256(as_u256 + 6), Fp::from(5u64));
        assert_eq!(PastaPoseidon::from_u64(42), Fp::from(42u64));
        assert_eq!(PastaPoseidon::to_le_bytes(&Fp::from(258u64))[..2], [2, 1]);
    }

    #[test]
    fn from_be_bytes_reduces_any_length() {
        assert_eq!(PastaPoseidon::from_be_bytes_mod_order(&[]), Fp::ZERO);
        assert_eq!(
            PastaPoseidon::from_be_bytes_mod_order(&[1, 2]),
            Fp::from(258u64)
        );
        // p itself (big-endian) reduces to zero.
        let mut p_be = (-Fp::ONE).to_repr();
        p_be[0] += 1; // p - 1 is even, so this does not carry
        p_be.reverse();
        assert_eq!(PastaPoseidon::from_be_bytes_mod_order(&p_be), Fp::ZERO);

        // Long inputs agree with byte-by-byte Horner reduction.
        let long: Vec<u8> = (0..150u32).map(|i| (i * 37 + 11) as u8).collect();
        for len in [0, 1, 31, 32, 33, 63, 64, 65, 100, 128, 129, 150] {
            let bytes = &long[..len];
            let expected = bytes.iter().fold(Fp::ZERO, |acc, b| {
                acc * Fp::from(256u64) + Fp::from(u64::from(*b))
            });
            assert_eq!(
                PastaPoseidon::from_be_bytes_mod_order(bytes),
                expected,
                "len {len}"
            );
        }
    }

    #[test]
    #[should_panic(expected = "Poseidon takes")]
    fn rejects_too_many_inputs() {
        let _ = PastaPoseidon::hash(&[Fp::ZERO; MAX_HASH_INPUTS + 1]);
    }
}
