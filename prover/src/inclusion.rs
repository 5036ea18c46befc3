//! The venue's side of inclusion proofs (`docs/INCLUSION.md`): recompute an
//! epoch's salts, leaves and batch trees from the snapshot and the venue secret,
//! check that they reproduce the published accounts commitment, and write one
//! account's proof or every account's, streaming, batch by batch.
//!
//! The proof format and its check live in `backstop_verifier::inclusion`, so that
//! users can verify without this crate.

use crate::error::ProverError;
use crate::output::{json_bytes, write_dir_atomically, write_file};
use backstop_circuits::hash::FieldHasher;
use backstop_circuits::model::Snapshot;
use backstop_circuits::native::attestation::chain_roots;
use backstop_circuits::native::commit::{
    BatchSize, BatchTree, account_salt, leaf, leaf_salt, leaf_words, padding_salt, secret_element,
};
use backstop_circuits::secret::VenueSecret;
use backstop_circuits::statement::EpochStatement;
use backstop_verifier::inclusion::{
    BATCH_ROOTS_FILE, BatchRootsFile, InclusionProof, ProofParts, RootsPlacement,
};
use rayon::prelude::*;
use std::io::Write;
use std::path::Path;

/// An epoch as the venue recomputes it: snapshot, statement, secret element.
#[derive(Debug)]
pub struct VenueEpoch<'a, H: FieldHasher> {
    snapshot: &'a Snapshot,
    statement: &'a EpochStatement,
    secret: H::F,
    batch_size: BatchSize,
}

impl<'a, H: FieldHasher> VenueEpoch<'a, H> {
    /// Pairs a snapshot with a published statement; refuses a snapshot whose public
    /// parameters (epoch, decimals, reserves, markets, prices) differ from the
    /// statement's, or whose accounts do not fit the statement's `K` batches.
    pub fn new(
        snapshot: &'a Snapshot,
        statement: &'a EpochStatement,
        secret: &VenueSecret,
        snapshot_path: &Path,
    ) -> Result<Self, ProverError> {
        // A snapshot names no venue and no disclosure choice: the statement's (bound by
        // its proofs) are the ones.
        let published = snapshot
            .params()
            .clone()
            .with_venue(statement.venue())
            .with_disclosures_of(statement.params());
        if published != *statement.params() {
            return Err(ProverError::EpochMismatch(format!(
                "the snapshot {} (epoch {}) does not have the published parameters of epoch {} (epoch, decimals, reserves, insurance fund, markets, prices or margin rates differ)",
                snapshot_path.display(),
                snapshot.params().epoch(),
                statement.params().epoch()
            )));
        }
        let batch_size = statement.shape().batch_size();
        let k = batch_size.batch_count(snapshot.accounts().len()) as u64;
        if k != statement.file().batch_count {
            return Err(ProverError::EpochMismatch(format!(
                "the snapshot {} has {} accounts, {k} batches of {}, but the statement has {} batches",
                snapshot_path.display(),
                snapshot.accounts().len(),
                batch_size.get(),
                statement.file().batch_count
            )));
        }
        Ok(Self {
            snapshot,
            statement,
            secret: secret_element::<H>(secret),
            batch_size,
        })
    }

    /// `K`.
    pub fn batch_count(&self) -> usize {
        self.batch_size.batch_count(self.snapshot.accounts().len())
    }

    /// The tree of batch `batch` (`docs/SPEC.md` §5.1–§5.3), exactly as
    /// `commit_epoch` builds it.
    pub fn batch_tree(&self, batch: usize) -> BatchTree<H> {
        let epoch = self.snapshot.params().epoch();
        let markets = self.snapshot.params().markets().len();
        let assets = self.snapshot.params().assets().len();
        let accounts = self.snapshot.accounts();
        let b = self.batch_size.get();
        let leaves = (0..b)
            .map(|j| {
                let slot = batch * b + j;
                match accounts.get(slot) {
                    Some(a) => leaf::<H>(
                        leaf_salt::<H>(self.secret, epoch, a),
                        &leaf_words(Some(a), markets, assets),
                    ),
                    None => leaf::<H>(
                        padding_salt::<H>(self.secret, epoch, slot as u64),
                        &leaf_words(None, markets, assets),
                    ),
                }
            })
            .collect();
        BatchTree::new(leaves)
    }

