//! Margin attestations: a Groth16 proof that some account inside an epoch's
//! accounts commitment has `MV ≥ R · MR` (and `TV ≥ X · f_q`; `MV = TV` under
//! risk model v1), revealing nothing
//! else; this module defines the file format and checks it against the published
//! epoch (`docs/INCLUSION.md`; the circuit is
//! [`backstop_circuits::r1cs::attestation`]).
//!
//! The verifier recomputes the public input itself, from `statement.json` (the
//! accounts commitment `a_K` and the parameters hash), the claim, the context, and
//! the batch roots carried in the file, after checking that those roots chain to the
//! published `a_K`. It never takes the file's own `public_input`, `tree_root` or
//! `params_hash` on trust: it reports a mismatch instead.

use crate::artifacts::{decode_proof, decode_verifying_key, verifying_key_hash};
use ark_bn254::{Bn254, Fr};
use ark_groth16::{Groth16, VerifyingKey, prepare_verifying_key};
use backstop_circuits::hash::{Bn254Poseidon, FieldHasher};
use backstop_circuits::native::attestation::{
    AttestationClaim, attestation_public_input, attestation_tree_root, chain_roots,
};
use backstop_circuits::native::commit::{BatchSize, params_hash};
use backstop_circuits::shape::AttestationShape;
use backstop_circuits::statement::{Backend, EpochStatement};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// The `format` of an attestation file.
pub const ATTESTATION_FORMAT: &str = "backstop.attestation.v1";

/// The attested claim, as written in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimData {
    /// `R`, an exact decimal with at most 4 places: `MV ≥ R · MR` (`MV = TV` under
    /// risk model v1; under v2 the margin value, with the tiered `MR`).
    pub min_margin_ratio: String,
    /// `X` in quote units (at most `quote_decimals` places): `TV ≥ X` (the equity at
    /// full value); absent when not claimed (then only `TV ≥ MV ≥ R · MR ≥ 0` is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_equity: Option<String>,
}

/// An attestation file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestationFile {
    /// [`ATTESTATION_FORMAT`].
    pub format: String,
    /// The epoch's backend (`groth16-bn254`).
    pub backend: Backend,
    /// The epoch id.
    pub epoch: u64,
    /// SHA-256 of the epoch's `statement.json` bytes, hex.
    pub statement_sha256: String,
    /// The epoch's accounts commitment `a_K`.
    pub accounts_commitment: String,
    /// The claim.
    pub claim: ClaimData,
    /// The counterparty's context text (its SHA-256, read big-endian mod r, is the
    /// context element of the public input).
    pub context: String,
    /// `B` of the epoch (fixes the depth of the roots tree).
    pub batch_size: u64,
    /// The epoch's `K` batch roots (they reveal nothing: leaves are salted).
    pub batch_roots: Vec<String>,
    /// The roots-tree root `T`, for information (recomputed by the verifier).
    pub tree_root: String,
    /// The public input `x`, for information (recomputed by the verifier).
    pub public_input: String,
    /// The attestation circuit's shape id, e.g. `backstop.attest.v1.M8`.
    pub shape: String,
    /// The Groth16 proof, arkworks compressed, hex (128 bytes).
    pub proof: String,
    /// The verifying key, arkworks compressed, hex.
    pub verifying_key: String,
    /// SHA-256 of the verifying key's bytes, hex.
    pub verifying_key_hash: String,
    /// How the keys were made.
    pub setup: String,
}

/// Why an attestation was refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AttestationVerifyError {
    /// A malformed or inconsistent field.
    #[error("attestation field {field}: {reason}")]
    Field {
        /// The field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The attestation is about another epoch or statement.
    #[error("the attestation is not about this epoch: {0}")]
    Epoch(String),
    /// The batch roots do not chain to the published accounts commitment.
    #[error(
        "the attestation's batch roots chain to {computed}, not to the published accounts commitment {published}"
    )]
    Chain {
        /// `a_K` from the roots.
        computed: String,
        /// `statement.json`'s `accounts_commitment`.
        published: String,
    },
    /// The verifying key is not the trusted one, or does not decode.
    #[error("verifying key: {0}")]
    Key(String),
    /// The proof does not verify: the claim is not proven.
    #[error(
        "the proof does not verify against the public input computed from the epoch, the claim and the context: the claim is NOT proven"
    )]
    InvalidProof,
}

