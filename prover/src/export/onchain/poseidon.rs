//! circomlib's Poseidon for the EVM: the constants of every width the epoch contract
//! hashes with, laid out for its permutation, and split into data contracts.
//!
//! # Why data contracts
//!
//! The epoch contract recomputes every public input (`docs/SPEC.md` §6.4). That needs
//! widths `t = 3, 5, 7, 8, 9` for fixed hashes, the parameters' chunk widths, and every
//! width `3..=17` for the liquidation-set commitment (§5.6), whose last chunk holds
//! `n mod 15` ids. The constants of those 15 widths are about 700 KB in the layout
//! below, far beyond a contract's 24,576-byte code limit, so they live in
//! [`CHUNK_COUNT`] *data contracts* (code = `0x00` followed by up to
//! [`CHUNK_WORDS`] 32-byte words: the leading `STOP` makes a call to one do nothing)
//! that the epoch contract reads with `EXTCODECOPY`. The constants are circomlib's,
//! independent of any key or shape: one set of data contracts serves every Backstop
//! deployment on a chain, and the epoch contract checks each one's code hash (Keccak-256
//! of its code) when it is deployed.
//!
//! # Layout of one width
//!
//! The permutation runs in the rearranged form of the Poseidon paper's appendix B,
//! which [`Bn254Poseidon`] derives from its plain round constants and MDS matrix
//! (`round_constants(t)`, `mds(t)`, `fast_constants(t)`), so that a partial round
//! costs `2t − 1` multiplications instead of `t²`:
//!
//! ```text
//! C_first   4·t          constants of full rounds 0..3
//! MDS       t·t          row-major, M[i][j] at i·t + j
//! partial   R_P·(2t−1)   per partial round i: k_i, then v_i (t−1), then w_i (t−1)
//! P         (t−1)·(t−1)  the lower-right block of diag(1, M̂^R_P), row-major
//! C_last    4·t          constants of the last 4 full rounds (the first one with the
//!                        partial rounds' carried constants added)
//! ```
//!
//! A partial round does `x₀ ← (s₀ + k_i)^5`, `s₀' = M₀₀·x₀ + Σ_{j≥1} v_i[j]·s_j`,
//! `s_j' = s_j + w_i[j]·x₀` (`j ≥ 1`); after the last one `s[1..] ← P·s[1..]`. With
//! `M = [[M₀₀, vᵀ], [w, M̂]]`: `v_i = (M̂ᵀ)^(i−1)·v`, `w_i = M̂^(−i)·w`, and the
//! constants of partial rounds are carried forward through `M` so that only `k_i`
//! (added to `s₀`) remains. [`permute`] runs exactly this algorithm natively, and the
//! tests check it against [`Bn254Poseidon`] at every width.

use super::abi::be32;
use ark_bn254::Fr;
use ark_ff::Field;
use backstop_circuits::hash::Bn254Poseidon;
use backstop_circuits::hash::matrix::mat_vec;
use sha3::{Digest, Keccak256};
use std::sync::OnceLock;

/// The widths in the order they appear in the constants: the ones every epoch
/// submission uses first (so they share few data contracts), then 17 (full chunks of
/// 15 liquidated ids), then the rest.
pub const WIDTHS: [usize; 15] = [3, 5, 7, 8, 9, 17, 4, 6, 10, 11, 12, 13, 14, 15, 16];

/// 32-byte words of constants per data contract: `1 + 32·767 = 24,545` bytes of code,
/// under the 24,576-byte limit (EIP-170).
pub const CHUNK_WORDS: usize = 767;

/// Number of full rounds `R_F`.
const FULL_ROUNDS: usize = Bn254Poseidon::FULL_ROUNDS;

/// The number of 32-byte words of width `t`'s constants in the layout above.
pub fn width_words(t: usize) -> usize {
    let rp = Bn254Poseidon::partial_rounds(t);
    FULL_ROUNDS * t + t * t + rp * (2 * t - 1) + (t - 1) * (t - 1)
}

/// One width's constants in the on-chain layout (see the module documentation).
#[derive(Debug, Clone)]
pub struct WidthConstants {
    /// The width `t`.
    pub width: usize,
    /// `R_P`.
    pub partial_rounds: usize,
    /// The words, [`width_words`]`(t)` of them.
    pub words: Vec<Fr>,
}

