//! The machine a measurement ran on, its load, and the clocks and peak memory of a
//! process (read from `/proc`, Linux only; elsewhere the figures are absent).

use serde::{Deserialize, Serialize};
use std::path::Path;
use std::process::Command;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// What the report says about where it was measured.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Machine {
    /// `model name` from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// Logical CPUs this process may use.
    pub cores: usize,
    /// `MemTotal` from `/proc/meminfo`, in GiB.
    pub memory_gib: f64,
    /// `/proc/loadavg` (1, 5, 15 minutes) when the run started.
    pub load_start: String,
    /// `/proc/loadavg` when the run ended.
    pub load_end: String,
    /// The kernel (`/proc/sys/kernel/osrelease`).
    pub kernel: String,
    /// `rustc --version`.
    pub rustc: String,
    /// The git commit of the workspace (with `-dirty` if it has changes).
    pub git_commit: String,
    /// UTC start of the run, `YYYY-MM-DDTHH:MM:SSZ`.
    pub date_utc: String,
    /// Rayon's worker threads.
    pub rayon_threads: usize,
    /// Whether this build multiplies field elements with `ark-ff/asm`: the feature
    /// is on in the workspace, and it takes effect only where BMI2 and ADX are
    /// enabled at compile time (`.cargo/config.toml`). Absent in older reports.
    #[serde(default)]
    pub field_asm: bool,
}

/// Whether `ark-ff`'s assembly multiplication is compiled in (see `Machine::field_asm`).
pub const FIELD_ASM: bool = cfg!(all(
    target_arch = "x86_64",
    target_feature = "bmi2",
    target_feature = "adx"
));

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// `/proc/loadavg`'s three averages.
pub fn load_average() -> String {
    read("/proc/loadavg")
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn command_line(dir: &Path, program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The workspace root (the report's git commit and default output directory).
pub fn workspace_root() -> &'static Path {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here)
}

impl Machine {
    /// Describes this machine now.
    pub fn describe() -> Self {
        let cpuinfo = read("/proc/cpuinfo");
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name")
                    .and_then(|r| r.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let memory_gib = read("/proc/meminfo")
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kib| kib / (1024.0 * 1024.0));
        let root = workspace_root();
        let commit = command_line(root, "git", &["rev-parse", "--short=12", "HEAD"])
            .unwrap_or_else(|| "unknown".into());
        let dirty = command_line(
            root,
            "git",
            &["status", "--porcelain", "--untracked-files=no"],
        )
        .is_some_and(|s| !s.is_empty());
        Self {
            cpu_model,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_gib,
            load_start: load_average(),
            load_end: String::new(),
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            rustc: command_line(root, "rustc", &["--version"]).unwrap_or_else(|| "unknown".into()),
            git_commit: if dirty {
                format!("{commit}-dirty")
            } else {
                commit
            },
            date_utc: utc_now(),
            rayon_threads: rayon::current_num_threads(),
            field_asm: FIELD_ASM,
        }
    }
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// This process's peak resident set (`VmHWM`), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    read("/proc/self/status")
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kib| kib / 1024.0)
}

/// CPU seconds (user + system) this process has used so far: `/proc/self/stat`
/// in clock ticks of 1/100 s (Linux's fixed `USER_HZ`).
pub fn cpu_seconds() -> Option<f64> {
    let stat = read("/proc/self/stat");
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the command: state is field 3, utime 14 and stime 15 (1-based).
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Wall and CPU seconds of one run of `f`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Default)]
pub struct Clocks {
    /// Wall-clock seconds.
    pub wall_s: f64,
    /// CPU seconds of the whole process over the same interval.
    pub cpu_s: f64,
}

/// Runs `f` and measures it.
pub fn clocked<T>(f: impl FnOnce() -> T) -> (T, Clocks) {
    let cpu0 = cpu_seconds().unwrap_or(0.0);
    let t = Instant::now();
    let out = f();
    let wall_s = t.elapsed().as_secs_f64();
    let cpu_s = cpu_seconds().unwrap_or(0.0) - cpu0;
    (out, Clocks { wall_s, cpu_s })
}

/// Wall seconds of `f`.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let out = f();
    (out, t.elapsed().as_secs_f64())
}

/// The median of `values` (0 for none).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if !n.is_multiple_of(2) => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}
