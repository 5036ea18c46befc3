//! `backstop export snarkjs`: an epoch directory rewritten in the JSON formats of
//! [snarkjs](https://github.com/iden3/snarkjs)'s Groth16 verifier, so a third party
//! can check Backstop's batch proofs with an independent implementation:
//!
//! ```text
//! OUT_DIR/
//!   verification_key.json   the verifying key (snarkjs `zkey export verificationkey` format)
//!   proof_0.json            batch 0's proof            (snarkjs `groth16 prove` format)
//!   public_0.json           batch 0's public input x_0, ["<decimal>"]
//!   …                       one pair per batch, numbered like proofs/batch-NNNNNN.bin
//! ```
//!
//! and then, for every batch `i`,
//! `snarkjs groth16 verify verification_key.json public_i.json proof_i.json`
//! (`scripts/node/setup` installs the pinned snarkjs;
//! `node scripts/node/verify-export.mjs OUT_DIR` checks every batch in one process,
//! which is much faster than one `snarkjs` process per batch).
//!
//! # Encoding
//!
//! snarkjs calls BN254 `bn128`. Every field element is a decimal string of its
//! canonical value (`0 ≤ v < p`). Points are written in projective form with
//! `z = 1`, as snarkjs writes them:
//!
//! * G1: `["x", "y", "1"]`;
//! * G2: `[[x.c0, x.c1], [y.c0, y.c1], ["1", "0"]]`, where an `Fq2` element is
//!   `c0 + c1·u` (`u² = −1`): the constant coefficient comes **first**. (This is the
//!   order of snarkjs's JSON and of arkworks; only the EVM precompile calldata, which
//!   this module does not produce, puts `c1` first.)
//! * the point at infinity: `["0", "1", "0"]` in G1, `[["0","0"],["1","0"],["0","0"]]`
//!   in G2, as snarkjs encodes it.
//!
//! `vk_alphabeta_12` is `e(α, β)` in `Fq12 = Fq6[w]/(w² − v)`,
//! `Fq6 = Fq2[v]/(v³ − (9 + u))`, written `[[a.c0, a.c1, a.c2], [b.c0, b.c1, b.c2]]`
//! for `a + b·w` with each `Fq6` coefficient an `Fq2` pair as above. snarkjs's
//! `groth16 verify` does not read it (it recomputes the pairing product), but its
//! own verification keys carry it, and so do ours.
//!
//! The public input of batch `b` is the `x_b` the verifier derives from
//! `statement.json` (`docs/SPEC.md` §6.4), not a value stored by the prover.
//!
//! snarkjs (0.7.6) reduces coordinates modulo `p` when it reads them, so it also
//! accepts a proof whose JSON spells a coordinate as `v + p`; the files written
//! here are canonical, but whoever compares proofs by their JSON text should not
//! rely on snarkjs to reject non-canonical spellings.

use crate::error::ProverError;
use ark_bn254::{Bn254, Fq2, Fq6, Fq12, Fr, G1Affine, G2Affine};
use ark_groth16::{Proof, VerifyingKey, prepare_verifying_key};
use backstop_circuits::hash::Bn254Poseidon;
use backstop_circuits::statement::Backend;
use backstop_verifier::{Groth16EpochFiles, VerifyError, read_groth16_epoch, read_statement};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The verification key file of an export directory.
pub const VERIFICATION_KEY_FILE: &str = "verification_key.json";
/// snarkjs's name for the proof system.
pub const PROTOCOL: &str = "groth16";
/// snarkjs's name for BN254.
pub const CURVE: &str = "bn128";

/// The name of batch `batch`'s proof file in an export directory: `proof_<batch>.json`.
pub fn proof_file_name(batch: u64) -> String {
    format!("proof_{batch}.json")
}

/// The name of batch `batch`'s public input file in an export directory:
/// `public_<batch>.json`.
pub fn public_file_name(batch: u64) -> String {
    format!("public_{batch}.json")
}

/// A G1 point as snarkjs writes it: projective `[x, y, z]`, decimal strings.
pub type G1Json = [String; 3];
/// An `Fq2` element as snarkjs writes it: `[c0, c1]` for `c0 + c1·u`.
pub type Fq2Json = [String; 2];
/// A G2 point as snarkjs writes it: projective `[x, y, z]`, each coordinate an
/// [`Fq2Json`].
pub type G2Json = [Fq2Json; 3];
/// An `Fq6` element: `[c0, c1, c2]` for `c0 + c1·v + c2·v²`.
pub type Fq6Json = [Fq2Json; 3];
/// An `Fq12` element: `[c0, c1]` for `c0 + c1·w`.
pub type Fq12Json = [Fq6Json; 2];

