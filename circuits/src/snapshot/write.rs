//! Canonical writers: the directory form and the JSON form.

use super::{
    ACCOUNTS_CSV, ACCOUNTS_HEADER, ACCOUNTS_OWNER_HEADER, BALANCES_CSV, BALANCES_HEADER,
    EPOCH_TOML, POSITIONS_CSV, POSITIONS_HEADER,
};
use crate::decimal::format_scaled;
use crate::model::Snapshot;
use ethnum::I256;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// An amount in minimal units, formatted exactly with trailing zeros removed.
fn amount(value: impl Into<I256>, decimals: u32) -> String {
    format_scaled(value.into(), decimals, 0)
}

/// A string literal valid in both TOML (basic string) and JSON.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The canonical `epoch.toml`. An epoch above `i64::MAX` (not a TOML integer) is
/// written as a string of digits.
pub(crate) fn epoch_toml(s: &Snapshot) -> String {
    let p = s.params();
    let q = p.quote_decimals();
    let epoch = if i64::try_from(p.epoch()).is_ok() {
        p.epoch().to_string()
    } else {
        quoted(&p.epoch().to_string())
    };
    let mut out = String::new();
    let _ = writeln!(out, "epoch = {epoch}");
    let _ = writeln!(out, "quote_decimals = {q}");
    let _ = writeln!(out, "reserves = {}", quoted(&amount(p.reserves(), q)));
    let _ = writeln!(
        out,
        "insurance_fund = {}",
        quoted(&amount(p.insurance_fund(), q))
    );
    for m in p.markets() {
        let _ = writeln!(out, "\n[[markets]]");
        let _ = writeln!(out, "symbol = {}", quoted(m.symbol()));
        let price = amount(m.price().get(), m.price_decimals());
        let _ = writeln!(out, "price = {}", quoted(&price));
        let _ = writeln!(out, "price_decimals = {}", m.price_decimals());
        let _ = writeln!(out, "size_decimals = {}", m.size_decimals());
        let _ = writeln!(
            out,
            "maintenance_margin_bps = {}",
            m.maintenance_margin_bps().get()
        );
        if !m.tiers().is_empty() {
            let _ = writeln!(out, "tiers = [{}]", tiers_inline(m.tiers(), q, " = "));
        }
        if m.declares_liquidation_fee() {
            let fee = m.liquidation_fee_bps().get();
            let _ = writeln!(out, "liquidation_fee_bps = {fee}");
        }
    }
    for a in p.assets() {
        let _ = writeln!(out, "\n[[assets]]");
        let _ = writeln!(out, "symbol = {}", quoted(a.symbol()));
        let price = amount(a.price().get(), a.price_decimals());
        let _ = writeln!(out, "price = {}", quoted(&price));
        let _ = writeln!(out, "price_decimals = {}", a.price_decimals());
        let _ = writeln!(out, "amount_decimals = {}", a.amount_decimals());
        let _ = writeln!(
            out,
            "collateral_ratio_bps = {}",
            a.collateral_ratio_bps().get()
        );
        let reserves = amount(a.reserves(), a.amount_decimals());
        let _ = writeln!(out, "reserves = {}", quoted(&reserves));
    }
    out
}

