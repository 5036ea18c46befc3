//! The in-memory halo2 core, [`verify_halo2`], on a real epoch proven here (this
//! crate must not depend on the prover, so the few lines of proving are repeated:
//! `backstop_prover::halo2::prove_batch` does the same): one fixture of 16 accounts
//! on one market at `B = 8` (`k = 11`), two batches. It accepts the epoch, as the
//! directory functions do, and refuses a wrong proof count, swapped, flipped,
//! truncated and extended proofs, changed outputs and keys of another shape.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the test failing

use backstop_circuits::halo2::Halo2BatchCircuit;
use backstop_circuits::hash::PastaPoseidon;
use backstop_circuits::secret::VenueSecret;
use backstop_circuits::shape::CircuitShape;
use backstop_circuits::statement::{
    Backend, EpochStatement, PublicOutputs, StatementFile, publish,
};
use backstop_circuits::witness::build_epoch;
use backstop_fixtures::{FixtureSpec, Scenario, generate};
use backstop_verifier::artifacts::{PROOFS_DIR, STATEMENT_FILE, proof_path};
use backstop_verifier::halo2::{Halo2VerifierKeys, params_path, verify_halo2};
use backstop_verifier::{VerifyError, read_proofs, read_statement, verify_epoch, verify_groth16};
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::transcript::{Blake2bWrite, Challenge255};
use pasta_curves::vesta;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

const BATCHES: u64 = 2;

/// A proven halo2 epoch: the keys of its shape, its statement and one transcript per
/// batch.
struct Epoch {
    keys: Halo2VerifierKeys,
    statement: EpochStatement,
    proofs: Vec<Vec<u8>>,
}

fn shape() -> CircuitShape {
    CircuitShape::new(8, 1).unwrap()
}

/// Proven once for the whole test binary.
fn epoch() -> &'static Epoch {
    static EPOCH: OnceLock<Epoch> = OnceLock::new();
    EPOCH.get_or_init(|| {
        let shape = shape();
        let k = Halo2BatchCircuit::k(shape);
        let keys = Halo2VerifierKeys::new(Params::new(k), shape).unwrap();
        let pk = Halo2BatchCircuit::keygen_pk(keys.params(), keys.verifying_key().clone(), shape)
            .unwrap();
        let snapshot = generate(&FixtureSpec {
            scenario: Scenario::FlashCrash,
            accounts: 16,
            markets: 1,
            seed: 5,
        })
        .unwrap();
        let secret = VenueSecret::demo();
        let witness = build_epoch::<PastaPoseidon>(&snapshot, &secret, shape.batch_size());
        let proofs: Vec<Vec<u8>> = witness
            .batches
            .iter()
            .map(|w| {
                let circuit = Halo2BatchCircuit::new(shape, w).unwrap();
                let mut transcript =
                    Blake2bWrite::<_, vesta::Affine, Challenge255<_>>::init(vec![]);
                circuit
                    .create_proof(
                        keys.params(),
                        &pk,
                        rand_core10::UnwrapErr(rand10::rngs::SysRng),
                        &mut transcript,
                    )
                    .unwrap();
                transcript.finalize()
            })
            .collect();
        let outputs = PublicOutputs::from_evaluation(snapshot.params(), &witness.evaluation);
        let statement = EpochStatement::new(publish(
            Backend::Halo2Pasta,
            shape,
            keys.verifying_key_hash().to_owned(),
            snapshot.params(),
            &outputs,
            &witness.commitment,
        ))
        .unwrap();
        assert_eq!(statement.file().batch_count, BATCHES);
        let inputs: Vec<_> = witness
            .batches
            .iter()
            .map(|w| vec![w.public_input()])
            .collect();
        assert_eq!(statement.public_inputs::<PastaPoseidon>().unwrap(), inputs);
        Epoch {
            keys,
            statement,
            proofs,
        }
    })
}

/// The epoch's statement, edited and validated again.
fn edited(edit: impl FnOnce(&mut StatementFile)) -> EpochStatement {
    let mut file = epoch().statement.file().clone();
    edit(&mut file);
    EpochStatement::new(file).unwrap()
}

/// The epoch's proofs with batch `batch`'s edited.
fn with_proof(batch: usize, edit: impl FnOnce(&mut Vec<u8>)) -> Vec<Vec<u8>> {
    let mut proofs = epoch().proofs.clone();
    edit(&mut proofs[batch]);
    proofs
}

#[track_caller]
fn refused(statement: &EpochStatement, proofs: &[Vec<u8>]) -> VerifyError {
    match verify_halo2(statement, proofs, &epoch().keys) {
        Ok(()) => panic!("accepted"),
        Err(e) => e,
    }
}

