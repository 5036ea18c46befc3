//! The transparent path: the batch statement of `docs/SPEC.md` §6.3 as a PLONKish
//! circuit in zcash `halo2_proofs` (IPA over Pasta), with `halo2_gadgets`' Poseidon
//! (`P128Pow5T3` through [`Pow5Chip`](halo2_gadgets::poseidon::Pow5Chip)).
//!
//! [`Halo2BatchCircuit`] enforces exactly the relations of the Groth16 circuit
//! ([`crate::r1cs::BatchCircuit`]), over the Pallas base field with the Pasta
//! instantiation of the commitments (§5), and exposes the same single public input
//! `x_b` (§6.4) in one instance column at row 0.
//!
//! # Structure
//!
//! | module | what |
//! | --- | --- |
//! | [`range`] | strict `n`-bit range checks: running sums of 10-bit words looked up in a tagged table; the sign gadget built on them |
//! | [`margin`] | one account: lanes, `TV`, `MR'`, signs, liability, bad debt, liquidation product, id order, padding rules, leaf words |
//! | [`frame`] | the batch frame: `is_last`, published outputs, the last batch's conditional equalities, solvency signs |
//! | [`waterfall`] | the default waterfall (§2.4): liquidation fees, the insurance draw and the least covering haircut rate; configured and tested on its own, not yet placed in the batch circuit |
//! | [`poseidon`] | `H(x_1..x_n)` for every `n` the spec uses and the chained absorb, spread over several `Pow5Chip`s |
//! | [`waterfall`] | the default waterfall (`.W` shapes): each account's fee and haircuts at `h` and `h − 1`, the rate, and the epoch's deficit, cover, shortfall and least rate |
//! | `circuit` | [`Halo2BatchCircuit`]: configuration and synthesis of one batch; [`ByRiskModel`], the risk model v1 or v2 circuit halo2 configures |
//!
//! # Layout
//!
//! Three groups of columns are filled side by side by halo2's single-pass floor
//! planner, which places each region at the first row where all of its columns are
//! free:
//!
//! | group | columns ([`Columns::RISK_V1`]) | per account at `M = 8` (risk model v1) |
//! | --- | --- | --- |
//! | 6 Poseidon chips | 4 advice, 6 fixed each | leaf `H(salt, w_0..w_3)`: 3 permutations, 121 rows; a seventh of an 8-ary tree node (161 rows): 144 rows in all, 24 per chip |
//! | 4 running-sum columns | 1 advice, 1 tag, 1 lookup each | 9 lanes × 7 + gap 7 + `TV` 19 + slack 21 = 110 lookups: 27.5 rows |
//! | 4 margin columns | advice, and 2 fixed shift columns | 9 lane blocks × 2 + 5 = 23 rows |
//!
//! Every hash goes to the least-filled Poseidon chip and every range check to the
//! least-filled running-sum column, so the groups grow in step; the running sums
//! set the height at about 27.5 rows per account (`B = 64`: 1,814 rows, `k = 11`;
//! `B = 512`: 14,101 rows, `k = 14`). [`Halo2BatchCircuit::k`] gives the exact `k`
//! of a shape. The column counts were chosen by measurement: fewer, taller
//! columns (3 chips, 3 running sums, 2 account columns) need `k = 12` at `B = 64`
//! and `k = 15` at `B = 512` and took 7% and 26% more prover CPU time.
//!
//! The risk model v2 circuit ([`Columns::RISK_V2`], `docs/SPEC.md` §8.1) has 4
//! chips, 6 running sums and an 8-wide margin grid: at `M = 8`, `T = 4`, `A = 4`
//! an account is 24 bracket windows, 13 lanes, the gap and two signs (307 lookups,
//! 51.2 rows over 6 columns), 44 margin rows and about 46 Poseidon rows per chip, so
//! `B = 512` fits `k = 15`.
//!
//! Per batch the frame adds the parameters hash, the two state commitments, `O`,
//! the accounts chain and `x_b` (29 permutations), the final id bound and the two
//! solvency signs (53 lookups). For `B = 8` the range table (1,085 rows at `M = 8`)
//! sets `k = 11`.
//!
//! A waterfall shape (`docs/SPEC.md` §8.4) has its own circuits: 6 chips, 6
//! running sums and the 4-wide grid for risk model v1 (`B = 512`, `M = 8`: 18,971
//! rows, `k = 15`), 4, 7 and the 8-wide grid for v2 (28,423 rows at `T = 4`,
//! `A = 4`, `k = 15`).

mod assignment;
mod circuit;
pub mod frame;
mod layout;
pub mod margin;
pub mod poseidon;
pub mod range;
mod trace;
pub mod waterfall;

pub use circuit::ByRiskModel;
pub use circuit::{Halo2BatchCircuit, Halo2BatchConfig};
pub use layout::Columns;

#[cfg(test)]
mod tests;
