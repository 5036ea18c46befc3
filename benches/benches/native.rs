//! Native evaluation and witness building per account (`calm`, M = 8).
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

use backstop_benches::workload;
use backstop_circuits::native::evaluate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn native(c: &mut Criterion) {
    let mut g = c.benchmark_group("native");
    g.sample_size(10);
    for n in [1_000usize, 10_000] {
        let snapshot = workload::snapshot(n).unwrap();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("evaluate/{n}"), |b| {
            b.iter(|| black_box(evaluate(black_box(&snapshot))))
        });
    }
    for (n, batch) in [(1_000usize, 64u64), (1_000, 512)] {
        let snapshot = workload::snapshot(n).unwrap();
        let shape = workload::shape(batch).unwrap();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("build_epoch/{n}/B={batch}"), |b| {
            b.iter(|| black_box(workload::epoch_bn254(black_box(&snapshot), shape)))
        });
    }
    g.finish();
}

criterion_group!(benches, native);
criterion_main!(benches);
