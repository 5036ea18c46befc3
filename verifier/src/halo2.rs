//! The halo2 (IPA over Pasta) path: public parameters, keys derived from the circuit
//! shape, and epoch verification (`docs/SPEC.md` §7.4).
//!
//! Nothing here is trusted setup: the IPA parameters for `2^k` rows are derived
//! deterministically by hashing to the curve, and the verifying key is computed from
//! the circuit shape. Parameters are cached on disk because generating them takes
//! seconds to minutes; a cache is used only if its SHA-256 is the one pinned here
//! for its `k` ([`PINNED_PARAMS_SHA256`]), so a tampered cache is never used.
//! [`Halo2VerifierKeys`] holds parameters and key for one shape, so that a
//! long-running caller derives them once and verifies many epochs with
//! [`verify_halo2`].

use crate::checks::{Verified, check_backend, check_key_hash, check_proof_count};
use crate::error::VerifyError;
use crate::files::{read_proofs, read_statement};
use backstop_circuits::halo2::Halo2BatchCircuit;
use backstop_circuits::hash::PastaPoseidon;
use backstop_circuits::shape::CircuitShape;
use backstop_circuits::statement::{Backend, EpochStatement};
use halo2_proofs::plonk::{SingleVerifier, VerifyingKey, verify_proof};
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::transcript::{Blake2bRead, Challenge255};
use pasta_curves::{pallas, vesta};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The default directory for cached IPA parameters.
pub const DEFAULT_PARAMS_DIR: &str = "backstop-keys/halo2-params";

/// SHA-256 (hex) of `Params::<vesta::Affine>::new(k)` in its canonical encoding
/// (`Params::write` of halo2_proofs 0.4), per `k`: the only bytes a cache file for `k`
/// may hold to be used ([`params`]). The verifying key depends on the Lagrange basis
/// and `w` only, so a cache with another monomial basis `g` or IPA base `u` keeps
/// the key hash: without this pin, a cache handed over with generators of known
/// discrete logs would let forged proofs pass.
///
/// `Params::new(k)` is deterministic (hashing to the curve) but slow — measured on
/// the 2-core development machine (optimized), 1.5 s at `k = 11`, 4.4 s at 12,
/// 10 s at 13, 21 s at 14, 50 s at 15, 103 s at 16, 199 s at 17 — while hashing the cache costs
/// milliseconds (5 ms for the 8 MiB at `k = 17`, beside 2.2 s to decode it). Pinned
/// for `k` = 11 … 17, the shapes `B` = 8 … 4096 (at `M = 8`) of the tests, benches and
/// `docs/SPEC.md` §8.1; for any other `k` the verifier derives the parameters every
/// time and does not use the cache.
///
/// A change means halo2_proofs changed its parameters or their encoding: every
/// cache is then regenerated. Regenerate the values with
/// `cargo test -p backstop-verifier --lib
/// halo2::tests::all_params_hashes_are_pinned -- --ignored --nocapture` (minutes:
/// it derives every pinned `k`) and copy the printed lines.
pub const PINNED_PARAMS_SHA256: &[(u32, &str)] = &[
    (
        11,
        "1eab6f93a080ce41b908d935c04bd2e3ed1ac23f277c15d11c499d56d28fa0f7",
    ),
    (
        12,
        "1b97b06da453b9efb1ae18b9ba77c3d870f22dc72898297d5707e340c3f44865",
    ),
    (
        13,
        "76ebe6b75b5281cb1dcc2eb04888968573758672b521522f62abedf6366bb876",
    ),
    (
        14,
        "1cb278fe4d9cf5325e5cbc710d863c0deca3e961e1b8f6c8736890c43345c461",
    ),
    (
        15,
        "e1fb29749c7bd0870768044d5329b4e293cb2d44dae24db2554605427b19d0dd",
    ),
    (
        16,
        "174780f80c577d968d10bc3f0a8f819e55a96b9e882ffe73c15d55e9f94053e2",
    ),
    (
        17,
        "7c65b8e3d12f2c1054f07c2721da8670d97f0f14c846df6bcf4d390dd62cbceb",
    ),
];

/// The pinned SHA-256 of the parameters for `k`, if `k` is pinned.
pub fn pinned_params_sha256(k: u32) -> Option<&'static str> {
    PINNED_PARAMS_SHA256
        .iter()
        .find(|&&(pinned, _)| pinned == k)
        .map(|&(_, hash)| hash)
}

