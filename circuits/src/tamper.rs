//! Statements a verifier must refuse although each is a well-formed statement: the
//! relabellings of `docs/SPEC.md` §7.4 that keep every *derived* parameter of the
//! honest statement (so statement v1's parameters hash could not tell them apart),
//! and another venue. Tests of every verifier (Groth16 and halo2, off chain, on chain
//! and through the CLI) run them against honest epochs; each must fail at the proofs,
//! after the mutated statement is signed again by the venue key, so that the
//! signature is not what refuses it.

use crate::decimal::{format_scaled, parse_unsigned_u256};
use crate::descriptor::VenueAddress;
use crate::statement::{EpochStatement, StatementFile};
use ethnum::U256;

/// `text` (an exact decimal with at most `decimals` places) read with one more
/// decimal place: the same digits, worth ten times less; at least `min_places`
/// places are written.
fn one_more_place(text: &str, decimals: u32, min_places: u32) -> Option<String> {
    let v: U256 = parse_unsigned_u256(text, decimals, "any").ok()?;
    Some(format_scaled(v.as_i256(), decimals + 1, min_places))
}

/// The relabellings of `file` that parse as valid statements, each with a name:
/// - one more decimal on the quote currency and on every market's sizes, with
///   reserves, insurance fund and bad debt written with one more decimal place
///   (each reads ten times smaller);
/// - one decimal moved from each market's sizes to its price (prices read ten
///   times smaller, sizes ten times larger);
/// - the first market's symbol renamed, and two markets' symbols swapped;
/// - `other_venue` named as the venue (which that venue's key could sign).
///
/// A relabelling that does not apply (a market with no size decimal to move, or a
/// decimal count that would exceed 18) is left out.
pub fn relabellings(
    file: &StatementFile,
    other_venue: VenueAddress,
) -> Vec<(&'static str, StatementFile)> {
    let Ok(honest) = EpochStatement::new(file.clone()) else {
        return Vec::new();
    };
    let q = file.quote_decimals;
    let e = honest.params().common_exponent();
    let mut out = Vec::new();

    let mut rescaled = file.clone();
    rescaled.quote_decimals = q + 1;
    let amounts = (|| {
        rescaled.reserves = one_more_place(&file.reserves, q, 0)?;
        rescaled.insurance_fund = one_more_place(&file.insurance_fund, q, 0)?;
        rescaled.bad_debt = one_more_place(&file.bad_debt, e, q + 1)?;
        Some(())
    })();
    for m in &mut rescaled.markets {
        m.size_decimals += 1;
    }
    if amounts.is_some() {
        out.push((
            "one more decimal on the quote currency and every size (amounts read ten times smaller)",
            rescaled,
        ));
    }

    let mut moved = file.clone();
    let prices = moved.markets.iter_mut().try_for_each(|m| {
        if m.size_decimals == 0 {
            return None;
        }
        m.price = one_more_place(&m.price, m.price_decimals, 0)?;
        m.price_decimals += 1;
        m.size_decimals -= 1;
        Some(())
    });
    if prices.is_some() {
        out.push((
            "a decimal moved from every market's sizes to its price",
            moved,
        ));
    }

    let mut renamed = file.clone();
    let symbol = &mut renamed.markets[0].symbol;
    let last = if symbol.ends_with('X') { "Y" } else { "X" };
    if symbol.len() == 32 {
        symbol.pop();
    }
    symbol.push_str(last);
    out.push(("the first market's symbol renamed", renamed));

    if file.markets.len() >= 2 {
        let mut swapped = file.clone();
        let first = swapped.markets[0].symbol.clone();
        swapped.markets[0].symbol = swapped.markets[1].symbol.clone();
        swapped.markets[1].symbol = first;
        out.push(("the first two markets' symbols swapped", swapped));
    }

    if other_venue != honest.venue() {
        let mut other = file.clone();
        other.venue = other_venue.to_string();
        out.push(("another venue named", other));
    }

    // Only statements that parse: what is refused must be refused by the proofs.
    out.retain(|(_, f)| EpochStatement::new(f.clone()).is_ok());
    out
}
