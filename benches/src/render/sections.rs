//! The sections of PERFORMANCE.md, one function each.

use super::*;
use backstop_circuits::r1cs::Breakdown;
use backstop_circuits::r1cs::cost::CostLine;

pub(super) fn constraints(o: &mut String, r: &Report) {
    let d = &r.breakdown;
    let _ = writeln!(o, "## R1CS constraints (Groth16, BN254)\n");
    let _ = writeln!(
        o,
        "Counted by synthesis in setup mode (`backstop_circuits::r1cs::cost`): each gadget \
         synthesized alone at the widths the shape needs; the inline arithmetic is the \
         measured per-account marginal (from the whole circuit at `B = 8` and `B = 64`, \
         tree nodes taken out) less those gadgets. The whole circuit is pinned by \
         `circuits/src/r1cs/tests.rs::shape_is_pinned`.\n"
    );
    let _ = writeln!(o, "### Per account at M = {}\n", d.markets);
    per_account_table(o, d);
    let _ = writeln!(o, "### Per batch\n");
    per_batch_table(o, d);
    let _ = writeln!(
        o,
        "So a batch costs `{}·B + {}·(B − 1)/7 + {}` constraints.\n",
        f(d.per_account_marginal, 0),
        d.tree_node,
        f(d.per_batch_fixed, 0)
    );
    let _ = writeln!(o, "### Totals\n");
    header(o, &["shape", "constraints", "per account"], "lrr");
    for s in &r.totals {
        row(
            o,
            cells![
                format!("B = {}, M = {}", s.batch_size, s.markets),
                int(s.constraints as u64),
                f(s.per_account, 1)
            ],
        );
    }
    let _ = writeln!(o);
}

/// A breakdown's per-account table, with the tree's share below it.
fn per_account_table(o: &mut String, d: &Breakdown) {
    cost_lines(
        o,
        "gadget",
        &d.per_account,
        "subtotal",
        d.per_account_marginal,
    );
    let _ = writeln!(
        o,
        "| 8-ary batch tree: `(B − 1)/7` nodes × {} (9 inputs) | | {} at B = {} |\n",
        d.tree_node,
        f((d.tree_nodes * d.tree_node) as f64 / d.batch_size as f64, 1),
        d.batch_size
    );
}

/// A breakdown's per-batch table.
fn per_batch_table(o: &mut String, d: &Breakdown) {
    cost_lines(
        o,
        "part",
        &d.per_batch,
        "fixed per batch",
        d.per_batch_fixed,
    );
    let _ = writeln!(o);
}

pub(super) fn waterfall(o: &mut String, r: &Report) {
    let Some(w) = &r.waterfall else {
        return;
    };
    let _ = writeln!(
        o,
        "### The default waterfall (B = {}, M = {})
",
        w.batch_size, w.markets
    );
    let _ = writeln!(
        o,
        "The Groth16 batch circuit of a waterfall shape (`.W`, `docs/SPEC.md` §2.4, \
         §8.3): each account's liquidation fee and its haircuts at `h` and `h − 1`, \
         the rate, and the last batch's draw, deficit, cover and minimality, counted \
         as above on a risk model v1 shape. Pinned at `B = 64` by \
         `circuits/src/r1cs/waterfall_tests.rs`.\n"
    );
    per_account_table(o, w);
    per_batch_table(o, w);
    let _ = writeln!(
        o,
        "In all {} constraints at B = {}: {} per account, {} more than without the \
         waterfall ({} per account marginally; target: at most 500).\n",
        int(w.total as u64),
        w.batch_size,
        f(w.per_account_total(), 1),
        f(w.per_account_total() - r.breakdown.per_account_total(), 1),
        f(w.per_account_marginal - r.breakdown.per_account_marginal, 0)
    );
    waterfall_runs(o, r);
}

