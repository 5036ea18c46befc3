//! `backstop setup`, `backstop prove` and `backstop verify` end to end, as real
//! processes on real files, and the standalone `backstop-verify` on the same epochs:
//! an honest epoch verifies, with the directory's key and with the trusted key, and
//! every tampering with the published statement, the proofs, the batch layout or the
//! key is rejected with a message naming the batch or the reason.
//!
//! Made once, by the CLI, and shared by the tests (each tampering works on its own
//! copy): B = 8, M = 4 keys from `backstop setup`; B = 8, M = 3 keys from the
//! development setup of a `backstop prove` without keys; and one proven epoch, the
//! committed `calm` fixture (48 accounts, 4 markets: 6 batches). They live under
//! Cargo's `CARGO_TARGET_TMPDIR`, in a directory a later run removes.
//!
//! The standalone `backstop-verify` belongs to another package, so Cargo does not
//! build it for these tests: `backstop_verify_bin` builds it (a no-op after
//! `cargo test --workspace`).
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the test failing

use ark_bn254::{Bn254, Fr};
use ark_groth16::{Groth16, prepare_verifying_key};
use backstop_circuits::hash::Bn254Poseidon;
use backstop_circuits::statement::PublicOutputs;
use backstop_prover::keys::{KeysFile, SETUP_WARNING, SINGLE_PARTY_SETUP};
use backstop_prover::secret::DEMO_WARNING;
use backstop_verifier::artifacts::{
    GROTH16_PROOF_BYTES, decode_proof, proof_path, verifying_key_hash,
};
use backstop_verifier::{read_statement, read_verifying_key};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};
use tempfile::TempDir;

mod common;
use common::{attacker_key_file, backstop_verify_bin, copy_dir, ok, s, statement_sign, text};

const SHAPE_M4: &str = "backstop.v2.B8.M4";
const SHAPE_M3: &str = "backstop.v2.B8.M3";
/// Batches of the calm fixture at `B = 8`: 48 accounts.
const CALM_BATCHES: u64 = 6;
const SECRET_HEX: &str = "00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210";

fn backstop_in(dir: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_backstop"));
    cmd.args(args).env_remove("BACKSTOP_VENUE_SECRET");
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    cmd.output().expect("the backstop binary runs")
}

fn backstop(args: &[&str]) -> Output {
    backstop_in(None, args)
}

fn fixture(name: &str) -> PathBuf {
    backstop_fixtures::data_dir().join(name)
}

fn golden(name: &str) -> PublicOutputs {
    serde_json::from_slice(&std::fs::read(fixture(name).join("expected.json")).unwrap()).unwrap()
}

/// A directory for the artifacts shared by this binary's tests, under Cargo's
/// per-target scratch directory. Statics are never dropped, so instead of a
/// self-deleting temporary directory each run removes the leftovers of runs that
/// ended more than an hour ago.
fn shared_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let parent = Path::new(env!("CARGO_TARGET_TMPDIR"));
        std::fs::create_dir_all(parent).unwrap();
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        for entry in std::fs::read_dir(parent).unwrap().flatten() {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < hour_ago);
            if stale
                && entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with("prove_verify-")
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        tempfile::Builder::new()
            .prefix("prove_verify-")
            .tempdir_in(parent)
            .unwrap()
            .keep()
    })
}

fn secret_file() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let path = shared_root().join("venue-secret.hex");
        std::fs::write(&path, format!("{SECRET_HEX}\n")).unwrap();
        path
    })
}

/// Keys made by `backstop setup`, with what the command printed.
struct Keys {
    dir: PathBuf,
    setup: Output,
    seconds: f64,
}

/// The B = 8, M = 4 keys, made by `backstop setup`.
fn keys_m4() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = shared_root().join("keys-m4");
        let started = Instant::now();
        let setup = backstop(&[
            "setup",
            "--batch-size",
            "8",
            "--markets",
            "4",
            "--keys",
            s(&dir),
        ]);
        ok(&setup, "backstop setup");
        Keys {
            dir,
            setup,
            seconds: started.elapsed().as_secs_f64(),
        }
    })
}

/// B = 8, M = 3 keys, made by the development setup that `backstop prove` runs
/// when there are none: `prove --batch-size 8` of a small 3-market snapshot, in a
/// fresh working directory, without `--keys` and without a secret.
/// `prove_without_keys_runs_the_development_setup_loudly` checks what it printed.
struct DevelopmentKeys {
    cwd: PathBuf,
    snapshot: PathBuf,
    keys: Keys,
}

fn keys_m3() -> &'static DevelopmentKeys {
    static KEYS: OnceLock<DevelopmentKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let cwd = shared_root().join("development");
        std::fs::create_dir_all(&cwd).unwrap();
        let snapshot = small_snapshot(&cwd, 3);
        let started = Instant::now();
        let setup = backstop_in(
            Some(&cwd),
            &[
                "prove",
                "--snapshot",
                s(&snapshot),
                "--out",
                "epoch",
                "--batch-size",
                "8",
            ],
        );
        ok(&setup, "prove without keys");
        DevelopmentKeys {
            keys: Keys {
                dir: cwd.join("backstop-keys").join(SHAPE_M3),
                setup,
                seconds: started.elapsed().as_secs_f64(),
            },
            cwd,
            snapshot,
        }
    })
}

/// The calm fixture proven by `backstop prove --json` with the B = 8, M = 4 keys.
struct Epoch {
    dir: PathBuf,
    prove: Output,
    seconds: f64,
}

