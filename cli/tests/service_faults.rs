//! Fault injection on the prover service (issue 19), with real `backstop serve`
//! and `backstop worker` processes, on SQLite and on PostgreSQL:
//! - every named crash point (`backstop_service::faults::POINTS`, compiled into
//!   test builds) killed with SIGKILL, then restarted and resubmitted;
//! - every other fault kind: the artifact disk full, the database unreachable, a
//!   worker paused past its lease, SIGTERM with work in progress, a worker with
//!   another key, workers with skewed clocks, halo2 epochs killed mid-proving and
//!   mid-verification.
//!
//! After each fault the same checks: the epoch completes and verifies (as an
//! outside verifier would, from the API's files), every batch proof is stored
//! once, the snapshot was kept until the epoch was verified, and no file is left
//! outside the artifact store (the processes' temporary directory stays empty) nor
//! temporary inside it.
//!
//! The four tables in docs/SERVICE.md (kill points and fault kinds, each for both
//! databases) are this test's output: it checks them, and
//! `BACKSTOP_BLESS_SERVICE_DOCS=1` rewrites them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod service_common;

use backstop_service::faults::POINTS;
use backstop_service::store::{Store, state};
use service_common::*;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Accounts per test epoch: three batches of the B = 8 keys.
const ACCOUNTS: usize = 24;
const BATCHES: usize = 3;

/// Timings for fast recovery: short leases, quick retries, leftovers swept after
/// two seconds.
const FAST: [(&str, &str); 6] = [
    ("--lease-ms", "1500"),
    ("--heartbeat-ms", "300"),
    ("--retry-backoff-ms", "100"),
    ("--leftover-age-ms", "2000"),
    ("--shutdown-grace-ms", "1000"),
    ("--batch-delay-ms", "50"),
];

/// [`FAST`] with some flags given other values.
fn flags(overrides: &[(&str, &str)]) -> Vec<String> {
    let mut out = Vec::new();
    for (flag, value) in FAST {
        let value = overrides
            .iter()
            .find(|(f, _)| *f == flag)
            .map_or(value, |(_, v)| *v);
        out.push(flag.to_owned());
        out.push(value.to_owned());
    }
    for (flag, value) in overrides {
        if !FAST.iter().any(|(f, _)| f == flag) {
            out.push((*flag).to_owned());
            out.push((*value).to_owned());
        }
    }
    out
}

/// One test process's shared setup: the keys (made once) and a scratch root.
struct Bench {
    root: tempfile::TempDir,
    keys: PathBuf,
}

impl Bench {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let keys = root.path().join("keys");
        setup_keys(&keys);
        Self { root, keys }
    }
}

/// A venue secret of its own for each case (by its epoch id), so that cases and
/// runs sharing one PostgreSQL database never claim each other's work (claims are
/// fenced by the secret).
fn case_secret(epoch: u64) -> String {
    let tag = format!("{epoch:016}");
    let hex: String = tag.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{hex:0<64}")
}

/// One case's directories: working directory, artifact store, temporary directory.
struct Case {
    dir: PathBuf,
    artifacts: PathBuf,
    tmp: PathBuf,
    db: String,
    secret: String,
    /// For a halo2 epoch: where its processes cache the halo2 parameters.
    halo2: Option<PathBuf>,
}

impl Case {
    fn new(bench: &Bench, name: &str, backend: Backend, epoch: u64) -> Self {
        let dir = bench.root.path().join(name.replace('.', "-"));
        let tmp = dir.join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let db = match backend {
            Backend::Sqlite => format!("sqlite://{}", dir.join("jobs.db").display()),
            Backend::Postgres(ref url) => url.clone(),
        };
        Self {
            artifacts: dir.join("artifacts"),
            dir,
            tmp,
            db,
            secret: case_secret(epoch),
            halo2: None,
        }
    }

    /// The case's epoch is a halo2 one (submitted with `?backend=halo2`).
    fn halo2(mut self, bench: &Bench) -> Self {
        self.halo2 = Some(bench.root.path().join("halo2-params"));
        self
    }

