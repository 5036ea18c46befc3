//! Named crash points for fault-injection tests (`docs/SERVICE.md`, "Faults").
//!
//! Built with the `faults` feature (the test builds of `backstop-cli` turn it on;
//! release builds do not), [`point`] kills this process with SIGKILL when the
//! `BACKSTOP_FAULT` variable names the point: `name` at its first pass, `name@n`
//! at its n-th. The kill is real (`kill -9` of the process): no destructor, flush
//! or lease release runs, exactly as with an OOM kill or a power cut of the
//! process. Without the feature [`point`] is empty and compiles away.

/// Every crash point, in the order an epoch passes them.
pub const POINTS: &[&str] = &[
    "submit.after_snapshot",
    "submit.after_insert",
    "task.after_claim",
    "task.after_prove",
    "task.after_store",
    "task.after_complete",
    "verify.after_claim",
    "verify.before_publish",
    "verify.after_publish",
    "verify.after_check",
    "verify.inclusion_put",
    "verify.after_inclusion",
    "verify.after_mark",
    "inputs.after_delete",
];

/// A crash point: see the module documentation.
#[cfg(feature = "faults")]
pub fn point(name: &str) {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};
    static SEEN: Mutex<Vec<(String, u64)>> = Mutex::new(Vec::new());
    static ARMED: AtomicBool = AtomicBool::new(true);
    debug_assert!(POINTS.contains(&name), "unlisted fault point {name}");
    if !ARMED.load(Ordering::Relaxed) {
        return;
    }
    let Ok(fault) = std::env::var("BACKSTOP_FAULT") else {
        ARMED.store(false, Ordering::Relaxed);
        return;
    };
    let (target, nth) = match fault.split_once('@') {
        Some((t, n)) => (t.to_owned(), n.parse::<u64>().unwrap_or(1)),
        None => (fault, 1),
    };
    if target != name {
        return;
    }
    let hits = {
        let Ok(mut seen) = SEEN.lock() else { return };
        match seen.iter_mut().find(|(n, _)| n == name) {
            Some((_, count)) => {
                *count += 1;
                *count
            }
            None => {
                seen.push((name.to_owned(), 1));
                1
            }
        }
    };
    if hits != nth {
        return;
    }
    eprintln!("fault point {name}: killing this process (SIGKILL)");
    let pid = std::process::id().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-9", &pid])
        .status();
    // The signal is on its way; never go past the point.
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

/// A crash point: see the module documentation (compiled out: no `faults`).
#[cfg(not(feature = "faults"))]
#[inline(always)]
pub fn point(_name: &str) {}
