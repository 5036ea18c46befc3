//! The auditor's report on an epoch: everything verifiable is verified
//! ([`crate::verify_epoch_dir`]), and the [`Report`] says in plain words what was
//! proven, what was revealed, which checks passed (with counts), and what the
//! proofs do not cover. It renders to JSON, Markdown or plain text.

use crate::artifacts::{PROOFS_DIR, VERIFYING_KEY_FILE};
use crate::checks::Verified;
use crate::epoch::verify_epoch;
use crate::error::VerifyError;
use crate::files::{TrustedGroth16Key, read_statement};
use backstop_circuits::decimal::parse_unsigned_scaled;
use backstop_circuits::descriptor::VenueAddress;
use backstop_circuits::model::OwnerBinding;
use backstop_circuits::statement::{Backend, EpochStatement, PublicOutputs};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The check holds.
    Passed,
    /// The check fails: the epoch does not verify.
    Failed,
    /// Not reached because an earlier check failed.
    NotReached,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Passed => "PASSED",
            Status::Failed => "FAILED",
            Status::NotReached => "not reached",
        }
    }
}

/// One check of the audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// Its outcome.
    pub status: Status,
    /// Details, with counts.
    pub detail: String,
}

/// What an external reserves attestation claims, and whether its reserves figure
/// matches the statement's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReservesAttestation {
    /// The file.
    pub file: String,
    /// Its top-level fields, as given (values printed as JSON).
    pub claims: Vec<(String, String)>,
    /// Its `reserves` field.
    pub reserves: Option<String>,
    /// Whether `reserves` equals the statement's reserves exactly.
    pub matches_statement: bool,
    /// Why it does not match, if it does not.
    pub problem: Option<String>,
}

/// The audit report of one epoch directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The epoch directory.
    pub epoch_dir: String,
    /// The venue the statement names (and its proofs bind).
    pub venue: Option<String>,
    /// Whether the venue was pinned by the auditor (`--venue-key`).
    pub trusted_venue: bool,
    /// Whether every proof and the statement verified.
    pub verified: bool,
    /// The first failure, if any.
    pub failure: Option<String>,
    /// The epoch id, if the statement could be read (a decimal string in JSON).
    #[serde(serialize_with = "backstop_circuits::json::opt_u64_string::serialize")]
    pub epoch: Option<u64>,
    /// Which accounts the venue declares bound to an owner commitment (`none`,
    /// `partial`, `all`), if the statement could be read.
    pub owner_binding: Option<String>,
    /// The proof system the statement names.
    pub backend: Option<Backend>,
    /// The circuit shape id.
    pub shape: Option<String>,
    /// `K`.
    pub batch_count: Option<u64>,
    /// `B`.
    pub batch_size: Option<u64>,
    /// The published outputs.
    pub outputs: Option<PublicOutputs>,
    /// The published accounts commitment.
    pub accounts_commitment: Option<String>,
    /// Whether the verifying key is trusted: given by the auditor (Groth16) or
    /// derived from the circuit shape by the audit itself (halo2).
    pub trusted_key: bool,
    /// The verifying key hash named by the statement.
    pub verifying_key_hash: Option<String>,
    /// What the proofs establish (empty unless verified).
    pub proven: Vec<String>,
    /// What the published artifacts reveal.
    pub revealed: Vec<String>,
    /// The checks, in order.
    pub checks: Vec<Check>,
    /// What the proofs do not cover.
    pub not_covered: Vec<String>,
    /// The reserves attestation, if one was given.
    pub reserves_attestation: Option<ReservesAttestation>,
    /// The default waterfall (`docs/SPEC.md` §2.4) as a table, if the statement
    /// publishes one and the epoch verified.
    pub waterfall: Option<WaterfallTable>,
}

/// The default waterfall of a verified epoch, in the order it runs (`docs/SPEC.md`
/// §2.4): amounts as published, exact decimals in quote units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaterfallTable {
    /// The insurance fund before the epoch.
    pub fund_before: String,
    /// `F`: the liquidation fees paid into the fund.
    pub fees_in: String,
    /// What the fund paid towards the bad debt `D`.
    pub draw: String,
    /// The fund after the draw.
    pub fund_after: String,
    /// The bad debt left to socialize.
    pub deficit: String,
    /// `h`, parts per billion of every account's remaining equity.
    pub haircut_ppb: u32,
    /// Even `h = 10^9` leaves part of the deficit.
    pub shortfall: bool,
}

impl WaterfallTable {
    /// The table of a statement with the waterfall.
    pub fn of(statement: &EpochStatement) -> Option<Self> {
        let f = statement.file();
        Some(Self {
            fund_before: f.insurance_fund.clone(),
            fees_in: f.liquidation_fees.clone()?,
            draw: f.insurance_draw.clone()?,
            fund_after: f.insurance_fund_after.clone()?,
            deficit: f.deficit.clone()?,
            haircut_ppb: f.haircut_ppb?,
            shortfall: f.shortfall?,
        })
    }

