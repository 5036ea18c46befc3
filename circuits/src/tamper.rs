//! Statements a verifier must refuse.
//!
//! [`relabellings`]: well-formed statements that keep every *derived* parameter of
//! the honest statement (so statement v1's parameters hash could not tell them
//! apart), and another venue. Tests of every verifier (Groth16 and halo2, off chain,
//! on chain and through the CLI) run them against honest epochs; each must fail at
//! the proofs, after the mutated statement is signed again by the venue key, so that
//! the signature is not what refuses it.
//!
//! [`catalogue`]: every mutation of a `statement.json` that changes its meaning,
//! generated from the JSON tree itself (no list of field names), so that a field
//! added later is covered without editing a test; the relabellings are part of it.

use crate::decimal::{format_scaled, parse_unsigned_u256};
use crate::descriptor::VenueAddress;
use crate::statement::{EpochStatement, StatementFile};
use ethnum::U256;
use serde_json::Value;

/// `text` (an exact decimal with at most `decimals` places) read with one more
/// decimal place: the same digits, worth ten times less; at least `min_places`
/// places are written.
fn one_more_place(text: &str, decimals: u32, min_places: u32) -> Option<String> {
    respelled(text, decimals, decimals + 1, min_places)
}

/// `text` (an exact decimal with at most `from` places) as the same number of
/// minimal units written with `to` places.
fn respelled(text: &str, from: u32, to: u32, min_places: u32) -> Option<String> {
    let v: U256 = parse_unsigned_u256(text, from, "any").ok()?;
    Some(format_scaled(v.as_i256(), to, min_places))
}

/// Renames the solvency flags and disclosed totals at once, each `(from, to)` of
/// `renames` (a relabelling keeps each flag and total with its asset's position).
fn rename_flags(file: &mut StatementFile, renames: &[(&str, &str)]) {
    let symbols = (file.asset_solvency.0.iter_mut().map(|(s, _)| s))
        .chain(file.asset_totals.0.iter_mut().map(|(s, _)| s));
    for symbol in symbols {
        if let Some((_, to)) = renames.iter().find(|(from, _)| from == symbol) {
            *symbol = (*to).to_owned();
        }
    }
}

/// The disclosed total of `symbol` in `file`, respelled from `from` to `to`
/// places (at least `to`: a total is written with exactly its asset's
/// `amount_decimals`).
fn respell_total(file: &mut StatementFile, symbol: &str, from: u32, to: u32) -> Option<()> {
    for (s, total) in &mut file.asset_totals.0 {
        if s == symbol {
            *total = respelled(total, from, to, to)?;
        }
    }
    Some(())
}