    /// The submission route for the case's backend.
    fn route(&self) -> &'static str {
        if self.halo2.is_some() {
            "/v1/epochs?backend=halo2"
        } else {
            "/v1/epochs"
        }
    }

    /// POSTs a snapshot that must make a new job (201).
    fn submit_new(&self, addr: &str, body: &[u8]) {
        let r = http(addr, "POST", self.route(), Some(TOKEN), Some(body));
        assert_eq!(r.status, 201, "{}", r.text());
    }

    /// POSTs the snapshot, tolerating a server that dies while answering.
    fn try_submit(&self, addr: &str, body: &[u8]) -> Option<u16> {
        let (addr, route, body) = (addr.to_owned(), self.route(), body.to_vec());
        std::thread::spawn(move || http(&addr, "POST", route, Some(TOKEN), Some(&body)).status)
            .join()
            .ok()
    }

    /// Checks the verified epoch as an outside verifier would, from the API's files.
    fn check_published(&self, bench: &Bench, addr: &str, epoch: u64) {
        match &self.halo2 {
            None => {
                check_published(addr, epoch, &bench.keys, &self.dir);
            }
            Some(params) => {
                check_halo2_published(addr, epoch, BATCHES, params, &self.dir);
            }
        }
    }

    fn args(&self, keys: &Path, overrides: &[(&str, &str)]) -> Vec<String> {
        let flags = flags(overrides);
        let mut all = vec!["--artifacts", self.artifacts.to_str().unwrap()];
        if let Some(params) = &self.halo2 {
            all.extend(["--halo2-params", params.to_str().unwrap()]);
        }
        all.extend(flags.iter().map(String::as_str));
        serve_args(&self.db, keys, &all)
    }

    fn start(&self, keys: &Path, log: &str, fault: Option<&str>, extra: &[(&str, &str)]) -> Proc {
        let mut env = vec![
            ("BACKSTOP_VENUE_SECRET", self.secret.as_str()),
            ("TMPDIR", self.tmp.to_str().unwrap()),
        ];
        if let Some(f) = fault {
            env.push(("BACKSTOP_FAULT", f));
        }
        Proc::start_env(
            &self.dir,
            &self.args(keys, extra),
            &self.dir.join(log),
            &env,
        )
    }

    /// A `backstop worker` on this case's database and artifact store, with
    /// `keys`, [`FAST`] timings with `overrides`, and `env` added to the case's
    /// secret and temporary directory.
    fn start_worker(
        &self,
        keys: &Path,
        log: &str,
        overrides: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> Proc {
        let mut args: Vec<String> = [
            "worker",
            "--db",
            &self.db,
            "--keys",
            keys.to_str().unwrap(),
            "--artifacts",
            self.artifacts.to_str().unwrap(),
            "--poll-ms",
            "50",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.extend(flags(overrides));
        let mut all = vec![
            ("BACKSTOP_VENUE_SECRET", self.secret.as_str()),
            ("TMPDIR", self.tmp.to_str().unwrap()),
        ];
        all.extend_from_slice(env);
        Proc::start_env(&self.dir, &args, &self.dir.join(log), &all)
    }

    /// Files under the artifact store whose names mark them temporary.
    fn temporaries(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![self.artifacts.clone()];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with(".tmp-") {
                    out.push(e.path());
                } else if e.path().is_dir() {
                    stack.push(e.path());
                }
            }
        }
        out
    }

    fn snapshot_stored(&self, epoch: u64) -> bool {
        std::fs::read_dir(self.artifacts.join(format!("epochs/{epoch}/inputs"))).is_ok_and(
            |mut d| {
                d.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("snapshot-")))
            },
        )
    }

    fn proof_files(&self, epoch: u64) -> usize {
        std::fs::read_dir(self.artifacts.join(format!("epochs/{epoch}/public/proofs"))).map_or(
            0,
            |d| {
                d.flatten()
                    .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                    .count()
            },
        )
    }
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }
}

/// The first epoch id of a run: fixed on SQLite (a fresh file per case), unique
/// per run on PostgreSQL (one database keeps every run's epochs).
fn epoch_base(backend: &Backend) -> u64 {
    match backend {
        Backend::Sqlite => 100,
        Backend::Postgres(_) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as u64;
            // Stable within a run (one call per case, milliseconds apart, would
            // not be): derived from the process id and the run's start second.
            static BASE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
            *BASE.get_or_init(|| {
                1_000_000 + u64::from(std::process::id()) * 100_000 + (now / 1000 % 1000) * 100
            })
        }
    }
}