    /// `(step, value)` rows, for the text and markdown tables.
    fn rows(&self) -> [(&'static str, String); 7] {
        [
            ("insurance fund before", self.fund_before.clone()),
            ("+ liquidation fees", self.fees_in.clone()),
            ("- drawn against bad debt", self.draw.clone()),
            ("= insurance fund after", self.fund_after.clone()),
            ("deficit (socialized)", self.deficit.clone()),
            (
                "haircut rate",
                format!(
                    "{} ppb ({})",
                    self.haircut_ppb,
                    percent_of_ppb(self.haircut_ppb)
                ),
            ),
            ("shortfall", self.shortfall.to_string()),
        ]
    }
}

/// `h` ppb as an exact percentage (`10^7` ppb per percent; no rounding).
fn percent_of_ppb(ppb: u32) -> String {
    let whole = ppb / 10_000_000;
    let frac = ppb % 10_000_000;
    if frac == 0 {
        return format!("{whole}%");
    }
    let digits = format!("{frac:07}");
    format!("{whole}.{}%", digits.trim_end_matches('0'))
}

/// The report's output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object.
    Json,
    /// Markdown.
    Markdown,
    /// Plain text.
    Text,
}

impl Format {
    /// Every format, by its command-line name.
    pub const NAMES: [(&'static str, Format); 3] = [
        ("json", Format::Json),
        ("markdown", Format::Markdown),
        ("text", Format::Text),
    ];
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(name: &str) -> Result<Self, String> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
            .ok_or_else(|| format!("unknown report format {name:?}: json, markdown or text"))
    }
}

impl Report {
    /// Whether the auditor should accept: everything verified and the reserves
    /// attestation, if given, matches.
    pub fn ok(&self) -> bool {
        self.verified
            && self
                .reserves_attestation
                .as_ref()
                .is_none_or(|r| r.matches_statement)
    }

