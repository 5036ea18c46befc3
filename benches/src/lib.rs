//! Backstop's performance measurements: the workloads and measuring code shared by
//! the criterion benches (`benches/benches/*.rs`) and the report command
//! (`cargo run --release -p backstop-benches -- report`), which regenerates
//! `docs/PERFORMANCE.md` and `docs/performance.json`.
//!
//! | module | what |
//! | --- | --- |
//! | [`workload`] | the seeded books and witnesses every measurement uses (`calm`, `M = 8`) |
//! | [`groth16`] | Groth16 proving dissected into its kernels, and the kernel bound on random inputs |
//! | [`halo2`] | halo2 key generation, proving and verification (IPA over Pasta) |
//! | [`machine`] | the machine, load, clocks and peak memory of a measurement |
//! | [`report`] | the report: what is measured, in which order, and how it is written |
//! | [`render`] | `docs/PERFORMANCE.md` from a report, and the targets checked |
//! | [`risk_v2`] | Groth16 on risk model v2 directly through the circuit (setup, one proof, verification) |
//!
//! What it is not: no test suite (figures come from runs and are reported, never
//! asserted against a clock) and no proving logic of its own beyond the dissection:
//! it measures `backstop-prover` and `backstop-verifier` as users run them.

pub mod error;
pub mod groth16;
pub mod halo2;
pub mod machine;
pub mod render;
pub mod report;
pub mod risk_v2;
pub mod workload;

pub use error::BenchError;
