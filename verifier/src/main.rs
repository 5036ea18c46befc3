//! `backstop-verify EPOCH_DIR [--key VERIFYING_KEY] [--params HALO2_PARAMS_DIR]
//! [--venue-key ADDRESS] [--previous STATEMENT]`: the auditor's standalone verifier,
//! for either backend.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: backstop-verify EPOCH_DIR [--key VERIFYING_KEY_FILE] [--params HALO2_PARAMS_DIR]\n\
                 [--venue-key ADDRESS] [--previous PREVIOUS_STATEMENT]\n\
                 Verifies with the proof system statement.json names: Groth16 with the given key (a keys directory\n\
                 or its verifying_key.bin, with the keys.json recording its shape beside it; default: the\n\
                 directory's own copy), or halo2 with IPA parameters cached in HALO2_PARAMS_DIR (default:\n\
                 backstop-keys/halo2-params; generated there when missing, no trusted setup). The statement\n\
                 must be signed by the venue it names; --venue-key requires that venue, --previous (an epoch\n\
                 directory or statement.json) requires an epoch id above the venue's previous one.";
    let mut dir = None;
    let mut key = None;
    let mut params = PathBuf::from(backstop_verifier::halo2::DEFAULT_PARAMS_DIR);
    let mut venue = backstop_verifier::audit::VenueExpectation::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                println!("{usage}");
                return ExitCode::SUCCESS;
            }
            "-V" | "--version" => {
                println!("backstop-verify {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            "--key" | "--params" | "--venue-key" | "--previous" => {
                let Some(value) = it.next() else {
                    eprintln!("{arg} needs a value\n{usage}");
                    return ExitCode::from(2);
                };
                match arg.as_str() {
                    "--key" => key = Some(PathBuf::from(value)),
                    "--params" => params = PathBuf::from(value),
                    "--previous" => venue.previous = Some(PathBuf::from(value)),
                    _ => match backstop_verifier::venue::parse_venue(value) {
                        Ok(v) => venue.trusted = Some(v),
                        Err(e) => {
                            eprintln!("error: {e}");
                            return ExitCode::from(2);
                        }
                    },
                }
            }
            other if !other.starts_with('-') && dir.is_none() => dir = Some(PathBuf::from(other)),
            _ => {
                eprintln!("{usage}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(dir) = dir else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    let key = match key
        .map(|k| backstop_verifier::read_trusted_key(&k))
        .transpose()
    {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let verified = backstop_verifier::verify_epoch(&dir, key.as_ref(), &params)
        .and_then(|v| venue.check(&v.statement).map(|signer| (v, signer)));
    match verified {
        Ok((v, signer)) => {
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
            println!("signed by venue {signer}");
            if venue.trusted.is_none() {
                println!(
                    "note: the venue was not pinned; pass --venue-key with the venue's published address to require it"
                );
            }
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
