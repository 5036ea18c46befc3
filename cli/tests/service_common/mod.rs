//! Helpers of the service tests: real `backstop serve` / `backstop worker`
//! processes, a minimal HTTP/1.1 client over loopback, generated snapshots.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use backstop_fixtures::{FixtureSpec, Scenario, generate};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The operator token every test server is given.
pub const TOKEN: &str = "test-operator-token-0123456789";
/// The venue secret every test process is given.
pub const SECRET: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
/// The venue signing key every test process is given (not the public demo key:
/// `serve` and `worker` refuse to start on that without `--insecure-demo`).
pub const VENUE_KEY: &str = "3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c";

/// A snapshot in the JSON form: `accounts` accounts, 2 markets, as epoch `epoch`.
pub fn snapshot_json(epoch: u64, accounts: usize, seed: u64) -> Vec<u8> {
    snapshot_json_markets(epoch, accounts, 2, seed)
}

/// A snapshot in the JSON form with `markets` markets.
pub fn snapshot_json_markets(epoch: u64, accounts: usize, markets: usize, seed: u64) -> Vec<u8> {
    let snapshot = generate(&FixtureSpec {
        scenario: Scenario::FlashCrash,
        accounts,
        markets,
        seed,
    })
    .unwrap();
    let mut value: Value =
        serde_json::from_str(&backstop_circuits::snapshot::to_json(&snapshot)).unwrap();
    value["epoch"] = Value::from(epoch);
    serde_json::to_vec_pretty(&value).unwrap()
}

/// Groth16 keys for B = 8, M = 2 in `dir` (a second or so).
pub fn setup_keys(dir: &Path) {
    setup_keys_shape(dir, 8, 2);
}

/// Groth16 keys for B = `batch`, M = `markets` in `dir`.
pub fn setup_keys_shape(dir: &Path, batch: u64, markets: usize) {
    let out = Command::new(env!("CARGO_BIN_EXE_backstop"))
        .args([
            "setup",
            "--batch-size",
            &batch.to_string(),
            "--markets",
            &markets.to_string(),
            "--keys",
        ])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running `backstop` process, killed (SIGKILL) when dropped.
#[derive(Debug)]
pub struct Proc {
    pub child: Child,
    pub log: PathBuf,
    pub addr: Option<String>,
}

impl Proc {
    /// Starts `backstop ARGS` in `cwd`, its stderr to `log`. For `serve`, waits
    /// for the "listening on" line and records the address.
    pub fn start(cwd: &Path, args: &[String], log: &Path) -> Self {
        Self::start_env(cwd, args, log, &[])
    }

    /// [`Proc::start`] with more environment variables (or others' values).
    pub fn start_env(cwd: &Path, args: &[String], log: &Path, env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_backstop"))
            .args(args)
            .current_dir(cwd)
            .env("BACKSTOP_API_TOKEN", TOKEN)
            .env("BACKSTOP_VENUE_SECRET", SECRET)
            .env("BACKSTOP_VENUE_KEY", VENUE_KEY)
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        let mut addr = None;
        if args.first().map(String::as_str) == Some("serve") {
            let stdout = child.stdout.take().unwrap();
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).unwrap();
            let Some(a) = line.trim().strip_prefix("listening on http://") else {
                let _ = child.kill();
                panic!(
                    "serve did not start: {line:?}\n{}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            };
            addr = Some(a.to_owned());
        }
        Self {
            child,
            log: log.to_path_buf(),
            addr,
        }
    }

    /// The server's address.
    pub fn addr(&self) -> &str {
        self.addr.as_deref().unwrap()
    }

    /// SIGKILL, and reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The process's stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
        // Every line a service process logged, in every test: no secret, key or
        // token in it.
        if !std::thread::panicking() {
            assert_no_secrets(&self.log());
        }
    }
}

/// Checks that `text` (a process's log) holds none of the credentials the tests
/// give the processes.
pub fn assert_no_secrets(text: &str) {
    for (what, secret) in [
        ("the venue secret", SECRET),
        ("the venue key", VENUE_KEY),
        ("the API token", TOKEN),
    ] {
        assert!(!text.contains(secret), "{what} appears in a log:\n{text}");
    }
}

/// Arguments of `backstop serve` on an ephemeral loopback port.
pub fn serve_args(db: &str, keys: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--db",
        db,
        "--keys",
        keys.to_str().unwrap(),
        "--poll-ms",
        "100",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

/// An HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request (`Connection: close`).
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&[u8]>,
) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if let Some(b) = body {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    head.push_str("\r\n");
    let mut request = head.into_bytes();
    request.extend_from_slice(body.unwrap_or_default());
    // The server may answer (413) and close before reading a large body.
    let _ = stream.write_all(&request);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP response: {}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).to_lowercase();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    let mut body = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    Response { status, body }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&data[..eol])
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 2 + size + 2..];
    }
}

