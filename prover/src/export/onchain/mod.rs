//! On-chain verification (`docs/ONCHAIN.md`): a Solidity Groth16 verifier generated
//! from a verifying key, an epoch contract that recomputes every public input from
//! the published statement, and the calldata that submits an epoch to it.
//!
//! * `backstop export solidity --keys DIR --out DIR [--epoch DIR] [--solc PATH]`
//!   ([`export_solidity`]) writes the Foundry project of [`foundry`]: among others
//!   `src/BackstopVerifier.sol` (the key's verifier: ecAdd, ecMul, ecPairing
//!   precompiles), `src/BackstopEpochs.sol` (the epoch contract for the key's circuit
//!   shape) and [`manifest`]'s `deployment.json`, compiled by [`compile`].
//! * `backstop export calldata EPOCH_DIR` prints [`epoch_calldata`], the calldata
//!   of `submitEpoch(statement, proofs, signature)` for an epoch directory, `0x` and
//!   hex; [`submit_batches_calldata`] and [`finalize_calldata`] encode a chunked
//!   submission.
//!
//! The templates are Backstop's own (`BackstopVerifier.sol.tmpl`,
//! `BackstopEpochs.sol.tmpl` beside this file); [`abi`] encodes calls. Nothing on
//! chain hashes with Poseidon: the public inputs are open (`docs/SPEC.md` §6.4).

pub mod abi;
pub mod compile;
pub mod foundry;
pub mod manifest;

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
use backstop_circuits::inputs::{
    OPEN_CHAIN, open_input_count, packed_word_count, shape_input_count,
};
use backstop_circuits::shape::CircuitShape;
use backstop_circuits::statement::{EpochStatement, StatementFile};
use backstop_verifier::artifacts::verifying_key_hash;
use backstop_verifier::{VerifyError, read_groth16_epoch};
use std::path::Path;

/// The `Statement` tuple of a risk model v1 epoch contract (`IBackstopEpochs.sol`).
macro_rules! statement_v1 {
    () => {
        "(address,uint64,uint8,uint128,uint128,(bytes32,uint64,uint8,uint8,uint16)[],uint256,uint256[],uint64[],uint256,bool,bool,bytes32,uint8,bool,uint256)"
    };
}
/// The `Statement` tuple of a risk model v2 epoch contract: the v1 members, then
/// `Tier[][] tiers`, `Asset[] assets`, `bool[] assetSolvency` and `uint256[]
/// assetDisclosures`.
macro_rules! statement_v2 {
    () => {
        "(address,uint64,uint8,uint128,uint128,(bytes32,uint64,uint8,uint8,uint16)[],uint256,uint256[],uint64[],uint256,bool,bool,bytes32,uint8,bool,uint256,(uint64,uint16)[][],(bytes32,uint64,uint8,uint8,uint16,uint128)[],bool[],uint256[])"
    };
}
/// The epoch contract's submission function (risk model v1 shapes).
pub const SUBMIT_EPOCH: &str = concat!("submitEpoch(", statement_v1!(), ",uint256[8][],bytes)");
/// The epoch contract's chunked submission: one chunk of batch proofs (risk model v1).
pub const SUBMIT_BATCHES: &str = concat!(
    "submitBatches(",
    statement_v1!(),
    ",uint256,uint256[8][],bytes)"
);
/// The epoch contract's chunked submission: recording the epoch once every chunk is
/// in (risk model v1).
pub const FINALIZE_EPOCH: &str = concat!("finalizeEpoch(", statement_v1!(), ")");
/// [`SUBMIT_EPOCH`] of a risk model v2 shape's contract.
pub const SUBMIT_EPOCH_V2: &str = concat!("submitEpoch(", statement_v2!(), ",uint256[8][],bytes)");
/// [`SUBMIT_BATCHES`] of a risk model v2 shape's contract.
pub const SUBMIT_BATCHES_V2: &str = concat!(
    "submitBatches(",
    statement_v2!(),
    ",uint256,uint256[8][],bytes)"
);
/// [`FINALIZE_EPOCH`] of a risk model v2 shape's contract.
pub const FINALIZE_EPOCH_V2: &str = concat!("finalizeEpoch(", statement_v2!(), ")");
/// `publicInputs(Statement)` of a risk model v1 shape's contract.
pub const PUBLIC_INPUTS: &str = concat!("publicInputs(", statement_v1!(), ")");
/// `publicInputs(Statement)` of a risk model v2 shape's contract.
pub const PUBLIC_INPUTS_V2: &str = concat!("publicInputs(", statement_v2!(), ")");
/// `hashStatement(Statement)` of a risk model v1 shape's contract.
pub const HASH_STATEMENT: &str = concat!("hashStatement(", statement_v1!(), ")");
/// `hashStatement(Statement)` of a risk model v2 shape's contract.
pub const HASH_STATEMENT_V2: &str = concat!("hashStatement(", statement_v2!(), ")");