/// One batch of each backend on the risk model v2 book with and without the
/// waterfall, when recorded.
fn waterfall_runs(o: &mut String, r: &Report) {
    if r.waterfall_proving.is_none() && r.waterfall_halo2.is_none() {
        return;
    }
    let _ = writeln!(
        o,
        "One batch of each backend on the risk model v2 book (`M = 8`, `T = 4`, \
         `A = 4`) with every market declaring a 1% liquidation fee \
         (`backstop-benches risk-v2 --waterfall [--halo2] --batch-size B --record`), \
         beside the same book without the waterfall (the runs above):\n"
    );
    header(
        o,
        &[
            "backend",
            "shape",
            "constraints or rows",
            "k",
            "prove s",
            "accounts/s",
            "verify s",
            "load at the end",
        ],
        "llrrrrrl",
    );
    for p in [&r.risk_v2_proving, &r.waterfall_proving]
        .into_iter()
        .flatten()
    {
        row(
            o,
            cells![
                "Groth16",
                format!("`{}`", p.shape),
                int(p.constraints as u64),
                "—",
                f(p.prove.wall_s, 2),
                f(p.accounts_per_s, 1),
                f(p.verify.wall_s, 3),
                p.load.clone()
            ],
        );
    }
    for h in [&r.risk_v2_halo2, &r.waterfall_halo2].into_iter().flatten() {
        row(
            o,
            cells![
                "halo2",
                format!("`{}`", h.shape),
                int(h.run.rows as u64),
                h.run.k,
                f(h.run.prove.wall_s, 2),
                f(h.accounts_per_s, 1),
                f(h.run.verify_s, 3),
                h.load.clone()
            ],
        );
    }
    let _ = writeln!(o);
}

pub(super) fn risk_v2(o: &mut String, r: &Report) {
    let Some(d) = &r.risk_v2 else {
        return;
    };
    let _ = writeln!(
        o,
        "### Risk model v2 (B = {}, M = {}, T = {}, A = {})
",
        d.batch_size, d.markets, d.brackets, d.assets
    );
    let _ = writeln!(
        o,
        "The Groth16 batch circuit of a shape with maintenance brackets and collateral \
         assets (`docs/SPEC.md` §8.2), counted as above. Pinned at `B = 64` by \
         `circuits/src/r1cs/risk_tests.rs::risk_model_v2_shape_is_pinned`. `backstop \
         prove` proves and publishes such epochs with this circuit and with the halo2 \
         circuit (§8.1); one batch of each and a whole Groth16 epoch are measured below \
         when recorded.\n"
    );
    per_account_table(o, d);
    per_batch_table(o, d);
    let _ = writeln!(
        o,
        "In all {} constraints at B = {}: {} per account (target: at most 4,000).\n",
        int(d.total as u64),
        d.batch_size,
        f(d.per_account_total(), 1)
    );
    if let Some(p) = &r.risk_v2_proving {
        let _ = writeln!(
            o,
            "Groth16 on `{}` (`backstop-benches risk-v2 --batch-size B --record`: \
             arkworks' setup and prover on the batch circuit, a seeded book with \
             positions in every bracket and amounts held and owed in every asset; \
             load {} at the end):\n",
            p.shape, p.load
        );
        header(
            o,
            &[
                "constraints",
                "inputs",
                "setup s",
                "prove s",
                "accounts/s",
                "verify ms",
            ],
            "rrrrrr",
        );
        row(
            o,
            cells![
                int(p.constraints as u64),
                p.public_inputs,
                f(p.setup.wall_s, 1),
                f(p.prove.wall_s, 2),
                f(p.accounts_per_s, 1),
                f(p.verify.wall_s * 1e3, 2)
            ],
        );
        let _ = writeln!(o);
    }
    if let Some(h) = &r.risk_v2_halo2 {
        let _ = writeln!(
            o,
            "halo2 on `{}` (`backstop-benches risk-v2 --halo2 --batch-size B --record`: \
             the same book, `keygen_vk`/`keygen_pk`, one `create_proof` and its \
             `verify_proof`; load {} at the end):\n",
            h.shape, h.load
        );
        header(
            o,
            &[
                "rows",
                "k",
                "keygen s",
                "prove s",
                "accounts/s",
                "verify s",
                "proof bytes",
                "prove time per account / Groth16's",
            ],
            "rrrrrrrr",
        );
        let ratio = r.risk_v2_proving.as_ref().map_or("—".to_owned(), |p| {
            f(p.accounts_per_s / h.accounts_per_s, 2)
        });
        row(
            o,
            cells![
                int(h.run.rows as u64),
                h.run.k,
                f(h.run.keygen_s, 1),
                f(h.run.prove.wall_s, 1),
                f(h.accounts_per_s, 1),
                f(h.run.verify_s, 2),
                int(h.run.proof_bytes as u64),
                ratio
            ],
        );
        let _ = writeln!(o);
    }
    if let Some(e) = &r.risk_v2_epoch {
        let _ = writeln!(
            o,
            "A whole epoch on `{}` (`backstop-benches risk-v2 --batch-size B --accounts N \
             --record`: the same book, `Groth16Keys::setup`, then `prove_epoch` as \
             `backstop prove` runs it, witness included and batches in parallel, then \
             `verify_groth16` as `backstop verify` runs it; load {} at the end):\n",
            e.shape, e.load
        );
        header(
            o,
            &[
                "accounts",
                "batches",
                "setup s",
                "prove s",
                "accounts/s",
                "verify s",
            ],
            "rrrrrr",
        );
        row(
            o,
            cells![
                int(e.accounts as u64),
                e.batches,
                f(e.setup.wall_s, 1),
                f(e.prove.wall_s, 1),
                f(e.accounts_per_s, 1),
                f(e.verify.wall_s, 2)
            ],
        );
        let _ = writeln!(o);
    }
}

