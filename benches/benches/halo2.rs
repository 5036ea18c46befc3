//! halo2 (IPA over Pasta) prove and verify per batch (M = 8).
//! `BACKSTOP_BENCH_LARGE=1` adds B = 512.
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

use backstop_benches::{halo2, workload};
use backstop_circuits::halo2::Halo2BatchCircuit;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn prove_verify(c: &mut Criterion) {
    let mut g = c.benchmark_group("halo2");
    g.sample_size(10);
    for b in workload::bench_batch_sizes() {
        let shape = workload::shape(b).unwrap();
        let keys = halo2::keygen(shape).unwrap();
        let snapshot = workload::snapshot(b as usize).unwrap();
        let epoch = workload::epoch_pasta(&snapshot, shape);
        let circuit = Halo2BatchCircuit::new(shape, &epoch.batches[0]).unwrap();
        let instances = circuit.public_inputs();
        g.throughput(Throughput::Elements(b));
        g.bench_function(format!("prove/B={b}"), |bench| {
            bench.iter(|| black_box(halo2::prove(&keys, circuit.clone()).unwrap()))
        });
        let proof = halo2::prove(&keys, circuit.clone()).unwrap();
        g.throughput(Throughput::Elements(1));
        g.bench_function(format!("verify/B={b}"), |bench| {
            bench.iter(|| halo2::verify(&keys, &proof, &instances).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, prove_verify);
criterion_main!(benches);
