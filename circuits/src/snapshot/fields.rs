//! Located field access over the document tree, the value parsers shared by every
//! form, and the epoch parameters walker shared by `epoch.toml` and the JSON form.

use super::error::{Reason, SnapshotError};
use super::tree::{Entry, Item, Val};
use crate::bounds::{MAX_ASSETS, MAX_BRACKETS, MAX_MARKETS};
use crate::decimal::{DecimalError, parse_scaled, parse_unsigned_scaled};
use crate::model::{
    Amount, Asset, Balance, EpochParams, FeeBps, MarginBps, Market, ModelError, Price, RatioBps,
    Size, Tier, check_decimals,
};

/// Keys of the epoch parameters (top level of `epoch.toml` and of the JSON form).
pub(crate) const PARAM_KEYS: [&str; 6] = [
    "epoch",
    "quote_decimals",
    "reserves",
    "insurance_fund",
    "markets",
    "assets",
];
/// Keys of one market.
pub(crate) const MARKET_KEYS: [&str; 7] = [
    "symbol",
    "price",
    "price_decimals",
    "size_decimals",
    "maintenance_margin_bps",
    "tiers",
    "liquidation_fee_bps",
];
/// Keys of one maintenance bracket (risk model v2).
pub(crate) const TIER_KEYS: [&str; 2] = ["notional_floor", "maintenance_margin_bps"];
/// Keys of one collateral asset (risk model v2).
pub(crate) const ASSET_KEYS: [&str; 6] = [
    "symbol",
    "price",
    "price_decimals",
    "amount_decimals",
    "collateral_ratio_bps",
    "reserves",
];

/// A value of the document with its location: path (`markets[1].price`, empty for
/// the document itself) and row.
#[derive(Debug, Clone)]
pub(crate) struct Field<'a> {
    pub(crate) file: &'a str,
    pub(crate) item: &'a Item,
    pub(crate) path: String,
    pub(crate) row: Option<u64>,
}

impl<'a> Field<'a> {
    /// The whole document.
    pub(crate) fn root(file: &'a str, item: &'a Item) -> Self {
        Self {
            file,
            item,
            path: String::new(),
            row: item.line,
        }
    }

    /// An error located at this field.
    pub(crate) fn err(&self, reason: impl Into<Reason>) -> SnapshotError {
        let e = SnapshotError::new(self.file, reason).at_row(self.row);
        if self.path.is_empty() {
            e
        } else {
            e.in_field(self.path.clone())
        }
    }

    fn wrong_type(&self, expected: &'static str) -> SnapshotError {
        self.err(Reason::WrongType {
            expected,
            found: self.item.val.kind(),
        })
    }

