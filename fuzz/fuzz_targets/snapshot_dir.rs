//! Fuzzes the directory form: the input is split at NUL bytes into `epoch.toml`,
//! `accounts.csv` and (if a second NUL is present) `positions.csv`.
#![no_main]

use backstop_circuits::snapshot::{parse_dir_contents, parse_json, to_json};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0);
    let epoch = parts.next().unwrap_or_default();
    let accounts = parts.next().unwrap_or_default();
    let positions = parts.next();
    match parse_dir_contents(epoch, accounts, positions) {
        // Whatever is accepted must survive the canonical JSON round trip.
        Ok(snapshot) => {
            let json = to_json(&snapshot);
            assert_eq!(
                parse_json(json.as_bytes(), "fuzz.json").as_ref(),
                Ok(&snapshot)
            );
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
