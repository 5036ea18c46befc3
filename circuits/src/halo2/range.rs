//! Strict `n`-bit range checks over a tagged 10-bit lookup table, and the sign
//! gadget built on them (`docs/SPEC.md` §3, §5.2).
//!
//! # Range checks
//!
//! To check `v ∈ [0, 2^n)` (`1 ≤ n ≤ 252`), split `n = 10·(w − 1) + r` with
//! `1 ≤ r ≤ 10` and witness the running sum `z_0 = v`,
//! `z_{i+1} = (z_i − a_i) / 2^10` of `v`'s 10-bit words `a_i`, as in
//! `halo2_gadgets::utilities::lookup_range_check`. The table holds pairs
//! `(tag, x)`: `(10, x)` for every `x < 2^10`, `(r, x)` for every `x < 2^r` and each
//! short width `r` the shape needs, and `(0, 0)` for rows where no check is active.
//! Each row `i` of a check looks up `(tag_i, word_i)`, where `tag_i` is a fixed
//! column and
//!
//! ```text
//! word_i = q_word · z_i − q_next · 2^10 · z_{i+1}
//! ```
//!
//! with the selectors `q_word` (on every row of a check) and `q_next` (on every row
//! but the last). The first `w − 1` rows look up the full words
//! `a_i = z_i − 2^10·z_{i+1}` with tag 10; the last row looks up `z_{w−1}` itself
//! with tag `r`, the *short check* of the remainder bits. The final running sum
//! `z_w = (z_{w−1} − a_{w−1}) / 2^10` is therefore `0` by construction: the check is
//! strict, and needs no extra row or constant for it.
//!
//! Soundness: the lookups give `a_i ∈ [0, 2^10)` and `z_{w−1} ∈ [0, 2^r)`, and
//! telescoping gives `v = Σ_{i<w−1} a_i·2^{10i} + z_{w−1}·2^{10(w−1)}`, an integer in
//! `[0, 2^n)`; as `2^n ≤ 2^252 < p`, no other field element has such a
//! decomposition. Conversely every `v < 2^n` has exactly one (its base-`2^10`
//! digits). A witness `v ≥ 2^n` leaves `z_{w−1} = ⌊v / 2^{10(w−1)}⌋ ≥ 2^r` on the
//! last row, so that lookup fails.
//!
//! ## Layout and a worked example
//!
//! One region of `w` rows in one running-sum column; `z_0` is copied in from the
//! cell being checked. `v = 5,550,087 = 7 + 300·2^10 + 5·2^20`, `n = 23`
//! (`w = 3`, `r = 3`):
//!
//! | row | `z` | `tag` | `q_word` | `q_next` | looked up |
//! | --- | --- | --- | --- | --- | --- |
//! | 0 | 5,550,087 (copy of `v`) | 10 | 1 | 1 | `(10, 5,550,087 − 2^10·5,420) = (10, 7)` |
//! | 1 | 5,420 | 10 | 1 | 1 | `(10, 5,420 − 2^10·5) = (10, 300)` |
//! | 2 | 5 | 3 | 1 | 0 | `(3, 5)` |
//!
//! With `v = 2^23` the last row would look up `(3, 8)`, which is not in the table.
//!
//! Several running-sum columns ([`super::layout::Columns::range`]) work side by side, each with its own
//! lookup, tag column and selectors (so that the floor planner can place checks in
//! different columns on the same rows); [`RangeCheckChip`] sends each check to
//! the least-filled column.
//!
//! # Sign gadget
//!
//! For an integer `v` with `|v| < 2^n` given as a field element, witness a bit
//! `s` and check
//!
//! ```text
//! s·(1 − s) = 0,   u = v + (1 − s)·2^n,   u ∈ [0, 2^n)
//! ```
//!
//! (the first two in the caller's gate, the last with this chip). Then `s = 1 ⇔
//! v ≥ 0`, and `s` is unique: for `v ∈ [0, 2^n)`, `s = 1` gives `u = v` (in range)
//! while `s = 0` gives `u = v + 2^n ≥ 2^n` (out); for `v ∈ [−2^n, 0)`, `s = 0` gives
//! `u = v + 2^n ∈ [0, 2^n)` (in) while `s = 1` gives `u = v`, the field element
//! `p − |v| > 2^n` (out). A field element that is no integer of `[−2^n, 2^n)` has
//! no satisfying `s` at all (`u` would have to be one of the `2^n` values
//! `[0, 2^n)`, i.e. `v ∈ [−2^n, 2^n)`), so it is rejected rather than misread. The
//! window holds `2^(n+1)` integers, one more than `(−2^n, 2^n)`: `v = −2^n` passes
//! as negative, exactly like the Groth16 circuit's `is_negative` (`v + 2^n` in
//! `n + 1` bits). Every caller's `v` is far inside the window by §3, with `n` from
//! [`crate::shape::CircuitShape`] (`tv_bits`, `slack_bits`, `solvency_bits`).
//!
//! ## Lanes: the symmetric variant
//!
//! A balance or size lane `ℓ = v + 2^63` must lie in `[1, 2^64)` (64 bits and
//! `≠ 0`, §5.2), i.e. `v ∈ (−2^63, 2^63)`. The margin chip checks
//!
//! ```text
//! s·(1 − s) = 0,   r = v + (1 − s)·(2^63 − 1),   r ∈ [0, 2^63)
//! ```
//!
//! `s = 1` accepts `v ∈ [0, 2^63)`, `s = 0` accepts `v ∈ [−(2^63 − 1), 0]`: the union
//! is exactly `(−2^63, 2^63)`, so both `ℓ = 0` (`v = −2^63`) and `ℓ = 2^64` are
//! refused without a separate `≠ 0` check. Only `v = 0` has two witnesses, and the
//! chip uses `s` only through `|v| = (2s − 1)·v`, which is `0` for both, and
//! through `ℓ = r + 1 + s·(2^63 − 1)`, which is `2^63` for both.

