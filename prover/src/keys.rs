//! Groth16 keys: the one owner of a keys directory (`keys.json`, `proving_key.bin`,
//! `verifying_key.bin`; the verifying key's encoding is `backstop_verifier::artifacts`).
//!
//! The setup here is **single-party**: whoever runs it knows the toxic waste and
//! could forge proofs for the key ([`SETUP_WARNING`]). It is fit for development and
//! for a venue proving to itself.

use crate::error::ProverError;
use crate::output::{check_replaceable, json_bytes, write_dir_atomically, write_file};
use ark_bn254::Bn254;
use ark_groth16::{Groth16, ProvingKey, VerifyingKey};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use backstop_circuits::r1cs::BatchCircuit;
use backstop_circuits::shape::CircuitShape;
use backstop_circuits::statement::Backend;
use backstop_verifier::artifacts::{VERIFYING_KEY_FILE, verifying_key_bytes, verifying_key_hash};
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, OsRng, RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The description file of a keys directory (the verifier reads its shape).
pub use backstop_verifier::KEYS_FILE;
/// The proving key file of a keys directory (arkworks uncompressed encoding).
pub const PROVING_KEY_FILE: &str = "proving_key.bin";
/// What `keys.json` says about how the keys were made.
pub const SINGLE_PARTY_SETUP: &str =
    "single-party development setup: whoever ran it can forge proofs for these keys";

/// The setup's warning, printed to stderr by every caller that makes keys.
pub const SETUP_WARNING: &str = "WARNING: single-party Groth16 setup. Whoever runs it (you, now) \
learns the toxic waste and could forge proofs for these keys. Fine for development and for \
proving to yourself; verifiers who must not trust the venue need keys from a multi-party \
ceremony, which Backstop does not provide yet.";

/// Where keys for `shape` live unless a directory is named: `backstop-keys/<shape id>`.
pub fn default_keys_dir(shape: CircuitShape) -> PathBuf {
    PathBuf::from("backstop-keys").join(shape.id())
}

/// `keys.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysFile {
    /// Always `groth16-bn254` here.
    pub backend: Backend,
    /// [`CircuitShape::id`].
    pub shape: String,
    /// `B`.
    pub batch_size: u64,
    /// `M`.
    pub markets: usize,
    /// `T`, brackets per market (risk model v2; absent: 1).
    #[serde(
        default = "backstop_circuits::json::one",
        skip_serializing_if = "backstop_circuits::json::is_one"
    )]
    pub brackets: usize,
    /// `A`, collateral assets (risk model v2; absent: 0).
    #[serde(default, skip_serializing_if = "backstop_circuits::json::is_zero")]
    pub assets: usize,
    /// Whether the shape proves the default waterfall (absent: false).
    #[serde(default, skip_serializing_if = "backstop_circuits::json::is_false")]
    pub waterfall: bool,
    /// SHA-256 of the verifying key's canonical bytes.
    pub verifying_key_hash: String,
    /// How the keys were made.
    pub setup: String,
    /// The R1CS constraint count of the circuit.
    pub constraints: usize,
}

fn keys_error(dir: &Path, reason: impl Into<String>) -> ProverError {
    ProverError::Keys {
        dir: dir.to_path_buf(),
        reason: reason.into(),
    }
}

impl KeysFile {
    /// Reads and checks `dir/keys.json`: a Groth16 description whose shape id is the
    /// one its batch size and market count make.
    pub fn read(dir: &Path) -> Result<Self, ProverError> {
        let path = dir.join(KEYS_FILE);
        let bytes = std::fs::read(&path).map_err(|e| ProverError::io(&path, e))?;
        let desc: KeysFile = serde_json::from_slice(&bytes)
            .map_err(|e| keys_error(dir, format!("{KEYS_FILE}: {e}")))?;
        if desc.backend != Backend::Groth16Bn254 {
            return Err(keys_error(
                dir,
                format!("{} keys, not groth16-bn254", desc.backend),
            ));
        }
        let shape = desc.shape_in(dir)?;
        if shape.id() != desc.shape {
            return Err(keys_error(
                dir,
                format!(
                    "{KEYS_FILE} names shape {} but B = {}, M = {}, T = {} and A = {} make {}",
                    desc.shape,
                    desc.batch_size,
                    desc.markets,
                    desc.brackets,
                    desc.assets,
                    shape.id()
                ),
            ));
        }
        Ok(desc)
    }

    fn shape_in(&self, dir: &Path) -> Result<CircuitShape, ProverError> {
        CircuitShape::with_risk(self.batch_size, self.markets, self.brackets, self.assets)
            .map(|s| s.with_waterfall(self.waterfall))
            .map_err(|e| keys_error(dir, format!("{KEYS_FILE}: {e}")))
    }

    /// The circuit shape the keys are for (checked by [`KeysFile::read`]).
    pub fn shape(&self) -> Result<CircuitShape, ProverError> {
        self.shape_in(Path::new(KEYS_FILE))
    }
}

/// The batch size of the keys in `dir`, if it holds readable keys.
pub fn keys_batch_size(dir: &Path) -> Option<u64> {
    KeysFile::read(dir).ok().map(|k| k.batch_size)
}

/// Reads a keys directory's shape and verifying key (not the proving key), checking
/// that the key is the one `keys.json` names.
pub fn read_verifying_key(dir: &Path) -> Result<(CircuitShape, VerifyingKey<Bn254>), ProverError> {
    let desc = KeysFile::read(dir)?;
    let vk = backstop_verifier::read_verifying_key(&dir.join(VERIFYING_KEY_FILE))?;
    if verifying_key_hash(&vk) != desc.verifying_key_hash {
        return Err(keys_error(
            dir,
            format!("{VERIFYING_KEY_FILE} does not match the verifying key hash in {KEYS_FILE}"),
        ));
    }
    Ok((desc.shape()?, vk))
}

