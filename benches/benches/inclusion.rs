//! Inclusion proof generation and verification, and attestation proving (M = 8).
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

use backstop_benches::workload;
use backstop_circuits::hash::Bn254Poseidon;
use backstop_circuits::shape::AttestationShape;
use backstop_prover::attest::AttestationKeys;
use backstop_prover::inclusion::VenueEpoch;
use backstop_verifier::inclusion::{
    ChainedRoots, read_proof, resolve_batch_roots, verify_inclusion_chained,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;

fn inclusion(c: &mut Criterion) {
    let mut g = c.benchmark_group("inclusion");
    g.sample_size(10);
    let n = 4_096usize;
    let shape = workload::shape(512).unwrap();
    let snapshot = workload::snapshot(n).unwrap();
    let statement = workload::statement(&snapshot, shape).unwrap();
    let venue = VenueEpoch::<Bn254Poseidon>::new(
        &snapshot,
        &statement,
        &workload::secret(),
        Path::new("bench"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("proofs");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("prove_all/{n}/B=512"), |b| {
        b.iter(|| venue.prove_all(&out).unwrap())
    });
    let id = snapshot.accounts()[n / 2].id();
    let proof = read_proof(&out.join(format!("{id}.json"))).unwrap();
    let roots = resolve_batch_roots(&proof, &out).unwrap();
    let chained = ChainedRoots::new::<Bn254Poseidon>(&roots, &statement).unwrap();
    g.throughput(Throughput::Elements(1));
    g.bench_function("verify_chained/B=512", |b| {
        b.iter(|| {
            black_box(
                verify_inclusion_chained::<Bn254Poseidon>(&proof, &chained, &statement).unwrap(),
            )
        })
    });
    g.finish();
}

fn attestation(c: &mut Criterion) {
    let mut g = c.benchmark_group("attestation");
    g.sample_size(10);
    let witness = workload::attestation_witness().unwrap();
    let keys = AttestationKeys::setup(AttestationShape::new(workload::MARKETS).unwrap()).unwrap();
    g.bench_function("prove/M=8", |b| {
        b.iter(|| black_box(keys.prove(&witness).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, inclusion, attestation);
criterion_main!(benches);