fn calm_epoch() -> &'static Epoch {
    static EPOCH: OnceLock<Epoch> = OnceLock::new();
    EPOCH.get_or_init(|| {
        let dir = shared_root().join("calm-epoch");
        let started = Instant::now();
        let prove = backstop(&[
            "prove",
            "--snapshot",
            s(&fixture("calm").join("snapshot")),
            "--out",
            s(&dir),
            "--keys",
            s(&keys_m4().dir),
            "--secret-file",
            s(secret_file()),
            "--json",
        ]);
        ok(&prove, "backstop prove");
        Epoch {
            dir,
            prove,
            seconds: started.elapsed().as_secs_f64(),
        }
    })
}

/// A private copy of the proven calm epoch, changed by `tamper`.
fn tampered(tamper: impl FnOnce(&Path)) -> (TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("epoch");
    copy_dir(&calm_epoch().dir, &dir);
    tamper(&dir);
    (tmp, dir)
}

fn statement_json(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("statement.json")).unwrap()).unwrap()
}

fn edit_statement(dir: &Path, edit: impl FnOnce(&mut Value)) {
    let mut value = statement_json(dir);
    edit(&mut value);
    std::fs::write(
        dir.join("statement.json"),
        serde_json::to_vec_pretty(&value).unwrap(),
    )
    .unwrap();
}

fn proof_file(dir: &Path, batch: u64) -> PathBuf {
    proof_path(dir, batch)
}

fn swap_files(a: &Path, b: &Path) {
    let (x, y) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    std::fs::write(a, y).unwrap();
    std::fs::write(b, x).unwrap();
}

fn trusted_key() -> PathBuf {
    keys_m4().dir.join("verifying_key.bin")
}

/// `backstop verify DIR` and `backstop verify DIR --key K` both exit non-zero,
/// print nothing on stdout and say every one of `reasons` on stderr.
#[track_caller]
fn assert_rejected(what: &str, dir: &Path, reasons: &[&str]) {
    let key = trusted_key();
    for args in [
        vec!["verify", s(dir)],
        vec!["verify", s(dir), "--key", s(&key)],
    ] {
        let out = backstop(&args);
        let stderr = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{what}: `backstop {}` should fail:\nstdout: {}\nstderr: {stderr}",
            args.join(" "),
            text(&out.stdout)
        );
        assert!(out.stdout.is_empty(), "{what}: {}", text(&out.stdout));
        for reason in reasons {
            assert!(
                stderr.contains(reason),
                "{what}: `backstop {}` should say {reason:?}, said: {stderr}",
                args.join(" ")
            );
        }
    }
}

/// Entries of `dir` whose name starts with `.NAME.` (the atomic writer's
/// temporaries for `dir/NAME`).
fn temporaries(parent: &Path, name: &str) -> Vec<String> {
    std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!(".{name}.")))
        .collect()
}

fn backstop_verify(args: &[&str]) -> Output {
    Command::new(backstop_verify_bin())
        .args(args)
        .output()
        .expect("backstop-verify runs")
}

// ---------------------------------------------------------------------------------
// The honest path.

#[test]
fn setup_warns_and_writes_the_keys() {
    let keys = keys_m4();
    eprintln!("backstop setup (B = 8, M = 4) took {:.1} s", keys.seconds);
    let stderr = text(&keys.setup.stderr);
    assert!(stderr.contains(SETUP_WARNING), "{stderr}");
    assert!(stderr.contains("single-party"), "{stderr}");
    assert!(stderr.contains(SHAPE_M4), "{stderr}");

    let mut files: Vec<String> = std::fs::read_dir(&keys.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["keys.json", "proving_key.bin", "verifying_key.bin"]);
    let desc: KeysFile =
        serde_json::from_slice(&std::fs::read(keys.dir.join("keys.json")).unwrap()).unwrap();
    assert_eq!(desc.shape, SHAPE_M4);
    assert_eq!(desc.batch_size, 8);
    assert_eq!(desc.markets, 4);
    assert_eq!(desc.setup, SINGLE_PARTY_SETUP);
    assert!(desc.constraints > 1000, "{}", desc.constraints);
    let vk = read_verifying_key(&keys.dir.join("verifying_key.bin")).unwrap();
    assert_eq!(desc.verifying_key_hash, verifying_key_hash(&vk));
    assert_eq!(
        vk.gamma_abc_g1.len(),
        1 + backstop_circuits::inputs::open_input_count(4),
        "the open inputs (SPEC §6.4)"
    );
    assert!(
        std::fs::metadata(keys.dir.join("proving_key.bin"))
            .unwrap()
            .len()
            > 100_000
    );
    assert!(temporaries(shared_root(), "keys-m4").is_empty());

    // Shapes that do not exist are refused before anything is written.
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("keys");
    for (b, m) in [("10", "4"), ("8", "0"), ("8", "65")] {
        let out = backstop(&[
            "setup",
            "--batch-size",
            b,
            "--markets",
            m,
            "--keys",
            s(&bad),
        ]);
        assert_eq!(out.status.code(), Some(1), "B = {b}, M = {m}");
        assert!(!bad.exists(), "B = {b}, M = {m}");
    }
}

