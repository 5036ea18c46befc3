//! The tamper catalogue (`backstop_circuits::tamper::catalogue`, `docs/SPEC.md` §7.1)
//! through the CLI: for a proven epoch of each backend, every mutation of its
//! `statement.json` that changes the statement's meaning is signed again with the
//! key of the venue it names (`backstop statement sign`), so that the signature is
//! not what refuses it, and is then refused by `backstop verify`, the standalone
//! `backstop-verify` and `backstop audit`, each saying why: the statement's own
//! refusal (naming the field) when the library refuses the mutated statement, a
//! proof that does not verify or a key that does not match otherwise.
//!
//! The catalogue is generated from the statement's JSON tree, so a field added to
//! the statement later is tampered with here without editing this file.
//!
//! Both epochs prove the same generated book (`flash-crash`, 9 accounts, 2 markets,
//! seed 1: two batches of 8, two liquidations, solvent but not covered), so every
//! array of the statement has two distinct entries to swap and the two flags differ.
//!
//! Time: about 190 mutations per epoch, 70 of which reach the key and the proofs.
//! Groth16 takes seconds; each halo2 verifier process derives the verifying key
//! from the shape (about 1.6 s), so the halo2 test takes a few minutes on two cores.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the test failing

use backstop_circuits::descriptor::VenueAddress;
use backstop_circuits::hash::{Bn254Poseidon, PastaPoseidon};
use backstop_circuits::statement::{Backend, EpochStatement, StatementFile};
use backstop_circuits::tamper::{Mutation, UNKNOWN_KEY, catalogue, relabellings};
use backstop_prover::venue::VenueKey;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

mod common;
use common::{
    ProvenEpoch, attacker_key_file, backstop, backstop_verify_bin, copy_dir, prove_epoch_with, s,
    statement_sign, text,
};

const SECRET_HEX: &str = "7a3d000000000000000000000000000000000000000000000000000000c0ffee";

/// The Groth16 epoch discloses `L` (`prove --disclose-liabilities`), the halo2 one
/// keeps it hidden, so that the catalogue tampers with a disclosed `liabilities` and
/// [`every_mutation_is_refused`] adds one to a statement without it.
fn epoch(backend: &str) -> ProvenEpoch {
    let extra: &[&str] = if backend == "groth16" {
        &["--disclose-liabilities"]
    } else {
        &[]
    };
    prove_epoch_with(backend, "flash-crash", "9", "2", SECRET_HEX, extra)
}

/// Why the library refuses a statement before any proof is checked: it does not
/// parse or validate (`EpochStatement::from_json`, first), or its public inputs
/// cannot be computed (a commitment that is not a field element, second).
fn library_refusals(bytes: &[u8]) -> (Option<String>, Option<String>) {
    let statement = match EpochStatement::from_json(bytes) {
        Ok(statement) => statement,
        Err(e) => return (Some(e.to_string()), None),
    };
    let inputs = match statement.file().backend {
        Backend::Groth16Bn254 => statement.public_inputs::<Bn254Poseidon>().map(drop),
        Backend::Halo2Pasta => statement.public_inputs::<PastaPoseidon>().map(drop),
    };
    (None, inputs.err().map(|e| e.to_string()))
}

/// Every object key of `value`, at any depth.
fn all_keys(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                all_keys(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| all_keys(v, out)),
        _ => {}
    }
}

/// The keys of `keys` that a mutation's name mentions as a word (its path, a key
/// it removes, adds or swaps).
fn keys_named<'k>(name: &str, keys: &'k [String]) -> Vec<&'k str> {
    let words: Vec<&str> = name
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    keys.iter()
        .map(String::as_str)
        .filter(|k| words.contains(k))
        .collect()
}

/// What each verifier said of one mutated statement.
struct Outcome {
    name: String,
    /// How the mutation was signed again, or why `backstop statement sign` refused.
    signed: String,
    /// The library's refusal of the statement, if it does not parse or validate.
    refusal: Option<String>,
    /// The library's refusal of its public inputs, if it parses but they cannot be
    /// computed.
    inputs_refusal: Option<String>,
    /// (verifier, accepted, what it said).
    answers: Vec<(&'static str, bool, String)>,
}

/// The first line of `out` that says what failed.
fn reason(out: &Output) -> String {
    let all = text(&out.stderr) + &text(&out.stdout);
    all.lines()
        .find(|l| l.starts_with("error:") || l.starts_with("Result:"))
        .or_else(|| all.lines().find(|l| !l.trim().is_empty()))
        .unwrap_or("")
        .trim()
        .to_owned()
}

/// Writes `mutation` into a copy of the epoch, signs it again with the key of the
/// venue it names (the attacker's key for the attacker's venue, the demo key
/// otherwise), and runs the three verifiers on it with `--venue-key` the signer's
/// address and `extra`.
fn try_mutation(
    epoch: &ProvenEpoch,
    mutation: &Mutation,
    attacker: (&Path, VenueAddress),
    extra: &[&str],
) -> Outcome {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("epoch");
    copy_dir(&epoch.dir, &dir);
    let path = dir.join("statement.json");
    let bytes = serde_json::to_vec_pretty(&mutation.value).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let (refusal, inputs_refusal) = library_refusals(&bytes);

    let (attacker_key, attacker_address) = attacker;
    let (key_file, signer) = if mutation.value["venue"] == attacker_address.to_string() {
        (Some(attacker_key), attacker_address)
    } else {
        (None, VenueKey::demo().address())
    };
    let sign = statement_sign(&dir, key_file);
    let signed = if sign.status.success() {
        format!("signed again as {signer}")
    } else {
        // Refused at parsing (or a venue no test key signs for): the verifiers get
        // the mutated statement as written, with the honest signature.
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "{}: a refused `statement sign` changed statement.json",
            mutation.name
        );
        format!("`statement sign` refused: {}", reason(&sign))
    };