pub(super) fn halo2_layout(o: &mut String, r: &Report) {
    let _ = writeln!(o, "## halo2 rows (PLONKish, IPA over Pasta)\n");
    let _ = writeln!(
        o,
        "Rows the layout of `Halo2BatchCircuit` occupies (`Halo2BatchCircuit::rows`: the blank \
         circuit laid out by the floor planner) and the `k` of its `2^k`-row domain. The \
         per-account height is set by the four range-check columns (running sums of 10-bit \
         words: 110 lookups per account at M = 8); the six Poseidon chips and four account \
         columns fill in beside them (see `circuits/src/halo2/mod.rs`).\n"
    );
    header(o, &["B", "rows", "per account", "k"], "rrrr");
    for l in &r.halo2_layouts {
        row(
            o,
            cells![
                l.batch_size,
                int(l.rows as u64),
                f(l.rows_per_account, 1),
                l.k
            ],
        );
    }
    if let [.., a, b] = &r.halo2_layouts[..] {
        let _ = writeln!(
            o,
            "\nMarginal: {} rows per account from B = {} to B = {}.",
            f(
                (b.rows - a.rows) as f64 / (b.batch_size - a.batch_size) as f64,
                2
            ),
            a.batch_size,
            b.batch_size
        );
    }
    let _ = writeln!(o);
}

