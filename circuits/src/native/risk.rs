//! Per-account margin and per-epoch aggregates, exactly (`docs/SPEC.md` §2, §3).
//!
//! All amounts are integers in common units of `10^-E` quote, where `E` is
//! [`EpochParams::common_exponent`]. The maintenance requirement and the margin value
//! are kept multiplied by 10000 (`MR' = 10000 · MR`, `MV' = 10000 · MV`) so that no
//! division ever happens: `liquidatable ⇔ MV' < MR'`. Without collateral assets
//! `MV' = 10000 · TV`, and without maintenance brackets `MR'` is the flat rate's, so
//! a risk model v1 snapshot evaluates exactly as it always did.

use crate::bounds::BPS_DENOMINATOR;
use crate::model::{Account, AccountId, EpochParams, Snapshot};
use crate::native::waterfall::{self, Waterfall, WaterfallInputs};
use ethnum::I256;

/// Scale factors of an epoch, computed once (`docs/SPEC.md` §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scales {
    /// `E`.
    pub exponent: u32,
    /// `f_q = 10^(E - q)`.
    pub quote: I256,
    /// `price_m · f_m` per market: the value of one minimal size unit in common units.
    pub unit_value: Vec<I256>,
    /// `price_m · f_m · mm_bps_m` per market: one minimal size unit's `MR'` at the
    /// first bracket's rate.
    pub unit_requirement: Vec<I256>,
    /// Per market, its brackets from the first (`docs/SPEC.md` §2.2).
    pub brackets: Vec<Vec<Bracket>>,
    /// `price_c · f_c` per asset: the value of one minimal asset unit in common units.
    pub asset_unit_value: Vec<I256>,
    /// `collateral_ratio_bps_c` per asset.
    pub asset_ratio_bps: Vec<I256>,
    /// `lf_m` per market: the liquidation fee rate in bps (`docs/SPEC.md` §2.4).
    pub liquidation_fee_bps: Vec<I256>,
}

/// One maintenance bracket of a market, in common units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bracket {
    /// `floor_t · f_q`: the least notional (common units) the bracket applies from
    /// (0 for the first).
    pub floor: I256,
    /// `mm_t`, in bps.
    pub rate_bps: I256,
    /// `cum'_t = cum'_{t−1} + floor_t · f_q · (mm_t − mm_{t−1})`, `cum'_0 = 0`: 10000
    /// times the bracket's maintenance amount.
    pub cum_bps: I256,
}

impl Bracket {
    /// `n · mm_t − cum'_t`: 10000 times the requirement of a notional `n` (common
    /// units) if this bracket applies.
    pub fn requirement_bps(&self, notional: I256) -> I256 {
        notional * self.rate_bps - self.cum_bps
    }
}

/// The bracket that applies to a notional: the last whose floor is at most it.
pub fn bracket_of(brackets: &[Bracket], notional: I256) -> Option<&Bracket> {
    brackets.iter().rev().find(|b| b.floor <= notional)
}

impl Scales {
    /// Derives the scales from public parameters.
    pub fn new(params: &EpochParams) -> Self {
        let scales = params.market_scales();
        let unit_value: Vec<I256> = params
            .markets()
            .iter()
            .zip(&scales)
            .map(|(m, f)| I256::from(m.price().get()) * *f)
            .collect();
        let unit_requirement = params
            .markets()
            .iter()
            .zip(&unit_value)
            .map(|(m, v)| *v * I256::from(m.maintenance_margin_bps().get()))
            .collect();
        let quote = params.quote_scale();
        let brackets = params
            .markets()
            .iter()
            .map(|m| {
                let mut out = vec![Bracket {
                    floor: I256::ZERO,
                    rate_bps: I256::from(m.maintenance_margin_bps().get()),
                    cum_bps: I256::ZERO,
                }];
                for t in m.tiers() {
                    let before = out[out.len() - 1];
                    let floor = I256::from(t.notional_floor()) * quote;
                    let rate_bps = I256::from(t.maintenance_margin_bps().get());
                    out.push(Bracket {
                        floor,
                        rate_bps,
                        cum_bps: before.cum_bps + floor * (rate_bps - before.rate_bps),
                    });
                }
                out
            })
            .collect();
        let asset_unit_value = params
            .assets()
            .iter()
            .zip(params.asset_scales())
            .map(|(a, f)| I256::from(a.price().get()) * f)
            .collect();
        let asset_ratio_bps = params
            .assets()
            .iter()
            .map(|a| I256::from(a.collateral_ratio_bps().get()))
            .collect();
        let liquidation_fee_bps = params
            .markets()
            .iter()
            .map(|m| I256::from(m.liquidation_fee_bps().get()))
            .collect();
        Self {
            exponent: params.common_exponent(),
            quote,
            unit_value,
            unit_requirement,
            brackets,
            asset_unit_value,
            asset_ratio_bps,
            liquidation_fee_bps,
        }
    }
}

