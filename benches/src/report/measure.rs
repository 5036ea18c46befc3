//! The measurements behind the report, one function per section.

use super::*;

pub(super) fn first_batch<F: Clone>(
    epoch: &backstop_circuits::witness::EpochWitness<impl FieldHasher<F = F>>,
) -> Result<backstop_circuits::witness::BatchWitness<F>, BenchError> {
    epoch
        .batches
        .first()
        .cloned()
        .ok_or_else(|| BenchError::Other("an epoch without batches".into()))
}

pub(super) fn measure_groth16(
    opts: &Options,
    batch_size: u64,
    keys_dir: &Path,
    cores: usize,
) -> Result<(Groth16Batch, Groth16Keys), BenchError> {
    let shape = workload::shape(batch_size)?;
    let b = batch_size as usize;
    say(&format!("Groth16 B = {b}: setup (child process)"));
    let dir = keys_dir.join(format!("groth16-b{b}"));
    let dir_arg = dir.display().to_string();
    let setup: SetupChild = run_child(&[
        "child-setup".into(),
        "--batch-size".into(),
        batch_size.to_string(),
        "--keys".into(),
        dir_arg.clone(),
    ])?;
    let (keys, key_load_s) = timed(|| Groth16Keys::load(&dir, shape).map_err(BenchError::from));
    let keys = keys?;
    let pk_path = dir.join(backstop_prover::keys::PROVING_KEY_FILE);
    let proving_key_bytes = std::fs::metadata(&pk_path)
        .map_err(|e| BenchError::io(&pk_path, e))?
        .len();
    let snapshot = workload::snapshot(b)?;
    let epoch = workload::epoch_bn254(&snapshot, shape);
    let witness = first_batch(&epoch)?;
    say(&format!("Groth16 B = {b}: {} proofs", opts.prove_reps));
    let mut proofs = Vec::new();
    let mut last = None;
    for _ in 0..opts.prove_reps.max(1) {
        let (proof, clocks) = clocked(|| groth16::prove(&keys, &witness));
        last = Some(proof?);
        proofs.push(clocks);
    }
    let proof = last.ok_or_else(|| BenchError::Other("no proof".into()))?;
    let prove_s = median(&proofs.iter().map(|c| c.wall_s).collect::<Vec<_>>());
    let prove_cpu_s = median(&proofs.iter().map(|c| c.cpu_s).collect::<Vec<_>>());
    say(&format!("Groth16 B = {b}: dissected proof and kernels"));
    let dissection = groth16::dissect(&keys, &witness)?;
    let kernels = groth16::kernel_bound(keys.proving_key(), dissection.sizes)?;
    let pvk = ark_groth16::prepare_verifying_key(&keys.proving_key().vk);
    let x: Vec<Fr> = witness.open_inputs::<Bn254Poseidon>();
    let mut verify = Vec::new();
    for _ in 0..50 {
        let (ok, s) = timed(|| groth16::verify(&pvk, &proof, &x));
        ok?;
        verify.push(s * 1e3);
    }
    say(&format!("Groth16 B = {b}: peak memory (child processes)"));
    let one: ProveChild = run_child(&[
        "child-prove".into(),
        "--batch-size".into(),
        batch_size.to_string(),
        "--keys".into(),
        dir_arg.clone(),
        "--accounts".into(),
        b.to_string(),
    ])?;
    let parallel = if cores > 1 {
        let all: ProveChild = run_child(&[
            "child-prove".into(),
            "--batch-size".into(),
            batch_size.to_string(),
            "--keys".into(),
            dir_arg,
            "--accounts".into(),
            (b * cores).to_string(),
        ])?;
        all.peak_rss_mib
    } else {
        one.peak_rss_mib
    };
    Ok((
        Groth16Batch {
            batch_size: b,
            constraints: dissection.sizes.constraints,
            setup_s: setup.setup_s,
            setup_peak_rss_mib: setup.peak_rss_mib,
            key_load_s,
            proving_key_bytes,
            verifying_key_bytes: verifying_key_bytes(&keys.proving_key().vk).len(),
            proof_bytes: proof_bytes(&proof).len(),
            proofs,
            prove_s,
            prove_cpu_s,
            dissection,
            kernels,
            verify_ms: median(&verify),
            prove_peak_rss_mib: one.peak_rss_mib,
            epoch_peak_rss_mib: parallel,
        },
        keys,
    ))
}