#[test]
fn prove_then_verify_with_the_directory_key_and_the_trusted_key() {
    let epoch = calm_epoch();
    eprintln!(
        "backstop prove (calm, 6 batches of 8) took {:.1} s",
        epoch.seconds
    );
    let report: Value = serde_json::from_slice(&epoch.prove.stdout).unwrap();
    assert_eq!(report["shape"], SHAPE_M4);
    assert_eq!(report["batches"], CALM_BATCHES);
    assert_eq!(report["epoch_dir"], s(&epoch.dir));
    let outputs: PublicOutputs = serde_json::from_value(report["outputs"].clone()).unwrap();
    assert_eq!(outputs, golden("calm"));
    // A secret file was given: no demo-secret warning.
    assert!(!text(&epoch.prove.stderr).contains(DEMO_WARNING));

    // With the directory's own key: verified, with a note saying the key is untrusted.
    let out = backstop(&["verify", s(&epoch.dir)]);
    ok(&out, "backstop verify");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("verified: 6 Groth16 batch proofs of epoch 357714"),
        "{stdout}"
    );
    assert!(stdout.contains("note: the verifying key was read from the epoch directory"));
    let printed: PublicOutputs = serde_json::from_str(stdout.lines().nth(1).unwrap()).unwrap();
    assert_eq!(printed, golden("calm"));

    // With the trusted key and the venue pinned: verified, no note.
    let key = trusted_key();
    let venue = read_statement(&epoch.dir).unwrap().venue().to_string();
    let out = backstop(&[
        "verify",
        s(&epoch.dir),
        "--key",
        s(&key),
        "--venue-key",
        &venue,
    ]);
    ok(&out, "backstop verify --key --venue-key");
    assert!(
        !text(&out.stdout).contains("note:"),
        "{}",
        text(&out.stdout)
    );

    // --json: one object with the outputs.
    for (args, trusted) in [
        (vec!["verify", s(&epoch.dir), "--json"], false),
        (
            vec!["verify", s(&epoch.dir), "--key", s(&key), "--json"],
            true,
        ),
    ] {
        let out = backstop(&args);
        ok(&out, "backstop verify --json");
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["verified"], true);
        assert_eq!(report["trusted_key"], trusted);
        assert_eq!(report["batches"], CALM_BATCHES);
        assert!(report["verify_seconds"].is_number());
        let outputs: PublicOutputs = serde_json::from_value(report["outputs"].clone()).unwrap();
        assert_eq!(outputs, golden("calm"));
    }
}

#[test]
fn standalone_verifier_accepts_the_epoch_and_rejects_tampering() {
    let epoch = calm_epoch();
    let out = backstop_verify(&[s(&epoch.dir)]);
    ok(&out, "backstop-verify");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "verified: epoch 357714 (6 batches of 8), 1 liquidations, bad debt 0.000000, \
             solvent true, insurance covered true"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("note: the verifying key was read from the epoch directory"));

    let key = trusted_key();
    let out = backstop_verify(&[s(&epoch.dir), "--key", s(&key)]);
    ok(&out, "backstop-verify --key");
    assert!(!text(&out.stdout).contains("note: the verifying key"));

    let (_t, swapped) = tampered(|d| swap_files(&proof_file(d, 1), &proof_file(d, 4)));
    let (_t2, unsolvent) = tampered(|d| edit_statement(d, |v| v["solvent"] = false.into()));
    for (dir, reason) in [
        (&swapped, "batch 1: proof does not verify"),
        (&unsolvent, "batch 0: proof does not verify"),
    ] {
        for args in [vec![s(dir)], vec![s(dir), "--key", s(&key)]] {
            let out = backstop_verify(&args);
            assert_eq!(out.status.code(), Some(1), "{args:?}");
            let stderr = text(&out.stderr);
            assert!(stderr.contains("verification FAILED"), "{stderr}");
            assert!(stderr.contains(reason), "{stderr}");
        }
    }
    let other = keys_m3().keys.dir.join("verifying_key.bin");
    let out = backstop_verify(&[s(&epoch.dir), "--key", s(&other)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("does not match the statement's"));
}

// ---------------------------------------------------------------------------------
// Tampering with the proofs.

#[test]
fn a_flipped_proof_byte_is_rejected_naming_the_batch() {
    // Bit 7 of the last byte of each compressed point is its y-sign flag: flipping it
    // negates the point, which always decodes and never verifies. A flip in the
    // middle of B's x-coordinate (a G2 point) gives no point of the subgroup.
    for (byte, reason) in [
        (31, "batch 3: proof does not verify"),
        (95, "batch 3: proof does not verify"),
        (127, "batch 3: proof does not verify"),
        (40, "batch 3: malformed proof"),
    ] {
        let (_t, dir) = tampered(|d| {
            let path = proof_file(d, 3);
            let mut bytes = std::fs::read(&path).unwrap();
            bytes[byte] ^= if byte == 40 { 0x01 } else { 0x80 };
            std::fs::write(path, bytes).unwrap();
        });
        assert_rejected(&format!("byte {byte} flipped"), &dir, &[reason]);
    }
    // A proof cut short or lengthened.
    for len in [GROTH16_PROOF_BYTES - 1, GROTH16_PROOF_BYTES + 1, 0] {
        let (_t, dir) = tampered(|d| {
            let path = proof_file(d, 5);
            let mut bytes = std::fs::read(&path).unwrap();
            bytes.resize(len, 0);
            std::fs::write(path, bytes).unwrap();
        });
        assert_rejected(&format!("{len} bytes"), &dir, &["batch 5: malformed proof"]);
    }
}

