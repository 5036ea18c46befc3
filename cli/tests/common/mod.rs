//! Helpers shared by the CLI test binaries (`mod common;` in each).
#![allow(dead_code, clippy::unwrap_used, clippy::panic)] // each binary uses a subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use tempfile::TempDir;

/// Runs this package's `backstop` binary, without a venue secret in the environment.
pub fn backstop(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backstop"))
        .args(args)
        .env_remove("BACKSTOP_VENUE_SECRET")
        .output()
        .expect("the backstop binary runs")
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Asserts the process succeeded, showing its output otherwise.
#[track_caller]
pub fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// Asserts the process failed and said `needle` (on stdout or stderr).
#[track_caller]
pub fn refused(out: &Output, what: &str, needle: &str) {
    assert!(
        !out.status.success(),
        "{what} should have failed:\nstdout: {}",
        text(&out.stdout)
    );
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(
        all.contains(needle),
        "{what}: expected {needle:?} in:\n{all}"
    );
}

/// Lossy UTF-8 of a process's output.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The standalone verifier, `backstop-verify`, built into the same target directory
/// and profile as this test's `backstop`. Cargo builds only this package's binaries
/// for its tests, so this runs `cargo build -p backstop-verifier --bin
/// backstop-verify` (a no-op after `cargo test --workspace`, which builds it too).
pub fn backstop_verify_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let profile_dir = Path::new(env!("CARGO_BIN_EXE_backstop")).parent().unwrap();
        let bin = profile_dir.join(format!("backstop-verify{}", std::env::consts::EXE_SUFFIX));
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
        let mut cmd = Command::new(cargo);
        cmd.args([
            "build",
            "--quiet",
            "--locked",
            "-p",
            "backstop-verifier",
            "--bin",
            "backstop-verify",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
        // TARGET_DIR/PROFILE/ or, when cross-compiling, TARGET_DIR/TRIPLE/PROFILE/;
        // Cargo marks its target directory with CACHEDIR.TAG.
        let parent = profile_dir.parent().unwrap();
        if parent.join("CACHEDIR.TAG").is_file() {
            cmd.arg("--target-dir").arg(parent);
        } else {
            cmd.arg("--target-dir").arg(parent.parent().unwrap());
            cmd.arg("--target").arg(parent.file_name().unwrap());
        }
        match profile_dir.file_name().unwrap().to_str().unwrap() {
            "debug" => {}
            "release" => {
                cmd.arg("--release");
            }
            other => {
                cmd.args(["--profile", other]);
            }
        }
        let out = cmd.output().expect("cargo runs");
        if !out.status.success() {
            assert!(
                bin.is_file(),
                "could not build backstop-verify ({:?}):\n{}",
                cmd,
                text(&out.stderr)
            );
            eprintln!(
                "warning: `cargo build` of backstop-verify failed, using the existing {}:\n{}",
                bin.display(),
                text(&out.stderr)
            );
        }
        bin
    })
}

/// A generated snapshot proven by the CLI at `B = 8`, with the demo venue key, in a
/// temporary directory that also holds the venue secret (`secret.hex`).
pub struct ProvenEpoch {
    /// Keeps the directory.
    pub root: TempDir,
    /// The keys directory: Groth16 keys, or halo2's IPA parameter cache.
    pub keys: PathBuf,
    /// The snapshot `backstop fixtures` wrote.
    pub snapshot: PathBuf,
    /// The epoch directory.
    pub dir: PathBuf,
    /// What `backstop setup` printed on stderr.
    pub setup_stderr: String,
}

/// `backstop fixtures --scenario SCENARIO --accounts ACCOUNTS --markets MARKETS`,
/// then `backstop setup` and `backstop prove`, both with `--backend BACKEND
/// --batch-size 8`, proving with the venue secret `secret_hex`.
pub fn prove_epoch(
    backend: &str,
    scenario: &str,
    accounts: &str,
    markets: &str,
    secret_hex: &str,
) -> ProvenEpoch {
    prove_epoch_with(backend, scenario, accounts, markets, secret_hex, &[])
}

/// [`prove_epoch`] with `extra` arguments to `backstop prove`.
pub fn prove_epoch_with(
    backend: &str,
    scenario: &str,
    accounts: &str,
    markets: &str,
    secret_hex: &str,
    extra: &[&str],
) -> ProvenEpoch {
    let root = tempfile::tempdir().unwrap();
    let snapshot = root.path().join("snapshot");
    ok(
        &backstop(&[
            "fixtures",
            "--scenario",
            scenario,
            "--accounts",
            accounts,
            "--markets",
            markets,
            "--out",
            s(&snapshot),
        ]),
        "fixtures",
    );
    setup_and_prove(root, backend, &["--markets", markets], secret_hex, extra)
}

/// The risk model v2 `snapshot` (a directory, copied) proven with Groth16 at `B = 8`:
/// `backstop setup --markets MARKETS --brackets BRACKETS --assets ASSETS`, then
/// `backstop prove` with the venue secret `secret_hex`.
pub fn prove_v2_epoch(
    snapshot: &Path,
    markets: &str,
    brackets: &str,
    assets: &str,
    secret_hex: &str,
) -> ProvenEpoch {
    prove_v2_epoch_with(snapshot, markets, brackets, assets, secret_hex, &[])
}

