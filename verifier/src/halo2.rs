//! The halo2 (IPA over Pasta) path: public parameters, keys derived from the circuit
//! shape, and epoch verification (`docs/SPEC.md` §7.4).
//!
//! Nothing here is trusted setup: the IPA parameters for `2^k` rows are derived
//! deterministically by hashing to the curve, and the verifying key is computed from
//! the circuit shape. Parameters are cached on disk because generating them takes
//! seconds; [`Halo2VerifierKeys`] holds parameters and key for one shape, so that a
//! long-running caller derives them once and verifies many epochs with
//! [`verify_halo2`].

use crate::checks::{Verified, check_backend, check_key_hash, check_proof_count};
use crate::error::VerifyError;
use crate::files::{read_proofs, read_statement};
use backstop_circuits::halo2::Halo2BatchCircuit;
use backstop_circuits::hash::PastaPoseidon;
use backstop_circuits::shape::CircuitShape;
use backstop_circuits::statement::{Backend, EpochStatement};
use halo2_proofs::plonk::{SingleVerifier, VerifyingKey, keygen_vk, verify_proof};
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::transcript::{Blake2bRead, Challenge255};
use pasta_curves::{pallas, vesta};
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

/// SHA-256 of the verifying key's pinned description (field moduli, domain,
/// constraint system, fixed and permutation commitments), hex: the
/// `verifying_key_hash` of a halo2 statement.
///
/// The description is the `Debug` form of `vk.pinned()`. halo2_proofs 0.4 exposes
/// no other view of a key (its commitments and constraint system are private), and
/// that same string is what it hashes into the key's `transcript_repr`, absorbed by
/// every proof's transcript: a release that changed it would break existing proofs
/// as well as this hash. The test `verifying_key_hashes_are_pinned` catches it.
pub fn verifying_key_hash(vk: &VerifyingKey<vesta::Affine>) -> String {
    hex::encode(Sha256::digest(format!("{:?}", vk.pinned()).as_bytes()))
}

/// The IPA parameters and verifying key of one shape, with the key's hash: what
/// [`verify_halo2`] needs, derived once per shape.
pub struct Halo2VerifierKeys {
    shape: CircuitShape,
    params: Params<vesta::Affine>,
    vk: VerifyingKey<vesta::Affine>,
    vk_hash: String,
}

impl std::fmt::Debug for Halo2VerifierKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Halo2VerifierKeys")
            .field("shape", &self.shape.id())
            .field("k", &self.params.k())
            .field("vk_hash", &self.vk_hash)
            .finish_non_exhaustive()
    }
}

impl Halo2VerifierKeys {
    /// Derives the verifying key of `shape` from `params`, which must be the
    /// parameters for the shape's `k` ([`Halo2BatchCircuit::k`]): the key a statement
    /// names is the one derived at that `k`.
    pub fn new(params: Params<vesta::Affine>, shape: CircuitShape) -> Result<Self, VerifyError> {
        let k = shape_k(shape)?;
        if params.k() != k {
            return Err(VerifyError::VerifyingKey(format!(
                "halo2: IPA parameters for k = {}, but {} has k = {k}",
                params.k(),
                shape.id()
            )));
        }
        let vk = verifying_key(&params, shape)?;
        let vk_hash = verifying_key_hash(&vk);
        Ok(Self {
            shape,
            params,
            vk,
            vk_hash,
        })
    }

    /// Loads (or generates and caches in `params_dir`, see [`params`]) the IPA
    /// parameters for the shape's `k` and derives its verifying key.
    pub fn load(params_dir: &Path, shape: CircuitShape) -> Result<Self, VerifyError> {
        Self::new(params(params_dir, shape_k(shape)?)?, shape)
    }

    /// The shape.
    pub fn shape(&self) -> CircuitShape {
        self.shape
    }

    /// The IPA parameters.
    pub fn params(&self) -> &Params<vesta::Affine> {
        &self.params
    }

    /// The verifying key.
    pub fn verifying_key(&self) -> &VerifyingKey<vesta::Affine> {
        &self.vk
    }

    /// [`verifying_key_hash`] of the key: what the shape's statements name.
    pub fn verifying_key_hash(&self) -> &str {
        &self.vk_hash
    }
}

/// `k` of a shape's circuit, refusing a shape that cannot be laid out.
fn shape_k(shape: CircuitShape) -> Result<u32, VerifyError> {
    match Halo2BatchCircuit::k(shape) {
        0 => Err(VerifyError::VerifyingKey(format!(
            "halo2: the circuit for {} cannot be laid out",
            shape.id()
        ))),
        k => Ok(k),
    }
}

/// Verifies a halo2 epoch in memory: `proofs[b]` is batch `b`'s transcript (as in
/// `proofs/batch-NNNNNN.bin`), checked against the public input this function
/// computes from `statement`.
///
/// Checks, in order: the statement's backend; that `keys` are for the statement's
/// shape and that their key is the one the statement names; one proof per batch;
/// then each transcript, which must verify and be read to its end (trailing bytes
/// are refused as [`VerifyError::MalformedProof`]).
pub fn verify_halo2<P: AsRef<[u8]>>(
    statement: &EpochStatement,
    proofs: &[P],
    keys: &Halo2VerifierKeys,
) -> Result<(), VerifyError> {
    check_backend(statement, Backend::Halo2Pasta)?;
    check_halo2_keys(statement, keys)?;
    verify_halo2_proofs(statement, proofs, keys)
}