/// A market's brackets as inline tables (TOML, `sep` " = ") or objects (JSON, ": ").
fn tiers_inline(tiers: &[crate::model::Tier], quote_decimals: u32, sep: &str) -> String {
    let key = |k: &str| {
        if sep == ": " { quoted(k) } else { k.to_owned() }
    };
    tiers
        .iter()
        .map(|t| {
            format!(
                "{{ {}{sep}{}, {}{sep}{} }}",
                key("notional_floor"),
                quoted(&amount(t.notional_floor(), quote_decimals)),
                key("maintenance_margin_bps"),
                t.maintenance_margin_bps().get()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The canonical `accounts.csv`: accounts in id order, with the `owner` column
/// exactly when some account has an owner commitment.
pub(crate) fn accounts_csv(s: &Snapshot) -> String {
    let q = s.params().quote_decimals();
    let owners = s.accounts().iter().any(|a| a.owner().is_some());
    let mut out = format!(
        "{}\n",
        if owners {
            ACCOUNTS_OWNER_HEADER
        } else {
            ACCOUNTS_HEADER
        }
    );
    for a in s.accounts() {
        let _ = write!(out, "{},{}", a.id(), amount(a.quote_balance().get(), q));
        if owners {
            out.push(',');
            if let Some(o) = a.owner() {
                let _ = write!(out, "{o}");
            }
        }
        out.push('\n');
    }
    out
}

/// The canonical `positions.csv`: non-zero sizes only, by account id then market
/// declaration order.
pub(crate) fn positions_csv(s: &Snapshot) -> String {
    let mut out = format!("{POSITIONS_HEADER}\n");
    for a in s.accounts() {
        for (m, size) in s.params().markets().iter().zip(a.sizes()) {
            if size.get() != 0 {
                let size = amount(size.get(), m.size_decimals());
                let _ = writeln!(out, "{},{},{size}", a.id(), m.symbol());
            }
        }
    }
    out
}

/// The canonical `balances.csv`: non-zero amounts only, by account id then asset
/// declaration order.
pub(crate) fn balances_csv(s: &Snapshot) -> String {
    let mut out = format!("{BALANCES_HEADER}\n");
    for a in s.accounts() {
        for (c, v) in s.params().assets().iter().zip(a.amounts()) {
            if v.get() != 0 {
                let v = amount(v.get(), c.amount_decimals());
                let _ = writeln!(out, "{},{},{v}", a.id(), c.symbol());
            }
        }
    }
    out
}

/// The snapshot as a pretty-printed JSON document, in the format read by
/// [`super::parse_json`] (account ids as strings, amounts as exact decimal strings,
/// positions only for non-zero sizes). `parse_json(to_json(s))` returns `s`.
pub fn to_json(snapshot: &Snapshot) -> String {
    let p = snapshot.params();
    let q = p.quote_decimals();
    let mut out = String::from("{\n");
    let _ = writeln!(out, "  \"epoch\": {},", p.epoch());
    let _ = writeln!(out, "  \"quote_decimals\": {q},");
    let _ = writeln!(out, "  \"reserves\": {},", quoted(&amount(p.reserves(), q)));
    let _ = writeln!(
        out,
        "  \"insurance_fund\": {},",
        quoted(&amount(p.insurance_fund(), q))
    );
    out.push_str("  \"markets\": [");
    for (i, m) in p.markets().iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        let price = amount(m.price().get(), m.price_decimals());
        let _ = write!(
            out,
            "    {{\n      \"symbol\": {},\n      \"price\": {},\n      \"price_decimals\": {},\n      \
             \"size_decimals\": {},\n      \"maintenance_margin_bps\": {}",
            quoted(m.symbol()),
            quoted(&price),
            m.price_decimals(),
            m.size_decimals(),
            m.maintenance_margin_bps().get()
        );
        if !m.tiers().is_empty() {
            let _ = write!(
                out,
                ",\n      \"tiers\": [{}]",
                tiers_inline(m.tiers(), q, ": ")
            );
        }
        if m.declares_liquidation_fee() {
            let fee = m.liquidation_fee_bps().get();
            let _ = write!(out, ",\n      \"liquidation_fee_bps\": {fee}");
        }
        out.push_str("\n    }");
    }
    out.push_str("\n  ],\n");
    if !p.assets().is_empty() {
        out.push_str("  \"assets\": [");
        for (i, a) in p.assets().iter().enumerate() {
            out.push_str(if i == 0 { "\n" } else { ",\n" });
            let _ = write!(
                out,
                "    {{\n      \"symbol\": {},\n      \"price\": {},\n      \"price_decimals\": {},\n      \
                 \"amount_decimals\": {},\n      \"collateral_ratio_bps\": {},\n      \"reserves\": {}\n    }}",
                quoted(a.symbol()),
                quoted(&amount(a.price().get(), a.price_decimals())),
                a.price_decimals(),
                a.amount_decimals(),
                a.collateral_ratio_bps().get(),
                quoted(&amount(a.reserves(), a.amount_decimals()))
            );
        }
        out.push_str("\n  ],\n");
    }
    out.push_str("  \"accounts\": [");
    for (i, a) in snapshot.accounts().iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        let _ = write!(
            out,
            "    {{\n      \"account_id\": \"{}\",\n      \"quote_balance\": {},\n",
            a.id(),
            quoted(&amount(a.quote_balance().get(), q))
        );
        if let Some(o) = a.owner() {
            let _ = writeln!(out, "      \"owner\": \"{o}\",");
        }
        if !p.assets().is_empty() {
            let held: Vec<String> = p
                .assets()
                .iter()
                .zip(a.amounts())
                .filter(|(_, v)| v.get() != 0)
                .map(|(c, v)| {
                    format!(
                        "{{ \"asset\": {}, \"amount\": {} }}",
                        quoted(c.symbol()),
                        quoted(&amount(v.get(), c.amount_decimals()))
                    )
                })
                .collect();
            let _ = writeln!(out, "      \"balances\": [{}],", held.join(", "));
        }
        out.push_str("      \"positions\": [");
        let mut first = true;
        for (m, size) in p.markets().iter().zip(a.sizes()) {
            if size.get() == 0 {
                continue;
            }
            out.push_str(if first { "\n" } else { ",\n" });
            first = false;
            let _ = write!(
                out,
                "        {{ \"market\": {}, \"size\": {} }}",
                quoted(m.symbol()),
                quoted(&amount(size.get(), m.size_decimals()))
            );
        }
        out.push_str(if first {
            "]\n    }"
        } else {
            "\n      ]\n    }"
        });
    }
    out.push_str("\n  ]\n}\n");
    out
}

/// The names a snapshot directory may contain.
const SNAPSHOT_FILES: [&str; 4] = [EPOCH_TOML, ACCOUNTS_CSV, POSITIONS_CSV, BALANCES_CSV];

/// Writes the snapshot canonically into `dir` (`epoch.toml`, `accounts.csv`,
/// `positions.csv`, and `balances.csv` when the snapshot declares assets; amounts exact with trailing zeros removed, accounts in id
/// order, positions only for non-zero sizes, by account then market declaration
/// order).
///
/// The files are written and synced in a hidden temporary sibling directory
/// (`.NAME.tmp-…`) which is then renamed to `dir`, so an interrupted write never
/// leaves a complete-looking snapshot at `dir`. An existing `dir` is replaced only
/// if it is a directory holding nothing but snapshot files (it is first renamed to
/// a hidden `.NAME.old-…` sibling, then removed); anything else is refused with
/// [`io::ErrorKind::AlreadyExists`].
pub fn write_dir(snapshot: &Snapshot, dir: &Path) -> io::Result<()> {
    let existed = check_replaceable(dir)?;
    let name = dir
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "snapshot path has no name"))?
        .to_string_lossy()
        .into_owned();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)?;
    let tmp = parent.join(format!(".{name}.tmp-{}", unique_suffix()));
    std::fs::create_dir(&tmp)?;
    let written = write_files(snapshot, &tmp).and_then(|()| {
        if existed {
            let old = parent.join(format!(".{name}.old-{}", unique_suffix()));
            std::fs::rename(dir, &old)?;
            if let Err(e) = std::fs::rename(&tmp, dir) {
                let _ = std::fs::rename(&old, dir);
                return Err(e);
            }
            std::fs::remove_dir_all(&old)
        } else {
            std::fs::rename(&tmp, dir)
        }
    });
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    sync_dir(&parent)
}

