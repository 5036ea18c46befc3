//! The halo2 (IPA over Pasta) path: public parameters, keys derived from the circuit
//! shape, and epoch verification (`docs/SPEC.md` §7.4).
//!
//! Nothing here is trusted setup: the IPA parameters for `2^k` rows are derived
//! deterministically by hashing to the curve, and the verifying key is computed from
//! the circuit shape. Both are cached on disk because generating them takes seconds.

use crate::artifacts::proof_path;
use crate::{Verified, VerifyError, check_no_stray_proofs, read, read_statement};
use backstop_circuits::halo2::Halo2BatchCircuit;
use backstop_circuits::hash::PastaPoseidon;
use backstop_circuits::shape::CircuitShape;
use backstop_circuits::statement::Backend;
use halo2_proofs::plonk::{SingleVerifier, VerifyingKey, keygen_vk, verify_proof};
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::transcript::{Blake2bRead, Challenge255};
use pasta_curves::vesta;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The default directory for cached IPA parameters.
pub const DEFAULT_PARAMS_DIR: &str = "backstop-keys/halo2-params";

/// The file holding the IPA parameters for `2^k` rows.
pub fn params_path(dir: &Path, k: u32) -> PathBuf {
    dir.join(format!("ipa-pasta-k{k}.bin"))
}

/// The IPA parameters for `2^k` rows: read from `dir`, or generated (deterministic,
/// no trusted setup) and written there atomically.
pub fn params(dir: &Path, k: u32) -> Result<Params<vesta::Affine>, VerifyError> {
    let path = params_path(dir, k);
    // A cached file that does not decode to parameters for `k` is regenerated.
    if let Ok(bytes) = std::fs::read(&path)
        && let Ok(p) = Params::read(&mut bytes.as_slice())
        && p.k() == k
    {
        return Ok(p);
    }
    let p = Params::<vesta::Affine>::new(k);
    let io = |error| VerifyError::Io {
        path: path.clone(),
        error,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut bytes = Vec::new();
    p.write(&mut bytes).map_err(io)?;
    // Unique per process and call, so concurrent generators never share a file.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".ipa-pasta-k{k}.{}.{n}.tmp", std::process::id()));
    std::fs::write(&tmp, &bytes).map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)?;
    Ok(p)
}

/// The verifying key of a shape, derived from the circuit.
pub fn verifying_key(
    params: &Params<vesta::Affine>,
    shape: CircuitShape,
) -> Result<VerifyingKey<vesta::Affine>, VerifyError> {
    keygen_vk(params, &Halo2BatchCircuit::blank(shape))
        .map_err(|e| VerifyError::VerifyingKey(format!("halo2 keygen for {}: {e:?}", shape.id())))
}

/// SHA-256 of the verifying key's pinned description (domain, constraint system and
/// fixed commitments), hex: the `verifying_key_hash` of a halo2 statement.
pub fn verifying_key_hash(vk: &VerifyingKey<vesta::Affine>) -> String {
    hex::encode(Sha256::digest(format!("{:?}", vk.pinned()).as_bytes()))
}

/// Verifies a halo2 epoch directory, deriving parameters and key from the shape.
pub fn verify_epoch_dir(epoch_dir: &Path, params_dir: &Path) -> Result<Verified, VerifyError> {
    let statement = read_statement(epoch_dir)?;
    if statement.file().backend != Backend::Halo2Pasta {
        return Err(VerifyError::Backend(statement.file().backend));
    }
    let shape = statement.shape();
    let params = params(params_dir, Halo2BatchCircuit::k(shape))?;
    let vk = verifying_key(&params, shape)?;
    let hash = verifying_key_hash(&vk);
    if hash != statement.file().verifying_key_hash {
        return Err(VerifyError::VerifyingKeyMismatch {
            expected: statement.file().verifying_key_hash.clone(),
            got: hash,
        });
    }
    let inputs = statement.public_inputs::<PastaPoseidon>()?;
    check_no_stray_proofs(epoch_dir, inputs.len() as u64)?;
    for (b, x) in inputs.iter().enumerate() {
        let batch = b as u64;
        let path = proof_path(epoch_dir, batch);
        if !path.is_file() {
            return Err(VerifyError::MissingProof { batch, path });
        }
        let proof = read(&path)?;
        let mut transcript =
            Blake2bRead::<_, vesta::Affine, Challenge255<_>>::init(proof.as_slice());
        let strategy = SingleVerifier::new(&params);
        let instance = [*x];
        if verify_proof(&params, &vk, strategy, &[&[&instance]], &mut transcript).is_err() {
            return Err(VerifyError::InvalidProof { batch });
        }
    }
    Ok(Verified {
        statement,
        trusted_key: true,
    })
}