/// A scratch directory removed on drop (this crate has no `tempfile`).
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "backstop-halo2-core-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes the epoch as a directory (`statement.json`, `proofs/`) with `proofs`, and
/// the parameters into a cache directory; returns both directories.
fn write_epoch(scratch: &Scratch, proofs: &[Vec<u8>]) -> (PathBuf, PathBuf) {
    let e = epoch();
    let dir = scratch.0.join("epoch");
    std::fs::create_dir_all(dir.join(PROOFS_DIR)).unwrap();
    std::fs::write(
        dir.join(STATEMENT_FILE),
        serde_json::to_vec_pretty(e.statement.file()).unwrap(),
    )
    .unwrap();
    for (b, proof) in proofs.iter().enumerate() {
        std::fs::write(proof_path(&dir, b as u64), proof).unwrap();
    }
    let params_dir = scratch.0.join("params");
    std::fs::create_dir_all(&params_dir).unwrap();
    let mut bytes = Vec::new();
    e.keys.params().write(&mut bytes).unwrap();
    std::fs::write(params_path(&params_dir, e.keys.params().k()), bytes).unwrap();
    (dir, params_dir)
}

fn verify_dir(dir: &Path, params_dir: &Path) -> Result<(), VerifyError> {
    backstop_verifier::halo2::verify_epoch_dir(dir, params_dir).map(|_| ())
}

#[test]
fn a_valid_epoch_verifies_in_memory_and_from_its_directory() {
    let e = epoch();
    verify_halo2(&e.statement, &e.proofs, &e.keys).unwrap();
    let slices: Vec<&[u8]> = e.proofs.iter().map(Vec::as_slice).collect();
    verify_halo2(&e.statement, &slices, &e.keys).unwrap();

    let scratch = Scratch::new();
    let (dir, params_dir) = write_epoch(&scratch, &e.proofs);
    let statement = read_statement(&dir).unwrap();
    let proofs = read_proofs(&dir, statement.file().batch_count).unwrap();
    assert_eq!(proofs, e.proofs);
    verify_halo2(&statement, &proofs, &e.keys).unwrap();
    let verified = backstop_verifier::halo2::verify_epoch_dir(&dir, &params_dir).unwrap();
    assert!(verified.trusted_key);
    assert_eq!(verified.statement.file(), e.statement.file());
    verify_epoch(&dir, None, &params_dir).unwrap();
    // Keys loaded from the cache are the ones derived in memory.
    let loaded = Halo2VerifierKeys::load(&params_dir, shape()).unwrap();
    assert_eq!(loaded.verifying_key_hash(), e.keys.verifying_key_hash());
}

#[test]
fn a_wrong_proof_count_is_refused() {
    let e = epoch();
    let fewer = &e.proofs[..1];
    assert!(matches!(
        verify_halo2(&e.statement, fewer, &e.keys),
        Err(VerifyError::ProofCount {
            expected: BATCHES,
            got: 1
        })
    ));
    let mut more = e.proofs.clone();
    more.push(e.proofs[1].clone());
    assert!(matches!(
        refused(&e.statement, &more),
        VerifyError::ProofCount {
            expected: BATCHES,
            got: 3
        }
    ));
    assert!(matches!(
        refused(&e.statement, &[]),
        VerifyError::ProofCount {
            expected: BATCHES,
            got: 0
        }
    ));
    assert_eq!(
        refused(&e.statement, fewer.to_vec().as_slice()).to_string(),
        "expected 2 proofs, one per batch, got 1"
    );
}

/// Each transcript is bound to its batch's `x_b`: in another position it fails.
#[test]
fn swapped_proofs_are_refused() {
    let e = epoch();
    let mut proofs = e.proofs.clone();
    proofs.swap(0, 1);
    assert!(matches!(
        refused(&e.statement, &proofs),
        VerifyError::InvalidProof { batch: 0 }
    ));
    // Batch 0's proof given for batch 1 as well: batch 0 verifies, batch 1 does not.
    let proofs = vec![e.proofs[0].clone(), e.proofs[0].clone()];
    assert!(matches!(
        refused(&e.statement, &proofs),
        VerifyError::InvalidProof { batch: 1 }
    ));
}

#[test]
fn a_flipped_byte_is_refused() {
    let len = epoch().proofs[1].len();
    for at in [0, 31, len / 2, len - 1] {
        let proofs = with_proof(1, |p| p[at] ^= 0x01);
        assert!(
            matches!(
                refused(&epoch().statement, &proofs),
                VerifyError::InvalidProof { batch: 1 }
            ),
            "byte {at}"
        );
    }
}