impl WidthConstants {
    /// Lays out width `t`'s constants (`3 ≤ t ≤ 17`) from circomlib's round
    /// constants and the fast form [`Bn254Poseidon::fast_constants`] derives from
    /// them and the MDS matrix. `None` only if the MDS matrix's lower-right block
    /// were singular, which a Cauchy matrix's never is.
    pub fn derive(t: usize) -> Option<Self> {
        let rc = Bn254Poseidon::round_constants(t);
        let rp = Bn254Poseidon::partial_rounds(t);
        let fast = Bn254Poseidon::fast_constants(t)?;
        let half = FULL_ROUNDS / 2;

        let mut words = Vec::with_capacity(width_words(t));
        words.extend_from_slice(&rc[..half * t]);
        words.extend_from_slice(Bn254Poseidon::mds(t));
        // Partial round i: k_i, then v_i and w_i without the sparse matrix's
        // m00 and the leading zero of its column.
        let rows = fast.sparse_rows.chunks_exact(t);
        let columns = fast.sparse_columns.chunks_exact(t);
        for ((k, row), column) in fast.partial_constants.iter().zip(rows).zip(columns) {
            words.push(*k);
            words.extend_from_slice(&row[1..]);
            words.extend_from_slice(&column[1..]);
        }
        // P: the lower-right block of diag(1, M̂^R_P).
        for row in fast.post_partial_matrix.chunks_exact(t).skip(1) {
            words.extend_from_slice(&row[1..]);
        }
        words.extend_from_slice(&fast.post_partial_constants);
        words.extend_from_slice(&rc[(half + rp + 1) * t..]);
        debug_assert_eq!(words.len(), width_words(t));
        Some(Self {
            width: t,
            partial_rounds: rp,
            words,
        })
    }
}

fn pow5(x: Fr) -> Fr {
    let x2 = x.square();
    x2.square() * x
}

/// `state ← M · sbox(state + c)`: one full round.
fn full_round(state: &mut [Fr], c: &[Fr], mds: &[Fr]) {
    let t = state.len();
    let tmp: Vec<Fr> = state.iter().zip(c).map(|(s, c)| pow5(*s + c)).collect();
    state.copy_from_slice(&mat_vec(t, mds, &tmp));
}

/// The permutation exactly as the epoch contract runs it, on the on-chain layout
/// (see the module documentation); `state.len()` must be the constants' width.
pub fn permute(state: &mut [Fr], k: &WidthConstants) {
    let t = k.width;
    debug_assert_eq!(state.len(), t);
    let (c_first, rest) = k.words.split_at(4 * t);
    let (mds, rest) = rest.split_at(t * t);
    let (partial, rest) = rest.split_at(k.partial_rounds * (2 * t - 1));
    let (post, c_last) = rest.split_at((t - 1) * (t - 1));
    for c in c_first.chunks_exact(t) {
        full_round(state, c, mds);
    }
    for round in partial.chunks_exact(2 * t - 1) {
        let x = pow5(state[0] + round[0]);
        let (v, w) = round[1..].split_at(t - 1);
        let first = mds[0] * x + v.iter().zip(&state[1..]).map(|(a, b)| *a * b).sum::<Fr>();
        for (s, w) in state[1..].iter_mut().zip(w) {
            *s += *w * x;
        }
        state[0] = first;
    }
    let tail = mat_vec(t - 1, post, &state[1..]);
    state[1..].copy_from_slice(&tail);
    for c in c_last.chunks_exact(t) {
        full_round(state, c, mds);
    }
}

/// Every width's constants, concatenated in [`WIDTHS`] order.
#[derive(Debug)]
pub struct ConstantsBlob {
    /// Per width in [`WIDTHS`] order: the constants and their first word's index.
    pub widths: Vec<(WidthConstants, usize)>,
    /// All words.
    pub words: Vec<Fr>,
}

impl ConstantsBlob {
    /// The constants of width `t`, if it is one of [`WIDTHS`].
    pub fn width(&self, t: usize) -> Option<&WidthConstants> {
        self.widths.iter().map(|(w, _)| w).find(|w| w.width == t)
    }

