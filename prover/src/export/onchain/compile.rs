//! Compiling the generated Solidity with a `solc` executable through its standard
//! JSON interface, with the fixed settings of `docs/ONCHAIN.md` (so that anyone gets
//! the same bytecode from the same sources): solc 0.8.37, optimizer on with 200 runs,
//! EVM version `cancun`, no metadata hash and no CBOR metadata.
//!
//! Any `solc` that answers `--version` and `--standard-json` will do: a native one,
//! or `scripts/node/solc` (the pinned solcjs behind solc's command line, offline).

use crate::error::ProverError;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The compiler version the bytecode is reproducible with.
pub const SOLC_VERSION: &str = "0.8.37";

/// The environment variable naming the `solc` executable when `--solc` is not given.
pub const SOLC_ENV: &str = "BACKSTOP_SOLC";

/// The standard JSON `settings` every compile uses.
pub fn settings() -> Value {
    json!({
        "optimizer": { "enabled": true, "runs": 200 },
        "evmVersion": "cancun",
        "metadata": { "bytecodeHash": "none", "appendCBOR": false },
        "outputSelection": {
            "*": { "*": ["evm.bytecode.object"] }
        }
    })
}

/// One compiled contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledContract {
    /// The source unit it is defined in (`src/BackstopEpochs.sol`).
    pub source: String,
    /// Its creation code (constructor arguments not appended).
    pub creation_code: Vec<u8>,
}

/// The result of a compile: the full compiler version and every contract with code
/// (interfaces and abstract contracts are left out), by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiled {
    /// `solc --version`'s version, e.g. `0.8.37+commit.f401782d.Emscripten.clang`.
    pub version: String,
    /// The contracts with code, by name.
    pub contracts: BTreeMap<String, CompiledContract>,
}

fn compile_error(reason: impl std::fmt::Display) -> ProverError {
    ProverError::Export(format!("compiling the Solidity: {reason}"))
}

/// The `solc` to use: `explicit` (`--solc`), else `$BACKSTOP_SOLC`, else `solc` on
/// `PATH`. A missing one is an error that says how to get one.
pub fn find_solc(explicit: Option<&Path>) -> Result<PathBuf, ProverError> {
    if let Some(path) = explicit {
        return Ok(path.to_path_buf());
    }
    if let Some(path) = std::env::var_os(SOLC_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("solc"))
            .find(|candidate| candidate.is_file())
    });
    on_path.ok_or_else(|| {
        compile_error(format!(
            "no solc: pass --solc PATH or set {SOLC_ENV} (scripts/node/solc, after \
             scripts/node/setup, is solc {SOLC_VERSION} as solcjs and works offline)"
        ))
    })
}

/// `solc --version`'s version; refuses any other than [`SOLC_VERSION`].
pub fn solc_version(solc: &Path) -> Result<String, ProverError> {
    let out = Command::new(solc)
        .arg("--version")
        .output()
        .map_err(|e| compile_error(format!("running {} --version: {e}", solc.display())))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text
        .lines()
        .find_map(|l| l.strip_prefix("Version: "))
        .map(|v| v.trim().to_owned())
        .filter(|_| out.status.success())
        .ok_or_else(|| {
            compile_error(format!(
                "{} --version printed no \"Version: \" line (exit {})",
                solc.display(),
                out.status
            ))
        })?;
    if !version.starts_with(&format!("{SOLC_VERSION}+")) {
        return Err(compile_error(format!(
            "{} is solc {version}; the bytecode is reproducible with solc {SOLC_VERSION} only",
            solc.display()
        )));
    }
    Ok(version)
}

fn hex_code(value: &Value, what: &str) -> Result<Vec<u8>, ProverError> {
    let text = value
        .as_str()
        .ok_or_else(|| compile_error(format!("no {what} in solc's output")))?;
    hex::decode(text).map_err(|e| compile_error(format!("{what}: {e}")))
}

/// Compiles `sources` (source unit name, text) with `solc`.
pub fn compile(solc: &Path, sources: &[(String, String)]) -> Result<Compiled, ProverError> {
    let version = solc_version(solc)?;
    let input = json!({
        "language": "Solidity",
        "sources": sources
            .iter()
            .map(|(name, text)| (name.clone(), json!({ "content": text })))
            .collect::<serde_json::Map<_, _>>(),
        "settings": settings(),
    });
    let mut child = Command::new(solc)
        .arg("--standard-json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| compile_error(format!("running {}: {e}", solc.display())))?;
    let bytes = serde_json::to_vec(&input).map_err(compile_error)?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(&bytes).map_err(compile_error)?;
    }
    let out = child.wait_with_output().map_err(compile_error)?;
    if !out.status.success() {
        return Err(compile_error(format!(
            "{} exited with {}: {}",
            solc.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let output: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| compile_error(format!("solc's output is not JSON: {e}")))?;
    let errors: Vec<String> = output["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["severity"] == "error")
        .map(|e| {
            e["formattedMessage"]
                .as_str()
                .or(e["message"].as_str())
                .unwrap_or("unknown error")
                .to_owned()
        })
        .collect();
    if !errors.is_empty() {
        return Err(compile_error(errors.join("\n")));
    }
    let mut contracts = BTreeMap::new();
    for (source, by_name) in output["contracts"].as_object().into_iter().flatten() {
        for (name, c) in by_name.as_object().into_iter().flatten() {
            let creation_code = hex_code(&c["evm"]["bytecode"]["object"], "bytecode")?;
            if creation_code.is_empty() {
                continue;
            }
            let contract = CompiledContract {
                source: source.clone(),
                creation_code,
            };
            if contracts.insert(name.clone(), contract).is_some() {
                return Err(compile_error(format!("two contracts named {name}")));
            }
        }
    }
    Ok(Compiled { version, contracts })
}
