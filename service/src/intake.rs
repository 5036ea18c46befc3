//! Bounded-memory intake of a submitted snapshot.
//!
//! `POST /v1/epochs` hands its body to [`backstop_circuits::snapshot::parse_json`],
//! which first parses the whole document into a generic tree (`Item` and `Entry` in
//! `circuits/src/snapshot/tree.rs`) and then builds the accounts from it. The tree
//! costs far more than the text: 80 bytes per value, 128 per object member, plus a
//! heap allocation per string and number, so that a 64 MiB body such as
//! `[0,0,0,…]` or `[{},{},…]` would take several GiB.
//!
//! [`estimate`] reads the body once, byte by byte, without allocating anything that
//! grows with the body (a stack of at most [`MAX_TRACKED_DEPTH`] frames), and computes
//! an upper bound of what parsing it would allocate: the tree (every vector at the
//! capacity its growth by doubling gives it, every string and number text, with the
//! allocator's per-block overhead) and the accounts the parser builds while the tree
//! is alive. [`check`] refuses the body (413) if that bound exceeds the budget
//! (`backstop serve --max-parse-bytes`), before anything is parsed.
//!
//! The default budget is [`PARSE_BYTES_PER_BODY_BYTE`] times `--max-body-bytes`: no
//! valid snapshot that fits the body limit is refused (the densest valid snapshot
//! costs less than that per byte of text, see the tests). Submissions are read and
//! parsed one at a time ([`one_submission_at_a_time`]), so they hold
//! at most the body (twice while it is collected) plus the budget. (After parsing,
//! the tree is freed; the canonical form the service writes next is smaller than
//! the tree was, and the accounts were already counted.)

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
/// Per account, the parser's index of account ids (`HashMap<u64, u64>`: 16 bytes
/// and a control byte per bucket, at most 8/7 buckets per entry, rounded up to a
/// power of two).
const ID_INDEX_BYTES: u64 = 40;
/// Nesting the scan follows: serde_json refuses documents nested deeper than 128
/// arrays and objects before it allocates anything past that point, so the scan can
/// stop there too.
pub const MAX_TRACKED_DEPTH: usize = 128;
/// The default `--max-parse-bytes` per byte of `--max-body-bytes`. The densest
/// valid snapshot (minimal accounts `{"account_id":1234,"quote_balance":"0"}`, 64
/// markets) costs about 37 bytes of parsing per byte of text; the test
/// `valid_snapshots_fit_the_default_budget` keeps this above every valid form.
pub const PARSE_BYTES_PER_BODY_BYTE: u64 = 40;

/// What parsing a body would allocate, at most.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Estimate {
    /// JSON values (scalars, arrays and objects).
    pub values: u64,
    /// Elements of the top-level `accounts` array.
    pub accounts: u64,
    /// The document tree (including the allocator's per-block overhead and the
    /// largest vector's previous buffer while it grows).
    pub tree_bytes: u64,
    /// The accounts built while the tree is alive.
    pub model_bytes: u64,
}

impl Estimate {
    /// The whole bound.
    pub fn total(&self) -> u64 {
        self.tree_bytes.saturating_add(self.model_bytes)
    }
}

/// The default `--max-parse-bytes` for a body limit.
pub fn default_budget(max_body_bytes: usize) -> u64 {
    (max_body_bytes as u64).saturating_mul(PARSE_BYTES_PER_BODY_BYTE)
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

/// What a top-level array is, by its key (raw bytes: a key written with escapes may
/// be any of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Other,
    Accounts,
    Markets,
    Assets,
    Unknown,
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
    tree: u64,
    largest_vec: u64,
    scratch: u64,
    accounts: u64,
    markets: u64,
    assets: u64,
}