/// The members a waterfall shape's `Statement` appends after the v1 (or v2) ones:
/// `uint16[] liquidationFeeBps`, `uint256 liquidationFees` (`F'`), `uint32
/// haircutPpb` and `bool shortfall` (`docs/SPEC.md` §2.4).
const WATERFALL_MEMBERS: &str = ",uint16[],uint256,uint32,bool";

/// The `Statement` tuple type of `shape`'s epoch contract: the v1 members, then the
/// risk model v2 members for a v2 shape, then the waterfall members for a `.W` shape.
pub fn statement_type(shape: CircuitShape) -> String {
    let base = if shape.is_risk_model_v2() {
        statement_v2!()
    } else {
        statement_v1!()
    };
    if !shape.has_waterfall() {
        return base.to_owned();
    }
    let open = &base[..base.len() - 1];
    format!("{open}{WATERFALL_MEMBERS})")
}

/// A function of the epoch contract as `shape`'s contract declares it: `name(` the
/// shape's `Statement` tuple, then `rest` (the other parameters, each after a comma)
/// and `)`. For a v1 or v2 shape without the waterfall it is the corresponding
/// constant ([`SUBMIT_EPOCH`], [`SUBMIT_EPOCH_V2`], …).
pub fn statement_function(shape: CircuitShape, name: &str, rest: &str) -> String {
    format!("{name}({}{rest})", statement_type(shape))
}

/// The submission function of `shape`'s epoch contract ([`SUBMIT_EPOCH`] or
/// [`SUBMIT_EPOCH_V2`], or their waterfall form).
pub fn submit_epoch_function(shape: CircuitShape) -> String {
    statement_function(shape, "submitEpoch", ",uint256[8][],bytes")
}

/// The chunked submission function of `shape`'s epoch contract.
pub fn submit_batches_function(shape: CircuitShape) -> String {
    statement_function(shape, "submitBatches", ",uint256,uint256[8][],bytes")
}

/// The finalization function of `shape`'s epoch contract.
pub fn finalize_epoch_function(shape: CircuitShape) -> String {
    statement_function(shape, "finalizeEpoch", "")
}

/// The verifier's function for one proof, for `markets` markets.
pub fn verify_proof_signature(markets: usize) -> String {
    format!(
        "verifyProof(uint256[8],uint256[{}])",
        open_input_count(markets)
    )
}
/// The verifier's function for all proofs of an epoch, for `markets` markets.
pub fn verify_batch_signature(markets: usize) -> String {
    format!(
        "verifyBatch(uint256[8][],uint256[{}],uint256[])",
        shared_input_count(markets)
    )
}

/// The verifier's function for a consecutive range of an epoch's proofs.
pub fn verify_batch_range_signature(markets: usize) -> String {
    format!(
        "verifyBatchRange(uint256[8][],uint256[{}],uint256[],uint256)",
        shared_input_count(markets)
    )
}

/// The public inputs every batch of an epoch shares (`docs/SPEC.md` §6.4), for a risk
/// model v1 shape of `markets` markets.
pub fn shared_input_count(markets: usize) -> usize {
    open_input_count(markets) - OPEN_CHAIN
}

/// The public inputs every batch of an epoch of `shape` shares.
pub fn shape_shared_input_count(shape: &CircuitShape) -> usize {
    shape_input_count(shape) - OPEN_CHAIN
}