/// Waits for `proc` to exit; its exit status's signal.
fn wait_exit(proc: &mut Proc, timeout: Duration) -> Option<i32> {
    let start = Instant::now();
    loop {
        if let Some(status) = proc.child.try_wait().unwrap() {
            return status.signal();
        }
        if start.elapsed() > timeout {
            panic!(
                "the process did not die within {timeout:?}:\n{}",
                proc.log()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What the job store and the artifact store held when the process died.
fn at_kill(case: &Case, store: &Store, epoch: u64) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (row, tasks) = rt.block_on(async {
        let row = store.epoch(epoch as i64).await.unwrap();
        let tasks = store.tasks(epoch as i64).await.unwrap();
        (row, tasks)
    });
    let Some(row) = row else {
        return format!(
            "no job recorded; snapshot {}",
            if case.snapshot_stored(epoch) {
                "stored"
            } else {
                "not stored"
            }
        );
    };
    let done = tasks.iter().filter(|t| t.state == "done").count();
    let public = case
        .artifacts
        .join(format!("epochs/{epoch}/public/statement.json"));
    let inclusion = case.artifacts.join(format!("epochs/{epoch}/inclusion"));
    let inclusion_files = std::fs::read_dir(&inclusion).map_or(0, |d| d.flatten().count());
    format!(
        "{}, {done}/{} batches recorded, {} proof files, statement {}, {} inclusion files, snapshot {}",
        row.state,
        tasks.len(),
        case.proof_files(epoch),
        if public.is_file() {
            "published"
        } else {
            "absent"
        },
        if inclusion_files == 0 {
            "no"
        } else if inclusion_files < ACCOUNTS + 1 {
            "some"
        } else {
            "all"
        },
        if case.snapshot_stored(epoch) {
            "kept"
        } else {
            "deleted"
        },
    )
}

/// What every row's recovery checks, in the fault-kind tables.
const CHECKED: &str = "verified; one proof file per batch; snapshot deleted once verified; \
                       no temporary left in the store, nothing outside it";

/// The checks after recovery (see [`CHECKED`]); the epoch's status, verified.
fn after_recovery(case: &Case, bench: &Bench, addr: &str, epoch: u64) -> serde_json::Value {
    let status = wait_verified(addr, epoch, Duration::from_secs(240));
    case.check_published(bench, addr, epoch);
    let counts = batch_counts(&status);
    assert_eq!(counts.len(), BATCHES, "{status}");
    for (_, stored) in &counts {
        assert_eq!(*stored, 1, "{status}");
    }
    assert_eq!(case.proof_files(epoch), BATCHES, "one proof file per batch");
    // Inputs are deleted once verified (this service does not retain them).
    let deadline = Instant::now() + Duration::from_secs(30);
    while case.snapshot_stored(epoch) {
        assert!(
            Instant::now() < deadline,
            "the snapshot outlived verification"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Leftovers: nothing in the processes' temporary directory; temporaries in the
    // store swept once older than the leftover age.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let temporaries = case.temporaries();
        if temporaries.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "temporaries never swept: {temporaries:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let outside: Vec<_> = std::fs::read_dir(&case.tmp)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(
        outside.is_empty(),
        "files left outside the artifact store: {outside:?}"
    );
    status
}

/// How many claims recovery took, for the kill tables: the batches' and the
/// verification's.
fn claims(status: &serde_json::Value) -> String {
    let batches: i64 = batch_counts(status).iter().map(|c| c.0).sum();
    let verifications = status["verification_attempts"].as_i64().unwrap();
    format!("verified; claims: {batches} of batches, {verifications} of verification")
}

/// Kills a server of `case` at `point`, restarts it, and checks nothing was
/// lost: what the stores held at the kill, and the recovery's status.
fn kill_at(bench: &Bench, case: &Case, epoch: u64, point: &str) -> (String, serde_json::Value) {
    let body = snapshot_json(epoch, ACCOUNTS, 7);
    // A submission point kills the API path: no local prover, so that no batch
    // is claimed between the job's insert and the kill (the claim counts would
    // depend on that race).
    let provers: &[(&str, &str)] = if point.starts_with("submit.") {
        &[("--workers", "0")]
    } else {
        &[]
    };
    let mut first = case.start(&bench.keys, "first.log", Some(point), provers);
    // The answer does not matter: the client submits again after the restart.
    let _ = case.try_submit(first.addr(), &body);
    let signal = wait_exit(&mut first, Duration::from_secs(180));
    let log = first.log();
    let name = point.split('@').next().unwrap();
    assert_eq!(signal, Some(9), "not killed at {point}:\n{log}");
    assert!(
        log.contains(&format!("fault point {name}: killing")),
        "killed elsewhere than {point}:\n{log}"
    );
    let store = {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(Store::connect(&case.db)).unwrap()
    };
    let seen = at_kill(case, &store, epoch);
    // Until verified, the snapshot is kept (or, before the job exists, the client
    // has had no answer and submits again).
    let verified_at_kill = seen.starts_with(state::VERIFIED);
    if !verified_at_kill && !seen.starts_with("no job") {
        assert!(
            case.snapshot_stored(epoch),
            "inputs lost before verification at {point}: {seen}"
        );
    }
    let second = case.start(&bench.keys, "second.log", None, &[]);
    // The client, having had no answer or not, submits again: the API is idempotent.
    let again = http(
        second.addr(),
        "POST",
        case.route(),
        Some(TOKEN),
        Some(&body),
    );
    assert!(matches!(again.status, 200 | 201), "{}", again.text());
    let status = after_recovery(case, bench, second.addr(), epoch);
    (seen, status)
}

/// The crash point `point` as killed in the tables: inclusion proofs are written
/// from parallel threads, so that one is killed at the tenth (some stored, some
/// not, whichever thread wrote which).
fn armed(point: &str) -> String {
    if point == "verify.inclusion_put" {
        format!("{point}@10")
    } else {
        point.to_owned()
    }
}

fn kill_table(backend: &Backend) -> String {
    let bench = Bench::new();
    let mut rows = vec![
        "| crash point (SIGKILL) | the stores at the kill | after restart and resubmission |"
            .to_owned(),
        "| --- | --- | --- |".to_owned(),
    ];
    for (i, point) in POINTS.iter().enumerate() {
        let at = armed(point);
        let epoch = epoch_base(backend) + i as u64;
        let name = format!("{}-{}", backend.name(), at.replace('@', "-"));
        let case = Case::new(&bench, &name, backend.clone(), epoch);
        let (seen, status) = kill_at(&bench, &case, epoch, &at);
        let row = format!("| `{at}` | {seen} | {} |", claims(&status));
        eprintln!("{row}");
        rows.push(row);
    }
    rows.join("\n") + "\n"
}

/// Replaces (bless) or checks the table between `<!-- faults:NAME -->` markers.
fn check_docs(name: &str, table: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/SERVICE.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (open, close) = (
        format!("<!-- faults:{name} -->\n"),
        format!("<!-- /faults:{name} -->"),
    );
    let start = doc.find(&open).map(|i| i + open.len());
    let end = doc.find(&close);
    if std::env::var_os("BACKSTOP_BLESS_SERVICE_DOCS").is_some() {
        let new = match (start, end) {
            (Some(s), Some(e)) => format!("{}{table}{}", &doc[..s], &doc[e..]),
            _ => format!("{doc}\n{open}{table}{close}\n"),
        };
        std::fs::write(&path, new).unwrap();
        return;
    }
    let (Some(s), Some(e)) = (start, end) else {
        panic!("docs/SERVICE.md has no {open:?} table: run with BACKSTOP_BLESS_SERVICE_DOCS=1");
    };
    assert_eq!(
        &doc[s..e],
        table,
        "docs/SERVICE.md's {name} table differs from what the test saw: \
         run with BACKSTOP_BLESS_SERVICE_DOCS=1 and review the diff"
    );
}

#[test]
fn sqlite_every_kill_point_recovers_without_loss() {
    let table = kill_table(&Backend::Sqlite);
    check_docs("sqlite", &table);
}

#[test]
fn postgres_every_kill_point_recovers_without_loss() {
    let Some(backend) = postgres() else { return };
    let table = kill_table(&backend);
    check_docs("postgres", &table);
}

#[test]
fn sqlite_every_fault_kind_loses_nothing() {
    if let Some(table) = kinds_table(&Backend::Sqlite) {
        check_docs("kinds-sqlite", &table);
    }
}

#[test]
fn postgres_every_fault_kind_loses_nothing() {
    let Some(backend) = postgres() else { return };
    if let Some(table) = kinds_table(&backend) {
        check_docs("kinds-postgres", &table);
    }
}

/// The test PostgreSQL server, or `None` (the test skipped) without one.
fn postgres() -> Option<Backend> {
    match std::env::var("BACKSTOP_TEST_PG_URL") {
        Ok(url) => Some(Backend::Postgres(url)),
        Err(_) => {
            eprintln!("skipped: BACKSTOP_TEST_PG_URL is not set (scripts/test sets it)");
            None
        }
    }
}

/// What one fault kind did on one database.
enum Outcome {
    /// What the test saw during the fault (each part asserted) and after.
    Row { during: String, after: String },
    /// Why the fault cannot happen on this database.
    NotApplicable(&'static str),
    /// The fault could not be set up on this machine: the table is not checked.
    Skipped,
}

impl Outcome {
    /// A row whose recovery made the standard checks ([`CHECKED`]).
    fn checked(during: &str) -> Self {
        Outcome::Row {
            during: during.to_owned(),
            after: CHECKED.to_owned(),
        }
    }
}

/// A fault kind: its name in the table and the case that injects it, given the
/// shared setup, the database and the epoch id.
type Kind = (&'static str, fn(&Bench, &Backend, u64) -> Outcome);

const KINDS: [Kind; 8] = [
    (
        "artifact disk full (a 16 MiB tmpfs, filled for 8 s)",
        disk_full,
    ),
    ("database unreachable for 6 s", database_outage),
    ("worker paused (SIGSTOP) past its lease", paused_worker),
    ("SIGTERM with a batch in progress (1 s grace)", sigterm),
    ("a worker holding another verifying key", other_key),
    ("workers' clocks 60 s behind and ahead", skewed_clocks),
    (
        "halo2 epoch, SIGKILL at `task.after_store`",
        halo2_mid_batches,
    ),
    (
        "halo2 epoch, SIGKILL at `verify.inclusion_put@10`",
        halo2_mid_inclusion,
    ),
];

/// Every fault kind on `backend`, one row each; `None` when one could not be set
/// up here.
fn kinds_table(backend: &Backend) -> Option<String> {
    let bench = Bench::new();
    let mut rows = vec![
        "| fault | during the fault | after |".to_owned(),
        "| --- | --- | --- |".to_owned(),
    ];
    let mut complete = true;
    for (i, (name, case)) in KINDS.iter().enumerate() {
        let epoch = epoch_base(backend) + 50 + i as u64;
        let row = match case(&bench, backend, epoch) {
            Outcome::Row { during, after } => format!("| {name} | {during} | {after} |"),
            Outcome::NotApplicable(why) => format!("| {name} | not applicable: {why} | |"),
            Outcome::Skipped => {
                complete = false;
                format!("| {name} | skipped here | |")
            }
        };
        eprintln!("{row}");
        rows.push(row);
    }
    if !complete {
        eprintln!("a fault kind was skipped: docs/SERVICE.md's table not checked");
        return None;
    }
    Some(rows.join("\n") + "\n")
}

/// The case directory's name for a fault kind.
fn case_name(backend: &Backend, kind: &str) -> String {
    format!("{}-{kind}", backend.name())
}

/// Waits until `proc` has logged a batch claim.
fn wait_claimed(proc: &Proc) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !proc.log().contains("claimed batch") {
        assert!(Instant::now() < deadline, "never claimed:\n{}", proc.log());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `signal` (`STOP`, `CONT`, `TERM`) to `proc`.
fn signal(proc: &Proc, signal: &str) {
    let pid = proc.child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap()
            .success()
    );
}

/// A size-limited tmpfs mounted for one test; unmounted (lazily) when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `size` at `dir`; `None` when mounting is not allowed here
    /// and `BACKSTOP_TEST_NO_MOUNT` says to skip (the CI machine runs as root and
    /// mounts).
    fn mount(dir: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(Self(dir.to_path_buf()));
        }
        if std::env::var_os("BACKSTOP_TEST_NO_MOUNT").is_some() {
            eprintln!("skipped: cannot mount a tmpfs here (BACKSTOP_TEST_NO_MOUNT is set)");
            return None;
        }
        panic!(
            "cannot mount a tmpfs at {} (needs root); set BACKSTOP_TEST_NO_MOUNT=1 to skip",
            dir.display()
        );
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// Fills the file system holding `dir` with one file; its path.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while f.write_all(&chunk).is_ok() {}
    // The last pages, a byte at a time.
    while f.write_all(&[0]).is_ok() {}
    let _ = f.sync_all();
    path
}

/// The artifact store's disk fills up after submission: no batch proof can be
/// stored. The epoch waits (its attempts are not counted against a full disk, so
/// it does not fail), `/readyz` says the store is not writable and each batch
/// shows the error; once space is freed, the epoch completes and verifies.
fn disk_full(bench: &Bench, backend: &Backend, epoch: u64) -> Outcome {
    let case = Case::new(
        bench,
        &case_name(backend, "disk-full"),
        backend.clone(),
        epoch,
    );
    let Some(_disk) = Tmpfs::mount(&case.artifacts, "16m") else {
        return Outcome::Skipped;
    };
    let server = case.start(
        &bench.keys,
        "serve.log",
        None,
        &[("--batch-delay-ms", "500")],
    );
    let body = snapshot_json(epoch, ACCOUNTS, 4);
    case.submit_new(server.addr(), &body);
    let filler = fill(&case.artifacts);
    // Several attempts' worth of time (more than max_attempts × the back-off).
    let deadline = Instant::now() + Duration::from_secs(8);
    let mut seen_error = false;
    while Instant::now() < deadline {
        let status = http(
            server.addr(),
            "GET",
            &format!("/v1/epochs/{epoch}"),
            Some(TOKEN),
            None,
        )
        .json();
        assert_ne!(
            status["state"], "failed",
            "a full disk failed the epoch: {status}"
        );
        seen_error |= status["batches"].as_array().unwrap().iter().any(|b| {
            b["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("No space left"))
        });
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        seen_error,
        "no batch shows the disk-full error:\n{}",
        server.log()
    );
    assert_eq!(
        http(server.addr(), "GET", "/readyz", None, None).status,
        503
    );
    let status = http(
        server.addr(),
        "GET",
        &format!("/v1/epochs/{epoch}"),
        Some(TOKEN),
        None,
    )
    .json();
    assert_ne!(
        status["state"], "verified",
        "the disk was never full: {status}"
    );
    std::fs::remove_file(filler).unwrap();
    after_recovery(&case, bench, server.addr(), epoch);
    assert_eq!(
        http(server.addr(), "GET", "/readyz", None, None).status,
        200
    );
    Outcome::Row {
        during: "epoch kept `proving`, never failed; batches showed `No space left on device`; \
                 `/readyz` 503"
            .to_owned(),
        after: format!("space freed: {CHECKED}; `/readyz` 200"),
    }
}

/// A TCP relay in front of the database that the test can cut: while cut, it
/// closes every relayed connection and every new one at once (the database
/// unreachable: a partition, a restart, a failover).
struct Relay {
    addr: String,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Relay {
    fn start(upstream: String) -> Self {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let cut = Arc::new(AtomicBool::new(false));
        let cut2 = cut.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if cut2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = std::net::TcpStream::connect(&upstream) else {
                    continue;
                };
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    let cut3 = cut2.clone();
                    std::thread::spawn(move || {
                        use std::io::{Read, Write};
                        let _ = from.set_read_timeout(Some(Duration::from_millis(100)));
                        let mut buf = [0u8; 16 * 1024];
                        loop {
                            if cut3.load(Ordering::SeqCst) {
                                let _ = from.shutdown(std::net::Shutdown::Both);
                                let _ = to.shutdown(std::net::Shutdown::Both);
                                return;
                            }
                            match from.read(&mut buf) {
                                Ok(0) => {
                                    let _ = to.shutdown(std::net::Shutdown::Both);
                                    return;
                                }
                                Ok(n) => {
                                    if to.write_all(&buf[..n]).is_err() {
                                        return;
                                    }
                                }
                                Err(e)
                                    if matches!(
                                        e.kind(),
                                        std::io::ErrorKind::WouldBlock
                                            | std::io::ErrorKind::TimedOut
                                    ) => {}
                                Err(_) => {
                                    let _ = to.shutdown(std::net::Shutdown::Both);
                                    return;
                                }
                            }
                        }
                    });
                }
            }
        });
        Self { addr, cut }
    }

    fn set_cut(&self, cut: bool) {
        self.cut.store(cut, std::sync::atomic::Ordering::SeqCst);
    }
}

/// SQLite's write lock held by another connection (an operator's long
/// transaction, a backup), released when dropped: every write of the service
/// waits for it and, past the 5 s busy timeout, fails with "database is locked".
struct SqliteLock {
    release: Option<std::sync::mpsc::Sender<()>>,
    holder: Option<std::thread::JoinHandle<()>>,
}

impl SqliteLock {
    fn take(url: &str) -> Self {
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (taken, is_taken) = std::sync::mpsc::channel::<()>();
        let url = url.to_owned();
        let holder = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                use sqlx::Connection;
                let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
                // The service's own writes hold the lock for milliseconds: retry.
                while sqlx::query("BEGIN EXCLUSIVE")
                    .execute(&mut conn)
                    .await
                    .is_err()
                {}
                taken.send(()).unwrap();
                let _ = released.recv();
                sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
            });
        });
        is_taken.recv().unwrap();
        Self {
            release: Some(release),
            holder: Some(holder),
        }
    }
}

