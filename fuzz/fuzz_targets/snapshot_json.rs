//! Fuzzes the JSON form.
#![no_main]

use backstop_circuits::snapshot::{parse_json, to_json};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_json(data, "fuzz.json") {
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