    fn child_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// This value as a table with keys from `allowed` only, each at most once.
    pub(crate) fn object(&self, allowed: &[&str]) -> Result<Obj<'a>, SnapshotError> {
        let Val::Table(entries) = &self.item.val else {
            return Err(self.wrong_type("a table"));
        };
        for (i, e) in entries.iter().enumerate() {
            let located = |reason| {
                SnapshotError::new(self.file, reason)
                    .at_row(e.line.or(self.row))
                    .in_field(self.child_path(&e.key))
            };
            if !allowed.contains(&e.key.as_str()) {
                return Err(located(Reason::UnknownField));
            }
            if entries
                .get(..i)
                .is_some_and(|prev| prev.iter().any(|p| p.key == e.key))
            {
                return Err(located(Reason::DuplicateField));
            }
        }
        Ok(Obj {
            field: self.clone(),
            entries,
        })
    }

    /// This value as an array. Element `i` is at path `…[i]`; its row is its line
    /// (TOML) or, without one, `i` if `index_rows` (JSON `markets`, `accounts`) and
    /// this field's row otherwise (JSON `positions`, located by their account).
    pub(crate) fn elements(&self, index_rows: bool) -> Result<Vec<Field<'a>>, SnapshotError> {
        let Val::Array(items) = &self.item.val else {
            return Err(self.wrong_type("an array"));
        };
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, item)| self.element(i, item, index_rows))
            .collect())
    }

    /// Element `i` of this array, `item` (held by this field's tree or, for the JSON
    /// form's accounts, parsed on its own), located as by [`Self::elements`].
    pub(crate) fn element<'b>(&self, i: usize, item: &'b Item, index_rows: bool) -> Field<'b>
    where
        'a: 'b,
    {
        Field {
            file: self.file,
            item,
            path: format!("{}[{i}]", self.path),
            row: item
                .line
                .or(if index_rows { Some(i as u64) } else { self.row }),
        }
    }

    /// A string value.
    pub(crate) fn str(&self, expected: &'static str) -> Result<&'a str, SnapshotError> {
        match &self.item.val {
            Val::Str(s) => Ok(s),
            _ => Err(self.wrong_type(expected)),
        }
    }

    /// An amount: a decimal string (never a number, which could have been rounded).
    pub(crate) fn amount(&self) -> Result<&'a str, SnapshotError> {
        self.str("a decimal string")
    }

    /// An integer value.
    pub(crate) fn int(&self) -> Result<i128, SnapshotError> {
        match &self.item.val {
            Val::Int { value: Some(v), .. } => Ok(*v),
            Val::Int { value: None, text } => Err(self.err(DecimalError::OutOfBounds {
                value: text.clone(),
                bound: "integer too large",
            })),
            _ => Err(self.wrong_type("an integer")),
        }
    }

    /// A number of decimals (an integer from 0 to 18).
    pub(crate) fn decimals(&self, name: &'static str) -> Result<u32, SnapshotError> {
        check_decimals(name, self.int()?).map_err(|e| self.err(e))
    }

    /// A `u64` (epoch, account id): an integer, or a string in plain decimal.
    pub(crate) fn u64_value(&self) -> Result<u64, SnapshotError> {
        match &self.item.val {
            Val::Str(s) => parse_plain_u64(s).ok_or_else(|| self.err(Reason::NotU64(s.clone()))),
            Val::Int { value, text } => value
                .and_then(|v| u64::try_from(v).ok())
                .ok_or_else(|| self.err(Reason::NotU64(text.clone()))),
            Val::Float(text) => Err(self.err(Reason::NotU64(text.clone()))),
            _ => Err(self.wrong_type("a u64 (an integer or a string of decimal digits)")),
        }
    }
}

/// A table whose keys have been checked.
#[derive(Debug)]
pub(crate) struct Obj<'a> {
    field: Field<'a>,
    entries: &'a [Entry],
}

impl<'a> Obj<'a> {
    /// The value of `key`, if present.
    pub(crate) fn get(&self, key: &str) -> Option<Field<'a>> {
        self.entries.iter().find(|e| e.key == key).map(|e| Field {
            file: self.field.file,
            item: &e.value,
            path: self.field.child_path(key),
            row: e.value.line.or(self.field.row),
        })
    }

    /// The value of `key`; refused as [`Reason::MissingField`] if absent.
    pub(crate) fn require(&self, key: &str) -> Result<Field<'a>, SnapshotError> {
        self.get(key).ok_or_else(|| {
            SnapshotError::new(self.field.file, Reason::MissingField)
                .at_row(self.field.row)
                .in_field(self.field.child_path(key))
        })
    }
}

/// A `u64` in canonical plain decimal: digits only, no sign, no leading zeros
/// (except `0` itself), at most `u64::MAX`.
pub(crate) fn parse_plain_u64(s: &str) -> Option<u64> {
    let canonical = !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s.len() == 1 || !s.starts_with('0'));
    if canonical { s.parse().ok() } else { None }
}

/// A quote balance with at most `quote_decimals` places, `|v| < 2^63` units.
pub(crate) fn parse_balance(s: &str, quote_decimals: u32) -> Result<Balance, Reason> {
    Ok(Balance::new(parse_scaled(s, quote_decimals)?)?)
}

/// A position size with at most `size_decimals` places, `|v| < 2^63` units.
pub(crate) fn parse_size(s: &str, size_decimals: u32) -> Result<Size, Reason> {
    Ok(Size::new(parse_scaled(s, size_decimals)?)?)
}