/// The risk model v2 parameters the hashed layouts read, in derived form
/// (`docs/SPEC.md` §5.5): the halo2 batch circuit and the attestation circuit take
/// them as witnesses bound by `params_hash`, so the verifier derives each of them
/// from validated published values and no circuit range-checks them.
///
/// Brackets are read per threshold: with `b_t = [|size| ≥ s_t]`,
/// `MR'_m = |size|·ur_m + Σ_{t ≥ 1} b_t·(|size|·δur_t − δcum_t)`, which telescopes
/// to `n·mm_t − cum'_t` for the last bracket `t` whose floor `n` reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskParams {
    /// Per market, its brackets after the first, padded to `T − 1`:
    /// `[s_t, δur_t, δcum_t]` with `s_t` the size threshold
    /// (`crate::r1cs::brackets::size_thresholds`), `δur_t = uv_m·(mm_t − mm_{t−1})`
    /// and `δcum_t = cum'_t − cum'_{t−1} = floor_t·f_q·(mm_t − mm_{t−1})`. A padding
    /// bracket is `[2^63, 0, 0]`: no size reaches it and it adds nothing.
    pub brackets: Vec<Vec<[I256; 3]>>,
    /// Per asset: `[uv_c, lv_c, reserves_c]` with `uv_c = price_c·f_c`, the haircut
    /// `lv_c = uv_c·(10000 − ratio_bps_c)` a held unit loses in `MV'`, and the
    /// reserves in minimal asset units.
    pub assets: Vec<[I256; 3]>,
    /// `reserves·f_q + Σ_c reserves_c·uv_c`: what `L` is compared with.
    pub total_reserves: I256,
}

impl RiskParams {
    /// The derived values of `params` for a shape of `brackets` brackets per market
    /// (at least the largest market's; see [`crate::shape::CircuitShape::for_params`]).
    pub fn new(params: &EpochParams, brackets: usize) -> Self {
        let scales = Scales::new(params);
        let per_market = (scales.brackets.iter())
            .zip(&scales.unit_value)
            .map(|(bs, uv)| {
                let thresholds = crate::r1cs::brackets::size_thresholds(bs, *uv);
                let mut steps: Vec<[I256; 3]> = (1..bs.len())
                    .map(|t| {
                        let rise = bs[t].rate_bps - bs[t - 1].rate_bps;
                        [
                            I256::from(thresholds[t]),
                            *uv * rise,
                            bs[t].cum_bps - bs[t - 1].cum_bps,
                        ]
                    })
                    .collect();
                let unreachable = I256::from(crate::r1cs::brackets::UNREACHABLE);
                steps.resize(
                    brackets.saturating_sub(1),
                    [unreachable, I256::ZERO, I256::ZERO],
                );
                steps
            })
            .collect();
        let bps = I256::from(BPS_DENOMINATOR);
        let assets: Vec<[I256; 3]> = (params.assets().iter())
            .zip(&scales.asset_unit_value)
            .zip(&scales.asset_ratio_bps)
            .map(|((a, uv), ratio)| [*uv, *uv * (bps - *ratio), I256::from(a.reserves())])
            .collect();
        let total_reserves = assets.iter().fold(
            I256::from(params.reserves()) * scales.quote,
            |acc, [uv, _, reserves]| acc + *reserves * *uv,
        );
        Self {
            brackets: per_market,
            assets,
            total_reserves,
        }
    }

    /// Whether these are risk model v2 parameters: brackets after the first, or
    /// assets.
    pub fn is_v2(&self) -> bool {
        self.brackets.iter().any(|b| !b.is_empty()) || !self.assets.is_empty()
    }

