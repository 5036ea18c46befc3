//! On-chain verification (`docs/ONCHAIN.md`): a Solidity Groth16 verifier generated
//! from a verifying key, an epoch contract that recomputes every public input from
//! the published statement, and the calldata that submits an epoch to it.
//!
//! * `backstop export solidity --keys DIR --out DIR` ([`export_solidity`]) writes
//!   ```text
//!   OUT_DIR/
//!     BackstopVerifier.sol   the key's verifier (ecAdd, ecMul, ecPairing precompiles)
//!     BackstopEpochs.sol     the epoch contract for the key's circuit shape
//!     poseidon-chunks.json   the Poseidon constants data contracts to deploy first
//!   ```
//! * `backstop export calldata EPOCH_DIR` prints [`epoch_calldata`], the calldata
//!   of `submitEpoch(statement, proofs, signature)` for an epoch directory, `0x` and
//!   hex.
//!
//! The templates are Backstop's own (`BackstopVerifier.sol.tmpl`,
//! `BackstopEpochs.sol.tmpl` beside this file); [`poseidon`] derives the constants of
//! the on-chain Poseidon, [`abi`] encodes calls.

pub mod abi;
pub mod poseidon;

use crate::error::ProverError;
use abi::{Token, be32, encode_call, selector};
use ark_bn254::{Bn254, Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ec::short_weierstrass::SWCurveConfig;
use ark_ff::PrimeField;
use ark_groth16::{Proof, VerifyingKey};
use backstop_circuits::decimal::parse_unsigned_u256;
use backstop_circuits::descriptor::symbol_word;
use backstop_circuits::hash::{Bn254Poseidon, FieldHasher};
use backstop_circuits::native::commit::{tag, tags};
use backstop_circuits::shape::CircuitShape;
use backstop_circuits::statement::{EpochStatement, StatementFile};
use backstop_verifier::artifacts::verifying_key_hash;
use backstop_verifier::{VerifyError, read_groth16_epoch};
use poseidon::{CHUNK_COUNT, CHUNK_WORDS, blob, deployment_code, keccak256};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The verifier's file in a Solidity export directory.
pub const VERIFIER_FILE: &str = "BackstopVerifier.sol";
/// The epoch contract's file in a Solidity export directory.
pub const EPOCHS_FILE: &str = "BackstopEpochs.sol";
/// The Poseidon data contracts' file in a Solidity export directory.
pub const CHUNKS_FILE: &str = "poseidon-chunks.json";

/// The epoch contract's submission function.
pub const SUBMIT_EPOCH: &str = "submitEpoch((address,uint64,uint8,uint128,uint128,(bytes32,uint64,uint8,uint8,uint16)[],uint256,uint256[],uint64[],uint256,bool,bool,bytes32,uint8,bool,uint256),uint256[8][],bytes)";
/// The verifier's function for one proof.
pub const VERIFY_PROOF: &str = "verifyProof(uint256[8],uint256)";
/// The verifier's function for all proofs of an epoch.
pub const VERIFY_BATCH: &str = "verifyBatch(uint256[8][],uint256[])";

const VERIFIER_TEMPLATE: &str = include_str!("BackstopVerifier.sol.tmpl");
const EPOCHS_TEMPLATE: &str = include_str!("BackstopEpochs.sol.tmpl");

/// The generated Solidity sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoliditySources {
    /// `BackstopVerifier.sol`: depends on the verifying key.
    pub verifier: String,
    /// `BackstopEpochs.sol`: depends on the circuit shape only.
    pub epochs: String,
}

/// One Poseidon constants data contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoseidonChunk {
    /// Its position in the epoch contract's constructor argument.
    pub index: usize,
    /// Keccak-256 of its code, `0x` + hex: what the epoch contract checks.
    pub code_hash: String,
    /// The creation code to deploy it (a contract-creation transaction's data).
    pub deployment_code: String,
}

/// `poseidon-chunks.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoseidonChunksFile {
    /// What these are.
    pub description: String,
    /// 32-byte words per data contract (after its leading `0x00`).
    pub chunk_words: usize,
    /// The data contracts, in order.
    pub chunks: Vec<PoseidonChunk>,
}