/// snarkjs's `verification_key.json` for a Groth16 key over BN254.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnarkjsVerificationKey {
    /// Always [`PROTOCOL`].
    pub protocol: String,
    /// Always [`CURVE`].
    pub curve: String,
    /// The number of public inputs (1 for Backstop's batch circuit).
    #[serde(rename = "nPublic")]
    pub n_public: usize,
    /// `α` in G1.
    pub vk_alpha_1: G1Json,
    /// `β` in G2.
    pub vk_beta_2: G2Json,
    /// `γ` in G2.
    pub vk_gamma_2: G2Json,
    /// `δ` in G2.
    pub vk_delta_2: G2Json,
    /// `e(α, β)`.
    pub vk_alphabeta_12: Fq12Json,
    /// The input commitment bases, `nPublic + 1` G1 points (arkworks' `gamma_abc_g1`).
    #[serde(rename = "IC")]
    pub ic: Vec<G1Json>,
}

impl SnarkjsVerificationKey {
    /// Converts an arkworks verifying key.
    pub fn from_arkworks(vk: &VerifyingKey<Bn254>) -> Self {
        let alphabeta = prepare_verifying_key(vk).alpha_g1_beta_g2;
        Self {
            protocol: PROTOCOL.to_owned(),
            curve: CURVE.to_owned(),
            n_public: vk.gamma_abc_g1.len().saturating_sub(1),
            vk_alpha_1: g1_json(&vk.alpha_g1),
            vk_beta_2: g2_json(&vk.beta_g2),
            vk_gamma_2: g2_json(&vk.gamma_g2),
            vk_delta_2: g2_json(&vk.delta_g2),
            vk_alphabeta_12: fq12_json(&alphabeta),
            ic: vk.gamma_abc_g1.iter().map(g1_json).collect(),
        }
    }
}

/// snarkjs's `proof.json` for a Groth16 proof over BN254.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnarkjsProof {
    /// `A` in G1.
    pub pi_a: G1Json,
    /// `B` in G2.
    pub pi_b: G2Json,
    /// `C` in G1.
    pub pi_c: G1Json,
    /// Always [`PROTOCOL`].
    pub protocol: String,
    /// Always [`CURVE`].
    pub curve: String,
}

impl SnarkjsProof {
    /// Converts an arkworks proof.
    pub fn from_arkworks(proof: &Proof<Bn254>) -> Self {
        Self {
            pi_a: g1_json(&proof.a),
            pi_b: g2_json(&proof.b),
            pi_c: g1_json(&proof.c),
            protocol: PROTOCOL.to_owned(),
            curve: CURVE.to_owned(),
        }
    }
}

/// snarkjs's `public.json`: the public inputs as decimal strings.
pub fn public_signals(inputs: &[Fr]) -> Vec<String> {
    inputs.iter().map(ToString::to_string).collect()
}

/// What [`export_snarkjs`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportSummary {
    /// The export directory.
    pub out_dir: PathBuf,
    /// The statement's epoch id.
    pub epoch: u64,
    /// `K`: one `proof_<i>.json` / `public_<i>.json` pair per batch, `0 ≤ i < K`.
    pub batch_count: u64,
    /// SHA-256 of the exported verifying key's canonical arkworks bytes (the
    /// statement's `verifying_key_hash`).
    pub verifying_key_hash: String,
    /// Each batch's public inputs (the open layout, `docs/SPEC.md` §6.4), decimal,
    /// as in `public_<b>.json`.
    pub public_inputs: Vec<Vec<String>>,
}

/// Exports the Groth16 epoch directory `epoch_dir` (`backstop_verifier::artifacts`)
/// to `out_dir` in snarkjs's formats (see the module documentation).
///
/// The statement is validated and each batch's public input is recomputed from it;
/// the verifying key must be the one the statement names, and every batch must have
/// a well-formed proof. The proofs themselves are **not** verified here: that is
/// what snarkjs (or `backstop-verify`) is for.
///
/// `out_dir` is written atomically: the files are written into a temporary sibling
/// that is then renamed into place. An existing `out_dir` is replaced only if it is
/// empty or holds nothing but files of a previous export (so no stale
/// `proof_<i>.json` from a larger epoch survives); anything else is refused.
pub fn export_snarkjs(epoch_dir: &Path, out_dir: &Path) -> Result<ExportSummary, ProverError> {
    let statement = read_statement(epoch_dir)?;
    if statement.file().backend != Backend::Groth16Bn254 {
        return Err(ProverError::Export(format!(
            "{} holds a {} epoch; only groth16-bn254 proofs can be exported to snarkjs",
            epoch_dir.display(),
            statement.file().backend
        )));
    }
    let Groth16EpochFiles {
        statement,
        verifying_key: vk,
        proofs,
    } = read_groth16_epoch(epoch_dir)?;
    let file = statement.file();
    let inputs = statement
        .public_inputs::<Bn254Poseidon>()
        .map_err(VerifyError::from)?;

    let mut files = vec![(
        VERIFICATION_KEY_FILE.to_owned(),
        json_bytes(&SnarkjsVerificationKey::from_arkworks(&vk))?,
    )];
    let mut public_inputs = Vec::with_capacity(inputs.len());
    for ((b, x), proof) in (0u64..).zip(&inputs).zip(&proofs) {
        let public = public_signals(x);
        files.push((
            proof_file_name(b),
            json_bytes(&SnarkjsProof::from_arkworks(proof))?,
        ));
        files.push((public_file_name(b), json_bytes(&public)?));
        public_inputs.push(public);
    }
    crate::output::write_export_dir(out_dir, &files, "a snarkjs export", is_export_file)?;
    Ok(ExportSummary {
        out_dir: out_dir.to_path_buf(),
        epoch: file.epoch,
        batch_count: inputs.len() as u64,
        verifying_key_hash: file.verifying_key_hash.clone(),
        public_inputs,
    })
}

