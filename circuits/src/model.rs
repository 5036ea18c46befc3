//! Validated domain types of an epoch snapshot (`docs/SPEC.md` §2–§3).
//!
//! Every constructor here refuses values outside the bounds of [`crate::bounds`], so
//! a [`Snapshot`] that exists is one the native engine and the circuits can evaluate
//! without overflow. Parsers ([`crate::snapshot`]) attach file, row and field to the
//! [`ModelError`]s returned here.

use crate::bounds::{
    AMOUNT_BITS, ASSET_RESERVE_BITS, BALANCE_BITS, MAX_ACCOUNTS, MAX_ASSETS, MAX_BRACKETS,
    MAX_DECIMALS, MAX_MARKETS, MAX_MM_BPS, MAX_SCALE_EXPONENT, SIZE_BITS,
};
use crate::descriptor::VenueAddress;
use ethnum::I256;
use thiserror::Error;

/// Why a value or a snapshot was refused by the model.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A value outside its documented bound.
    #[error("{field} = {value} is out of bounds ({bound})")]
    OutOfBounds {
        /// The field name as it appears in the input.
        field: &'static str,
        /// The value, printed.
        value: String,
        /// The bound, in words.
        bound: &'static str,
    },
    /// No markets, or more than [`MAX_MARKETS`].
    #[error("a snapshot needs between 1 and {MAX_MARKETS} markets, got {0}")]
    MarketCount(usize),
    /// Two markets share a symbol.
    #[error("duplicate market symbol {0:?}")]
    DuplicateMarket(String),
    /// A market symbol that is empty or has characters other than `A-Z a-z 0-9 - _ . /`.
    #[error("invalid market symbol {0:?} (1 to 32 characters from A-Z a-z 0-9 - _ . /)")]
    InvalidSymbol(String),
    /// A market's notional decimals are too far below the common exponent.
    #[error(
        "market {symbol:?}: scale 10^{exponent} exceeds 10^{MAX_SCALE_EXPONENT} \
         (quote_decimals and size_decimals + price_decimals of all markets must lie within 18 of each other)"
    )]
    ScaleSpread {
        /// The market whose scale factor is too large.
        symbol: String,
        /// The exponent that would be needed.
        exponent: u32,
    },
    /// The quote decimals are too far below the common exponent.
    #[error(
        "quote scale 10^{exponent} exceeds 10^{MAX_SCALE_EXPONENT} \
         (quote_decimals and size_decimals + price_decimals of all markets must lie within 18 of each other)"
    )]
    QuoteScaleSpread {
        /// The exponent that would be needed.
        exponent: u32,
    },
    /// The snapshot has no accounts.
    #[error("the snapshot has no accounts")]
    Empty,
    /// More than [`MAX_ACCOUNTS`] accounts.
    #[error("the snapshot has {0} accounts, more than the maximum 2^32")]
    TooManyAccounts(usize),
    /// The same account id twice.
    #[error("duplicate account id {0}")]
    DuplicateAccount(u64),
    /// A market with more than [`MAX_BRACKETS`] maintenance brackets.
    #[error(
        "market {symbol:?} has {count} maintenance brackets, more than {MAX_BRACKETS} (the first included)"
    )]
    TierCount {
        /// The market.
        symbol: String,
        /// Brackets given, the first included.
        count: usize,
    },
    /// A bracket floor that is zero or not above the one before.
    #[error(
        "market {symbol:?}: tiers[{index}].notional_floor must be above 0 and above the floor before it"
    )]
    TierFloorNotIncreasing {
        /// The market.
        symbol: String,
        /// The index in `tiers`.
        index: usize,
    },
    /// A bracket rate below the one before (the market's own rate for the first).
    #[error(
        "market {symbol:?}: tiers[{index}].maintenance_margin_bps is below the rate of the bracket before it"
    )]
    TierRateDecreasing {
        /// The market.
        symbol: String,
        /// The index in `tiers`.
        index: usize,
    },
    /// More than [`MAX_ASSETS`] collateral assets.
    #[error("a snapshot has at most {MAX_ASSETS} collateral assets, got {0}")]
    AssetCount(usize),
    /// Two assets share a symbol.
    #[error("duplicate asset symbol {0:?}")]
    DuplicateAsset(String),
    /// A per-asset total to disclose (`docs/SPEC.md` §2.3) for a symbol that is no
    /// declared collateral asset (or for any symbol in an epoch without assets).
    #[error(
        "cannot disclose the total of {symbol:?}: not a declared collateral asset (declared: {declared})"
    )]
    UnknownDisclosedAsset {
        /// The symbol asked for.
        symbol: String,
        /// The declared assets' symbols, comma-separated (`none` without assets).
        declared: String,
    },
    /// An asset's value decimals are too far below the common exponent.
    #[error(
        "asset {symbol:?}: scale 10^{exponent} exceeds 10^{MAX_SCALE_EXPONENT} \
         (quote_decimals, size_decimals + price_decimals of all markets and amount_decimals + price_decimals of all assets must lie within 18 of each other)"
    )]
    AssetScaleSpread {
        /// The asset whose scale factor is too large.
        symbol: String,
        /// The exponent that would be needed.
        exponent: u32,
    },
    /// An account whose number of asset amounts differs from the number of assets.
    #[error("account {id} has {got} asset amounts but the snapshot has {expected} assets")]
    AmountCount {
        /// The account.
        id: u64,
        /// Amounts given.
        got: usize,
        /// Assets in the snapshot.
        expected: usize,
    },
    /// An account whose number of sizes differs from the number of markets.
    #[error("account {id} has {got} sizes but the snapshot has {expected} markets")]
    SizeCount {
        /// The account.
        id: u64,
        /// Sizes given.
        got: usize,
        /// Markets in the snapshot.
        expected: usize,
    },
}