/// Keeps or drops a template's sections: for each `(name, on)` of `kinds`, the lines
/// between `{{#name}}` and `{{/name}}` are kept only when `on`, those between
/// `{{^name}}` and `{{/name}}` only when not; the marker lines go. Sections nest (a
/// line is kept when every section around it is) and close in order. So a shape
/// without a kind's feature gets the template as it was before that feature: the
/// `risk` sections (risk model v2) and the `waterfall` sections (`docs/SPEC.md`
/// §2.4).
fn sections(template: &str, kinds: &[(&str, bool)]) -> Result<String, ProverError> {
    let mut out = String::with_capacity(template.len());
    // The open sections: name and whether their lines are kept.
    let mut open: Vec<(&str, bool)> = Vec::new();
    for line in template.split_inclusive('\n') {
        let trimmed = line.trim_end();
        let marker = trimmed
            .strip_prefix("{{")
            .and_then(|t| t.strip_suffix("}}"))
            .and_then(|t| {
                let (sigil, name) = t.split_at_checked(1)?;
                matches!(sigil, "#" | "^" | "/").then_some((sigil, name))
            });
        let Some((sigil, name)) = marker else {
            if open.iter().all(|(_, keep)| *keep) {
                out.push_str(line);
            }
            continue;
        };
        let on = kinds
            .iter()
            .find(|(kind, _)| *kind == name)
            .map(|(_, on)| *on)
            .ok_or_else(|| ProverError::Export(format!("unknown template section {trimmed}")))?;
        match sigil {
            "/" => match open.pop() {
                Some((opened, _)) if opened == name => {}
                _ => {
                    return Err(ProverError::Export(format!(
                        "template section marker {trimmed} out of place"
                    )));
                }
            },
            _ => {
                if open.iter().any(|(opened, _)| *opened == name) {
                    return Err(ProverError::Export(format!(
                        "template section marker {trimmed} out of place"
                    )));
                }
                open.push((name, if sigil == "#" { on } else { !on }));
            }
        }
    }
    if !open.is_empty() {
        return Err(ProverError::Export("template section not closed".into()));
    }
    Ok(out)
}

/// The sections of `shape`'s templates.
fn shape_sections(template: &str, shape: CircuitShape) -> Result<String, ProverError> {
    sections(
        template,
        &[
            ("risk", shape.is_risk_model_v2()),
            ("waterfall", shape.has_waterfall()),
        ],
    )
}

/// `src/IBackstopEpochs.sol` for `shape`: the same for every risk model v1 shape, and
/// for every risk model v2 shape its `Statement` with brackets, assets and flags, and
/// the per-asset reads.
pub fn interface_source(shape: CircuitShape) -> Result<String, ProverError> {
    shape_sections(INTERFACE_TEMPLATE, shape)
}

const VERIFIER_TEMPLATE: &str = include_str!("BackstopVerifier.sol.tmpl");
const EPOCHS_TEMPLATE: &str = include_str!("BackstopEpochs.sol.tmpl");
const INTERFACE_TEMPLATE: &str = include_str!("foundry/src/IBackstopEpochs.sol.tmpl");

/// The generated Solidity sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoliditySources {
    /// `BackstopVerifier.sol`: depends on the verifying key.
    pub verifier: String,
    /// `BackstopEpochs.sol`: depends on the circuit shape only.
    pub epochs: String,
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

/// The fee rates in the waterfall run's second word, beside `h` and `shortfall`
/// (`31 + 15 · 14 ≤ 249` bits); every later word holds 17 (`17 · 14 = 238`).
const WATERFALL_FIRST_RATES: usize = 15;