pub(super) fn proving(o: &mut String, r: &Report) {
    let cores = r.machine.cores as f64;
    let _ = writeln!(o, "## Groth16 proving and verifying, per batch\n");
    let _ = writeln!(
        o,
        "One batch proven by the prover's own `backstop_prover::groth16::prove_batch` \
         (all cores, through arkworks' rayon parallelism), median of the repetitions; \
         accounts per core-second divide by the {} cores, per CPU-second by the CPU time \
         the process actually used. Verification: `Groth16::verify_proof` with a prepared \
         key, median of 50.\n",
        r.machine.cores
    );
    let parallel = format!("{} batches in parallel", r.machine.cores);
    header(
        o,
        &[
            "B",
            "constraints",
            "setup",
            "prove (median)",
            "CPU",
            "accounts/s",
            "per core-s",
            "per CPU-s",
            "verify",
            "peak RSS: 1 batch",
            &parallel,
            "setup peak",
        ],
        "rrrrrrrrrrrr",
    );
    for g in &r.groth16 {
        let repetitions = g.proofs.iter().map(|c| f(c.wall_s, 2)).collect::<Vec<_>>();
        row(
            o,
            cells![
                g.batch_size,
                int(g.constraints as u64),
                secs(g.setup_s),
                format!("{} ({})", secs(g.prove_s), repetitions.join(", ")),
                secs(g.prove_cpu_s),
                f(g.accounts_per_s(), 1),
                f(g.accounts_per_s() / cores, 1),
                f(g.batch_size as f64 / g.prove_cpu_s, 1),
                format!("{} ms", f(g.verify_ms, 2)),
                mib(g.prove_peak_rss_mib),
                mib(g.epoch_peak_rss_mib),
                mib(g.setup_peak_rss_mib),
            ],
        );
    }
    let _ = writeln!(o);
    header(
        o,
        &["B", "proof", "verifying key", "proving key", "key load"],
        "rrrrr",
    );
    for g in &r.groth16 {
        row(
            o,
            cells![
                g.batch_size,
                format!("{} B (compressed)", g.proof_bytes),
                format!("{} B", g.verifying_key_bytes),
                format!(
                    "{} MiB (uncompressed)",
                    f(g.proving_key_bytes as f64 / 1048576.0, 1)
                ),
                secs(g.key_load_s)
            ],
        );
    }
    let _ = writeln!(o);
}