impl Totals {
    fn close(&mut self, frame: &Frame) {
        let element = if frame.object {
            TREE_ENTRY_BYTES
        } else {
            TREE_ITEM_BYTES
        };
        let bytes = capacity(frame.children).saturating_mul(element);
        self.tree = self.tree.saturating_add(heap(bytes));
        self.largest_vec = self.largest_vec.max(bytes);
        let n = frame.children;
        match frame.role {
            Role::Accounts => self.accounts = self.accounts.saturating_add(n),
            Role::Markets => self.markets = self.markets.max(n),
            Role::Assets => self.assets = self.assets.max(n),
            Role::Unknown => {
                self.accounts = self.accounts.saturating_add(n);
                self.markets = self.markets.max(n);
                self.assets = self.assets.max(n);
            }
            Role::Other => {}
        }
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
pub fn estimate(body: &[u8]) -> Estimate {
    let mut t = Totals::default();
    let mut stack: Vec<Frame> = Vec::with_capacity(MAX_TRACKED_DEPTH);
    let mut top_key = Role::Other;
    let mut i = 0;
    // A value starts: it is one more element of the enclosing array (an object's
    // members are counted at their keys).
    let value = |t: &mut Totals, stack: &mut Vec<Frame>| {
        t.values += 1;
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
                t.tree = t.tree.saturating_add(heap(len));
                if escaped {
                    // serde_json unescapes into a scratch buffer, grown by doubling.
                    t.scratch = t.scratch.max(capacity(len).saturating_mul(2));
                }
                let depth = stack.len();
                match stack.last_mut() {
                    Some(f) if f.object && f.expect_key => {
                        f.expect_key = false;
                        f.children += 1;
                        if depth == 1 {
                            top_key = match body.get(i + 1..end) {
                                _ if escaped => Role::Unknown,
                                Some(b"accounts") => Role::Accounts,
                                Some(b"markets") => Role::Markets,
                                Some(b"assets") => Role::Assets,
                                _ => Role::Other,
                            };
                        }
                    }
                    _ => value(&mut t, &mut stack),
                }
                i = end + 1;
            }
            b'[' | b'{' => {
                value(&mut t, &mut stack);
                if stack.len() >= MAX_TRACKED_DEPTH {
                    break;
                }
                let role = if stack.len() == 1 && b == b'[' {
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
                    t.close(&f);
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
                t.tree = t.tree.saturating_add(heap(NUMBER_TEXT_BYTES));
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
        t.close(&f);
    }
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
        // copied into the doubled one) and the unescaping scratch buffer.
        tree_bytes: t
            .tree
            .saturating_add(TREE_ITEM_BYTES)
            .saturating_add(t.largest_vec / 2)
            .saturating_add(t.scratch),
        model_bytes: t.accounts.saturating_mul(per_account),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let mut zeros = b"[".to_vec();
        zeros.extend(std::iter::repeat_n(&b"0,"[..], n).flatten());
        zeros.push(b'0');
        zeros.push(b']');
        let e = estimate(&zeros);
        assert_eq!(e.values, n as u64 + 2);
        assert!(e.total() > 60 * zeros.len() as u64, "{e:?}");
        assert!(check(&zeros, default_budget(zeros.len())).is_err());
    }

    /// A valid snapshot: `markets` markets named by short symbols, `accounts`
    /// accounts with ids from 1000, each with `positions` positions of size 1.
    fn dense_snapshot(
        markets: usize,
        accounts: usize,
        positions: usize,
        string_ids: bool,
    ) -> Vec<u8> {
        let symbols: Vec<String> = (0..markets).map(|m| format!("{m:x}")).collect();
        let mut doc = String::from(
            r#"{"epoch":1,"quote_decimals":0,"reserves":"1000000000","insurance_fund":"0","markets":["#,
        );
        for (m, s) in symbols.iter().enumerate() {
            if m > 0 {
                doc.push(',');
            }
            doc.push_str(&format!(
                r#"{{"symbol":"{s}","price":"1","price_decimals":0,"size_decimals":0,"maintenance_margin_bps":100}}"#
            ));
        }
        doc.push_str(r#"],"accounts":["#);
        for a in 0..accounts {
            if a > 0 {
                doc.push(',');
            }
            let id = 1000 + a;
            let id = if string_ids {
                format!("\"{id}\"")
            } else {
                id.to_string()
            };
            doc.push_str(&format!(r#"{{"account_id":{id},"quote_balance":"0""#));
            if positions > 0 {
                doc.push_str(r#","positions":["#);
                for s in symbols.iter().take(positions) {
                    doc.push_str(&format!(r#"{{"market":"{s}","size":"1"}},"#));
                }
                doc.pop();
                doc.push(']');
            }
            doc.push('}');
        }
        doc.push_str("]}");
        doc.into_bytes()
    }

    #[test]
    fn valid_snapshots_fit_the_default_budget() {
        let mut worst = 0.0f64;
        for (markets, accounts, positions, string_ids) in [
            (64, 4097, 0, false),
            (64, 4097, 0, true),
            (64, 1025, 64, false),
            (64, 1025, 1, false),
            (1, 4097, 1, false),
            (1, 4097, 0, false),
            (2, 8193, 2, false),
            (8, 2049, 8, true),
        ] {
            let doc = dense_snapshot(markets, accounts, positions, string_ids);
            let snapshot = parse_json(&doc, "snapshot.json").unwrap_or_else(|e| {
                panic!("not a valid snapshot ({markets}, {accounts}, {positions}): {e}")
            });
            assert_eq!(snapshot.accounts().len(), accounts);
            let e = estimate(&doc);
            assert_eq!(e.accounts, accounts as u64);
            let ratio = e.total() as f64 / doc.len() as f64;
            worst = worst.max(ratio);
            assert!(
                check(&doc, default_budget(doc.len())).is_ok(),
                "{markets} markets, {accounts} accounts × {positions} positions: {ratio:.1} bytes per byte"
            );
        }
        eprintln!("densest valid snapshot: {worst:.1} bytes of parsing per byte of text");
    }
}