/// Polls `GET /v1/epochs/{epoch}` until `done(status)` or the timeout.
pub fn wait_for(
    addr: &str,
    epoch: u64,
    timeout: Duration,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let start = Instant::now();
    loop {
        let r = http(
            addr,
            "GET",
            &format!("/v1/epochs/{epoch}"),
            Some(TOKEN),
            None,
        );
        if r.status == 200 {
            let v = r.json();
            if done(&v) {
                return v;
            }
            if v["state"] == "failed" {
                panic!("epoch {epoch} failed: {v}");
            }
            if start.elapsed() > timeout {
                panic!("timed out waiting for {what}: {v}");
            }
        } else if start.elapsed() > timeout {
            panic!("timed out waiting for {what}: {} {}", r.status, r.text());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until the epoch is verified.
pub fn wait_verified(addr: &str, epoch: u64, timeout: Duration) -> Value {
    wait_for(addr, epoch, timeout, "verified", |v| {
        v["state"] == "verified"
    })
}

/// Downloads a verified epoch's statement and proofs and writes them as an epoch
/// directory (`statement.json`, `proofs/batch-NNNNNN.bin`) under `scratch`;
/// returns the directory, the statement's bytes and the proofs' JSON.
fn download_epoch(addr: &str, epoch: u64, scratch: &Path) -> (PathBuf, Vec<u8>, Value) {
    let mut got = ["statement", "proofs"].map(|what| {
        let r = http(
            addr,
            "GET",
            &format!("/v1/epochs/{epoch}/{what}"),
            Some(TOKEN),
            None,
        );
        assert_eq!(r.status, 200, "{what}: {}", r.text());
        r
    });
    let proofs = got[1].json();
    let statement = std::mem::take(&mut got[0].body);
    let dir = scratch.join(format!("published-{epoch}"));
    std::fs::create_dir_all(dir.join("proofs")).unwrap();
    std::fs::write(dir.join("statement.json"), &statement).unwrap();
    for (b, p) in proofs["proofs"].as_array().unwrap().iter().enumerate() {
        std::fs::write(
            backstop_verifier::artifacts::proof_path(&dir, b as u64),
            hex::decode(p.as_str().unwrap()).unwrap(),
        )
        .unwrap();
    }
    (dir, statement, proofs)
}

/// Checks a verified epoch the way an outside verifier would: rebuild the epoch
/// directory from `statement` and `proofs` and verify it with the keys' trusted
/// verifying key. Returns the statement.
pub fn check_published(addr: &str, epoch: u64, keys: &Path, scratch: &Path) -> Value {
    let (dir, statement, proofs) = download_epoch(addr, epoch, scratch);
    std::fs::write(
        dir.join("verifying_key.bin"),
        hex::decode(proofs["verifying_key"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    let trusted = backstop_verifier::read_verifying_key(&keys.join("verifying_key.bin")).unwrap();
    let verified = backstop_verifier::verify_epoch_dir(&dir, Some(&trusted)).unwrap();
    assert!(verified.trusted_key);
    serde_json::from_slice(&statement).unwrap()
}

/// Parses an inclusion proof served by the service and checks it against the
/// published `statement` (as its owner would): the proof and what the check found.
pub fn check_inclusion(
    statement: &Value,
    proof_body: &[u8],
) -> (
    backstop_verifier::inclusion::InclusionProof,
    backstop_verifier::inclusion::InclusionReport,
) {
    let proof: backstop_verifier::inclusion::InclusionProof =
        serde_json::from_slice(proof_body).unwrap();
    let published = backstop_circuits::statement::EpochStatement::from_json(
        &serde_json::to_vec(statement).unwrap(),
    )
    .unwrap();
    let report = backstop_verifier::inclusion::verify_inclusion_for_statement(
        &proof,
        proof.batch_roots.as_ref().unwrap(),
        &published,
    )
    .unwrap();
    (proof, report)
}

/// Every batch's `(attempts, proofs_stored)` from a status.
pub fn batch_counts(status: &Value) -> Vec<(i64, i64)> {
    status["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["attempts"].as_i64().unwrap(),
                b["proofs_stored"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Rebuilds a verified halo2 epoch's directory from the API (`statement.json` and
/// `proofs/batch-NNNNNN.bin`, no key file) and verifies it with `backstop verify`;
/// returns the statement's bytes.
pub fn check_halo2_published(
    addr: &str,
    epoch: u64,
    batches: usize,
    params: &Path,
    scratch: &Path,
) -> Vec<u8> {
    let (dir, statement, proofs) = download_epoch(addr, epoch, scratch);
    let statement_json: Value = serde_json::from_slice(&statement).unwrap();
    assert_eq!(statement_json["backend"], "halo2-pasta");
    assert_eq!(proofs["backend"], "halo2-pasta");
    assert!(proofs.get("verifying_key").is_none(), "{proofs}");
    assert_eq!(
        proofs["verifying_key_hash"],
        statement_json["verifying_key_hash"]
    );
    assert_eq!(proofs["proofs"].as_array().unwrap().len(), batches);
    let out = Command::new(env!("CARGO_BIN_EXE_backstop"))
        .arg("verify")
        .arg(&dir)
        .arg("--params")
        .arg(params)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "backstop verify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verified"], true, "{report}");
    assert_eq!(report["backend"], "halo2-pasta", "{report}");
    assert_eq!(report["batches"], batches, "{report}");
    statement
}
