//! Validated domain types of an epoch snapshot (`docs/SPEC.md` §2–§3).
//!
//! Every constructor here refuses values outside the bounds of [`crate::bounds`], so
//! a [`Snapshot`] that exists is one the native engine and the circuits can evaluate
//! without overflow. Parsers ([`crate::snapshot`]) attach file, row and field to the
//! [`ModelError`]s returned here.

use crate::bounds::{
    BALANCE_BITS, MAX_ACCOUNTS, MAX_DECIMALS, MAX_MARKETS, MAX_MM_BPS, MAX_SCALE_EXPONENT,
    SIZE_BITS,
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

/// Checks `|v| < 2^bits` for a signed amount, so `i64::MIN` is refused.
fn signed_in_bounds(v: i128, bits: u32) -> bool {
    v.unsigned_abs() < (1u128 << bits)
}

/// A signed quote balance in minimal quote units, `|v| < 2^63`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Balance(i64);

impl Balance {
    /// Validates `|v| < 2^63`.
    pub fn new(v: i128) -> Result<Self, ModelError> {
        if signed_in_bounds(v, BALANCE_BITS) {
            Ok(Self(v as i64))
        } else {
            Err(ModelError::OutOfBounds {
                field: "quote_balance",
                value: v.to_string(),
                bound: "|quote_balance| < 2^63 minimal quote units",
            })
        }
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
        if signed_in_bounds(v, SIZE_BITS) {
            Ok(Self(v as i64))
        } else {
            Err(ModelError::OutOfBounds {
                field: "size",
                value: v.to_string(),
                bound: "|size| < 2^63 minimal size units",
            })
        }
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

impl MarginBps {
    /// Validates `0 ≤ v ≤ 10000`.
    pub fn new(v: i128) -> Result<Self, ModelError> {
        match u16::try_from(v) {
            Ok(b) if b <= MAX_MM_BPS => Ok(Self(b)),
            _ => Err(ModelError::OutOfBounds {
                field: "maintenance_margin_bps",
                value: v.to_string(),
                bound: "0 <= maintenance_margin_bps <= 10000",
            }),
        }
    }
    /// The raw value.
    pub const fn get(self) -> u16 {
        self.0
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
        let symbol_ok = (1..=32).contains(&symbol.len())
            && symbol
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b));
        if !symbol_ok {
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
        })
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
    /// Maintenance margin rate.
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
    venue: VenueAddress,
    owner_binding: OwnerBinding,
    liabilities_disclosed: bool,
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
            venue: VenueAddress::default(),
            owner_binding: OwnerBinding::None,
            liabilities_disclosed: false,
        };
        let e = params.common_exponent();
        if e - quote_decimals > MAX_SCALE_EXPONENT {
            return Err(ModelError::QuoteScaleSpread {
                exponent: e - quote_decimals,
            });
        }
        for m in &params.markets {
            if e - m.notional_decimals() > MAX_SCALE_EXPONENT {
                return Err(ModelError::ScaleSpread {
                    symbol: m.symbol.clone(),
                    exponent: e - m.notional_decimals(),
                });
            }
        }
        Ok(params)
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
    /// `E = max(q, max_m(s_m + p_m))`: every amount is evaluated in units of `10^-E`
    /// quote (`docs/SPEC.md` §3).
    pub fn common_exponent(&self) -> u32 {
        self.markets
            .iter()
            .map(Market::notional_decimals)
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
    owner: Option<OwnerCommitment>,
}

impl Account {
    /// Builds an account from validated parts.
    pub fn new(id: AccountId, quote_balance: Balance, sizes: Vec<Size>) -> Self {
        Self {
            id,
            quote_balance,
            sizes,
            owner: None,
        }
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
