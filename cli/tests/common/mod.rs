//! Helpers shared by the CLI test binaries (`mod common;` in each).
#![allow(dead_code, clippy::unwrap_used, clippy::panic)] // each binary uses a subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

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
