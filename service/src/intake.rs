//! Bounded-memory intake of a submitted snapshot.
//!
//! `POST /v1/epochs` hands its body to [`backstop_circuits::snapshot::parse_json`],
//! which parses it in two passes (`circuits/src/snapshot/stream.rs`): first the
//! tree of everything but the `accounts` array's elements, which are only counted
//! (`Item` and `Entry` in `circuits/src/snapshot/tree.rs`), then each account's own
//! tree, one at a time, beside the accounts built so far (reserved for all the
//! elements at once). A tree costs far more than its text: 80 bytes per value, 128
//! per object member, plus a heap allocation per string and number; an account
//! costs at least 144 bytes however short its element. So a 64 MiB body such as
//! `{"markets":[0,0,0,…]}` or `{"accounts":[0,0,0,…]}` would take several GiB.
//!
//! [`estimate`] reads the body once, byte by byte, without allocating anything that
//! grows with the body (a stack of at most [`MAX_TRACKED_DEPTH`] frames), and computes
//! an upper bound of what parsing it would allocate: the first pass's tree (every
//! vector at the capacity its growth by doubling gives it, every string and number
//! text, with the allocator's per-block overhead), the largest account's tree, the
//! walker's located fields over both, and the accounts. [`check`] refuses the body
//! (413) if that bound exceeds the budget (`backstop serve --max-parse-bytes`),
//! before anything is parsed.
//!
//! The default budget is [`PARSE_BYTES_PER_BODY_BYTE`] times `--max-body-bytes` plus
//! [`PARSE_FIXED_BYTES`] (1.3 GiB for the default 64 MiB): no valid snapshot that
//! fits the body limit is refused (the densest valid snapshot costs less than that
//! per byte of text, and the bounded parts of a valid snapshot less than the fixed
//! part; see the tests). Submissions are read and parsed one at a time
//! ([`one_submission_at_a_time`]), so they hold at most the body (twice while it is
//! collected) plus the budget. (After parsing, the trees are freed and the accounts,
//! already counted, remain; the canonical form the service writes next takes a few
//! bytes per byte of body, not counted here.)

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use backstop_circuits::bounds::{MAX_ASSETS, MAX_MARKETS};
use backstop_circuits::model::{Account, Amount, Size};
use serde_json::json;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Bytes of one value of the parser's tree: `size_of::<Item>()` (64-bit targets).
pub const TREE_ITEM_BYTES: u64 = 80;
/// Bytes of one object member of the parser's tree (key, line and value):
/// `size_of::<Entry>()` (64-bit targets).
pub const TREE_ENTRY_BYTES: u64 = 128;
/// The capacity of a number's text in the tree (`to_string` of an `i64`/`u64`, or
/// the `Debug` form of an `f64`: at most 24 characters).
const NUMBER_TEXT_BYTES: u64 = 32;
/// Per element of an array the walker reads, its located field: `size_of::<Field>()`
/// (64-bit targets), in one vector per array...
const FIELD_BYTES: u64 = 64;
/// ... and the block of its path (`accounts[i].positions[j]` at most, two indices of
/// at most 20 digits: 62 bytes).
const PATH_BYTES: u64 = 80;
/// Per account, the parser's index of account ids (`HashMap<u64, u64>`: 16 bytes
/// and a control byte per bucket, at most 8/7 buckets per entry, rounded up to a
/// power of two).
const ID_INDEX_BYTES: u64 = 40;
/// What the parser holds besides the trees and the accounts, at most: the
/// parameters built from the tree (at most 64 markets of at most 8 brackets and 16
/// assets, with their symbols) and, while it reads an account, the declared symbols
/// (`Vec<&str>`), the index of those its positions or balances name (a `HashMap` of
/// at most 64 entries) and the paths of its fields.
const FIXED_BYTES: u64 = 64 * 1024;
/// Nesting the scan follows: serde_json refuses documents nested deeper than 128
/// arrays and objects before it allocates anything past that point, so the scan can
/// stop there too.
pub const MAX_TRACKED_DEPTH: usize = 128;
/// The default `--max-parse-bytes` per byte of `--max-body-bytes`. The densest
/// valid snapshot (minimal accounts `{"account_id":1234,"quote_balance":"0"}`, 64
/// markets and 16 assets) costs 20.4 bytes of parsing per byte of text, nearly all of
/// it the accounts themselves (816 bytes for 40 of text: the account, its entry in
/// the index of ids, 64 sizes and 16 amounts); the test
/// `valid_snapshots_fit_the_default_budget` keeps this and [`PARSE_FIXED_BYTES`]
/// above every valid form.
pub const PARSE_BYTES_PER_BODY_BYTE: u64 = 21;
/// The default `--max-parse-bytes` beyond [`PARSE_BYTES_PER_BODY_BYTE`] per byte of
/// body, for what a valid snapshot holds that does not grow with it: `FIXED_BYTES`,
/// and the tree of the largest valid account (64 positions and 16 balances), which
/// takes more per byte of its text than the accounts do. The valid forms of the
/// test need about 66 KiB.
pub const PARSE_FIXED_BYTES: u64 = 256 * 1024;