/// The file holding the IPA parameters for `2^k` rows.
pub fn params_path(dir: &Path, k: u32) -> PathBuf {
    dir.join(format!("ipa-pasta-k{k}.bin"))
}

/// The canonical encoding of parameters (`Params::write`).
fn params_bytes(p: &Params<vesta::Affine>) -> Vec<u8> {
    let mut bytes = Vec::new();
    // Writing to a `Vec` cannot fail.
    let _ = p.write(&mut bytes);
    bytes
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The IPA parameters for `2^k` rows, always `Params::new(k)`.
///
/// For a pinned `k` ([`PINNED_PARAMS_SHA256`]) the cache file in `dir` is used only
/// if its SHA-256 is the pinned one; otherwise (missing, truncated, undecodable, for
/// another `k`, or tampered anywhere: `g`, the Lagrange basis, `w` or `u`) the
/// parameters are derived and the cache rewritten atomically. For a `k` without a
/// pin they are derived and the cache is neither read nor written: nothing could
/// tell a tampered one.
pub fn params(dir: &Path, k: u32) -> Result<Params<vesta::Affine>, VerifyError> {
    let Some(pinned) = pinned_params_sha256(k) else {
        return Ok(Params::new(k));
    };
    let path = params_path(dir, k);
    if let Ok(bytes) = std::fs::read(&path)
        && sha256_hex(&bytes) == pinned
        && let Ok(p) = Params::read(&mut bytes.as_slice())
    {
        return Ok(p);
    }
    let p = Params::<vesta::Affine>::new(k);
    write_atomically(dir, &path, &params_bytes(&p))?;
    Ok(p)
}

/// Refuses parameters that are not `Params::new(k)` for their `k`: checked against
/// the pinned hash, or for a `k` without one, against the derived parameters.
fn check_params(params: &Params<vesta::Affine>) -> Result<(), VerifyError> {
    let k = params.k();
    let got = sha256_hex(&params_bytes(params));
    let expected = match pinned_params_sha256(k) {
        Some(pinned) => pinned.to_owned(),
        None => sha256_hex(&params_bytes(&Params::new(k))),
    };
    if got == expected {
        Ok(())
    } else {
        Err(VerifyError::Halo2Params { k, expected, got })
    }
}

/// Writes `bytes` to `path` (in `dir`) so that a reader sees the old file or the
/// whole new one: a fresh temporary sibling, synced, then renamed over `path`. The
/// verifier's only writer (it does not depend on the prover's `output` module).
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), VerifyError> {
    use std::io::Write as _;
    // Unique per process and call, so concurrent writers never share a file.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("params");
    let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|error| {
        let _ = std::fs::remove_file(&tmp);
        VerifyError::Io {
            path: path.to_path_buf(),
            error,
        }
    })
}

/// The verifying key of a shape, derived from the circuit.
pub fn verifying_key(
    params: &Params<vesta::Affine>,
    shape: CircuitShape,
) -> Result<VerifyingKey<vesta::Affine>, VerifyError> {
    Halo2BatchCircuit::keygen_vk(params, shape)
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
    /// Derives the verifying key of `shape` from `params`, which must be
    /// `Params::new(k)` for the shape's `k` ([`Halo2BatchCircuit::k`]): the key a
    /// statement names is the one derived at that `k`. Parameters for another `k`
    /// are refused as [`VerifyError::VerifyingKey`]; parameters that are not
    /// `Params::new(k)` as [`VerifyError::Halo2Params`] (checked against
    /// [`PINNED_PARAMS_SHA256`], or for a `k` without a pin by deriving them).
    pub fn new(params: Params<vesta::Affine>, shape: CircuitShape) -> Result<Self, VerifyError> {
        let k = shape_k(shape)?;
        if params.k() != k {
            return Err(VerifyError::VerifyingKey(format!(
                "halo2: IPA parameters for k = {}, but {} has k = {k}",
                params.k(),
                shape.id()
            )));
        }
        check_params(&params)?;
        Self::derive(params, shape)
    }

    /// [`Halo2VerifierKeys::new`] for parameters known to be `Params::new(k)`.
    fn derive(params: Params<vesta::Affine>, shape: CircuitShape) -> Result<Self, VerifyError> {
        let vk = verifying_key(&params, shape)?;
        let vk_hash = verifying_key_hash(&vk);
        Ok(Self {
            shape,
            params,
            vk,
            vk_hash,
        })
    }

    /// Loads from the cache in `params_dir` when it holds the pinned bytes (or
    /// derives, and for a pinned `k` caches; see [`params`]) the IPA parameters for
    /// the shape's `k`, and derives its verifying key.
    pub fn load(params_dir: &Path, shape: CircuitShape) -> Result<Self, VerifyError> {
        Self::derive(params(params_dir, shape_k(shape)?)?, shape)
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
        verify_batch(keys, b as u64, proof.as_ref(), &x)?;
    }
    Ok(())
}