pub(super) fn measure_scaling(
    opts: &Options,
    keys: &Groth16Keys,
    scratch: &Path,
) -> Result<Scaling, BenchError> {
    let shape = keys.shape();
    let b = shape.batch_size().get();
    let mut points = Vec::new();
    let mut sizes: Vec<(usize, bool)> = opts.scaling_proven.iter().map(|&n| (n, true)).collect();
    sizes.extend(opts.scaling_extrapolated.iter().map(|&n| (n, false)));
    for (n, prove) in sizes {
        say(&format!("scaling: {n} accounts (prove: {prove})"));
        let snapshot = workload::snapshot(n)?;
        let (eval, native_s) = timed(|| evaluate(&snapshot));
        std::hint::black_box(eval);
        let (epoch, witness_s) = timed(|| workload::epoch_bn254(&snapshot, shape));
        let batches = epoch.batches.len();
        drop(epoch);
        let (clocks, verify_epoch_ms) = if prove {
            let (proof, clocks) = clocked(|| {
                prove_epoch(&snapshot, &workload::secret(), keys, &|_| {}).map_err(BenchError::from)
            });
            let proof = proof?;
            let dir = scratch.join(format!("epoch-{n}"));
            write_epoch_dir(&dir, &proof, keys)?;
            let (verified, s) = timed(|| backstop_verifier::verify_epoch_dir(&dir, None));
            verified.map_err(|e| BenchError::Verify(e.to_string()))?;
            (Some(clocks), Some(s * 1e3))
        } else {
            (None, None)
        };
        points.push(ScalingPoint {
            accounts: n,
            batches,
            native_s,
            witness_s,
            prove_s: clocks.map_or(0.0, |c| c.wall_s),
            prove: clocks,
            verify_epoch_ms,
            measured: prove,
        });
    }
    // Least squares of (prove − witness) against K over the measured points.
    let measured: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| p.measured)
        .map(|p| (p.batches as f64, p.prove_s - p.witness_s))
        .collect();
    let (per_batch_s, intercept_s) = fit(&measured);
    for p in points.iter_mut().filter(|p| !p.measured) {
        p.prove_s = p.witness_s + intercept_s + per_batch_s * p.batches as f64;
    }
    let witness_per_account_s = points
        .iter()
        .max_by_key(|p| p.accounts)
        .map_or(0.0, |p| p.witness_s / p.accounts as f64);
    let million_batches = 1_000_000usize.div_ceil(b);
    let million = [1usize, 2, 4, 8, 16, 64]
        .iter()
        .map(|&w| {
            let per_worker = million_batches.div_ceil(w);
            (
                w,
                witness_per_account_s * 1e6 + intercept_s + per_batch_s * per_worker as f64,
            )
        })
        .collect();
    Ok(Scaling {
        batch_size: b,
        points,
        per_batch_s,
        intercept_s,
        witness_per_account_s,
        million,
    })
}