pub(super) fn kernels(o: &mut String, r: &Report) {
    let _ = writeln!(o, "## Kernel bound: where the Groth16 prove time goes\n");
    let _ = writeln!(
        o,
        "In the same process and run as the proofs above, the arkworks kernels a proof \
         needs, alone: the seven FFTs of the R1CS-to-QAP map over the evaluation domain \
         (three IFFTs, three coset FFTs, one coset IFFT; `ark_poly`'s \
         `GeneralEvaluationDomain`, as `LibsnarkReduction` uses) on random vectors, and the \
         five MSMs (`VariableBaseMSM::msm_bigint`, the proving key's bases) on **random \
         scalars** of the proof's sizes. Beside it, the proof dissected: the same steps as \
         `ark_groth16`'s `create_proof_with_reduction`, each timed, with the MSMs on the \
         proof's **own** scalars.\n"
    );
    header(
        o,
        &[
            "B",
            "domain",
            "7 FFTs",
            "MSM A (G1)",
            "MSM B (G1)",
            "MSM B (G2)",
            "MSM L (G1)",
            "MSM H (G1)",
            "kernel bound",
            "prove",
            "**ratio**",
        ],
        "rrrrrrrrrrr",
    );
    for g in &r.groth16 {
        let k = &g.kernels;
        let m = &k.msm_random;
        row(
            o,
            cells![
                g.batch_size,
                format!("2^{}", k.sizes.domain.trailing_zeros()),
                secs(k.fft_total()),
                secs(m.a_g1),
                secs(m.b_g1),
                secs(m.b_g2),
                secs(m.l_g1),
                secs(m.h_g1),
                secs(k.total()),
                secs(g.prove_s),
                format!("**{}**", f(g.ratio_random(), 2))
            ],
        );
    }
    let _ = writeln!(
        o,
        "\nThe proof dissected (MSMs on the proof's own scalars):\n"
    );
    header(
        o,
        &[
            "B",
            "synthesis",
            "`to_matrices`",
            "witness map (7 FFTs inside)",
            "scalar conversion",
            "MSM A",
            "MSM B (G1)",
            "MSM B (G2)",
            "MSM L",
            "MSM H",
            "sum of steps",
            "own-scalar kernels (MSMs + FFTs)",
            "prove / own-scalar kernels",
        ],
        "rrrrrrrrrrrrr",
    );
    for g in &r.groth16 {
        let d = &g.dissection;
        let mut cells = cells![g.batch_size].to_vec();
        cells.extend(
            [
                d.synthesis_s,
                d.to_matrices_s,
                d.witness_map_s,
                d.conversions_s,
                d.msm.a_g1,
                d.msm.b_g1,
                d.msm.b_g2,
                d.msm.l_g1,
                d.msm.h_g1,
                d.total_s,
                g.kernel_actual_s(),
            ]
            .map(secs),
        );
        cells.push(f(g.ratio_actual(), 2));
        row(o, cells);
    }
    let _ = writeln!(
        o,
        "\nProving from matrices built beforehand (as a prover can, once per key): the \
         assignment alone is synthesized (no constraints kept, no inlining, no \
         `to_matrices`), then `Groth16::create_proof_with_reduction_and_matrices`:\n"
    );
    header(
        o,
        &[
            "B",
            "assignment-only synthesis",
            "same assignment",
            "whole proof",
            "verified",
            "vs `prove_batch`",
        ],
        "rrlrlr",
    );
    let yes = |ok: bool| if ok { "yes" } else { "**no**" };
    for g in &r.groth16 {
        let d = &g.dissection;
        row(
            o,
            cells![
                g.batch_size,
                secs(d.assignment_only_s),
                yes(d.assignment_only_matches),
                secs(d.precomputed_prove_s),
                yes(d.precomputed_verified),
                format!("{}×", f(g.prove_s / d.precomputed_prove_s, 2))
            ],
        );
    }
    if let Some(g) = recommended(r) {
        let d = &g.dissection;
        let k = &g.kernels;
        let overhead = d.synthesis_s
            + d.to_matrices_s
            + (d.witness_map_s - k.fft_total()).max(0.0)
            + d.conversions_s;
        let _ = writeln!(
            o,
            "\nAt B = {b}: {w} witness variables, {c} constraints. The random-scalar MSMs take \
             {rnd}, the proof's own {own} ({x}× less): {bits}% of this proof's witness values \
             are 0 or 1 (bit decompositions) and only {wide}% are wider than 64 bits, and \
             arkworks 0.6's MSM sorts scalars by size, adding 1-bit ones without any \
             doubling, so it does far less work than on random scalars. The random-scalar bound therefore \
             over-states the kernels and the issue's ratio (prove / bound) comes out at \
             {ratio}. Against the kernels it really runs the prover spends {actual}× their \
             time; the rest ({over}, {share}% of a proof) is outside the kernels: synthesis in \
             prove mode with matrices ({syn}), rebuilding the matrices ({mat}), {wm}, and \
             scalar conversion ({conv}).\n",
            b = g.batch_size,
            w = int(d.sizes.witness as u64),
            c = int(d.sizes.constraints as u64),
            rnd = secs(k.msm_random.total()),
            own = secs(d.msm.total()),
            x = f(k.msm_random.total() / d.msm.total(), 1),
            bits = f(100.0 * d.witness_bits as f64 / d.sizes.witness as f64, 0),
            wide = f(100.0 * d.witness_wide as f64 / d.sizes.witness as f64, 0),
            ratio = f(g.ratio_random(), 2),
            actual = f(g.ratio_actual(), 2),
            over = secs(overhead),
            share = f(100.0 * overhead / d.total_s, 0),
            syn = secs(d.synthesis_s),
            mat = secs(d.to_matrices_s),
            wm = if d.witness_map_s > k.fft_total() {
                format!(
                    "the witness map's matrix evaluation, pointwise products and division ({})",
                    secs(d.witness_map_s - k.fft_total())
                )
            } else {
                // Measured separately, the seven FFTs alone took as long as the whole
                // witness map: its other work is below this run's noise.
                "the witness map's matrix evaluation, pointwise products and division (within \
                 the noise: the witness map took no longer than its seven FFTs alone)"
                    .to_owned()
            },
            conv = secs(d.conversions_s),
        );
        let _ = writeln!(
            o,
            "What would close the remaining distance, by the measured shares: \
             synthesis and `to_matrices` are {syn_pct}% of a proof — proving from matrices \
             built once per key (`create_proof_with_reduction_and_matrices` after an \
             assignment-only synthesis of {assign}, measured above) removes most of that, at \
             the cost of keeping the matrices in memory beside the proving key (not adopted in \
             `backstop_prover`: the table above measures the whole gain); the MSMs are \
             {msm_pct}% — the G2 MSM alone {g2_pct}% — and the FFTs {fft_pct}%, and both are \
             field arithmetic, {asm}. The H MSM and the FFTs are sized by the domain, 2^{log} \
             points, which this batch's {used} constraints and inputs fill to {fill}%: a \
             batch that filled its domain would spread them over more accounts, but the \
             batch tree is 8-ary (SPEC §5.3), so after B = {b} the next batch size is {next}, \
             whose domain (2^{next_log}) and proving key (about {next_gib} GiB) are 8 times \
             larger. Batches are independent, so throughput also scales with workers (see \
             Scaling).\n",
            syn_pct = f(100.0 * (d.synthesis_s + d.to_matrices_s) / d.total_s, 0),
            assign = secs(d.assignment_only_s),
            msm_pct = f(100.0 * d.msm.total() / d.total_s, 0),
            g2_pct = f(100.0 * d.msm.b_g2 / d.total_s, 0),
            fft_pct = f(100.0 * k.fft_total() / d.total_s, 0),
            asm = if r.machine.field_asm {
                "which this build already multiplies with `ark-ff/asm` (BMI2 and ADX \
                 assembly; `.cargo/config.toml`)"
            } else {
                "which `ark-ff/asm` (BMI2 and ADX assembly, not enabled in this build) speeds up"
            },
            log = d.sizes.domain.trailing_zeros(),
            used = int((d.sizes.constraints + d.sizes.instance) as u64),
            fill = f(
                100.0 * (d.sizes.constraints + d.sizes.instance) as f64 / d.sizes.domain as f64,
                0
            ),
            b = g.batch_size,
            next = int(8 * g.batch_size as u64),
            next_log = d.sizes.domain.trailing_zeros() + 3,
            next_gib = f(8.0 * g.proving_key_bytes as f64 / f64::from(1u32 << 30), 1),
        );
    }
}