use super::poseidon::Cell;
use crate::hash::{FieldHasher, PastaPoseidon};
use ethnum::U256;
use ff::{Field, PrimeField};
use halo2_proofs::circuit::{Layouter, Value};
use halo2_proofs::plonk::{
    Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector, TableColumn,
};
use halo2_proofs::poly::Rotation;
use pasta_curves::pallas::Base as Fp;
use std::collections::BTreeSet;

/// Bits per looked-up word.
pub const WORD_BITS: usize = 10;

/// The largest width a check may have (so that `2^n < p` with room to spare).
pub const MAX_BITS: usize = 252;

/// `(w, r)`: the number of rows of an `n`-bit check and the width of its last word.
pub const fn words(bits: usize) -> (usize, usize) {
    let w = bits.div_ceil(WORD_BITS);
    (w, bits - WORD_BITS * (w - 1))
}

/// `⌊v / 2^shift⌋` of `v`'s canonical representative, as a field element.
pub(crate) fn shift_right(v: Fp, shift: usize) -> Fp {
    let x = U256::from_le_bytes(v.to_repr());
    PastaPoseidon::from_u256(x >> shift as u32)
}

/// One running-sum column with its lookup.
#[derive(Clone, Copy, Debug)]
struct RunningSumColumn {
    z: Column<Advice>,
    tag: Column<Fixed>,
    q_word: Selector,
    q_next: Selector,
}

/// Configuration of the range-check chip: running-sum columns
/// ([`super::layout::Columns::range`]) and the shared two-column table.
#[derive(Clone, Debug)]
pub struct RangeCheckConfig {
    columns: Vec<RunningSumColumn>,
    table_tag: TableColumn,
    table_value: TableColumn,
}

impl RangeCheckConfig {
    /// Configures the chip on the given advice columns (equality is enabled on
    /// them) with one lookup each: `(tag, q_word·z − q_next·2^10·z_next)` in the
    /// table `(table_tag, table_value)`.
    pub fn configure(meta: &mut ConstraintSystem<Fp>, z: &[Column<Advice>]) -> Self {
        let table_tag = meta.lookup_table_column();
        let table_value = meta.lookup_table_column();
        let columns = (z.iter().copied()).map(|z| {
            meta.enable_equality(z);
            let column = RunningSumColumn {
                z,
                tag: meta.fixed_column(),
                q_word: meta.complex_selector(),
                q_next: meta.complex_selector(),
            };
            meta.lookup(|meta| {
                let q_word = meta.query_selector(column.q_word);
                let q_next = meta.query_selector(column.q_next);
                let z_cur = meta.query_advice(column.z, Rotation::cur());
                let z_next = meta.query_advice(column.z, Rotation::next());
                let tag = meta.query_fixed(column.tag);
                let word = q_word * z_cur
                    - q_next * z_next * Expression::Constant(Fp::from(1 << WORD_BITS));
                vec![(tag, table_tag), (word, table_value)]
            });
            column
        });
        Self {
            columns: columns.collect(),
            table_tag,
            table_value,
        }
    }
}

