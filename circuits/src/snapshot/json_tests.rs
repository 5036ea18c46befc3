//! The streaming JSON parser against the whole-tree parser it replaced
//! ([`super::json_reference`]): the same snapshot, or the same error, for valid
//! documents, documents mutated in their structure (keys dropped, repeated, added or
//! reordered, values replaced, nesting deepened) and in their bytes.

#![allow(clippy::unwrap_used, clippy::panic)]

use super::json_reference::parse_json_whole;
use super::tests::{V2_JSON, interesting_byte, mutate, snapshot_strategy};
use super::tree::{Entry, Item, Val};
use super::{parse_json, to_json};
use proptest::prelude::*;

/// Both parsers on `doc`: equal results (the snapshot, or the error and its text).
fn agree(doc: &[u8]) -> Result<(), TestCaseError> {
    let streamed = parse_json(doc, "s.json");
    let whole = parse_json_whole(doc, "s.json");
    if let (Err(a), Err(b)) = (&streamed, &whole) {
        prop_assert_eq!(a.to_string(), b.to_string());
    }
    prop_assert_eq!(streamed, whole, "{}", String::from_utf8_lossy(doc));
    Ok(())
}

fn item(val: Val) -> Item {
    Item { val, line: None }
}

/// JSON text of a tree (booleans, which the tree does not keep, as `true`).
fn render(item: &Item, out: &mut String) {
    match &item.val {
        Val::Str(s) => out.push_str(&serde_json::to_string(s).unwrap()),
        Val::Int { text, .. } | Val::Float(text) => out.push_str(text),
        Val::Bool => out.push_str("true"),
        Val::Null | Val::Datetime | Val::Deep(_) | Val::Skipped(_) => out.push_str("null"),
        Val::Array(items) => {
            out.push('[');
            for (i, e) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                render(e, out);
            }
            out.push(']');
        }
        Val::Table(entries) => {
            out.push('{');
            for (i, e) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(&e.key).unwrap());
                out.push(':');
                render(&e.value, out);
            }
            out.push('}');
        }
    }
}

/// Keys the mutations add: the format's own (in and out of place) and others.
const KEYS: [&str; 16] = [
    "epoch",
    "quote_decimals",
    "reserves",
    "markets",
    "assets",
    "accounts",
    "account_id",
    "quote_balance",
    "positions",
    "balances",
    "owner",
    "market",
    "size",
    "symbol",
    "tiers",
    "x",
];

/// Small values the mutations put in: near-misses of every field's type and bounds.
fn small_value(choice: usize) -> Item {
    let int = |text: &str| {
        item(Val::Int {
            value: text.parse().ok(),
            text: text.into(),
        })
    };
    let string = |s: &str| item(Val::Str(s.into()));
    match choice % 20 {
        0 => string("1"),
        1 => string("-1.5"),
        2 => string(""),
        3 => string("01"),
        4 => string("1.000000001"),
        5 => string("18446744073709551616"),
        6 => string("BTC"),
        7 => string(&format!("0x{}", "ab".repeat(32))),
        8 => int("0"),
        9 => int("1"),
        10 => int("-1"),
        11 => int("18446744073709551615"),
        12 => int("10001"),
        13 => item(Val::Float("1.5".into())),
        14 => item(Val::Float("1e400".into())),
        15 => item(Val::Null),
        16 => item(Val::Bool),
        17 => item(Val::Array(Vec::new())),
        18 => item(Val::Table(Vec::new())),
        _ => item(Val::Array(vec![int("7"), string("7")])),
    }
}

/// The node at pre-order index `*n` of `item` (counting down), if there.
fn node<'a>(item: &'a mut Item, n: &mut usize) -> Option<&'a mut Item> {
    if *n == 0 {
        return Some(item);
    }
    *n -= 1;
    match &mut item.val {
        Val::Array(items) => items.iter_mut().find_map(|e| node(e, n)),
        Val::Table(entries) => entries.iter_mut().find_map(|e| node(&mut e.value, n)),
        _ => None,
    }
}

