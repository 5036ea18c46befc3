//! Groth16 prove and verify per batch (M = 8) at several batch sizes, and the
//! kernels alone. `BACKSTOP_BENCH_LARGE=1` adds B = 512 (about a minute of setup).
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

use backstop_benches::{groth16, workload};
use backstop_circuits::hash::Bn254Poseidon;
use backstop_prover::keys::Groth16Keys;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn prove_verify(c: &mut Criterion) {
    let mut g = c.benchmark_group("groth16");
    g.sample_size(10);
    for b in workload::bench_batch_sizes() {
        let shape = workload::shape(b).unwrap();
        let keys = Groth16Keys::setup(shape).unwrap();
        let snapshot = workload::snapshot(b as usize).unwrap();
        let epoch = workload::epoch_bn254(&snapshot, shape);
        let witness = &epoch.batches[0];
        g.throughput(Throughput::Elements(b));
        g.bench_function(format!("prove/B={b}"), |bench| {
            bench.iter(|| black_box(groth16::prove(&keys, witness).unwrap()))
        });
        let proof = groth16::prove(&keys, witness).unwrap();
        let pvk = ark_groth16::prepare_verifying_key(&keys.proving_key().vk);
        let x = witness.open_inputs::<Bn254Poseidon>();
        g.throughput(Throughput::Elements(1));
        g.bench_function(format!("verify/B={b}"), |bench| {
            bench.iter(|| groth16::verify(&pvk, &proof, &x).unwrap())
        });
        let sizes = groth16::dissect(&keys, witness).unwrap().sizes;
        g.bench_function(format!("kernel_bound/B={b}"), |bench| {
            bench.iter(|| black_box(groth16::kernel_bound(keys.proving_key(), sizes).unwrap()))
        });
    }
    g.finish();
}

criterion_group!(benches, prove_verify);
criterion_main!(benches);
