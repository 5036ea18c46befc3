//! The published outputs of an epoch (`docs/SPEC.md` §2.3, §7).
//!
//! [`PublicOutputs`] is what `backstop evaluate` prints and what every proving
//! backend publishes: the same JSON object, byte for byte, so that the native engine,
//! Groth16 and halo2 can be compared by equality.

use crate::decimal::format_scaled;
use crate::model::EpochParams;
use crate::native::EpochEvaluation;
use serde::{Deserialize, Serialize};

/// The epoch's public outputs. Nothing per-account except the liquidation set.
///
/// This is what `backstop evaluate` prints and what a statement publishes at its
/// top level; a snapshot without collateral assets has no `asset_solvency`, so its
/// outputs are those of risk model v1, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicOutputs {
    /// The epoch id (a decimal string in JSON, `crate::json`).
    #[serde(with = "crate::json::u64_string")]
    pub epoch: u64,
    /// Ids of liquidatable accounts, ascending, as decimal strings (u64 does not fit
    /// a JSON number exactly in every reader).
    pub liquidations: Vec<String>,
    /// Total bad debt `D` in quote units, exact (at least `quote_decimals` places,
    /// more only where the value needs them).
    pub bad_debt: String,
    /// Total liabilities `L` in quote units, exact like `bad_debt`, only if the venue
    /// discloses it (`docs/SPEC.md` §6.4); absent, `L` stays hidden.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liabilities: Option<String>,
    /// `L ≤ reserves + Σ_c reserves_c · price_c`.
    pub solvent: bool,
    /// `D ≤ insurance_fund`.
    pub insurance_covered: bool,
    /// Risk model v2: for each collateral asset, in declaration order, whether
    /// `Σ_i max(amount_{i,c}, 0) ≤ reserves_c` (an object from symbol to boolean;
    /// absent without assets). The per-asset totals stay hidden.
    #[serde(default, skip_serializing_if = "AssetSolvency::is_empty")]
    pub asset_solvency: AssetSolvency,
    /// Risk model v2: for each asset whose total the venue discloses
    /// (`prove --disclose-asset-totals`), `Σ_i max(amount_{i,c}, 0)` in asset units,
    /// exact with `amount_decimals` places (an object from symbol to decimal string,
    /// in declaration order; absent when no total is disclosed, `docs/SPEC.md` §2.3).
    #[serde(default, skip_serializing_if = "AssetTotals::is_empty")]
    pub asset_totals: AssetTotals,
    /// The default waterfall (`docs/SPEC.md` §2.4): `F`, the fees liquidated
    /// accounts pay, in quote units, exact (at least `quote_decimals` places). The
    /// six waterfall fields are all present or all absent: present exactly when a
    /// market declares `liquidation_fee_bps`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liquidation_fees: Option<String>,
    /// `draw = min(D, insurance_fund + F)`, in quote units, exact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insurance_draw: Option<String>,
    /// `insurance_fund + F − draw`, in quote units, exact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insurance_fund_after: Option<String>,
    /// `D − draw`: the bad debt socialized, in quote units, exact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deficit: Option<String>,
    /// `h`: the least haircut rate in parts per billion whose haircuts cover the
    /// deficit (`10^9` on a shortfall, 0 without a deficit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub haircut_ppb: Option<u32>,
    /// Whether even `h = 10^9` leaves part of the deficit uncovered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shortfall: Option<bool>,
}

/// A waterfall amount (units of `10^-(E+4)` quote, `docs/SPEC.md` §2.4) as
/// published: in quote units, exact, at least `quote_decimals` places.
pub fn format_waterfall_amount(params: &EpochParams, value: ethnum::I256) -> String {
    format_scaled(
        value,
        params.common_exponent() + crate::native::waterfall::AMOUNT_EXTRA_DECIMALS,
        params.quote_decimals(),
    )
}

impl PublicOutputs {
    /// The published outputs of an evaluation.
    pub fn from_evaluation(params: &EpochParams, eval: &EpochEvaluation) -> Self {
        Self {
            epoch: eval.epoch,
            liquidations: eval.liquidations.iter().map(|id| id.to_string()).collect(),
            bad_debt: format_scaled(eval.bad_debt, eval.exponent, params.quote_decimals()),
            liabilities: params.liabilities_disclosed().then(|| {
                format_scaled(
                    eval.total_liabilities,
                    eval.exponent,
                    params.quote_decimals(),
                )
            }),
            solvent: eval.solvent,
            insurance_covered: eval.insurance_covered,
            asset_solvency: AssetSolvency(
                params
                    .assets()
                    .iter()
                    .zip(&eval.asset_solvency)
                    .map(|(a, ok)| (a.symbol().to_owned(), *ok))
                    .collect(),
            ),
            asset_totals: AssetTotals(
                (params.assets().iter().zip(&eval.asset_owed).enumerate())
                    .filter(|(c, _)| params.asset_total_disclosed(*c))
                    .map(|(_, (a, owed))| (a.symbol().to_owned(), format_asset_total(a, *owed)))
                    .collect(),
            ),
            liquidation_fees: None,
            insurance_draw: None,
            insurance_fund_after: None,
            deficit: None,
            haircut_ppb: None,
            shortfall: None,
        }
        .with_waterfall(params, eval)
    }

