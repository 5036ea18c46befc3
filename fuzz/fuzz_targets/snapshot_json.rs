//! Fuzzes the JSON form.
#![no_main]

mod common;

use backstop_circuits::snapshot::parse_json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    common::check(parse_json(data, "fuzz.json"));
});