/// The range-check chip: strict checks placed greedily over the running-sum
/// columns (see the module docs for the layout).
#[derive(Debug)]
pub struct RangeCheckChip {
    config: RangeCheckConfig,
    rows: Vec<usize>,
}

impl RangeCheckChip {
    /// A chip with nothing placed yet.
    pub fn construct(config: RangeCheckConfig) -> Self {
        let rows = vec![0; config.columns.len()];
        Self { config, rows }
    }

    /// Rows used so far by the busiest running-sum column.
    pub fn height(&self) -> usize {
        self.rows.iter().copied().max().unwrap_or(0)
    }

    /// Loads the table: `(0, 0)`, then `(r, x)` for each width `r` in `widths`
    /// (each in `1..=10`; 10 is always included) and every `x < 2^r`.
    ///
    /// # Errors
    /// [`Error::Synthesis`] for a width outside `1..=10`; the layouter's errors.
    pub fn load_table(
        &self,
        layouter: &mut impl Layouter<Fp>,
        widths: &BTreeSet<usize>,
    ) -> Result<(), Error> {
        let mut widths = widths.clone();
        widths.insert(WORD_BITS);
        if widths.iter().any(|r| !(1..=WORD_BITS).contains(r)) {
            return Err(Error::Synthesis);
        }
        let (tag_column, value_column) = (self.config.table_tag, self.config.table_value);
        layouter.assign_table(
            || "range table",
            |mut table| {
                let mut row = 0;
                let mut put = |tag: u64, x: u64| -> Result<(), Error> {
                    table.assign_cell(|| "tag", tag_column, row, || Value::known(Fp::from(tag)))?;
                    table.assign_cell(
                        || "value",
                        value_column,
                        row,
                        || Value::known(Fp::from(x)),
                    )?;
                    row += 1;
                    Ok(())
                };
                put(0, 0)?;
                for &r in &widths {
                    for x in 0..1u64 << r {
                        put(r as u64, x)?;
                    }
                }
                Ok(())
            },
        )
    }

    /// Enforces `cell ∈ [0, 2^bits)`: copies `cell` into the least-filled
    /// running-sum column as `z_0` and lays out its running sum.
    ///
    /// # Errors
    /// [`Error::Synthesis`] if `bits` is not in `1..=252`; the layouter's errors.
    pub fn copy_check(
        &mut self,
        layouter: &mut impl Layouter<Fp>,
        name: &str,
        cell: &Cell,
        bits: usize,
    ) -> Result<(), Error> {
        if !(1..=MAX_BITS).contains(&bits) {
            return Err(Error::Synthesis);
        }
        let (w, last) = words(bits);
        let c = (0..self.rows.len())
            .min_by_key(|&c| self.rows[c])
            .ok_or(Error::Synthesis)?;
        self.rows[c] += w;
        let column = self.config.columns[c];
        layouter.assign_region(
            || format!("range check: {name} ({bits} bits)"),
            |mut region| {
                let z0 = cell.copy_advice(|| "z_0", &mut region, column.z, 0)?;
                for i in 0..w {
                    column.q_word.enable(&mut region, i)?;
                    let tag = if i + 1 < w {
                        column.q_next.enable(&mut region, i)?;
                        WORD_BITS
                    } else {
                        last
                    };
                    region.assign_fixed(
                        || "tag",
                        column.tag,
                        i,
                        || Value::known(Fp::from(tag as u64)),
                    )?;
                    if i > 0 {
                        let z = z0.value().map(|v| shift_right(*v, WORD_BITS * i));
                        region.assign_advice(|| format!("z_{i}"), column.z, i, || z)?;
                    }
                }
                Ok(())
            },
        )
    }
}

/// `2^bits` as a field element.
pub(crate) fn pow2(bits: usize) -> Fp {
    Fp::from(2).pow_vartime([bits as u64])
}

/// A bit as a field element.
pub(crate) fn bit(b: bool) -> Fp {
    Fp::from(u64::from(b))
}
