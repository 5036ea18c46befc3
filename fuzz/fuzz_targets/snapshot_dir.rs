//! Fuzzes the directory form: the input is split at NUL bytes into `epoch.toml`,
//! `accounts.csv` and (if further NULs are present) `positions.csv` and
//! `balances.csv`.
#![no_main]

mod common;

use backstop_circuits::snapshot::parse_dir_files;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(4, |&b| b == 0);
    let epoch = parts.next().unwrap_or_default();
    let accounts = parts.next().unwrap_or_default();
    let positions = parts.next();
    let balances = parts.next();
    common::check(parse_dir_files(epoch, accounts, positions, balances));
});
