//! Column counts, the row-major cell grids of the margin and frame regions, and an
//! exact row count of a shape's layout.

use ff::Field;
use halo2_proofs::circuit::{AssignedCell, Region, Value};
use halo2_proofs::plonk::{
    Advice, Any, Assigned, Assignment, Column, ConstraintSystem, Error, Expression, Fixed,
    Instance, Selector, VirtualCells,
};
use halo2_proofs::poly::Rotation;

/// The column counts of a configuration: how many Poseidon `Pow5Chip`s (4 advice
/// and 6 fixed columns each), running-sum columns of the range-check chip (one
/// lookup argument each) and advice columns of the margin and frame grids work
/// side by side. A risk model v1 shape and a risk model v2 shape are different
/// circuits (`Circuit::configure` gets no shape, so the risk model is a type
/// parameter of the circuit, [`super::circuit::ByRiskModel`]), each with the
/// counts that fit its per-account work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Columns {
    /// Poseidon chips.
    pub poseidon: usize,
    /// Running-sum columns.
    pub range: usize,
    /// Margin grid width.
    pub margin: usize,
}

impl Columns {
    /// Risk model v1 (flat rates, no assets): 6 chips, 4 running sums, 4 margin
    /// columns (per account at `M = 8`: 24, 27.5 and 23 rows; [`super`]).
    pub const RISK_V1: Self = Self {
        poseidon: 6,
        range: 4,
        margin: 4,
    };

    /// Risk model v2 (brackets or assets): an account holds far more lanes,
    /// bracket windows and range checks than it hashes, so 4 chips, 6 running
    /// sums and an 8-wide margin grid: 30 advice columns (per account at `M = 8`,
    /// `T = 4`, `A = 4`: about 46, 51 and 44 rows; `B = 512` fits `k = 15`).
    /// Measured against the alternatives at that shape: 4/8/8 (32 advice, 8
    /// lookups) fits the same `k` with more columns; 3/6/8 (26 advice) too, but
    /// needs `k = 13` instead of 12 at `B = 64`; the risk model v1 counts 6/4/4
    /// need `k = 16` (83 rows per account).
    pub const RISK_V2: Self = Self {
        poseidon: 4,
        range: 6,
        margin: 8,
    };

    /// Risk model v1 with the waterfall (`docs/SPEC.md` §2.4): the waterfall's
    /// 81 range-check lookups per account (at any `M`) more than double the
    /// running sums' share, so 6 of them instead of 4.
    pub const WATERFALL_V1: Self = Self {
        poseidon: 6,
        range: 6,
        margin: 4,
    };

    /// Risk model v2 with the waterfall: a seventh running sum keeps `B = 512`
    /// at `M = 8`, `T = 4`, `A = 4` in `k = 15` (388 lookups per account).
    pub const WATERFALL_V2: Self = Self {
        poseidon: 4,
        range: 7,
        margin: 8,
    };

    /// The counts of the risk model v1 or v2 circuit, with or without the
    /// waterfall.
    pub const fn of(risk_model_v2: bool, waterfall: bool) -> Self {
        match (risk_model_v2, waterfall) {
            (false, false) => Self::RISK_V1,
            (true, false) => Self::RISK_V2,
            (false, true) => Self::WATERFALL_V1,
            (true, true) => Self::WATERFALL_V2,
        }
    }

    /// Advice columns in all.
    pub const fn advice(self) -> usize {
        4 * self.poseidon + self.range + self.margin
    }
}

/// Where cell `index` of a region laid out row-major over `width` columns sits:
/// `(row, column)`.
pub(crate) const fn grid(width: usize, index: usize) -> (usize, usize) {
    (index / width, index % width)
}

/// Rows taken by `cells` cells laid out by [`grid`] over `width` columns.
pub(crate) const fn grid_rows(width: usize, cells: usize) -> usize {
    cells.div_ceil(width)
}

/// Queries cell `index` of a grid over `columns` whose first row is `base` rows
/// from the gate's anchor row.
pub(crate) fn query_grid<F: Field>(
    meta: &mut VirtualCells<'_, F>,
    columns: &[Column<Advice>],
    base: i32,
    index: usize,
) -> Expression<F> {
    let (row, column) = grid(columns.len(), index);
    meta.query_advice(columns[column], Rotation(base + row as i32))
}

/// The advice columns of a grid, placing and copying its cells by index (the
/// margin and frame chips' regions).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Grid<'a>(pub(crate) &'a [Column<Advice>]);