    /// Renders the report.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Json => self.to_json(),
            Format::Markdown => self.to_markdown(),
            Format::Text => self.to_text(),
        }
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        // Serializing plain strings, numbers and booleans cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    fn verdict(&self) -> String {
        match (&self.failure, self.ok()) {
            (Some(f), _) => format!("FAILED: {f}"),
            (None, true) => "VERIFIED".to_owned(),
            (None, false) => {
                "VERIFIED, but the reserves attestation does not match the statement".to_owned()
            }
        }
    }

    /// Markdown, with one section per part.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let epoch = self.epoch.map_or_else(|| "?".to_owned(), |e| e.to_string());
        let _ = writeln!(s, "# Backstop audit: epoch {epoch}\n");
        let _ = writeln!(s, "**Result: {}**\n", self.verdict());
        let _ = writeln!(s, "- Epoch directory: `{}`", self.epoch_dir);
        if let (Some(shape), Some(k), Some(b)) = (&self.shape, self.batch_count, self.batch_size) {
            let system = self.backend.map_or_else(String::new, |x| format!(" ({x})"));
            let _ = writeln!(
                s,
                "- Circuit: `{shape}`{system}, {k} batches of {b} accounts"
            );
        }
        if let Some(c) = &self.accounts_commitment {
            let _ = writeln!(s, "- Accounts commitment: `{c}`");
        }
        if let Some(o) = &self.owner_binding {
            let _ = writeln!(s, "- Owner binding: {o}");
        }
        if let Some(h) = &self.verifying_key_hash {
            let who = if self.backend == Some(Backend::Halo2Pasta) {
                "derived from the circuit shape by this audit"
            } else if self.trusted_key {
                "given by the auditor"
            } else {
                "the epoch directory's own copy"
            };
            let _ = writeln!(s, "- Verifying key: `{h}` ({who})");
        }
        if let Some(o) = &self.outputs {
            let _ = writeln!(
                s,
                "- Published outputs: `{}`",
                serde_json::to_string(o).unwrap_or_default()
            );
        }
        let section = |s: &mut String, title: &str, items: &[String]| {
            let _ = writeln!(s, "\n## {title}\n");
            if items.is_empty() {
                let _ = writeln!(s, "- (nothing: the epoch did not verify)");
            }
            for i in items {
                let _ = writeln!(s, "- {i}");
            }
        };
        section(&mut s, "What was proven", &self.proven);
        section(&mut s, "What was revealed", &self.revealed);
        let _ = writeln!(s, "\n## Checks\n");
        let _ = writeln!(s, "| check | result | details |");
        let _ = writeln!(s, "| --- | --- | --- |");
        for c in &self.checks {
            let _ = writeln!(
                s,
                "| {} | {} | {} |",
                c.name,
                c.status.word(),
                c.detail.replace('|', "\\|")
            );
        }
        if let Some(w) = &self.waterfall {
            let _ = writeln!(s, "\n## Default waterfall (proven)\n");
            let _ = writeln!(s, "| step | value |");
            let _ = writeln!(s, "| --- | --- |");
            for (step, value) in w.rows() {
                let _ = writeln!(s, "| {step} | {value} |");
            }
        }
        section(&mut s, "What the proofs do not cover", &self.not_covered);
        if let Some(r) = &self.reserves_attestation {
            let _ = writeln!(s, "\n## Reserves attestation (`{}`)\n", r.file);
            let _ = writeln!(
                s,
                "Backstop does not verify this document; it only checks that its reserves figure equals the statement's.\n"
            );
            for (k, v) in &r.claims {
                let _ = writeln!(s, "- {k}: {v}");
            }
            let _ = writeln!(s, "\nReserves figure: {}", reserves_verdict(r));
        }
        s
    }

    /// Plain text for a terminal.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let epoch = self.epoch.map_or_else(|| "?".to_owned(), |e| e.to_string());
        let _ = writeln!(s, "Backstop audit of epoch {epoch} ({})", self.epoch_dir);
        let _ = writeln!(s, "Result: {}", self.verdict());
        if let (Some(shape), Some(k), Some(b)) = (&self.shape, self.batch_count, self.batch_size) {
            let system = self.backend.map_or_else(String::new, |x| format!(" ({x})"));
            let _ = writeln!(s, "Circuit: {shape}{system}, {k} batches of {b} accounts");
        }
        if let Some(c) = &self.accounts_commitment {
            let _ = writeln!(s, "Accounts commitment: {c}");
        }
        if let Some(o) = &self.owner_binding {
            let _ = writeln!(s, "Owner binding: {o}");
        }
        if let Some(o) = &self.outputs {
            let _ = writeln!(
                s,
                "Published outputs: {}",
                serde_json::to_string(o).unwrap_or_default()
            );
        }
        let list = |s: &mut String, title: &str, items: &[String]| {
            let _ = writeln!(s, "\n{title}:");
            if items.is_empty() {
                let _ = writeln!(s, "  (nothing: the epoch did not verify)");
            }
            for i in items {
                let _ = writeln!(s, "  - {i}");
            }
        };
        list(&mut s, "What was proven", &self.proven);
        list(&mut s, "What was revealed", &self.revealed);
        let _ = writeln!(s, "\nChecks:");
        for c in &self.checks {
            let _ = writeln!(s, "  [{}] {}: {}", c.status.word(), c.name, c.detail);
        }
        if let Some(w) = &self.waterfall {
            let _ = writeln!(s, "\nDefault waterfall (proven):");
            for (step, value) in w.rows() {
                let _ = writeln!(s, "  {step:<26} {value}");
            }
        }
        list(&mut s, "What the proofs do not cover", &self.not_covered);
        if let Some(r) = &self.reserves_attestation {
            let _ = writeln!(
                s,
                "\nReserves attestation {} (NOT verified by Backstop beyond its reserves figure):",
                r.file
            );
            for (k, v) in &r.claims {
                let _ = writeln!(s, "  {k}: {v}");
            }
            let _ = writeln!(s, "  reserves figure: {}", reserves_verdict(r));
        }
        s
    }
}

fn reserves_verdict(r: &ReservesAttestation) -> String {
    match (&r.problem, r.matches_statement) {
        (_, true) => "matches the statement's reserves exactly".to_owned(),
        (Some(p), false) => format!("MISMATCH: {p}"),
        (None, false) => "MISMATCH".to_owned(),
    }
}

/// Reads a reserves attestation: a JSON object whose `reserves` field (an exact
/// decimal string in quote units) is compared with the statement's; every other
/// field is shown as it is.
pub fn read_reserves_attestation(
    path: &Path,
    statement: Option<&EpochStatement>,
) -> ReservesAttestation {
    let file = path.display().to_string();
    let failed = |problem: String| ReservesAttestation {
        file: file.clone(),
        claims: Vec::new(),
        reserves: None,
        matches_statement: false,
        problem: Some(problem),
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return failed(format!("cannot read: {e}")),
    };
    let object = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(o)) => o,
        Ok(_) => return failed("not a JSON object".to_owned()),
        Err(e) => return failed(format!("not JSON: {e}")),
    };
    let claims = object
        .iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect();
    let reserves = object
        .get("reserves")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let problem = match (&reserves, statement) {
        (None, _) => Some("no \"reserves\" string field (quote units, exact decimal)".to_owned()),
        (Some(_), None) => Some("the statement could not be read".to_owned()),
        (Some(text), Some(st)) => {
            let q = st.params().quote_decimals();
            match parse_unsigned_scaled(text, q, "0 <= reserves < 2^128") {
                Ok(v) if v == st.params().reserves() => None,
                Ok(_) => Some(format!(
                    "it states reserves {text}, the statement publishes {}",
                    st.file().reserves
                )),
                Err(e) => Some(format!("reserves {text:?}: {e}")),
            }
        }
    };
    ReservesAttestation {
        file,
        claims,
        reserves,
        matches_statement: problem.is_none(),
        problem,
    }
}