#[test]
fn every_single_bit_flip_of_a_proof_is_rejected_by_the_library() {
    let epoch = calm_epoch();
    let statement = read_statement(&epoch.dir).unwrap();
    let inputs = statement.public_inputs::<Bn254Poseidon>().unwrap();
    let vk = read_verifying_key(&trusted_key()).unwrap();
    let pvk = prepare_verifying_key(&vk);
    let honest = std::fs::read(proof_file(&epoch.dir, 2)).unwrap();
    let proof = decode_proof(&honest).unwrap();
    assert!(Groth16::<Bn254>::verify_proof(&pvk, &proof, &inputs[2]).unwrap());

    // All 8 bits of all 128 bytes: 1,024 flipped proofs, each refused by decoding
    // (not a point, not in the subgroup, a non-canonical coordinate) or by the pairing.
    let (mut undecodable, mut unverified) = (0, 0);
    let started = Instant::now();
    for byte in 0..GROTH16_PROOF_BYTES {
        for bit in 0..8 {
            let mut bytes = honest.clone();
            bytes[byte] ^= 1 << bit;
            match decode_proof(&bytes) {
                Err(_) => undecodable += 1,
                Ok(p) => {
                    assert!(
                        !Groth16::<Bn254>::verify_proof(&pvk, &p, &inputs[2]).unwrap_or(false),
                        "byte {byte} bit {bit} flipped still verifies"
                    );
                    unverified += 1;
                }
            }
        }
    }
    eprintln!(
        "{undecodable} flips do not decode, {unverified} decode and do not verify ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(undecodable + unverified, 8 * GROTH16_PROOF_BYTES);
    // The three sign flags at least.
    assert!(unverified >= 3, "{unverified}");
    assert!(undecodable > 0);
}

#[test]
fn a_wrong_public_input_does_not_verify() {
    let epoch = calm_epoch();
    let statement = read_statement(&epoch.dir).unwrap();
    let inputs = statement.public_inputs::<Bn254Poseidon>().unwrap();
    assert_eq!(inputs.len() as u64, CALM_BATCHES);
    let vk = read_verifying_key(&trusted_key()).unwrap();
    let pvk = prepare_verifying_key(&vk);
    for (b, x) in inputs.iter().enumerate() {
        let proof =
            decode_proof(&std::fs::read(proof_file(&epoch.dir, b as u64)).unwrap()).unwrap();
        assert!(
            Groth16::<Bn254>::verify_proof(&pvk, &proof, x).unwrap(),
            "batch {b}"
        );
        // Every open input (SPEC §6.4) plus one.
        for i in 0..x.len() {
            let mut plus_one = x.clone();
            plus_one[i] += Fr::from(1u64);
            assert!(
                !Groth16::<Bn254>::verify_proof(&pvk, &proof, &plus_one).unwrap(),
                "batch {b} with input {i} plus one"
            );
        }
        // Another batch's inputs.
        let other = &inputs[(b + 1) % inputs.len()];
        assert!(
            !Groth16::<Bn254>::verify_proof(&pvk, &proof, other).unwrap(),
            "batch {b} with another batch's inputs"
        );
    }
}

#[test]
fn swapped_batches_are_rejected() {
    let (_t, dir) = tampered(|d| swap_files(&proof_file(d, 1), &proof_file(d, 2)));
    assert_rejected(
        "batches 1 and 2 swapped",
        &dir,
        &["batch 1: proof does not verify"],
    );
    // The first and the last batch (the last one opens the outputs).
    let (_t, dir) = tampered(|d| swap_files(&proof_file(d, 0), &proof_file(d, 5)));
    assert_rejected(
        "batches 0 and 5 swapped",
        &dir,
        &["batch 0: proof does not verify"],
    );
    // One batch's proof in place of another (a repeated batch).
    let (_t, dir) = tampered(|d| {
        std::fs::copy(proof_file(d, 3), proof_file(d, 4))
            .map(drop)
            .unwrap()
    });
    assert_rejected(
        "batch 3 repeated",
        &dir,
        &["batch 4: proof does not verify"],
    );
}

#[test]
fn removed_batches_are_rejected() {
    let (_t, dir) = tampered(|d| std::fs::remove_file(proof_file(d, 2)).unwrap());
    assert_rejected("batch 2 removed", &dir, &["batch 2: proof missing"]);
    let (_t, dir) = tampered(|d| std::fs::remove_file(proof_file(d, 5)).unwrap());
    assert_rejected("last batch removed", &dir, &["batch 5: proof missing"]);
    // K decremented and the last proof removed: the statement needs one state
    // commitment per batch…
    let (_t, dir) = tampered(|d| {
        std::fs::remove_file(proof_file(d, 5)).unwrap();
        edit_statement(d, |v| {
            v["batch_count"] = (CALM_BATCHES - 1).to_string().into()
        });
    });
    assert_rejected(
        "K decremented",
        &dir,
        &["state_commitments", "need one per batch"],
    );
    // …and with the last one dropped too, K is in every batch's public input.
    let (_t, dir) = tampered(|d| {
        std::fs::remove_file(proof_file(d, 5)).unwrap();
        edit_statement(d, |v| {
            v["batch_count"] = (CALM_BATCHES - 1).to_string().into();
            v["state_commitments"].as_array_mut().unwrap().pop();
        });
    });
    assert_rejected(
        "epoch truncated to 5 batches",
        &dir,
        &["batch 0: proof does not verify"],
    );
    // The first batch dropped and the others renumbered.
    let (_t, dir) = tampered(|d| {
        for b in 1..CALM_BATCHES {
            std::fs::rename(proof_file(d, b), proof_file(d, b - 1)).unwrap();
        }
        edit_statement(d, |v| {
            v["batch_count"] = (CALM_BATCHES - 1).to_string().into();
            v["state_commitments"].as_array_mut().unwrap().remove(0);
        });
    });
    assert_rejected(
        "first batch dropped",
        &dir,
        &["batch 0: proof does not verify"],
    );
}

#[test]
fn stray_files_in_proofs_are_rejected() {
    // A copy of a real proof under the index K (one batch too many).
    let (_t, dir) = tampered(|d| {
        std::fs::copy(proof_file(d, 5), proof_file(d, CALM_BATCHES)).unwrap();
    });
    assert_rejected(
        "batch K present",
        &dir,
        &[
            "batch-000006.bin",
            "not a proof of any of the statement's batches",
        ],
    );
    for name in [
        "notes.txt",
        "batch-1.bin",
        "batch-000001.bin.bak",
        ".batch-000001.bin",
    ] {
        let (_t, dir) = tampered(|d| std::fs::write(d.join("proofs").join(name), b"x").unwrap());
        assert_rejected(
            name,
            &dir,
            &[name, "not a proof of any of the statement's batches"],
        );
    }
    let (_t, dir) = tampered(|d| std::fs::create_dir(d.join("proofs").join("extra")).unwrap());
    assert_rejected("a subdirectory", &dir, &["extra", "not a proof"]);
}

// ---------------------------------------------------------------------------------
// Tampering with the published statement.

/// Adds one unit in the last place to a non-negative decimal string of `decimals`
/// fractional digits (more are appended as zeros).
fn plus_one_unit(value: &str, decimals: usize) -> String {
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    assert!(frac.len() <= decimals);
    let mut digits: Vec<u8> = format!("{int}{frac:0<decimals$}").into_bytes();
    let mut i = digits.len();
    loop {
        if i == 0 {
            digits.insert(0, b'1');
            break;
        }
        i -= 1;
        if digits[i] == b'9' {
            digits[i] = b'0';
        } else {
            digits[i] += 1;
            break;
        }
    }
    let split = digits.len() - decimals;
    let (int, frac) = digits.split_at(split);
    let int = std::str::from_utf8(int).unwrap();
    if decimals == 0 {
        int.to_owned()
    } else {
        format!("{int}.{}", std::str::from_utf8(frac).unwrap())
    }
}

/// Changes the last hex digit of a published field element (staying canonical).
fn other_element(hex: &Value) -> Value {
    let mut s = hex.as_str().unwrap().to_owned();
    let last = s.pop().unwrap();
    s.push(if last == '0' { '1' } else { '0' });
    s.into()
}

#[test]
fn changed_published_outputs_are_rejected() {
    let calm = statement_json(&calm_epoch().dir);
    // E = max(q, s_m + p_m) = 10 for the calm markets.
    let exponent = read_statement(&calm_epoch().dir)
        .unwrap()
        .params()
        .common_exponent() as usize;
    assert_eq!(calm["liquidations"], serde_json::json!(["170"]));
    assert_eq!(calm["bad_debt"], "0.000000");
    let bad_debt_plus_one = plus_one_unit(calm["bad_debt"].as_str().unwrap(), exponent);
    assert_eq!(bad_debt_plus_one, "0.0000000001");
    let price_plus_one = plus_one_unit(
        calm["markets"][1]["price"].as_str().unwrap(),
        calm["markets"][1]["price_decimals"].as_u64().unwrap() as usize,
    );
    let reserves_plus_one = plus_one_unit(calm["reserves"].as_str().unwrap(), 6);

    type Edit = Box<dyn Fn(&mut Value) + Sync>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "solvent flipped",
            Box::new(|v| v["solvent"] = false.into()),
            "batch 0: proof does not verify",
        ),
        (
            "insurance_covered flipped",
            Box::new(|v| v["insurance_covered"] = false.into()),
            "batch 0: proof does not verify",
        ),
        (
            "liquidation removed",
            Box::new(|v| v["liquidations"] = serde_json::json!([])),
            "batch 0: proof does not verify",
        ),
        (
            "liquidation added",
            Box::new(|v| v["liquidations"] = serde_json::json!(["170", "171"])),
            "batch 0: proof does not verify",
        ),
        (
            "bad debt + 1 common unit",
            Box::new(move |v| v["bad_debt"] = bad_debt_plus_one.clone().into()),
            "batch 0: proof does not verify",
        ),
        (
            "accounts commitment changed",
            Box::new(|v| v["accounts_commitment"] = other_element(&v["accounts_commitment"])),
            "batch 0: proof does not verify",
        ),
        (
            "state commitment C_2 changed",
            Box::new(|v| v["state_commitments"][2] = other_element(&v["state_commitments"][2])),
            "batch 2: proof does not verify",
        ),
        (
            "last state commitment changed",
            Box::new(|v| v["state_commitments"][5] = other_element(&v["state_commitments"][5])),
            "batch 5: proof does not verify",
        ),
        (
            "ETH price + 1 minimal unit",
            Box::new(move |v| v["markets"][1]["price"] = price_plus_one.clone().into()),
            "batch 0: proof does not verify",
        ),
        (
            "maintenance margin changed",
            Box::new(|v| v["markets"][0]["maintenance_margin_bps"] = 49.into()),
            "batch 0: proof does not verify",
        ),
        (
            "reserves + 1 minimal unit",
            Box::new(move |v| v["reserves"] = reserves_plus_one.clone().into()),
            "batch 0: proof does not verify",
        ),
        (
            "epoch changed",
            Box::new(|v| v["epoch"] = "357715".into()),
            "batch 0: proof does not verify",
        ),
        (
            "markets reordered",
            Box::new(|v| v["markets"].as_array_mut().unwrap().swap(0, 1)),
            "batch 0: proof does not verify",
        ),
        (
            "verifying key hash changed",
            Box::new(|v| {
                let mut h = v["verifying_key_hash"].as_str().unwrap().to_owned();
                let last = h.pop().unwrap();
                h.push(if last == '0' { '1' } else { '0' });
                v["verifying_key_hash"] = h.into();
            }),
            "does not match the statement's",
        ),
        (
            "non-canonical field element",
            Box::new(|v| v["accounts_commitment"] = format!("0x{}", "f".repeat(64)).into()),
            "accounts_commitment",
        ),
        (
            "unknown field",
            Box::new(|v| v["total_liabilities"] = "1".into()),
            "unknown field `total_liabilities`",
        ),
    ];
    let calm = &calm;
    std::thread::scope(|scope| {
        for (what, edit, reason) in &cases {
            scope.spawn(move || {
                let (_t, dir) = tampered(|d| edit_statement(d, |v| edit(v)));
                assert_ne!(&statement_json(&dir), calm, "{what}: nothing changed");
                assert_rejected(what, &dir, &[reason]);
            });
        }
    });
}