    /// The values `params_hash` absorbs after the markets' (`docs/SPEC.md` §5.5):
    /// per market its brackets' `s_t, δur_t, δcum_t`, per asset `uv_c, lv_c,
    /// reserves_c`, then the total reserves; nothing for risk model v1.
    pub fn hashed(&self) -> Vec<I256> {
        if !self.is_v2() {
            return Vec::new();
        }
        let mut out: Vec<I256> = self.brackets.iter().flatten().flatten().copied().collect();
        out.extend(self.assets.iter().flatten().copied());
        out.push(self.total_reserves);
        out
    }
}

/// One account's risk at the epoch's prices, in common units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountRisk {
    /// `TV = balance · f_q + Σ_c amount_c · price_c · f_c + Σ_m size_m · price_m · f_m`:
    /// the equity at full value (`EQ` of `docs/SPEC.md` §2.2).
    pub total_value: I256,
    /// `MR' = Σ_m (n_m · mm_t − cum'_t)`, `n_m = |size_m| · price_m · f_m` and `t` the
    /// bracket of `n_m` (10000 times the requirement; `Σ |size_m| · price_m · f_m ·
    /// mm_bps_m` for flat rates).
    pub requirement_bps: I256,
    /// `MV' = 10000 · (balance · f_q + Σ_m size_m · price_m · f_m) + Σ_c amount_c ·
    /// price_c · f_c · w'_c`, `w'_c` the collateral ratio in bps for a held amount and
    /// 10000 for a debt (10000 times the margin value; `10000 · TV` without assets).
    pub margin_value_bps: I256,
    /// `MV' < MR'`: strictly below maintenance (equality is healthy).
    pub liquidatable: bool,
    /// `max(TV, 0)`: what the venue owes this account's owner.
    pub liability: I256,
    /// `max(-TV, 0)`: the account's negative equity.
    pub bad_debt: I256,
    /// `fee' = 10^4 · fee_i`: `min(Σ_m n_m · lf_m, 10^4 · max(TV, 0))` if
    /// liquidatable, else 0 (`docs/SPEC.md` §2.4).
    pub liquidation_fee: I256,
    /// `E'' = 10^4 · max(TV − fee_i, 0)`: the base of the account's haircut.
    pub haircut_base: I256,
}

impl AccountRisk {
    /// `MV' − MR'`: the account is liquidatable iff this is negative.
    pub fn margin_slack(&self) -> I256 {
        self.margin_value_bps - self.requirement_bps
    }
}

/// Evaluates one account (`docs/SPEC.md` §2.2). The account must have one size per
/// market and one amount per asset, which [`Snapshot::new`] guarantees.
pub fn account_risk(scales: &Scales, account: &Account) -> AccountRisk {
    let bps = I256::from(BPS_DENOMINATOR);
    let mut perp_value = I256::from(account.quote_balance().get()) * scales.quote;
    let mut requirement_bps = I256::ZERO;
    let mut fee_notional_bps = I256::ZERO;
    for (((size, unit_value), brackets), fee_bps) in account
        .sizes()
        .iter()
        .zip(&scales.unit_value)
        .zip(&scales.brackets)
        .zip(&scales.liquidation_fee_bps)
    {
        let s = I256::from(size.get());
        perp_value += s * *unit_value;
        let notional = s.abs() * *unit_value;
        fee_notional_bps += notional * *fee_bps;
        // The first bracket's floor is 0, so a bracket always applies.
        if let Some(b) = bracket_of(brackets, notional) {
            requirement_bps += b.requirement_bps(notional);
        }
    }
    let mut total_value = perp_value;
    let mut margin_value_bps = perp_value * bps;
    for ((amount, unit_value), ratio) in account
        .amounts()
        .iter()
        .zip(&scales.asset_unit_value)
        .zip(&scales.asset_ratio_bps)
    {
        let (value, margin_bps) = asset_contribution(I256::from(amount.get()), *unit_value, *ratio);
        total_value += value;
        margin_value_bps += margin_bps;
    }
    let liquidatable = margin_value_bps < requirement_bps;
    let liability = total_value.max(I256::ZERO);
    let liquidation_fee = waterfall::liquidation_fee(fee_notional_bps, liability, liquidatable);
    AccountRisk {
        total_value,
        requirement_bps,
        margin_value_bps,
        liquidatable,
        liability,
        bad_debt: (-total_value).max(I256::ZERO),
        liquidation_fee,
        haircut_base: waterfall::haircut_base(liability, liquidation_fee),
    }
}