/// An asset amount with at most `amount_decimals` places, `|v| < 2^63` units.
pub(crate) fn parse_amount(s: &str, amount_decimals: u32) -> Result<Amount, Reason> {
    Ok(Amount::new(parse_scaled(s, amount_decimals)?)?)
}

/// A price with at most `price_decimals` places, `0 ≤ v < 2^64` units.
fn parse_price(s: &str, price_decimals: u32) -> Result<Price, Reason> {
    let v = parse_unsigned_scaled(s, price_decimals, "0 <= price < 2^64 minimal price units")?;
    let v = i128::try_from(v).map_err(|_| DecimalError::OutOfBounds {
        value: s.to_owned(),
        bound: "0 <= price < 2^64 minimal price units",
    })?;
    Ok(Price::new(v)?)
}

/// Reads and validates the epoch parameters from a table whose keys were checked.
pub(crate) fn parse_params(obj: &Obj<'_>) -> Result<EpochParams, SnapshotError> {
    let epoch = obj.require("epoch")?.u64_value()?;
    let quote_field = obj.require("quote_decimals")?;
    let quote_decimals = quote_field.decimals("quote_decimals")?;
    let mut funds = [0u128; 2];
    for (slot, key) in funds.iter_mut().zip(["reserves", "insurance_fund"]) {
        let f = obj.require(key)?;
        *slot = parse_unsigned_scaled(
            f.amount()?,
            quote_decimals,
            "0 <= value < 2^128 minimal quote units",
        )
        .map_err(|e| f.err(e))?;
    }
    let [reserves, insurance_fund] = funds;

    let markets_field = obj.require("markets")?;
    let elements = markets_field.elements(true)?;
    if elements.is_empty() || elements.len() > MAX_MARKETS {
        return Err(markets_field.err(ModelError::MarketCount(elements.len())));
    }
    let mut markets: Vec<Market> = Vec::with_capacity(elements.len());
    for element in &elements {
        let m = element.object(&MARKET_KEYS)?;
        let symbol_field = m.require("symbol")?;
        let symbol = symbol_field.str("a string")?;
        let price_decimals = m.require("price_decimals")?.decimals("price_decimals")?;
        let size_decimals = m.require("size_decimals")?.decimals("size_decimals")?;
        let bps_field = m.require("maintenance_margin_bps")?;
        let bps = MarginBps::new(bps_field.int()?).map_err(|e| bps_field.err(e))?;
        let price_field = m.require("price")?;
        let price =
            parse_price(price_field.amount()?, price_decimals).map_err(|e| price_field.err(e))?;
        let mut market = Market::new(symbol, price, price_decimals, size_decimals, bps)
            .map_err(|e| symbol_field.err(e))?;
        if markets.iter().any(|o| o.symbol() == symbol) {
            return Err(symbol_field.err(ModelError::DuplicateMarket(symbol.to_owned())));
        }
        if let Some(tiers_field) = m.get("tiers") {
            market = parse_tiers(&tiers_field, market, quote_decimals)?;
        }
        if let Some(fee_field) = m.get("liquidation_fee_bps") {
            let fee = FeeBps::new(fee_field.int()?).map_err(|e| fee_field.err(e))?;
            market = market.with_liquidation_fee(fee);
        }
        markets.push(market);
    }
    let symbols: Vec<String> = markets.iter().map(|m| m.symbol().to_owned()).collect();
    let params = EpochParams::new(epoch, quote_decimals, reserves, insurance_fund, markets)
        .map_err(|e| {
            // A market's scale spread is reported at its table; the quote's at quote_decimals.
            let market = match &e {
                ModelError::ScaleSpread { symbol, .. } => symbols
                    .iter()
                    .position(|s| s == symbol)
                    .and_then(|i| elements.get(i)),
                _ => None,
            };
            match market {
                Some(f) => f.err(e),
                None => quote_field.err(e),
            }
        })?;
    match obj.get("assets") {
        Some(assets_field) => parse_assets(&assets_field, params),
        None => Ok(params),
    }
}