    /// Every batch root, in parallel.
    pub fn batch_roots(&self) -> Vec<H::F> {
        (0..self.batch_count())
            .into_par_iter()
            .map(|b| self.batch_tree(b).root())
            .collect()
    }

    /// Checks that `roots` chain to the statement's accounts commitment: the
    /// snapshot and secret are the ones the epoch was proven with.
    pub fn check_commitment(&self, roots: &[H::F]) -> Result<H::F, ProverError> {
        let a_k = chain_roots::<H>(self.snapshot.params().epoch(), roots);
        let published = &self.statement.file().accounts_commitment;
        if H::to_hex(&a_k) != *published {
            return Err(ProverError::EpochMismatch(format!(
                "this snapshot and venue secret give accounts commitment {}, but the epoch publishes {published}: \
                 wrong snapshot, wrong secret (--secret-file / BACKSTOP_VENUE_SECRET), or another epoch",
                H::to_hex(&a_k)
            )));
        }
        Ok(a_k)
    }

    /// The proof of the account at `index` (in id order) inside `tree`.
    fn proof(
        &self,
        tree: &BatchTree<H>,
        accounts_commitment: H::F,
        index: usize,
        roots: RootsPlacement<'_, H::F>,
    ) -> InclusionProof {
        let b = self.batch_size.get();
        let account = &self.snapshot.accounts()[index];
        let epoch = self.snapshot.params().epoch();
        InclusionProof::new::<H>(ProofParts {
            backend: self.statement.file().backend,
            shape: &self.statement.file().shape,
            params: self.statement.params(),
            accounts_commitment,
            account,
            salt: account_salt::<H>(self.secret, epoch, account.id()),
            batch: (index / b) as u64,
            slot: (index % b) as u64,
            path: &tree.path(index % b),
            roots,
        })
    }

    /// One account's proof with every batch root embedded.
    pub fn prove_one(
        &self,
        account: u64,
        snapshot_path: &Path,
    ) -> Result<InclusionProof, ProverError> {
        let index = self
            .snapshot
            .accounts()
            .binary_search_by_key(&account, |a| a.id().get())
            .map_err(|_| ProverError::UnknownAccount {
                account,
                snapshot: snapshot_path.to_path_buf(),
            })?;
        let roots = self.batch_roots();
        let a_k = self.check_commitment(&roots)?;
        let tree = self.batch_tree(index / self.batch_size.get());
        Ok(self.proof(&tree, a_k, index, RootsPlacement::Embedded(&roots)))
    }