// ---- field elements and points ------------------------------------------------

// arkworks' `Display` for a prime field element prints its canonical value in
// decimal (pinned by the unit tests below).

fn fq2_json(e: &Fq2) -> Fq2Json {
    [e.c0.to_string(), e.c1.to_string()]
}

fn fq6_json(e: &Fq6) -> Fq6Json {
    [fq2_json(&e.c0), fq2_json(&e.c1), fq2_json(&e.c2)]
}

fn fq12_json(e: &Fq12) -> Fq12Json {
    [fq6_json(&e.c0), fq6_json(&e.c1)]
}

fn g1_json(p: &G1Affine) -> G1Json {
    if *p == G1Affine::identity() {
        return ["0".into(), "1".into(), "0".into()];
    }
    [p.x.to_string(), p.y.to_string(), "1".into()]
}

fn g2_json(p: &G2Affine) -> G2Json {
    let zero = || ["0".to_owned(), "0".to_owned()];
    let one = || ["1".to_owned(), "0".to_owned()];
    if *p == G2Affine::identity() {
        return [zero(), one(), zero()];
    }
    [fq2_json(&p.x), fq2_json(&p.y), one()]
}

// ---- the export directory -----------------------------------------------------

fn json_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>, ProverError> {
    let mut bytes =
        serde_json::to_vec_pretty(value).map_err(|e| ProverError::Export(e.to_string()))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Whether `name` is a file [`export_snarkjs`] writes.
fn is_export_file(name: &str) -> bool {
    let numbered = |prefix: &str| {
        name.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(".json"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()))
    };
    name == VERIFICATION_KEY_FILE || numbered("proof_") || numbered("public_")
}

/// Refuses an existing `dir` that is not a directory, or holds anything but export files.
#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::Fq;

    /// p − 1 and r − 1 for BN254, decimal.
    const P_MINUS_1: &str =
        "21888242871839275222246405745257275088696311157297823662689037894645226208582";
    const R_MINUS_1: &str =
        "21888242871839275222246405745257275088548364400416034343698204186575808495616";

    #[test]
    fn field_elements_print_as_canonical_decimal() {
        assert_eq!(Fq::from(0u64).to_string(), "0");
        assert_eq!(Fq::from(1u64).to_string(), "1");
        assert_eq!(Fq::from(1234567890123u64).to_string(), "1234567890123");
        assert_eq!((-Fq::from(1u64)).to_string(), P_MINUS_1);
        assert_eq!((-Fr::from(1u64)).to_string(), R_MINUS_1);
        assert_eq!(
            public_signals(&[Fr::from(0u64), -Fr::from(1u64)]),
            ["0", R_MINUS_1]
        );
    }

    #[test]
    fn points_at_infinity_use_snarkjs_encoding() {
        let g1 = g1_json(&G1Affine::identity());
        assert_eq!(g1, ["0", "1", "0"]);
        let g2 = g2_json(&G2Affine::identity());
        assert_eq!(g2, [["0", "0"], ["1", "0"], ["0", "0"]]);
    }

    #[test]
    fn g2_coordinates_put_the_constant_coefficient_first() {
        let p = G2Affine::new(ark_bn254::g2::G2_GENERATOR_X, ark_bn254::g2::G2_GENERATOR_Y);
        let j = g2_json(&p);
        // The BN254 G2 generator (EIP-197), x = x0 + x1·u.
        assert_eq!(
            j[0],
            [
                "10857046999023057135944570762232829481370756359578518086990519993285655852781",
                "11559732032986387107991004021392285783925812861821192530917403151452391805634"
            ]
        );
        assert_eq!(j[2], ["1", "0"]);
    }

    #[test]
    fn export_file_names_are_recognised() {
        for ok in ["verification_key.json", "proof_0.json", "public_12.json"] {
            assert!(is_export_file(ok), "{ok}");
        }
        for no in [
            "proof_.json",
            "proof_1.bin",
            "statement.json",
            "public_x.json",
            "proof_1.json~",
        ] {
            assert!(!is_export_file(no), "{no}");
        }
    }
}