fn count(item: &Item) -> usize {
    1 + match &item.val {
        Val::Array(items) => items.iter().map(count).sum(),
        Val::Table(entries) => entries.iter().map(|e| count(&e.value)).sum(),
        _ => 0,
    }
}

/// One structural edit at the node `target` (modulo the node count).
fn edit(doc: &mut Item, op: u8, target: usize, choice: usize) {
    let mut n = target % count(doc);
    let Some(at) = node(doc, &mut n) else {
        return;
    };
    match (op % 8, &mut at.val) {
        (0, _) => *at = small_value(choice),
        (1, Val::Table(entries)) if !entries.is_empty() => {
            entries.remove(choice % entries.len());
        }
        (1, Val::Array(items)) if !items.is_empty() => {
            items.remove(choice % items.len());
        }
        (2, Val::Table(entries)) if !entries.is_empty() => {
            let k = choice % entries.len();
            let copy = Entry {
                key: entries[k].key.clone(),
                line: None,
                value: small_value(choice / 7),
            };
            entries.insert((choice / 3) % (entries.len() + 1), copy);
        }
        (2, Val::Array(items)) if !items.is_empty() => {
            let mut twin = copy(&items[choice % items.len()]);
            edit(&mut twin, 0, choice / 5, choice / 11);
            items.push(twin);
        }
        (3, Val::Table(entries)) => {
            let entry = Entry {
                key: KEYS[choice % KEYS.len()].into(),
                line: None,
                value: small_value(choice / 16),
            };
            entries.insert((choice / 5) % (entries.len() + 1), entry);
        }
        (4, Val::Table(entries)) if entries.len() > 1 => {
            let k = choice % entries.len();
            let e = entries.remove(k);
            entries.insert((choice / 7) % (entries.len() + 1), e);
        }
        (5, _) => {
            // Deeper than serde_json takes (128), or one level more.
            let levels = if choice.is_multiple_of(2) { 1 } else { 130 };
            for _ in 0..levels {
                let inner = std::mem::replace(at, item(Val::Null));
                *at = item(Val::Array(vec![inner]));
            }
        }
        (6, Val::Table(entries)) if !entries.is_empty() => {
            // A key renamed: to another of the format's keys or an unknown one.
            let k = choice % entries.len();
            entries[k].key = KEYS[(choice / 3) % KEYS.len()].into();
        }
        _ => *at = small_value(choice),
    }
}

/// A copy (the tree has no `Clone`: the parsers never copy one).
fn copy(of: &Item) -> Item {
    let val = match &of.val {
        Val::Str(s) => Val::Str(s.clone()),
        Val::Int { value, text } => Val::Int {
            value: *value,
            text: text.clone(),
        },
        Val::Float(t) => Val::Float(t.clone()),
        Val::Bool => Val::Bool,
        Val::Null => Val::Null,
        Val::Datetime => Val::Datetime,
        Val::Deep(k) => Val::Deep(k),
        Val::Skipped(k) => Val::Skipped(k),
        Val::Array(items) => Val::Array(items.iter().map(copy).collect()),
        Val::Table(entries) => Val::Table(
            entries
                .iter()
                .map(|e| Entry {
                    key: e.key.clone(),
                    line: e.line,
                    value: copy(&e.value),
                })
                .collect(),
        ),
    };
    item(val)
}