fn hex32(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn fq_hex(x: &Fq) -> String {
    hex32(&be32(x))
}

/// The words of a G1 point for the precompiles: `(x, y)`, `(0, 0)` at infinity.
fn g1_words(p: &G1Affine) -> [[u8; 32]; 2] {
    p.xy().map_or([[0; 32]; 2], |(x, y)| [be32(&x), be32(&y)])
}

/// The words of a G2 point for the precompiles: `(x.c1, x.c0, y.c1, y.c0)`, zeros at
/// infinity.
fn g2_words(p: &G2Affine) -> [[u8; 32]; 4] {
    p.xy().map_or([[0; 32]; 4], |(x, y)| {
        [be32(&x.c1), be32(&x.c0), be32(&y.c1), be32(&y.c0)]
    })
}

/// A proof as the verifier takes it: `[A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x,
/// C.y]`.
pub fn proof_words(proof: &Proof<Bn254>) -> [[u8; 32]; 8] {
    let [ax, ay] = g1_words(&proof.a);
    let [b0, b1, b2, b3] = g2_words(&proof.b);
    let [cx, cy] = g1_words(&proof.c);
    [ax, ay, b0, b1, b2, b3, cx, cy]
}

/// The `uint256[8]` token of a proof.
pub fn proof_token(proof: &Proof<Bn254>) -> Token {
    Token::FixedArray(proof_words(proof).into_iter().map(Token::Word).collect())
}

/// The word of a scalar field element.
pub fn fr_token(x: &Fr) -> Token {
    Token::Word(be32(x))
}

/// Fills `{{NAME}}` placeholders; an unknown or unfilled one is an error.
fn fill(template: &str, values: &[(&str, String)]) -> Result<String, ProverError> {
    let mut out = template.to_owned();
    for (name, value) in values {
        let key = format!("{{{{{name}}}}}");
        if !out.contains(&key) {
            return Err(ProverError::Export(format!("template has no {key}")));
        }
        out = out.replace(&key, value);
    }
    if let Some(at) = out.find("{{") {
        let rest: String = out[at..].chars().take(40).collect();
        return Err(ProverError::Export(format!(
            "unfilled template placeholder {rest}"
        )));
    }
    Ok(out)
}

fn selector_hex(signature: &str) -> String {
    format!("0x{}", hex::encode(selector(signature)))
}

/// The largest Poseidon width the parameters hash uses with `markets` markets: its
/// `2M` derived values are absorbed in chunks of at most 15 (`docs/SPEC.md` §5.5).
fn params_max_width(markets: usize) -> usize {
    if 2 * markets >= 15 {
        17
    } else {
        2 * markets + 2
    }
}

fn no_constants() -> ProverError {
    ProverError::Export("cannot derive the Poseidon constants".into())
}

/// Generates the verifier for `vk` and the epoch contract for `shape`.
pub fn solidity_sources(
    vk: &VerifyingKey<Bn254>,
    shape: CircuitShape,
) -> Result<SoliditySources, ProverError> {
    if vk.gamma_abc_g1.len() != 2 {
        return Err(ProverError::Export(format!(
            "the verifying key expects {} public inputs, the batch circuit has 1",
            vk.gamma_abc_g1.len().saturating_sub(1)
        )));
    }
    let vk_hash = verifying_key_hash(vk);
    let r = Fr::MODULUS.to_string();
    let q = Fq::MODULUS.to_string();
    let twist_b: Fq2 = ark_bn254::g2::Config::COEFF_B;
    let alpha = g1_words(&(-vk.alpha_g1));
    let beta = g2_words(&vk.beta_g2);
    let gamma = g2_words(&(-vk.gamma_g2));
    let delta = g2_words(&(-vk.delta_g2));
    let ic0 = g1_words(&vk.gamma_abc_g1[0]);
    let ic1 = g1_words(&vk.gamma_abc_g1[1]);
    let shape_id = shape.id();
    let b = shape.batch_size().get().to_string();
    let m = shape.markets().to_string();
    let verifier = fill(
        VERIFIER_TEMPLATE,
        &[
            ("VK_HASH_HEX", vk_hash.clone()),
            ("SHAPE", shape_id.clone()),
            ("VK_HASH", format!("0x{vk_hash}")),
            ("BATCH_SIZE", b.clone()),
            ("MARKETS", m.clone()),
            ("R", r.clone()),
            ("Q", q),
            ("TWIST_B_C0", fq_hex(&twist_b.c0)),
            ("TWIST_B_C1", fq_hex(&twist_b.c1)),
            ("ALPHA_NEG_X", hex32(&alpha[0])),
            ("ALPHA_NEG_Y", hex32(&alpha[1])),
            ("BETA_X_C1", hex32(&beta[0])),
            ("BETA_X_C0", hex32(&beta[1])),
            ("BETA_Y_C1", hex32(&beta[2])),
            ("BETA_Y_C0", hex32(&beta[3])),
            ("GAMMA_NEG_X_C1", hex32(&gamma[0])),
            ("GAMMA_NEG_X_C0", hex32(&gamma[1])),
            ("GAMMA_NEG_Y_C1", hex32(&gamma[2])),
            ("GAMMA_NEG_Y_C0", hex32(&gamma[3])),
            ("DELTA_NEG_X_C1", hex32(&delta[0])),
            ("DELTA_NEG_X_C0", hex32(&delta[1])),
            ("DELTA_NEG_Y_C1", hex32(&delta[2])),
            ("DELTA_NEG_Y_C0", hex32(&delta[3])),
            ("IC0_X", hex32(&ic0[0])),
            ("IC0_Y", hex32(&ic0[1])),
            ("IC1_X", hex32(&ic1[0])),
            ("IC1_Y", hex32(&ic1[1])),
            ("SEL_INPUT_NOT_IN_FIELD", selector_hex("InputNotInField()")),
            (
                "SEL_COORDINATE_NOT_IN_FIELD",
                selector_hex("CoordinateNotInField()"),
            ),
            ("SEL_POINT_NOT_ON_CURVE", selector_hex("PointNotOnCurve()")),
            ("SEL_PRECOMPILE_FAILED", selector_hex("PrecompileFailed()")),
        ],
    )?;

    let blob = blob().ok_or_else(no_constants)?;
    let chunk_hashes = blob
        .chunk_codes()
        .iter()
        .map(|code| format!("            bytes32({})", hex32(&keccak256(code))))
        .collect::<Vec<_>>()
        .join(",\n");
    let layout = blob
        .widths
        .iter()
        .map(|(k, offset)| {
            format!(
                "            case {} {{ offset := {offset} partialRounds := {} }}",
                k.width, k.partial_rounds
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let permutations: String = blob
        .widths
        .iter()
        .map(|(k, _)| poseidon::yul_permutation(k.width, k.partial_rounds))
        .collect();
    let permutation_cases = blob
        .widths
        .iter()
        .map(|(k, _)| format!("            case {t} {{ perm{t}(r) }}", t = k.width))
        .collect::<Vec<_>>()
        .join("\n");
    let tag_hex = |name: &str| hex32(&be32(&tag::<Bn254Poseidon>(name)));
    let epochs = fill(
        EPOCHS_TEMPLATE,
        &[
            ("SHAPE", shape_id),
            ("BATCH_SIZE", b),
            ("MARKETS", m),
            ("CHUNK_COUNT", CHUNK_COUNT.to_string()),
            ("CHUNK_WORDS", CHUNK_WORDS.to_string()),
            ("CHUNK_HASHES", chunk_hashes),
            ("LAYOUT_CASES", layout),
            ("PERMUTATIONS", permutations),
            ("PERMUTATION_CASES", permutation_cases),
            ("POSEIDON_LOADED", format!("{:#x}", poseidon::MEM_LOADED)),
            ("POSEIDON_STATE", format!("{:#x}", poseidon::MEM_STATE)),
            ("POSEIDON_SCRATCH", format!("{:#x}", poseidon::MEM_SCRATCH)),
            (
                "POSEIDON_CONSTANTS",
                format!("{:#x}", poseidon::MEM_CONSTANTS),
            ),
            (
                "PARAMS_MAX_WIDTH",
                params_max_width(shape.markets()).to_string(),
            ),
            ("R", r),
            ("TAG_ACCOUNTS", tag_hex(tags::ACCOUNTS)),
            ("TAG_STATE", tag_hex(tags::STATE)),
            ("TAG_PARAMS", tag_hex(tags::PARAMS)),
            ("TAG_OUTPUTS", tag_hex(tags::OUTPUTS)),
            ("TAG_BATCH", tag_hex(tags::BATCH)),
            ("SEL_POSEIDON_MEMORY", selector_hex("PoseidonMemory()")),
            (
                "SEL_POSEIDON_INPUT_COUNT",
                selector_hex("PoseidonInputCount(uint256)"),
            ),
        ],
    )?;
    Ok(SoliditySources { verifier, epochs })
}

/// The Poseidon constants data contracts (`poseidon-chunks.json`).
pub fn poseidon_chunks() -> Result<PoseidonChunksFile, ProverError> {
    let blob = blob().ok_or_else(no_constants)?;
    let chunks = blob
        .chunk_codes()
        .iter()
        .enumerate()
        .map(|(index, code)| PoseidonChunk {
            index,
            code_hash: hex32(&keccak256(code)),
            deployment_code: hex32(&deployment_code(code)),
        })
        .collect();
    Ok(PoseidonChunksFile {
        description: "circomlib Poseidon constants (BN254, widths 3..=17) for BackstopEpochs: \
                      deploy each deployment_code as a contract, then pass the addresses in \
                      order to the BackstopEpochs constructor. Independent of keys and shapes."
            .into(),
        chunk_words: CHUNK_WORDS,
        chunks,
    })
}

/// `backstop export solidity --keys DIR --out DIR`: writes the verifier, the epoch
/// contract and the Poseidon data contracts for the keys in `keys` into `out`
/// (replacing a previous export there, and refusing a directory that holds anything
/// else).
pub fn export_solidity(keys: &Path, out: &Path) -> Result<(), ProverError> {
    let (shape, vk) = crate::keys::read_verifying_key(keys)?;
    let sources = solidity_sources(&vk, shape)?;
    let chunks = poseidon_chunks()?;
    let mut chunks_json =
        serde_json::to_vec_pretty(&chunks).map_err(|e| ProverError::Export(e.to_string()))?;
    chunks_json.push(b'\n');
    crate::output::write_export_dir(
        out,
        &[
            (VERIFIER_FILE, sources.verifier.into_bytes()),
            (EPOCHS_FILE, sources.epochs.into_bytes()),
            (CHUNKS_FILE, chunks_json),
        ],
        "a Solidity export",
        |name| EXPORT_FILES.contains(&name),
    )?;
    eprintln!(
        "wrote {VERIFIER_FILE} (verifying key {}), {EPOCHS_FILE} (shape {}) and {CHUNKS_FILE} \
         ({} data contracts) to {}; compile with `node scripts/node/compile-solidity.mjs {}` \
         (docs/ONCHAIN.md)",
        verifying_key_hash(&vk),
        shape.id(),
        chunks.chunks.len(),
        out.display(),
        out.display()
    );
    Ok(())
}

// ---- calldata ---------------------------------------------------------------------

fn statement_error(field: &str, reason: impl ToString) -> ProverError {
    VerifyError::from(backstop_circuits::statement::StatementError::Field {
        field: field.into(),
        reason: reason.to_string(),
    })
    .into()
}

fn element_token(field: &str, text: &str) -> Result<Token, ProverError> {
    let x = Bn254Poseidon::from_hex(text)
        .ok_or_else(|| statement_error(field, "not a canonical field element"))?;
    Ok(fr_token(&x))
}

/// The `Statement` tuple of the epoch contract for a validated statement.
pub fn statement_token(statement: &EpochStatement) -> Result<Token, ProverError> {
    let file: &StatementFile = statement.file();
    let params = statement.params();
    let markets = params
        .markets()
        .iter()
        .map(|m| {
            Token::Tuple(vec![
                Token::Word(symbol_word(m.symbol())),
                Token::uint(m.price().get().into()),
                Token::uint(m.price_decimals().into()),
                Token::uint(m.size_decimals().into()),
                Token::uint(m.maintenance_margin_bps().get().into()),
            ])
        })
        .collect();
    let states = file
        .state_commitments
        .iter()
        .enumerate()
        .map(|(i, c)| element_token(&format!("state_commitments[{i}]"), c))
        .collect::<Result<Vec<_>, _>>()?;
    let bad_debt = parse_unsigned_u256(
        &file.bad_debt,
        params.common_exponent(),
        "D < 2^226 common units",
    )
    .map_err(|e| statement_error("bad_debt", e))?;
    let liabilities = statement.liabilities().map(|l| l.as_u256());
    let mut vk_hash = [0u8; 32];
    hex::decode_to_slice(&file.verifying_key_hash, &mut vk_hash)
        .map_err(|e| statement_error("verifying_key_hash", e))?;
    let mut venue = [0u8; 32];
    venue[12..].copy_from_slice(&statement.venue().0);
    Ok(Token::Tuple(vec![
        Token::Word(venue),
        Token::uint(file.epoch.into()),
        Token::uint(file.quote_decimals.into()),
        Token::uint(params.reserves()),
        Token::uint(params.insurance_fund()),
        Token::Array(markets),
        element_token("accounts_commitment", &file.accounts_commitment)?,
        Token::Array(states),
        Token::Array(
            statement
                .liquidations()
                .iter()
                .map(|id| Token::uint(id.get().into()))
                .collect(),
        ),
        Token::Word(bad_debt.to_be_bytes()),
        Token::bool(file.solvent),
        Token::bool(file.insurance_covered),
        Token::Word(vk_hash),
        Token::uint(params.owner_binding().code().into()),
        Token::bool(liabilities.is_some()),
        Token::Word(liabilities.unwrap_or_default().to_be_bytes()),
    ]))
}

/// The `bytes` token of the statement's signature (`r ‖ s ‖ v`), empty for an
/// unsigned statement (which only the venue or a registered submitter can submit).
pub fn signature_token(statement: &EpochStatement) -> Result<Token, ProverError> {
    match statement.file().signature.as_deref() {
        None => Ok(Token::Bytes(Vec::new())),
        Some(text) => backstop_circuits::json::lower_hex_bytes::<65>(text)
            .map(|bytes| Token::Bytes(bytes.to_vec()))
            .ok_or_else(|| statement_error("signature", "not 0x + 130 lowercase hex digits")),
    }
}

/// The calldata of `submitEpoch(statement, proofs, signature)`, with the statement's
/// own signature.
pub fn submit_calldata(
    statement: &EpochStatement,
    proofs: &[Proof<Bn254>],
) -> Result<Vec<u8>, ProverError> {
    Ok(encode_call(
        SUBMIT_EPOCH,
        &[
            statement_token(statement)?,
            Token::Array(proofs.iter().map(proof_token).collect()),
            signature_token(statement)?,
        ],
    ))
}

/// Reads an epoch directory and returns the calldata that submits it: the statement
/// is validated, the directory's verifying key must be the one it names, and every
/// batch must have a well-formed proof. The proofs are not verified here (the
/// contract does that; `backstop verify` does it off chain).
pub fn epoch_calldata(epoch_dir: &Path) -> Result<Vec<u8>, ProverError> {
    let epoch = read_groth16_epoch(epoch_dir)?;
    submit_calldata(&epoch.statement, &epoch.proofs)
}

// ---- the export directory -----------------------------------------------------------

const EXPORT_FILES: [&str; 3] = [VERIFIER_FILE, EPOCHS_FILE, CHUNKS_FILE];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_width_follows_the_chunking() {
        assert_eq!(params_max_width(1), 4);
        assert_eq!(params_max_width(2), 6);
        assert_eq!(params_max_width(7), 16);
        assert_eq!(params_max_width(8), 17);
        assert_eq!(params_max_width(64), 17);
    }

    #[test]
    fn fill_refuses_unknown_and_unfilled_placeholders() {
        assert!(fill("a {{X}} b", &[("X", "1".into())]).is_ok());
        assert!(fill("a {{X}} b", &[("Y", "1".into())]).is_err());
        assert!(fill("a {{X}} {{Z}}", &[("X", "1".into())]).is_err());
    }
}
