//! What every target checks of a parse: no panic, an error that prints, and a
//! canonical JSON round trip for whatever is accepted. Included by each target
//! (`mod common;`); not a target itself.

use backstop_circuits::model::Snapshot;
use backstop_circuits::snapshot::{SnapshotError, parse_json, to_json};

/// Whatever is accepted must survive the canonical JSON round trip unchanged;
/// whatever is refused must have a printable error.
pub fn check(parsed: Result<Snapshot, SnapshotError>) {
    match parsed {
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
}