/// `doc` parsed into a tree, edited, printed, then mutated in its bytes.
fn edited(doc: &str, edits: &[(u8, usize, usize)], bytes: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut tree: Item = serde_json::from_str(doc).unwrap();
    for &(op, target, choice) in edits {
        edit(&mut tree, op, target, choice);
    }
    let mut out = String::new();
    render(&tree, &mut out);
    mutate(out.into_bytes(), bytes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn valid_documents_agree(s in snapshot_strategy()) {
        agree(to_json(&s).as_bytes())?;
    }

    #[test]
    fn structurally_edited_documents_agree(
        s in snapshot_strategy(),
        edits in prop::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 1..4),
    ) {
        agree(&edited(&to_json(&s), &edits, &[]))?;
    }

    #[test]
    fn edited_v2_documents_agree(
        edits in prop::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 0..4),
        bytes in prop::collection::vec((any::<usize>(), any::<u8>(), interesting_byte()), 0..3),
    ) {
        agree(&edited(V2_JSON, &edits, &bytes))?;
    }

    #[test]
    fn byte_mutated_documents_agree(
        s in snapshot_strategy(),
        edits in prop::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 0..2),
        bytes in prop::collection::vec((any::<usize>(), any::<u8>(), interesting_byte()), 1..6),
    ) {
        agree(&edited(&to_json(&s), &edits, &bytes))?;
        agree(&mutate(to_json(&s).into_bytes(), &bytes))?;
    }

    #[test]
    fn arbitrary_bytes_agree(doc in prop::collection::vec(any::<u8>(), 0..64)) {
        agree(&doc)?;
    }
}

/// Documents chosen to reach each step of the two passes.
#[test]
fn chosen_documents_agree() {
    let params = r#""epoch":1,"quote_decimals":0,"reserves":"1","insurance_fund":"0","markets":[{"symbol":"A","price":"1","price_decimals":0,"size_decimals":0,"maintenance_margin_bps":100}]"#;
    let account = r#"{"account_id":1,"quote_balance":"0"}"#;
    let deep = |n: usize| format!("{}0{}", "[".repeat(n), "]".repeat(n));
    let docs = [
        format!(r#"{{{params},"accounts":[{account}]}}"#),
        format!(r#"{{"accounts":[{account}],{params}}}"#),
        // Escaped keys are the same keys.
        format!(r#"{{{params},"acc\u006funts":[{account}]}}"#),
        format!(r#"{{{params},"accounts":[{account}],"accounts":[{account}]}}"#),
        format!(r#"{{{params},"accounts":[{account}],"accounts":7}}"#),
        format!(r#"{{{params},"accounts":7,"accounts":[{account}]}}"#),
        format!(r#"{{{params},"accounts":{{"a":[1]}}}}"#),
        format!(r#"{{{params},"accounts":"x"}}"#),
        format!(r#"{{{params},"accounts":[]}}"#),
        format!(r#"{{{params}}}"#),
        format!(r#"{{"accounts":[0],"x":1,{params}}}"#),
        format!(
            r#"{{"x":[0,{}],{params},"accounts":[{account}]}}"#,
            deep(127)
        ),
        // serde_json's nesting limit, reached in a value kept, counted, streamed or
        // skipped (its own skipping would not stop there).
        format!(r#"{{{params},"accounts":[{account},{}]}}"#, deep(126)),
        format!(r#"{{{params},"accounts":[{account},{}]}}"#, deep(127)),
        format!(r#"{{"x":{},{params},"accounts":[{account}]}}"#, deep(127)),
        format!(r#"{{"x":{},{params},"accounts":[{account}]}}"#, deep(128)),
        format!(
            r#"{{"x":{{"y":{}}},{params},"accounts":[{account}]}}"#,
            deep(128)
        ),
        format!(r#"{{{params},"accounts":[{account},[1e400]]}}"#),
        format!(r#"{{"x":1e400,{params},"accounts":[{account}]}}"#),
        format!(r#"{{{params},"accounts":[{account},{account}]}}"#),
        format!(r#"{{{params},"accounts":[{account},7,"#),
        format!(r#"{{{params},"accounts":[{account},7]}} x"#),
        format!(
            r#"{{{params},"accounts":[{account}, {{"account_id":2,"quote_balance":"0","positions":[{{"market":"B","size":"1"}}]}}]}}"#
        ),
        format!(r#"[{params}]"#),
        deep(200),
        "\"\\ud800\"".into(),
        "7".into(),
        String::new(),
    ];
    for doc in &docs {
        agree(doc.as_bytes()).unwrap_or_else(|e| panic!("{doc}: {e}"));
    }
}