/// What parsing a body would allocate, at most.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Estimate {
    /// JSON values (scalars, arrays and objects).
    pub values: u64,
    /// Elements of the top-level `accounts` array.
    pub accounts: u64,
    /// The tree of everything but the accounts (pass 1), which lives until the
    /// end, with the walker's fields over it, serde_json's unescaping buffer, the
    /// largest vector's previous buffer while it grows and the copy of the longest
    /// string, which an error may quote.
    pub tree_bytes: u64,
    /// The largest tree of one account, with the walker's fields over it (pass 2
    /// holds one at a time).
    pub element_bytes: u64,
    /// The accounts built, and what the parser holds besides (`FIXED_BYTES`).
    pub model_bytes: u64,
}

impl Estimate {
    /// The whole bound.
    pub fn total(&self) -> u64 {
        self.tree_bytes
            .saturating_add(self.element_bytes)
            .saturating_add(self.model_bytes)
    }
}

/// The default `--max-parse-bytes` for a body limit.
pub fn default_budget(max_body_bytes: usize) -> u64 {
    (max_body_bytes as u64)
        .saturating_mul(PARSE_BYTES_PER_BODY_BYTE)
        .saturating_add(PARSE_FIXED_BYTES)
}

/// A body refused before parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The bound computed.
    pub estimate: Estimate,
    /// The budget it exceeds.
    pub budget: u64,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the snapshot is too complex to parse within this service's memory budget: \
             its {} JSON values ({} accounts) would take up to {} bytes to parse, more \
             than --max-parse-bytes ({} bytes) allows",
            self.estimate.values,
            self.estimate.accounts,
            self.estimate.total(),
            self.budget
        )
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = json!({
            "error": self.to_string(),
            "limit": "max_parse_bytes",
            "max_parse_bytes": self.budget,
            "estimated_parse_bytes": self.estimate.total(),
        });
        (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(body)).into_response()
    }
}

/// Refuses `body` if parsing it could take more than `budget` bytes.
pub fn check(body: &[u8], budget: u64) -> Result<Estimate, Refusal> {
    let estimate = estimate(body);
    if estimate.total() > budget {
        return Err(Refusal { estimate, budget });
    }
    Ok(estimate)
}

/// Lets one submission at a time read its body and be parsed; the others wait
/// (within their request timeout).
pub async fn one_submission_at_a_time(
    State(lock): State<Arc<Semaphore>>,
    request: Request,
    next: Next,
) -> Response {
    match lock.acquire().await {
        Ok(_turn) => next.run(request).await,
        // Never closed; should it be, refuse rather than lift the bound.
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"error": "the service is shutting down"})),
        )
            .into_response(),
    }
}

/// The bytes the allocator (glibc malloc) takes for a block of `n` bytes: 16-byte
/// granules with an 8-byte header and a 32-byte minimum; from 128 KiB, whole pages.
fn heap(n: u64) -> u64 {
    const PAGE: u64 = 4096;
    if n == 0 {
        0
    } else if n >= 128 * 1024 {
        (n + 16).div_ceil(PAGE) * PAGE
    } else {
        (n + 8).div_ceil(16).max(2) * 16
    }
}