/// An account identifier: any `u64`, unique within an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId(u64);

impl AccountId {
    /// Wraps a raw id.
    pub const fn new(id: u64) -> Self {
        Self(id)
    }
    /// The raw id.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl core::fmt::Display for AccountId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

/// Validates a signed amount `|v| < 2^bits` (so `i64::MIN` is refused), named
/// `field` in errors.
fn signed(v: i128, bits: u32, field: &'static str, bound: &'static str) -> Result<i64, ModelError> {
    if v.unsigned_abs() < (1u128 << bits) {
        Ok(v as i64)
    } else {
        Err(ModelError::OutOfBounds {
            field,
            value: v.to_string(),
            bound,
        })
    }
}

/// A signed quote balance in minimal quote units, `|v| < 2^63`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Balance(i64);

impl Balance {
    /// Validates `|v| < 2^63`.
    pub fn new(v: i128) -> Result<Self, ModelError> {
        signed(
            v,
            BALANCE_BITS,
            "quote_balance",
            "|quote_balance| < 2^63 minimal quote units",
        )
        .map(Self)
    }
    /// The raw value.
    pub const fn get(self) -> i64 {
        self.0
    }
}

/// A signed position size in minimal size units of its market, `|v| < 2^63`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Size(i64);

impl Size {
    /// The empty position.
    pub const ZERO: Size = Size(0);
    /// Validates `|v| < 2^63`.
    pub fn new(v: i128) -> Result<Self, ModelError> {
        signed(v, SIZE_BITS, "size", "|size| < 2^63 minimal size units").map(Self)
    }
    /// The raw value.
    pub const fn get(self) -> i64 {
        self.0
    }
}

/// A signed amount of a collateral asset in its minimal units, `|v| < 2^63`
/// (negative: borrowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(i64);

impl Amount {
    /// No holding.
    pub const ZERO: Amount = Amount(0);
    /// Validates `|v| < 2^63`.
    pub fn new(v: i128) -> Result<Self, ModelError> {
        signed(
            v,
            AMOUNT_BITS,
            "amount",
            "|amount| < 2^63 minimal asset units",
        )
        .map(Self)
    }
    /// The raw value.
    pub const fn get(self) -> i64 {
        self.0
    }
}

/// An oracle price in minimal price units, `0 ≤ v < 2^64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Price(u64);

impl Price {
    /// Validates `0 ≤ v < 2^64`.
    pub fn new(v: i128) -> Result<Self, ModelError> {
        u64::try_from(v)
            .map(Self)
            .map_err(|_| ModelError::OutOfBounds {
                field: "price",
                value: v.to_string(),
                bound: "0 <= price < 2^64 minimal price units",
            })
    }
    /// The raw value.
    pub const fn get(self) -> u64 {
        self.0
    }
}

/// A maintenance margin rate in basis points, `0 ≤ v ≤ 10000`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MarginBps(u16);

/// Validates a rate in basis points, `0 ≤ v ≤ 10000`, named `field` in errors.
fn bps(v: i128, field: &'static str, bound: &'static str) -> Result<u16, ModelError> {
    match u16::try_from(v) {
        Ok(b) if b <= MAX_MM_BPS => Ok(b),
        _ => Err(ModelError::OutOfBounds {
            field,
            value: v.to_string(),
            bound,
        }),
    }
}

impl MarginBps {
    /// Validates `0 ≤ v ≤ 10000`.
    pub fn new(v: i128) -> Result<Self, ModelError> {
        let bound = "0 <= maintenance_margin_bps <= 10000";
        bps(v, "maintenance_margin_bps", bound).map(Self)
    }
    /// The raw value.
    pub const fn get(self) -> u16 {
        self.0
    }
}

/// A market's liquidation fee rate in basis points of notional, `0 ≤ v ≤ 10000`
/// (`docs/SPEC.md` §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FeeBps(u16);

impl FeeBps {
    /// Validates `0 ≤ v ≤ 10000`.
    pub fn new(v: i128) -> Result<Self, ModelError> {
        let bound = "0 <= liquidation_fee_bps <= 10000";
        bps(v, "liquidation_fee_bps", bound).map(Self)
    }
    /// The raw value.
    pub const fn get(self) -> u16 {
        self.0
    }
}

/// A collateral ratio in basis points, `0 ≤ v ≤ 10000`: the share of a held asset's
/// value that counts towards margin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RatioBps(u16);

impl RatioBps {
    /// Validates `0 ≤ v ≤ 10000`.
    pub fn new(v: i128) -> Result<Self, ModelError> {
        let bound = "0 <= collateral_ratio_bps <= 10000";
        bps(v, "collateral_ratio_bps", bound).map(Self)
    }
    /// The raw value.
    pub const fn get(self) -> u16 {
        self.0
    }
}

/// One maintenance bracket beyond a market's first: from `notional_floor` (minimal
/// quote units, `0 < floor < 2^64`) of position notional up, the rate
/// `maintenance_margin_bps` applies (`docs/SPEC.md` §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tier {
    notional_floor: u64,
    maintenance_margin_bps: MarginBps,
}