/// A market's `tiers`: at most [`MAX_BRACKETS`] − 1 tables of `notional_floor` (a
/// decimal string in quote units) and `maintenance_margin_bps`; each refusal names
/// its bracket.
fn parse_tiers(
    field: &Field<'_>,
    market: Market,
    quote_decimals: u32,
) -> Result<Market, SnapshotError> {
    let elements = field.elements(false)?;
    if elements.len() + 1 > MAX_BRACKETS {
        return Err(field.err(ModelError::TierCount {
            symbol: market.symbol().to_owned(),
            count: elements.len() + 1,
        }));
    }
    let mut tiers = Vec::with_capacity(elements.len());
    for element in &elements {
        let t = element.object(&TIER_KEYS)?;
        let floor_field = t.require("notional_floor")?;
        let bound = "0 < notional_floor < 2^64 minimal quote units";
        let floor = parse_unsigned_scaled(floor_field.amount()?, quote_decimals, bound)
            .map_err(|e| floor_field.err(e))?;
        let bps_field = t.require("maintenance_margin_bps")?;
        let bps = MarginBps::new(bps_field.int()?).map_err(|e| bps_field.err(e))?;
        tiers.push(Tier::new(floor, bps).map_err(|e| floor_field.err(e))?);
    }
    market.with_tiers(tiers).map_err(|e| {
        let at = match &e {
            ModelError::TierFloorNotIncreasing { index, .. }
            | ModelError::TierRateDecreasing { index, .. } => elements.get(*index),
            _ => None,
        };
        at.unwrap_or(field).err(e)
    })
}

/// The collateral assets (risk model v2): at most [`MAX_ASSETS`] tables; each refusal
/// names its asset and field.
fn parse_assets(field: &Field<'_>, params: EpochParams) -> Result<EpochParams, SnapshotError> {
    let elements = field.elements(true)?;
    if elements.len() > MAX_ASSETS {
        return Err(field.err(ModelError::AssetCount(elements.len())));
    }
    let mut assets: Vec<Asset> = Vec::with_capacity(elements.len());
    for element in &elements {
        let a = element.object(&ASSET_KEYS)?;
        let symbol_field = a.require("symbol")?;
        let symbol = symbol_field.str("a string")?;
        let price_decimals = a.require("price_decimals")?.decimals("price_decimals")?;
        let amount_decimals = a.require("amount_decimals")?.decimals("amount_decimals")?;
        let ratio_field = a.require("collateral_ratio_bps")?;
        let ratio = RatioBps::new(ratio_field.int()?).map_err(|e| ratio_field.err(e))?;
        let price_field = a.require("price")?;
        let price =
            parse_price(price_field.amount()?, price_decimals).map_err(|e| price_field.err(e))?;
        let reserves_field = a.require("reserves")?;
        let reserves = parse_unsigned_scaled(
            reserves_field.amount()?,
            amount_decimals,
            "0 <= reserves < 2^96 minimal asset units",
        )
        .map_err(|e| reserves_field.err(e))?;
        let asset = Asset::new(
            symbol,
            price,
            price_decimals,
            amount_decimals,
            ratio,
            reserves,
        )
        .map_err(|e| match e {
            ModelError::OutOfBounds { .. } => reserves_field.err(e),
            e => symbol_field.err(e),
        })?;
        if assets.iter().any(|o| o.symbol() == symbol) {
            return Err(symbol_field.err(ModelError::DuplicateAsset(symbol.to_owned())));
        }
        assets.push(asset);
    }
    let symbols: Vec<String> = assets.iter().map(|a| a.symbol().to_owned()).collect();
    params.with_assets(assets).map_err(|e| {
        let at = match &e {
            ModelError::AssetScaleSpread { symbol, .. } => symbols
                .iter()
                .position(|s| s == symbol)
                .and_then(|i| elements.get(i)),
            _ => None,
        };
        at.unwrap_or(field).err(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_u64_is_canonical() {
        assert_eq!(parse_plain_u64("0"), Some(0));
        assert_eq!(parse_plain_u64("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            "00",
            "07",
            "+7",
            "-0",
            " 7",
            "7 ",
            "18446744073709551616",
            "1_0",
        ] {
            assert_eq!(parse_plain_u64(bad), None, "{bad:?}");
        }
    }
}