fn bad(field: &str, reason: impl ToString) -> AttestationVerifyError {
    AttestationVerifyError::Field {
        field: field.to_owned(),
        reason: reason.to_string(),
    }
}

/// The context element: SHA-256 of the context text, read big-endian, reduced mod r.
pub fn context_element(context: &str) -> Fr {
    Bn254Poseidon::from_be_bytes_mod_order(&Sha256::digest(context.as_bytes()))
}

/// SHA-256 of `statement.json`'s bytes, hex.
pub fn statement_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What a verified attestation establishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttestationReport {
    /// The epoch.
    pub epoch: u64,
    /// The accounts commitment the account is in.
    pub accounts_commitment: String,
    /// `R`.
    pub min_margin_ratio: String,
    /// `X` in quote units, if claimed.
    pub min_equity: Option<String>,
    /// The context text.
    pub context: String,
    /// The attestation circuit.
    pub shape: String,
    /// Whether the epoch uses risk model v2: the ratio is then on the margin value
    /// `MV` (collateral at its haircut, the tiered requirement), the equity on `TV`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub risk_model_v2: bool,
    /// The verifying key's hash.
    pub verifying_key_hash: String,
    /// Whether the key was given by the caller (else the file's own key was used,
    /// which whoever made it could forge proofs for).
    pub trusted_key: bool,
}

impl AttestationReport {
    /// One sentence: what is proven.
    pub fn claim_sentence(&self) -> String {
        let value = if self.risk_model_v2 {
            "margin value (collateral at its haircut)"
        } else {
            "total value"
        };
        let requirement = if self.risk_model_v2 {
            "tiered maintenance requirement"
        } else {
            "maintenance requirement"
        };
        let mut s = format!(
            "an account in epoch {}'s accounts commitment {} has {value} >= {} x its {requirement}",
            self.epoch, self.accounts_commitment, self.min_margin_ratio
        );
        if let Some(x) = &self.min_equity {
            s.push_str(&format!(" and total value >= {x} quote units"));
        }
        s
    }
}

