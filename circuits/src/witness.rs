//! Per-batch witnesses, built only from a validated [`Snapshot`] by the native engine
//! (`docs/SPEC.md` §6). Both backends' circuits consume these; their fields are
//! crate-private so that a circuit can only be fed what the engine computed.

use crate::hash::FieldHasher;
use crate::model::{Account, Snapshot};
use crate::native::commit::{
    BatchSize, EpochCommitment, OutputsOpening, RunningState, commit_epoch, leaf_salt,
    padding_salt, secret_element, state_blinding,
};
use crate::native::{EpochEvaluation, Scales, evaluate};
use crate::r1cs::brackets::{UNREACHABLE, size_thresholds};
use crate::secret::VenueSecret;
use ethnum::I256;

/// The epoch parameters as the circuits use them (`docs/SPEC.md` §5.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamsWitness {
    pub(crate) epoch: u64,
    pub(crate) quote_scale: I256,
    pub(crate) reserves: I256,
    pub(crate) insurance_fund: I256,
    pub(crate) unit_value: Vec<I256>,
    pub(crate) unit_requirement: Vec<I256>,
    /// The descriptor `d` of the raw parameters (`crate::descriptor`).
    pub(crate) descriptor: ethnum::U256,
    /// The raw values the Groth16 open layout packs (`docs/SPEC.md` §6.4).
    pub(crate) raw: RawParams,
    /// The derived risk model v2 values the hashed layout reads (§5.5; empty for
    /// risk model v1).
    pub(crate) risk: crate::native::risk::RiskParams,
}

/// The published parameters the Groth16 batch circuit derives the others from
/// (`docs/SPEC.md` §6.4): the scale exponents instead of the scales, the funds in
/// minimal quote units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawParams {
    /// `E − q`: `f_q = 10^(E − q)`.
    pub(crate) quote_exponent: u32,
    /// `reserves`, minimal quote units.
    pub(crate) reserves: u128,
    /// `insurance_fund`, minimal quote units.
    pub(crate) insurance_fund: u128,
    /// Per market: `price_m`, `mm_m` and `E − s_m − p_m`.
    pub(crate) markets: Vec<RawMarket>,
    /// Per market, its brackets after the first, padded to `T − 1` with brackets
    /// no size reaches (risk model v2, `docs/SPEC.md` §6.4); empty lists for `T = 1`.
    pub(crate) brackets: Vec<Vec<RawBracket>>,
    /// Per collateral asset (risk model v2).
    pub(crate) assets: Vec<RawAsset>,
    /// Per market, its liquidation fee rate in bps, if the parameters have the
    /// waterfall (`docs/SPEC.md` §2.4).
    pub(crate) fee_rates: Option<Vec<u16>>,
}

/// One maintenance bracket after a market's first, as the open layout packs it
/// (`docs/SPEC.md` §6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawBracket {
    /// `floor_t`, minimal quote units (0 for a padding bracket).
    pub(crate) floor: u64,
    /// `mm_t` (a padding bracket repeats the market's last rate).
    pub(crate) rate_bps: u16,
    /// `s_t = min(⌈floor_t·f_q / uv_m⌉, 2^63)`: the least `|size|` in the bracket,
    /// derived by the verifier ([`crate::r1cs::brackets::size_thresholds`]; `2^63`
    /// for a padding bracket).
    pub(crate) threshold: u64,
}

/// One collateral asset as the open layout packs it (`docs/SPEC.md` §6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawAsset {
    pub(crate) price: u64,
    pub(crate) ratio_bps: u16,
    /// `E − a_c − p_c`: `f_c = 10^(E − a_c − p_c)`.
    pub(crate) exponent: u32,
    /// `reserves_c`, minimal asset units (`< 2^96`).
    pub(crate) reserves: u128,
}

/// One market's packed parameters (`docs/SPEC.md` §6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawMarket {
    pub(crate) price: u64,
    pub(crate) margin_bps: u16,
    /// `E − s_m − p_m`: `f_m = 10^(E − s_m − p_m)`.
    pub(crate) exponent: u32,
}

impl ParamsWitness {
    /// `d` as `H` embeds it (`d < 2^248`).
    pub fn descriptor_element<H: FieldHasher>(&self) -> H::F {
        H::from_u256(self.descriptor)
    }

    /// Derives the parameters from a validated snapshot's public part.
    pub fn new(params: &crate::model::EpochParams) -> Self {
        let scales = Scales::new(params);
        let e = scales.exponent;
        let padded = crate::shape::brackets_of(params);
        let brackets = (scales.brackets.iter())
            .zip(&scales.unit_value)
            .zip(params.markets())
            .map(|((brackets, uv), m)| {
                let thresholds = size_thresholds(brackets, *uv);
                let mut raw: Vec<RawBracket> = (m.tiers().iter())
                    .zip(&thresholds[1..])
                    .map(|(t, s)| RawBracket {
                        floor: t.notional_floor(),
                        rate_bps: t.maintenance_margin_bps().get(),
                        threshold: *s,
                    })
                    .collect();
                let last_rate = raw
                    .last()
                    .map_or(m.maintenance_margin_bps().get(), |b| b.rate_bps);
                raw.resize(
                    padded - 1,
                    RawBracket {
                        floor: 0,
                        rate_bps: last_rate,
                        threshold: UNREACHABLE,
                    },
                );
                raw
            })
            .collect();
        let assets = params
            .assets()
            .iter()
            .map(|a| RawAsset {
                price: a.price().get(),
                ratio_bps: a.collateral_ratio_bps().get(),
                exponent: e - a.value_decimals(),
                reserves: a.reserves(),
            })
            .collect();
        let raw = RawParams {
            quote_exponent: e - params.quote_decimals(),
            reserves: params.reserves(),
            insurance_fund: params.insurance_fund(),
            markets: params
                .markets()
                .iter()
                .map(|m| RawMarket {
                    price: m.price().get(),
                    margin_bps: m.maintenance_margin_bps().get(),
                    exponent: e - m.notional_decimals(),
                })
                .collect(),
            brackets,
            assets,
            fee_rates: params.has_waterfall().then(|| {
                (params.markets().iter())
                    .map(|m| m.liquidation_fee_bps().get())
                    .collect()
            }),
        };
        Self {
            epoch: params.epoch(),
            reserves: I256::from(params.reserves()) * scales.quote,
            insurance_fund: I256::from(params.insurance_fund()) * scales.quote,
            quote_scale: scales.quote,
            unit_value: scales.unit_value,
            unit_requirement: scales.unit_requirement,
            descriptor: crate::descriptor::descriptor(params),
            raw,
            risk: crate::native::risk::RiskParams::new(params, padded),
        }
    }
}