pub(super) fn halo2(o: &mut String, r: &Report) {
    let _ = writeln!(o, "## halo2 proving and verifying, per batch\n");
    let _ = writeln!(
        o,
        "`halo2_proofs` 0.4 directly (`keygen_vk`, `keygen_pk`, `create_proof` with a \
         Blake2b transcript, `verify_proof` with `SingleVerifier`), one batch in a fresh \
         child process (its peak RSS includes the parameters and keys).\n"
    );
    header(
        o,
        &[
            "B",
            "k",
            "rows",
            "params + keygen",
            "prove",
            "CPU",
            "per account",
            "vs Groth16 (same B)",
            "verify",
            "proof",
            "peak RSS",
        ],
        "rrrrrrrrrrr",
    );
    for h in &r.halo2 {
        match h {
            Ok(h) => {
                let vs = r
                    .groth16
                    .iter()
                    .find(|g| g.batch_size == h.batch_size)
                    .map_or_else(
                        || "–".into(),
                        |g| format!("{}×", f(h.prove.wall_s / g.prove_s, 2)),
                    );
                row(
                    o,
                    cells![
                        h.batch_size,
                        h.k,
                        int(h.rows as u64),
                        secs(h.keygen_s),
                        secs(h.prove.wall_s),
                        secs(h.prove.cpu_s),
                        secs(h.prove.wall_s / h.batch_size as f64),
                        vs,
                        format!("{} ms", f(h.verify_s * 1e3, 1)),
                        format!("{} B", int(h.proof_bytes as u64)),
                        mib(h.peak_rss_mib)
                    ],
                );
            }
            Err(e) => {
                let _ = writeln!(o, "| – | | | | not measured: {e} | | | | | | |");
            }
        }
    }
    let _ = writeln!(o);
}

