//! On-chain gas from a real node (`backstop-benches anvil-gas`): the exported
//! contracts of a seeded `B = 8`, `M = 8` key deployed to anvil from their
//! `deployment.json`, and flash-crash epochs of `K` batches submitted with the
//! on-chain client, each figure read from its transaction receipt. `B` does not
//! change any gas figure (the inputs depend on `M` only), so a small `B` keeps the
//! proving short while `K` and `M` are those of a real epoch.

use super::{AnvilGas, AnvilRow};
use crate::BenchError;
use crate::machine::workspace_root;
use backstop_circuits::r1cs::constraint_count;
use backstop_circuits::secret::VenueSecret;
use backstop_circuits::shape::CircuitShape;
use backstop_fixtures::{FixtureSpec, Scenario, generate};
use backstop_onchain::node::{ANVIL_KEY, LocalNode};
use backstop_onchain::rpc::Rpc;
use backstop_onchain::submit::Mode;
use backstop_onchain::tx::Signer;
use backstop_onchain::{Client, Sent};
use backstop_prover::export::onchain::{SolidityExport, export_solidity};
use backstop_prover::groth16::{EpochProof, prove_epoch, write_epoch_dir};
use backstop_prover::keys::{Groth16Keys, SINGLE_PARTY_SETUP};
use backstop_prover::venue::VenueKey;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::process::Command;
use std::time::Instant;

const BATCH_SIZE: u64 = 8;
const MARKETS: usize = 8;
/// How the row of the calm book is marked (the targets tell it apart by this).
pub const CALM: &str = "calm book";

fn other(e: impl std::fmt::Display) -> BenchError {
    BenchError::Other(e.to_string())
}

fn row(what: String, batches: u64, liquidations: u64, sent: &[Sent]) -> AnvilRow {
    let calls = sent.iter().filter(|s| s.contract.is_none());
    AnvilRow {
        what,
        batches,
        liquidations,
        transactions: sent.len() as u64,
        gas_used: sent.iter().map(|s| s.gas_used).sum(),
        execution: calls
            .map(|s| s.gas_used.saturating_sub(21_000 + s.calldata_gas))
            .sum(),
        calldata_bytes: sent.iter().map(|s| s.calldata_bytes as u64).sum(),
        max_transaction: sent.iter().map(|s| s.gas_used).max().unwrap_or(0),
    }
}

/// Measures deployment and submission gas on anvil for epochs of `ks` batches (in
/// increasing order), and the largest one again in chunks of `chunk` batches.
pub fn measure(ks: &[u64], chunk: usize) -> Result<AnvilGas, BenchError> {
    let root = workspace_root();
    let setup = Command::new("bash")
        .arg(root.join("scripts/node/setup"))
        .status()
        .map_err(other)?;
    if !setup.success() {
        return Err(other("scripts/node/setup failed"));
    }
    let node_dir = root.join("scripts/node");
    let work = tempfile::tempdir().map_err(other)?;
    let shape = CircuitShape::new(BATCH_SIZE, MARKETS)?;
    let keys_dir = work.path().join("keys");
    let keys = Groth16Keys::setup_with_rng(
        shape,
        &mut ChaCha20Rng::seed_from_u64(0x0bac_5709),
        format!("{SINGLE_PARTY_SETUP} (seeded measurement keys: NOT SECRET)"),
    )?;
    keys.save(&keys_dir, constraint_count(shape)?)?;
    let project = work.path().join("project");
    export_solidity(SolidityExport {
        keys: &keys_dir,
        out: &project,
        epoch: None,
        solc: Some(&node_dir.join("solc")),
    })?;
    let manifest = backstop_onchain::deploy::read_manifest(&project).map_err(other)?;
    let anvil_path = node_dir.join("node_modules/.bin/anvil");
    let version = Command::new(&anvil_path)
        .arg("--version")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned()
        })
        .unwrap_or_default();
    let node = LocalNode::start(&anvil_path).map_err(other)?;
    let signer = Signer::from_hex(ANVIL_KEY).map_err(other)?;
    let client = Client::connect(Rpc::new(node.url()).map_err(other)?, signer).map_err(other)?;
    let venue = VenueKey::demo();
    let deployed =
        backstop_onchain::deploy::deploy(&client, &manifest, venue.address().0).map_err(other)?;
    let epochs = deployed
        .address("BackstopEpochs")
        .ok_or_else(|| other("no BackstopEpochs deployed"))?;
    let mut rows = vec![row(
        "deploy everything".into(),
        0,
        0,
        &deployed.transactions,
    )];

    let mut largest = None;
    // Each K as a flash crash; the second largest K also as a calm book, so that two
    // epochs of one K differ mainly in their liquidation count (the cost per id).
    let calm_k = ks.iter().rev().nth(1).copied();
    let mut runs: Vec<(u64, Scenario)> = Vec::new();
    for &k in ks {
        runs.push((k, Scenario::FlashCrash));
        if Some(k) == calm_k {
            runs.push((k, Scenario::Calm));
        }
    }
    for (i, &(k, scenario)) in runs.iter().enumerate() {
        let snapshot = generate(&FixtureSpec {
            scenario,
            accounts: (BATCH_SIZE * k) as usize,
            markets: MARKETS,
            seed: k,
        })?
        .with_epoch(i as u64 + 1)
        .with_venue(venue.address());
        let start = Instant::now();
        let mut proof: EpochProof = prove_epoch(&snapshot, &VenueSecret::demo(), &keys, &|_| {})?;
        venue.sign(&mut proof.statement)?;
        let liquidations = proof.statement.liquidations.len() as u64;
        eprintln!(
            "anvil-gas: proved K = {k} ({liquidations} liquidations) in {:.1} s",
            start.elapsed().as_secs_f64()
        );
        let dir = work.path().join(format!("epoch-{i}"));
        write_epoch_dir(&dir, &proof, &keys)?;
        let sent =
            backstop_onchain::submit::submit(&client, epochs, &dir, Mode::Whole).map_err(other)?;
        let what = match scenario {
            Scenario::Calm => format!("`submitEpoch`, K = {k}, {CALM}"),
            _ => format!("`submitEpoch`, K = {k}"),
        };
        rows.push(row(what, k, liquidations, &sent));
        if scenario == Scenario::FlashCrash {
            largest = Some((k, liquidations, dir));
        }
    }
    if let Some((k, liquidations, dir)) = largest {
        // A fresh deployment, so that the same epoch can be submitted again.
        let again = backstop_onchain::deploy::deploy(&client, &manifest, venue.address().0)
            .map_err(other)?;
        let epochs = again
            .address("BackstopEpochs")
            .ok_or_else(|| other("no BackstopEpochs deployed"))?;
        let sent = backstop_onchain::submit::submit(&client, epochs, &dir, Mode::Chunks(chunk))
            .map_err(other)?;
        rows.push(row(
            format!(
                "`submitBatches` × {} (chunks of {chunk}) + `finalizeEpoch`, K = {k}",
                sent.len() - 1
            ),
            k,
            liquidations,
            &sent,
        ));
    }
    Ok(AnvilGas {
        note: format!(
            "`backstop-benches anvil-gas`: {version}, shape B = {BATCH_SIZE}, M = {MARKETS} \
             (gas does not depend on B), transactions sent by `backstop-onchain` and read \
             from their receipts"
        ),
        rows,
    })
}