    /// These outputs with the waterfall's six fields set from `eval` if `params`
    /// declare a liquidation fee (`docs/SPEC.md` §2.4), unchanged otherwise.
    fn with_waterfall(mut self, params: &EpochParams, eval: &EpochEvaluation) -> Self {
        if !params.has_waterfall() {
            return self;
        }
        let w = &eval.waterfall;
        let amount = |v| Some(format_waterfall_amount(params, v));
        self.liquidation_fees = amount(w.liquidation_fees);
        self.insurance_draw = amount(w.insurance_draw);
        self.insurance_fund_after = amount(w.insurance_fund_after);
        self.deficit = amount(w.deficit);
        self.haircut_ppb = Some(w.haircut_ppb);
        self.shortfall = Some(w.shortfall);
        self
    }
}

/// A per-asset total `h_c` (minimal asset units) as published: in asset units,
/// exactly `amount_decimals` fractional digits.
pub fn format_asset_total(asset: &crate::model::Asset, total: ethnum::I256) -> String {
    format_scaled(total, asset.amount_decimals(), asset.amount_decimals())
}

/// The disclosed per-asset totals, a JSON object from symbol to exact decimal
/// string in asset units (written in declaration order, read back in document
/// order; a repeated symbol is refused).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AssetTotals(pub Vec<(String, String)>);

impl AssetTotals {
    /// No total disclosed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for AssetTotals {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (symbol, total) in &self.0 {
            map.serialize_entry(symbol, total)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for AssetTotals {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Totals;
        impl<'de> serde::de::Visitor<'de> for Totals {
            type Value = AssetTotals;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("an object from asset symbol to decimal string")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut totals: Vec<(String, String)> = Vec::new();
                while let Some((symbol, total)) = map.next_entry::<String, String>()? {
                    if totals.iter().any(|(s, _)| *s == symbol) {
                        return Err(serde::de::Error::custom(format!(
                            "duplicate key {symbol:?}: one total per asset"
                        )));
                    }
                    totals.push((symbol, total));
                }
                Ok(AssetTotals(totals))
            }
        }
        deserializer.deserialize_map(Totals)
    }
}

/// Per-asset solvency in declaration order, a JSON object from symbol to boolean
/// (read back in document order; a repeated symbol is refused).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AssetSolvency(pub Vec<(String, bool)>);

impl AssetSolvency {
    /// No assets declared.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The flags as the circuit opens them: bit `c` set iff asset `c` is solvent.
    pub fn bits(&self) -> u16 {
        let flags: Vec<bool> = self.0.iter().map(|(_, ok)| *ok).collect();
        crate::native::commit::asset_solvency_bits(&flags)
    }
}

impl Serialize for AssetSolvency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (symbol, solvent) in &self.0 {
            map.serialize_entry(symbol, solvent)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for AssetSolvency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Flags;
        impl<'de> serde::de::Visitor<'de> for Flags {
            type Value = AssetSolvency;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("an object from asset symbol to boolean")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut flags: Vec<(String, bool)> = Vec::new();
                while let Some((symbol, solvent)) = map.next_entry::<String, bool>()? {
                    if flags.iter().any(|(s, _)| *s == symbol) {
                        return Err(serde::de::Error::custom(format!(
                            "duplicate key {symbol:?}: one flag per asset"
                        )));
                    }
                    flags.push((symbol, solvent));
                }
                Ok(AssetSolvency(flags))
            }
        }
        deserializer.deserialize_map(Flags)
    }
}

use crate::bounds::MAX_ACCOUNTS;
use crate::decimal::{DecimalError, parse_unsigned_scaled, parse_unsigned_u256};
use crate::descriptor::VenueAddress;
use crate::hash::FieldHasher;
use crate::inputs::open_inputs;
use crate::model::{
    AccountId, Asset, MarginBps, Market, ModelError, OwnerBinding, Price, RatioBps, Tier,
    check_decimals,
};
use crate::native::commit::{
    OutputsOpening, RunningState, accounts_chain_start, batch_params_hash, batch_public_input,
    challenge, liquidation_product, liquidations_hash, outputs_hash, state_commitment,
};
use crate::shape::{CircuitShape, STATEMENT_VERSION, ShapeError};
use crate::witness::ParamsWitness;
use ethnum::I256;
use thiserror::Error;

/// The proof system an epoch was proven with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Backend {
    /// Groth16 over BN254 (on-chain path).
    #[serde(rename = "groth16-bn254")]
    Groth16Bn254,
    /// halo2 with IPA over Pasta (transparent path).
    #[serde(rename = "halo2-pasta")]
    Halo2Pasta,
}

impl Backend {
    /// The backend's byte in the statement hash (`docs/SPEC.md` §7.5).
    pub fn id(self) -> u8 {
        match self {
            Backend::Groth16Bn254 => 1,
            Backend::Halo2Pasta => 2,
        }
    }
}

impl core::fmt::Display for Backend {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Backend::Groth16Bn254 => "groth16-bn254",
            Backend::Halo2Pasta => "halo2-pasta",
        })
    }
}

/// One market as published (`docs/SPEC.md` §4.1, §7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedMarket {
    /// Symbol.
    pub symbol: String,
    /// Oracle price, exact decimal.
    pub price: String,
    /// Decimals of the price.
    pub price_decimals: u32,
    /// Decimals of sizes.
    pub size_decimals: u32,
    /// Maintenance margin rate (the first bracket's).
    pub maintenance_margin_bps: u16,
    /// Risk model v2: the further maintenance brackets, absent for a flat rate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<PublishedTier>,
    /// The waterfall (`docs/SPEC.md` §2.4): the liquidation fee rate in bps, absent
    /// if the market declares none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liquidation_fee_bps: Option<u16>,
}

/// One maintenance bracket beyond a market's first, as published (`docs/SPEC.md`
/// §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedTier {
    /// The floor of position notional, exact decimal in quote units.
    pub notional_floor: String,
    /// The bracket's rate.
    pub maintenance_margin_bps: u16,
}

