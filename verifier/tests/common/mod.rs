//! Scaffolding shared by the verifier's integration tests: scratch directories and
//! Groth16 keys whose trapdoor is known (so that proofs can be forged for any public
//! input without a prover, which this crate must not depend on).
#![allow(dead_code, clippy::unwrap_used)] // each test file uses part of it

use ark_bn254::{Bn254, Fr, G1Projective, G2Projective};
use ark_ec::{CurveGroup, PrimeGroup};
use ark_groth16::{Proof, VerifyingKey};
use backstop_circuits::hash::{Bn254Poseidon, FieldHasher};
use backstop_circuits::shape::CircuitShape;
use backstop_verifier::KEYS_FILE;
use backstop_verifier::artifacts::{VERIFYING_KEY_FILE, verifying_key_bytes, verifying_key_hash};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A scratch directory removed on drop (this crate has no `tempfile`).
pub struct Scratch(PathBuf);

impl Scratch {
    /// A fresh, empty directory named after `label`, this process and a counter.
    pub fn new(label: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "backstop-{label}-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A verifying key with known trapdoor: `alpha = a·G1`, `beta = b·G2`,
/// `gamma = delta = G2`, `gamma_abc = [c0·G1, c1·G1, …]`.
pub struct TrapdoorKey {
    pub vk: VerifyingKey<Bn254>,
    ab: Fr,
    c: Vec<Fr>,
}

impl TrapdoorKey {
    /// The key of `seed` with `public_inputs` public inputs.
    pub fn new(seed: u64, public_inputs: usize) -> Self {
        let (a, b) = (Fr::from(seed + 11), Fr::from(seed + 13));
        let c: Vec<Fr> = (0..=public_inputs as u64)
            .map(|i| Fr::from(seed * 100 + 17 + i))
            .collect();
        let g1 = G1Projective::generator();
        let g2 = G2Projective::generator();
        let vk = VerifyingKey {
            alpha_g1: (g1 * a).into_affine(),
            beta_g2: (g2 * b).into_affine(),
            gamma_g2: g2.into_affine(),
            delta_g2: g2.into_affine(),
            gamma_abc_g1: c.iter().map(|ci| (g1 * ci).into_affine()).collect(),
        };
        Self { vk, ab: a * b, c }
    }

    /// A proof that verifies for the public inputs `x`: `A = G1`, `B = G2` and
    /// `C = (1 − ab − c0 − Σ x_j·c_{j+1})·G1`, so that
    /// `e(A, B) = e(α, β)·e(IC(x), γ)·e(C, δ)`.
    pub fn forge(&self, x: &[Fr]) -> Proof<Bn254> {
        assert_eq!(x.len() + 1, self.c.len(), "one input per key point");
        let ic: Fr = x.iter().zip(&self.c[1..]).map(|(x, c)| *x * c).sum();
        let c = Fr::from(1u64) - self.ab - self.c[0] - ic;
        Proof {
            a: G1Projective::generator().into_affine(),
            b: G2Projective::generator().into_affine(),
            c: (G1Projective::generator() * c).into_affine(),
        }
    }
}

/// A field element in hex that no statement derives (a hash of `n`).
pub fn element(n: u64) -> String {
    Bn254Poseidon::to_hex(&Bn254Poseidon::hash(&[Bn254Poseidon::from_u64(n)]))
}

/// `keys.json` as `backstop setup` writes it (`backstop_prover::keys::KeysFile`).
pub fn keys_json(shape: CircuitShape, vk: &VerifyingKey<Bn254>) -> Value {
    json!({
        "backend": "groth16-bn254",
        "shape": shape.id(),
        "batch_size": shape.batch_size().get(),
        "markets": shape.markets(),
        "verifying_key_hash": verifying_key_hash(vk),
        "setup": "single-party development setup: whoever ran it can forge proofs for these keys",
        "constraints": 1234,
    })
}

/// A keys directory at `dir` holding `vk` and `desc` as its `keys.json`.
pub fn keys_dir_at(dir: &Path, vk: &VerifyingKey<Bn254>, desc: &Value) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(VERIFYING_KEY_FILE), verifying_key_bytes(vk)).unwrap();
    std::fs::write(
        dir.join(KEYS_FILE),
        serde_json::to_vec_pretty(desc).unwrap(),
    )
    .unwrap();
    dir.to_path_buf()
}

/// [`keys_dir_at`] `keys/` in `scratch`.
pub fn keys_dir_with(scratch: &Scratch, vk: &VerifyingKey<Bn254>, desc: &Value) -> PathBuf {
    keys_dir_at(&scratch.path().join("keys"), vk, desc)
}

/// The test venue's signing key (secret scalar 7).
pub fn test_venue_key() -> k256::ecdsa::SigningKey {
    let mut scalar = [0u8; 32];
    scalar[31] = 7;
    k256::ecdsa::SigningKey::from_slice(&scalar).unwrap()
}

/// The test venue's address, as `statement.json` writes it.
pub fn test_venue() -> String {
    backstop_verifier::venue::address_of(test_venue_key().verifying_key()).to_string()
}

/// Signs `file` (which must be valid and name [`test_venue`]) as the venue does
/// (SPEC §7.5).
pub fn sign(file: &mut backstop_circuits::statement::StatementFile) {
    file.signature = None;
    let statement = backstop_circuits::statement::EpochStatement::new(file.clone()).unwrap();
    let hash = backstop_verifier::venue::statement_hash(&statement).unwrap();
    let (signature, id) = test_venue_key()
        .sign_prehash_recoverable(&backstop_verifier::venue::signed_digest(&hash))
        .unwrap();
    file.signature = Some(backstop_verifier::venue::encode_signature(&signature, id));
}
