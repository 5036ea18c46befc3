//! What a proven epoch directory reveals (`docs/SPEC.md` §2.3 "Hidden", §7): the
//! committed `flash-crash` fixture (64 accounts, 4 markets, 17 liquidations) is
//! proven at `B = 8` and its directory is searched for everything that must stay
//! hidden: ids outside the liquidation set, balances, sizes, total liabilities `L`,
//! the account count `N`, every partial sum, leaves, batch roots, salts and
//! blindings. Proving twice must give fresh proofs (zero knowledge) for an identical
//! statement.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the test failing

use backstop_circuits::decimal::format_scaled;
use backstop_circuits::hash::{Bn254Poseidon, FieldHasher};
use backstop_circuits::model::Snapshot;
use backstop_circuits::native::commit::{account_salt, secret_element, state_blinding};
use backstop_circuits::native::{EpochEvaluation, Scales, account_risk, evaluate};
use backstop_circuits::secret::VenueSecret;
use backstop_circuits::shape::CircuitShape;
use backstop_circuits::snapshot;
use backstop_circuits::witness::{EpochWitness, build_epoch};
use backstop_fixtures::{SNAPSHOT_DIR, data_dir};
use backstop_prover::groth16::{EpochProof, prove_epoch, write_epoch_dir};
use backstop_prover::keys::Groth16Keys;
use backstop_verifier::artifacts::{GROTH16_PROOF_BYTES, proof_path};
use backstop_verifier::verify_epoch_dir;
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tempfile::TempDir;

const SECRET_HEX: &str = "c0ffee00deadbeef0123456789abcdef00112233445566778899aabbccddeeff";
const BATCH_SIZE: u64 = 8;

fn secret() -> VenueSecret {
    VenueSecret::from_hex(SECRET_HEX).unwrap()
}

fn snapshot_dir() -> PathBuf {
    data_dir().join("flash-crash").join(SNAPSHOT_DIR)
}

fn fixture() -> &'static Snapshot {
    static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();
    SNAPSHOT.get_or_init(|| snapshot::load(&snapshot_dir()).unwrap())
}

fn keys() -> &'static Groth16Keys {
    static KEYS: OnceLock<Groth16Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let markets = fixture().params().markets().len();
        Groth16Keys::setup(CircuitShape::new(BATCH_SIZE, markets).unwrap()).unwrap()
    })
}

struct Proven {
    _tmp: TempDir,
    dir: PathBuf,
    proof: EpochProof,
}

fn prove() -> Proven {
    let proof = prove_epoch(fixture(), &secret(), keys(), &|_| {}).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("epoch");
    write_epoch_dir(&dir, &proof, keys()).unwrap();
    Proven {
        _tmp: tmp,
        dir,
        proof,
    }
}

/// The flash-crash epoch, proven once and shared.
fn epoch() -> &'static Proven {
    static EPOCH: OnceLock<Proven> = OnceLock::new();
    EPOCH.get_or_init(prove)
}

fn evaluation() -> EpochEvaluation {
    evaluate(fixture())
}

fn statement_text() -> String {
    std::fs::read_to_string(epoch().dir.join("statement.json")).unwrap()
}

/// The file's tokens: maximal runs of characters that can form a number, a decimal
/// string, an identifier or a hex string. A value leaks if it is one of them (a
/// value inside a longer run, such as a few digits inside a hex commitment, is a
/// coincidence, not a leak).
fn tokens(text: &str) -> HashSet<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/')))
        .filter(|t| !t.is_empty())
        .collect()
}

/// Every string and number in a JSON document, keys excluded.
fn leaves(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Bool(b) => out.push(b.to_string()),
        Value::Null => out.push("null".into()),
        Value::Array(items) => items.iter().for_each(|v| leaves(v, out)),
        Value::Object(map) => map.values().for_each(|v| leaves(v, out)),
    }
}