impl Drop for SqliteLock {
    fn drop(&mut self) {
        drop(self.release.take());
        if let Some(h) = self.holder.take() {
            let _ = h.join();
        }
    }
}

/// The database becomes unreachable mid-epoch for longer than a lease, then comes
/// back: on PostgreSQL every connection is cut and new ones refused (a partition,
/// a restart, a failover); on SQLite another connection holds the write lock.
/// `/readyz` says so meanwhile, the epoch is neither failed nor lost, and it
/// completes and verifies after.
fn database_outage(bench: &Bench, backend: &Backend, epoch: u64) -> Outcome {
    let mut relay = None;
    let reached = match backend {
        Backend::Sqlite => Backend::Sqlite,
        Backend::Postgres(url) => {
            let upstream = url
                .split('@')
                .nth(1)
                .and_then(|rest| rest.split('/').next())
                .unwrap()
                .to_owned();
            let r = Relay::start(upstream.clone());
            let relayed = url.replace(&upstream, &r.addr);
            relay = Some(r);
            Backend::Postgres(relayed)
        }
    };
    let case = Case::new(bench, &case_name(backend, "db-outage"), reached, epoch);
    let server = case.start(
        &bench.keys,
        "serve.log",
        None,
        &[("--batch-delay-ms", "700")],
    );
    let body = snapshot_json(epoch, ACCOUNTS, 5);
    case.submit_new(server.addr(), &body);
    wait_for(
        server.addr(),
        epoch,
        Duration::from_secs(60),
        "a batch proven",
        |v| v["batches_done"].as_i64().unwrap() >= 1,
    );
    let lock = match &relay {
        Some(r) => {
            r.set_cut(true);
            None
        }
        None => Some(SqliteLock::take(&case.db)),
    };
    // Longer than the 1.5 s lease, several retry back-offs and SQLite's busy timeout.
    let outage = Instant::now();
    let mut unready = false;
    while outage.elapsed() < Duration::from_secs(6) {
        unready |= http(server.addr(), "GET", "/readyz", None, None).status == 503;
        std::thread::sleep(Duration::from_millis(300));
    }
    if let Some(r) = &relay {
        r.set_cut(false);
    }
    drop(lock);
    assert!(unready, "/readyz never noticed the outage");
    let status = after_recovery(&case, bench, server.addr(), epoch);
    let log = server.log();
    assert!(
        log.contains("proving loop step failed") || log.contains("heartbeat failed"),
        "the outage was never felt:\n{log}"
    );
    assert_ne!(status["state"], "failed");
    if relay.is_none() {
        assert!(log.contains("database is locked"), "{log}");
    }
    let during = match backend {
        Backend::Sqlite => {
            "another connection held the write lock: writes failed (`database is locked`), \
             `/readyz` 503, epoch never failed"
        }
        Backend::Postgres(_) => {
            "every connection cut, new ones refused: `/readyz` 503, proving steps failed, \
             epoch never failed"
        }
    };
    Outcome::checked(during)
}