pub(super) fn scaling(o: &mut String, r: &Report) {
    let s = &r.scaling;
    let _ = writeln!(o, "## Scaling (B = {}, M = 8)\n", s.batch_size);
    let _ = writeln!(
        o,
        "Native evaluation (`native::evaluate`), witness building (`witness::build_epoch`: \
         salts, leaves, trees, commitments, evaluation, witnesses) and whole-epoch proving \
         (`prove_epoch`: witness building again, then every batch, one batch per core at \
         a time on the {} cores) of `calm` books, each proven once. The least-squares line through \
         the proven epochs, proving time less witness building against the batch count, \
         is {} s per batch plus {} s per epoch; batches are independent, so an epoch costs \
         its batch count times the batch time.{}\n",
        r.machine.cores,
        f(s.per_batch_s, 2),
        f(s.intercept_s, 2),
        if s.points.iter().any(|p| !p.measured) {
            " Epochs marked *extrapolated* were not proven: their witness was built and \
             measured, and their proving time is the witness time plus that line."
        } else {
            ""
        }
    );
    header(
        o,
        &[
            "accounts",
            "batches",
            "native evaluation",
            "per account",
            "witness",
            "per account",
            "prove epoch",
            "CPU",
            "accounts/s",
            "verify epoch dir",
            "",
        ],
        "rrrrrrrrrrl",
    );
    for p in &s.points {
        row(
            o,
            cells![
                int(p.accounts as u64),
                p.batches,
                secs(p.native_s),
                format!("{} µs", f(1e6 * p.native_s / p.accounts as f64, 2)),
                secs(p.witness_s),
                format!("{} µs", f(1e6 * p.witness_s / p.accounts as f64, 1)),
                secs(p.prove_s),
                p.prove.map_or_else(|| "–".into(), |c| secs(c.cpu_s)),
                f(p.accounts as f64 / p.prove_s, 1),
                p.verify_epoch_ms
                    .map_or_else(|| "–".into(), |v| format!("{} ms", f(v, 1))),
                if p.measured {
                    "measured"
                } else {
                    "*extrapolated*"
                }
            ],
        );
    }
    let _ = writeln!(
        o,
        "\n10^6 accounts ({} batches of {}): witness building {} (measured per account: \
         {} µs), then the batches. On this machine and on N such workers, each proving its \
         share of the batches (the prover service distributes them):\n",
        int(1_000_000u64.div_ceil(s.batch_size as u64)),
        s.batch_size,
        hours(s.witness_per_account_s * 1e6),
        f(s.witness_per_account_s * 1e6, 1)
    );
    header(o, &["workers", "time for 10^6 accounts"], "rr");
    for (w, t) in &s.million {
        row(o, cells![w, hours(*t)]);
    }
    let _ = writeln!(o);
}

pub(super) fn gas(o: &mut String, r: &Report) {
    let g = &r.gas;
    let _ = writeln!(o, "## On chain (revm, solc 0.8.37)\n");
    if !g.measured {
        let _ = writeln!(o, "Not measured in this run: {}.\n", g.note);
        return;
    }
    let _ = writeln!(
        o,
        "From {}. \"Execution\" is transaction gas minus the 21,000 base and the calldata \
         cost.\n",
        g.note
    );
    header(o, &["what", "execution gas", "total gas"], "lrr");
    for (b, (total, exec)) in g.verify.iter().enumerate() {
        let what = format!("`verifyProof`, batch {b}");
        row(o, cells![what, int(*exec), int(*total)]);
    }
    for (k, total, exec) in &g.verify_batch {
        let what = format!("`verifyBatch`, K = {k} proofs");
        row(o, cells![what, int(*exec), int(*total)]);
    }
    for s in &g.submit {
        let what = format!(
            "`submitEpoch`, K = {} ({} liquidations)",
            s.batches, s.liquidations
        );
        row(o, cells![what, int(s.execution), int(s.total)]);
    }
    if !g.deployment.is_empty() {
        let _ = writeln!(o, "\nDeployment gas ({}).", g.deployment);
    }
    if let Some(a) = &g.anvil {
        let _ = writeln!(o, "\n### On a real node (anvil)\n");
        let _ = writeln!(o, "From {}.\n", a.note);
        anvil_table(o, a);
    }
    let _ = writeln!(
        o,
        "\nA proof has `9 + ⌈M/3⌉` open public inputs (SPEC §6.4: the parameters, flags, `b` and `K` packed into `2 + ⌈M/3⌉` words), so verification gas \
         depends on `M` (one scalar multiplication per input position, whatever `K`) but \
         not on `B`; most of it is the BN254 precompiles. `verifyProof` checks one proof \
         with 4 pairings; `verifyBatch` (what `submitEpoch` calls) checks all `K` proofs \
         of an epoch with `K + 3`. `submitEpoch` derives every public input from the \
         statement with integer arithmetic and Keccak-256: no Poseidon on chain. See \
         [ONCHAIN.md](ONCHAIN.md).\n"
    );
    let _ = writeln!(
        o,
        "The risk model v2 epoch contract's gas (brackets, assets and per-asset flags in \
         the `Statement`; measured in revm by `cargo test -p backstop-cli --test onchain \
         -- --nocapture risk_model_v2`, not by this report) is in \
         [ONCHAIN.md](ONCHAIN.md), \"Gas\".\n"
    );
}

