//! The on-disk format of an epoch directory and of Groth16 keys (`docs/SPEC.md` §7).
//!
//! ```text
//! EPOCH_DIR/
//!   statement.json          the published statement (StatementFile)
//!   verifying_key.bin       the Groth16 verifying key, arkworks compressed encoding
//!   proofs/batch-000000.bin one proof per batch, arkworks compressed (128 bytes)
//!   …
//! ```
//!
//! The prover writes these files, the verifier reads them; both use the functions
//! here so the format is defined once.

use ark_bn254::Bn254;
use ark_groth16::{Proof, VerifyingKey};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, SerializationError};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The statement file in an epoch directory.
pub const STATEMENT_FILE: &str = "statement.json";
/// The verifying key file in an epoch directory and in a keys directory.
pub const VERIFYING_KEY_FILE: &str = "verifying_key.bin";
/// The directory of batch proofs in an epoch directory.
pub const PROOFS_DIR: &str = "proofs";
/// Size of a compressed Groth16 proof over BN254.
pub const GROTH16_PROOF_BYTES: usize = 128;

/// The path of batch `b`'s proof inside an epoch directory.
pub fn proof_path(epoch_dir: &Path, batch: u64) -> PathBuf {
    epoch_dir
        .join(PROOFS_DIR)
        .join(format!("batch-{batch:06}.bin"))
}

/// The canonical (compressed) bytes of a verifying key.
pub fn verifying_key_bytes(vk: &VerifyingKey<Bn254>) -> Vec<u8> {
    let mut bytes = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = vk.serialize_compressed(&mut bytes);
    bytes
}

/// SHA-256 of the verifying key's canonical bytes, lowercase hex: the
/// `verifying_key_hash` of a statement.
pub fn verifying_key_hash(vk: &VerifyingKey<Bn254>) -> String {
    hex::encode(Sha256::digest(verifying_key_bytes(vk)))
}

/// Decodes a verifying key, checking that every point is on the curve and in the
/// right subgroup.
pub fn decode_verifying_key(bytes: &[u8]) -> Result<VerifyingKey<Bn254>, SerializationError> {
    VerifyingKey::deserialize_compressed(bytes)
}

/// The canonical bytes of a proof.
pub fn proof_bytes(proof: &Proof<Bn254>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(GROTH16_PROOF_BYTES);
    let _ = proof.serialize_compressed(&mut bytes);
    bytes
}

/// Decodes a proof, checking its points; trailing bytes are refused.
pub fn decode_proof(bytes: &[u8]) -> Result<Proof<Bn254>, SerializationError> {
    if bytes.len() != GROTH16_PROOF_BYTES {
        return Err(SerializationError::InvalidData);
    }
    Proof::deserialize_compressed(bytes)
}