/// The relabellings of `file` that parse as valid statements, each with a name:
/// - one more decimal on the quote currency and on every market's sizes, with
///   reserves, insurance fund, bad debt and (if disclosed) liabilities written with
///   one more decimal place (each reads ten times smaller);
/// - one decimal moved from each market's sizes to its price (prices read ten
///   times smaller, sizes ten times larger);
/// - the first market's symbol renamed, and two markets' symbols swapped;
/// - risk model v2: with the quote decimal, every tier floor and asset amount read
///   ten times smaller too; a decimal moved from every asset's amounts to its price;
///   the first asset's symbol renamed and two assets' symbols swapped (each flag of
///   `asset_solvency` keeps its asset's position);
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
        if let Some(l) = &file.liabilities {
            rescaled.liabilities = Some(one_more_place(l, e, q + 1)?);
        }
        Some(())
    })();
    let floors = rescaled.markets.iter_mut().try_for_each(|m| {
        m.size_decimals += 1;
        for t in &mut m.tiers {
            t.notional_floor = one_more_place(&t.notional_floor, q, 0)?;
        }
        Some(())
    });
    let mut assets_out = rescaled.assets.clone();
    let assets = assets_out.iter_mut().try_for_each(|a| {
        a.reserves = one_more_place(&a.reserves, a.amount_decimals, 0)?;
        respell_total(
            &mut rescaled,
            &a.symbol,
            a.amount_decimals,
            a.amount_decimals + 1,
        )?;
        a.amount_decimals += 1;
        Some(())
    });
    rescaled.assets = assets_out;
    if amounts.is_some() && floors.is_some() && assets.is_some() {
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

    // Risk model v2: the same for the collateral assets.
    if !file.assets.is_empty() {
        let mut moved = file.clone();
        let mut assets_out = moved.assets.clone();
        let prices = assets_out.iter_mut().try_for_each(|a| {
            if a.amount_decimals == 0 {
                return None;
            }
            a.price = one_more_place(&a.price, a.price_decimals, 0)?;
            a.price_decimals += 1;
            a.reserves = respelled(&a.reserves, a.amount_decimals, a.amount_decimals - 1, 0)?;
            respell_total(
                &mut moved,
                &a.symbol,
                a.amount_decimals,
                a.amount_decimals - 1,
            )?;
            a.amount_decimals -= 1;
            Some(())
        });
        moved.assets = assets_out;
        if prices.is_some() {
            out.push((
                "a decimal moved from every asset's amounts to its price",
                moved,
            ));
        }
        let mut renamed = file.clone();
        let old = renamed.assets[0].symbol.clone();
        let mut new = old.clone();
        if new.len() == 32 {
            new.pop();
        }
        new.push_str(if old.ends_with('X') { "Y" } else { "X" });
        renamed.assets[0].symbol = new.clone();
        rename_flags(&mut renamed, &[(&old, &new)]);
        out.push(("the first asset's symbol renamed", renamed));
        if file.assets.len() >= 2 {
            let mut swapped = file.clone();
            let (a, b) = (file.assets[0].symbol.clone(), file.assets[1].symbol.clone());
            swapped.assets[0].symbol = b.clone();
            swapped.assets[1].symbol = a.clone();
            rename_flags(&mut swapped, &[(&a, &b), (&b, &a)]);
            out.push(("the first two assets' symbols swapped", swapped));
        }
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

/// One mutated statement of the [`catalogue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutation {
    /// What was changed: the JSON path (`markets[1].symbol`; `statement` for the
    /// whole object) and the kind of mutation, e.g. `markets[1].symbol: other value
    /// (last letter or digit changed)`.
    pub name: String,
    /// The whole mutated statement.
    pub value: Value,
}

/// The top-level key whose own mutations the catalogue leaves out: the venue's
/// signature. Every mutated statement is signed again before it is verified (so that
/// the proofs, not the signature, are what refuses it), which overwrites whatever a
/// mutation of `signature` wrote: signed again, each would be the honest statement.
/// A statement with a changed, removed or foreign signature is refused by the
/// signature check, which the CLI tests exercise on their own (`docs/SPEC.md` §7.5).
pub const SIGNATURE_KEY: &str = "signature";

/// The per-asset totals a statement discloses (`docs/SPEC.md` §7.1): the catalogue
/// also adds a total for each asset whose total is hidden.
pub const ASSET_TOTALS_KEY: &str = "asset_totals";

/// The key the catalogue adds to every object: no version of the statement has it.
pub const UNKNOWN_KEY: &str = "tampered";

/// Every mutation of `statement_json` (a `statement.json`) that changes its meaning,
/// generated by walking its JSON tree, so that a field added later is covered
/// without a list of field names to update:
/// - every string, number, bool and null at every path: other values of the same
///   kind (a decimal string one unit more and one unit less in its last digit, a hex
///   string with its last digit changed, a word with its last letter or digit
///   changed; a number ±1 while it stays representable, an unsigned number never
///   below 0; a bool flipped) and other lengths of a string (a digit or letter
///   appended, the last one removed);
/// - every object: each key removed, an unknown key ([`UNKNOWN_KEY`]) added, the
///   values of two keys of the same kind (two strings, two numbers, two bools)
///   swapped;
/// - every array: each entry removed, each entry duplicated, each two neighbouring
///   entries swapped, the entries reversed; an entry added to an empty array;
/// - risk model v2: for each declared asset whose total is hidden, that total
///   added to `asset_totals` (as 0);
/// - the [`relabellings`] (rescaling against another field, renamed and swapped
///   symbols, `other_venue` named as the venue), when the statement parses.
///
/// `signature`'s own mutations are left out ([`SIGNATURE_KEY`]). A mutation whose
/// JSON equals the statement's or an earlier mutation's is left out, and so is a
/// mere re-spelling of a decimal (a trailing fractional zero removed: `0.000000` as
/// `0.00000`), which changes the text but not the value.
pub fn catalogue(statement_json: &Value, other_venue: VenueAddress) -> Vec<Mutation> {
    let mut edits = Vec::new();
    walk(statement_json, "", "", &mut edits);
    let mut out = Vec::new();
    for edit in edits {
        let mut value = statement_json.clone();
        if let Some(slot) = value.pointer_mut(&edit.pointer) {
            *slot = edit.replacement;
            keep(&mut out, statement_json, edit.name, value);
        }
    }
    // Risk model v2: a per-asset total disclosed that the statement keeps hidden
    // (the walk above changes, removes and swaps the disclosed ones). Whatever its
    // value, ℓ_c moves from 0, so the proofs refuse it.
    let assets = statement_json.get("assets").and_then(Value::as_array);
    for asset in assets.into_iter().flatten() {
        let symbol = asset.get("symbol").and_then(Value::as_str);
        let places = asset.get("amount_decimals").and_then(Value::as_u64);
        let (Some(symbol), Some(places)) = (symbol, places) else {
            continue;
        };
        let totals = statement_json.get(ASSET_TOTALS_KEY);
        if totals.and_then(|t| t.get(symbol)).is_some() {
            continue;
        }
        let mut value = statement_json.clone();
        if let Some(object) = value.as_object_mut() {
            let totals = object
                .entry(ASSET_TOTALS_KEY)
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
            if let Some(totals) = totals.as_object_mut() {
                let zero = format_scaled(ethnum::I256::ZERO, places as u32, places as u32);
                totals.insert(symbol.to_owned(), Value::String(zero));
                keep(
                    &mut out,
                    statement_json,
                    format!("{ASSET_TOTALS_KEY}.{symbol}: added (a hidden total disclosed as 0)"),
                    value,
                );
            }
        }
    }
    if let Ok(file) = serde_json::from_value::<StatementFile>(statement_json.clone()) {
        for (what, relabelled) in relabellings(&file, other_venue) {
            if let Ok(value) = serde_json::to_value(&relabelled) {
                keep(
                    &mut out,
                    statement_json,
                    format!("relabelling: {what}"),
                    value,
                );
            }
        }
    }
    out
}

/// Adds a mutation unless it leaves the statement as it was or repeats one.
fn keep(out: &mut Vec<Mutation>, original: &Value, name: String, value: Value) {
    if value != *original && !out.iter().any(|m| m.value == value) {
        out.push(Mutation { name, value });
    }
}

/// A replacement of the value at a JSON pointer.
struct Edit {
    name: String,
    pointer: String,
    replacement: Value,
}

fn shown(path: &str) -> &str {
    if path.is_empty() { "statement" } else { path }
}

fn key_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn key_pointer(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// Collects the edits of `value`, at display path `path` and JSON pointer `pointer`,
/// and of everything under it.
fn walk(value: &Value, path: &str, pointer: &str, out: &mut Vec<Edit>) {
    let mut edit = |name: String, replacement: Value| {
        out.push(Edit {
            name,
            pointer: pointer.to_owned(),
            replacement,
        })
    };
    let here = shown(path);
    match value {
        Value::Null => edit(
            format!("{here}: other value (false instead of null)"),
            Value::Bool(false),
        ),
        Value::Bool(b) => edit(format!("{here}: other value (flipped)"), Value::Bool(!b)),
        Value::Number(n) => {
            for (kind, v) in number_variants(n) {
                edit(format!("{here}: {kind}"), v);
            }
        }
        Value::String(s) => {
            for (kind, v) in string_variants(s) {
                edit(format!("{here}: {kind}"), Value::String(v));
            }
        }
        Value::Array(items) => {
            if items.is_empty() {
                edit(
                    format!("{here}: an entry added (\"1\")"),
                    Value::Array(vec![Value::String("1".into())]),
                );
            }
            for i in 0..items.len() {
                let mut removed = items.clone();
                removed.remove(i);
                edit(format!("{path}[{i}]: removed"), Value::Array(removed));
                let mut duplicated = items.clone();
                duplicated.insert(i, items[i].clone());
                edit(format!("{path}[{i}]: duplicated"), Value::Array(duplicated));
            }
            for i in 1..items.len() {
                if items[i - 1] != items[i] {
                    let mut swapped = items.clone();
                    swapped.swap(i - 1, i);
                    edit(
                        format!("{here}: [{}] and [{i}] swapped", i - 1),
                        Value::Array(swapped),
                    );
                }
            }
            if items.len() > 2 {
                let mut reversed = items.clone();
                reversed.reverse();
                edit(format!("{here}: reversed"), Value::Array(reversed));
            }
            for (i, item) in items.iter().enumerate() {
                walk(
                    item,
                    &format!("{path}[{i}]"),
                    &format!("{pointer}/{i}"),
                    out,
                );
            }
        }
        Value::Object(map) => {
            // `signature` is overwritten by signing again (SIGNATURE_KEY).
            let mutable = |key: &str| !(pointer.is_empty() && key == SIGNATURE_KEY);
            let keys: Vec<&String> = map.keys().filter(|k| mutable(k)).collect();
            for key in &keys {
                let mut removed = map.clone();
                removed.remove(key.as_str());
                edit(
                    format!("{}: removed", key_path(path, key)),
                    Value::Object(removed),
                );
            }
            if !map.contains_key(UNKNOWN_KEY) {
                let mut added = map.clone();
                added.insert(UNKNOWN_KEY.into(), Value::String("0".into()));
                edit(
                    format!("{here}: unknown key `{UNKNOWN_KEY}` added"),
                    Value::Object(added),
                );
            }
            for (i, a) in keys.iter().enumerate() {
                for b in &keys[i + 1..] {
                    let (va, vb) = (&map[a.as_str()], &map[b.as_str()]);
                    let same_kind = matches!(
                        (va, vb),
                        (Value::String(_), Value::String(_))
                            | (Value::Number(_), Value::Number(_))
                            | (Value::Bool(_), Value::Bool(_))
                    );
                    if same_kind && va != vb {
                        let mut swapped = map.clone();
                        swapped.insert(a.to_string(), vb.clone());
                        swapped.insert(b.to_string(), va.clone());
                        edit(
                            format!(
                                "{here}: values of {} and {} swapped",
                                key_path(path, a),
                                key_path(path, b)
                            ),
                            Value::Object(swapped),
                        );
                    }
                }
            }
            for key in keys {
                walk(
                    &map[key.as_str()],
                    &key_path(path, key),
                    &key_pointer(pointer, key),
                    out,
                );
            }
        }
    }
}

/// A number one more and one less, while it stays representable (an unsigned
/// number is not made negative).
fn number_variants(n: &serde_json::Number) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    if let Some(u) = n.as_u64() {
        out.extend(u.checked_add(1).map(|v| ("other value (+1)", v.into())));
        out.extend(u.checked_sub(1).map(|v| ("other value (-1)", v.into())));
    } else if let Some(i) = n.as_i64() {
        out.extend(i.checked_add(1).map(|v| ("other value (+1)", v.into())));
        out.extend(i.checked_sub(1).map(|v| ("other value (-1)", v.into())));
    } else if let Some(f) = n.as_f64() {
        for (kind, v) in [("other value (+1)", f + 1.0), ("other value (-1)", f - 1.0)] {
            out.extend(serde_json::Number::from_f64(v).map(|v| (kind, Value::Number(v))));
        }
    }
    out
}

/// `\d+(\.\d+)?`: an exact decimal, as amounts, prices and 64-bit integers are
/// written.
fn is_decimal(s: &str) -> bool {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    match s.split_once('.') {
        Some((int, frac)) => digits(int) && digits(frac),
        None => digits(s),
    }
}

/// Whether two decimals are one value (`1.50` and `1.5`, `0.000000` and `0.0`).
fn same_decimal(a: &str, b: &str) -> bool {
    let parts = |s: &str| {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        (
            int.trim_start_matches('0').to_owned(),
            frac.trim_end_matches('0').to_owned(),
        )
    };
    parts(a) == parts(b)
}

/// One unit more in the last digit, carrying (`1.9` → `2.0`, `99` → `100`).
fn plus_one_in_last_digit(s: &str) -> String {
    let mut b = s.as_bytes().to_vec();
    for i in (0..b.len()).rev() {
        match b[i] {
            b'.' => {}
            b'9' => b[i] = b'0',
            d => {
                b[i] = d + 1;
                return String::from_utf8_lossy(&b).into_owned();
            }
        }
    }
    b.insert(0, b'1');
    String::from_utf8_lossy(&b).into_owned()
}

/// One unit less in the last digit, borrowing, without a leading zero in the integer
/// part (`10` → `9`, `1.0` → `0.9`); none for zero.
fn minus_one_in_last_digit(s: &str) -> Option<String> {
    if s.bytes().all(|b| b == b'0' || b == b'.') {
        return None;
    }
    let mut b = s.as_bytes().to_vec();
    for i in (0..b.len()).rev() {
        match b[i] {
            b'.' => {}
            b'0' => b[i] = b'9',
            d => {
                b[i] = d - 1;
                break;
            }
        }
    }
    let int_len = b.iter().position(|&c| c == b'.').unwrap_or(b.len());
    let zeros = b[..int_len - 1].iter().take_while(|&&c| c == b'0').count();
    b.drain(..zeros);
    Some(String::from_utf8_lossy(&b).into_owned())
}

/// The nibble `c` with its lowest bit flipped, in `c`'s case.
fn other_hex_digit(c: char) -> char {
    let v = c.to_digit(16).unwrap_or(0) ^ 1;
    let d = char::from_digit(v, 16).unwrap_or('0');
    if c.is_ascii_uppercase() {
        d.to_ascii_uppercase()
    } else {
        d
    }
}

/// `c` changed to the next character of its class (`a`..`z`, `A`..`Z`, `0`..`9`,
/// wrapping).
fn next_alphanumeric(c: char) -> char {
    let (first, n) = match c {
        'a'..='z' => (b'a', 26),
        'A'..='Z' => (b'A', 26),
        _ => (b'0', 10),
    };
    char::from(first + ((c as u8 - first + 1) % n))
}

/// Other values and other lengths of a string, keeping its syntax plausible:
/// `0x` + hex, a decimal, bare hex, or a word.
fn string_variants(s: &str) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    let hex = |prefix: &str, digits: &str, out: &mut Vec<(&'static str, String)>| {
        if let Some(last) = digits.chars().last() {
            let head = &digits[..digits.len() - 1];
            out.push((
                "other value (last hex digit changed)",
                format!("{prefix}{head}{}", other_hex_digit(last)),
            ));
            out.push((
                "other length (last hex digit removed)",
                format!("{prefix}{head}"),
            ));
        }
        out.push((
            "other length (hex digit 0 appended)",
            format!("{prefix}{digits}0"),
        ));
    };
    let hex_digits = |t: &str| t.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(digits) = s.strip_prefix("0x").filter(|d| hex_digits(d)) {
        hex("0x", digits, &mut out);
    } else if is_decimal(s) {
        // With a trailing fractional zero (`…761` − 1 = `…760`) the value is also
        // written without it, which is the canonical spelling of an amount or a
        // price: the one of the two that reaches the proofs.
        let trimmed = |v: &str| -> Option<String> {
            let t = v.trim_end_matches('0').trim_end_matches('.');
            (v.contains('.') && t != v).then(|| t.to_owned())
        };
        let more = plus_one_in_last_digit(s);
        let t = trimmed(&more);
        out.push(("other value (+1 in the last digit)", more));
        out.extend(t.map(|t| ("other value (+1 in the last digit, zeros dropped)", t)));
        if let Some(less) = minus_one_in_last_digit(s) {
            let t = trimmed(&less);
            out.push(("other value (-1 in the last digit)", less));
            out.extend(t.map(|t| ("other value (-1 in the last digit, zeros dropped)", t)));
        }
        let longer = if s.contains('.') {
            format!("{s}1")
        } else if s == "0" {
            "10".to_owned()
        } else {
            format!("{s}0")
        };
        out.push(("other length (a digit appended)", longer));
        let mut shorter = s[..s.len() - 1].to_owned();
        if shorter.ends_with('.') {
            shorter.pop();
        }
        out.push(("other length (last digit removed)", shorter));
    } else if !s.is_empty() && hex_digits(s) {
        hex("", s, &mut out);
    } else {
        match s.char_indices().rfind(|(_, c)| c.is_ascii_alphanumeric()) {
            Some((i, c)) => out.push((
                "other value (last letter or digit changed)",
                format!("{}{}{}", &s[..i], next_alphanumeric(c), &s[i + 1..]),
            )),
            None => out.push(("other value (x)", "x".to_owned())),
        }
        let appended = match s.chars().last() {
            Some(c) if c.is_ascii_uppercase() => 'X',
            Some(c) if c.is_ascii_digit() => '0',
            _ => 'x',
        };
        out.push((
            "other length (a character appended)",
            format!("{s}{appended}"),
        ));
        if let Some(c) = s.chars().last() {
            out.push((
                "other length (last character removed)",
                s[..s.len() - c.len_utf8()].to_owned(),
            ));
        }
    }
    // A re-spelling of the same decimal is not another statement.
    let mut seen: Vec<String> = Vec::new();
    out.retain(|(_, v)| {
        let keep =
            v != s && !(is_decimal(s) && is_decimal(v) && same_decimal(s, v)) && !seen.contains(v);
        seen.push(v.clone());
        keep
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn element(n: u64) -> String {
        format!("0x{n:064x}")
    }

    /// A well-formed, signed statement of three batches of 8 over two markets.
    fn sample() -> Value {
        json!({
            "version": 2,
            "backend": "groth16-bn254",
            "shape": {"id": "backstop.v2.B8.M2", "batch_size": "8", "markets": 2},
            "verifying_key_hash": "9f".repeat(32),
            "venue": format!("0x{}", "ab".repeat(20)),
            "owner_binding": "none",
            "epoch": "42",
            "quote_decimals": 6,
            "reserves": "1000000.5",
            "insurance_fund": "10",
            "markets": [
                {"symbol": "BTC", "price": "64250.5", "price_decimals": 2,
                 "size_decimals": 8, "maintenance_margin_bps": 50},
                {"symbol": "ETH", "price": "3100", "price_decimals": 2,
                 "size_decimals": 6, "maintenance_margin_bps": 100},
            ],
            "batch_count": "3",
            "accounts_commitment": element(1),
            "state_commitments": [element(100), element(101), element(102)],
            "liquidations": ["5", "17"],
            "bad_debt": "0.000000",
            "solvent": true,
            "insurance_covered": false,
            "signature": format!("0x{}1b", "cd".repeat(64)),
        })
    }

    fn other_venue() -> VenueAddress {
        VenueAddress([0x42; 20])
    }

    /// Every node of `value` below the root, with its path, computed independently of
    /// the catalogue's walk (the root's `signature` left out, as the catalogue does).
    fn nodes(value: &Value, path: String, out: &mut Vec<(String, Value)>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    if path.is_empty() && k == SIGNATURE_KEY {
                        continue;
                    }
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    out.push((p.clone(), v.clone()));
                    nodes(v, p, out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    out.push((p.clone(), v.clone()));
                    nodes(v, p, out);
                }
            }
            _ => {}
        }
    }

    fn names(statement: &Value) -> Vec<String> {
        catalogue(statement, other_venue())
            .into_iter()
            .map(|m| m.name)
            .collect()
    }

    /// Every path the statement has appears in the catalogue with the mutations of its
    /// kind: other values of every scalar, other lengths of every string, removal of
    /// every key and every entry, an unknown key in every object, swapped and
    /// duplicated entries of every array.
    fn assert_covers(statement: &Value) {
        let names = names(statement);
        let has = |prefix: String| {
            assert!(
                names.iter().any(|n| n.starts_with(&prefix)),
                "no mutation {prefix}…; the catalogue has:\n{}",
                names.join("\n")
            );
        };
        let mut all = vec![(String::new(), statement.clone())];
        nodes(statement, String::new(), &mut all);
        assert!(all.len() > 30, "{}", all.len());
        for (path, value) in &all {
            let here = if path.is_empty() { "statement" } else { path };
            if !path.is_empty() {
                has(format!("{path}: removed"));
            }
            match value {
                Value::String(_) => {
                    has(format!("{path}: other value"));
                    has(format!("{path}: other length"));
                }
                Value::Number(_) | Value::Bool(_) | Value::Null => {
                    has(format!("{path}: other value"));
                }
                Value::Object(_) => has(format!("{here}: unknown key `{UNKNOWN_KEY}` added")),
                Value::Array(items) => {
                    if items.len() >= 2 {
                        has(format!("{path}: [0] and [1] swapped"));
                        has(format!("{path}[0]: duplicated"));
                    }
                }
            }
        }
    }

    #[test]
    fn the_catalogue_covers_every_path_of_a_statement() {
        let statement = sample();
        assert_covers(&statement);
        let mutations = catalogue(&statement, other_venue());
        for (i, m) in mutations.iter().enumerate() {
            assert_ne!(m.value, statement, "{}: not a mutation", m.name);
            assert_eq!(
                m.value.get(SIGNATURE_KEY),
                statement.get(SIGNATURE_KEY),
                "{}: signing again overwrites the signature",
                m.name
            );
            if let Some(j) = mutations[..i].iter().position(|o| o.value == m.value) {
                panic!("{} repeats {}", m.name, mutations[j].name);
            }
        }
        // Every relabelling is in the catalogue, under its own name unless a generic
        // mutation made the same statement first (the renamed symbol, `BTC` → `BTCX`,
        // is `markets[0].symbol: other length`).
        let file: StatementFile = serde_json::from_value(statement.clone()).unwrap();
        let relabelled = relabellings(&file, other_venue());
        assert_eq!(relabelled.len(), 5);
        for (what, file) in relabelled {
            let value = serde_json::to_value(file).unwrap();
            assert!(mutations.iter().any(|m| m.value == value), "{what}");
        }
        let venue = mutations
            .iter()
            .find(|m| m.name == "relabelling: another venue named")
            .unwrap();
        assert_eq!(venue.value["venue"], other_venue().to_string());
        let names: Vec<&str> = mutations.iter().map(|m| m.name.as_str()).collect();
        for expected in [
            "epoch: other value (+1 in the last digit)",
            "markets[1].symbol: other value (last letter or digit changed)",
            "markets: [0] and [1] swapped",
            "state_commitments: reversed",
            "liquidations[1]: removed",
            "solvent: other value (flipped)",
            "shape.markets: other value (-1)",
        ] {
            assert!(names.contains(&expected), "{expected}: {names:#?}");
        }
        // Key order is the map's (sorted, or as written with serde_json's
        // `preserve_order`).
        assert!(
            names.iter().any(|n| n.starts_with("statement: values of")
                && n.contains("reserves")
                && n.contains("insurance_fund")),
            "{names:#?}"
        );
    }

    #[test]
    fn a_field_added_later_is_covered_without_editing_the_catalogue() {
        let before = sample();
        let mut after = before.clone();
        after["liabilities_disclosed"] = json!(true);
        after["markets"][0]["funding_rate"] = json!("0.0001");
        after["inclusion"] = json!({"leaf_index": 7, "siblings": ["0x01", "0x02"]});
        assert_covers(&after);
        let old = names(&before);
        let new = names(&after);
        for path in [
            "liabilities_disclosed",
            "markets[0].funding_rate",
            "inclusion.leaf_index",
            "inclusion.siblings[1]",
        ] {
            assert!(
                new.iter()
                    .any(|n| n.starts_with(&format!("{path}: other value"))),
                "{path}: {new:#?}"
            );
            assert!(!old.iter().any(|n| n.starts_with(&format!("{path}:"))));
        }
        assert!(
            new.iter()
                .any(|n| n == "inclusion.siblings: [0] and [1] swapped")
        );
        // The relabellings apply to a statement this build parses; the others still
        // cover every field.
        assert!(!new.iter().any(|n| n.starts_with("relabelling: ")));
    }

    /// Risk model v2: the sample with two assets, the first's total disclosed.
    fn sample_with_assets() -> Value {
        let mut v = sample();
        v["shape"] = json!({"id": "backstop.v2.B8.M2.A2", "batch_size": "8",
                            "markets": 2, "assets": 2});
        v["assets"] = json!([
            {"symbol": "WBTC", "price": "65000", "price_decimals": 0, "amount_decimals": 8,
             "collateral_ratio_bps": 9000, "reserves": "3"},
            {"symbol": "USDT", "price": "1", "price_decimals": 0, "amount_decimals": 6,
             "collateral_ratio_bps": 9500, "reserves": "1000000"},
        ]);
        v["asset_solvency"] = json!({"WBTC": true, "USDT": false});
        v["asset_totals"] = json!({"WBTC": "2.50000000"});
        v
    }

    #[test]
    fn the_catalogue_changes_removes_adds_and_relabels_asset_totals() {
        let statement = sample_with_assets();
        let file: StatementFile = serde_json::from_value(statement.clone()).unwrap();
        let parsed = EpochStatement::new(file.clone());
        assert!(parsed.is_ok(), "{parsed:?}");
        let mutations = catalogue(&statement, other_venue());
        let find = |name: &str| {
            mutations
                .iter()
                .find(|m| m.name == name)
                .unwrap_or_else(|| panic!("{name}: {:#?}", names(&statement)))
                .value
                .clone()
        };
        // Changed (walked like any string), removed (like any key), added (a hidden
        // total disclosed).
        assert_eq!(
            find("asset_totals.WBTC: other value (+1 in the last digit)")["asset_totals"],
            json!({"WBTC": "2.50000001"})
        );
        assert!(find("asset_totals: removed").get("asset_totals").is_none());
        assert_eq!(
            find("asset_totals.USDT: added (a hidden total disclosed as 0)")["asset_totals"],
            json!({"WBTC": "2.50000000", "USDT": "0.000000"})
        );
        // Relabelled: the renamed asset's total follows it, and a rescaled amount
        // rescales the total.
        let renamed = find("relabelling: the first two assets' symbols swapped");
        assert_eq!(renamed["asset_totals"], json!({"USDT": "2.50000000"}));
        let moved = find("relabelling: a decimal moved from every asset's amounts to its price");
        assert_eq!(moved["asset_totals"], json!({"WBTC": "25.0000000"}));
        // Every relabelling still parses: the proofs must refuse it.
        for (what, f) in relabellings(&file, other_venue()) {
            assert!(EpochStatement::new(f).is_ok(), "{what}");
        }
    }

    #[test]
    fn strings_change_value_and_length_keeping_their_syntax() {
        let variants =
            |s: &str| -> Vec<String> { string_variants(s).into_iter().map(|(_, v)| v).collect() };
        assert_eq!(variants("357714"), ["357715", "357713", "3577140", "35771"]);
        assert_eq!(variants("0"), ["1", "10", ""]);
        assert_eq!(variants("10"), ["11", "9", "100", "1"]);
        assert_eq!(variants("1.9"), ["2.0", "2", "1.8", "1.91", "1"]);
        assert_eq!(variants("26.761"), ["26.762", "26.760", "26.76", "26.7611"]);
        assert_eq!(variants("1.0"), ["1.1", "0.9", "1.01"]);
        // `0.00000` is another spelling of the same zero, not another statement.
        assert_eq!(variants("0.000000"), ["0.000001", "0.0000001"]);
        assert_eq!(variants("0x0a"), ["0x0b", "0x0", "0x0a0"]);
        assert_eq!(variants("9F"), ["9E", "9", "9F0"]);
        assert_eq!(variants("BTC"), ["BTD", "BTCX", "BT"]);
        assert_eq!(
            variants("halo2-pasta"),
            ["halo2-pastb", "halo2-pastax", "halo2-past"]
        );
        assert_eq!(variants(""), ["x"]);
    }
}