/// The anvil gas table (also written into docs/ONCHAIN.md).
pub fn anvil_table(o: &mut String, a: &crate::report::AnvilGas) {
    header(
        o,
        &[
            "what",
            "liquidations",
            "transactions",
            "gas used (receipts)",
            "execution",
            "largest transaction",
            "calldata bytes",
        ],
        "lrrrrrr",
    );
    for r in &a.rows {
        row(
            o,
            cells![
                r.what.clone(),
                int(r.liquidations),
                int(r.transactions),
                int(r.gas_used),
                int(r.execution),
                int(r.max_transaction),
                int(r.calldata_bytes)
            ],
        );
    }
    let _ = writeln!(o);
}

pub(super) fn users(o: &mut String, r: &Report) {
    let i = &r.inclusion;
    let a = &r.attestation;
    let _ = writeln!(o, "## Inclusion proofs and attestations\n");
    header(o, &["what", "figure"], "ll");
    let _ = writeln!(
        o,
        "| `VenueEpoch::prove_all` (as `inclusion prove --all`), {} accounts × 8 markets, B = {} | {}, {} proofs/s, {} bytes per proof (JSON) |",
        int(i.accounts as u64),
        i.batch_size,
        secs(i.prove_s),
        f(i.proofs_per_s, 0),
        f(i.bytes_per_proof, 0)
    );
    let _ = writeln!(
        o,
        "| verifying {} of them (roots chained once), one thread | {}, {} proofs/s |",
        int(i.verified as u64),
        secs(i.verify_s),
        f(i.verifies_per_s, 0)
    );
    let _ = writeln!(
        o,
        "| attestation circuit, M = {} | {} constraints; setup {}, prove {} (with the prover's own check), verify {} ms; proof {} B |\n",
        a.markets,
        int(a.constraints as u64),
        secs(a.setup_s),
        secs(a.prove_s),
        f(a.verify_ms, 2),
        a.proof_bytes
    );
    let _ = writeln!(
        o,
        "Details of the proof format in [INCLUSION.md](INCLUSION.md). The attestation \
         circuit under risk model v2 (`M = 8, T = 4, A = 4`: constraints, setup, proof and \
         verification of one run) is measured by `cargo test --release -p \
         backstop-circuits --lib attestation::tests::measure_risk_model_v2 -- --ignored \
         --nocapture`, not by this report: [INCLUSION.md §5](INCLUSION.md#5-margin-attestations).\n"
    );
}

/// A table of cost lines (`part`, `count × each`, `total`), headed `first`, and
/// its bold `total` row.
fn cost_lines(o: &mut String, first: &str, lines: &[CostLine], label: &str, total: f64) {
    header(o, &[first, "count × each", "constraints"], "lrr");
    for l in lines {
        let each = format!("{} × {}", f(l.count, 0), f(l.each, 0));
        row(o, cells![l.part, each, f(l.total, 0)]);
    }
    let _ = writeln!(o, "| **{label}** | | **{}** |", f(total, 0));
}
