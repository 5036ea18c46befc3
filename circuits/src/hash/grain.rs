//! The Grain LFSR that generates Poseidon's round constants and MDS matrices.
//!
//! This follows the procedure of the Poseidon reference parameter script
//! (`generate_parameters_grain.sage`, Poseidon paper, ePrint 2019/458, appendix F),
//! which is how circomlib's BN254 parameters were produced:
//!
//! 1. An 80-bit register is seeded with: field type (2 bits, `1` = prime field),
//!    S-box type (4 bits, `0` = x^alpha), field size `n` (12 bits), width `t`
//!    (12 bits), `R_F` (10 bits), `R_P` (10 bits), then 30 bits set to 1; every
//!    number is written most significant bit first.
//! 2. The register is clocked with the feedback polynomial
//!    `b[i+80] = b[i+62] ^ b[i+51] ^ b[i+38] ^ b[i+23] ^ b[i+13] ^ b[i]`, and the
//!    first 160 output bits are discarded.
//! 3. Output bits go through a self-shrinking step: bits are taken in pairs; if
//!    the first bit of a pair is 1 the second is output, otherwise the pair is
//!    dropped.
//! 4. Round constants are `(R_F + R_P) * t` field elements, each read as `n` bits
//!    big-endian and rejection-sampled (redrawn while `>= p`).
//! 5. The MDS matrix is the Cauchy matrix `M[i][j] = 1 / (x_i + y_j)` from `2t`
//!    further draws of `n` bits each, reduced modulo `p` (no rejection sampling);
//!    if any two of the `2t` values coincide, all of them are drawn again.
//!
//! The reference script additionally runs security checks on the matrix (its
//! "algorithms 1–3" against infinitely long invariant subspace trails) and draws a
//! new matrix if one fails. Those checks are not implemented here: for circomlib's
//! parameters (BN254, t = 2..=17) the first matrix drawn is the one circomlib uses
//! for every width, as the test vectors in `circuits/tests/vectors` confirm. Using
//! this generator for other parameters would require those checks.

use ark_ff::{BigInteger, PrimeField};

/// The state of the Grain LFSR: bit `i` of the register holds `b[k + i]`, where
/// `b[k]` is the oldest bit (the one about to be shifted out).
#[derive(Clone, Debug)]
pub(crate) struct Grain {
    register: u128,
}

/// Width of the LFSR register in bits.
const REGISTER_BITS: u32 = 80;

/// Number of initial output bits thrown away before any bit is used.
const WARM_UP_CLOCKS: usize = 160;

impl Grain {
    /// Seeds the generator for an x^alpha Poseidon instance over a prime field of
    /// `field_bits` bits with width `t`, `full_rounds` full rounds and
    /// `partial_rounds` partial rounds, and discards the warm-up bits.
    ///
    /// # Panics
    /// Panics if a parameter does not fit its field of the seed (12 bits for
    /// `field_bits` and `t`, 10 bits for the round numbers). Callers pass small
    /// constants, so this is a programming error.
    pub(crate) fn new(
        field_bits: u32,
        t: usize,
        full_rounds: usize,
        partial_rounds: usize,
    ) -> Self {
        // (value, width in bits), in seed order.
        let fields: [(u64, u32); 7] = [
            (1, 2),                      // field: prime field
            (0, 4),                      // S-box: x^alpha
            (u64::from(field_bits), 12), // field size n
            (t as u64, 12),              // width t
            (full_rounds as u64, 10),    // R_F
            (partial_rounds as u64, 10), // R_P
            ((1 << 30) - 1, 30),         // padding: thirty 1 bits
        ];
        let mut register = 0u128;
        let mut position = 0u32;
        for (value, width) in fields {
            assert!(
                value < (1 << width),
                "Grain seed field {value} does not fit in {width} bits"
            );
            for bit in (0..width).rev() {
                register |= u128::from((value >> bit) & 1) << position;
                position += 1;
            }
        }
        debug_assert_eq!(position, REGISTER_BITS);

        let mut grain = Grain { register };
        for _ in 0..WARM_UP_CLOCKS {
            grain.clock();
        }
        grain
    }