/// Least-squares line through `(x, y)`: (slope, intercept). One point: through 0.
pub(super) fn fit(points: &[(f64, f64)]) -> (f64, f64) {
    let n = points.len() as f64;
    if points.len() < 2 {
        return points.first().map_or((0.0, 0.0), |&(x, y)| {
            (if x > 0.0 { y / x } else { 0.0 }, 0.0)
        });
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx == 0.0 {
        return (my / mx.max(1.0), 0.0);
    }
    let slope = sxy / sxx;
    (slope, my - slope * mx)
}

pub(super) fn measure_inclusion(opts: &Options, scratch: &Path) -> Result<Inclusion, BenchError> {
    let shape = workload::shape(opts.scaling_batch_size)?;
    let n = opts.inclusion_accounts;
    say(&format!("inclusion: {n} accounts"));
    let snapshot = workload::snapshot(n)?;
    let statement = workload::statement(&snapshot, shape)?;
    let venue = VenueEpoch::<Bn254Poseidon>::new(
        &snapshot,
        &statement,
        &workload::secret(),
        Path::new("bench"),
    )?;
    let out = scratch.join("inclusion");
    let (written, prove_s) = timed(|| venue.prove_all(&out).map_err(BenchError::from));
    let written = written?;
    let mut bytes = 0u64;
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&out).map_err(|e| BenchError::io(&out, e))? {
        let entry = entry.map_err(|e| BenchError::io(&out, e))?;
        let path = entry.path();
        if path.file_name().and_then(|f| f.to_str())
            == Some(backstop_verifier::inclusion::BATCH_ROOTS_FILE)
        {
            continue;
        }
        bytes += entry
            .metadata()
            .map_err(|e| BenchError::io(&path, e))?
            .len();
        files.push(path);
    }
    files.sort();
    files.truncate(opts.inclusion_verified);
    let proofs = files
        .iter()
        .map(|p| read_proof(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| BenchError::Verify(e.to_string()))?;
    let first = proofs
        .first()
        .ok_or_else(|| BenchError::Other("no inclusion proof written".into()))?;
    let roots = resolve_batch_roots(first, &out).map_err(|e| BenchError::Verify(e.to_string()))?;
    let (ok, verify_s) = timed(|| -> Result<(), BenchError> {
        let chained = ChainedRoots::new::<Bn254Poseidon>(&roots, &statement)
            .map_err(|e| BenchError::Verify(e.to_string()))?;
        for proof in &proofs {
            verify_inclusion_chained::<Bn254Poseidon>(proof, &chained, &statement)
                .map_err(|e| BenchError::Verify(e.to_string()))?;
        }
        Ok(())
    });
    ok?;
    let _ = std::fs::remove_dir_all(&out);
    Ok(Inclusion {
        accounts: written,
        batch_size: shape.batch_size().get(),
        prove_s,
        proofs_per_s: written as f64 / prove_s,
        bytes_per_proof: bytes as f64 / written.max(1) as f64,
        verified: proofs.len(),
        verify_s,
        verifies_per_s: proofs.len() as f64 / verify_s,
    })
}

pub(super) fn measure_attestation() -> Result<Attestation, BenchError> {
    say("attestation: setup, prove, verify");
    let shape = AttestationShape::new(MARKETS)?;
    let constraints = backstop_circuits::r1cs::attestation::constraint_count(shape)?;
    let witness = workload::attestation_witness()?;
    let (keys, setup_s) = timed(|| AttestationKeys::setup(shape).map_err(BenchError::from));
    let keys = keys?;
    let (proof, prove_s) = timed(|| keys.prove(&witness).map_err(BenchError::from));
    let proof = proof?;
    let parsed = backstop_verifier::artifacts::decode_proof(&proof)
        .map_err(|e| BenchError::Verify(e.to_string()))?;
    let pvk = ark_groth16::prepare_verifying_key(&keys.proving_key().vk);
    let mut verify = Vec::new();
    for _ in 0..20 {
        let (ok, s) = timed(|| groth16::verify(&pvk, &parsed, &[witness.public_input()]));
        ok?;
        verify.push(s * 1e3);
    }
    Ok(Attestation {
        markets: MARKETS,
        constraints,
        setup_s,
        prove_s,
        verify_ms: median(&verify),
        proof_bytes: proof.len(),
    })
}

/// Runs the ignored gas test and parses its `gas:` lines.
pub(super) fn measure_gas() -> Gas {
    say("gas: cargo test -p backstop-cli --test onchain -- --ignored gas_report");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let args = [
        "test",
        "-p",
        "backstop-cli",
        "--test",
        "onchain",
        "--locked",
        "--",
        "--ignored",
        "--nocapture",
        "--exact",
        "gas_report",
    ];
    let command = format!("cargo {}", args.join(" "));
    let out = Command::new(cargo)
        .args(args)
        .current_dir(crate::machine::workspace_root())
        .output();
    let out = match out {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            return Gas {
                note: format!(
                    "`{command}` failed ({}): not measured in this run",
                    o.status
                ),
                ..Gas::default()
            };
        }
        Err(e) => {
            return Gas {
                note: format!("`{command}` could not start ({e}): not measured in this run"),
                ..Gas::default()
            };
        }
    };
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    parse_gas(&text, &command)
}