/// `Ok(true)` if `dir` exists and may be replaced, `Ok(false)` if it does not exist.
fn check_replaceable(dir: &Path) -> io::Result<bool> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    let refuse = |what: String| {
        io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} {what}; refusing to replace it", dir.display()),
        )
    };
    if !meta.is_dir() {
        return Err(refuse("exists and is not a directory".into()));
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let is_snapshot_file = name.to_str().is_some_and(|n| SNAPSHOT_FILES.contains(&n))
            && entry.file_type()?.is_file();
        if !is_snapshot_file {
            return Err(refuse(format!(
                "contains {:?}, which is not a snapshot file",
                name
            )));
        }
    }
    Ok(true)
}

fn write_files(snapshot: &Snapshot, dir: &Path) -> io::Result<()> {
    let mut files = vec![
        (EPOCH_TOML, epoch_toml(snapshot)),
        (ACCOUNTS_CSV, accounts_csv(snapshot)),
        (POSITIONS_CSV, positions_csv(snapshot)),
    ];
    if !snapshot.params().assets().is_empty() {
        files.push((BALANCES_CSV, balances_csv(snapshot)));
    }
    for (name, contents) in files {
        let mut file = std::fs::File::create(dir.join(name))?;
        io::Write::write_all(&mut file, contents.as_bytes())?;
        file.sync_all()?;
    }
    sync_dir(dir)
}

/// Makes renames and new entries in `dir` durable (a no-op where directories cannot
/// be opened, as on Windows).
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