/// One slot of a batch: a real account or padding, with its salt.
#[derive(Debug, Clone)]
pub struct SlotWitness<F> {
    pub(crate) account: Option<Account>,
    pub(crate) salt: F,
}

/// Everything batch `b`'s circuit needs (`docs/SPEC.md` §6.3).
#[derive(Debug, Clone)]
pub struct BatchWitness<F> {
    pub(crate) batch: u64,
    pub(crate) batch_count: u64,
    pub(crate) params: ParamsWitness,
    pub(crate) outputs: OutputsOpening<F>,
    pub(crate) state_in: RunningState<F>,
    pub(crate) blind_in: F,
    pub(crate) blind_out: F,
    pub(crate) slots: Vec<SlotWitness<F>>,
    /// `C_{b−1}` (`C_init` for `b = 0`) and `C_b` (`docs/SPEC.md` §6.2).
    pub(crate) commitment_in: F,
    pub(crate) commitment_out: F,
    /// The hashed layout's `x_b` (§6.4).
    pub(crate) public_input: F,
}

impl<F: Copy> BatchWitness<F> {
    /// The batch index `b`.
    pub fn batch(&self) -> u64 {
        self.batch
    }
    /// The hashed layout's public input `x_b` (halo2's; `docs/SPEC.md` §6.4).
    pub fn public_input(&self) -> F {
        self.public_input
    }
}

impl<F: Copy> BatchWitness<F> {
    /// The open layout's public inputs (Groth16's; `docs/SPEC.md` §6.4).
    pub fn open_inputs<H: FieldHasher<F = F>>(&self) -> Vec<F> {
        crate::inputs::open_inputs::<H>(
            &self.params,
            self.batch,
            self.batch_count,
            self.commitment_in,
            self.commitment_out,
            &self.outputs,
        )
    }
}

/// A whole epoch, ready to prove: commitments, evaluation and one witness per batch.
#[derive(Debug, Clone)]
pub struct EpochWitness<H: FieldHasher> {
    /// The native commitments.
    pub commitment: EpochCommitment<H>,
    /// The native evaluation (hidden values included: never publish it whole).
    pub evaluation: EpochEvaluation,
    /// The outputs opening shared by all batches.
    pub outputs: OutputsOpening<H::F>,
    /// One witness per batch, in order.
    pub batches: Vec<BatchWitness<H::F>>,
}

/// Builds every batch's witness for `snapshot` (`docs/SPEC.md` §6).
pub fn build_epoch<H: FieldHasher>(
    snapshot: &Snapshot,
    secret: &VenueSecret,
    batch_size: BatchSize,
) -> EpochWitness<H> {
    let commitment = commit_epoch::<H>(snapshot, secret, batch_size);
    let evaluation = evaluate(snapshot);
    let outputs = commitment.outputs(&evaluation, snapshot.params());
    let public_inputs = commitment.public_inputs(&outputs);
    let params = ParamsWitness::new(snapshot.params());
    let epoch = snapshot.params().epoch();
    let s = secret_element::<H>(secret);
    let b = batch_size.get();
    let k = commitment.batch_count();
    let accounts = snapshot.accounts();
    let batches = (0..k)
        .map(|batch| {
            let slots = (0..b)
                .map(|j| {
                    let slot = batch * b + j;
                    match accounts.get(slot) {
                        Some(a) => SlotWitness {
                            account: Some(a.clone()),
                            salt: leaf_salt::<H>(s, epoch, a),
                        },
                        None => SlotWitness {
                            account: None,
                            salt: padding_salt::<H>(s, epoch, slot as u64),
                        },
                    }
                })
                .collect();
            let blind_in = if batch == 0 {
                H::from_u64(0)
            } else {
                state_blinding::<H>(s, epoch, batch as u64 - 1)
            };
            BatchWitness {
                batch: batch as u64,
                batch_count: k as u64,
                params: params.clone(),
                outputs,
                state_in: commitment.states[batch].clone(),
                blind_in,
                blind_out: state_blinding::<H>(s, epoch, batch as u64),
                slots,
                commitment_in: commitment.state_commitments[batch],
                commitment_out: commitment.state_commitments[batch + 1],
                public_input: public_inputs[batch],
            }
        })
        .collect();
    EpochWitness {
        commitment,
        evaluation,
        outputs,
        batches,
    }
}