impl Tier {
    /// A bracket from `notional_floor` minimal quote units (`0 < floor < 2^64`).
    pub fn new(
        notional_floor: u128,
        maintenance_margin_bps: MarginBps,
    ) -> Result<Self, ModelError> {
        match u64::try_from(notional_floor) {
            Ok(f) if f > 0 => Ok(Self {
                notional_floor: f,
                maintenance_margin_bps,
            }),
            _ => Err(ModelError::OutOfBounds {
                field: "notional_floor",
                value: notional_floor.to_string(),
                bound: "0 < notional_floor < 2^64 minimal quote units",
            }),
        }
    }
    /// The floor in minimal quote units.
    pub fn notional_floor(&self) -> u64 {
        self.notional_floor
    }
    /// The bracket's rate.
    pub fn maintenance_margin_bps(&self) -> MarginBps {
        self.maintenance_margin_bps
    }
}

/// Checks a symbol: 1 to 32 characters from `A-Z a-z 0-9 - _ . /`.
fn symbol_ok(symbol: &str) -> bool {
    (1..=32).contains(&symbol.len())
        && symbol
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
}

/// A collateral asset (risk model v2, `docs/SPEC.md` §2): its oracle price for the
/// epoch, its decimals, the share of its value that counts as margin, and the venue's
/// holdings of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    symbol: String,
    price: Price,
    price_decimals: u32,
    amount_decimals: u32,
    collateral_ratio_bps: RatioBps,
    reserves: u128,
}

impl Asset {
    /// Builds an asset: a symbol like a market's, decimals at most 18, reserves below
    /// `2^96` minimal asset units.
    pub fn new(
        symbol: &str,
        price: Price,
        price_decimals: u32,
        amount_decimals: u32,
        collateral_ratio_bps: RatioBps,
        reserves: u128,
    ) -> Result<Self, ModelError> {
        if !symbol_ok(symbol) {
            return Err(ModelError::InvalidSymbol(symbol.to_owned()));
        }
        check_decimals("price_decimals", price_decimals.into())?;
        check_decimals("amount_decimals", amount_decimals.into())?;
        if reserves >> ASSET_RESERVE_BITS != 0 {
            return Err(ModelError::OutOfBounds {
                field: "reserves",
                value: reserves.to_string(),
                bound: "0 <= reserves < 2^96 minimal asset units",
            });
        }
        Ok(Self {
            symbol: symbol.to_owned(),
            price,
            price_decimals,
            amount_decimals,
            collateral_ratio_bps,
            reserves,
        })
    }
    /// The asset's symbol.
    pub fn symbol(&self) -> &str {
        &self.symbol
    }
    /// The oracle price of one whole asset unit in minimal price units of quote.
    pub fn price(&self) -> Price {
        self.price
    }
    /// Decimals of the price.
    pub fn price_decimals(&self) -> u32 {
        self.price_decimals
    }
    /// Decimals of amounts of this asset.
    pub fn amount_decimals(&self) -> u32 {
        self.amount_decimals
    }
    /// The share of a held amount's value that counts as margin.
    pub fn collateral_ratio_bps(&self) -> RatioBps {
        self.collateral_ratio_bps
    }
    /// The venue's holdings in minimal asset units.
    pub fn reserves(&self) -> u128 {
        self.reserves
    }
    /// `a_c + p_c`: decimals of a value `amount · price`.
    pub fn value_decimals(&self) -> u32 {
        self.amount_decimals + self.price_decimals
    }
}