// ---------------------------------------------------------------------------------
// Keys of another shape.

#[test]
fn the_verifying_key_of_another_shape_is_rejected() {
    let epoch = calm_epoch();
    let other = keys_m3().keys.dir.join("verifying_key.bin");
    let out = backstop(&["verify", s(&epoch.dir), "--key", s(&other)]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    // The trusted key's keys.json records its shape: refused by shape, naming both.
    assert!(
        stderr.contains("the keys are for shape backstop.v2.B8.M3, which does not match the statement's shape backstop.v2.B8.M4"),
        "{stderr}"
    );

    // A trusted key without the keys.json that records its shape is refused.
    let t = tempfile::tempdir().unwrap();
    let bare = t.path().join("verifying_key.bin");
    std::fs::copy(trusted_key(), &bare).unwrap();
    let out = backstop(&["verify", s(&epoch.dir), "--key", s(&bare)]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("keys.json"), "{stderr}");
    assert!(
        stderr.contains("the trusted key's shape is read from it"),
        "{stderr}"
    );

    // The directory's own key replaced by it.
    let (_t, dir) = tampered(|d| {
        std::fs::copy(&other, d.join("verifying_key.bin")).unwrap();
    });
    let out = backstop(&["verify", s(&dir)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("does not match the statement's"));

    // The key and the statement's key hash both replaced: the proofs do not verify
    // under it (and a trusted key still refuses the statement).
    let other_hash = verifying_key_hash(&read_verifying_key(&other).unwrap());
    let (_t, dir) = tampered(|d| {
        std::fs::copy(&other, d.join("verifying_key.bin")).unwrap();
        edit_statement(d, |v| v["verifying_key_hash"] = other_hash.clone().into());
    });
    // The key of another `M` has another number of public inputs (SPEC §6.4).
    let out = backstop(&["verify", s(&dir)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(
            "expects 10 public inputs, the batch circuit of shape backstop.v2.B8.M4 has 11"
        ),
        "{}",
        text(&out.stderr)
    );
    let out = backstop(&["verify", s(&dir), "--key", s(&trusted_key())]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("does not match the statement's"));

    // Not a key at all.
    let out = backstop(&[
        "verify",
        s(&epoch.dir),
        "--key",
        s(&keys_m4().dir.join("keys.json")),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("verifying key"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn prove_with_keys_of_another_shape_fails_naming_both_shapes() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("epoch");
    let calm = fixture("calm").join("snapshot");
    let m3 = &keys_m3().keys.dir;
    let m4 = &keys_m4().dir;
    for (snapshot, keys, extra, needed, found) in [
        (calm.clone(), m3, None, SHAPE_M4, SHAPE_M3),
        (
            fixture("squeeze").join("snapshot"),
            m4,
            None,
            SHAPE_M3,
            SHAPE_M4,
        ),
        (calm.clone(), m4, Some("64"), "backstop.v2.B64.M4", SHAPE_M4),
    ] {
        let mut args = vec![
            "prove",
            "--snapshot",
            s(&snapshot),
            "--out",
            s(&out_dir),
            "--keys",
            s(keys),
            "--secret-file",
            s(secret_file()),
        ];
        if let Some(b) = extra {
            args.extend(["--batch-size", b]);
        }
        let out = backstop(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(needed) && stderr.contains(found),
            "{stderr}"
        );
        assert!(
            !stderr.contains(SETUP_WARNING),
            "no setup behind the user's back"
        );
        assert!(!out_dir.exists());
        assert!(temporaries(tmp.path(), "epoch").is_empty());
    }
}

// ---------------------------------------------------------------------------------
// What `prove` writes, replaces and leaves behind.

/// A small generated snapshot (8 accounts: one batch).
fn small_snapshot(dir: &Path, markets: usize) -> PathBuf {
    let snapshot = dir.join(format!("snapshot-m{markets}"));
    let out = backstop(&[
        "fixtures",
        "--scenario",
        "flash-crash",
        "--accounts",
        "8",
        "--markets",
        &markets.to_string(),
        "--seed",
        "3",
        "--out",
        s(&snapshot),
    ]);
    ok(&out, "backstop fixtures");
    snapshot
}

#[test]
fn prove_refuses_to_replace_a_directory_it_did_not_write() {
    let tmp = tempfile::tempdir().unwrap();
    let snapshot = small_snapshot(tmp.path(), 4);
    let out_dir = tmp.path().join("precious");
    std::fs::create_dir(&out_dir).unwrap();
    std::fs::write(out_dir.join("notes.txt"), "mine").unwrap();
    let prove = |out_dir: &Path| {
        backstop(&[
            "prove",
            "--snapshot",
            s(&snapshot),
            "--out",
            s(out_dir),
            "--keys",
            s(&keys_m4().dir),
            "--secret-file",
            s(secret_file()),
        ])
    };
    let out = prove(&out_dir);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("is not an output of backstop"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(out_dir.join("notes.txt")).unwrap(),
        "mine"
    );
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 1);
    assert!(temporaries(tmp.path(), "precious").is_empty());

    // A previous epoch directory is replaced, atomically, by a fresh one.
    let epoch = tmp.path().join("epoch");
    copy_dir(&calm_epoch().dir, &epoch);
    let out = prove(&epoch);
    ok(&out, "prove over an epoch directory");
    let verify = backstop(&["verify", s(&epoch), "--key", s(&trusted_key())]);
    ok(&verify, "verify the replaced epoch");
    assert!(text(&verify.stdout).contains("verified: 1 Groth16 batch proofs"));
    assert!(!proof_file(&epoch, 1).exists(), "old proofs left behind");
    assert!(temporaries(tmp.path(), "epoch").is_empty());
}

#[test]
fn a_failed_prove_leaves_no_output_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad-snapshot");
    copy_dir(&fixture("calm").join("snapshot"), &bad);
    let accounts = bad.join("accounts.csv");
    let mut csv = std::fs::read_to_string(&accounts).unwrap();
    csv.push_str("99999999,12.3456789\n"); // more decimals than quote_decimals
    std::fs::write(&accounts, csv).unwrap();
    let out_dir = tmp.path().join("epoch");
    let out = backstop(&[
        "prove",
        "--snapshot",
        s(&bad),
        "--out",
        s(&out_dir),
        "--keys",
        s(&keys_m4().dir),
        "--secret-file",
        s(secret_file()),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("invalid snapshot"), "{stderr}");
    assert!(stderr.contains("accounts.csv"), "{stderr}");
    assert!(!out_dir.exists());
    assert!(temporaries(tmp.path(), "epoch").is_empty());

    // A bad secret file: refused before any work.
    let secret = tmp.path().join("secret");
    std::fs::write(&secret, "not hex").unwrap();
    let out = backstop(&[
        "prove",
        "--snapshot",
        s(&fixture("calm").join("snapshot")),
        "--out",
        s(&out_dir),
        "--keys",
        s(&keys_m4().dir),
        "--secret-file",
        s(&secret),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("venue secret"));
    assert!(!out_dir.exists());
}

#[test]
fn an_interrupted_prove_leaves_no_complete_looking_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("epoch");
    let keys = &keys_m4().dir;
    let mut child = Command::new(env!("CARGO_BIN_EXE_backstop"))
        .args([
            "prove",
            "--snapshot",
            s(&fixture("calm").join("snapshot")),
            "--out",
            s(&out_dir),
            "--keys",
            s(keys),
            "--secret-file",
            s(secret_file()),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let _ = child.kill();
    let status = child.wait().unwrap();
    if out_dir.exists() {
        // The run finished before the kill: then the directory is complete.
        assert!(
            status.success(),
            "{status}: a killed run left {}",
            out_dir.display()
        );
        ok(&backstop(&["verify", s(&out_dir)]), "verify");
    } else {
        // Whatever it had started lives in a hidden temporary, never under `epoch`.
        for name in temporaries(tmp.path(), "epoch") {
            assert!(name.starts_with(".epoch.tmp-"), "{name}");
        }
    }
}

#[test]
fn prove_without_keys_runs_the_development_setup_loudly() {
    let dev = keys_m3();
    eprintln!(
        "backstop prove without keys (setup B = 8, M = 3 and one batch) took {:.1} s",
        dev.keys.seconds
    );
    let stderr = text(&dev.keys.setup.stderr);
    assert!(
        stderr.contains("no keys in backstop-keys/backstop.v2.B8.M3"),
        "{stderr}"
    );
    assert!(stderr.contains("running the development setup"), "{stderr}");
    assert!(stderr.contains(SETUP_WARNING), "{stderr}");
    assert!(stderr.contains(DEMO_WARNING), "{stderr}");
    assert!(text(&dev.keys.setup.stdout).contains("in 1 Groth16 batches of 8"));
    let keys = &dev.keys.dir;
    let desc: KeysFile =
        serde_json::from_slice(&std::fs::read(keys.join("keys.json")).unwrap()).unwrap();
    assert_eq!(desc.shape, SHAPE_M3);
    let epoch = dev.cwd.join("epoch");
    ok(
        &backstop(&[
            "verify",
            s(&epoch),
            "--key",
            s(&keys.join("verifying_key.bin")),
        ]),
        "verify",
    );

    // With the keys there, no setup, and the batch size comes from the keys.
    let tmp = tempfile::tempdir().unwrap();
    let out = backstop_in(
        Some(tmp.path()),
        &[
            "prove",
            "--snapshot",
            s(&dev.snapshot),
            "--out",
            "epoch",
            "--keys",
            s(keys),
        ],
    );
    ok(&out, "prove with the development keys");
    assert!(!text(&out.stderr).contains(SETUP_WARNING));
    assert!(
        text(&out.stdout).contains("in 1 Groth16 batches of 8"),
        "{}",
        text(&out.stdout)
    );
    ok(
        &backstop(&["verify", s(&tmp.path().join("epoch"))]),
        "verify",
    );
}

// ---------------------------------------------------------------------------------
// Statement v2: relabelling, the venue signature, the previous epoch.

/// `backstop statement sign DIR` with the default (demo) venue key, or `key_file`.
fn sign(dir: &Path, key_file: Option<&Path>) {
    ok(&statement_sign(dir, key_file), "backstop statement sign");
}

/// Each relabelling that statement v1's derived parameters could not tell apart
/// (and the attacker's own venue), signed again with the key of the venue it names:
/// `backstop verify`, `backstop-verify` and `backstop audit` each refuse it at the
/// proofs, batch 0 (SPEC §5.5: the descriptor binds the raw values).
#[test]
fn relabelled_statements_signed_again_are_refused_by_the_proofs() {
    let honest = read_statement(&calm_epoch().dir).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let attacker_key = attacker_key_file(tmp.path());
    let attacker = backstop_prover::venue::VenueKey::from_hex(
        &std::fs::read_to_string(&attacker_key).unwrap(),
    )
    .unwrap()
    .address();
    let relabelled = backstop_circuits::tamper::relabellings(honest.file(), attacker);
    assert_eq!(
        relabelled.len(),
        5,
        "every relabelling applies to the calm epoch"
    );
    for (what, file) in relabelled {
        let key = (file.venue == attacker.to_string()).then_some(attacker_key.as_path());
        let (_t, dir) = tampered(|d| {
            std::fs::write(
                d.join("statement.json"),
                serde_json::to_vec_pretty(&file).unwrap(),
            )
            .unwrap();
        });
        sign(&dir, key);
        assert_rejected(what, &dir, &["batch 0: proof does not verify"]);
        refused_by_backstop_verify_and_audit(what, &dir, &[], "batch 0: proof does not verify");
    }
}

/// `backstop-verify DIR EXTRA…` exits 1 saying `reason` on stderr, and `backstop audit
/// DIR EXTRA…` fails with `reason` in its report.
#[track_caller]
fn refused_by_backstop_verify_and_audit(what: &str, dir: &Path, extra: &[&str], reason: &str) {
    let mut args = vec![s(dir)];
    args.extend(extra.iter().copied());
    let out = backstop_verify(&args);
    assert_eq!(out.status.code(), Some(1), "{what}");
    assert!(
        text(&out.stderr).contains(reason),
        "{what}: {}",
        text(&out.stderr)
    );
    let mut args = vec!["audit", s(dir)];
    args.extend(extra.iter().copied());
    let out = backstop(&args);
    assert_ne!(out.status.code(), Some(0), "{what}");
    assert!(
        text(&out.stdout).contains(reason),
        "{what}: {}",
        text(&out.stdout)
    );
}

/// An unsigned statement, one signed by another key, one of another venue than
/// `--venue-key`, and an epoch id not above `--previous`: each refused, naming why.
#[test]
fn the_venue_signature_and_the_epoch_order_are_checked() {
    let epoch = calm_epoch();
    let venue = read_statement(&epoch.dir).unwrap().venue().to_string();
    let out = backstop(&["verify", s(&epoch.dir), "--venue-key", &venue]);
    ok(&out, "verify --venue-key");
    assert!(text(&out.stdout).contains(&format!("signed by venue {venue}")));
    assert!(!text(&out.stdout).contains("the venue was not pinned"));
    let hash =
        backstop_verifier::venue::statement_hash(&read_statement(&epoch.dir).unwrap()).unwrap();
    assert!(
        text(&out.stdout).contains(&format!("statement hash 0x{}", hex::encode(hash))),
        "verify prints SPEC §7.5's statement hash"
    );

    let (_t, unsigned) = tampered(|d| {
        edit_statement(d, |v| {
            v.as_object_mut().unwrap().remove("signature");
        })
    });
    let tmp = tempfile::tempdir().unwrap();
    let attacker_key = attacker_key_file(tmp.path());
    let (_t2, forged) = tampered(|d| {
        let theirs = tempfile::tempdir().unwrap();
        let mut copy = statement_json(d);
        // The attacker's signature of the venue's statement: recovers to another
        // address than the venue the statement names.
        let attacker = backstop_prover::venue::VenueKey::from_hex(&"42".repeat(32)).unwrap();
        copy["venue"] = attacker.address().to_string().into();
        let dir = theirs.path().join("e");
        copy_dir(d, &dir);
        std::fs::write(
            dir.join("statement.json"),
            serde_json::to_vec(&copy).unwrap(),
        )
        .unwrap();
        sign(&dir, Some(&attacker_key));
        let signature = statement_json(&dir)["signature"].clone();
        edit_statement(d, |v| v["signature"] = signature);
    });
    // The venue's own signature, re-spelt in upper case: the same value, another
    // spelling, which a relayer could otherwise write without changing anything bound.
    let (_t3, upper) = tampered(|d| {
        edit_statement(d, |v| {
            let signature = v["signature"].as_str().unwrap();
            v["signature"] = format!("0x{}", signature[2..].to_ascii_uppercase()).into();
        })
    });
    let other = format!("0x{}", "11".repeat(20));
    let cases: Vec<(&str, &Path, Vec<&str>, &str)> = vec![
        ("unsigned", &unsigned, vec![], "is not signed by its venue"),
        (
            "the signature in upper case",
            &upper,
            vec![],
            "not 0x + 130 lowercase hex digits",
        ),
        (
            "signed by another key",
            &forged,
            vec![],
            "signed by venue 0x",
        ),
        (
            "another venue than --venue-key",
            &epoch.dir,
            vec!["--venue-key", &other],
            "the trusted venue (--venue-key) is 0x1111",
        ),
        (
            "an epoch id not above --previous",
            &epoch.dir,
            vec!["--previous", s(&epoch.dir)],
            "epoch 357714 is not above the previous statement's epoch 357714",
        ),
    ];
    for (what, dir, extra, reason) in cases {
        let mut args = vec!["verify", s(dir)];
        args.extend(extra.iter().copied());
        let out = backstop(&args);
        assert_eq!(out.status.code(), Some(1), "{what}: {}", text(&out.stdout));
        assert!(
            text(&out.stderr).contains(reason),
            "{what}: {}",
            text(&out.stderr)
        );
        refused_by_backstop_verify_and_audit(what, dir, &extra, reason);
    }
}

/// `statement sign` reads a statement as the verifiers do: a field that does not
/// parse is named by its path, and another version by its number; nothing is
/// written.
#[test]
fn statement_sign_names_the_field_it_refuses() {
    for (edit, needle) in [
        (
            (|v: &mut Value| v["markets"][1]["price_decimals"] = "two".into()) as fn(&mut Value),
            "markets[1].price_decimals",
        ),
        (
            |v: &mut Value| v["version"] = 1.into(),
            "statement version 1",
        ),
    ] {
        let (_t, dir) = tampered(|d| edit_statement(d, edit));
        let before = std::fs::read(dir.join("statement.json")).unwrap();
        let out = statement_sign(&dir, None);
        assert!(!out.status.success(), "{needle}");
        assert!(
            text(&out.stderr).contains(needle),
            "{needle}: {}",
            text(&out.stderr)
        );
        assert_eq!(std::fs::read(dir.join("statement.json")).unwrap(), before);
    }
}

/// A statement of version 1 is refused as such, not read as version 2.
#[test]
fn a_version_1_statement_is_refused_by_name() {
    let (_t, dir) = tampered(|d| edit_statement(d, |v| v["version"] = 1.into()));
    let out = backstop(&["verify", s(&dir)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("statement version 1 is not supported (this build reads version 2"),
        "{}",
        text(&out.stderr)
    );
}
