//! The prover service under hostile input and slow or flooding clients (issue 19):
//! real `backstop serve` processes, raw HTTP over loopback.
//!
//! * Adversarial 64 MiB snapshots are refused without the memory parsing them
//!   would take, or parsed without building what the parser only skips (the serve
//!   process's peak resident memory, `VmHWM`, is read from `/proc`), and the server
//!   keeps answering.
//! * The bound computed before parsing is an upper bound in practice: a body just
//!   under `--max-parse-bytes` is parsed within it, one just over is refused.
//! * A body sent slower than `--request-timeout-ms` gets 408; headers sent slower
//!   than `--header-timeout-ms` get the connection closed; requests beyond
//!   `--max-concurrent-requests` get 503; `/livez` answers throughout.
//!
//! Timings only bound from above with wide margins (the machine may be loaded);
//! the lower bounds (an answer no earlier than the timeout) keep the tests from
//! passing on a connection that merely failed.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the test failing

mod service_common;

use backstop_service::intake::estimate;
use service_common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const MIB: usize = 1024 * 1024;
/// The body limit of `backstop serve` by default.
const MAX_BODY: usize = 64 * MIB;
/// The peak resident memory the default server must stay under while refusing
/// the adversarial bodies below: the body (buffered, possibly twice while it is
/// collected) and the process itself, far from what parsing the bodies would take
/// (4.5 GiB of accounts reserved for the zeros, over 2 GiB of tree for the empty
/// keys or strings, before the pre-scan).
const PEAK_LIMIT_MIB: u64 = 512;

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("jobs.db").display())
}

/// Starts `backstop serve` (no local provers) with `extra` flags.
fn start(tmp: &Path, extra: &[&str]) -> Proc {
    let keys = tmp.join("keys");
    if !keys.join("keys.json").is_file() {
        setup_keys(&keys);
    }
    let mut flags = vec!["--artifacts", "artifacts", "--workers", "0"];
    flags.extend_from_slice(extra);
    Proc::start(
        tmp,
        &serve_args(&sqlite_url(tmp), &keys, &flags),
        &tmp.join("serve.log"),
    )
}

/// A process's peak resident memory (MiB), from `/proc/<pid>/status`.
fn peak_mib(server: &Proc) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmHWM in {status}"));
    kib / 1024
}

/// `{prefix}{unit × n}{last}{suffix}`, padded with spaces before `suffix` to
/// `len` bytes when `len` is given.
fn repeated(prefix: &str, unit: &str, last: &str, suffix: &str, len: usize) -> Vec<u8> {
    let n = (len - prefix.len() - last.len() - suffix.len()) / unit.len();
    let mut body = Vec::with_capacity(len);
    body.extend_from_slice(prefix.as_bytes());
    for _ in 0..n {
        body.extend_from_slice(unit.as_bytes());
    }
    body.extend_from_slice(last.as_bytes());
    body.resize(len - suffix.len(), b' ');
    body.extend_from_slice(suffix.as_bytes());
    body
}

fn post(addr: &str, body: &[u8]) -> Response {
    http(addr, "POST", "/v1/epochs", Some(TOKEN), Some(body))
}