/// The largest Poseidon width the parameters hash uses with `markets` markets: its
/// `2M` derived values are absorbed in chunks of at most 15 (`docs/SPEC.md` §5.5).
/// Generates the verifier for `vk` and the epoch contract for `shape`.
pub fn solidity_sources(
    vk: &VerifyingKey<Bn254>,
    shape: CircuitShape,
) -> Result<SoliditySources, ProverError> {
    let risk = shape.is_risk_model_v2();
    let inputs = shape_input_count(&shape);
    if vk.gamma_abc_g1.len() != inputs + 1 {
        return Err(ProverError::Export(format!(
            "the verifying key expects {} public inputs, the batch circuit of shape {} has {inputs}",
            vk.gamma_abc_g1.len().saturating_sub(1),
            shape.id()
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
    let mut ic_constants = String::new();
    let mut ic_terms = Vec::new();
    for (j, point) in vk.gamma_abc_g1.iter().enumerate() {
        let [x, y] = g1_words(point);
        ic_constants.push_str(&format!(
            "    uint256 internal constant IC{j}_X = {};\n    uint256 internal constant IC{j}_Y = {};\n",
            hex32(&x),
            hex32(&y)
        ));
        ic_terms.push(format!(
            "            term(s, IC{j}_X, IC{j}_Y, mload(add(sc, {:#x})))",
            32 * j
        ));
    }
    let input_count = inputs.to_string();
    let shared_count = shape_shared_input_count(&shape).to_string();
    let shape_id = shape.id();
    let b = shape.batch_size().get().to_string();
    let m = shape.markets().to_string();
    // Only a risk model v2 template has these placeholders.
    let risk_values = |mut values: Vec<(&'static str, String)>| {
        if risk {
            values.push(("BRACKETS", shape.brackets().to_string()));
            values.push(("ASSETS", shape.assets().to_string()));
        }
        values
    };
    let verifier = fill(
        &shape_sections(VERIFIER_TEMPLATE, shape)?,
        &risk_values(vec![
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
            ("INPUT_COUNT", input_count.clone()),
            ("SHARED_COUNT", shared_count.clone()),
            ("IC_CONSTANTS", ic_constants.trim_end().to_owned()),
            ("IC_TERMS", ic_terms.join("\n")),
            (
                "SEL_COORDINATE_NOT_IN_FIELD",
                selector_hex("CoordinateNotInField()"),
            ),
            ("SEL_POINT_NOT_ON_CURVE", selector_hex("PointNotOnCurve()")),
            ("SEL_PRECOMPILE_FAILED", selector_hex("PrecompileFailed()")),
        ]),
    )?;

    let mut epoch_values = risk_values(vec![
        ("SHAPE", shape_id),
        ("BATCH_SIZE", b),
        ("MARKETS", m),
        ("INPUT_COUNT", input_count),
        ("SHARED_COUNT", shared_count),
        (
            "MARKET_WORDS",
            (packed_word_count(shape.markets()) - 2).to_string(),
        ),
        ("R", r),
    ]);
    if risk {
        // The brackets after each market's first, three to a word (SPEC §6.4).
        let tier_words = (shape.markets() * (shape.brackets() - 1)).div_ceil(3);
        epoch_values.push(("TIER_WORDS", tier_words.to_string()));
    }
    if shape.has_waterfall() {
        // F' alone, then h ‖ shortfall and 15 rates, then 17 rates per word (SPEC §6.4).
        let words = 2 + shape
            .markets()
            .saturating_sub(WATERFALL_FIRST_RATES)
            .div_ceil(17);
        epoch_values.push(("WATERFALL_WORDS", words.to_string()));
    }
    let epochs = fill(&shape_sections(EPOCHS_TEMPLATE, shape)?, &epoch_values)?;
    Ok(SoliditySources { verifier, epochs })
}

/// What `backstop export solidity` is given.
#[derive(Debug, Clone, Copy)]
pub struct SolidityExport<'a> {
    /// The keys directory.
    pub keys: &'a Path,
    /// The project directory to write.
    pub out: &'a Path,
    /// A proven epoch of these keys for the forge tests (`test/EpochFixture.sol`).
    pub epoch: Option<&'a Path>,
    /// The `solc` to compile `deployment.json`'s creation code with
    /// ([`compile::find_solc`]).
    pub solc: Option<&'a Path>,
}

/// `backstop export solidity --keys DIR --out DIR [--epoch DIR] [--solc PATH]`:
/// writes the Foundry project of [`foundry`] for the keys in `keys` into `out`: the
/// generated verifier and epoch contract, the static interface, example, tests and
/// script, `deployment.json` (compiled with `solc`), and with `epoch` (verified
/// first, against these keys) the tests' fixture; without it, the tests that need a
/// fixture are left out. `out` is replaced atomically, and only if it holds nothing
/// but an earlier export and forge's build directories.
pub fn export_solidity(args: SolidityExport<'_>) -> Result<(), ProverError> {
    let (shape, vk) = crate::keys::read_verifying_key(args.keys)?;
    let vk_hash = verifying_key_hash(&vk);
    let sources = solidity_sources(&vk, shape)?;
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (foundry::VERIFIER_PATH.into(), sources.verifier.into_bytes()),
        (foundry::EPOCHS_PATH.into(), sources.epochs.into_bytes()),
        (
            foundry::INTERFACE_PATH.into(),
            interface_source(shape)?.into_bytes(),
        ),
    ];
    for (path, text) in foundry::STATIC_FILES {
        // The tests that need the fixture need an epoch; the risk model v2 tests
        // compile only against a v2 shape's interface, the waterfall tests only
        // against a waterfall shape's.
        if args.epoch.is_none() && foundry::FIXTURE_TESTS.contains(&path)
            || path == foundry::RISK_V2_TESTS && !shape.is_risk_model_v2()
            || path == foundry::WATERFALL_TESTS && !shape.has_waterfall()
        {
            continue;
        }
        files.push((path.into(), text.as_bytes().to_vec()));
    }
    if let Some(epoch_dir) = args.epoch {
        backstop_verifier::verify_epoch_dir(epoch_dir, Some(&vk))?;
        let epoch = read_groth16_epoch(epoch_dir)?;
        let fixture = foundry::epoch_fixture(&epoch.statement, &epoch.proofs)?;
        files.push((foundry::FIXTURE_PATH.into(), fixture.into_bytes()));
    }
    let solc = compile::find_solc(args.solc)?;
    let contract_sources: Vec<(String, String)> = files
        .iter()
        .filter(|(path, _)| path.starts_with("src/") && path.ends_with(".sol"))
        .map(|(path, bytes)| (path.clone(), String::from_utf8_lossy(bytes).into_owned()))
        .collect();
    let compiled = compile::compile(&solc, &contract_sources)?;
    let deployment = manifest::Deployment::new(&compiled, &shape.id(), &vk_hash.to_string())?;
    files.push((
        manifest::DEPLOYMENT_FILE.into(),
        crate::output::json_bytes(&deployment),
    ));
    let ours: Vec<String> = files.iter().map(|(p, _)| p.clone()).collect();
    crate::output::write_export_tree(args.out, &files, "a Solidity export", |path, is_dir| {
        if is_dir {
            return foundry::BUILD_DIRS.contains(&path);
        }
        ours.iter().any(|p| p == path)
            || foundry::FIXTURE_TESTS.contains(&path)
            || path == foundry::FIXTURE_PATH
    })?;
    eprintln!(
        "wrote a Foundry project for verifying key {vk_hash} (shape {}) to {}: src/, test/{}, \
         script/, {} (compiled with solc {}); run `forge test` there (docs/ONCHAIN.md)",
        shape.id(),
        args.out.display(),
        if args.epoch.is_some() {
            ""
        } else {
            " (no epoch given: no epoch tests)"
        },
        manifest::DEPLOYMENT_FILE,
        compiled.version,
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

/// The `Statement` tuple of the epoch contract for a validated statement; for a risk
/// model v2 shape, with its brackets, assets and per-asset flags (the contract of that
/// shape takes exactly this tuple).
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
    let mut members = vec![
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
    ];
    if statement.shape().is_risk_model_v2() {
        members.extend(risk_tokens(statement));
    }
    if statement.shape().has_waterfall() {
        members.extend(waterfall_tokens(statement)?);
    }
    Ok(Token::Tuple(members))
}

/// The risk model v2 members of the `Statement` tuple: per market its tiers
/// `(notionalFloor, maintenanceMarginBps)`, the assets `(symbol, price,
/// priceDecimals, amountDecimals, collateralRatioBps, reserves)`, the asset flags
/// and the assets' disclosure words `ℓ_c` (0 hidden, `h_c + 1` disclosed; SPEC §6.4),
/// in declaration order.
fn risk_tokens(statement: &EpochStatement) -> [Token; 4] {
    let params = statement.params();
    let tiers = (params.markets().iter())
        .map(|m| {
            Token::Array(
                (m.tiers().iter())
                    .map(|t| {
                        Token::Tuple(vec![
                            Token::uint(t.notional_floor().into()),
                            Token::uint(t.maintenance_margin_bps().get().into()),
                        ])
                    })
                    .collect(),
            )
        })
        .collect();
    let assets = (params.assets().iter())
        .map(|a| {
            Token::Tuple(vec![
                Token::Word(symbol_word(a.symbol())),
                Token::uint(a.price().get().into()),
                Token::uint(a.price_decimals().into()),
                Token::uint(a.amount_decimals().into()),
                Token::uint(a.collateral_ratio_bps().get().into()),
                Token::uint(a.reserves()),
            ])
        })
        .collect();
    let flags = (statement.outputs().asset_solvency.0.iter())
        .map(|(_, ok)| Token::bool(*ok))
        .collect();
    let disclosures = (statement.asset_totals().iter())
        .map(|total| Token::uint(total.map_or(0, |h| h + 1)))
        .collect();
    [
        Token::Array(tiers),
        Token::Array(assets),
        Token::Array(flags),
        Token::Array(disclosures),
    ]
}

/// The waterfall members of the `Statement` tuple (`docs/SPEC.md` §2.4, §6.4): the
/// markets' fee rates in declaration order, `F'` (`liquidation_fees` in units of
/// `10^−(E+4)` quote), `h` and `shortfall`. The statement was validated: the six
/// waterfall fields are present and consistent.
fn waterfall_tokens(statement: &EpochStatement) -> Result<[Token; 4], ProverError> {
    use backstop_circuits::native::waterfall::AMOUNT_EXTRA_DECIMALS;
    let file = statement.file();
    let params = statement.params();
    let missing = |field: &str| statement_error(field, "missing: the shape has the waterfall");
    let fees_text = file
        .liquidation_fees
        .as_deref()
        .ok_or_else(|| missing("liquidation_fees"))?;
    let fees = parse_unsigned_u256(
        fees_text,
        params.common_exponent() + AMOUNT_EXTRA_DECIMALS,
        "F < 2^240 units of 10^-(E+4)",
    )
    .map_err(|e| statement_error("liquidation_fees", e))?;
    let ppb = file.haircut_ppb.ok_or_else(|| missing("haircut_ppb"))?;
    let shortfall = file.shortfall.ok_or_else(|| missing("shortfall"))?;
    let rates = (params.markets().iter())
        .map(|m| Token::uint(m.liquidation_fee_bps().get().into()))
        .collect();
    Ok([
        Token::Array(rates),
        Token::Word(fees.to_be_bytes()),
        Token::uint(ppb.into()),
        Token::bool(shortfall),
    ])
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
        &submit_epoch_function(statement.shape()),
        &[
            statement_token(statement)?,
            Token::Array(proofs.iter().map(proof_token).collect()),
            signature_token(statement)?,
        ],
    ))
}

/// The calldata of `submitBatches(statement, first, proofs[first..first + n],
/// signature)`: one chunk of a chunked submission (docs/ONCHAIN.md), with the
/// statement's own signature. `range` must lie within the proofs.
pub fn submit_batches_calldata(
    statement: &EpochStatement,
    proofs: &[Proof<Bn254>],
    range: std::ops::Range<usize>,
) -> Result<Vec<u8>, ProverError> {
    let chunk = proofs
        .get(range.clone())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            ProverError::Export(format!(
                "chunk {range:?} is not a non-empty range of the {} proofs",
                proofs.len()
            ))
        })?;
    Ok(encode_call(
        &submit_batches_function(statement.shape()),
        &[
            statement_token(statement)?,
            Token::uint(range.start as u128),
            Token::Array(chunk.iter().map(proof_token).collect()),
            signature_token(statement)?,
        ],
    ))
}