/// Validates a number of decimals (`≤ 18`).
pub fn check_decimals(field: &'static str, v: i128) -> Result<u32, ModelError> {
    match u32::try_from(v) {
        Ok(d) if d <= MAX_DECIMALS => Ok(d),
        _ => Err(ModelError::OutOfBounds {
            field,
            value: v.to_string(),
            bound: "0 <= decimals <= 18",
        }),
    }
}

/// A perpetual market: its oracle price for the epoch and its risk parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Market {
    symbol: String,
    price: Price,
    price_decimals: u32,
    size_decimals: u32,
    maintenance_margin_bps: MarginBps,
    tiers: Vec<Tier>,
    /// `None` if the market declares no `liquidation_fee_bps` (a rate of 0).
    liquidation_fee_bps: Option<FeeBps>,
}

impl Market {
    /// Builds a market; decimals must be at most 18 and the symbol 1 to 32
    /// characters from `A-Z a-z 0-9 - _ . /`.
    pub fn new(
        symbol: &str,
        price: Price,
        price_decimals: u32,
        size_decimals: u32,
        maintenance_margin_bps: MarginBps,
    ) -> Result<Self, ModelError> {
        if !symbol_ok(symbol) {
            return Err(ModelError::InvalidSymbol(symbol.to_owned()));
        }
        check_decimals("price_decimals", price_decimals.into())?;
        check_decimals("size_decimals", size_decimals.into())?;
        Ok(Self {
            symbol: symbol.to_owned(),
            price,
            price_decimals,
            size_decimals,
            maintenance_margin_bps,
            tiers: Vec::new(),
            liquidation_fee_bps: None,
        })
    }
    /// The same market with further maintenance brackets (`docs/SPEC.md` §2.2): at
    /// most [`MAX_BRACKETS`] in all with the first, floors strictly increasing (the
    /// first above 0), rates non-decreasing from the market's own.
    pub fn with_tiers(mut self, tiers: Vec<Tier>) -> Result<Self, ModelError> {
        if tiers.len() + 1 > MAX_BRACKETS {
            return Err(ModelError::TierCount {
                symbol: self.symbol,
                count: tiers.len() + 1,
            });
        }
        let mut floor = 0u64;
        let mut rate = self.maintenance_margin_bps;
        for (index, t) in tiers.iter().enumerate() {
            if t.notional_floor <= floor {
                return Err(ModelError::TierFloorNotIncreasing {
                    symbol: self.symbol,
                    index,
                });
            }
            if t.maintenance_margin_bps < rate {
                return Err(ModelError::TierRateDecreasing {
                    symbol: self.symbol,
                    index,
                });
            }
            floor = t.notional_floor;
            rate = t.maintenance_margin_bps;
        }
        self.tiers = tiers;
        Ok(self)
    }
    /// The same market with a liquidation fee rate (`docs/SPEC.md` §2.4).
    /// A declared rate, even 0, puts the epoch's waterfall in its statement.
    pub fn with_liquidation_fee(mut self, fee: FeeBps) -> Self {
        self.liquidation_fee_bps = Some(fee);
        self
    }
    /// The liquidation fee rate in bps of notional (0 unless declared).
    pub fn liquidation_fee_bps(&self) -> FeeBps {
        self.liquidation_fee_bps.unwrap_or_default()
    }
    /// Whether the market declares `liquidation_fee_bps` (even 0).
    pub fn declares_liquidation_fee(&self) -> bool {
        self.liquidation_fee_bps.is_some()
    }
    /// The brackets beyond the first, by increasing floor (empty: a flat rate).
    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }
    /// The market's symbol.
    pub fn symbol(&self) -> &str {
        &self.symbol
    }
    /// The oracle price in minimal price units.
    pub fn price(&self) -> Price {
        self.price
    }
    /// Decimals of the price.
    pub fn price_decimals(&self) -> u32 {
        self.price_decimals
    }
    /// Decimals of sizes in this market.
    pub fn size_decimals(&self) -> u32 {
        self.size_decimals
    }
    /// The maintenance margin rate of the first bracket (from notional 0).
    pub fn maintenance_margin_bps(&self) -> MarginBps {
        self.maintenance_margin_bps
    }
    /// `s_m + p_m`: decimals of a notional `size · price` in this market.
    pub fn notional_decimals(&self) -> u32 {
        self.size_decimals + self.price_decimals
    }
}