pub(super) fn numbers(s: &str) -> Vec<u64> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter(|t| !t.is_empty())
        .filter_map(|t| t.parse().ok())
        .collect()
}

/// Parses `gas_report`'s output.
pub fn parse_gas(text: &str, command: &str) -> Gas {
    let mut gas = Gas {
        measured: true,
        note: format!(
            "`{command}` (B = 8, M = 2: 20 public inputs per proof; verification gas depends on M, not on B)"
        ),
        ..Gas::default()
    };
    for line in text.lines().filter_map(|l| l.trim().strip_prefix("gas: ")) {
        if let Some(rest) = line.strip_prefix("verifyProof") {
            // "batch {b}: {total} total, {execution} execution"
            if let [_, total, execution] = numbers(rest)[..] {
                gas.verify.push((total, execution));
            }
        } else if let Some(rest) = line.strip_prefix("verifyBatch") {
            // "K = {k}: {total} total, {execution} execution"
            if let [k, total, execution] = numbers(rest)[..] {
                gas.verify_batch.push((k, total, execution));
            }
        } else if let Some(rest) = line.strip_prefix("submitEpoch") {
            // "K = {k} ({l} liquidations): {total} total, {exec} execution, {n} bytes of calldata"
            if let [k, l, total, execution, _] = numbers(rest)[..] {
                gas.submit.push(SubmitGas {
                    batches: k,
                    liquidations: l,
                    total,
                    execution,
                });
            }
        } else if line.starts_with("deployment") {
            gas.deployment = line.to_owned();
        }
    }
    if gas.verify.is_empty() {
        gas.measured = false;
        gas.note = format!("`{command}` printed no verification gas: not measured in this run");
    }
    gas
}