/// The calldata of `finalizeEpoch(statement)`.
pub fn finalize_calldata(statement: &EpochStatement) -> Result<Vec<u8>, ProverError> {
    Ok(encode_call(
        &finalize_epoch_function(statement.shape()),
        &[statement_token(statement)?],
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

#[cfg(test)]
mod tests {
    use super::*;

    fn risk_sections(t: &str, risk: bool) -> Result<String, ProverError> {
        sections(t, &[("risk", risk)])
    }

    #[test]
    fn risk_sections_keep_one_side() {
        let t = "a\n{{#risk}}\nv2\n{{/risk}}\n{{^risk}}\nv1\n{{/risk}}\nb\n";
        assert_eq!(risk_sections(t, false).unwrap(), "a\nv1\nb\n");
        assert_eq!(risk_sections(t, true).unwrap(), "a\nv2\nb\n");
        assert!(risk_sections("{{#risk}}\n{{#risk}}\n", true).is_err());
        assert!(risk_sections("{{#risk}}\n", true).is_err());
        assert!(risk_sections("{{/risk}}\n", true).is_err());
        assert!(risk_sections("{{#other}}\n{{/other}}\n", true).is_err());
    }

    #[test]
    fn sections_nest() {
        let t = "a\n{{#waterfall}}\nw\n{{^risk}}\nw1\n{{/risk}}\n{{#risk}}\nw2\n{{/risk}}\n{{/waterfall}}\n{{^waterfall}}\n{{#risk}}\nv2\n{{/risk}}\n{{/waterfall}}\nb\n";
        let run =
            |risk, waterfall| sections(t, &[("risk", risk), ("waterfall", waterfall)]).unwrap();
        assert_eq!(run(false, false), "a\nb\n");
        assert_eq!(run(true, false), "a\nv2\nb\n");
        assert_eq!(run(false, true), "a\nw\nw1\nb\n");
        assert_eq!(run(true, true), "a\nw\nw2\nb\n");
        let kinds = [("risk", true), ("waterfall", true)];
        assert!(
            sections(
                "{{#risk}}\n{{#waterfall}}\n{{/risk}}\n{{/waterfall}}\n",
                &kinds
            )
            .is_err()
        );
    }

    #[test]
    fn statement_types_of_v1_and_v2_are_the_constants() {
        let v1 = CircuitShape::new(8, 2).unwrap();
        let v2 = CircuitShape::with_risk(8, 2, 3, 2).unwrap();
        assert_eq!(submit_epoch_function(v1), SUBMIT_EPOCH);
        assert_eq!(submit_batches_function(v1), SUBMIT_BATCHES);
        assert_eq!(finalize_epoch_function(v1), FINALIZE_EPOCH);
        assert_eq!(submit_epoch_function(v2), SUBMIT_EPOCH_V2);
        assert_eq!(submit_batches_function(v2), SUBMIT_BATCHES_V2);
        assert_eq!(finalize_epoch_function(v2), FINALIZE_EPOCH_V2);
        assert_eq!(statement_function(v1, "publicInputs", ""), PUBLIC_INPUTS);
        assert_eq!(
            statement_function(v2, "hashStatement", ""),
            HASH_STATEMENT_V2
        );
        let w = v1.with_waterfall(true);
        assert_eq!(
            statement_type(w),
            concat!(
                "(address,uint64,uint8,uint128,uint128,(bytes32,uint64,uint8,uint8,uint16)[],uint256,uint256[],uint64[],uint256,bool,bool,bytes32,uint8,bool,uint256",
                ",uint16[],uint256,uint32,bool)"
            )
        );
        assert!(
            statement_type(v2.with_waterfall(true))
                .ends_with(",bool[],uint256[],uint16[],uint256,uint32,bool)")
        );
    }

    #[test]
    fn fill_refuses_unknown_and_unfilled_placeholders() {
        assert!(fill("a {{X}} b", &[("X", "1".into())]).is_ok());
        assert!(fill("a {{X}} b", &[("Y", "1".into())]).is_err());
        assert!(fill("a {{X}} {{Z}}", &[("X", "1".into())]).is_err());
    }
}