/// The public parameters of an epoch: everything the statement publishes about
/// prices, risk parameters and reserves (`docs/SPEC.md` §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochParams {
    epoch: u64,
    quote_decimals: u32,
    reserves: u128,
    insurance_fund: u128,
    markets: Vec<Market>,
    assets: Vec<Asset>,
    venue: VenueAddress,
    owner_binding: OwnerBinding,
    liabilities_disclosed: bool,
    /// Bit `c`: the total `h_c` of asset `c` is disclosed (`docs/SPEC.md` §2.3).
    asset_totals_disclosed: u16,
}

impl EpochParams {
    /// Validates the parameters: 1 to 64 markets with distinct symbols, all scale
    /// exponents at most 18. Reserves and the insurance fund are `u128`, so they are
    /// below 2^128 by type.
    pub fn new(
        epoch: u64,
        quote_decimals: u32,
        reserves: u128,
        insurance_fund: u128,
        markets: Vec<Market>,
    ) -> Result<Self, ModelError> {
        check_decimals("quote_decimals", quote_decimals.into())?;
        if markets.is_empty() || markets.len() > MAX_MARKETS {
            return Err(ModelError::MarketCount(markets.len()));
        }
        for (i, m) in markets.iter().enumerate() {
            if markets[..i].iter().any(|o| o.symbol == m.symbol) {
                return Err(ModelError::DuplicateMarket(m.symbol.clone()));
            }
        }
        let params = Self {
            epoch,
            quote_decimals,
            reserves,
            insurance_fund,
            markets,
            assets: Vec::new(),
            venue: VenueAddress::default(),
            owner_binding: OwnerBinding::None,
            liabilities_disclosed: false,
            asset_totals_disclosed: 0,
        };
        params.check_scales()?;
        Ok(params)
    }
    /// The same parameters with collateral assets (risk model v2, `docs/SPEC.md` §2):
    /// at most [`MAX_ASSETS`] with distinct symbols, every scale exponent (now over
    /// the assets too) at most 18.
    pub fn with_assets(mut self, assets: Vec<Asset>) -> Result<Self, ModelError> {
        if assets.len() > MAX_ASSETS {
            return Err(ModelError::AssetCount(assets.len()));
        }
        for (i, a) in assets.iter().enumerate() {
            if assets[..i].iter().any(|o| o.symbol == a.symbol) {
                return Err(ModelError::DuplicateAsset(a.symbol.clone()));
            }
        }
        self.assets = assets;
        self.asset_totals_disclosed = 0;
        self.check_scales()?;
        Ok(self)
    }
    /// Every scale exponent `E − …` is at most [`MAX_SCALE_EXPONENT`].
    fn check_scales(&self) -> Result<(), ModelError> {
        let e = self.common_exponent();
        if e - self.quote_decimals > MAX_SCALE_EXPONENT {
            return Err(ModelError::QuoteScaleSpread {
                exponent: e - self.quote_decimals,
            });
        }
        for m in &self.markets {
            if e - m.notional_decimals() > MAX_SCALE_EXPONENT {
                return Err(ModelError::ScaleSpread {
                    symbol: m.symbol.clone(),
                    exponent: e - m.notional_decimals(),
                });
            }
        }
        for a in &self.assets {
            if e - a.value_decimals() > MAX_SCALE_EXPONENT {
                return Err(ModelError::AssetScaleSpread {
                    symbol: a.symbol.clone(),
                    exponent: e - a.value_decimals(),
                });
            }
        }
        Ok(())
    }
    /// The collateral assets, in declaration order (which fixes the order of an
    /// account's amounts).
    pub fn assets(&self) -> &[Asset] {
        &self.assets
    }
    /// Index of an asset by symbol.
    pub fn asset_index(&self, symbol: &str) -> Option<usize> {
        self.assets.iter().position(|a| a.symbol == symbol)
    }
    /// Whether the parameters use risk model v2 (maintenance brackets or collateral
    /// assets); without either they mean exactly what risk model v1 meant.
    pub fn uses_risk_model_v2(&self) -> bool {
        !self.assets.is_empty() || self.markets.iter().any(|m| !m.tiers.is_empty())
    }
    /// The same parameters published by `venue` (`docs/SPEC.md` §7.5). A snapshot
    /// names no venue; the prover sets the address of the key that signs the
    /// statement, and the descriptor (§5.5) binds it.
    pub fn with_venue(mut self, venue: VenueAddress) -> Self {
        self.venue = venue;
        self
    }
    /// The venue publishing the epoch (the zero address until one is set).
    pub fn venue(&self) -> VenueAddress {
        self.venue
    }
    /// The same parameters declaring `binding` ([`Snapshot::new`] derives it from the
    /// accounts; a statement reader takes it from `statement.json`).
    pub fn with_owner_binding(mut self, binding: OwnerBinding) -> Self {
        self.owner_binding = binding;
        self
    }
    /// Which accounts carry an owner commitment (`docs/SPEC.md` §5.2).
    pub fn owner_binding(&self) -> OwnerBinding {
        self.owner_binding
    }
    /// The same parameters with total liabilities `L` disclosed or not
    /// (`docs/SPEC.md` §6.4: the proofs then bind the published `L`; undisclosed, it
    /// stays hidden). The venue chooses (`prove --disclose-liabilities`); a statement
    /// reader takes it from whether `statement.json` has `liabilities`.
    pub fn with_liabilities_disclosed(mut self, disclosed: bool) -> Self {
        self.liabilities_disclosed = disclosed;
        self
    }
    /// Whether the epoch publishes its total liabilities `L`.
    pub fn liabilities_disclosed(&self) -> bool {
        self.liabilities_disclosed
    }
    /// The same parameters disclosing the per-asset totals `h_c = Σ_i
    /// max(amount_{i,c}, 0)` of exactly the assets named in `symbols` (risk model v2,
    /// `docs/SPEC.md` §2.3, §6.4: the proofs then bind each disclosed total; the
    /// others stay hidden). The venue chooses (`prove --disclose-asset-totals`); a
    /// statement reader takes it from the keys of `statement.json`'s `asset_totals`.
    /// A symbol that is no declared asset is refused; naming one twice is naming it.
    pub fn with_asset_totals_disclosed<S: AsRef<str>>(
        mut self,
        symbols: &[S],
    ) -> Result<Self, ModelError> {
        let mut mask = 0u16;
        for symbol in symbols {
            let symbol = symbol.as_ref();
            let c = self
                .asset_index(symbol)
                .ok_or_else(|| ModelError::UnknownDisclosedAsset {
                    symbol: symbol.to_owned(),
                    declared: if self.assets.is_empty() {
                        "none".to_owned()
                    } else {
                        let names: Vec<&str> = self.assets.iter().map(|a| a.symbol()).collect();
                        names.join(", ")
                    },
                })?;
            mask |= 1 << c;
        }
        self.asset_totals_disclosed = mask;
        Ok(self)
    }
    /// The same parameters with the disclosure choices of `published` (whether `L`
    /// and which per-asset totals are disclosed): a snapshot names none, a statement
    /// read back has them, and comparing the two compares everything else.
    pub fn with_disclosures_of(mut self, published: &EpochParams) -> Self {
        self.liabilities_disclosed = published.liabilities_disclosed;
        let own = u16::try_from((1u32 << self.assets.len()) - 1).unwrap_or(u16::MAX);
        self.asset_totals_disclosed = published.asset_totals_disclosed & own;
        self
    }
    /// Whether asset `c`'s total is disclosed.
    pub fn asset_total_disclosed(&self, c: usize) -> bool {
        c < self.assets.len() && (self.asset_totals_disclosed >> c) & 1 == 1
    }
    /// Bit `c` set iff asset `c`'s total is disclosed (0 without assets).
    pub fn asset_totals_disclosed(&self) -> u16 {
        self.asset_totals_disclosed
    }
    /// Whether the epoch's statement carries the default waterfall (`docs/SPEC.md`
    /// §2.4): some market declares `liquidation_fee_bps` (even 0).
    pub fn has_waterfall(&self) -> bool {
        self.markets.iter().any(Market::declares_liquidation_fee)
    }
    /// The epoch id.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }
    /// Decimals of the quote currency.
    pub fn quote_decimals(&self) -> u32 {
        self.quote_decimals
    }
    /// Reserves in minimal quote units.
    pub fn reserves(&self) -> u128 {
        self.reserves
    }
    /// Insurance fund in minimal quote units.
    pub fn insurance_fund(&self) -> u128 {
        self.insurance_fund
    }
    /// The markets, in declaration order (which fixes the order of sizes in a leaf).
    pub fn markets(&self) -> &[Market] {
        &self.markets
    }
    /// Index of a market by symbol.
    pub fn market_index(&self, symbol: &str) -> Option<usize> {
        self.markets.iter().position(|m| m.symbol == symbol)
    }
    /// `E = max(q, max_m(s_m + p_m), max_c(a_c + p_c))`: every amount is evaluated in
    /// units of `10^-E` quote (`docs/SPEC.md` §3).
    pub fn common_exponent(&self) -> u32 {
        self.markets
            .iter()
            .map(Market::notional_decimals)
            .chain(self.assets.iter().map(Asset::value_decimals))
            .fold(self.quote_decimals, u32::max)
    }
    /// `f_q = 10^(E - q)`.
    pub fn quote_scale(&self) -> I256 {
        pow10(self.common_exponent() - self.quote_decimals)
    }
    /// `f_m = 10^(E - s_m - p_m)` for each market, in order.
    pub fn market_scales(&self) -> Vec<I256> {
        let e = self.common_exponent();
        self.markets
            .iter()
            .map(|m| pow10(e - m.notional_decimals()))
            .collect()
    }
    /// `f_c = 10^(E - a_c - p_c)` for each asset, in order.
    pub fn asset_scales(&self) -> Vec<I256> {
        let e = self.common_exponent();
        self.assets
            .iter()
            .map(|a| pow10(e - a.value_decimals()))
            .collect()
    }
}