/// [`prove_v2_epoch`] with `extra` arguments to `prove`.
pub fn prove_v2_epoch_with(
    snapshot: &Path,
    markets: &str,
    brackets: &str,
    assets: &str,
    secret_hex: &str,
    extra: &[&str],
) -> ProvenEpoch {
    let root = tempfile::tempdir().unwrap();
    copy_dir(snapshot, &root.path().join("snapshot"));
    let shape = [
        "--markets",
        markets,
        "--brackets",
        brackets,
        "--assets",
        assets,
    ];
    setup_and_prove(root, "groth16", &shape, secret_hex, extra)
}

/// A snapshot whose markets declare liquidation fees (the waterfall, `docs/SPEC.md`
/// §2.4; a directory, copied) proven with `backend` at `B = 8`: `backstop setup
/// --markets MARKETS --waterfall`, then `backstop prove` with `extra` arguments.
pub fn prove_waterfall_epoch(
    backend: &str,
    snapshot: &Path,
    markets: &str,
    secret_hex: &str,
    extra: &[&str],
) -> ProvenEpoch {
    let root = tempfile::tempdir().unwrap();
    copy_dir(snapshot, &root.path().join("snapshot"));
    let shape = ["--markets", markets, "--waterfall"];
    setup_and_prove(root, backend, &shape, secret_hex, extra)
}

/// `backstop setup --backend BACKEND --batch-size 8 SHAPE…` into `root/keys`, then
/// `backstop prove` of `root/snapshot` into `root/epoch` with the venue secret
/// `secret_hex` (written to `root/secret.hex`) and `extra` arguments.
fn setup_and_prove(
    root: TempDir,
    backend: &str,
    shape: &[&str],
    secret_hex: &str,
    extra: &[&str],
) -> ProvenEpoch {
    let keys = root.path().join("keys");
    let snapshot = root.path().join("snapshot");
    let dir = root.path().join("epoch");
    let secret = root.path().join("secret.hex");
    std::fs::write(&secret, secret_hex).unwrap();
    let mut setup = vec!["setup", "--backend", backend, "--batch-size", "8"];
    setup.extend(shape);
    setup.extend(["--keys", s(&keys)]);
    let setup = backstop(&setup);
    ok(&setup, &format!("setup --backend {backend}"));
    let mut prove = vec![
        "prove",
        "--backend",
        backend,
        "--snapshot",
        s(&snapshot),
        "--out",
        s(&dir),
        "--keys",
        s(&keys),
        "--batch-size",
        "8",
        "--secret-file",
        s(&secret),
    ];
    prove.extend(extra);
    ok(&backstop(&prove), &format!("prove --backend {backend}"));
    ProvenEpoch {
        root,
        keys,
        snapshot,
        dir,
        setup_stderr: text(&setup.stderr),
    }
}

/// `backstop inclusion prove` of `account` in the proven epoch `e` (its snapshot and
/// venue secret), written to `out`.
pub fn inclusion_prove(e: &ProvenEpoch, account: &str, out: &Path) -> Output {
    backstop(&[
        "inclusion",
        "prove",
        "--snapshot",
        s(&e.snapshot),
        "--epoch",
        s(&e.dir),
        "--account",
        account,
        "--secret-file",
        s(&e.root.path().join("secret.hex")),
        "--out",
        s(out),
    ])
}

/// A venue key file of the attacker's (not the venue's): 64 hex characters.
pub fn attacker_key_file(dir: &Path) -> PathBuf {
    let path = dir.join("attacker.key");
    std::fs::write(&path, "42".repeat(32)).unwrap();
    path
}

/// `backstop statement sign DIR`, with the default (demo) venue key or `key_file`.
pub fn statement_sign(dir: &Path, key_file: Option<&Path>) -> Output {
    let mut args = vec!["statement", "sign", s(dir)];
    if let Some(k) = key_file {
        args.extend(["--venue-key-file", s(k)]);
    }
    backstop(&args)
}

/// A proven epoch's `statement.json`, as JSON.
pub fn read_statement(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("statement.json")).unwrap()).unwrap()
}

/// A copy of the epoch directory `epoch` (in a fresh temporary directory, which
/// the caller keeps alive) whose statement is `edit`ed and signed again with the
/// (demo) venue key: what an attacker holding the venue key would publish.
pub fn edited_signed_copy(
    epoch: &Path,
    edit: impl FnOnce(&mut serde_json::Value),
) -> (TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("epoch");
    copy_dir(epoch, &dir);
    let mut statement = read_statement(&dir);
    edit(&mut statement);
    std::fs::write(
        dir.join("statement.json"),
        serde_json::to_vec_pretty(&statement).unwrap(),
    )
    .unwrap();
    ok(&statement_sign(&dir, None), "statement sign");
    (tmp, dir)
}
