//! Per-account margin and per-epoch aggregates, exactly (`docs/SPEC.md` §2, §3).
//!
//! All amounts are integers in common units of `10^-E` quote, where `E` is
//! [`EpochParams::common_exponent`]. The maintenance requirement is kept multiplied
//! by 10000 (`MR' = 10000 · MR`) so that no division ever happens:
//! `liquidatable ⇔ 10000 · TV < MR'`.

use crate::bounds::BPS_DENOMINATOR;
use crate::model::{Account, AccountId, EpochParams, Snapshot};
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
    /// `price_m · f_m · mm_bps_m` per market: one minimal size unit's `MR'`.
    pub unit_requirement: Vec<I256>,
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
        Self {
            exponent: params.common_exponent(),
            quote: params.quote_scale(),
            unit_value,
            unit_requirement,
        }
    }
}

/// One account's risk at the epoch's prices, in common units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountRisk {
    /// `TV = balance · f_q + Σ size_m · price_m · f_m`.
    pub total_value: I256,
    /// `MR' = Σ |size_m| · price_m · f_m · mm_bps_m` (10000 times the requirement).
    pub requirement_bps: I256,
    /// `10000 · TV < MR'`: strictly below maintenance (equality is healthy).
    pub liquidatable: bool,
    /// `max(TV, 0)`: what the venue owes this account's owner.
    pub liability: I256,
    /// `max(-TV, 0)`: the account's negative equity.
    pub bad_debt: I256,
}

impl AccountRisk {
    /// `10000 · TV − MR'`: the account is liquidatable iff this is negative.
    pub fn margin_slack(&self) -> I256 {
        self.total_value * I256::from(BPS_DENOMINATOR) - self.requirement_bps
    }
}

/// Evaluates one account (`docs/SPEC.md` §2.2). The account must have one size per
/// market, which [`Snapshot::new`] guarantees.
pub fn account_risk(scales: &Scales, account: &Account) -> AccountRisk {
    let mut total_value = I256::from(account.quote_balance().get()) * scales.quote;
    let mut requirement_bps = I256::ZERO;
    for ((size, unit_value), unit_req) in account
        .sizes()
        .iter()
        .zip(&scales.unit_value)
        .zip(&scales.unit_requirement)
    {
        let s = I256::from(size.get());
        total_value += s * *unit_value;
        requirement_bps += s.abs() * *unit_req;
    }
    let liquidatable = total_value * I256::from(BPS_DENOMINATOR) < requirement_bps;
    AccountRisk {
        total_value,
        requirement_bps,
        liquidatable,
        liability: total_value.max(I256::ZERO),
        bad_debt: (-total_value).max(I256::ZERO),
    }
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
    /// `L ≤ reserves`.
    pub solvent: bool,
    /// `D ≤ insurance_fund`.
    pub insurance_covered: bool,
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
    for account in snapshot.accounts() {
        let risk = account_risk(&scales, account);
        if risk.liquidatable {
            liquidations.push(account.id());
        }
        bad_debt += risk.bad_debt;
        total_liabilities += risk.liability;
    }
    let reserves = I256::from(params.reserves()) * scales.quote;
    let insurance_fund = I256::from(params.insurance_fund()) * scales.quote;
    EpochEvaluation {
        epoch: params.epoch(),
        exponent: scales.exponent,
        liquidations,
        solvent: total_liabilities <= reserves,
        insurance_covered: bad_debt <= insurance_fund,
        bad_debt,
        total_liabilities,
        reserves,
        insurance_fund,
        account_count: snapshot.accounts().len(),
    }
}