/// The capacity a `Vec` reaches after `n` pushes from empty.
fn capacity(n: u64) -> u64 {
    if n == 0 {
        0
    } else {
        n.checked_next_power_of_two().unwrap_or(u64::MAX).max(4)
    }
}

/// What a top-level value is, by its key (raw bytes: a key written with escapes may
/// be any of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A parameter (`epoch`, …), or not a top-level value.
    Other,
    Accounts,
    Markets,
    Assets,
    /// An unknown key's: parsed, not kept (the document is refused at its key).
    Ignored,
    /// A key written with escapes: any of the others.
    Unknown,
}

/// Where the parser allocates for what is under a top-level value of `role` (an
/// array or not): `(pass 1's tree, an account's tree)`.
fn sink_of(role: Role, array: bool) -> (bool, bool) {
    match role {
        Role::Other | Role::Markets | Role::Assets => (true, false),
        Role::Ignored => (false, false),
        // Anything but an array is kept as its kind only.
        Role::Accounts => (false, array),
        Role::Unknown => (true, true),
    }
}

#[derive(Debug)]
struct Frame {
    object: bool,
    children: u64,
    role: Role,
    expect_key: bool,
}

#[derive(Debug, Default)]
struct Totals {
    values: u64,
    /// Pass 1's tree.
    tree: u64,
    /// The tree of the account being read, and the largest so far.
    element: u64,
    largest_element: u64,
    largest_vec: u64,
    largest_string: u64,
    scratch: u64,
    accounts: u64,
    markets: u64,
    assets: u64,
}

/// Where the parser allocates for a key or a scalar met with `stack` open, the
/// latest top-level key of role `top_key`: `(pass 1's tree, an account's tree)`.
fn sinks(stack: &[Frame], top_key: Role, key: bool) -> (bool, bool) {
    match stack {
        // A document that is not an object is refused as such, kept as its kind.
        [] => (false, false),
        [root, ..] if !root.object => (false, false),
        [_] if key => (true, false),
        [_] => sink_of(top_key, false),
        [_, top, ..] => sink_of(top.role, !top.object),
    }
}

/// Where the parser allocates for the vector of a frame that closes with `stack`
/// open around it.
fn frame_sinks(frame: &Frame, stack: &[Frame]) -> (bool, bool) {
    match stack {
        [] => (frame.object, false),
        [root, ..] if !root.object => (false, false),
        // The accounts array itself is never built: its elements are counted.
        [_] if frame.role == Role::Accounts => (false, false),
        [_] => sink_of(frame.role, !frame.object),
        [_, top, ..] => sink_of(top.role, !top.object),
    }
}

/// Whether a value starting with `stack` open is an element of `accounts` (or
/// perhaps, under a key written with escapes).
fn starts_account(stack: &[Frame]) -> bool {
    matches!(stack, [root, top] if root.object && sink_of(top.role, !top.object).1)
}

impl Totals {
    fn add(&mut self, (tree, element): (bool, bool), bytes: u64) {
        if tree {
            self.tree = self.tree.saturating_add(bytes);
        }
        if element {
            self.element = self.element.saturating_add(bytes);
        }
    }

    /// One account's tree is complete (the next starts, or the body ends).
    fn end_element(&mut self) {
        self.largest_element = self.largest_element.max(self.element);
        self.element = 0;
    }

    /// `frame` closes, with `stack` still open around it.
    fn close(&mut self, frame: &Frame, stack: &[Frame]) {
        let n = frame.children;
        match frame.role {
            _ if frame.object => {}
            Role::Accounts => self.accounts = self.accounts.saturating_add(n),
            Role::Markets => self.markets = self.markets.max(n),
            Role::Assets => self.assets = self.assets.max(n),
            Role::Unknown => {
                self.accounts = self.accounts.saturating_add(n);
                self.markets = self.markets.max(n);
                self.assets = self.assets.max(n);
            }
            Role::Other | Role::Ignored => {}
        }
        let sinks = frame_sinks(frame, stack);
        if sinks == (false, false) {
            return;
        }
        let (element, walk) = if frame.object {
            (TREE_ENTRY_BYTES, 0)
        } else {
            (
                TREE_ITEM_BYTES,
                heap(n.saturating_mul(FIELD_BYTES)).saturating_add(n.saturating_mul(PATH_BYTES)),
            )
        };
        let bytes = capacity(n).saturating_mul(element);
        self.largest_vec = self.largest_vec.max(bytes);
        self.add(sinks, heap(bytes).saturating_add(walk));
    }
}