/// One asset amount's part of an account's values (`docs/SPEC.md` §2.2):
/// `(amount · uv_c, amount · uv_c · w'_c)`, its value at full price (in `TV`) and
/// 10000 times its margin value (in `MV'`), where `w'_c` is the collateral ratio
/// `ratio_bps` for a held amount and 10000 for a debt. The R1CS twin is
/// `crate::r1cs::collateral`.
pub fn asset_contribution(amount: I256, unit_value: I256, ratio_bps: I256) -> (I256, I256) {
    let value = amount * unit_value;
    // A held amount counts at its collateral ratio, a debt in full.
    let weight = if value > I256::ZERO {
        ratio_bps
    } else {
        I256::from(BPS_DENOMINATOR)
    };
    (value, value * weight)
}

/// The epoch's aggregates (`docs/SPEC.md` §2.3). `total_liabilities` is hidden
/// unless the venue opts to disclose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochEvaluation {
    /// The epoch id.
    pub epoch: u64,
    /// `E`: totals below are in units of `10^-E` quote.
    pub exponent: u32,
    /// Ids of liquidatable accounts, ascending.
    pub liquidations: Vec<AccountId>,
    /// `D = Σ max(-TV, 0)`.
    pub bad_debt: I256,
    /// `L = Σ max(TV, 0)`.
    pub total_liabilities: I256,
    /// `reserves · f_q`.
    pub reserves: I256,
    /// `insurance_fund · f_q`.
    pub insurance_fund: I256,
    /// `Σ_c reserves_c · price_c · f_c`: the value of the venue's asset holdings.
    pub asset_reserves: I256,
    /// `L ≤ reserves · f_q + Σ_c reserves_c · price_c · f_c`.
    pub solvent: bool,
    /// `D ≤ insurance_fund`.
    pub insurance_covered: bool,
    /// Per asset, in declaration order: `Σ_i max(amount_{i,c}, 0) ≤ reserves_c`.
    pub asset_solvency: Vec<bool>,
    /// Per asset: `Σ_i max(amount_{i,c}, 0)`, what the venue owes its users of the
    /// asset (hidden in published artifacts).
    pub asset_owed: Vec<I256>,
    /// The default waterfall (`docs/SPEC.md` §2.4).
    pub waterfall: Waterfall,
    /// Number of accounts (hidden in published artifacts beyond batch granularity).
    pub account_count: usize,
}

/// Evaluates a whole snapshot.
pub fn evaluate(snapshot: &Snapshot) -> EpochEvaluation {
    let params = snapshot.params();
    let scales = Scales::new(params);
    let mut liquidations = Vec::new();
    let mut bad_debt = I256::ZERO;
    let mut total_liabilities = I256::ZERO;
    let mut asset_owed = vec![I256::ZERO; params.assets().len()];
    let mut waterfall_inputs = WaterfallInputs::default();
    for account in snapshot.accounts() {
        let risk = account_risk(&scales, account);
        waterfall_inputs.push(risk.liquidation_fee, risk.haircut_base);
        if risk.liquidatable {
            liquidations.push(account.id());
        }
        bad_debt += risk.bad_debt;
        total_liabilities += risk.liability;
        for (owed, amount) in asset_owed.iter_mut().zip(account.amounts()) {
            *owed += I256::from(amount.get().max(0));
        }
    }
    let reserves = I256::from(params.reserves()) * scales.quote;
    let insurance_fund = I256::from(params.insurance_fund()) * scales.quote;
    let asset_reserves = params
        .assets()
        .iter()
        .zip(&scales.asset_unit_value)
        .fold(I256::ZERO, |acc, (a, v)| {
            acc + I256::from(a.reserves()) * *v
        });
    let asset_solvency = params
        .assets()
        .iter()
        .zip(&asset_owed)
        .map(|(a, owed)| *owed <= I256::from(a.reserves()))
        .collect();
    EpochEvaluation {
        waterfall: waterfall::waterfall(bad_debt, insurance_fund, &waterfall_inputs),
        epoch: params.epoch(),
        exponent: scales.exponent,
        liquidations,
        solvent: total_liabilities <= reserves + asset_reserves,
        insurance_covered: bad_debt <= insurance_fund,
        asset_reserves,
        asset_solvency,
        asset_owed,
        bad_debt,
        total_liabilities,
        reserves,
        insurance_fund,
        account_count: snapshot.accounts().len(),
    }
}
