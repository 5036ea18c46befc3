//! The report in `--quick` mode (tiny sizes, no gas) into a temporary directory:
//! every measurement runs and both files are written and agree.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::process::Command;

#[test]
fn quick_report_writes_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_backstop-benches"))
        .args(["report", "--quick", "--out-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "report failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = std::fs::read_to_string(dir.path().join("PERFORMANCE.md")).unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("performance.json")).unwrap())
            .unwrap();
    assert_eq!(json["format"], "backstop-performance/1");
    assert_eq!(json["mode"], "quick");
    for section in [
        "## Machine",
        "## Targets",
        "## R1CS constraints",
        "## Kernel bound",
        "## halo2 proving",
        "## Scaling",
        "## Inclusion proofs and attestations",
    ] {
        assert!(md.contains(section), "missing {section}");
    }
    // B = 8: the pinned shape, a proof of 128 bytes that verified, kernels measured.
    let g = &json["groth16"][0];
    assert_eq!(g["batch_size"], 8);
    assert_eq!(g["constraints"], 14_560);
    assert_eq!(g["proof_bytes"], 128);
    assert!(g["kernels"]["ffts_s"].as_array().unwrap().len() == 7);
    assert!(json["halo2"][0]["Ok"]["proof_bytes"].as_u64().unwrap() > 0);
    assert!(json["inclusion"]["verified"].as_u64().unwrap() > 0);
    // No leftover temporary files beside the outputs.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}