/// `10^e` for `e ≤ 76` (the largest power of ten an [`I256`] holds; the scales
/// above need `e ≤ 36`).
pub fn pow10(e: u32) -> I256 {
    I256::from(10u8).pow(e)
}

/// An owner commitment (`docs/SPEC.md` §5.2): 32 bytes the owner can recompute from
/// something only they hold (`backstop owner commitment` derives it from a secret
/// file), written `0x` + 64 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OwnerCommitment(pub [u8; 32]);

impl OwnerCommitment {
    /// Parses `0x` + 64 lowercase hex digits (one spelling per value).
    pub fn parse(text: &str) -> Option<Self> {
        crate::json::lower_hex_bytes(text).map(Self)
    }
}

impl core::fmt::Display for OwnerCommitment {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

/// Which accounts of an epoch carry an owner commitment: a declaration of the venue,
/// bound by the descriptor (`docs/SPEC.md` §5.5) and checkable by each owner only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OwnerBinding {
    /// No account does.
    #[default]
    None,
    /// Some accounts do, others do not.
    Partial,
    /// Every account does.
    All,
}

impl OwnerBinding {
    /// The binding of these accounts.
    pub fn of(accounts: &[Account]) -> Self {
        let bound = accounts.iter().filter(|a| a.owner.is_some()).count();
        match bound {
            0 => Self::None,
            n if n == accounts.len() => Self::All,
            _ => Self::Partial,
        }
    }
    /// The statement's spelling: `none`, `partial` or `all`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Partial => "partial",
            Self::All => "all",
        }
    }
    /// Parses [`Self::as_str`]'s spelling.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::None, Self::Partial, Self::All]
            .into_iter()
            .find(|b| b.as_str() == text)
    }
    /// The descriptor's byte: 0, 1 or 2.
    pub fn code(self) -> u8 {
        match self {
            Self::None => 0,
            Self::Partial => 1,
            Self::All => 2,
        }
    }
}