fn is_sha256_hex(v: &str) -> bool {
    v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A value the snapshot or the engine holds, with a description of it.
type Hidden = (String, String);

/// The first of `hidden` (each with a description) that occurs in `text` as a
/// token or (for values of 5 characters or more) inside any decimal or symbol
/// value of the statement, described.
fn find_leak(text: &str, hidden: &[Hidden]) -> Option<String> {
    let tokens = tokens(text);
    let mut values = Vec::new();
    leaves(&serde_json::from_str(text).unwrap(), &mut values);
    // Hex strings (commitments, the key hash) are uniformly random: short digit runs
    // occur in them by chance.
    let readable: Vec<&String> = values
        .iter()
        .filter(|v| !v.starts_with("0x") && !is_sha256_hex(v))
        .collect();
    for (value, what) in hidden {
        if tokens.contains(value.as_str()) {
            return Some(format!("{what} ({value}) is published"));
        }
        if value.len() >= 5
            && let Some(v) = readable.iter().find(|v| v.contains(value.as_str()))
        {
            return Some(format!("{what} ({value}) is inside {v:?}"));
        }
    }
    None
}

#[test]
fn the_epoch_directory_holds_exactly_the_statement_the_key_and_the_proofs() {
    let dir = &epoch().dir;
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["proofs", "statement.json", "verifying_key.bin"]);
    assert!(dir.join("proofs").is_dir());

    let k = fixture().accounts().len().div_ceil(BATCH_SIZE as usize) as u64;
    assert_eq!(k, 8);
    let mut proofs: Vec<String> = std::fs::read_dir(dir.join("proofs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    proofs.sort();
    let expected: Vec<String> = (0..k).map(|b| format!("batch-{b:06}.bin")).collect();
    assert_eq!(proofs, expected);
    for b in 0..k {
        let path = proof_path(dir, b);
        assert!(path.is_file());
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            GROTH16_PROOF_BYTES as u64,
            "{}",
            path.display()
        );
    }
    // The verifying key is the setup's, byte for byte.
    assert_eq!(
        std::fs::read(dir.join("verifying_key.bin")).unwrap(),
        backstop_verifier::artifacts::verifying_key_bytes(&keys().proving_key().vk)
    );
    // And the epoch verifies.
    verify_epoch_dir(dir, Some(&keys().proving_key().vk)).unwrap();
}

/// Every key of `value`, as `path.key` (array elements as `path[]`), sorted.
fn key_paths(value: &Value, path: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                out.insert(p.clone());
                key_paths(v, &p, out);
            }
        }
        Value::Array(items) => {
            for v in items {
                key_paths(v, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_statement_has_exactly_the_documented_fields() {
    // As the proving library writes it: `signature` is added when the venue signs
    // (SPEC §7.5), and is the only other field.
    let statement: Value = serde_json::from_str(&statement_text()).unwrap();
    let mut paths = BTreeSet::new();
    key_paths(&statement, "", &mut paths);
    let documented: BTreeSet<String> = [
        "version",
        "backend",
        "shape",
        "shape.id",
        "shape.batch_size",
        "shape.markets",
        "verifying_key_hash",
        "venue",
        "owner_binding",
        "epoch",
        "quote_decimals",
        "reserves",
        "insurance_fund",
        "markets",
        "markets[].symbol",
        "markets[].price",
        "markets[].price_decimals",
        "markets[].size_decimals",
        "markets[].maintenance_margin_bps",
        "batch_count",
        "accounts_commitment",
        "state_commitments",
        "liquidations",
        "bad_debt",
        "solvent",
        "insurance_covered",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(paths, documented);

    // The values are the public ones.
    let eval = evaluation();
    let params = fixture().params();
    assert_eq!(statement["version"], 2);
    assert_eq!(statement["backend"], "groth16-bn254");
    assert_eq!(statement["shape"]["id"], "backstop.v2.B8.M4");
    assert_eq!(statement["epoch"], params.epoch().to_string());
    assert_eq!(statement["batch_count"], "8");
    assert_eq!(statement["state_commitments"].as_array().unwrap().len(), 8);
    assert_eq!(statement["markets"].as_array().unwrap().len(), 4);
    let liquidations: Vec<String> = eval.liquidations.iter().map(|id| id.to_string()).collect();
    assert_eq!(statement["liquidations"], serde_json::json!(liquidations));
    assert_eq!(liquidations.len(), 17);
    assert_eq!(statement["solvent"], true);
    assert_eq!(statement["insurance_covered"], false);
    for c in statement["state_commitments"]
        .as_array()
        .unwrap()
        .iter()
        .chain([&statement["accounts_commitment"]])
    {
        let c = c.as_str().unwrap();
        assert!(Bn254Poseidon::from_hex(c).is_some(), "{c}");
    }
}

/// What the snapshot's files say, as written: `(value, description)`.
fn snapshot_strings() -> (Vec<(u64, String)>, Vec<Hidden>) {
    let dir = snapshot_dir();
    let accounts = std::fs::read_to_string(dir.join("accounts.csv")).unwrap();
    let positions = std::fs::read_to_string(dir.join("positions.csv")).unwrap();
    let mut ids = Vec::new();
    let mut amounts = Vec::new();
    for line in accounts.lines().skip(1) {
        let (id, balance) = line.split_once(',').unwrap();
        ids.push((id.parse().unwrap(), id.to_owned()));
        amounts.push((balance.to_owned(), format!("balance of account {id}")));
    }
    for line in positions.lines().skip(1) {
        let mut cols = line.split(',');
        let (id, market, size) = (
            cols.next().unwrap(),
            cols.next().unwrap(),
            cols.next().unwrap(),
        );
        amounts.push((size.to_owned(), format!("size of account {id} in {market}")));
    }
    assert_eq!(ids.len(), fixture().accounts().len());
    (ids, amounts)
}

#[test]
fn the_statement_reveals_no_account_data_and_no_hidden_total() {
    let text = statement_text();
    let eval = evaluation();
    let liquidated: HashSet<u64> = eval.liquidations.iter().map(|id| id.get()).collect();
    let (ids, amounts) = snapshot_strings();

    // The search finds what is published: the liquidated ids and the bad debt.
    let published = tokens(&text);
    for id in &liquidated {
        assert!(published.contains(id.to_string().as_str()), "{id}");
    }
    let outputs = backstop_fixtures::expected_outputs(fixture());
    assert!(published.contains(outputs.bad_debt.as_str()));

    let mut hidden: Vec<Hidden> = Vec::new();
    for (id, text) in &ids {
        if !liquidated.contains(id) {
            hidden.push((text.clone(), format!("id {text} (not liquidated)")));
        }
    }
    assert_eq!(hidden.len(), ids.len() - 17);
    // Zero balances: "0" is no secret and no token of the statement either way.
    hidden.extend(amounts.iter().cloned());
    // The same amounts in minimal units, as a careless writer might print them.
    let params = fixture().params();
    for account in fixture().accounts() {
        let balance = account.quote_balance().get();
        if balance.unsigned_abs() >= 1000 {
            hidden.push((
                balance.to_string(),
                format!("balance of {} in minimal units", account.id()),
            ));
        }
        for (m, size) in account.sizes().iter().enumerate() {
            if size.get().unsigned_abs() >= 1000 {
                hidden.push((
                    size.get().to_string(),
                    format!(
                        "size of {} in {} in minimal units",
                        account.id(),
                        params.markets()[m].symbol()
                    ),
                ));
            }
        }
    }
    // Total liabilities L, as `backstop demo` prints it and in common units.
    let q = params.quote_decimals();
    let l = format_scaled(eval.total_liabilities, eval.exponent, q);
    hidden.push((l.clone(), "total liabilities L".into()));
    hidden.push((
        eval.total_liabilities.to_string(),
        "L in common units".into(),
    ));
    hidden.push((
        format_scaled(eval.total_liabilities, eval.exponent, 0),
        "L".into(),
    ));
    // The account count N (K = 8 batches of 8 say only 56 < N <= 64).
    assert_eq!(eval.account_count, 64);
    hidden.push((eval.account_count.to_string(), "the account count N".into()));
    // Per-account values and every partial sum.
    let scales = Scales::new(params);
    for account in fixture().accounts() {
        let risk = account_risk(&scales, account);
        if risk.total_value.unsigned_abs() > 1000u128 {
            hidden.push((
                format_scaled(risk.total_value, eval.exponent, q),
                format!("total value of {}", account.id()),
            ));
        }
    }
    let witness: EpochWitness<Bn254Poseidon> =
        build_epoch(fixture(), &secret(), keys().shape().batch_size());
    let k = witness.commitment.batch_count();
    for (b, state) in witness.commitment.states.iter().enumerate().skip(1) {
        hidden.push((
            format_scaled(state.total_liabilities, eval.exponent, q),
            format!("L after batch {}", b - 1),
        ));
        if state.bad_debt != eval.bad_debt && state.bad_debt != 0 {
            hidden.push((
                format_scaled(state.bad_debt, eval.exponent, q),
                format!("D after batch {}", b - 1),
            ));
        }
        hidden.push((
            Bn254Poseidon::to_hex(&state.liquidation_product),
            format!("liquidation product after batch {}", b - 1),
        ));
        if b < k {
            // The last chain value is the (public) accounts commitment.
            hidden.push((
                Bn254Poseidon::to_hex(&state.accounts),
                format!("accounts chain after batch {}", b - 1),
            ));
        }
    }
    let s = secret_element::<Bn254Poseidon>(&secret());
    let epoch_id = params.epoch();
    for (b, tree) in witness.commitment.batches.iter().enumerate() {
        hidden.push((
            Bn254Poseidon::to_hex(&tree.root()),
            format!("root of batch {b}"),
        ));
        for (j, leaf) in tree.leaves().iter().enumerate() {
            hidden.push((
                Bn254Poseidon::to_hex(leaf),
                format!("leaf {j} of batch {b}"),
            ));
        }
        hidden.push((
            Bn254Poseidon::to_hex(&state_blinding::<Bn254Poseidon>(s, epoch_id, b as u64)),
            format!("blinding of batch {b}"),
        ));
    }
    for account in fixture().accounts() {
        hidden.push((
            Bn254Poseidon::to_hex(&account_salt::<Bn254Poseidon>(s, epoch_id, account.id())),
            format!("salt of {}", account.id()),
        ));
    }
    hidden.push((SECRET_HEX.into(), "the venue secret".into()));
    hidden.push((Bn254Poseidon::to_hex(&s), "the venue secret".into()));

    if let Some(leak) = find_leak(&text, &hidden) {
        panic!("statement.json reveals {leak}");
    }
    // The search would find a leak: each kind of value, slipped into the statement.
    let non_liquidated = hidden[0].clone();
    let balance = hidden
        .iter()
        .find(|(_, what)| what.starts_with("balance of account"))
        .unwrap()
        .clone();
    for leak in [non_liquidated, balance, (l, "L".into())] {
        let leaky = text.replacen('{', &format!("{{\"note\": \"{}\",", leak.0), 1);
        assert!(
            find_leak(&leaky, std::slice::from_ref(&leak)).is_some(),
            "{} slipped in is not detected",
            leak.1
        );
    }
    // Nor anywhere in the other files (binary: searched as bytes).
    for path in [epoch().dir.join("verifying_key.bin")]
        .into_iter()
        .chain((0..k as u64).map(|b| proof_path(&epoch().dir, b)))
    {
        let bytes = std::fs::read(&path).unwrap();
        for (value, what) in &hidden {
            if value.len() >= 8 {
                assert!(
                    !bytes.windows(value.len()).any(|w| w == value.as_bytes()),
                    "{what} in {}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn proving_twice_gives_fresh_proofs_for_the_same_statement() {
    let first = epoch();
    let second = prove();
    let read = |dir: &Path, name: &str| std::fs::read(dir.join(name)).unwrap();
    assert_eq!(
        read(&first.dir, "statement.json"),
        read(&second.dir, "statement.json"),
        "the statement is a function of the snapshot, the secret and the key"
    );
    assert_eq!(first.proof.statement, second.proof.statement);
    assert_eq!(
        read(&first.dir, "verifying_key.bin"),
        read(&second.dir, "verifying_key.bin")
    );
    assert_eq!(first.proof.proofs.len(), second.proof.proofs.len());
    let mut all = HashSet::new();
    for b in 0..first.proof.proofs.len() as u64 {
        let (x, y) = (
            std::fs::read(proof_path(&first.dir, b)).unwrap(),
            std::fs::read(proof_path(&second.dir, b)).unwrap(),
        );
        // Every point is re-randomized: A, B and C all differ.
        assert_ne!(x[..32], y[..32], "batch {b}: A repeated");
        assert_ne!(x[32..96], y[32..96], "batch {b}: B repeated");
        assert_ne!(x[96..], y[96..], "batch {b}: C repeated");
        assert!(all.insert(x), "batch {b}: a proof repeated");
        assert!(all.insert(y), "batch {b}: a proof repeated");
    }
    verify_epoch_dir(&second.dir, Some(&keys().proving_key().vk)).unwrap();
}

/// Risk model v2 (`docs/SPEC.md` §2.3 "Hidden"): the committed `collateral` fixture
/// (3 markets, 3 collateral assets) proven at `B = 8`. Its statement publishes the
/// assets' prices, ratios and the venue's holdings, and one flag per asset; it must
/// not publish any account's collateral amount, any per-asset total held by the
/// users (`Σ max(amount, 0)`, what `asset_solvency` compares), any account's margin
/// value, or the per-asset totals of the chained state after a batch.
#[test]
fn a_risk_model_v2_statement_reveals_no_collateral_amount_or_asset_total() {
    let dir = data_dir().join("collateral").join(SNAPSHOT_DIR);
    let snapshot = snapshot::load(&dir).unwrap();
    let params = snapshot.params();
    assert!(!params.assets().is_empty());
    let shape = CircuitShape::for_params(BATCH_SIZE, params).unwrap();
    let keys = Groth16Keys::setup(shape).unwrap();
    let proof = prove_epoch(&snapshot, &secret(), &keys, &|_| {}).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let epoch_dir = tmp.path().join("epoch");
    write_epoch_dir(&epoch_dir, &proof, &keys).unwrap();
    let text = std::fs::read_to_string(epoch_dir.join("statement.json")).unwrap();
    let statement: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        statement["asset_solvency"].as_object().unwrap().len(),
        params.assets().len()
    );

    let mut hidden: Vec<Hidden> = Vec::new();
    // Every amount of balances.csv, as written.
    let balances = std::fs::read_to_string(dir.join("balances.csv")).unwrap();
    for line in balances.lines().skip(1) {
        let mut cols = line.split(',');
        let (id, asset, amount) = (
            cols.next().unwrap(),
            cols.next().unwrap(),
            cols.next().unwrap(),
        );
        // Amounts of a single digit are no secret (and tokens of any statement).
        if amount.trim_start_matches('-').len() > 1 {
            hidden.push((amount.to_owned(), format!("{asset} amount of account {id}")));
        }
    }
    assert!(hidden.len() > 10, "{} amounts", hidden.len());
    // Per asset, the total the users hold, in asset units and minimal units.
    let eval = evaluate(&snapshot);
    for (c, asset) in params.assets().iter().enumerate() {
        let held: i128 = snapshot
            .accounts()
            .iter()
            .map(|a| i128::from(a.amounts()[c].get().max(0)))
            .sum();
        assert!(held > 0, "{}: nobody holds it", asset.symbol());
        hidden.push((
            format_scaled(held.into(), asset.amount_decimals(), 0),
            format!("total {} held", asset.symbol()),
        ));
        hidden.push((
            held.to_string(),
            format!("total {} held, minimal units", asset.symbol()),
        ));
    }
    // Margin values and total values of the accounts.
    let scales = Scales::new(params);
    let q = params.quote_decimals();
    for account in snapshot.accounts() {
        let risk = account_risk(&scales, account);
        if risk.total_value.unsigned_abs() > 1000u128 {
            hidden.push((
                format_scaled(risk.total_value, eval.exponent, q),
                format!("total value of {}", account.id()),
            ));
            hidden.push((
                format_scaled(risk.margin_value_bps, eval.exponent + 4, q),
                format!("margin value of {}", account.id()),
            ));
        }
    }
    // The chained state's per-asset totals after each batch.
    let witness: EpochWitness<Bn254Poseidon> =
        build_epoch(&snapshot, &secret(), shape.batch_size());
    for (b, state) in witness.commitment.states.iter().enumerate().skip(1) {
        for (c, held) in state.asset_held.iter().enumerate() {
            if held.as_i128() > 9 {
                hidden.push((
                    format_scaled(*held, params.assets()[c].amount_decimals(), 0),
                    format!("{} held after batch {}", params.assets()[c].symbol(), b - 1),
                ));
            }
        }
    }
    if let Some(leak) = find_leak(&text, &hidden) {
        panic!("statement.json reveals {leak}");
    }
    // The search would find one, slipped in.
    let total = hidden
        .iter()
        .find(|(_, what)| what.starts_with("total ") && what.ends_with(" held"))
        .unwrap()
        .clone();
    let leaky = text.replacen('{', &format!("{{\"note\": \"{}\",", total.0), 1);
    assert!(find_leak(&leaky, std::slice::from_ref(&total)).is_some());
}

/// Risk model v2 with `prove --disclose-asset-totals` for the first asset only
/// (`docs/SPEC.md` §2.3, §7.2): the statement and the audit report (text, JSON and
/// markdown) publish exactly that asset's total, proven, and no other asset's total
/// in either spelling; the epoch verifies. Without the option nothing is published
/// (the test above).
#[test]
fn a_disclosed_asset_total_is_the_only_total_published() {
    use backstop_verifier::audit::{VenueExpectation, audit_epoch};
    let dir = data_dir().join("collateral").join(SNAPSHOT_DIR);
    let plain = snapshot::load(&dir).unwrap();
    let first = plain.params().assets()[0].symbol().to_owned();
    let snapshot = plain
        .with_asset_totals_disclosed(&[first.as_str()])
        .unwrap();
    let params = snapshot.params();
    let shape = CircuitShape::for_params(BATCH_SIZE, params).unwrap();
    let keys = Groth16Keys::setup(shape).unwrap();
    // Signed by the (demo) venue, so that the audit's venue check passes.
    let venue = backstop_prover::venue::VenueKey::demo();
    let snapshot = snapshot.with_venue(venue.address());
    let mut proof = prove_epoch(&snapshot, &secret(), &keys, &|_| {}).unwrap();
    venue.sign(&mut proof.statement).unwrap();
    let params = snapshot.params();
    let tmp = tempfile::tempdir().unwrap();
    let epoch_dir = tmp.path().join("epoch");
    write_epoch_dir(&epoch_dir, &proof, &keys).unwrap();
    verify_epoch_dir(&epoch_dir, Some(&keys.proving_key().vk)).unwrap();
    let text = std::fs::read_to_string(epoch_dir.join("statement.json")).unwrap();
    let statement: Value = serde_json::from_str(&text).unwrap();

    let eval = evaluate(&snapshot);
    let spelled = |c: usize, min: u32| {
        format_scaled(
            eval.asset_owed[c],
            params.assets()[c].amount_decimals(),
            min,
        )
    };
    let ad0 = params.assets()[0].amount_decimals();
    let disclosed = spelled(0, ad0);
    let totals = statement["asset_totals"].as_object().unwrap();
    assert_eq!(totals.len(), 1);
    assert_eq!(totals[&first], Value::String(disclosed.clone()));
    let mut hidden: Vec<Hidden> = Vec::new();
    for (c, asset) in params.assets().iter().enumerate().skip(1) {
        for min in [0, asset.amount_decimals()] {
            hidden.push((spelled(c, min), format!("total {} held", asset.symbol())));
        }
        hidden.push((
            eval.asset_owed[c].to_string(),
            format!("total {} held, minimal units", asset.symbol()),
        ));
    }
    if let Some(leak) = find_leak(&text, &hidden) {
        panic!("statement.json reveals {leak}");
    }

    let report = audit_epoch(
        &epoch_dir,
        None,
        tmp.path(),
        None,
        &VenueExpectation::default(),
    );
    assert!(report.verified, "{:?}", report.failure);
    let json = report.to_json();
    if let Some(leak) = find_leak(&json, &hidden) {
        panic!("the audit (JSON) reveals {leak}");
    }
    for (format, rendered) in [
        ("JSON", json),
        ("text", report.to_text()),
        ("markdown", report.to_markdown()),
    ] {
        assert!(
            rendered.contains(&format!("{disclosed} {first}")),
            "the {format} audit shows the disclosed total"
        );
        for (value, what) in &hidden {
            assert!(
                !rendered.contains(value.as_str()),
                "the {format} audit reveals {what} ({value})"
            );
        }
    }
}