/// `system` names the proofs: `Groth16`, `halo2`, or `batch` when the statement
/// could not be read (its backend unknown); `disclosed`: whether the statement
/// publishes `L`.
fn revealed(system: &str, disclosed: bool) -> Vec<String> {
    [
        "the epoch's prices, decimals and maintenance margin rates, reserves and the insurance fund",
        "the accounts commitment (a hash chain over salted leaves: reveals no balance, position or id)",
        "hiding commitments to the running state after each batch (blinded: reveal no partial sum)",
        "the batch count K and batch size B, hence the account count N within [(K-1)·B + 1, K·B]",
        "the liquidation set (ids of liquidatable accounts), the bad debt D, solvent and insurance_covered",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain(disclosed.then(|| {
        "total liabilities L, which the venue chose to disclose (prove --disclose-liabilities)"
            .to_owned()
    }))
    .chain(std::iter::once(if disclosed {
        format!(
            "nothing else: balances, positions and other ids stay hidden; {system} proofs are zero-knowledge"
        )
    } else {
        format!(
            "nothing else: balances, positions, other ids and total liabilities L stay hidden; {system} proofs are zero-knowledge"
        )
    }))
    .collect()
}

/// What the audit expects of the venue: its address, and its previous statement.
#[derive(Debug, Clone, Default)]
pub struct VenueExpectation {
    /// The trusted venue address (`--venue-key`).
    pub trusted: Option<VenueAddress>,
    /// The venue's previous `statement.json` (`--previous`).
    pub previous: Option<std::path::PathBuf>,
}

impl VenueExpectation {
    /// Checks the statement's signature, its venue and its epoch id; returns the venue.
    pub fn check(&self, statement: &EpochStatement) -> Result<VenueAddress, VerifyError> {
        let venue = crate::venue::check_signature(statement, self.trusted)?;
        if let Some(path) = &self.previous {
            crate::venue::check_previous(statement, &crate::files::read_statement_at(path)?)?;
        }
        Ok(venue)
    }
}

/// The fraction of owners who must check their inclusion proofs, each
/// independently, for at least one of `m` omitted or altered accounts to be found
/// with probability `p`: `1 − (1 − p)^(1/m)`.
pub fn checking_fraction(m: u32, p: f64) -> f64 {
    1.0 - (1.0 - p).powf(1.0 / f64::from(m))
}

fn owner_limits(binding: Option<OwnerBinding>) -> Vec<String> {
    let table = [1, 10, 100, 1000]
        .iter()
        .map(|&m| format!("{m} account(s): {:.2}%", 100.0 * checking_fraction(m, 0.95)))
        .collect::<Vec<_>>()
        .join("; ");
    let binding = match binding {
        Some(OwnerBinding::All) => {
            "Owner binding: used for every account (the venue's declaration, bound by the proofs but not checked by them). Each leaf absorbs its owner's commitment, so two owners cannot be shown one leaf; each owner confirms theirs with `backstop inclusion verify PROOF.json --epoch EPOCH_DIR --owner-secret-file F`."
        }
        Some(OwnerBinding::Partial) => {
            "Owner binding: used for some accounts only (the venue's declaration). Owners of unbound accounts can be shown one shared leaf when their states are identical (two owners told they are both one account, liabilities understated); only owners who check with --owner-secret-file (or --owner) are protected."
        }
        _ => {
            "Owner binding: NOT used. Account ids and salts are the venue's choice, so owners with identical states (say both at 1,000.00 and flat) can each be shown the same leaf, one committed account, understating liabilities; no check by either owner detects it. Owner commitments in accounts.csv (`owner` column) close this."
        }
    };
    vec![
        binding.to_owned(),
        format!(
            "Completeness of the account set: the proofs cover exactly the accounts the venue committed to. An account left out, or committed with altered data, is detected only by its owner checking their inclusion proof (`backstop inclusion verify PROOF.json --epoch EPOCH_DIR`); leaving out an underwater account lowers both liabilities and bad debt. If owners check independently, the fraction who must check to find at least one of m omitted or altered accounts with 95% probability is 1 − 0.05^(1/m): {table}."
        ),
    ]
}

fn not_covered(
    transparent: bool,
    trusted_key: bool,
    reserves: Option<&ReservesAttestation>,
    owner_binding: Option<OwnerBinding>,
    disclosed: bool,
) -> Vec<String> {
    let mut v = Vec::new();
    v.push(match reserves {
        None => "Reserves: the proofs take the published reserves figure as given. That the venue actually holds them must be attested separately (custodian statement, proof of reserves); none was given to this audit.".to_owned(),
        Some(_) => "Reserves: the proofs take the published reserves figure as given. The reserves attestation shown below is NOT verified by Backstop beyond checking that its figure equals the statement's.".to_owned(),
    });
    v.push(if transparent {
        "Setup: none to trust. halo2's IPA parameters are derived by hashing to the curve and the verifying key from the circuit shape; this audit derived both itself.".to_owned()
    } else if trusted_key {
        "Trusted setup: the verifying key was given to this audit. Groth16 keys from a single-party setup (`backstop setup`) let whoever ran it forge proofs; the proofs convince only if that key comes from a multi-party ceremony or a party you trust.".to_owned()
    } else {
        "Trusted setup: the verifying key was taken from the epoch directory itself, so this audit only shows the venue was consistent with itself. Pass --key with a key from a setup you trust; keys from a single-party setup let whoever ran it forge proofs, unless they come from a multi-party ceremony.".to_owned()
    });
    v.push("The venue secret: salts and state blindings derive from it. It must stay secret; if it leaks (or the public demo secret was used), every leaf can be opened by guessing account data. Nothing in the published artifacts shows which secret was used.".to_owned());
    v.push("Prices: oracle prices and margin rates are taken as published. The proofs establish the liquidation set at these prices, not that the prices were the market's.".to_owned());
    if !disclosed {
        v.push("Liabilities L are proven against reserves but not published; only solvent = (L <= reserves) is.".to_owned());
    }
    v.extend(owner_limits(owner_binding));
    v
}

fn proven(statement: &EpochStatement) -> Vec<String> {
    let f = statement.file();
    let b = statement.shape().batch_size().get() as u64;
    let k = f.batch_count;
    let liq = &f.liquidations;
    let shown: Vec<&str> = liq.iter().take(10).map(String::as_str).collect();
    let more = if liq.len() > 10 {
        format!(", … ({} more)", liq.len() - 10)
    } else {
        String::new()
    };
    let reserves = if f.assets.is_empty() {
        format!("reserves {}", f.reserves)
    } else {
        // Risk model v2: the collateral held counts at its oracle price (SPEC §2.1).
        let held: Vec<String> = f
            .assets
            .iter()
            .map(|a| format!("{} {} at {}", a.reserves, a.symbol, a.price))
            .collect();
        format!(
            "reserves {} plus the collateral held ({})",
            f.reserves,
            held.join(", ")
        )
    };
    let mut lines = vec![
        format!(
            "Every account in accounts commitment {} (at least {} and at most {} accounts, in {k} batches of {b}) was evaluated at the published prices with exact integer arithmetic, cross-margined over {} markets; ids are distinct and every balance and size is within the bounds of SPEC §3.",
            f.accounts_commitment,
            // Batches 0 … K−2 hold only real accounts and slot 0 of the last batch
            // is real (SPEC §6.1), so (K−1)·B + 1.
            (k - 1) * b + 1,
            k * b,
            f.markets.len()
        ),
        format!(
            "The liquidation set is exactly the accounts with total value below maintenance requirement: {} account(s) [{}{more}].",
            liq.len(),
            shown.join(", ")
        ),
        format!(
            "Bad debt (sum of negative equity) D = {} quote units, exactly.",
            f.bad_debt
        ),
        match &f.liabilities {
            Some(l) => format!(
                "Total liabilities (sum of positive equity) L = {l} quote units, exactly; solvent = {}: L {} {reserves}.",
                f.solvent,
                if f.solvent { "<=" } else { ">" },
            ),
            None => format!(
                "solvent = {}: total liabilities L {} {reserves}.",
                f.solvent,
                if f.solvent { "<=" } else { ">" },
            ),
        },
        format!(
            "insurance_covered = {}: D {} insurance fund {}.",
            f.insurance_covered,
            if f.insurance_covered { "<=" } else { ">" },
            f.insurance_fund
        ),
        "Padding slots hold nothing and appear only at the end of the last batch; batches chain in order through hiding state commitments.".to_owned(),
    ];
    if f.markets.iter().any(|m| !m.tiers.is_empty()) {
        lines.push(format!(
            "Maintenance requirements are tiered by position notional (risk model v2, SPEC §2.2): {}.",
            f.markets
                .iter()
                .filter(|m| !m.tiers.is_empty())
                .map(|m| {
                    let tiers: Vec<String> = m
                        .tiers
                        .iter()
                        .map(|t| format!("{} bps from {}", t.maintenance_margin_bps, t.notional_floor))
                        .collect();
                    format!("{} {} bps, then {}", m.symbol, m.maintenance_margin_bps, tiers.join(", "))
                })
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    let outputs = statement.outputs();
    for (symbol, ok) in &outputs.asset_solvency.0 {
        let Some(a) = f.assets.iter().find(|a| a.symbol == *symbol) else {
            continue;
        };
        // SPEC §6.4: a disclosed total is the proven one (ℓ_c = h_c + 1).
        let total = match outputs.asset_totals.0.iter().find(|(s, _)| s == symbol) {
            Some((_, total)) => {
                format!("the total, disclosed by the venue and proven exact: {total} {symbol}")
            }
            None => "the total stays hidden".to_owned(),
        };
        lines.push(format!(
            "asset_solvency[{symbol}] = {ok}: the {symbol} owed to accounts holding it {} the venue's {} {symbol} ({total}).",
            if *ok { "<=" } else { ">" },
            a.reserves
        ));
    }
    if let Some(w) = WaterfallTable::of(statement) {
        lines.push(format!(
            "The default waterfall (SPEC §2.4): liquidated accounts paid liquidation fees F = {} (each at most its remaining equity); the fund {} plus F drew {} against D, leaving {} in the fund and a deficit of {}.",
            w.fees_in, w.fund_before, w.draw, w.fund_after, w.deficit
        ));
        lines.push(if w.shortfall {
            format!(
                "shortfall = true: even taking every account's remaining equity whole (h = {} ppb) does not cover the deficit.",
                w.haircut_ppb
            )
        } else if w.haircut_ppb == 0 {
            "No loss is socialized: h = 0 ppb.".to_owned()
        } else {
            format!(
                "The haircut rate h = {} ppb ({}) is the least that covers the deficit: the accounts' haircuts floor(E' · h / 10^9) sum to at least the deficit, and at h - 1 they do not.",
                w.haircut_ppb,
                percent_of_ppb(w.haircut_ppb)
            )
        });
    }
    lines
}

/// Verifies `epoch_dir` (Groth16 with `trusted_key` when given; halo2 with IPA
/// parameters cached in `halo2_params_dir`) and builds the report;
/// `reserves_attestation` is read and matched against the statement's reserves.
pub fn audit_epoch(
    epoch_dir: &Path,
    trusted_key: Option<&TrustedGroth16Key>,
    halo2_params_dir: &Path,
    reserves_attestation: Option<&Path>,
    venue: &VenueExpectation,
) -> Report {
    let statement = read_statement(epoch_dir);
    let result = verify_epoch(epoch_dir, trusted_key, halo2_params_dir);
    let venue_result = statement.as_ref().ok().map(|s| venue.check(s));
    let st = statement.as_ref().ok();
    let transparent = st.is_some_and(|s| s.file().backend == Backend::Halo2Pasta);
    // The backend is known only from a statement that was read; otherwise the
    // report names no proof system it cannot know.
    let disclosed = st.is_some_and(|s| s.file().liabilities.is_some());
    let system = match st.map(|s| s.file().backend) {
        Some(Backend::Halo2Pasta) => "halo2",
        Some(Backend::Groth16Bn254) => "Groth16",
        None => "batch",
    };
    let reserves = reserves_attestation.map(|p| read_reserves_attestation(p, st));
    let mut checks = Vec::new();
    let k = st.map_or(0, |s| s.file().batch_count);
    let statement_check = match &statement {
        Ok(s) => Check {
            name: "statement.json".into(),
            status: Status::Passed,
            detail: format!(
                "parsed and validated: {} markets within the bounds of SPEC §3, K = {k} batches with K·B <= 2^32, {k} state commitments, {} liquidation ids strictly ascending, bad debt exact",
                s.params().markets().len(),
                s.liquidations().len()
            ),
        },
        Err(e) => Check {
            name: "statement.json".into(),
            status: Status::Failed,
            detail: e.to_string(),
        },
    };
    let statement_ok = statement_check.status == Status::Passed;
    checks.push(statement_check);
    let key_source = if transparent {
        "the key derived from the circuit shape"
    } else if trusted_key.is_some() {
        "the key given to the audit"
    } else {
        "the epoch directory's verifying_key.bin"
    };
    let (key_status, layout_status, proofs_status) = match &result {
        Ok(_) => (Status::Passed, Status::Passed, Status::Passed),
        Err(_) if !statement_ok => (Status::NotReached, Status::NotReached, Status::NotReached),
        Err(
            VerifyError::VerifyingKey(_)
            | VerifyError::VerifyingKeyMismatch { .. }
            | VerifyError::ShapeMismatch { .. },
        ) => (Status::Failed, Status::NotReached, Status::NotReached),
        Err(VerifyError::Io { path, .. })
            if path.file_name().is_some_and(|n| n == VERIFYING_KEY_FILE) =>
        {
            (Status::Failed, Status::NotReached, Status::NotReached)
        }
        Err(VerifyError::UnexpectedFile(_)) => (Status::Passed, Status::Failed, Status::NotReached),
        Err(_) => (Status::Passed, Status::Passed, Status::Failed),
    };
    let failure = result.as_ref().err().map(ToString::to_string);
    let failed_detail = |status: Status, ok: String| match (status, &failure) {
        (Status::Failed, Some(f)) => f.clone(),
        _ => ok,
    };
    checks.push(Check {
        name: "verifying key".into(),
        status: key_status,
        detail: failed_detail(
            key_status,
            format!("{key_source}: its SHA-256 matches the statement's verifying_key_hash; 1 public input per proof"),
        ),
    });
    checks.push(Check {
        name: "proofs directory".into(),
        status: layout_status,
        detail: failed_detail(
            layout_status,
            format!("{PROOFS_DIR}/ holds exactly the {k} batch proofs and nothing else"),
        ),
    });
    checks.push(Check {
        name: "batch proofs".into(),
        status: proofs_status,
        detail: failed_detail(
            proofs_status,
            format!(
                "{k} of {k} {system} proofs verified, each against the public input x_b computed from statement.json alone (params hash, batch index, K, C_(b-1), C_b, outputs)"
            ),
        ),
    });
    checks.push(Check {
        name: "chain and outputs".into(),
        status: proofs_status,
        detail: failed_detail(
            proofs_status,
            format!(
                "{k} batches linked C_init -> C_0 -> … -> C_{}; the last opens the final state into the published accounts commitment, liquidation set, D, solvent and insurance_covered",
                k.saturating_sub(1)
            ),
        ),
    });
    if let Some(r) = &reserves {
        checks.push(Check {
            name: "reserves attestation figure".into(),
            status: if r.matches_statement {
                Status::Passed
            } else {
                Status::Failed
            },
            detail: reserves_verdict(r),
        });
    }
    let venue_check = match &venue_result {
        None => Check {
            name: "venue signature".into(),
            status: Status::NotReached,
            detail: "statement.json did not validate".into(),
        },
        Some(Ok(address)) => Check {
            name: "venue signature".into(),
            status: Status::Passed,
            detail: format!(
                "statement.json is signed by venue {address}, the venue its proofs bind{}{}",
                if venue.trusted.is_some() {
                    ", the trusted venue given to the audit"
                } else {
                    " (not pinned: pass --venue-key with the venue's published address)"
                },
                if venue.previous.is_some() {
                    "; its epoch id is above the previous statement's"
                } else {
                    ""
                }
            ),
        },
        Some(Err(e)) => Check {
            name: "venue signature".into(),
            status: Status::Failed,
            detail: e.to_string(),
        },
    };
    checks.insert(1, venue_check);
    let venue_error = venue_result
        .as_ref()
        .and_then(|r| r.as_ref().err())
        .map(ToString::to_string);
    let failure = failure.or(venue_error);
    let verified: Option<&Verified> = result
        .as_ref()
        .ok()
        .filter(|_| matches!(venue_result, Some(Ok(_))));
    Report {
        epoch_dir: epoch_dir.display().to_string(),
        verified: verified.is_some(),
        failure,
        venue: st.map(|s| s.venue().to_string()),
        trusted_venue: venue.trusted.is_some(),
        epoch: st.map(|s| s.file().epoch),
        owner_binding: st.map(|s| s.params().owner_binding().as_str().to_owned()),
        backend: st.map(|s| s.file().backend),
        shape: st.map(|s| s.file().shape.id.clone()),
        batch_count: st.map(|s| s.file().batch_count),
        batch_size: st.map(|s| s.file().shape.batch_size),
        outputs: st.map(EpochStatement::outputs),
        accounts_commitment: st.map(|s| s.file().accounts_commitment.clone()),
        trusted_key: transparent || trusted_key.is_some(),
        verifying_key_hash: st.map(|s| s.file().verifying_key_hash.clone()),
        proven: verified.map_or_else(Vec::new, |v| proven(&v.statement)),
        revealed: {
            let mut r = revealed(system, disclosed);
            if st.is_some_and(|s| s.shape().is_risk_model_v2()) {
                r.push("under risk model v2: the maintenance brackets, the collateral assets' prices, ratios and the venue's holdings of each, and one solvency flag per asset (asset_solvency)".to_owned());
            }
            if st.is_some_and(|s| s.params().has_waterfall()) {
                r.push("the default waterfall: each market's liquidation fee rate, the fees F, the insurance draw, the fund after, the deficit, the haircut rate h and shortfall; with the deficit public, a least h > 0 bounds the accounts' total remaining equity to within a factor of about h/(h-1) (SPEC §2.4)".to_owned());
            }
            let totals = st.map(|s| s.outputs().asset_totals).unwrap_or_default();
            if !totals.is_empty() {
                let shown: Vec<String> = totals.0.iter().map(|(s, t)| format!("{s} {t}")).collect();
                r.push(format!(
                    "the totals owed to users of these collateral assets, which the venue chose to disclose (prove --disclose-asset-totals): {}; every other asset's total stays hidden",
                    shown.join(", ")
                ));
            }
            r
        },
        checks,
        not_covered: not_covered(
            transparent,
            trusted_key.is_some(),
            reserves.as_ref(),
            st.map(|s| s.params().owner_binding()),
            disclosed,
        ),
        reserves_attestation: reserves,
        waterfall: verified.and_then(|v| WaterfallTable::of(&v.statement)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The account count claimed is what the proofs establish: `(K−1)·B < N ≤ K·B`
    /// (slot 0 of the last batch is real, SPEC §6.1).
    #[test]
    fn the_account_count_claimed_is_the_proven_range() {
        use backstop_circuits::shape::{CircuitShape, STATEMENT_VERSION};
        use backstop_circuits::statement::{
            Backend, PublishedMarket, PublishedShape, StatementFile,
        };
        let shape = CircuitShape::new(8, 1).unwrap();
        let element = format!("0x{}", "00".repeat(31) + "01");
        let statement = EpochStatement::new(StatementFile {
            version: STATEMENT_VERSION,
            backend: Backend::Groth16Bn254,
            shape: PublishedShape {
                id: shape.id(),
                batch_size: 8,
                markets: 1,
                brackets: 1,
                assets: 0,
                waterfall: false,
            },
            verifying_key_hash: "00".repeat(32),
            venue: format!("0x{}", "00".repeat(20)),
            owner_binding: "none".into(),
            epoch: 1,
            quote_decimals: 6,
            reserves: "1".into(),
            insurance_fund: "1".into(),
            markets: vec![PublishedMarket {
                symbol: "M0".into(),
                price: "1".into(),
                price_decimals: 0,
                size_decimals: 0,
                maintenance_margin_bps: 500,
                tiers: vec![],
                liquidation_fee_bps: None,
            }],
            assets: vec![],
            batch_count: 3,
            accounts_commitment: element.clone(),
            state_commitments: vec![element; 3],
            liquidations: vec![],
            bad_debt: "0.000000".into(),
            liabilities: None,
            solvent: true,
            insurance_covered: true,
            asset_solvency: Default::default(),
            asset_totals: Default::default(),
            liquidation_fees: None,
            insurance_draw: None,
            insurance_fund_after: None,
            deficit: None,
            haircut_ppb: None,
            shortfall: None,
            signature: None,
        })
        .unwrap();
        let claim = &proven(&statement)[0];
        assert!(
            claim.contains("(at least 17 and at most 24 accounts, in 3 batches of 8)"),
            "{claim}"
        );
        let revealed = revealed("Groth16", false).join("\n");
        assert!(
            revealed.contains("N within [(K-1)·B + 1, K·B]"),
            "{revealed}"
        );
    }

    /// The owner-only limits name the binding in use and the checking fractions:
    /// one omitted account needs 95% of owners to check, a hundred need 2.95%.
    #[test]
    fn owner_limits_say_what_only_owners_can_detect() {
        assert!((checking_fraction(1, 0.95) - 0.95).abs() < 1e-12);
        assert!((checking_fraction(100, 0.95) - 0.0295).abs() < 1e-4);
        let none = owner_limits(Some(OwnerBinding::None)).join("\n");
        assert!(none.contains("Owner binding: NOT used"), "{none}");
        assert!(
            none.contains("1 account(s): 95.00%; 10 account(s): 25.89%; 100 account(s): 2.95%"),
            "{none}"
        );
        let all = owner_limits(Some(OwnerBinding::All)).join("\n");
        assert!(all.contains("used for every account"), "{all}");
        let partial = owner_limits(Some(OwnerBinding::Partial)).join("\n");
        assert!(partial.contains("some accounts only"), "{partial}");
    }

    #[test]
    fn a_missing_epoch_gives_a_failed_report_in_every_format() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("no-such-epoch");
        let report = audit_epoch(&dir, None, &dir, None, &VenueExpectation::default());
        assert!(!report.verified && !report.ok());
        assert!(report.proven.is_empty());
        assert_eq!(report.checks[0].status, Status::Failed);
        assert!(
            report.checks[1..]
                .iter()
                .all(|c| c.status == Status::NotReached)
        );
        assert_eq!(report.not_covered.len(), 7);
        let json: serde_json::Value = serde_json::from_str(&report.render(Format::Json)).unwrap();
        assert_eq!(json["verified"], false);
        assert!(report.render(Format::Markdown).contains("**Result: FAILED"));
        assert!(
            report
                .render(Format::Text)
                .contains("[FAILED] statement.json")
        );
        // Without a statement the backend is unknown: no proof system is named.
        let text = report.render(Format::Text);
        assert!(
            !text.contains("Groth16 proofs") && !text.contains("halo2 proofs"),
            "{text}"
        );
        assert!(text.contains("batch proofs"), "{text}");
    }

    #[test]
    fn a_reserves_attestation_without_a_statement_does_not_match() {
        let dir = std::env::temp_dir().join(format!("backstop-audit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("reserves.json");
        std::fs::write(&path, r#"{"issuer":"X","reserves":"10"}"#).unwrap();
        let r = read_reserves_attestation(&path, None);
        assert!(!r.matches_statement);
        assert_eq!(r.reserves.as_deref(), Some("10"));
        assert_eq!(r.claims.len(), 2);
        std::fs::write(&path, "[1]").unwrap();
        assert!(
            read_reserves_attestation(&path, None)
                .problem
                .unwrap()
                .contains("not a JSON object")
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