    /// The data contracts' runtime code: `0x00` then up to [`CHUNK_WORDS`] words,
    /// big-endian.
    pub fn chunk_codes(&self) -> Vec<Vec<u8>> {
        self.words
            .chunks(CHUNK_WORDS)
            .map(|chunk| {
                let mut code = Vec::with_capacity(1 + 32 * chunk.len());
                code.push(0u8);
                for w in chunk {
                    code.extend_from_slice(&be32(w));
                }
                code
            })
            .collect()
    }
}

static BLOB: OnceLock<Option<ConstantsBlob>> = OnceLock::new();

/// The constants of all [`WIDTHS`], derived on first use (a few hundred
/// milliseconds). `None` only if a derivation failed (see [`WidthConstants::derive`]).
pub fn blob() -> Option<&'static ConstantsBlob> {
    BLOB.get_or_init(|| {
        let mut widths = Vec::with_capacity(WIDTHS.len());
        let mut words = Vec::new();
        for t in WIDTHS {
            let k = WidthConstants::derive(t)?;
            let offset = words.len();
            words.extend_from_slice(&k.words);
            widths.push((k, offset));
        }
        Some(ConstantsBlob { widths, words })
    })
    .as_ref()
}

/// Number of data contracts: `ceil(total words / CHUNK_WORDS)` (30).
pub const CHUNK_COUNT: usize = {
    let mut total = 0;
    let mut i = 0;
    while i < WIDTHS.len() {
        let t = WIDTHS[i];
        let rp = PARTIAL_ROUNDS_BY_WIDTH[t];
        total += FULL_ROUNDS * t + t * t + rp * (2 * t - 1) + (t - 1) * (t - 1);
        i += 1;
    }
    total.div_ceil(CHUNK_WORDS)
};

/// circomlib's `R_P` by width (index `t`; 0 where unused), for [`CHUNK_COUNT`]; the
/// tests check it against [`Bn254Poseidon::partial_rounds`].
const PARTIAL_ROUNDS_BY_WIDTH: [usize; 18] = [
    0, 0, 56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68,
];

/// Where the epoch contract keeps Poseidon's memory (its first allocation): the
/// width whose constants are loaded.
pub const MEM_LOADED: usize = 0x80;
/// The permutation's state, 17 words.
pub const MEM_STATE: usize = MEM_LOADED + 0x20;
/// Scratch space, 17 words.
pub const MEM_SCRATCH: usize = MEM_STATE + 17 * 32;
/// The loaded width's constants, in the layout of the module documentation.
pub const MEM_CONSTANTS: usize = MEM_SCRATCH + 17 * 32;

/// `Σ terms mod r` in Yul, reducing lazily: every term is below `r < 2^254`, so four
/// of them add up below `2^256` with plain `add`; groups are combined with `addmod`.
fn yul_sum(terms: &[String]) -> String {
    let groups: Vec<String> = terms
        .chunks(4)
        .map(|g| match g {
            [a] => a.clone(),
            [a, b] => format!("add({a}, {b})"),
            [a, b, c] => format!("add(add({a}, {b}), {c})"),
            [a, b, c, d] => format!("add(add({a}, {b}), add({c}, {d}))"),
            _ => unreachable!("chunks of at most 4"),
        })
        .collect();
    match groups.split_first() {
        Some((first, [])) => format!("mod({first}, r)"),
        Some((first, rest)) => rest
            .iter()
            .fold(first.clone(), |acc, g| format!("addmod({acc}, {g}, r)")),
        None => "0".into(),
    }
}

/// `mload(add(base, off))`, or `mload(base)` at offset 0.
fn load_at(base: &str, off: usize) -> String {
    if off == 0 {
        format!("mload({base})")
    } else {
        format!("mload(add({base}, {off:#x}))")
    }
}