/// The end of the string whose text starts at `start`: the index of its closing
/// quote (or the body's length), and whether it holds an escape.
fn string_end(body: &[u8], start: usize) -> (usize, bool) {
    let mut i = start;
    let mut escaped = false;
    while let Some(&b) = body.get(i) {
        match b {
            b'"' => return (i, escaped),
            b'\\' => {
                escaped = true;
                i += 2;
            }
            _ => i += 1,
        }
    }
    (body.len(), escaped)
}

/// An upper bound of what [`backstop_circuits::snapshot::parse_json`] allocates
/// for `body`, read in one pass. Never panics, whatever the bytes; for text that is
/// not JSON the bound covers the valid prefix the parser reads before refusing it.
///
/// The parser's first pass builds the tree of everything but the `accounts` array's
/// elements (`tree_bytes`; values it only skips, such as those of unknown keys, are
/// counted as if built); its second pass builds one account's tree at a time
/// (`element_bytes`, the largest) beside the accounts already read (`model_bytes`,
/// the vector of accounts and the index of ids reserved for all the elements at
/// once).
pub fn estimate(body: &[u8]) -> Estimate {
    let mut t = Totals::default();
    let mut stack: Vec<Frame> = Vec::with_capacity(MAX_TRACKED_DEPTH);
    let mut top_key = Role::Other;
    let mut i = 0;
    // A value starts: it is one more element of the enclosing array (an object's
    // members are counted at their keys), perhaps an account.
    let value = |t: &mut Totals, stack: &mut Vec<Frame>| {
        t.values += 1;
        if starts_account(stack) {
            t.end_element();
        }
        if let Some(f) = stack.last_mut()
            && !f.object
        {
            f.children += 1;
        }
    };
    while let Some(&b) = body.get(i) {
        match b {
            b'"' => {
                let (end, escaped) = string_end(body, i + 1);
                let len = (end - i - 1) as u64;
                if escaped {
                    // serde_json unescapes into a scratch buffer, grown by doubling.
                    t.scratch = t.scratch.max(capacity(len).saturating_mul(2));
                }
                t.largest_string = t.largest_string.max(heap(len));
                let depth = stack.len();
                let key = match stack.last_mut() {
                    Some(f) if f.object && f.expect_key => {
                        f.expect_key = false;
                        f.children += 1;
                        if depth == 1 {
                            top_key = match body.get(i + 1..end) {
                                _ if escaped => Role::Unknown,
                                Some(b"accounts") => Role::Accounts,
                                Some(b"markets") => Role::Markets,
                                Some(b"assets") => Role::Assets,
                                Some(
                                    b"epoch" | b"quote_decimals" | b"reserves" | b"insurance_fund",
                                ) => Role::Other,
                                _ => Role::Ignored,
                            };
                        }
                        true
                    }
                    _ => {
                        value(&mut t, &mut stack);
                        false
                    }
                };
                t.add(sinks(&stack, top_key, key), heap(len));
                i = end + 1;
            }
            b'[' | b'{' => {
                value(&mut t, &mut stack);
                if stack.len() >= MAX_TRACKED_DEPTH {
                    break;
                }
                let role = if stack.len() == 1 {
                    top_key
                } else {
                    Role::Other
                };
                stack.push(Frame {
                    object: b == b'{',
                    children: 0,
                    role,
                    expect_key: true,
                });
                i += 1;
            }
            b']' | b'}' => {
                if let Some(f) = stack.pop() {
                    t.close(&f, &stack);
                }
                i += 1;
            }
            b',' => {
                if let Some(f) = stack.last_mut()
                    && f.object
                {
                    f.expect_key = true;
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                value(&mut t, &mut stack);
                t.add(sinks(&stack, top_key, false), heap(NUMBER_TEXT_BYTES));
                while body
                    .get(i)
                    .is_some_and(|c| matches!(c, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                {
                    i += 1;
                }
            }
            b't' | b'f' | b'n' => {
                value(&mut t, &mut stack);
                while body.get(i).is_some_and(u8::is_ascii_lowercase) {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    // A truncated document: the parser built its open vectors before refusing it.
    while let Some(f) = stack.pop() {
        t.close(&f, &stack);
    }
    t.end_element();
    let markets = t.markets.min(MAX_MARKETS as u64);
    let assets = t.assets.min(MAX_ASSETS as u64);
    let per_account = (size_of::<Account>() as u64)
        + ID_INDEX_BYTES
        + heap(markets * size_of::<Size>() as u64)
        + heap(assets * size_of::<Amount>() as u64);
    Estimate {
        values: t.values,
        accounts: t.accounts,
        // The root value, the largest vector's previous buffer (alive while it is
        // copied into the doubled one), the unescaping scratch buffer and the copy
        // of a string an error quotes.
        tree_bytes: t
            .tree
            .saturating_add(TREE_ITEM_BYTES)
            .saturating_add(t.largest_vec / 2)
            .saturating_add(t.scratch)
            .saturating_add(t.largest_string),
        element_bytes: t.largest_element,
        model_bytes: t
            .accounts
            .saturating_mul(per_account)
            .saturating_add(FIXED_BYTES),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backstop_circuits::bounds::MAX_BRACKETS;
    use backstop_circuits::snapshot::parse_json;

    #[test]
    fn counts_values_and_accounts() {
        let doc = br#"{"epoch": 7, "markets": [{"symbol": "A"}, {"symbol": "B"}],
            "accounts": [{"account_id": "1", "quote_balance": "-1.5", "positions": []},
                         {"account_id": 2, "quote_balance": "\u0030", "ok": [true, null, 1e5]}]}"#;
        let e = estimate(doc);
        // root, epoch, markets, 2 markets + 2 symbols, accounts, 2 accounts, 3 + 3
        // members, 3 array elements.
        assert_eq!(e.values, 1 + 1 + 1 + 4 + 1 + 2 + 6 + 3);
        assert_eq!(e.accounts, 2);
        assert!(e.tree_bytes > 0 && e.model_bytes > 0);
        // Strings hide nothing: brackets and quotes inside them are text.
        let quoted = estimate(br#"["[[[{{{\"]]]", "x"]"#);
        assert_eq!(quoted.values, 3);
    }

    #[test]
    fn an_escaped_top_level_key_counts_as_accounts() {
        let e = estimate(br#"{"acc\u006funts": [{}, {}, {}]}"#);
        assert_eq!(e.accounts, 3);
    }

    #[test]
    fn never_panics_and_stays_small_on_garbage() {
        for doc in [
            &b""[..],
            b"\"",
            b"\"\\",
            b"]]]}}}",
            b"[[[[[[",
            b"{\"a\":",
            b"-",
            b"\xff\xfe",
            b"{,,,,:::\"",
        ] {
            let _ = estimate(doc);
        }
        // Nesting past serde_json's limit stops the scan: the stack stays bounded.
        let deep = vec![b'['; 1 << 20];
        let e = estimate(&deep);
        assert_eq!(e.values, MAX_TRACKED_DEPTH as u64 + 1);
    }

    #[test]
    fn adversarial_bodies_cost_far_more_than_their_size() {
        let n = 1 << 20;
        let repeated = |prefix: &str, unit: &str, last: &str, suffix: &str| {
            let mut body = prefix.as_bytes().to_vec();
            body.extend(std::iter::repeat_n(unit.as_bytes(), n).flatten());
            body.extend_from_slice(last.as_bytes());
            body.extend_from_slice(suffix.as_bytes());
            body
        };
        // A tree of small values (pass 1), accounts reserved for every element of
        // `accounts` (pass 2), one account's tree of small values (pass 2).
        for (body, values) in [
            (repeated(r#"{"markets":["#, "0,", "0", "]}"), n + 3),
            (repeated(r#"{"accounts":["#, "0,", "0", "]}"), n + 3),
            (repeated(r#"{"accounts":["#, "{},", "{}", "]}"), n + 3),
            (repeated(r#"{"accounts":[["#, "0,", "0", "]]}"), n + 4),
        ] {
            let e = estimate(&body);
            assert_eq!(e.values, values as u64);
            assert!(
                e.total() > 2 * PARSE_BYTES_PER_BODY_BYTE * body.len() as u64,
                "{e:?}"
            );
            assert!(check(&body, default_budget(body.len())).is_err());
        }
        // What the parser only skips costs nothing: a document that is not an object,
        // an unknown key's value, `accounts` that is not an array.
        for body in [
            repeated("[", "0,", "0", "]"),
            repeated(r#"{"x":["#, "{},", "{}", "]}"),
            repeated(r#"{"accounts":{"a":["#, "0,", "0", "]}}"),
        ] {
            let e = estimate(&body);
            assert!(e.total() < FIXED_BYTES + 4096, "{e:?}");
        }
    }

    #[test]
    fn only_the_largest_account_tree_counts() {
        let account = |positions: usize| {
            let p = vec![r#"{"market":"A","size":"1"}"#; positions].join(",");
            format!(r#"{{"account_id":1,"quote_balance":"0","positions":[{p}]}}"#)
        };
        let doc = |accounts: &[String]| format!(r#"{{"accounts":[{}]}}"#, accounts.join(","));
        let one = estimate(doc(&[account(9)]).as_bytes());
        let three = estimate(doc(&[account(1), account(9), account(2)]).as_bytes());
        assert_eq!(three.accounts, 3);
        assert_eq!(three.element_bytes, one.element_bytes);
        assert_eq!(three.tree_bytes, one.tree_bytes);
        assert!(three.model_bytes > one.model_bytes);
        assert!(estimate(doc(&[account(8)]).as_bytes()).element_bytes < one.element_bytes);
    }

    /// A valid snapshot, as dense as JSON allows: short symbols, ids from 1000, no
    /// whitespace.
    #[derive(Debug, Clone, Copy)]
    struct Dense {
        markets: usize,
        /// Brackets beyond the first, in every market.
        tiers: usize,
        assets: usize,
        accounts: usize,
        /// Positions (of size 1) in every account, in the first markets.
        positions: usize,
        /// Balances (of 1) in every account, in the first assets.
        balances: usize,
        string_ids: bool,
    }

    impl Dense {
        const fn new(markets: usize, accounts: usize, positions: usize) -> Self {
            Self {
                markets,
                tiers: 0,
                assets: 0,
                accounts,
                positions,
                balances: 0,
                string_ids: false,
            }
        }

        fn json(self) -> Vec<u8> {
            let symbols: Vec<String> = (0..self.markets).map(|m| format!("{m:x}")).collect();
            let assets: Vec<String> = (0..self.assets).map(|c| format!("c{c:x}")).collect();
            let list = |items: Vec<String>| items.join(",");
            let tiers = list(
                (1..=self.tiers)
                    .map(|k| format!(r#"{{"notional_floor":"{k}","maintenance_margin_bps":100}}"#))
                    .collect(),
            );
            let tiers = if self.tiers > 0 {
                format!(r#","tiers":[{tiers}]"#)
            } else {
                String::new()
            };
            let mut doc = format!(
                r#"{{"epoch":1,"quote_decimals":0,"reserves":"1000000000","insurance_fund":"0","markets":[{}]"#,
                list(symbols.iter().map(|s| format!(
                    r#"{{"symbol":"{s}","price":"1","price_decimals":0,"size_decimals":0,"maintenance_margin_bps":100{tiers}}}"#
                )).collect())
            );
            if self.assets > 0 {
                doc.push_str(&format!(
                    r#","assets":[{}]"#,
                    list(assets.iter().map(|s| format!(
                        r#"{{"symbol":"{s}","price":"1","price_decimals":0,"amount_decimals":0,"collateral_ratio_bps":100,"reserves":"0"}}"#
                    )).collect())
                ));
            }
            let positions = list(
                symbols
                    .iter()
                    .take(self.positions)
                    .map(|s| format!(r#"{{"market":"{s}","size":"1"}}"#))
                    .collect(),
            );
            let balances = list(
                assets
                    .iter()
                    .take(self.balances)
                    .map(|s| format!(r#"{{"asset":"{s}","amount":"1"}}"#))
                    .collect(),
            );
            doc.push_str(r#","accounts":["#);
            for a in 0..self.accounts {
                if a > 0 {
                    doc.push(',');
                }
                let id = 1000 + a;
                let id = if self.string_ids {
                    format!("\"{id}\"")
                } else {
                    id.to_string()
                };
                doc.push_str(&format!(r#"{{"account_id":{id},"quote_balance":"0""#));
                if self.positions > 0 {
                    doc.push_str(&format!(r#","positions":[{positions}]"#));
                }
                if self.balances > 0 {
                    doc.push_str(&format!(r#","balances":[{balances}]"#));
                }
                doc.push('}');
            }
            doc.push_str("]}");
            doc.into_bytes()
        }
    }

    #[test]
    fn valid_snapshots_fit_the_default_budget() {
        let most = Dense {
            tiers: MAX_BRACKETS - 1,
            assets: MAX_ASSETS,
            balances: MAX_ASSETS,
            ..Dense::new(MAX_MARKETS, 1, MAX_MARKETS)
        };
        let forms = [
            Dense::new(64, 4097, 0),
            Dense {
                string_ids: true,
                ..Dense::new(64, 4097, 0)
            },
            Dense {
                assets: MAX_ASSETS,
                ..Dense::new(64, 4097, 0)
            },
            Dense {
                assets: 1,
                ..Dense::new(64, 4097, 0)
            },
            Dense::new(64, 1025, 64),
            Dense::new(64, 1025, 1),
            Dense::new(1, 4097, 1),
            Dense::new(1, 4097, 0),
            Dense::new(2, 8193, 2),
            Dense {
                string_ids: true,
                ..Dense::new(8, 2049, 8)
            },
            // The largest parameters and accounts: bounded, paid by the fixed part.
            Dense::new(1, 1, 0),
            Dense::new(64, 1, 64),
            most,
            Dense {
                accounts: 64,
                ..most
            },
            Dense {
                positions: 0,
                balances: 0,
                ..most
            },
        ];
        // What each form costs beyond PARSE_BYTES_PER_BODY_BYTE per byte (the fixed
        // part of the budget must cover it).
        let mut excess = 0u64;
        for form in forms {
            let doc = form.json();
            let snapshot = parse_json(&doc, "snapshot.json")
                .unwrap_or_else(|e| panic!("not a valid snapshot ({form:?}): {e}"));
            assert_eq!(snapshot.accounts().len(), form.accounts);
            let e = estimate(&doc);
            assert_eq!(e.accounts, form.accounts as u64);
            let budget = default_budget(doc.len());
            let ratio = e.total() as f64 / doc.len() as f64;
            let line = format!(
                "{form:?}: {} bytes, bound {} ({ratio:.1} bytes per byte)",
                doc.len(),
                e.total()
            );
            assert!(e.total() <= budget, "{line}: over the budget {budget}");
            excess = excess.max(
                e.total()
                    .saturating_sub(PARSE_BYTES_PER_BODY_BYTE * doc.len() as u64),
            );
            eprintln!("{line}");
        }
        eprintln!(
            "at most {excess} bytes beyond {PARSE_BYTES_PER_BODY_BYTE} per byte (the budget has {PARSE_FIXED_BYTES})"
        );
        // Per byte of body, the densest accounts (those above): what each one more
        // costs, per byte of its text, whatever the body's size.
        let mut densest = 0.0f64;
        for form in forms {
            let [small, large] = [form.accounts, 2 * form.accounts].map(|accounts| {
                let doc = Dense { accounts, ..form }.json();
                (estimate(&doc).total(), doc.len() as u64)
            });
            let slope = (large.0 - small.0) as f64 / (large.1 - small.1) as f64;
            assert!(
                slope <= PARSE_BYTES_PER_BODY_BYTE as f64,
                "{form:?}: {slope:.1}"
            );
            densest = densest.max(slope);
        }
        eprintln!("densest valid snapshot: {densest:.1} bytes of parsing per byte of text");
    }
}