/// A proving key with the shape it belongs to.
#[derive(Debug)]
pub struct Groth16Keys {
    shape: CircuitShape,
    pk: ProvingKey<Bn254>,
    vk_hash: String,
    setup: String,
}

impl Groth16Keys {
    /// Runs the single-party setup for `shape`, with randomness from the OS.
    pub fn setup(shape: CircuitShape) -> Result<Self, ProverError> {
        let mut rng =
            ChaCha20Rng::from_rng(OsRng).map_err(|e| ProverError::Setup(e.to_string()))?;
        Self::setup_with_rng(shape, &mut rng, SINGLE_PARTY_SETUP.to_owned())
    }

    /// Runs the single-party setup for `shape` with the toxic waste drawn from `rng`,
    /// recording `setup` in `keys.json`. Whoever can reproduce `rng` can forge
    /// proofs: a seeded generator gives reproducible keys for tests and nothing else.
    pub fn setup_with_rng<R: RngCore + CryptoRng>(
        shape: CircuitShape,
        rng: &mut R,
        setup: String,
    ) -> Result<Self, ProverError> {
        let pk = Groth16::<Bn254>::generate_random_parameters_with_reduction(
            BatchCircuit::blank(shape),
            rng,
        )
        .map_err(|e| ProverError::Setup(e.to_string()))?;
        let vk_hash = verifying_key_hash(&pk.vk);
        Ok(Self {
            shape,
            pk,
            vk_hash,
            setup,
        })
    }

    /// Loads keys for `shape` from `dir`; keys of another shape are refused by name.
    pub fn load(dir: &Path, shape: CircuitShape) -> Result<Self, ProverError> {
        let desc = KeysFile::read(dir)?;
        if desc.shape != shape.id() {
            return Err(ProverError::KeyShape {
                dir: dir.to_path_buf(),
                expected: shape.id(),
                found: desc.shape,
            });
        }
        Self::load_described(dir, desc, shape)
    }

    /// Loads the keys in `dir`, whatever shape `keys.json` names.
    pub fn load_any(dir: &Path) -> Result<Self, ProverError> {
        let desc = KeysFile::read(dir)?;
        let shape = desc.shape()?;
        Self::load_described(dir, desc, shape)
    }

    fn load_described(
        dir: &Path,
        desc: KeysFile,
        shape: CircuitShape,
    ) -> Result<Self, ProverError> {
        let pk_path = dir.join(PROVING_KEY_FILE);
        let bytes = std::fs::read(&pk_path).map_err(|e| ProverError::io(&pk_path, e))?;
        // The proving key is the prover's own file: skip the expensive point checks.
        let pk = ProvingKey::<Bn254>::deserialize_uncompressed_unchecked(bytes.as_slice())
            .map_err(|e| keys_error(dir, format!("{PROVING_KEY_FILE}: {e}")))?;
        let vk_hash = verifying_key_hash(&pk.vk);
        if vk_hash != desc.verifying_key_hash {
            return Err(keys_error(
                dir,
                "proving_key.bin does not match the verifying key hash in keys.json",
            ));
        }
        Ok(Self {
            shape,
            pk,
            vk_hash,
            setup: desc.setup,
        })
    }

    /// The shape.
    pub fn shape(&self) -> CircuitShape {
        self.shape
    }
    /// The proving key.
    pub fn proving_key(&self) -> &ProvingKey<Bn254> {
        &self.pk
    }
    /// The verifying key.
    pub fn verifying_key(&self) -> &VerifyingKey<Bn254> {
        &self.pk.vk
    }
    /// SHA-256 of the verifying key.
    pub fn verifying_key_hash(&self) -> &str {
        &self.vk_hash
    }
    /// How the keys were made (`keys.json`'s `setup`).
    pub fn setup_note(&self) -> &str {
        &self.setup
    }

    /// Writes `keys.json`, `proving_key.bin` and `verifying_key.bin` into `dir`,
    /// atomically (a temporary sibling renamed into place).
    pub fn save(&self, dir: &Path, constraints: usize) -> Result<(), ProverError> {
        let desc = KeysFile {
            backend: Backend::Groth16Bn254,
            shape: self.shape.id(),
            batch_size: self.shape.batch_size().get() as u64,
            markets: self.shape.markets(),
            brackets: self.shape.brackets(),
            assets: self.shape.assets(),
            waterfall: self.shape.has_waterfall(),
            verifying_key_hash: self.vk_hash.clone(),
            setup: self.setup.clone(),
            constraints,
        };
        write_dir_atomically(dir, check_replaceable, |tmp| {
            let mut pk_bytes = Vec::new();
            self.pk
                .serialize_uncompressed(&mut pk_bytes)
                .map_err(|e| ProverError::Setup(e.to_string()))?;
            write_file(&tmp.join(PROVING_KEY_FILE), &pk_bytes)?;
            write_file(
                &tmp.join(VERIFYING_KEY_FILE),
                &verifying_key_bytes(&self.pk.vk),
            )?;
            write_file(&tmp.join(KEYS_FILE), &json_bytes(&desc))
        })
    }

    /// Runs [`Groth16Keys::setup`] for `shape` and saves the keys in `dir`,
    /// returning them with the circuit's constraint count. The caller prints
    /// [`SETUP_WARNING`].
    pub fn setup_and_save(shape: CircuitShape, dir: &Path) -> Result<(Self, usize), ProverError> {
        let constraints = backstop_circuits::r1cs::cost::constraint_count(shape)
            .map_err(|e| ProverError::Setup(e.to_string()))?;
        let keys = Self::setup(shape)?;
        keys.save(dir, constraints)?;
        Ok((keys, constraints))
    }
}