    let venue = signer.to_string();
    let mut args = vec![s(&dir), "--venue-key", &venue];
    args.extend(extra);
    let verify = backstop(&[&["verify"], &args[..]].concat());
    let standalone = Command::new(backstop_verify_bin())
        .args(&args)
        .output()
        .unwrap();
    let audit = backstop(&[&["audit"], &args[..]].concat());
    let answers = [
        ("backstop verify", verify),
        ("backstop-verify", standalone),
        ("backstop audit", audit),
    ]
    .into_iter()
    .map(|(cli, out)| {
        let all = text(&out.stdout) + &text(&out.stderr);
        let said = match refusal.as_ref().or(inputs_refusal.as_ref()) {
            Some(why) if all.contains(why.as_str()) => why.clone(),
            _ => reason(&out),
        };
        (cli, out.status.success(), said)
    })
    .collect();
    Outcome {
        name: mutation.name.clone(),
        signed,
        refusal,
        inputs_refusal,
        answers,
    }
}

/// What is wrong with an outcome: a verifier that accepted the mutated statement,
/// or one that refused it without saying why.
fn problems(o: &Outcome) -> Vec<String> {
    let mut out = Vec::new();
    for (cli, accepted, said) in &o.answers {
        if *accepted {
            out.push(format!("ACCEPTED by {cli}: {} ({})", o.name, o.signed));
            continue;
        }
        let explained = match &o.refusal {
            // Refused before the proofs: by the statement's own refusal, which names
            // the field (or the statement version).
            Some(why) => said == why,
            // Parsed: refused by the proofs, by the key the statement names, or by
            // the public inputs that cannot be computed (whichever is checked first).
            None => {
                said.contains("proof does not verify against the public input")
                    || said.contains("does not match the statement's")
                    || o.inputs_refusal.as_deref() == Some(said.as_str())
            }
        };
        if said.is_empty() || !explained {
            out.push(format!(
                "{cli} refused {} without the expected reason ({}): said {said:?}, expected {:?}",
                o.name,
                o.signed,
                o.refusal.as_deref().unwrap_or(
                    "a proof that does not verify, a key that does not match, or the public inputs' refusal"
                )
            ));
        }
    }
    out
}