/// A worker paused (SIGSTOP) past its lease while proving: another takes the
/// batch over; when the paused one resumes, its late proof neither replaces the
/// stored one nor fails anything, and the epoch verifies.
fn paused_worker(bench: &Bench, backend: &Backend, epoch: u64) -> Outcome {
    let case = Case::new(bench, &case_name(backend, "paused"), backend.clone(), epoch);
    let server = case.start(&bench.keys, "serve.log", None, &[("--workers", "0")]);
    // Slow enough that the pause lands mid-batch.
    let slow = [("--batch-delay-ms", "2000")];
    let mut a = case.start_worker(&bench.keys, "a.log", &slow, &[]);
    let body = snapshot_json(epoch, ACCOUNTS, 9);
    case.submit_new(server.addr(), &body);
    // a claims a batch, then is paused before its proof is done.
    wait_claimed(&a);
    signal(&a, "STOP");
    let b = case.start_worker(&bench.keys, "b.log", &slow, &[]);
    // b takes over a's batch once the lease runs out and proves the epoch's batches.
    let status = wait_for(
        server.addr(),
        epoch,
        Duration::from_secs(120),
        "b's takeover",
        |v| {
            v["batches"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["reclaims"].as_i64() == Some(1))
        },
    );
    assert!(status["state"] != "failed", "{status}");
    signal(&a, "CONT");
    after_recovery(&case, bench, server.addr(), epoch);
    // Give a's late completion time to land, then check nothing changed.
    std::thread::sleep(Duration::from_secs(3));
    let status = wait_verified(server.addr(), epoch, Duration::from_secs(10));
    for (_, stored) in batch_counts(&status) {
        assert_eq!(stored, 1, "{status}");
    }
    assert_eq!(case.proof_files(epoch), BATCHES);
    case.check_published(bench, server.addr(), epoch);
    drop(b);
    a.kill();
    Outcome::checked(
        "the batch taken over once the lease ran out (1 reclaim); the resumed worker's \
         late proof replaced nothing",
    )
}