/// One account: its id, quote balance, a size in every market (dense, in the
/// order of [`EpochParams::markets`]; zero where it holds no position), and its
/// owner commitment if the venue was given one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    id: AccountId,
    quote_balance: Balance,
    sizes: Vec<Size>,
    amounts: Vec<Amount>,
    owner: Option<OwnerCommitment>,
}

impl Account {
    /// Builds an account from validated parts.
    pub fn new(id: AccountId, quote_balance: Balance, sizes: Vec<Size>) -> Self {
        Self {
            id,
            quote_balance,
            sizes,
            amounts: Vec::new(),
            owner: None,
        }
    }
    /// The same account holding `amounts` of the collateral assets (dense, in the
    /// order of [`EpochParams::assets`]; zero where it holds none).
    pub fn with_amounts(mut self, amounts: Vec<Amount>) -> Self {
        self.amounts = amounts;
        self
    }
    /// Amounts per collateral asset (empty before [`Snapshot::new`] when the
    /// snapshot has no assets; one per asset after).
    pub fn amounts(&self) -> &[Amount] {
        &self.amounts
    }
    /// The same account bound to `owner` (`docs/SPEC.md` §5.2).
    pub fn with_owner(mut self, owner: Option<OwnerCommitment>) -> Self {
        self.owner = owner;
        self
    }
    /// The owner commitment, if any.
    pub fn owner(&self) -> Option<OwnerCommitment> {
        self.owner
    }
    /// The id.
    pub fn id(&self) -> AccountId {
        self.id
    }
    /// The quote balance.
    pub fn quote_balance(&self) -> Balance {
        self.quote_balance
    }
    /// Sizes per market.
    pub fn sizes(&self) -> &[Size] {
        &self.sizes
    }
}

/// A validated epoch snapshot: parameters and accounts in strictly increasing id order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    params: EpochParams,
    accounts: Vec<Account>,
}