fn assert_alive(addr: &str) {
    let r = http(addr, "GET", "/livez", None, None);
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn adversarial_64_mib_snapshots_are_refused_within_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(tmp.path(), &[]);
    let addr = server.addr().to_owned();
    let before = peak_mib(&server);
    // (what, body, status, a phrase of the error)
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            // Each element of `accounts` reserves an account (144 bytes at least).
            "a flat array of zeros as the accounts",
            repeated(r#"{"accounts":["#, "0,", "0", "]}", MAX_BODY),
            413,
            "--max-parse-bytes",
        ),
        (
            "millions of empty objects as the accounts",
            repeated(r#"{"accounts":["#, "{},", "{}", "]}", MAX_BODY),
            413,
            "--max-parse-bytes",
        ),
        (
            // One account's tree: 128 bytes a member.
            "millions of empty keys in one account",
            repeated(r#"{"accounts":[{"#, r#""":0,"#, r#""":0"#, "}]}", MAX_BODY),
            413,
            "--max-parse-bytes",
        ),
        (
            // The first pass's tree: 80 bytes a value and a located field each.
            // (2^24 one-character strings would not fit the default budget either,
            // 21 bytes per byte of body.)
            "millions of empty strings as the markets",
            repeated(r#"{"markets":["#, r#""","#, r#""""#, "]}", MAX_BODY),
            413,
            "--max-parse-bytes",
        ),
        (
            // A document that is not an object is refused as such: parsed, not built.
            "millions of empty objects, not in an object",
            repeated("[", "{},", "{}", "]", MAX_BODY),
            400,
            "expected a table",
        ),
        (
            // The values of unknown keys are parsed, not built.
            "millions of empty objects under an unknown key",
            repeated(r#"{"x":["#, "{},", "{}", "]}", MAX_BODY),
            400,
            "unknown field",
        ),
        (
            // serde_json stops at 128 levels: nothing deeper is ever allocated.
            "deeply nested arrays",
            repeated("", "[", "", "", MAX_BODY / 2)
                .into_iter()
                .chain(repeated("", "]", "", "", MAX_BODY / 2))
                .collect(),
            400,
            "recursion limit exceeded",
        ),
        (
            // One string costs its own length: parsed, then refused as a snapshot.
            "one huge string",
            repeated(r#"{"accounts":[""#, "a", "", r#""]}"#, MAX_BODY),
            400,
            "epoch",
        ),
        (
            // A field's value that the error quotes: quoted in part only.
            "a huge value the error quotes",
            repeated(r#"{"epoch":""#, "7", "", r#""}"#, MAX_BODY),
            400,
            "bytes in all)",
        ),
    ];
    for (what, body, status, phrase) in &cases {
        assert!(body.len() <= MAX_BODY, "{what}");
        let started = Instant::now();
        let r = post(&addr, body);
        let error = r.json()["error"].as_str().unwrap_or_default().to_owned();
        eprintln!(
            "{what}: {} bytes: {} in {:.1} s, peak {} MiB: {}",
            body.len(),
            r.status,
            started.elapsed().as_secs_f64(),
            peak_mib(&server),
            error.chars().take(200).collect::<String>()
        );
        assert_eq!(r.status, *status, "{what}: {}", r.text());
        assert!(error.contains(phrase), "{what}: {error}");
        // No error sends a submitted value back whole.
        assert!(
            r.body.len() < 4096,
            "{what}: a {}-byte answer",
            r.body.len()
        );
        if *status == 413 {
            assert_eq!(r.json()["limit"], "max_parse_bytes", "{what}");
        }
        assert_alive(&addr);
    }
    let peak = peak_mib(&server);
    eprintln!("peak resident memory: {before} MiB at start, {peak} MiB after the bodies");
    assert!(
        peak < PEAK_LIMIT_MIB,
        "the server's peak resident memory reached {peak} MiB (limit {PEAK_LIMIT_MIB} MiB)"
    );
    // A valid snapshot is still taken.
    let r = post(&addr, &snapshot_json(7, 30, 1));
    assert_eq!(r.status, 201, "{}", r.text());
}

#[test]
fn the_parse_bound_holds_in_practice_and_valid_snapshots_at_the_body_limit_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let budget = 256 * MIB;
    let server = start(
        tmp.path(),
        &[
            "--max-parse-bytes",
            &budget.to_string(),
            "--max-body-bytes",
            &(16 * MIB).to_string(),
        ],
    );
    let addr = server.addr().to_owned();
    let before = peak_mib(&server);
    // Bodies that make each pass allocate: n empty objects as the markets (pass 1's
    // tree, then a located field for each, before the count is refused) and as
    // one account's positions (pass 2's tree of that account, then a field for
    // each, before the first is refused).
    let params = r#""epoch":9,"quote_decimals":0,"reserves":"0","insurance_fund":"0""#;
    let markets = format!(r#"{{{params},"markets":["#);
    let positions = format!(
        r#"{{{params},"markets":[{MARKET}],"accounts":[{{"account_id":1,"quote_balance":"0","positions":["#
    );
    let cases = [
        (
            "empty objects as the markets",
            markets.as_str(),
            "]}",
            "between 1 and 64 markets",
        ),
        (
            "empty objects as one account's positions",
            positions.as_str(),
            "]}]}",
            "missing field",
        ),
    ];
    let mut parsed = 0;
    for (what, prefix, suffix, phrase) in cases {
        let body = |n: usize| empty_objects(prefix, n, suffix);
        // The largest n whose bound fits the budget.
        let fits = |n: usize| estimate(&body(n)).total() <= budget as u64;
        let (mut lo, mut hi) = (1, 16 * MIB / 3);
        assert!(fits(lo) && !fits(hi), "{what}");
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if fits(mid) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let (under, over) = (body(lo), body(lo + 1));
        let r = post(&addr, &over);
        assert_eq!(r.status, 413, "{what}: {}", r.text());
        assert_eq!(r.json()["max_parse_bytes"], budget);
        let started = Instant::now();
        let r = post(&addr, &under);
        let seconds = started.elapsed().as_secs_f64();
        assert_eq!(r.status, 400, "{what}: {}", r.text());
        assert!(r.text().contains(phrase), "{what}: {}", r.text());
        let peak = peak_mib(&server);
        let bound = estimate(&under).total() / MIB as u64;
        eprintln!(
            "{what}: {lo} of them, {} bytes, bound {bound} MiB, parsed in {seconds:.1} s \
             within a {} MiB budget: peak {before} → {peak} MiB",
            under.len(),
            budget / MIB
        );
        // Within the budget and the body (buffered, perhaps twice).
        assert!(
            peak <= before + (budget / MIB) as u64 + 3 * (under.len() / MIB) as u64 + 32,
            "{what}: {before} → {peak} MiB: over the {} MiB budget",
            budget / MIB
        );
        parsed = parsed.max(peak - before);
    }
    // Something was parsed: the markets' tree alone is 80 MiB.
    assert!(
        parsed >= 80,
        "{before} → +{parsed} MiB: was anything parsed?"
    );
    assert_alive(&addr);

    // Under the default budget (21 × --max-body-bytes + 256 KiB), a valid snapshot
    // as dense as they come (minimal accounts, the service's 2 markets; 4.4 bytes of
    // parsing per byte) and as large as the body limit allows is taken.
    drop(server);
    let server = start(tmp.path(), &["--max-body-bytes", &(16 * MIB).to_string()]);
    let before = peak_mib(&server);
    let body = dense_snapshot(16 * MIB);
    let started = Instant::now();
    let r = post(server.addr(), &body);
    assert_eq!(r.status, 201, "{} bytes: {}", body.len(), r.text());
    eprintln!(
        "a dense valid snapshot: {} bytes, bound {} MiB, taken in {:.1} s: peak {before} → {} MiB",
        body.len(),
        estimate(&body).total() / MIB as u64,
        started.elapsed().as_secs_f64(),
        peak_mib(&server)
    );
}

/// `{prefix}{},{},…{suffix}` with `n` empty objects.
fn empty_objects(prefix: &str, n: usize, suffix: &str) -> Vec<u8> {
    let mut body = prefix.as_bytes().to_vec();
    body.extend(std::iter::repeat_n(&b"{},"[..], n).flatten());
    body.pop();
    body.extend_from_slice(suffix.as_bytes());
    body
}

/// A market of the test keys' shape.
const MARKET: &str = r#"{"symbol":"A","price":"1","price_decimals":0,"size_decimals":0,"maintenance_margin_bps":100}"#;

/// A valid snapshot for the test keys' 2 markets of minimal accounts
/// (`{"account_id":N,"quote_balance":"0"}`), as many as `len` bytes hold.
fn dense_snapshot(len: usize) -> Vec<u8> {
    let mut doc = String::from(
        r#"{"epoch":9,"quote_decimals":0,"reserves":"1000000000","insurance_fund":"0","markets":[{"symbol":"A","price":"1","price_decimals":0,"size_decimals":0,"maintenance_margin_bps":100},{"symbol":"B","price":"1","price_decimals":0,"size_decimals":0,"maintenance_margin_bps":100}],"accounts":["#,
    );
    for id in 0.. {
        let account = format!(r#"{{"account_id":{id},"quote_balance":"0"}}"#);
        if doc.len() + account.len() + 3 > len {
            break;
        }
        if id > 0 {
            doc.push(',');
        }
        doc.push_str(&account);
    }
    doc.push_str("]}");
    doc.into_bytes()
}

/// What a slow client saw.
#[derive(Debug)]
struct Slow {
    /// The status the server answered, if it answered before closing.
    status: Option<u16>,
    /// When the server answered or closed the connection.
    after: Duration,
}

/// Sends `head` (all at once unless `slow_head`), then `body_len` bytes of body,
/// one every `pace`, until the server answers or closes the connection (or 60 s).
fn slow_client(addr: &str, head: &str, slow_head: bool, body_len: usize, pace: Duration) -> Slow {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let head = head.as_bytes().to_vec();
    let started = Instant::now();
    let sender = std::thread::spawn(move || {
        let (now, later): (&[u8], &[u8]) = if slow_head {
            (&[], &head)
        } else {
            (&head, &[])
        };
        if writer.write_all(now).is_err() {
            return;
        }
        let body = vec![b' '; body_len];
        for byte in later.iter().chain(&body) {
            if stop2.load(Ordering::Relaxed) || writer.write_all(&[*byte]).is_err() {
                return;
            }
            std::thread::sleep(pace);
        }
    });
    let mut reader = stream;
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let mut answered = None;
    loop {
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                answered.get_or_insert_with(|| started.elapsed());
                raw.extend_from_slice(&buf[..n]);
            }
        }
    }
    let after = answered.unwrap_or_else(|| started.elapsed());
    stop.store(true, Ordering::Relaxed);
    sender.join().unwrap();
    let status = String::from_utf8_lossy(&raw)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok());
    Slow { status, after }
}

/// Holds a request in flight (a submission whose body arrives one byte a second)
/// until `stop`, sending it again whenever it is answered.
fn hold_slot(addr: &str, stop: &AtomicBool) {
    let mut buf = [0u8; 1024];
    while !stop.load(Ordering::Relaxed) {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(1000)))
            .unwrap();
        if stream.write_all(post_head(addr, 100).as_bytes()).is_err() {
            continue;
        }
        while !stop.load(Ordering::Relaxed) {
            if stream.write_all(b" ").is_err() {
                break;
            }
            // The pace: a second without an answer.
            match stream.read(&mut buf) {
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                _ => break,
            }
        }
    }
}

fn post_head(addr: &str, len: usize) -> String {
    format!(
        "POST /v1/epochs HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {len}\r\n\r\n"
    )
}

#[test]
fn slow_bodies_time_out_with_408_and_slow_headers_are_cut_off() {
    let tmp = tempfile::tempdir().unwrap();
    let timeout = Duration::from_secs(3);
    let server = start(
        tmp.path(),
        &[
            "--request-timeout-ms",
            "3000",
            "--header-timeout-ms",
            "3000",
        ],
    );
    let addr = server.addr().to_owned();

    // A body of 1000 bytes at 5 bytes a second: 408 after the timeout (not before),
    // while other clients are served.
    let slow_body = {
        let addr = addr.clone();
        std::thread::spawn(move || {
            slow_client(
                &addr,
                &post_head(&addr, 1000),
                false,
                1000,
                Duration::from_millis(200),
            )
        })
    };
    // A request whose headers never end: the connection is closed.
    let slow_head = {
        let addr = addr.clone();
        let head = format!(
            "GET /livez HTTP/1.1\r\nHost: {addr}\r\nX-Slow: {}",
            "a".repeat(1000)
        );
        std::thread::spawn(move || slow_client(&addr, &head, true, 0, Duration::from_millis(200)))
    };
    // An idle connection: closed too.
    let idle = {
        let addr = addr.clone();
        std::thread::spawn(move || slow_client(&addr, "", false, 0, Duration::from_millis(200)))
    };
    std::thread::sleep(Duration::from_millis(500));
    for _ in 0..3 {
        assert_alive(&addr);
        let r = http(&addr, "GET", "/v1/epochs/5", Some(TOKEN), None);
        assert_eq!(r.status, 404, "{}", r.text());
    }
    let margin = Duration::from_secs(30);
    let body = slow_body.join().unwrap();
    eprintln!("slow body: {body:?}");
    assert_eq!(body.status, Some(408), "{body:?}");
    assert!(
        body.after >= timeout - Duration::from_millis(300),
        "{body:?}"
    );
    assert!(body.after < timeout + margin, "{body:?}");
    for (what, slow) in [("slow headers", slow_head), ("idle", idle)] {
        let slow = slow.join().unwrap();
        eprintln!("{what}: {slow:?}");
        // hyper closes the connection, with a 408 or without an answer.
        assert!(matches!(slow.status, None | Some(408)), "{what}: {slow:?}");
        assert!(
            slow.after >= timeout - Duration::from_millis(300),
            "{what}: {slow:?}"
        );
        assert!(slow.after < timeout + margin, "{what}: {slow:?}");
    }
    assert_alive(&addr);
    let r = post(&addr, &snapshot_json(3, 10, 2));
    assert_eq!(r.status, 201, "{}", r.text());
}

#[test]
fn requests_beyond_the_concurrency_limit_are_shed_with_503() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(
        tmp.path(),
        &[
            "--max-concurrent-requests",
            "3",
            "--request-timeout-ms",
            "60000",
        ],
    );
    let addr = server.addr().to_owned();
    // Three submissions that hold their slots: their bodies arrive one byte a
    // second (one reads its body, two wait for their turn). One that is answered
    // (shed, because a request below held a slot when it arrived) tries again.
    let stop = Arc::new(AtomicBool::new(false));
    let holders: Vec<_> = (0..3)
        .map(|_| {
            let addr = addr.clone();
            let stop = stop.clone();
            std::thread::spawn(move || hold_slot(&addr, &stop))
        })
        .collect();
    // Once the three are in flight, every further request is shed at once.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = http(&addr, "GET", "/v1/epochs/5", Some(TOKEN), None);
        if r.status == 503 {
            break;
        }
        assert_eq!(r.status, 404, "{}", r.text());
        assert!(
            Instant::now() < deadline,
            "no request was ever shed:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let burst: Vec<_> = (0..8)
        .map(|i| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                if i % 2 == 0 {
                    http(&addr, "GET", "/v1/epochs/5", Some(TOKEN), None)
                } else {
                    http(&addr, "GET", "/v1/epochs/5/inclusion/1", None, None)
                }
            })
        })
        .collect();
    for r in burst {
        let r = r.join().unwrap();
        assert_eq!(r.status, 503, "{}", r.text());
        assert_eq!(r.json()["limit"], "max_concurrent_requests");
    }
    // The probes are exempt.
    assert_alive(&addr);
    assert_eq!(http(&addr, "GET", "/readyz", None, None).status, 200);
    // Released, the slots serve again.
    stop.store(true, Ordering::Relaxed);
    for h in holders {
        h.join().unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = http(&addr, "GET", "/v1/epochs/5", Some(TOKEN), None);
        if r.status == 404 {
            break;
        }
        assert_eq!(r.status, 503, "{}", r.text());
        assert!(Instant::now() < deadline, "the slots were never released");
        std::thread::sleep(Duration::from_millis(100));
    }
}