/// SIGTERM with a batch in progress that cannot finish before the deadline: the
/// process gives the batch back unproven (not counting the attempt) and exits
/// within the grace period; the next server proves it at once, without waiting
/// for the lease to run out.
fn sigterm(bench: &Bench, backend: &Backend, epoch: u64) -> Outcome {
    let case = Case::new(
        bench,
        &case_name(backend, "sigterm"),
        backend.clone(),
        epoch,
    );
    // Each batch takes at least 60 s: it cannot finish in the 1 s grace period;
    // a lease of 10 minutes would hold the batch far longer than the test runs.
    let slow = [("--batch-delay-ms", "60000"), ("--lease-ms", "600000")];
    let mut first = case.start(&bench.keys, "first.log", None, &slow);
    let body = snapshot_json(epoch, ACCOUNTS, 3);
    case.submit_new(first.addr(), &body);
    wait_claimed(&first);
    let sent = Instant::now();
    signal(&first, "TERM");
    let signalled = wait_exit(&mut first, Duration::from_secs(20));
    let took = sent.elapsed();
    let log = first.log();
    assert_eq!(signalled, None, "exited by a signal, not by itself:\n{log}");
    assert!(
        took < Duration::from_secs(10),
        "took {took:?} to stop:\n{log}"
    );
    assert!(
        log.contains("shutdown deadline: batch given back unproven"),
        "{log}"
    );
    // The next server proves the epoch now (its batches are not leased for ten
    // minutes), and the given-back claim did not count.
    let second = case.start(&bench.keys, "second.log", None, &[]);
    let status = after_recovery(&case, bench, second.addr(), epoch);
    let claims: i64 = batch_counts(&status).iter().map(|c| c.0).sum();
    assert_eq!(claims, BATCHES as i64, "{status}");
    Outcome::Row {
        during: "exited by itself within 10 s, the batch given back unproven \
                 (lease of 10 min not waited for)"
            .to_owned(),
        after: format!(
            "{CHECKED}; {claims} claims for {BATCHES} batches (the given-back one not counted)"
        ),
    }
}