/// One collateral asset as published (risk model v2, `docs/SPEC.md` §2.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedAsset {
    /// Symbol.
    pub symbol: String,
    /// Oracle price of one whole unit in quote, exact decimal.
    pub price: String,
    /// Decimals of the price.
    pub price_decimals: u32,
    /// Decimals of amounts.
    pub amount_decimals: u32,
    /// The share of a held amount's value that counts as margin.
    pub collateral_ratio_bps: u16,
    /// The venue's holdings, exact decimal in asset units.
    pub reserves: String,
}

/// The circuit shape as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedShape {
    /// [`CircuitShape::id`].
    pub id: String,
    /// `B`.
    #[serde(with = "crate::json::u64_string")]
    pub batch_size: u64,
    /// `M`.
    pub markets: usize,
    /// `T`, brackets per market (risk model v2; absent: 1).
    #[serde(
        default = "crate::json::one",
        skip_serializing_if = "crate::json::is_one"
    )]
    pub brackets: usize,
    /// `A`, collateral assets (risk model v2; absent: 0).
    #[serde(default, skip_serializing_if = "crate::json::is_zero")]
    pub assets: usize,
    /// Whether the shape proves the default waterfall (`docs/SPEC.md` §2.4; absent:
    /// false).
    #[serde(default, skip_serializing_if = "crate::json::is_false")]
    pub waterfall: bool,
}

/// `statement.json`: everything an epoch publishes (`docs/SPEC.md` §7). Field
/// elements are `0x` + 64 hex digits, big-endian.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementFile {
    /// Statement encoding version.
    pub version: u32,
    /// Proof system.
    pub backend: Backend,
    /// Circuit shape.
    pub shape: PublishedShape,
    /// SHA-256 of the verifying key's canonical bytes, hex.
    pub verifying_key_hash: String,
    /// The venue's address, `0x` + 40 lowercase hex digits (`docs/SPEC.md` §7.5).
    pub venue: String,
    /// Which accounts carry an owner commitment: `none`, `partial` or `all`
    /// (`docs/SPEC.md` §5.2; the venue's declaration, bound by the descriptor and
    /// checked by each owner).
    pub owner_binding: String,
    /// The epoch id.
    #[serde(with = "crate::json::u64_string")]
    pub epoch: u64,
    /// Decimals of the quote currency.
    pub quote_decimals: u32,
    /// Reserves, exact decimal in quote units.
    pub reserves: String,
    /// Insurance fund, exact decimal in quote units.
    pub insurance_fund: String,
    /// The markets with their oracle prices.
    pub markets: Vec<PublishedMarket>,
    /// Risk model v2: the collateral assets with their oracle prices and the venue's
    /// holdings, absent without assets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<PublishedAsset>,
    /// `K`.
    #[serde(with = "crate::json::u64_string")]
    pub batch_count: u64,
    /// The accounts commitment `a_K`.
    pub accounts_commitment: String,
    /// `C_0 … C_{K−1}`, the hiding commitments to the state after each batch.
    pub state_commitments: Vec<String>,
    /// Liquidatable ids, ascending, as decimal strings.
    pub liquidations: Vec<String>,
    /// `D`, exact decimal in quote units.
    pub bad_debt: String,
    /// `L`, exact decimal in quote units, only if the venue discloses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liabilities: Option<String>,
    /// `L ≤ reserves + Σ_c reserves_c · price_c`.
    pub solvent: bool,
    /// `D ≤ insurance_fund`.
    pub insurance_covered: bool,
    /// Risk model v2: per asset, `Σ_i max(amount_{i,c}, 0) ≤ reserves_c`.
    #[serde(default, skip_serializing_if = "AssetSolvency::is_empty")]
    pub asset_solvency: AssetSolvency,
    /// Risk model v2: the per-asset totals the venue discloses, symbol to exact
    /// decimal in asset units; absent when none is disclosed.
    #[serde(default, skip_serializing_if = "AssetTotals::is_empty")]
    pub asset_totals: AssetTotals,
    /// The waterfall (`docs/SPEC.md` §2.4), present exactly when a market declares
    /// `liquidation_fee_bps`: `F`, exact decimal in quote units (bound by the
    /// proofs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liquidation_fees: Option<String>,
    /// `min(D, insurance_fund + F)` (derived by the verifier and checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insurance_draw: Option<String>,
    /// `insurance_fund + F − draw` (derived and checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insurance_fund_after: Option<String>,
    /// `D − draw` (derived and checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deficit: Option<String>,
    /// `h` in ppb (bound by the proofs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub haircut_ppb: Option<u32>,
    /// `shortfall` (bound by the proofs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shortfall: Option<bool>,
    /// The venue's signature of the statement hash (`docs/SPEC.md` §7.5): `0x` +
    /// 130 lowercase hex digits, `r ‖ s ‖ v`. Absent until the venue signs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// Why a published statement was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StatementError {
    /// A field that does not parse or is out of bounds.
    #[error("statement field {field}: {reason}")]
    Field {
        /// The field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// Parameters refused by the model.
    #[error("statement parameters: {0}")]
    Model(#[from] ModelError),
    /// Shape refused.
    #[error("statement shape: {0}")]
    Shape(#[from] ShapeError),
    /// Another statement version.
    #[error(
        "statement version {0} is not supported (this build reads version {STATEMENT_VERSION}; \
         a version 1 statement bound fewer of its fields and is not reinterpreted)"
    )]
    Version(u64),
}

/// The domain of the statement hash (`docs/SPEC.md` §7.5).
pub const STATEMENT_DOMAIN: &[u8] = b"backstop.statement.v2";