/// `keys` are for the statement's shape, and their key is the one it names.
fn check_halo2_keys(
    statement: &EpochStatement,
    keys: &Halo2VerifierKeys,
) -> Result<(), VerifyError> {
    if keys.shape != statement.shape() {
        return Err(VerifyError::ShapeMismatch {
            expected: statement.shape().id(),
            got: keys.shape.id(),
        });
    }
    check_key_hash(statement, keys.vk_hash.clone())
}

/// [`verify_halo2`] after the backend and key checks.
fn verify_halo2_proofs<P: AsRef<[u8]>>(
    statement: &EpochStatement,
    proofs: &[P],
    keys: &Halo2VerifierKeys,
) -> Result<(), VerifyError> {
    check_proof_count(statement, proofs.len())?;
    let inputs = statement.public_inputs::<PastaPoseidon>()?;
    for (b, (proof, x)) in proofs.iter().zip(inputs).enumerate() {
        verify_batch(keys, b as u64, proof.as_ref(), x)?;
    }
    Ok(())
}

fn verify_batch(
    keys: &Halo2VerifierKeys,
    batch: u64,
    proof: &[u8],
    public_input: pallas::Base,
) -> Result<(), VerifyError> {
    // The transcript reads from `rest`, which is left holding what it did not read.
    let mut rest = proof;
    let mut transcript = Blake2bRead::<_, vesta::Affine, Challenge255<_>>::init(&mut rest);
    let strategy = SingleVerifier::new(&keys.params);
    let instance = [public_input];
    if verify_proof(
        &keys.params,
        &keys.vk,
        strategy,
        &[&[&instance]],
        &mut transcript,
    )
    .is_err()
    {
        return Err(VerifyError::InvalidProof { batch });
    }
    // The transcript's borrow of `rest` ended with its last use above.
    if !rest.is_empty() {
        return Err(VerifyError::MalformedProof {
            batch,
            reason: format!("trailing bytes after the transcript: {}", rest.len()),
        });
    }
    Ok(())
}

/// Verifies a halo2 epoch directory, deriving parameters and key from the shape.
///
/// Reads the directory and calls [`verify_halo2`] with [`Halo2VerifierKeys::load`].
/// The key is checked before the proofs directory is read.
pub fn verify_epoch_dir(epoch_dir: &Path, params_dir: &Path) -> Result<Verified, VerifyError> {
    let statement = read_statement(epoch_dir)?;
    check_backend(&statement, Backend::Halo2Pasta)?;
    let keys = Halo2VerifierKeys::load(params_dir, statement.shape())?;
    check_halo2_keys(&statement, &keys)?;
    let proofs = read_proofs(epoch_dir, statement.file().batch_count)?;
    verify_halo2_proofs(&statement, &proofs, &keys)?;
    Ok(Verified {
        statement,
        trusted_key: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `verifying_key_hash` every halo2 statement of these shapes publishes, pinned
    /// (as orchard pins `vk.pinned()`). It hashes the `Debug` form of `vk.pinned()`,
    /// which halo2_proofs 0.4 also hashes into every transcript (`transcript_repr`):
    /// a halo2_proofs upgrade, or a circuit change, that alters it fails here.
    ///
    /// A change means every published halo2 statement's key hash changes (and, if it
    /// came from halo2_proofs, that old proofs no longer verify): treat it as a new
    /// proof format. After an intended change, regenerate the values with
    /// `CARGO_TARGET_DIR=/work/main/target cargo test -p backstop-verifier --lib
    /// halo2::tests::verifying_key_hashes_are_pinned -- --nocapture` and copy the
    /// printed lines.
    #[test]
    fn verifying_key_hashes_are_pinned() {
        // (B, M, k, verifying_key_hash)
        let pinned = [
            (
                8,
                1,
                11,
                "321f6764435c30cdb7de711b588a52f0572b2a9857955f4d9013e181223e0200",
            ),
            (
                64,
                8,
                11,
                "1445bedf52a1ab7b622443f14954f9f1c9df0f9df8563fdf022ca2c0917c1e0f",
            ),
        ];
        let params = Params::<vesta::Affine>::new(11);
        let got: Vec<_> = pinned
            .iter()
            .map(|&(b, m, _, _)| {
                let keys = Halo2VerifierKeys::new(params.clone(), CircuitShape::new(b, m).unwrap())
                    .unwrap();
                let hash = keys.verifying_key_hash().to_owned();
                println!("({b}, {m}, {}, \"{hash}\"),", keys.params().k());
                (b, m, keys.params().k(), hash)
            })
            .collect();
        let expected: Vec<_> = pinned
            .iter()
            .map(|&(b, m, k, h)| (b, m, k, h.to_owned()))
            .collect();
        assert_eq!(got, expected);
    }
}