impl Snapshot {
    /// Validates and sorts: at least one and at most 2^32 accounts, distinct ids,
    /// one size per market each. The parameters' owner binding is derived from the
    /// accounts.
    pub fn new(params: EpochParams, mut accounts: Vec<Account>) -> Result<Self, ModelError> {
        if accounts.is_empty() {
            return Err(ModelError::Empty);
        }
        if accounts.len() as u64 > MAX_ACCOUNTS {
            return Err(ModelError::TooManyAccounts(accounts.len()));
        }
        let m = params.markets.len();
        if let Some(a) = accounts.iter().find(|a| a.sizes.len() != m) {
            return Err(ModelError::SizeCount {
                id: a.id.get(),
                got: a.sizes.len(),
                expected: m,
            });
        }
        // An account given no amounts holds none of any asset.
        let c = params.assets.len();
        for a in &mut accounts {
            if a.amounts.is_empty() {
                a.amounts = vec![Amount::ZERO; c];
            }
        }
        if let Some(a) = accounts.iter().find(|a| a.amounts.len() != c) {
            return Err(ModelError::AmountCount {
                id: a.id.get(),
                got: a.amounts.len(),
                expected: c,
            });
        }
        accounts.sort_unstable_by_key(|a| a.id);
        if let Some(w) = accounts.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(ModelError::DuplicateAccount(w[0].id.get()));
        }
        let params = params.with_owner_binding(OwnerBinding::of(&accounts));
        Ok(Self { params, accounts })
    }
    /// The same snapshot published by `venue` ([`EpochParams::with_venue`]).
    pub fn with_venue(mut self, venue: VenueAddress) -> Self {
        self.params.venue = venue;
        self
    }
    /// The same accounts and parameters under another epoch id (for tests and demos
    /// that need several epochs of one book).
    pub fn with_epoch(mut self, epoch: u64) -> Self {
        self.params.epoch = epoch;
        self
    }
    /// The same snapshot, publishing its total liabilities or not
    /// ([`EpochParams::with_liabilities_disclosed`]).
    pub fn with_liabilities_disclosed(mut self, disclosed: bool) -> Self {
        self.params.liabilities_disclosed = disclosed;
        self
    }
    /// The same snapshot, disclosing the per-asset totals of the assets named
    /// ([`EpochParams::with_asset_totals_disclosed`]).
    pub fn with_asset_totals_disclosed<S: AsRef<str>>(
        mut self,
        symbols: &[S],
    ) -> Result<Self, ModelError> {
        self.params = self.params.with_asset_totals_disclosed(symbols)?;
        Ok(self)
    }
    /// The public parameters.
    pub fn params(&self) -> &EpochParams {
        &self.params
    }
    /// The accounts, strictly increasing by id.
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn market(sym: &str, pd: u32, sd: u32) -> Market {
        Market::new(
            sym,
            Price::new(1).unwrap(),
            pd,
            sd,
            MarginBps::new(500).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn amount_bounds_are_exclusive() {
        assert!(Balance::new(i64::MAX as i128).is_ok());
        assert!(Balance::new(-(i64::MAX as i128)).is_ok());
        assert!(Balance::new(i64::MIN as i128).is_err());
        assert!(Size::new(1i128 << 63).is_err());
        assert!(Price::new(u64::MAX as i128).is_ok());
        assert!(Price::new(-1).is_err());
        assert!(Price::new(1i128 << 64).is_err());
        assert!(MarginBps::new(10_000).is_ok());
        assert!(MarginBps::new(10_001).is_err());
    }

    #[test]
    fn scale_spread_is_bounded() {
        // q = 6, BTC notional decimals 8 + 2 = 10: E = 10, f_q = 10^4.
        let p = EpochParams::new(1, 6, 0, 0, vec![market("BTC", 2, 8)]).unwrap();
        assert_eq!(p.common_exponent(), 10);
        assert_eq!(p.quote_scale(), I256::from(10_000));
        assert_eq!(p.market_scales(), vec![I256::ONE]);
        // q = 0 and a market with 19 notional decimals: f_q = 10^19 is refused.
        let err = EpochParams::new(1, 0, 0, 0, vec![market("X", 10, 9)]).unwrap_err();
        assert_eq!(err, ModelError::QuoteScaleSpread { exponent: 19 });
        let err = EpochParams::new(1, 18, 0, 0, vec![market("X", 18, 18), market("Y", 0, 0)])
            .unwrap_err();
        assert!(matches!(err, ModelError::ScaleSpread { exponent: 36, .. }));
        assert!(EpochParams::new(1, 0, 0, 0, vec![market("X", 9, 9)]).is_ok());
    }

    #[test]
    fn snapshot_refuses_duplicates_and_empty() {
        let p = EpochParams::new(1, 6, 0, 0, vec![market("BTC", 2, 8)]).unwrap();
        let acct = |id| Account::new(AccountId::new(id), Balance::default(), vec![Size::ZERO]);
        assert_eq!(Snapshot::new(p.clone(), vec![]), Err(ModelError::Empty));
        assert_eq!(
            Snapshot::new(p.clone(), vec![acct(3), acct(1), acct(3)]),
            Err(ModelError::DuplicateAccount(3))
        );
        let s = Snapshot::new(p, vec![acct(3), acct(1)]).unwrap();
        assert_eq!(s.accounts()[0].id(), AccountId::new(1));
    }
}
