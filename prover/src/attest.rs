//! Margin attestations, the prover's side: keys for the attestation circuit (one
//! single-party setup per shape, `M` markets and for risk model v2 `T` brackets and
//! `A` assets, cached under `backstop-keys/<shape id>`), and
//! proving an [`AttestationWitness`] into an attestation file
//! (`backstop_verifier::attestation::AttestationFile`).

use crate::error::ProverError;
use crate::keys::SINGLE_PARTY_SETUP;
use crate::output::{json_bytes, write_file_atomically};
use ark_bn254::Bn254;
use ark_groth16::{Groth16, ProvingKey};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use backstop_circuits::hash::{Bn254Poseidon, FieldHasher};
use backstop_circuits::r1cs::attestation::{
    AttestationCircuit, AttestationWitness, constraint_count,
};
use backstop_circuits::shape::AttestationShape;
use backstop_verifier::artifacts::{
    VERIFYING_KEY_FILE, proof_bytes, verifying_key_bytes, verifying_key_hash,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{OsRng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The description file of an attestation keys directory.
pub const ATTESTATION_KEYS_FILE: &str = "attestation_keys.json";
/// The proving key file (arkworks uncompressed encoding).
pub const ATTESTATION_PROVING_KEY_FILE: &str = "attestation_proving_key.bin";

/// The warning printed whenever attestation keys are made.
pub const ATTESTATION_SETUP_WARNING: &str = "WARNING: single-party Groth16 setup of the \
attestation circuit. Whoever runs it (you, now) could forge attestations for these keys: a \
counterparty must check attestations with a verifying key from a setup it trusts \
(`backstop verify-attestation --key`), never with the key inside the attestation file alone.";

/// `attestation_keys.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestationKeysFile {
    /// [`AttestationShape::id`].
    pub shape: String,
    /// `M`.
    pub markets: usize,
    /// `T`, brackets per market, for a risk model v2 shape with `T > 1` (absent
    /// for `T = 1`, so a risk model v1 file is as it always was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brackets: Option<usize>,
    /// `A`, collateral assets, for a risk model v2 shape with `A > 0` (absent for
    /// `A = 0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assets: Option<usize>,
    /// SHA-256 of the verifying key's canonical bytes.
    pub verifying_key_hash: String,
    /// How the keys were made.
    pub setup: String,
    /// The R1CS constraint count of the circuit.
    pub constraints: usize,
}

/// Attestation keys for one shape.
#[derive(Debug)]
pub struct AttestationKeys {
    shape: AttestationShape,
    pk: ProvingKey<Bn254>,
    vk_hash: String,
}

fn keys_error(dir: &Path, reason: impl ToString) -> ProverError {
    ProverError::Keys {
        dir: dir.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// `backstop-keys/<shape id>`.
pub fn default_keys_dir(shape: AttestationShape) -> PathBuf {
    PathBuf::from("backstop-keys").join(shape.id())
}

impl AttestationKeys {
    /// Runs the single-party setup (randomness from the OS).
    pub fn setup(shape: AttestationShape) -> Result<Self, ProverError> {
        let mut rng =
            ChaCha20Rng::from_rng(OsRng).map_err(|e| ProverError::Setup(e.to_string()))?;
        let pk = Groth16::<Bn254>::generate_random_parameters_with_reduction(
            AttestationCircuit::blank(shape),
            &mut rng,
        )
        .map_err(|e| ProverError::Setup(e.to_string()))?;
        let vk_hash = verifying_key_hash(&pk.vk);
        Ok(Self { shape, pk, vk_hash })
    }

    /// The shape.
    pub fn shape(&self) -> AttestationShape {
        self.shape
    }
    /// The proving key.
    pub fn proving_key(&self) -> &ProvingKey<Bn254> {
        &self.pk
    }
    /// SHA-256 of the verifying key.
    pub fn verifying_key_hash(&self) -> &str {
        &self.vk_hash
    }

    /// Writes the keys into `dir` (created), each file atomically.
    pub fn save(&self, dir: &Path) -> Result<(), ProverError> {
        std::fs::create_dir_all(dir).map_err(|e| ProverError::io(dir, e))?;
        let constraints =
            constraint_count(self.shape).map_err(|e| ProverError::Setup(e.to_string()))?;
        let mut pk_bytes = Vec::new();
        self.pk
            .serialize_uncompressed(&mut pk_bytes)
            .map_err(|e| ProverError::Setup(e.to_string()))?;
        write_file_atomically(&dir.join(ATTESTATION_PROVING_KEY_FILE), &pk_bytes)?;
        write_file_atomically(
            &dir.join(VERIFYING_KEY_FILE),
            &verifying_key_bytes(&self.pk.vk),
        )?;
        let desc = AttestationKeysFile {
            shape: self.shape.id(),
            markets: self.shape.markets(),
            brackets: (self.shape.brackets() > 1).then_some(self.shape.brackets()),
            assets: (self.shape.assets() > 0).then_some(self.shape.assets()),
            verifying_key_hash: self.vk_hash.clone(),
            setup: SINGLE_PARTY_SETUP.to_owned(),
            constraints,
        };
        // The description last: its presence marks complete keys.
        write_file_atomically(&dir.join(ATTESTATION_KEYS_FILE), &json_bytes(&desc))
    }

    /// Loads keys of `shape` from `dir`; keys of another shape are refused by name.
    pub fn load(dir: &Path, shape: AttestationShape) -> Result<Self, ProverError> {
        let desc_path = dir.join(ATTESTATION_KEYS_FILE);
        let bytes = std::fs::read(&desc_path).map_err(|e| ProverError::io(&desc_path, e))?;
        let desc: AttestationKeysFile =
            serde_json::from_slice(&bytes).map_err(|e| keys_error(dir, e))?;
        if desc.shape != shape.id() {
            return Err(ProverError::KeyShape {
                dir: dir.to_path_buf(),
                expected: shape.id(),
                found: desc.shape,
            });
        }
        // The recorded M, T and A must be the shape id's: a hand-edited description
        // is refused rather than read one way or the other.
        let recorded = (
            desc.markets,
            desc.brackets.unwrap_or(1),
            desc.assets.unwrap_or(0),
        );
        if recorded != (shape.markets(), shape.brackets(), shape.assets())
            || desc.brackets == Some(1)
            || desc.assets == Some(0)
        {
            return Err(keys_error(
                dir,
                format!(
                    "{ATTESTATION_KEYS_FILE} records M = {}, T = {:?}, A = {:?}, which is not \
                     shape {}",
                    desc.markets,
                    desc.brackets,
                    desc.assets,
                    shape.id()
                ),
            ));
        }
        let pk_path = dir.join(ATTESTATION_PROVING_KEY_FILE);
        let bytes = std::fs::read(&pk_path).map_err(|e| ProverError::io(&pk_path, e))?;
        // The proving key is the prover's own file: skip the expensive point checks.
        let pk = ProvingKey::<Bn254>::deserialize_uncompressed_unchecked(bytes.as_slice())
            .map_err(|e| keys_error(dir, format!("{ATTESTATION_PROVING_KEY_FILE}: {e}")))?;
        let vk_hash = verifying_key_hash(&pk.vk);
        if vk_hash != desc.verifying_key_hash {
            return Err(keys_error(
                dir,
                "the proving key does not match the verifying key hash in attestation_keys.json",
            ));
        }
        Ok(Self { shape, pk, vk_hash })
    }

    /// Loads the keys in `dir` (default [`default_keys_dir`]), or makes them with a
    /// loud warning if it holds none.
    pub fn load_or_setup(shape: AttestationShape, dir: Option<&Path>) -> Result<Self, ProverError> {
        let dir = dir.map_or_else(|| default_keys_dir(shape), Path::to_path_buf);
        if dir.join(ATTESTATION_KEYS_FILE).is_file() {
            return Self::load(&dir, shape);
        }
        eprintln!("{ATTESTATION_SETUP_WARNING}");
        eprintln!(
            "no attestation keys in {}: running the development setup for {}",
            dir.display(),
            shape.id()
        );
        let keys = Self::setup(shape)?;
        keys.save(&dir)?;
        Ok(keys)
    }

    /// Proves a witness: the proof's compressed bytes.
    pub fn prove(&self, witness: &AttestationWitness) -> Result<Vec<u8>, ProverError> {
        if witness.shape() != self.shape {
            return Err(ProverError::Attestation(format!(
                "the witness is for {}, the keys for {}",
                witness.shape().id(),
                self.shape.id()
            )));
        }
        let mut rng =
            ChaCha20Rng::from_rng(OsRng).map_err(|e| ProverError::Setup(e.to_string()))?;
        let proof = Groth16::<Bn254>::create_random_proof_with_reduction(
            AttestationCircuit::new(witness),
            &self.pk,
            &mut rng,
        )
        .map_err(|e| ProverError::Attestation(format!("proving failed: {e}")))?;
        // A proof that does not verify is a bug: check before handing it out.
        let pvk = ark_groth16::prepare_verifying_key(&self.pk.vk);
        let ok = Groth16::<Bn254>::verify_proof(&pvk, &proof, &[witness.public_input()])
            .unwrap_or(false);
        if !ok {
            return Err(ProverError::Attestation(
                "the proof just made does not verify (please report this)".into(),
            ));
        }
        Ok(proof_bytes(&proof))
    }

    /// The verifying key's compressed bytes.
    pub fn verifying_key_bytes(&self) -> Vec<u8> {
        verifying_key_bytes(&self.pk.vk)
    }
}

/// `x` as published in an attestation file.
pub fn public_input_hex(witness: &AttestationWitness) -> String {
    Bn254Poseidon::to_hex(&witness.public_input())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(shape: AttestationShape) -> AttestationKeysFile {
        AttestationKeysFile {
            shape: shape.id(),
            markets: shape.markets(),
            brackets: (shape.brackets() > 1).then_some(shape.brackets()),
            assets: (shape.assets() > 0).then_some(shape.assets()),
            verifying_key_hash: "00".repeat(32),
            setup: SINGLE_PARTY_SETUP.to_owned(),
            constraints: 7_862,
        }
    }

    /// A risk model v1 description is written exactly as before risk model v2 (no
    /// `brackets` or `assets`); a v2 one records both, and reads back.
    #[test]
    fn the_keys_description_records_the_shape() {
        let v1 = String::from_utf8(json_bytes(&desc(AttestationShape::new(8).unwrap()))).unwrap();
        let expected = format!(
            "{{\n  \"shape\": \"backstop.attest.v1.M8\",\n  \"markets\": 8,\n  \
             \"verifying_key_hash\": \"{}\",\n  \"setup\": \"{SINGLE_PARTY_SETUP}\",\n  \
             \"constraints\": 7862\n}}",
            "00".repeat(32)
        );
        assert_eq!(v1.trim_end(), expected);
        let shape = AttestationShape::with_risk(8, 4, 4).unwrap();
        let v2 = json_bytes(&desc(shape));
        let text = String::from_utf8(v2.clone()).unwrap();
        assert!(text.contains("\"brackets\": 4") && text.contains("\"assets\": 4"));
        let back: AttestationKeysFile = serde_json::from_slice(&v2).unwrap();
        assert_eq!(back, desc(shape));
    }
}