    /// Clocks the register once and returns the new bit.
    fn clock(&mut self) -> bool {
        let r = self.register;
        let new_bit = ((r >> 62) ^ (r >> 51) ^ (r >> 38) ^ (r >> 23) ^ (r >> 13) ^ r) & 1;
        self.register = (r >> 1) | (new_bit << (REGISTER_BITS - 1));
        new_bit == 1
    }

    /// The next output bit after self-shrinking.
    fn next_bit(&mut self) -> bool {
        loop {
            let keep = self.clock();
            let bit = self.clock();
            if keep {
                return bit;
            }
        }
    }

    /// The next `F::MODULUS_BIT_SIZE` output bits as an integer, most significant
    /// bit first (not reduced).
    fn next_bigint<F: PrimeField>(&mut self) -> F::BigInt {
        let bits: Vec<bool> = (0..F::MODULUS_BIT_SIZE).map(|_| self.next_bit()).collect();
        F::BigInt::from_bits_be(&bits)
    }

    /// The next field element by rejection sampling: draws `n` bits, redrawing
    /// while the value is not below the modulus.
    pub(crate) fn next_field_element_rejection<F: PrimeField>(&mut self) -> F {
        loop {
            if let Some(value) = F::from_bigint(self.next_bigint::<F>()) {
                return value;
            }
        }
    }

    /// The next field element as `n` bits reduced modulo the field's order.
    pub(crate) fn next_field_element_reduced<F: PrimeField>(&mut self) -> F {
        F::from_le_bytes_mod_order(&self.next_bigint::<F>().to_bytes_le())
    }

    /// `count` round constants, rejection-sampled, in the order they are drawn
    /// (round by round, element by element).
    pub(crate) fn round_constants<F: PrimeField>(&mut self, count: usize) -> Vec<F> {
        (0..count)
            .map(|_| self.next_field_element_rejection())
            .collect()
    }

    /// A `t × t` Cauchy MDS matrix `M[i][j] = 1 / (x_i + y_j)`, row-major, drawn
    /// after the round constants. See the module documentation for what is not
    /// checked.
    pub(crate) fn cauchy_mds<F: PrimeField>(&mut self, t: usize) -> Vec<Vec<F>> {
        loop {
            let draws: Vec<F> = (0..2 * t)
                .map(|_| self.next_field_element_reduced())
                .collect();
            let distinct = draws
                .iter()
                .enumerate()
                .all(|(i, a)| draws[i + 1..].iter().all(|b| a != b));
            if !distinct {
                continue;
            }
            let (xs, ys) = draws.split_at(t);
            // `x_i + y_j = 0` makes the entry undefined; the reference script then
            // draws again as well.
            let matrix: Option<Vec<Vec<F>>> = xs
                .iter()
                .map(|x| ys.iter().map(|y| (*x + y).inverse()).collect())
                .collect();
            if let Some(matrix) = matrix {
                return matrix;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::test_fr as fr;
    use ark_bn254::Fr;

    #[test]
    fn first_constants_match_circomlib_t3() {
        // circomlib's C[1][0..2] and M[1][0][0..2] for t = 3 (R_F = 8, R_P = 57).
        let mut grain = Grain::new(Fr::MODULUS_BIT_SIZE, 3, 8, 57);
        let constants: Vec<Fr> = grain.round_constants((8 + 57) * 3);
        assert_eq!(
            constants[0],
            fr("0x0ee9a592ba9a9518d05986d656f40c2114c4993c11bb29938d21d47304cd8e6e")
        );
        assert_eq!(
            constants[1],
            fr("0x00f1445235f2148c5986587169fc1bcd887b08d4d00868df5696fff40956e864")
        );
        let mds: Vec<Vec<Fr>> = grain.cauchy_mds(3);
        assert_eq!(
            mds[0][0],
            fr("0x109b7f411ba0e4c9b2b70caf5c36a7b194be7c11ad24378bfedb68592ba8118b")
        );
        assert_eq!(
            mds[0][1],
            fr("0x16ed41e13bb9c0c66ae119424fddbcbc9314dc9fdbdeea55d6c64543dc4903e0")
        );
    }

    #[test]
    fn seed_depends_on_parameters() {
        let a: Fr = Grain::new(254, 3, 8, 57).next_field_element_rejection();
        let b: Fr = Grain::new(254, 3, 8, 56).next_field_element_rejection();
        assert_ne!(a, b);
    }
}