/// Runs every measurement of `opts`.
pub fn measure(opts: &Options) -> Result<Report, BenchError> {
    let started = Instant::now();
    let mut machine = Machine::describe();
    say(&format!(
        "{} report on {} × {} ({:.1} GiB)",
        opts.mode, machine.cores, machine.cpu_model, machine.memory_gib
    ));
    let scratch = tempfile::Builder::new()
        .prefix("backstop-bench-")
        .tempdir()
        .map_err(|e| BenchError::io(std::env::temp_dir(), e))?;
    let largest = opts.batch_sizes.iter().copied().max().unwrap_or(8);

    say("constraints: breakdown and totals");
    let breakdown = breakdown(workload::shape(largest)?)?;
    let risk_v2 = Some(backstop_circuits::r1cs::breakdown(super::risk_v2_shape()?)?);
    let waterfall = Some(backstop_circuits::r1cs::breakdown(
        super::waterfall_shape()?
    )?);
    let mut totals = Vec::new();
    for &b in &[8u64, 64, 512] {
        if b > largest.max(64) {
            continue;
        }
        let n = if b as usize == breakdown.batch_size {
            breakdown.total
        } else {
            constraint_count(workload::shape(b)?)?
        };
        totals.push(ShapeCount {
            batch_size: b as usize,
            markets: MARKETS,
            constraints: n,
            per_account: n as f64 / b as f64,
        });
    }
    if opts.mode == "full" {
        for m in [1usize, 64] {
            let shape = backstop_circuits::shape::CircuitShape::new(64, m)?;
            let n = constraint_count(shape)?;
            totals.push(ShapeCount {
                batch_size: 64,
                markets: m,
                constraints: n,
                per_account: n as f64 / 64.0,
            });
        }
    }
    let mut halo2_layouts = Vec::new();
    for &b in &[8u64, 64, 512] {
        let shape = workload::shape(b)?;
        let rows =
            Halo2BatchCircuit::rows(shape).map_err(|e| BenchError::Halo2(format!("{e:?}")))?;
        halo2_layouts.push(Halo2Layout {
            batch_size: b as usize,
            rows,
            k: Halo2BatchCircuit::k(shape),
            rows_per_account: rows as f64 / b as f64,
        });
    }

    let mut groth16 = Vec::new();
    let mut scaling_keys = None;
    for &b in &opts.batch_sizes {
        let (run, keys) = measure_groth16(opts, b, scratch.path(), machine.cores)?;
        groth16.push(run);
        if b == opts.scaling_batch_size {
            scaling_keys = Some(keys);
        }
    }
    let scaling_keys = match scaling_keys {
        Some(k) => k,
        None => {
            let shape = workload::shape(opts.scaling_batch_size)?;
            let dir = scratch.path().join("scaling-keys");
            let _: SetupChild = run_child(&[
                "child-setup".into(),
                "--batch-size".into(),
                opts.scaling_batch_size.to_string(),
                "--keys".into(),
                dir.display().to_string(),
            ])?;
            Groth16Keys::load(&dir, shape)?
        }
    };
    let scaling = measure_scaling(opts, &scaling_keys, scratch.path())?;
    drop(scaling_keys);

    let mut halo2 = Vec::new();
    for &b in &opts.halo2_batch_sizes {
        say(&format!(
            "halo2 B = {b}: keygen, prove, verify (child process)"
        ));
        halo2.push(
            run_child::<Halo2Run>(&["child-halo2".into(), "--batch-size".into(), b.to_string()])
                .map_err(|e| e.to_string()),
        );
    }

    let inclusion = measure_inclusion(opts, scratch.path())?;
    let attestation = measure_attestation()?;
    let gas = if opts.gas {
        measure_gas()
    } else {
        Gas {
            note: "not run in quick mode (`--gas` runs it)".into(),
            ..Gas::default()
        }
    };
    machine.load_end = load_average();
    let mut report = Report {
        format: FORMAT.into(),
        mode: opts.mode.clone(),
        command: opts.command.clone(),
        machine,
        duration_s: started.elapsed().as_secs_f64(),
        breakdown,
        risk_v2,
        waterfall,
        risk_v2_proving: None,
        risk_v2_epoch: None,
        risk_v2_halo2: None,
        waterfall_proving: None,
        waterfall_halo2: None,
        totals,
        halo2_layouts,
        groth16,
        halo2,
        scaling,
        inclusion,
        attestation,
        gas,
        recommended_batch_size: 0,
        targets: Vec::new(),
        notes: Vec::new(),
    };
    report.recommended_batch_size = crate::render::recommend(&report);
    report.targets = crate::render::targets(&report);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::parse_gas;

    #[test]
    fn gas_lines_are_parsed_by_kind() {
        let text = "\
gas: deployment: verifier 2, epoch contract 3, total 5
gas: verifyProof batch 0: 216286 total, 190626 execution
gas: verifyBatch K = 4: 400000 total, 365749 execution
gas: submitEpoch K = 2 (7 liquidations): 1301207 total, 1262691 execution, 1988 bytes of calldata
other output
";
        let gas = parse_gas(text, "cmd");
        assert!(gas.measured);
        assert_eq!(gas.verify, [(216_286, 190_626)]);
        assert_eq!(gas.verify_batch, [(4, 400_000, 365_749)]);
        assert_eq!(gas.submit.len(), 1);
        assert_eq!((gas.submit[0].batches, gas.submit[0].liquidations), (2, 7));
        assert!(gas.deployment.starts_with("deployment: verifier 2"));
        assert!(!parse_gas("nothing", "cmd").measured);
    }
}