/// Refuses a second spelling of an exact decimal: the canonical one is the shortest
/// with at least `min_places` fractional digits (what [`publish`] writes), so that a
/// value has one spelling and a reader cannot be shown `1.50` where `1.5` was signed.
fn canonical(
    field: &str,
    text: &str,
    value: I256,
    decimals: u32,
    min_places: u32,
) -> Result<(), StatementError> {
    let expected = crate::decimal::format_scaled(value, decimals, min_places);
    if text == expected {
        Ok(())
    } else {
        Err(field_error(
            field,
            format!("{text:?} is not the canonical spelling {expected:?}"),
        ))
    }
}

fn field_error(field: impl Into<String>, reason: impl ToString) -> StatementError {
    StatementError::Field {
        field: field.into(),
        reason: reason.to_string(),
    }
}

/// A market's published `tiers` (`markets[i].tiers[t]`): floors canonical exact
/// decimals in quote units, the model's rules (increasing floors, non-decreasing
/// rates, at most 8 brackets) as for a snapshot.
fn published_tiers(
    i: usize,
    tiers: &[PublishedTier],
    market: Market,
    quote_decimals: u32,
) -> Result<Market, StatementError> {
    let mut out = Vec::with_capacity(tiers.len());
    for (t, tier) in tiers.iter().enumerate() {
        let field = format!("markets[{i}].tiers[{t}].notional_floor");
        let bound = "0 < notional_floor < 2^64 minimal quote units";
        let floor = parse_unsigned_scaled(&tier.notional_floor, quote_decimals, bound)
            .map_err(|e| field_error(&field, e))?;
        canonical(
            &field,
            &tier.notional_floor,
            floor.into(),
            quote_decimals,
            0,
        )?;
        let bps = MarginBps::new(tier.maintenance_margin_bps.into()).map_err(|e| {
            field_error(format!("markets[{i}].tiers[{t}].maintenance_margin_bps"), e)
        })?;
        out.push(Tier::new(floor, bps).map_err(|e| field_error(&field, e))?);
    }
    market
        .with_tiers(out)
        .map_err(|e| field_error(format!("markets[{i}].tiers"), e))
}

/// The published `assets` (`assets[c]`), with canonical exact prices and reserves.
fn published_assets(assets: &[PublishedAsset]) -> Result<Vec<Asset>, StatementError> {
    let mut out = Vec::with_capacity(assets.len());
    for (c, a) in assets.iter().enumerate() {
        let pd = check_decimals("price_decimals", a.price_decimals.into())?;
        let ad = check_decimals("amount_decimals", a.amount_decimals.into())?;
        let field = format!("assets[{c}].price");
        let price = parse_unsigned_scaled(&a.price, pd, "0 <= price < 2^64")
            .map_err(|e| field_error(&field, e))?;
        canonical(&field, &a.price, price.into(), pd, 0)?;
        let price = Price::new(price as i128).map_err(|e| field_error(&field, e))?;
        let field = format!("assets[{c}].reserves");
        let bound = "0 <= reserves < 2^96 minimal asset units";
        let reserves =
            parse_unsigned_scaled(&a.reserves, ad, bound).map_err(|e| field_error(&field, e))?;
        canonical(&field, &a.reserves, reserves.into(), ad, 0)?;
        let ratio = RatioBps::new(a.collateral_ratio_bps.into())
            .map_err(|e| field_error(format!("assets[{c}].collateral_ratio_bps"), e))?;
        out.push(
            Asset::new(&a.symbol, price, pd, ad, ratio, reserves)
                .map_err(|e| field_error(format!("assets[{c}]"), e))?,
        );
    }
    Ok(out)
}