/// A worker holding another verifying key (its own development setup) beside a
/// server: it claims none of the server's epoch, which the server proves alone.
fn other_key(bench: &Bench, backend: &Backend, epoch: u64) -> Outcome {
    let other_keys = bench.root.path().join(format!("other-keys-{epoch}"));
    setup_keys(&other_keys);
    let case = Case::new(
        bench,
        &case_name(backend, "two-keys"),
        backend.clone(),
        epoch,
    );
    let stranger = case.start_worker(&other_keys, "stranger.log", &[], &[]);
    let server = case.start(
        &bench.keys,
        "serve.log",
        None,
        &[("--batch-delay-ms", "300")],
    );
    let body = snapshot_json(epoch, ACCOUNTS, 6);
    case.submit_new(server.addr(), &body);
    after_recovery(&case, bench, server.addr(), epoch);
    let log = stranger.log();
    assert!(log.contains("proving loop started"), "{log}");
    assert!(
        !log.contains("claimed batch"),
        "the other key claimed a batch:\n{log}"
    );
    assert!(
        !log.contains("building and verifying"),
        "the other key verified:\n{log}"
    );
    Outcome::checked("the other worker claimed no batch and no verification")
}

/// How far (seconds, signed, within ±12 h) the last time a process logged is from
/// the real time now: tracing prints each line's wall-clock time first
/// (`2026-12-03T21:58:10.123456Z`).
fn logged_skew(log: &str) -> i64 {
    let line = log
        .lines()
        .rev()
        .find(|l| l.len() > 19 && l.as_bytes()[10] == b'T')
        .unwrap();
    let hms: Vec<i64> = line[11..19]
        .split(':')
        .map(|p| p.parse().unwrap())
        .collect();
    let logged = hms[0] * 3600 + hms[1] * 60 + hms[2];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        % 86_400;
    (logged - now + 86_400 + 43_200) % 86_400 - 43_200
}

