//! Groth16 on risk model v2 (`docs/SPEC.md` §8.2) for a shape with maintenance
//! brackets and collateral assets, on a seeded book whose positions fall in every
//! bracket and whose accounts hold and owe every asset: [`run`] measures one batch
//! directly with arkworks' Groth16 (setup, one proof, its verification); [`epoch`]
//! a whole epoch the way `backstop prove` and `backstop verify` do it
//! (`Groth16Keys::setup`, `prove_epoch`: witness and every batch, then the
//! statement verified against every proof); [`run_halo2`] one batch with the halo2
//! circuit (`docs/SPEC.md` §8.1).

use crate::BenchError;
use crate::machine::{Clocks, clocked, load_average};
use ark_bn254::{Bn254, Fr};
use ark_groth16::Groth16;
use backstop_circuits::hash::Bn254Poseidon;
use backstop_circuits::model::{
    Account, AccountId, Amount, Asset, Balance, EpochParams, MarginBps, Market, Price, RatioBps,
    Size, Snapshot, Tier,
};
use backstop_circuits::r1cs::{BatchCircuit, constraint_count};
use backstop_circuits::shape::CircuitShape;
use backstop_circuits::witness::build_epoch;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};

/// What one run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskV2Run {
    /// The shape's id.
    pub shape: String,
    /// R1CS constraints.
    pub constraints: usize,
    /// Public inputs (the open layout with its risk model v2 words).
    pub public_inputs: usize,
    /// Circuit-specific setup.
    pub setup: Clocks,
    /// Witness building of the whole book (`build_epoch`).
    pub witness: Clocks,
    /// One batch proof, synthesis included.
    pub prove: Clocks,
    /// `B / prove.wall_s`.
    pub accounts_per_s: f64,
    /// One verification against the verifier's open inputs.
    pub verify: Clocks,
    /// The load average at the end.
    pub load: String,
}

/// A whole epoch through the prover's and the verifier's library paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskV2Epoch {
    /// The shape's id.
    pub shape: String,
    /// `N`.
    pub accounts: usize,
    /// `K`.
    pub batches: u64,
    /// `Groth16Keys::setup`.
    pub setup: Clocks,
    /// `prove_epoch`: witness building and every batch, batches in parallel.
    pub prove: Clocks,
    /// `N / prove.wall_s`.
    pub accounts_per_s: f64,
    /// `verify_groth16`: the statement validated, every batch's inputs computed
    /// from it and every proof verified.
    pub verify: Clocks,
    /// The load average at the end.
    pub load: String,
}

/// Proves a book of `accounts` accounts (`M = 8`, `T = 4`, `A = 4`) at `batch_size`
/// as `backstop prove` does and verifies it as `backstop verify` does.
pub fn epoch(batch_size: u64, accounts: usize) -> Result<RiskV2Epoch, BenchError> {
    use backstop_circuits::statement::EpochStatement;
    use backstop_prover::groth16::prove_epoch;
    use backstop_prover::keys::Groth16Keys;
    let snapshot = book(accounts, crate::workload::MARKETS)?;
    let shape = CircuitShape::for_params(batch_size, snapshot.params())?;
    let (keys, setup) = clocked(|| Groth16Keys::setup(shape));
    let keys = keys?;
    let (proof, prove) =
        clocked(|| prove_epoch(&snapshot, &crate::workload::secret(), &keys, &|_| {}));
    let proof = proof?;
    let statement = EpochStatement::new(proof.statement.clone())
        .map_err(|e| BenchError::Other(format!("statement: {e}")))?;
    let bytes: Vec<Vec<u8>> = proof
        .proofs
        .iter()
        .map(backstop_verifier::artifacts::proof_bytes)
        .collect();
    let (verified, verify) =
        clocked(|| backstop_verifier::verify_groth16(&statement, &bytes, &keys.proving_key().vk));
    verified.map_err(|e| BenchError::Verify(e.to_string()))?;
    Ok(RiskV2Epoch {
        shape: shape.id(),
        accounts,
        batches: statement.file().batch_count,
        setup,
        accounts_per_s: accounts as f64 / prove.wall_s,
        prove,
        verify,
        load: load_average(),
    })
}