/// The published `asset_solvency`: exactly one flag per declared asset (in any
/// order in the JSON object), returned in declaration order.
fn published_asset_solvency(
    params: &EpochParams,
    flags: &AssetSolvency,
) -> Result<AssetSolvency, StatementError> {
    if let Some((symbol, _)) = flags
        .0
        .iter()
        .find(|(s, _)| params.asset_index(s).is_none())
    {
        return Err(field_error(
            "asset_solvency",
            format!("{symbol:?} is not a declared asset"),
        ));
    }
    params
        .assets()
        .iter()
        .map(|a| {
            flags
                .0
                .iter()
                .find(|(s, _)| s == a.symbol())
                .map(|(s, ok)| (s.clone(), *ok))
                .ok_or_else(|| {
                    field_error(
                        "asset_solvency",
                        format!("no flag for the declared asset {:?}", a.symbol()),
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(AssetSolvency)
}

/// The published `asset_totals`: each key a declared asset (once), each value its
/// total in asset units, canonical with `amount_decimals` places and below `2^95`
/// minimal units (`docs/SPEC.md` §6.4); returned per asset in declaration order
/// (`None`: hidden).
fn published_asset_totals(
    params: &EpochParams,
    totals: &AssetTotals,
) -> Result<[Option<u128>; crate::bounds::MAX_ASSETS], StatementError> {
    let mut out = [None; crate::bounds::MAX_ASSETS];
    for (symbol, text) in &totals.0 {
        let field = format!("asset_totals.{symbol}");
        let c = params.asset_index(symbol).ok_or_else(|| {
            field_error(
                "asset_totals",
                format!("{symbol:?} is not a declared asset"),
            )
        })?;
        let a = &params.assets()[c];
        let bound = "0 <= total < 2^95 minimal asset units";
        let total = parse_unsigned_scaled(text, a.amount_decimals(), bound)
            .map_err(|e| field_error(&field, e))?;
        if total >> crate::bounds::ASSET_TOTAL_BITS != 0 {
            return Err(field_error(&field, bound));
        }
        let expected = format_asset_total(a, total.into());
        if *text != expected {
            return Err(field_error(
                &field,
                format!("{text:?} is not the canonical spelling {expected:?}"),
            ));
        }
        out[c] = Some(total);
    }
    Ok(out)
}

/// The waterfall's published fields (`docs/SPEC.md` §2.4): all six present exactly
/// when the parameters have the waterfall. `F`, `h` and `shortfall` are what the
/// proofs bind; the draw, the deficit and the fund after are derived here from `D`,
/// the fund and `F`, and must be published exactly as derived.
fn published_waterfall(
    file: &StatementFile,
    params: &EpochParams,
    bad_debt: I256,
) -> Result<Option<crate::native::commit::WaterfallOpening>, StatementError> {
    use crate::native::waterfall::{AMOUNT_EXTRA_DECIMALS, HAIRCUT_PPB_MAX};
    let present = [
        ("liquidation_fees", file.liquidation_fees.is_some()),
        ("insurance_draw", file.insurance_draw.is_some()),
        ("insurance_fund_after", file.insurance_fund_after.is_some()),
        ("deficit", file.deficit.is_some()),
        ("haircut_ppb", file.haircut_ppb.is_some()),
        ("shortfall", file.shortfall.is_some()),
    ];
    if !params.has_waterfall() {
        return match present.iter().find(|(_, there)| *there) {
            Some((field, _)) => Err(field_error(
                *field,
                "no market declares liquidation_fee_bps, so the statement has no waterfall",
            )),
            None => Ok(None),
        };
    }
    if let Some((field, _)) = present.iter().find(|(_, there)| !*there) {
        return Err(field_error(
            *field,
            "missing: a market declares liquidation_fee_bps, so the waterfall is published",
        ));
    }
    let (Some(fees_text), Some(ppb), Some(shortfall)) =
        (&file.liquidation_fees, file.haircut_ppb, file.shortfall)
    else {
        return Ok(None);
    };
    let e = params.common_exponent() + AMOUNT_EXTRA_DECIMALS;
    let q = params.quote_decimals();
    let bound = "F < 2^240 units of 10^-(E+4)";
    let fees = parse_unsigned_u256(fees_text, e, bound)
        .map_err(|err: DecimalError| field_error("liquidation_fees", err))?;
    if fees >= (ethnum::U256::ONE << crate::inputs::WATERFALL_FEES_BITS) {
        return Err(field_error("liquidation_fees", bound));
    }
    canonical("liquidation_fees", fees_text, fees.as_i256(), e, q)?;
    if ppb > HAIRCUT_PPB_MAX {
        return Err(field_error("haircut_ppb", "0 <= h <= 10^9 ppb"));
    }
    // The draw, the deficit and the fund after follow from D, the fund and F.
    let fund = I256::from(params.insurance_fund()) * params.quote_scale();
    let derived = crate::native::waterfall::waterfall(
        bad_debt,
        fund,
        &crate::native::waterfall::WaterfallInputs {
            liquidation_fees: fees.as_i256(),
            bases: Vec::new(),
        },
    );
    for (field, text, value) in [
        (
            "insurance_draw",
            &file.insurance_draw,
            derived.insurance_draw,
        ),
        (
            "insurance_fund_after",
            &file.insurance_fund_after,
            derived.insurance_fund_after,
        ),
        ("deficit", &file.deficit, derived.deficit),
    ] {
        let expected = format_waterfall_amount(params, value);
        if text.as_deref() != Some(expected.as_str()) {
            return Err(field_error(
                field,
                format!(
                    "does not follow from bad_debt, insurance_fund and liquidation_fees: {expected} expected"
                ),
            ));
        }
    }
    Ok(Some(crate::native::commit::WaterfallOpening {
        fees: fees.as_i256(),
        haircut_ppb: ppb,
        shortfall,
    }))
}

/// A validated statement: what a verifier computes public inputs from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochStatement {
    file: StatementFile,
    params: EpochParams,
    shape: CircuitShape,
    liquidations: Vec<AccountId>,
    bad_debt: I256,
    liabilities: Option<I256>,
    /// `asset_solvency` in the assets' declaration order.
    asset_solvency: AssetSolvency,
    /// Per asset, its disclosed total in minimal asset units (`None`: hidden).
    asset_totals: [Option<u128>; crate::bounds::MAX_ASSETS],
    /// The waterfall's bound values, for parameters with the waterfall.
    waterfall: Option<crate::native::commit::WaterfallOpening>,
}

impl EpochStatement {
    /// Validates a parsed `statement.json`: parameters within the bounds of §3, the
    /// shape consistent with the markets, `1 ≤ K`, `K·B ≤ 2^32`, one state commitment
    /// per batch, liquidations strictly ascending, `D` exact.
    pub fn new(file: StatementFile) -> Result<Self, StatementError> {
        if file.version != STATEMENT_VERSION {
            return Err(StatementError::Version(file.version.into()));
        }
        let venue = VenueAddress::parse(&file.venue)
            .ok_or_else(|| field_error("venue", "not 0x + 40 lowercase hex digits"))?;
        let owner_binding = OwnerBinding::parse(&file.owner_binding)
            .ok_or_else(|| field_error("owner_binding", "not one of none, partial, all"))?;
        let q = check_decimals("quote_decimals", file.quote_decimals.into())?;
        let reserve_bound = "0 <= value < 2^128 minimal quote units";
        let reserves = parse_unsigned_scaled(&file.reserves, q, reserve_bound)
            .map_err(|e| field_error("reserves", e))?;
        canonical("reserves", &file.reserves, reserves.into(), q, 0)?;
        let insurance = parse_unsigned_scaled(&file.insurance_fund, q, reserve_bound)
            .map_err(|e| field_error("insurance_fund", e))?;
        canonical(
            "insurance_fund",
            &file.insurance_fund,
            insurance.into(),
            q,
            0,
        )?;
        let mut markets = Vec::with_capacity(file.markets.len());
        for (i, m) in file.markets.iter().enumerate() {
            let pd = check_decimals("price_decimals", m.price_decimals.into())?;
            let field = format!("markets[{i}].price");
            let price = parse_unsigned_scaled(&m.price, pd, "0 <= price < 2^64")
                .map_err(|e| field_error(&field, e))?;
            canonical(&field, &m.price, price.into(), pd, 0)?;
            let price = Price::new(price as i128)?;
            let mm = MarginBps::new(m.maintenance_margin_bps.into())?;
            let mut market = Market::new(&m.symbol, price, pd, m.size_decimals, mm)?;
            if let Some(fee) = m.liquidation_fee_bps {
                let fee = crate::model::FeeBps::new(fee.into())
                    .map_err(|e| field_error(format!("markets[{i}].liquidation_fee_bps"), e))?;
                market = market.with_liquidation_fee(fee);
            }
            markets.push(published_tiers(i, &m.tiers, market, q)?);
        }
        let params = EpochParams::new(file.epoch, q, reserves, insurance, markets)?
            .with_assets(published_assets(&file.assets)?)
            .map_err(|e| field_error("assets", e))?
            .with_venue(venue)
            .with_owner_binding(owner_binding)
            .with_liabilities_disclosed(file.liabilities.is_some());
        let asset_totals = published_asset_totals(&params, &file.asset_totals)?;
        let disclosed: Vec<&str> = (file.asset_totals.0.iter())
            .map(|(symbol, _)| symbol.as_str())
            .collect();
        let params = params
            .with_asset_totals_disclosed(&disclosed)
            .map_err(|e| field_error("asset_totals", e))?;
        let shape = CircuitShape::with_risk(
            file.shape.batch_size,
            file.shape.markets,
            file.shape.brackets,
            file.shape.assets,
        )?
        .with_waterfall(file.shape.waterfall);
        if shape.id() != file.shape.id {
            return Err(field_error(
                "shape",
                format!(
                    "{} is not the id of its B, M, T and A: {}",
                    file.shape.id,
                    shape.id()
                ),
            ));
        }
        // The shape is the least one for the parameters (`CircuitShape::for_params`):
        // a statement does not name a larger one than its markets, brackets and assets
        // need, so that one book has one shape.
        shape
            .check_params(&params)
            .map_err(|e| field_error("shape", e))?;
        let asset_solvency = published_asset_solvency(&params, &file.asset_solvency)?;
        let k = file.batch_count;
        if k == 0 || k.saturating_mul(shape.batch_size().get() as u64) > MAX_ACCOUNTS {
            return Err(field_error("batch_count", "need 1 <= K and K·B <= 2^32"));
        }
        if file.state_commitments.len() as u64 != k {
            return Err(field_error("state_commitments", "need one per batch"));
        }
        let mut liquidations = Vec::with_capacity(file.liquidations.len());
        for (i, id) in file.liquidations.iter().enumerate() {
            let id = crate::json::parse_u64(id)
                .ok_or_else(|| field_error(format!("liquidations[{i}]"), "not a canonical u64"))?;
            if liquidations
                .last()
                .is_some_and(|last: &AccountId| last.get() >= id)
            {
                return Err(field_error(
                    format!("liquidations[{i}]"),
                    "ids must be strictly ascending",
                ));
            }
            liquidations.push(AccountId::new(id));
        }
        let e = params.common_exponent();
        let bad_debt = parse_unsigned_u256(&file.bad_debt, e, "D < 2^226 common units")
            .map_err(|err: DecimalError| field_error("bad_debt", err))?;
        if bad_debt >= (ethnum::U256::ONE << crate::bounds::TOTAL_BITS) {
            return Err(field_error("bad_debt", "D < 2^226 common units"));
        }
        canonical("bad_debt", &file.bad_debt, bad_debt.as_i256(), e, q)?;
        let liabilities = match &file.liabilities {
            None => None,
            Some(text) => {
                let bound = "L < 2^226 common units";
                let l = parse_unsigned_u256(text, e, bound)
                    .map_err(|err: DecimalError| field_error("liabilities", err))?;
                if l >= (ethnum::U256::ONE << crate::bounds::TOTAL_BITS) {
                    return Err(field_error("liabilities", bound));
                }
                canonical("liabilities", text, l.as_i256(), e, q)?;
                Some(l.as_i256())
            }
        };
        let waterfall = published_waterfall(&file, &params, bad_debt.as_i256())?;
        Ok(Self {
            file,
            params,
            shape,
            liquidations,
            bad_debt: bad_debt.as_i256(),
            liabilities,
            asset_solvency,
            asset_totals,
            waterfall,
        })
    }

    /// Parses and validates `statement.json` bytes. The version is read first, so
    /// that a statement of another version is refused as such, not as a field of
    /// this version's layout that does not parse.
    pub fn from_json(bytes: &[u8]) -> Result<Self, StatementError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| field_error("statement.json", e))?;
        match value.get("version").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(STATEMENT_VERSION) => {}
            Some(v) => return Err(StatementError::Version(v)),
            None => return Err(field_error("version", "missing or not an integer")),
        }
        // Read again from the bytes, not from `value`: a JSON object that repeats a
        // key is refused ("duplicate field"; `asset_solvency`'s own reader likewise),
        // where a tree would keep one of its values silently and a reader of the file
        // might see the other. The path of the field at fault (`markets[1].symbol`,
        // `epoch`) is named, not only why.
        let mut reader = serde_json::Deserializer::from_slice(bytes);
        let file: StatementFile = serde_path_to_error::deserialize(&mut reader).map_err(|e| {
            let path = e.path().to_string();
            let at = if path == "." {
                "statement.json".to_owned()
            } else {
                path
            };
            field_error(&at, e.into_inner())
        })?;
        Self::new(file)
    }

    /// The venue that publishes the statement (its `venue` field).
    pub fn venue(&self) -> VenueAddress {
        self.params.venue()
    }

    /// The statement hash the venue signs (`docs/SPEC.md` §7.5):
    /// `keccak256("backstop.statement.v2" ‖ backend ‖ verifying_key_hash ‖ w_1 ‖ … ‖
    /// w_n)`, with the backend one byte (1: Groth16 over BN254, 2: halo2 over
    /// Pasta), the key hash its 32 bytes and each word `w_i` of
    /// [`EpochStatement::signed_words`] its 32 big-endian bytes. The words fix every
    /// batch's public inputs, which bind every other field (§7.4), so the signature
    /// covers the whole statement.
    pub fn statement_hash<H: FieldHasher>(&self) -> Result<[u8; 32], StatementError> {
        use sha3::{Digest, Keccak256};
        let mut key_hash = [0u8; 32];
        hex::decode_to_slice(&self.file.verifying_key_hash, &mut key_hash)
            .map_err(|_| field_error("verifying_key_hash", "not 64 hex digits"))?;
        let mut k = Keccak256::new();
        k.update(STATEMENT_DOMAIN);
        k.update([self.file.backend.id()]);
        k.update(key_hash);
        for x in self.signed_words::<H>()? {
            let mut be = H::to_le_bytes(&x);
            be.reverse();
            k.update(be);
        }
        Ok(k.finalize().into())
    }

    /// The field elements the statement hash covers (§7.5): for Groth16 the open
    /// inputs every batch shares (batch 0's packed words and the outputs, `7 + ⌈M/3⌉`), then `K`,
    /// then `C_0 … C_{K−1}` (together they give every batch's inputs); for halo2
    /// `x_0 … x_{K−1}`.
    pub fn signed_words<H: FieldHasher>(&self) -> Result<Vec<H::F>, StatementError> {
        let inputs = self.public_inputs::<H>()?;
        if self.file.backend != Backend::Groth16Bn254 {
            return Ok(inputs.into_iter().flatten().collect());
        }
        let Some(first) = inputs.first() else {
            return Ok(Vec::new());
        };
        let shared = first.len() - crate::inputs::OPEN_CHAIN;
        let mut words = first[..shared].to_vec();
        words.push(H::from_u64(self.file.batch_count));
        words.extend(inputs.iter().map(|x| x[x.len() - 1]));
        Ok(words)
    }

    /// The published file.
    pub fn file(&self) -> &StatementFile {
        &self.file
    }
    /// The validated parameters.
    pub fn params(&self) -> &EpochParams {
        &self.params
    }
    /// The circuit shape.
    pub fn shape(&self) -> CircuitShape {
        self.shape
    }
    /// The published outputs (the object `backstop evaluate` prints).
    pub fn outputs(&self) -> PublicOutputs {
        PublicOutputs {
            epoch: self.file.epoch,
            liquidations: self.file.liquidations.clone(),
            bad_debt: self.file.bad_debt.clone(),
            liabilities: self.file.liabilities.clone(),
            solvent: self.file.solvent,
            insurance_covered: self.file.insurance_covered,
            asset_solvency: self.asset_solvency.clone(),
            asset_totals: AssetTotals(
                (self.params.assets().iter().enumerate())
                    .filter_map(|(c, a)| {
                        self.asset_totals[c]
                            .map(|h| (a.symbol().to_owned(), format_asset_total(a, h.into())))
                    })
                    .collect(),
            ),
            liquidation_fees: self.file.liquidation_fees.clone(),
            insurance_draw: self.file.insurance_draw.clone(),
            insurance_fund_after: self.file.insurance_fund_after.clone(),
            deficit: self.file.deficit.clone(),
            haircut_ppb: self.file.haircut_ppb,
            shortfall: self.file.shortfall,
        }
    }
    /// Per asset in declaration order, its total `h_c` in minimal asset units if
    /// the statement discloses it (`None`: hidden).
    pub fn asset_totals(&self) -> Vec<Option<u128>> {
        self.asset_totals[..self.params.assets().len()].to_vec()
    }
    /// `L` in common units if the statement discloses it.
    pub fn liabilities(&self) -> Option<I256> {
        self.liabilities
    }
    /// The liquidation set.
    pub fn liquidations(&self) -> &[AccountId] {
        &self.liquidations
    }

    fn element<H: FieldHasher>(field: &str, text: &str) -> Result<H::F, StatementError> {
        H::from_hex(text).ok_or_else(|| {
            field_error(
                field,
                "not 0x + 64 hex digits encoding a canonical field element",
            )
        })
    }

    /// Every batch's public inputs in the layout of the statement's backend,
    /// computed from published data alone (`docs/SPEC.md` §6.4): the open layout
    /// (`9 + ⌈M/3⌉` values, [`crate::inputs::open_inputs`]) for Groth16, the single
    /// `x_b` for halo2.
    pub fn public_inputs<H: FieldHasher>(&self) -> Result<Vec<Vec<H::F>>, StatementError> {
        let accounts = Self::element::<H>("accounts_commitment", &self.file.accounts_commitment)?;
        let states = self
            .file
            .state_commitments
            .iter()
            .enumerate()
            .map(|(i, c)| Self::element::<H>(&format!("state_commitments[{i}]"), c))
            .collect::<Result<Vec<_>, _>>()?;
        let params = ParamsWitness::new(&self.params);
        let d = params.descriptor_element::<H>();
        let z = challenge::<H>(d, accounts, liquidations_hash(&self.liquidations));
        let outputs = OutputsOpening {
            accounts_commitment: accounts,
            challenge: z,
            liquidation_product: liquidation_product::<H>(z, &self.liquidations),
            bad_debt: self.bad_debt,
            solvent: self.file.solvent,
            insurance_covered: self.file.insurance_covered,
            liabilities: self.liabilities,
            asset_solvency: self.asset_solvency.bits(),
            asset_count: self.params.assets().len(),
            asset_totals: self.asset_totals,
            waterfall: self.waterfall,
        };
        let k = self.file.batch_count;
        let zero = H::from_u64(0);
        if self.file.backend == Backend::Groth16Bn254 {
            return Ok((0..states.len())
                .map(|b| {
                    let previous = if b == 0 { zero } else { states[b - 1] };
                    open_inputs::<H>(&params, b as u64, k, previous, states[b], &outputs)
                })
                .collect());
        }
        let o = outputs_hash::<H>(&outputs);
        let params_hash = batch_params_hash::<H>(&self.params);
        let mut initial = RunningState::initial(
            accounts_chain_start::<H>(self.params.epoch()),
            H::from_u64(1),
            self.params.assets().len(),
        );
        // SPEC §6.2: the waterfall's sums start at 0.
        initial.waterfall = self.params.has_waterfall().then(Default::default);
        let initial = state_commitment::<H>(zero, &initial);
        Ok((0..states.len())
            .map(|b| {
                let previous = if b == 0 { initial } else { states[b - 1] };
                vec![batch_public_input::<H>(
                    params_hash,
                    b as u64,
                    k,
                    previous,
                    states[b],
                    o,
                )]
            })
            .collect())
    }
}

/// Publishes a statement for an epoch the prover has evaluated and committed to.
pub fn publish<H: FieldHasher>(
    backend: Backend,
    shape: CircuitShape,
    verifying_key_hash: String,
    params: &EpochParams,
    outputs: &PublicOutputs,
    commitment: &crate::native::commit::EpochCommitment<H>,
) -> StatementFile {
    StatementFile {
        version: STATEMENT_VERSION,
        backend,
        shape: PublishedShape {
            id: shape.id(),
            batch_size: shape.batch_size().get() as u64,
            markets: shape.markets(),
            brackets: shape.brackets(),
            assets: shape.assets(),
            waterfall: shape.has_waterfall(),
        },
        verifying_key_hash,
        venue: params.venue().to_string(),
        owner_binding: params.owner_binding().as_str().to_owned(),
        epoch: params.epoch(),
        quote_decimals: params.quote_decimals(),
        reserves: crate::decimal::format_scaled(
            params.reserves().into(),
            params.quote_decimals(),
            0,
        ),
        insurance_fund: crate::decimal::format_scaled(
            params.insurance_fund().into(),
            params.quote_decimals(),
            0,
        ),
        markets: params
            .markets()
            .iter()
            .map(|m| PublishedMarket {
                symbol: m.symbol().to_owned(),
                price: crate::decimal::format_scaled(m.price().get().into(), m.price_decimals(), 0),
                price_decimals: m.price_decimals(),
                size_decimals: m.size_decimals(),
                maintenance_margin_bps: m.maintenance_margin_bps().get(),
                tiers: m
                    .tiers()
                    .iter()
                    .map(|t| PublishedTier {
                        notional_floor: crate::decimal::format_scaled(
                            t.notional_floor().into(),
                            params.quote_decimals(),
                            0,
                        ),
                        maintenance_margin_bps: t.maintenance_margin_bps().get(),
                    })
                    .collect(),
                liquidation_fee_bps: m
                    .declares_liquidation_fee()
                    .then(|| m.liquidation_fee_bps().get()),
            })
            .collect(),
        assets: params
            .assets()
            .iter()
            .map(|a| PublishedAsset {
                symbol: a.symbol().to_owned(),
                price: crate::decimal::format_scaled(a.price().get().into(), a.price_decimals(), 0),
                price_decimals: a.price_decimals(),
                amount_decimals: a.amount_decimals(),
                collateral_ratio_bps: a.collateral_ratio_bps().get(),
                reserves: crate::decimal::format_scaled(
                    a.reserves().into(),
                    a.amount_decimals(),
                    0,
                ),
            })
            .collect(),
        batch_count: commitment.batch_count() as u64,
        accounts_commitment: H::to_hex(&commitment.accounts_commitment),
        state_commitments: commitment.state_commitments[1..]
            .iter()
            .map(|c| H::to_hex(c))
            .collect(),
        liquidations: outputs.liquidations.clone(),
        bad_debt: outputs.bad_debt.clone(),
        liabilities: outputs.liabilities.clone(),
        solvent: outputs.solvent,
        insurance_covered: outputs.insurance_covered,
        asset_solvency: outputs.asset_solvency.clone(),
        asset_totals: outputs.asset_totals.clone(),
        liquidation_fees: outputs.liquidation_fees.clone(),
        insurance_draw: outputs.insurance_draw.clone(),
        insurance_fund_after: outputs.insurance_fund_after.clone(),
        deficit: outputs.deficit.clone(),
        haircut_ppb: outputs.haircut_ppb,
        shortfall: outputs.shortfall,
        signature: None,
    }
}
