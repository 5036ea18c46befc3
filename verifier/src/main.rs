//! `backstop-verify EPOCH_DIR [--key VERIFYING_KEY]`: the auditor's standalone verifier.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: backstop-verify EPOCH_DIR [--key VERIFYING_KEY_FILE]";
    let (dir, key) = match args.as_slice() {
        [flag] if flag == "-h" || flag == "--help" => {
            println!("{usage}");
            return ExitCode::SUCCESS;
        }
        [flag] if flag == "-V" || flag == "--version" => {
            println!("backstop-verify {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        [dir] => (PathBuf::from(dir), None),
        [dir, flag, key] if flag == "--key" => (PathBuf::from(dir), Some(PathBuf::from(key))),
        _ => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    let key = match key
        .map(|k| backstop_verifier::read_verifying_key(&k))
        .transpose()
    {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match backstop_verifier::verify_epoch_dir(&dir, key.as_ref()) {
        Ok(v) => {
            let out = v.statement.outputs();
            println!(
                "verified: epoch {} ({} batches of {}), {} liquidations, bad debt {}, solvent {}, insurance covered {}",
                out.epoch,
                v.statement.file().batch_count,
                v.statement.shape().batch_size().get(),
                out.liquidations.len(),
                out.bad_debt,
                out.solvent,
                out.insurance_covered
            );
            if !v.trusted_key {
                println!(
                    "note: the verifying key was read from the epoch directory; pass --key with the key from the published setup to check it is the right one"
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("verification FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}