/// libfaketime's preload library (Debian's `faketime` package; `scripts/test`
/// installs it).
fn faketime_library() -> PathBuf {
    for dir in [
        "/usr/lib/x86_64-linux-gnu/faketime",
        "/usr/lib/aarch64-linux-gnu/faketime",
        "/usr/lib/faketime",
    ] {
        let lib = Path::new(dir).join("libfaketimeMT.so.1");
        if lib.is_file() {
            return lib;
        }
    }
    panic!("libfaketime is not installed (Debian package faketime; scripts/test installs it)");
}

/// Two workers whose own clocks are wrong by a minute, one behind (holding a
/// batch for seconds) and one ahead: leases are the database's time, so the one
/// ahead never takes the live lease of the one behind (with leases on the
/// processes' clocks it would, at once: the lease the one behind writes ends 58 s
/// in the past by the other's clock).
fn skewed_clocks(bench: &Bench, backend: &Backend, epoch: u64) -> Outcome {
    if matches!(backend, Backend::Sqlite) {
        return Outcome::NotApplicable(
            "processes sharing a SQLite file run on one host and read its one clock \
             (SQLite's locking does not hold over network file systems); only a faked \
             clock (libfaketime) differs, and it fakes SQLite's `julianday('now')` with it",
        );
    }
    let lib = faketime_library();
    let case = Case::new(bench, &case_name(backend, "clocks"), backend.clone(), epoch);
    let server = case.start(&bench.keys, "serve.log", None, &[("--workers", "0")]);
    let worker = |skew: &str, delay: &str, log: &str| {
        let env = [
            ("LD_PRELOAD", lib.to_str().unwrap()),
            ("FAKETIME", skew),
            // Timers keep the real monotonic clock; only the wall clock is wrong.
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ];
        case.start_worker(&bench.keys, log, &[("--batch-delay-ms", delay)], &env)
    };
    let behind = worker("-60s", "5000", "behind.log");
    let body = snapshot_json(epoch, ACCOUNTS, 8);
    case.submit_new(server.addr(), &body);
    wait_claimed(&behind);
    let ahead = worker("+60s", "0", "ahead.log");
    let status = wait_verified(server.addr(), epoch, Duration::from_secs(120));
    let batches = status["batches"].as_array().unwrap();
    let held = &batches[0];
    assert_eq!(held["attempts"], 1, "the live lease was taken: {status}");
    assert_eq!(held["reclaims"], 0, "{status}");
    assert!(
        held["worker"].as_str().unwrap().starts_with("worker-"),
        "{status}"
    );
    assert!(
        ahead.log().contains("claimed batch"),
        "the worker ahead did no work:\n{}",
        ahead.log()
    );
    // The clocks really were wrong: each process logs its own time.
    assert!(logged_skew(&behind.log()) < -50, "{}", behind.log());
    assert!(logged_skew(&ahead.log()) > 50, "{}", ahead.log());
    after_recovery(&case, bench, server.addr(), epoch);
    drop((behind, ahead));
    Outcome::checked(
        "the batch held by the worker behind kept its one claim (no reclaim); the worker \
         ahead proved the others",
    )
}

/// A halo2 epoch (`?backend=halo2`) killed at `point`, restarted and resubmitted;
/// checked with `backstop verify` from the API's files.
fn halo2_killed(bench: &Bench, backend: &Backend, epoch: u64, point: &str) -> Outcome {
    let name = format!("halo2-{}", point.replace('@', "-"));
    let case = Case::new(bench, &case_name(backend, &name), backend.clone(), epoch).halo2(bench);
    let (seen, status) = kill_at(bench, &case, epoch, point);
    assert_eq!(status["backend"], "halo2-pasta", "{status}");
    Outcome::Row {
        during: seen,
        after: format!("{CHECKED}; checked with `backstop verify`"),
    }
}

fn halo2_mid_batches(bench: &Bench, backend: &Backend, epoch: u64) -> Outcome {
    halo2_killed(bench, backend, epoch, "task.after_store")
}

fn halo2_mid_inclusion(bench: &Bench, backend: &Backend, epoch: u64) -> Outcome {
    halo2_killed(bench, backend, epoch, &armed("verify.inclusion_put"))
}