/// The Yul functions `mds{t}(r)` and `perm{t}(r)` of width `t`, specialized to the
/// fixed memory layout ([`MEM_STATE`], [`MEM_SCRATCH`], [`MEM_CONSTANTS`]) with the
/// inner products unrolled; they call the template's shared `arkSbox` and
/// `postMatrix`. `perm{t}` permutes the state in place.
pub fn yul_permutation(t: usize, partial_rounds: usize) -> String {
    let w = 32;
    let state = |j: usize| format!("{:#x}", MEM_STATE + w * j);
    let scratch = |j: usize| format!("{:#x}", MEM_SCRATCH + w * j);
    let c_first = MEM_CONSTANTS;
    let mds = c_first + w * 4 * t;
    let partial = mds + w * t * t;
    let stride = w * (2 * t - 1);
    let partial_end = partial + partial_rounds * stride;
    let post = partial_end;
    let c_last = post + w * (t - 1) * (t - 1);
    let c_end = c_last + w * 4 * t;
    let tb = w * t;

    let mds_terms: Vec<String> = (0..t)
        .map(|j| format!("mulmod({}, mload({}), r)", load_at("m", w * j), scratch(j)))
        .collect();
    let mut first_terms = vec!["mulmod(m00, x, r)".to_owned()];
    first_terms
        .extend((1..t).map(|j| format!("mulmod({}, mload({}), r)", load_at("p", w * j), state(j))));
    let updates: String = (1..t)
        .map(|j| {
            format!(
                "                    mstore({s}, addmod(mload({s}), mulmod({}, x, r), r))\n",
                load_at("p", w * (t - 1 + j)),
                s = state(j)
            )
        })
        .collect();
    format!(
        "            function mds{t}(r) {{
                for {{ let i := 0 }} lt(i, {tb:#x}) {{ i := add(i, 0x20) }} {{
                    let m := add({mds:#x}, mul(i, {t}))
                    mstore(add({s0}, i), {mds_sum})
                }}
            }}
            function perm{t}(r) {{
                for {{ let c := {c_first:#x} }} lt(c, {mds:#x}) {{ c := add(c, {tb:#x}) }} {{
                    arkSbox(c, {tb:#x}, r)
                    mds{t}(r)
                }}
                let m00 := mload({mds:#x})
                for {{ let p := {partial:#x} }} lt(p, {partial_end:#x}) {{ p := add(p, {stride:#x}) }} {{
                    let x := addmod(mload({s0}), mload(p), r)
                    let x2 := mulmod(x, x, r)
                    x := mulmod(mulmod(x2, x2, r), x, r)
                    let s0 := {first_sum}
{updates}                    mstore({s0}, s0)
                }}
                postMatrix({post:#x}, {n}, r)
                for {{ let c := {c_last:#x} }} lt(c, {c_end:#x}) {{ c := add(c, {tb:#x}) }} {{
                    arkSbox(c, {tb:#x}, r)
                    mds{t}(r)
                }}
            }}
",
        s0 = state(0),
        mds_sum = yul_sum(&mds_terms),
        first_sum = yul_sum(&first_terms),
        n = t - 1,
    )
}

/// Init code that deploys `runtime` as a contract's code: `PUSH2 len, DUP1,
/// PUSH1 12, PUSH1 0, CODECOPY, PUSH1 0, RETURN`, then `runtime`.
pub fn deployment_code(runtime: &[u8]) -> Vec<u8> {
    let len = runtime.len() as u16;
    let [hi, lo] = len.to_be_bytes();
    let mut code = vec![
        0x61, hi, lo, 0x80, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3,
    ];
    code.extend_from_slice(runtime);
    code
}

/// Keccak-256.
pub fn keccak256(bytes: &[u8]) -> [u8; 32] {
    Keccak256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::AdditiveGroup;
    use backstop_circuits::hash::FieldHasher;

    #[test]
    fn onchain_permutation_matches_circomlib_at_every_width() {
        let blob = blob().unwrap();
        for t in WIDTHS {
            let k = blob.width(t).unwrap();
            assert_eq!(k.words.len(), width_words(t));
            assert_eq!(PARTIAL_ROUNDS_BY_WIDTH[t], Bn254Poseidon::partial_rounds(t));
            let inputs: Vec<Fr> = (0..t as u64 - 1).map(|i| Fr::from(i * 7 + 3)).collect();
            let mut state = vec![Fr::ZERO; t];
            state[1..].copy_from_slice(&inputs);
            permute(&mut state, k);
            assert_eq!(state[0], Bn254Poseidon::hash(&inputs), "width {t}");
        }
    }

    #[test]
    fn chunks_fit_the_code_size_limit() {
        let codes = blob().unwrap().chunk_codes();
        assert_eq!(codes.len(), CHUNK_COUNT);
        assert!(codes.iter().all(|c| c.len() <= 24_576));
        let total: usize = WIDTHS.iter().map(|&t| width_words(t)).sum();
        assert_eq!(total, blob().unwrap().words.len());
    }
}