/// Runs the catalogue of `epoch`'s statement through the three verifiers, on two
/// threads; fails listing every mutation that was accepted or refused without a
/// reason. Returns the number of mutations.
fn every_mutation_is_refused(
    epoch: &ProvenEpoch,
    extra: &[&str],
    relabellings_expected: usize,
) -> usize {
    let started = Instant::now();
    // The honest epoch verifies with all three, or the refusals below prove nothing.
    let demo = VenueKey::demo().address().to_string();
    let mut honest = vec![s(&epoch.dir), "--venue-key", &demo];
    honest.extend(extra);
    common::ok(&backstop(&[&["verify"], &honest[..]].concat()), "verify");
    common::ok(
        &Command::new(backstop_verify_bin())
            .args(&honest)
            .output()
            .unwrap(),
        "backstop-verify",
    );
    common::ok(&backstop(&[&["audit"], &honest[..]].concat()), "audit");

    let statement: Value =
        serde_json::from_slice(&std::fs::read(epoch.dir.join("statement.json")).unwrap()).unwrap();
    let key_dir = tempfile::tempdir().unwrap();
    let attacker_key = attacker_key_file(key_dir.path());
    let attacker = VenueKey::from_hex(&std::fs::read_to_string(&attacker_key).unwrap())
        .unwrap()
        .address();
    let mut mutations = catalogue(&statement, attacker);
    // An optional field the statement leaves out, added: `liabilities` (hidden L
    // published as some value, as the bad debt's figure and as zero).
    if statement.get("liabilities").is_none() {
        // Zero, spelt canonically: quote_decimals places.
        let q = statement["quote_decimals"].as_u64().unwrap() as usize;
        let zero = if q == 0 {
            "0".to_owned()
        } else {
            format!("0.{}", "0".repeat(q))
        };
        for l in [statement["bad_debt"].clone(), Value::String(zero)] {
            let mut added = statement.clone();
            added["liabilities"] = l.clone();
            mutations.push(Mutation {
                name: format!("liabilities {l} added to a statement that keeps L hidden"),
                value: added,
            });
        }
    } else {
        assert!(mutations.iter().any(|m| m.name.contains("liabilities")));
    }
    let mut keys = vec![UNKNOWN_KEY.to_owned()];
    all_keys(&statement, &mut keys);
    // Every relabelling applies to the epoch and is in the catalogue (under a generic
    // name if one made the same statement first).
    let file: StatementFile = serde_json::from_value(statement.clone()).unwrap();
    let relabelled = relabellings(&file, attacker);
    assert_eq!(relabelled.len(), relabellings_expected);
    for (what, file) in relabelled {
        let value = serde_json::to_value(file).unwrap();
        assert!(mutations.iter().any(|m| m.value == value), "{what}");
    }

    let next = AtomicUsize::new(0);
    let outcomes = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(m) = mutations.get(i) else { break };
                    let o = try_mutation(epoch, m, (&attacker_key, attacker), extra);
                    outcomes.lock().unwrap().push((i, o));
                }
            });
        }
    });
    let mut outcomes = outcomes.into_inner().unwrap();
    outcomes.sort_by_key(|(i, _)| *i);

    let mut failures = Vec::new();
    let mut unnamed = Vec::new();
    let (mut parsing, mut inputs, mut proofs) = (0, 0, 0);
    for (_, o) in &outcomes {
        failures.extend(problems(o));
        match &o.refusal {
            Some(why) => {
                parsing += 1;
                // Refusals that do not name the mutated field (a serde error names
                // no field; a dependent field is named instead, as `reserves` for
                // `quote_decimals`): printed, not a failure.
                if !keys_named(&o.name, &keys).iter().any(|k| why.contains(k)) {
                    unnamed.push(format!("{} -> {why}", o.name));
                }
            }
            None if o.inputs_refusal.is_some() => inputs += 1,
            None => proofs += 1,
        }
        eprintln!(
            "{}\n    {}\n    {}",
            o.name,
            o.signed,
            o.answers
                .iter()
                .map(|(cli, _, said)| format!("{cli}: {said}"))
                .collect::<Vec<_>>()
                .join("\n    ")
        );
    }
    eprintln!(
        "{} mutations of the {} statement: {parsing} do not parse or validate, {inputs} have \
         public inputs that cannot be computed, {proofs} reach the key and the proofs ({:.1} s)",
        outcomes.len(),
        statement["backend"],
        started.elapsed().as_secs_f64()
    );
    if !unnamed.is_empty() {
        eprintln!(
            "refused without naming the mutated field:\n  {}",
            unnamed.join("\n  ")
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} mutations were not refused as they should be:\n{}",
        failures.len(),
        outcomes.len(),
        failures.join("\n")
    );
    outcomes.len()
}

#[test]
fn every_mutation_of_a_groth16_statement_is_refused() {
    let e = epoch("groth16");
    let n = every_mutation_is_refused(&e, &[], 5);
    assert!(n > 100, "{n} mutations");
}

/// Risk model v2: the catalogue's worked book (BTC in three brackets, ETH flat, WBTC
/// and USDT collateral; one batch), so that every tier, asset and per-asset flag
/// is tampered with, and the relabellings of the assets (a decimal moved from
/// amounts to price, symbols renamed or swapped) are refused by the proofs. WBTC's
/// total is disclosed (`prove --disclose-asset-totals WBTC`), so that the catalogue
/// changes, removes and relabels a disclosed `asset_totals` entry and adds USDT's.
#[test]
fn every_mutation_of_a_risk_model_v2_statement_is_refused() {
    let book =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../circuits/tests/bad_snapshots/valid_v2");
    let e = common::prove_v2_epoch_with(
        &book,
        "2",
        "3",
        "2",
        SECRET_HEX,
        &["--disclose-asset-totals", "WBTC"],
    );
    let n = every_mutation_is_refused(&e, &[], 8);
    assert!(n > 150, "{n} mutations");
}

/// The waterfall (`docs/SPEC.md` §2.4): the committed `waterfall-socialized` fixture
/// (40 accounts, 3 markets with liquidation fees, five batches), so that every fee
/// rate and the six waterfall fields are tampered with: `F`, `h` and `shortfall`
/// are refused by the proofs, the draw, the deficit and the fund after by the
/// statement's own derivation.
#[test]
fn every_mutation_of_a_waterfall_statement_is_refused() {
    let book = backstop_fixtures::data_dir().join("waterfall-socialized/snapshot");
    let e = common::prove_waterfall_epoch("groth16", &book, "3", SECRET_HEX, &[]);
    let statement = std::fs::read_to_string(e.dir.join("statement.json")).unwrap();
    assert!(statement.contains("\"haircut_ppb\""), "{statement}");
    let n = every_mutation_is_refused(&e, &[], 4);
    assert!(n > 150, "{n} mutations");
}

#[test]
fn every_mutation_of_a_halo2_statement_is_refused() {
    let e = epoch("halo2");
    let n = every_mutation_is_refused(&e, &["--params", s(&e.keys)], 5);
    assert!(n > 100, "{n} mutations");
}