fn verify_batch(
    keys: &Halo2VerifierKeys,
    batch: u64,
    proof: &[u8],
    instance: &[pallas::Base],
) -> Result<(), VerifyError> {
    // The transcript reads from `rest`, which is left holding what it did not read.
    let mut rest = proof;
    let mut transcript = Blake2bRead::<_, vesta::Affine, Challenge255<_>>::init(&mut rest);
    let strategy = SingleVerifier::new(&keys.params);
    if verify_proof(
        &keys.params,
        &keys.vk,
        strategy,
        &[&[instance]],
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
    /// `cargo test -p backstop-verifier --lib
    /// halo2::tests::verifying_key_hashes_are_pinned -- --nocapture` and copy the
    /// printed lines.
    #[test]
    fn verifying_key_hashes_are_pinned() {
        // (B, M, T, A, k, verifying_key_hash): the risk model v1 keys are the
        // ones that predate risk model v2 (its gates live in their own circuit).
        let pinned = [
            (
                8,
                1,
                1,
                0,
                11,
                "0a840766d729edd053a7888cfc7956b8291a84ffdbaadb603162c67fb25c2056",
            ),
            (
                64,
                8,
                1,
                0,
                11,
                "ede9066af51594963388f5d2713d36e201ffff12cdfb84513bf091f8604b32ea",
            ),
            (
                8,
                8,
                4,
                4,
                11,
                "13d933a8674b3b2cfc02350ca580cb940ed77d806fbdb234d297221c7586919f",
            ),
        ];
        let params = Params::<vesta::Affine>::new(11);
        let got: Vec<_> = pinned
            .iter()
            .map(|&(b, m, t, a, _, _)| {
                let shape = CircuitShape::with_risk(b, m, t, a).unwrap();
                let keys = Halo2VerifierKeys::new(params.clone(), shape).unwrap();
                let hash = keys.verifying_key_hash().to_owned();
                println!("({b}, {m}, {t}, {a}, {}, \"{hash}\"),", keys.params().k());
                (b, m, t, a, keys.params().k(), hash)
            })
            .collect();
        let expected: Vec<_> = pinned
            .iter()
            .map(|&(b, m, t, a, k, h)| (b, m, t, a, k, h.to_owned()))
            .collect();
        assert_eq!(got, expected);
    }

    /// `Params::new(k)` hashes to the pin, for the pinned `k` given; prints the
    /// lines of [`PINNED_PARAMS_SHA256`].
    fn check_params_pins(ks: impl Iterator<Item = u32>) {
        for k in ks {
            let hash = sha256_hex(&params_bytes(&Params::<vesta::Affine>::new(k)));
            println!("    (\n        {k},\n        \"{hash}\",\n    ),");
            assert_eq!(Some(hash.as_str()), pinned_params_sha256(k), "k = {k}");
        }
    }

    /// The pin of the smallest `k` (1.5 s): a halo2_proofs upgrade that changes
    /// `Params::new` or its encoding fails here. Every pin:
    /// [`all_params_hashes_are_pinned`].
    #[test]
    fn params_hashes_are_pinned() {
        check_params_pins(std::iter::once(11));
    }

    /// Every pin of [`PINNED_PARAMS_SHA256`]: minutes (199 s for `k = 17` alone), so
    /// ignored; the command is in the constant's documentation.
    #[test]
    #[ignore = "derives the parameters of every pinned k: minutes"]
    fn all_params_hashes_are_pinned() {
        check_params_pins(PINNED_PARAMS_SHA256.iter().map(|&(k, _)| k));
    }
}