    /// Writes every account's proof to `out` (`<id>.json`, compact JSON) and the
    /// shared `batch-roots.json`, building each batch tree once, batches in
    /// parallel. Everything is written into a temporary sibling and renamed into
    /// place only after the roots are checked against the published commitment.
    pub fn prove_all(&self, out: &Path) -> Result<usize, ProverError> {
        let replaceable = |out: &Path| {
            if out.join(BATCH_ROOTS_FILE).is_file() || is_empty_dir(out) {
                Ok(())
            } else {
                Err(ProverError::Refused(format!(
                    "{} exists and is not a directory of inclusion proofs; refusing to replace it",
                    out.display()
                )))
            }
        };
        // The account files hold no commitment-dependent data but the claimed
        // a_K, which is the published one if the check below passes.
        let claimed = H::from_hex(&self.statement.file().accounts_commitment).ok_or_else(|| {
            ProverError::EpochMismatch(
                "statement.json: accounts_commitment is not a field element".into(),
            )
        })?;
        let b = self.batch_size.get();
        let n = self.snapshot.accounts().len();
        write_dir_atomically(out, replaceable, |dir| {
            let roots = (0..self.batch_count())
                .into_par_iter()
                .map(|batch| {
                    let tree = self.batch_tree(batch);
                    for index in batch * b..((batch + 1) * b).min(n) {
                        let proof = self.proof(
                            &tree,
                            claimed,
                            index,
                            RootsPlacement::SharedFile(BATCH_ROOTS_FILE),
                        );
                        let path =
                            dir.join(format!("{}.json", self.snapshot.accounts()[index].id()));
                        write_compact_json(&path, &proof)?;
                    }
                    Ok(tree.root())
                })
                .collect::<Result<Vec<_>, ProverError>>()?;
            let a_k = self.check_commitment(&roots)?;
            let shared = BatchRootsFile::new::<H>(
                self.statement.file().backend,
                self.snapshot.params().epoch(),
                a_k,
                &roots,
            );
            write_file(&dir.join(BATCH_ROOTS_FILE), &json_bytes(&shared))
        })?;
        Ok(n)
    }
}

impl<H: FieldHasher> VenueEpoch<'_, H> {
    /// Hands every account's proof (`<id>.json`, compact JSON) and then the shared
    /// `batch-roots.json` to `put`, name and bytes, without touching the file
    /// system: for a service that stores them elsewhere. The roots are checked
    /// against the published commitment before any proof is handed over, and
    /// `batch-roots.json` comes last, so a store that holds it holds every proof.
    /// Batches are built in parallel, so `put` is called from several threads.
    pub fn prove_each<E: Send, P>(&self, put: &P) -> Result<usize, InclusionSinkError<E>>
    where
        P: Fn(&str, &[u8]) -> Result<(), E> + Sync,
    {
        let roots = self.batch_roots();
        let a_k = self
            .check_commitment(&roots)
            .map_err(InclusionSinkError::Prover)?;
        let b = self.batch_size.get();
        let n = self.snapshot.accounts().len();
        (0..self.batch_count())
            .into_par_iter()
            .try_for_each(|batch| {
                let tree = self.batch_tree(batch);
                for index in batch * b..((batch + 1) * b).min(n) {
                    let proof = self.proof(
                        &tree,
                        a_k,
                        index,
                        RootsPlacement::SharedFile(BATCH_ROOTS_FILE),
                    );
                    let mut bytes = serde_json::to_vec(&proof).unwrap_or_default();
                    bytes.push(b'\n');
                    let name = format!("{}.json", self.snapshot.accounts()[index].id());
                    put(&name, &bytes).map_err(InclusionSinkError::Sink)?;
                }
                Ok(())
            })?;
        let shared = BatchRootsFile::new::<H>(
            self.statement.file().backend,
            self.snapshot.params().epoch(),
            a_k,
            &roots,
        );
        put(BATCH_ROOTS_FILE, &json_bytes(&shared)).map_err(InclusionSinkError::Sink)?;
        Ok(n)
    }
}

/// Why [`VenueEpoch::prove_each`] stopped.
#[derive(Debug)]
pub enum InclusionSinkError<E> {
    /// The proofs cannot be made: the snapshot or secret does not give the
    /// published commitment.
    Prover(ProverError),
    /// The sink refused a file.
    Sink(E),
}

fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none())
}

/// Writes `value` as compact JSON with a final newline (one inclusion proof: many
/// thousands are written per epoch, inside a directory renamed into place whole).
fn write_compact_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), ProverError> {
    // Serializing these plain structs cannot fail.
    let mut bytes = serde_json::to_vec(value).unwrap_or_default();
    bytes.push(b'\n');
    let mut f = std::fs::File::create(path).map_err(|e| ProverError::io(path, e))?;
    f.write_all(&bytes).map_err(|e| ProverError::io(path, e))
}