/// The public input of an attestation, recomputed from the statement, the claim,
/// the context and the batch roots (which must chain to the published `a_K`).
pub fn public_input_for(
    statement: &EpochStatement,
    claim: &AttestationClaim,
    context: &str,
    batch_roots: &[String],
) -> Result<(Fr, Fr), AttestationVerifyError> {
    let file = statement.file();
    let published = Bn254Poseidon::from_hex(&file.accounts_commitment)
        .ok_or_else(|| bad("accounts_commitment", "statement.json: not a field element"))?;
    let roots = batch_roots
        .iter()
        .enumerate()
        .map(|(i, r)| {
            Bn254Poseidon::from_hex(r).ok_or_else(|| {
                bad(
                    &format!("batch_roots[{i}]"),
                    "not 0x + 64 hex digits encoding a canonical field element",
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if roots.len() as u64 != file.batch_count {
        return Err(bad(
            "batch_roots",
            format!(
                "{} roots, the epoch has {} batches",
                roots.len(),
                file.batch_count
            ),
        ));
    }
    let chained = chain_roots::<Bn254Poseidon>(file.epoch, &roots);
    if chained != published {
        return Err(AttestationVerifyError::Chain {
            computed: Bn254Poseidon::to_hex(&chained),
            published: file.accounts_commitment.clone(),
        });
    }
    let batch_size = BatchSize::new(file.shape.batch_size).map_err(|e| bad("batch_size", e))?;
    let tree_root = attestation_tree_root::<Bn254Poseidon>(batch_size, &roots)
        .map_err(|e| bad("batch_roots", e))?;
    let x = attestation_public_input::<Bn254Poseidon>(
        published,
        tree_root,
        params_hash::<Bn254Poseidon>(statement.params()),
        claim,
        context_element(context),
    );
    Ok((x, tree_root))
}

/// Checks an attestation against a published epoch: the statement it names (by
/// hash and commitment), the batch roots' chain to `a_K`, the key (the trusted one
/// when given, else the file's own), and the Groth16 proof against the public input
/// computed here.
pub fn verify_attestation(
    attestation: &AttestationFile,
    statement: &EpochStatement,
    statement_bytes: &[u8],
    trusted_key: Option<&VerifyingKey<Bn254>>,
) -> Result<AttestationReport, AttestationVerifyError> {
    let file = statement.file();
    if attestation.format != ATTESTATION_FORMAT {
        return Err(bad(
            "format",
            format!(
                "expected {ATTESTATION_FORMAT}, got {:?}",
                attestation.format
            ),
        ));
    }
    if file.backend != Backend::Groth16Bn254 || attestation.backend != Backend::Groth16Bn254 {
        return Err(bad(
            "backend",
            "margin attestations exist for groth16-bn254 epochs only",
        ));
    }
    if attestation.epoch != file.epoch {
        return Err(AttestationVerifyError::Epoch(format!(
            "it names epoch {}, the statement is epoch {}",
            attestation.epoch, file.epoch
        )));
    }
    if attestation.accounts_commitment != file.accounts_commitment {
        return Err(AttestationVerifyError::Epoch(format!(
            "it names accounts commitment {}, the statement publishes {}",
            attestation.accounts_commitment, file.accounts_commitment
        )));
    }
    let sha = statement_sha256(statement_bytes);
    if attestation.statement_sha256 != sha {
        return Err(AttestationVerifyError::Epoch(format!(
            "it names statement.json with SHA-256 {}, this one has {sha}",
            attestation.statement_sha256
        )));
    }
    if attestation.batch_size != file.shape.batch_size {
        return Err(bad(
            "batch_size",
            format!(
                "{} is not the epoch's batch size {}",
                attestation.batch_size, file.shape.batch_size
            ),
        ));
    }
    // The shape is the statement's (its markets, brackets and assets): the file's
    // is only compared with it.
    let shape = AttestationShape::for_params(statement.params()).map_err(|e| bad("shape", e))?;
    if attestation.shape != shape.id() {
        return Err(bad(
            "shape",
            format!(
                "{} is not the attestation circuit of this epoch ({})",
                attestation.shape,
                shape.id()
            ),
        ));
    }
    let claim = AttestationClaim::parse(
        &attestation.claim.min_margin_ratio,
        attestation.claim.min_equity.as_deref(),
        statement.params().quote_decimals(),
    )
    .map_err(|e| bad("claim", e))?;
    let (x, tree_root) = public_input_for(
        statement,
        &claim,
        &attestation.context,
        &attestation.batch_roots,
    )?;
    if attestation.tree_root != Bn254Poseidon::to_hex(&tree_root) {
        return Err(bad(
            "tree_root",
            "does not match the roots tree of the batch roots",
        ));
    }
    if attestation.public_input != Bn254Poseidon::to_hex(&x) {
        return Err(bad(
            "public_input",
            "does not match the public input computed from the epoch, the claim and the context",
        ));
    }
    let own_key = hex::decode(&attestation.verifying_key)
        .map_err(|e| bad("verifying_key", e))
        .and_then(|b| decode_verifying_key(&b).map_err(|e| bad("verifying_key", e)))?;
    let vk = match trusted_key {
        Some(k) => k.clone(),
        None => own_key,
    };
    let vk_hash = verifying_key_hash(&vk);
    if vk_hash != attestation.verifying_key_hash {
        return Err(AttestationVerifyError::Key(format!(
            "the attestation names key hash {}, the key used has {vk_hash}",
            attestation.verifying_key_hash
        )));
    }
    if vk.gamma_abc_g1.len() != 2 {
        return Err(AttestationVerifyError::Key(
            "expects another number of public inputs than the attestation circuit's 1".into(),
        ));
    }
    let proof = hex::decode(&attestation.proof)
        .map_err(|e| bad("proof", e))
        .and_then(|b| decode_proof(&b).map_err(|e| bad("proof", e)))?;
    match Groth16::<Bn254>::verify_proof(&prepare_verifying_key(&vk), &proof, &[x]) {
        Ok(true) => {}
        _ => return Err(AttestationVerifyError::InvalidProof),
    }
    Ok(AttestationReport {
        epoch: file.epoch,
        accounts_commitment: file.accounts_commitment.clone(),
        min_margin_ratio: claim.ratio_text(),
        min_equity: attestation
            .claim
            .min_equity
            .as_ref()
            .map(|_| claim.min_equity_text(statement.params().quote_decimals())),
        context: attestation.context.clone(),
        shape: attestation.shape.clone(),
        risk_model_v2: shape.is_risk_model_v2(),
        verifying_key_hash: vk_hash,
        trusted_key: trusted_key.is_some(),
    })
}