#[test]
fn a_truncated_or_extended_transcript_is_refused() {
    let proofs = with_proof(1, |p| p.truncate(p.len() - 1));
    assert!(matches!(
        refused(&epoch().statement, &proofs),
        VerifyError::InvalidProof { batch: 1 }
    ));
    // A valid transcript followed by anything: it verifies, but the bytes after it
    // are not part of any proof.
    for extra in [&[0u8][..], &[0xff; 64]] {
        let proofs = with_proof(1, |p| p.extend_from_slice(extra));
        match refused(&epoch().statement, &proofs) {
            VerifyError::MalformedProof { batch: 1, reason } => assert_eq!(
                reason,
                format!("trailing bytes after the transcript: {}", extra.len())
            ),
            other => panic!("{other:?}"),
        }
    }
    // From a directory too.
    let scratch = Scratch::new();
    let (dir, params_dir) = write_epoch(&scratch, &with_proof(1, |p| p.push(0)));
    let err = verify_dir(&dir, &params_dir).unwrap_err();
    assert!(
        matches!(err, VerifyError::MalformedProof { batch: 1, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "batch 1: malformed proof (trailing bytes after the transcript: 1)"
    );
}

/// The verifier computes every `x_b` from the statement: a changed output (in every
/// `x_b`) or state commitment fails the first proof that depends on it (`C_1`, the
/// last batch's, enters only `x_1`).
#[test]
fn a_statement_with_other_outputs_is_refused() {
    let e = epoch();
    let flipped = edited(|f| f.solvent = !f.solvent);
    assert!(matches!(
        refused(&flipped, &e.proofs),
        VerifyError::InvalidProof { batch: 0 }
    ));
    let fewer_liquidations = edited(|f| {
        assert!(!f.liquidations.is_empty(), "the fixture liquidates");
        f.liquidations.pop();
    });
    assert!(matches!(
        refused(&fewer_liquidations, &e.proofs),
        VerifyError::InvalidProof { batch: 0 }
    ));
    let other_state = edited(|f| f.state_commitments[1] = f.state_commitments[0].clone());
    assert!(matches!(
        refused(&other_state, &e.proofs),
        VerifyError::InvalidProof { batch: 1 }
    ));
}

#[test]
fn keys_of_another_shape_or_another_key_are_refused() {
    let e = epoch();
    let other_shape = CircuitShape::new(8, 2).unwrap();
    assert_eq!(Halo2BatchCircuit::k(other_shape), e.keys.params().k());
    let other = Halo2VerifierKeys::new(e.keys.params().clone(), other_shape).unwrap();
    assert_ne!(other.verifying_key_hash(), e.keys.verifying_key_hash());
    match verify_halo2(&e.statement, &e.proofs, &other) {
        Err(VerifyError::ShapeMismatch { expected, got }) => {
            assert_eq!(expected, "backstop.v2.B8.M1");
            assert_eq!(got, "backstop.v2.B8.M2");
        }
        other => panic!("{other:?}"),
    }
    // A statement naming another key than its shape's.
    let other_key = edited(|f| f.verifying_key_hash = other.verifying_key_hash().to_owned());
    match refused(&other_key, &e.proofs) {
        VerifyError::VerifyingKeyMismatch { expected, got } => {
            assert_eq!(expected, other.verifying_key_hash());
            assert_eq!(got, e.keys.verifying_key_hash());
        }
        other => panic!("{other:?}"),
    }
    // Parameters for another k than the shape's.
    assert!(matches!(
        Halo2VerifierKeys::new(Params::new(e.keys.params().k() - 1), shape()),
        Err(VerifyError::VerifyingKey(_))
    ));
}

#[test]
fn each_core_refuses_the_other_backend() {
    let e = epoch();
    let relabelled = edited(|f| f.backend = Backend::Groth16Bn254);
    assert!(matches!(
        refused(&relabelled, &e.proofs),
        VerifyError::Backend(Backend::Groth16Bn254)
    ));
    let vk = ark_groth16::VerifyingKey::<ark_bn254::Bn254>::default();
    assert!(matches!(
        verify_groth16(&e.statement, &e.proofs, &vk),
        Err(VerifyError::Backend(Backend::Halo2Pasta))
    ));
}

/// The relabellings that left statement v1's derived parameters unchanged (more
/// decimals with amounts rescaled, a decimal moved from sizes to prices, symbols
/// swapped) and another venue: each is a valid statement, and the proofs refuse it
/// (SPEC §5.5: the descriptor binds the raw values).
#[test]
fn relabelled_statements_are_refused_by_the_proofs() {
    let e = epoch();
    let other = backstop_circuits::descriptor::VenueAddress([0x42; 20]);
    let relabelled = backstop_circuits::tamper::relabellings(e.statement.file(), other);
    assert_eq!(
        relabelled.len(),
        4,
        "M = 1: every relabelling but the symbol swap"
    );
    for (what, file) in relabelled {
        let statement = EpochStatement::new(file).unwrap();
        assert!(
            matches!(
                refused(&statement, &e.proofs),
                VerifyError::InvalidProof { batch: 0 }
            ),
            "{what}"
        );
    }
}