impl Grid<'_> {
    /// Where cell `index` sits: `(row, column index)`.
    pub(crate) fn at(self, index: usize) -> (usize, usize) {
        grid(self.0.len(), index)
    }

    /// Assigns `value` to cell `index` of the grid whose first row is row `base`
    /// of `region`.
    pub(crate) fn put<F: Field>(
        self,
        region: &mut Region<'_, F>,
        base: usize,
        index: usize,
        name: &str,
        value: Value<F>,
    ) -> Result<AssignedCell<F, F>, Error> {
        let (row, column) = self.at(index);
        region.assign_advice(|| name.to_owned(), self.0[column], base + row, || value)
    }

    /// Copies `cell` into cell `index` of the grid whose first row is row `base`
    /// of `region`.
    pub(crate) fn copy<F: Field>(
        self,
        region: &mut Region<'_, F>,
        base: usize,
        index: usize,
        name: &str,
        cell: &AssignedCell<F, F>,
    ) -> Result<AssignedCell<F, F>, Error> {
        let (row, column) = self.at(index);
        cell.copy_advice(|| name.to_owned(), region, self.0[column], base + row)
    }
}

/// An [`Assignment`] that only records the highest row anything touches: the
/// floor planner run on a blank circuit with it measures the layout exactly
/// (advice, fixed and selector cells, copies, constants and the lookup table).
#[derive(Debug, Default)]
pub(crate) struct RowCounter {
    /// One past the highest row touched.
    pub(crate) rows: usize,
}

impl RowCounter {
    fn touch(&mut self, row: usize) {
        self.rows = self.rows.max(row + 1);
    }
}

impl<F: Field> Assignment<F> for RowCounter {
    fn enter_region<NR, N>(&mut self, _: N)
    where
        NR: Into<String>,
        N: FnOnce() -> NR,
    {
    }

    fn exit_region(&mut self) {}

    fn enable_selector<A, AR>(&mut self, _: A, _: &Selector, row: usize) -> Result<(), Error>
    where
        A: FnOnce() -> AR,
        AR: Into<String>,
    {
        self.touch(row);
        Ok(())
    }

    fn query_instance(&self, _: Column<Instance>, _: usize) -> Result<Value<F>, Error> {
        Ok(Value::unknown())
    }

    fn assign_advice<V, VR, A, AR>(
        &mut self,
        _: A,
        _: Column<Advice>,
        row: usize,
        _: V,
    ) -> Result<(), Error>
    where
        V: FnOnce() -> Value<VR>,
        VR: Into<Assigned<F>>,
        A: FnOnce() -> AR,
        AR: Into<String>,
    {
        self.touch(row);
        Ok(())
    }

    fn assign_fixed<V, VR, A, AR>(
        &mut self,
        _: A,
        _: Column<Fixed>,
        row: usize,
        _: V,
    ) -> Result<(), Error>
    where
        V: FnOnce() -> Value<VR>,
        VR: Into<Assigned<F>>,
        A: FnOnce() -> AR,
        AR: Into<String>,
    {
        self.touch(row);
        Ok(())
    }

    fn copy(
        &mut self,
        _: Column<Any>,
        left: usize,
        _: Column<Any>,
        right: usize,
    ) -> Result<(), Error> {
        self.touch(left);
        self.touch(right);
        Ok(())
    }

    fn fill_from_row(
        &mut self,
        _: Column<Fixed>,
        from_row: usize,
        _: Value<Assigned<F>>,
    ) -> Result<(), Error> {
        // halo2 requires the first filled row to be usable too.
        self.touch(from_row);
        Ok(())
    }

    fn push_namespace<NR, N>(&mut self, _: N)
    where
        NR: Into<String>,
        N: FnOnce() -> NR,
    {
    }

    fn pop_namespace(&mut self, _: Option<String>) {}
}

/// The smallest `k` whose `2^k` rows hold `rows` usable rows of `cs`: halo2 keeps
/// the last `blinding_factors + 1` rows for blinding, and needs at least
/// `minimum_rows` rows in all.
pub(crate) fn smallest_k<F: Field>(cs: &ConstraintSystem<F>, rows: usize) -> u32 {
    let reserved = cs.blinding_factors() + 1;
    let mut k = 1;
    while (1usize << k) < rows + reserved || (1usize << k) < cs.minimum_rows() {
        k += 1;
    }
    k
}
