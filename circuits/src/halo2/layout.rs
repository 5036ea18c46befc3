//! Column counts, the row-major cell grids of the margin and frame regions, and an
//! exact row count of a shape's layout.

use ff::Field;
use halo2_proofs::circuit::{AssignedCell, Region, Value};
use halo2_proofs::plonk::{
    Advice, Any, Assigned, Assignment, Column, ConstraintSystem, Error, Expression, Fixed,
    Instance, Selector, VirtualCells,
};
use halo2_proofs::poly::Rotation;

/// Poseidon `Pow5Chip`s working side by side (4 advice and 6 fixed columns each).
pub const POSEIDON_CHIPS: usize = 6;

/// Running-sum columns of the range-check chip (one lookup argument each).
pub const RANGE_COLUMNS: usize = 4;

/// Advice columns of the margin and frame regions.
pub const MARGIN_COLUMNS: usize = 4;

/// Where cell `index` of a region laid out row-major over [`MARGIN_COLUMNS`]
/// columns sits: `(row, column)`.
pub(crate) const fn grid(index: usize) -> (usize, usize) {
    (index / MARGIN_COLUMNS, index % MARGIN_COLUMNS)
}

/// Rows taken by `cells` cells laid out by [`grid`].
pub(crate) const fn grid_rows(cells: usize) -> usize {
    cells.div_ceil(MARGIN_COLUMNS)
}

/// Queries cell `index` of a grid whose first row is `base` rows from the gate's
/// anchor row.
pub(crate) fn query_grid<F: Field>(
    meta: &mut VirtualCells<'_, F>,
    columns: &[Column<Advice>; MARGIN_COLUMNS],
    base: i32,
    index: usize,
) -> Expression<F> {
    let (row, column) = grid(index);
    meta.query_advice(columns[column], Rotation(base + row as i32))
}

/// The advice columns of a grid, placing and copying its cells by index (the
/// margin and frame chips' regions).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Grid<'a>(pub(crate) &'a [Column<Advice>; MARGIN_COLUMNS]);

impl Grid<'_> {
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
        let (row, column) = grid(index);
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
        let (row, column) = grid(index);
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