/// `M` markets, each with 4 brackets (5%, 7.5% from 50,000, 10% from 250,000, 20%
/// from 1,000,000 quote), and 4 assets at ratios 95%, 90%, 80% and 50%; `accounts`
/// accounts with seeded balances, sizes across the brackets and amounts held and
/// owed.
pub fn book(accounts: usize, markets: usize) -> Result<Snapshot, BenchError> {
    let bad = |e: backstop_circuits::model::ModelError| BenchError::Other(e.to_string());
    let bps = |v: i128| MarginBps::new(v).map_err(bad);
    let ms = (0..markets)
        .map(|m| {
            Market::new(
                &format!("P{m}"),
                Price::new(1_000 + 10 * m as i128).map_err(bad)?,
                0,
                2,
                bps(500)?,
            )
            .map_err(bad)?
            .with_tiers(vec![
                Tier::new(50_000 * 100, bps(750)?).map_err(bad)?,
                Tier::new(250_000 * 100, bps(1_000)?).map_err(bad)?,
                Tier::new(1_000_000 * 100, bps(2_000)?).map_err(bad)?,
            ])
            .map_err(bad)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let assets = [
        ("A0", 1, 9_500),
        ("A1", 65_000, 9_000),
        ("A2", 3_000, 8_000),
        ("A3", 7, 5_000),
    ]
    .iter()
    .map(|&(s, p, r)| {
        Asset::new(
            s,
            Price::new(p).map_err(bad)?,
            0,
            4,
            RatioBps::new(r).map_err(bad)?,
            1 << 80,
        )
        .map_err(bad)
    })
    .collect::<Result<Vec<_>, _>>()?;
    let params = EpochParams::new(1, 2, 1 << 100, 1 << 40, ms)
        .map_err(bad)?
        .with_assets(assets)
        .map_err(bad)?;
    let mut rng = ChaCha20Rng::seed_from_u64(17);
    let mut signed = |bound: u64| {
        let v = (rng.next_u64() % bound) as i128;
        if rng.next_u32() % 2 == 0 { v } else { -v }
    };
    let accounts = (0..accounts)
        .map(|i| {
            // Sizes up to 2,000 units of about 1,000 quote: notionals across all
            // four brackets.
            let sizes = (0..markets)
                .map(|_| Size::new(signed(200_000)).map_err(bad))
                .collect::<Result<_, _>>()?;
            let amounts = (0..4)
                .map(|_| Amount::new(signed(50_000 * 10_000)).map_err(bad))
                .collect::<Result<_, _>>()?;
            Ok(Account::new(
                AccountId::new(i as u64 + 1),
                Balance::new(signed(1 << 40)).map_err(bad)?,
                sizes,
            )
            .with_amounts(amounts))
        })
        .collect::<Result<Vec<_>, BenchError>>()?;
    Snapshot::new(params, accounts).map_err(bad)
}

/// [`book`] with the default waterfall (`docs/SPEC.md` §2.4) if `waterfall`: every
/// market declares a liquidation fee of 1% (half its first bracket's rate), so the
/// shape carries `.W`.
pub fn book_with(accounts: usize, markets: usize, waterfall: bool) -> Result<Snapshot, BenchError> {
    let snapshot = book(accounts, markets)?;
    if !waterfall {
        return Ok(snapshot);
    }
    let bad = |e: backstop_circuits::model::ModelError| BenchError::Other(e.to_string());
    let p = snapshot.params();
    let fee = backstop_circuits::model::FeeBps::new(100).map_err(bad)?;
    let ms = (p.markets().iter())
        .map(|m| m.clone().with_liquidation_fee(fee))
        .collect();
    let params = EpochParams::new(
        p.epoch(),
        p.quote_decimals(),
        p.reserves(),
        p.insurance_fund(),
        ms,
    )
    .map_err(bad)?
    .with_assets(p.assets().to_vec())
    .map_err(bad)?;
    Snapshot::new(params, snapshot.accounts().to_vec()).map_err(bad)
}

/// Setup, witness, one proof and one verification at batch size `batch_size`,
/// `M = 8`, `T = 4`, `A = 4`, with the waterfall if `waterfall`.
pub fn run(batch_size: u64, waterfall: bool) -> Result<RiskV2Run, BenchError> {
    let markets = crate::workload::MARKETS;
    let snapshot = book_with(batch_size as usize, markets, waterfall)?;
    let shape = CircuitShape::for_params(batch_size, snapshot.params())?;
    let constraints = constraint_count(shape)?;
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let (keys, setup) = clocked(|| {
        Groth16::<Bn254>::generate_random_parameters_with_reduction(
            BatchCircuit::blank(shape),
            &mut rng,
        )
    });
    let pk = keys.map_err(|e| BenchError::Other(format!("setup: {e}")))?;
    let pvk = ark_groth16::prepare_verifying_key(&pk.vk);
    let (epoch, witness) = clocked(|| {
        build_epoch::<Bn254Poseidon>(&snapshot, &crate::workload::secret(), shape.batch_size())
    });
    let batch = epoch
        .batches
        .first()
        .ok_or_else(|| BenchError::Other("no batch".into()))?;
    let circuit = BatchCircuit::new(shape, batch)?;
    let (proof, prove) =
        clocked(|| Groth16::<Bn254>::create_random_proof_with_reduction(circuit, &pk, &mut rng));
    let proof = proof.map_err(|e| BenchError::Other(format!("prove: {e}")))?;
    let inputs: Vec<Fr> = batch.open_inputs::<Bn254Poseidon>();
    let (ok, verify) = clocked(|| Groth16::<Bn254>::verify_proof(&pvk, &proof, &inputs));
    match ok {
        Ok(true) => {}
        Ok(false) => {
            return Err(BenchError::Verify(
                "the risk model v2 proof does not verify".into(),
            ));
        }
        Err(e) => return Err(BenchError::Verify(e.to_string())),
    }
    Ok(RiskV2Run {
        shape: shape.id(),
        constraints,
        public_inputs: inputs.len(),
        setup,
        witness,
        accounts_per_s: batch_size as f64 / prove.wall_s,
        prove,
        verify,
        load: load_average(),
    })
}

/// halo2 on risk model v2, one batch: the same book and shape as [`run`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskV2Halo2 {
    /// The shape's id.
    pub shape: String,
    /// Key generation, one proof and its verification, as [`crate::halo2::run`]
    /// measures them.
    pub run: crate::halo2::Halo2Run,
    /// `B / prove.wall_s`.
    pub accounts_per_s: f64,
    /// The load average at the end.
    pub load: String,
}

/// halo2 key generation, one batch proof and its verification at batch size
/// `batch_size`, `M = 8`, `T = 4`, `A = 4` (the book of [`run`], with the
/// waterfall if `waterfall`).
pub fn run_halo2(batch_size: u64, waterfall: bool) -> Result<RiskV2Halo2, BenchError> {
    let markets = crate::workload::MARKETS;
    let snapshot = book_with(batch_size as usize, markets, waterfall)?;
    let shape = CircuitShape::for_params(batch_size, snapshot.params())?;
    let run = crate::halo2::run_on(shape, &snapshot)?;
    Ok(RiskV2Halo2 {
        shape: shape.id(),
        accounts_per_s: batch_size as f64 / run.prove.wall_s,
        run,
        load: load_average(),
    })
}
