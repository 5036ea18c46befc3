//! `H(x_1, …, x_n)` of `docs/SPEC.md` §5 in the circuit: Poseidon `P128Pow5T3`
//! (width 3, rate 2) with the `ConstantLength<n>` domain, through
//! `halo2_gadgets`' [`Hash`](struct@Hash) gadget on [`Pow5Chip`]s, and the chained absorb of
//! §5.0.
//!
//! The native twin is [`crate::hash::PastaPoseidon`] (the same `halo2_poseidon`
//! primitive), so hashes agree by construction; the differential tests check it.
//!
//! # Rows
//!
//! The gadget lays out a hash of `n` inputs as one row for the initial state
//! (`[0, 0, n·2^64]`, from constants) and, per block of 2 inputs (the last one
//! padded with a zero for odd `n`), an *add input* region of 3 rows and a
//! permutation region of 37 rows (a load row, 4 full rounds, 56 partial rounds two
//! per row, 4 full rounds):
//!
//! | `n` | use | permutations | rows |
//! | --- | --- | --- | --- |
//! | 2 | accounts chain `H(a_b, root_b)`, absorb tails | 1 | 41 |
//! | 5 | leaf at `M = 8`: `H(salt, w_0..w_3)` | 3 | 121 |
//! | 6 | parameters head | 3 | 121 |
//! | 7 | state commitment, `O`, `x_b` | 4 | 161 |
//! | 8 | tree node | 4 | 161 |
//! | 16 | absorb chunk: accumulator and 15 inputs | 8 | 321 |
//!
//! For example `H(a, b)` (the accounts chain step) on one chip, state columns
//! `s_0, s_1, s_2`:
//!
//! | row | `s_0` | `s_1` | `s_2` | region |
//! | --- | --- | --- | --- | --- |
//! | 0 | 0 | 0 | `2·2^64` | initial state (constants) |
//! | 1 | 0 (copy) | 0 (copy) | `2·2^64` (copy) | add input |
//! | 2 | `a` (copy) | `b` (copy) | | add input (`s_pad_and_add`) |
//! | 3 | `a` | `b` | `2·2^64` | add input |
//! | 4 | `a` (copy) | `b` (copy) | `2·2^64` (copy) | permutation: load |
//! | 5 … 40 | … | … | … | 4 full, 28 double-partial, 4 full rounds |
//!
//! and the output is `s_0` on row 40.
//!
//! A [`PoseidonPool`] owns several chips ([`super::layout::Columns::poseidon`]) on
//! disjoint columns and sends each hash to the chip with the fewest rows so far; the floor planner then places
//! the chips' regions side by side. The choice depends only on the sequence of
//! input lengths, which the shape fixes, so key generation and proving lay out the
//! same circuit.

use crate::hash::MAX_HASH_INPUTS;
use halo2_gadgets::poseidon::primitives::{ConstantLength, P128Pow5T3};
use halo2_gadgets::poseidon::{Hash, Pow5Chip, Pow5Config};
use halo2_proofs::circuit::{AssignedCell, Layouter};
use halo2_proofs::plonk::{ConstraintSystem, Error};
use pasta_curves::pallas::Base as Fp;

/// The configuration of one width-3, rate-2 Poseidon chip.
pub type PoseidonConfig = Pow5Config<Fp, 3, 2>;

/// A cell of the Pallas base field.
pub type Cell = AssignedCell<Fp, Fp>;

/// Rows of one absorbed block: the add-input region (3) and the permutation (37).
pub const BLOCK_ROWS: usize = 40;

/// Rows of `H(x_1..x_n)` on one chip (see the module docs).
pub const fn hash_rows(n: usize) -> usize {
    1 + BLOCK_ROWS * n.div_ceil(2)
}

/// Configures one chip on fresh columns: 3 state and 1 partial S-box advice
/// columns, 3 + 3 fixed columns of round constants (the gadget enables equality
/// on the state columns and on the second set of constants).
pub fn configure(meta: &mut ConstraintSystem<Fp>) -> PoseidonConfig {
    let state = [(); 3].map(|_| meta.advice_column());
    let partial_sbox = meta.advice_column();
    let rc_a = [(); 3].map(|_| meta.fixed_column());
    let rc_b = [(); 3].map(|_| meta.fixed_column());
    Pow5Chip::configure::<P128Pow5T3>(meta, state, partial_sbox, rc_a, rc_b)
}

/// `H` over exactly `L` cells on one chip.
fn hash_len<const L: usize>(
    config: &PoseidonConfig,
    layouter: &mut impl Layouter<Fp>,
    inputs: &[Cell],
) -> Result<Cell, Error> {
    let message: [Cell; L] = inputs.to_vec().try_into().map_err(|_| Error::Synthesis)?;
    let chip = Pow5Chip::construct(config.clone());
    Hash::<Fp, Pow5Chip<Fp, 3, 2>, P128Pow5T3, ConstantLength<L>, 3, 2>::init(
        chip,
        layouter.namespace(|| "initial state"),
    )?
    .hash(layouter.namespace(|| "absorb"), message)
}

/// Calls `hash_len::<L>` for the runtime length `$n` (one monomorphization per
/// length the spec allows, `1..=16`).
macro_rules! dispatch {
    ($n:expr, $config:expr, $layouter:expr, $inputs:expr; $($l:literal)*) => {
        match $n {
            $($l => hash_len::<$l>($config, $layouter, $inputs),)*
            _ => Err(Error::Synthesis),
        }
    };
}

/// Poseidon chips filled evenly.
#[derive(Debug)]
pub struct PoseidonPool {
    configs: Vec<PoseidonConfig>,
    rows: Vec<usize>,
}

impl PoseidonPool {
    /// A pool over `configs` with nothing hashed yet.
    pub fn new(configs: Vec<PoseidonConfig>) -> Self {
        let rows = vec![0; configs.len()];
        Self { configs, rows }
    }

    /// Rows used so far by the busiest chip.
    pub fn height(&self) -> usize {
        self.rows.iter().copied().max().unwrap_or(0)
    }

    /// `H(inputs)` (`docs/SPEC.md` §5.0), `1 ≤ len ≤ 16`, on the least-filled chip.
    ///
    /// # Errors
    /// [`Error::Synthesis`] for any other length; otherwise the layouter's errors.
    pub fn hash(
        &mut self,
        layouter: &mut impl Layouter<Fp>,
        inputs: &[Cell],
    ) -> Result<Cell, Error> {
        let n = inputs.len();
        let chip = (0..self.configs.len())
            .min_by_key(|&c| self.rows[c])
            .ok_or(Error::Synthesis)?;
        self.rows[chip] += hash_rows(n);
        let config = &self.configs[chip];
        let mut layouter = layouter.namespace(|| format!("H of {n} on chip {chip}"));
        dispatch!(n, config, &mut layouter, inputs; 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)
    }

    /// `absorb(acc, inputs)`: `acc ← H(acc, chunk)` for each chunk of at most 15
    /// inputs, in order; `acc` itself when `inputs` is empty (`docs/SPEC.md` §5.0).
    ///
    /// # Errors
    /// The layouter's errors.
    pub fn absorb(
        &mut self,
        layouter: &mut impl Layouter<Fp>,
        mut acc: Cell,
        inputs: &[Cell],
    ) -> Result<Cell, Error> {
        for chunk in inputs.chunks(MAX_HASH_INPUTS - 1) {
            let mut buf = Vec::with_capacity(chunk.len() + 1);
            buf.push(acc);
            buf.extend_from_slice(chunk);
            acc = self.hash(layouter, &buf)?;
        }
        Ok(acc)
    }
}
