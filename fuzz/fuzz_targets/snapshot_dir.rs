//! Fuzzes the directory form: the input is split at NUL bytes into `epoch.toml`,
//! `accounts.csv` and (if a second NUL is present) `positions.csv`.
#![no_main]

mod common;

use backstop_circuits::snapshot::parse_dir_contents;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0);
    let epoch = parts.next().unwrap_or_default();
    let accounts = parts.next().unwrap_or_default();
    let positions = parts.next();
    common::check(parse_dir_contents(epoch, accounts, positions));
});
