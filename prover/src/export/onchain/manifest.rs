//! `deployment.json`: what any tool needs to deploy Backstop's contracts without
//! reading Backstop's source (`docs/ONCHAIN.md`, "Deploy"). For each contract in
//! deployment order: its creation code and its constructor's arguments, each either
//! the address of a contract deployed earlier in the list or a parameter the deployer
//! supplies (the venue's address).
//!
//! ```json
//! { "format": "backstop.deployment.v1", "shape": "…", "verifying_key_hash": "…",
//!   "compiler": { "version": "0.8.37+…", "settings": { … } },
//!   "parameters": { "venue": { "type": "address", "description": "…" } },
//!   "contracts": [
//!     { "name": "BackstopVerifier", "source": "src/BackstopVerifier.sol",
//!       "creation_code": "0x…", "constructor": [] },
//!     { "name": "BackstopEpochs", "source": "src/BackstopEpochs.sol",
//!       "creation_code": "0x…", "constructor": [
//!         { "name": "verifier", "type": "address", "contract": "BackstopVerifier" },
//!         { "name": "venueKey", "type": "address", "parameter": "venue" } ] } ] }
//! ```
//!
//! A contract's deployment transaction's data is its creation code followed by the
//! ABI encoding of its constructor arguments (here, addresses only: one word each).

use super::compile::{Compiled, settings};
use crate::error::ProverError;
use serde::{Deserialize, Serialize};

/// The manifest's file name in an export.
pub const DEPLOYMENT_FILE: &str = "deployment.json";
/// The manifest's format tag.
pub const DEPLOYMENT_FORMAT: &str = "backstop.deployment.v1";
/// The deployment parameter naming the venue's signing-key address.
pub const VENUE_PARAMETER: &str = "venue";

/// `deployment.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    /// [`DEPLOYMENT_FORMAT`].
    pub format: String,
    /// The circuit shape's id.
    pub shape: String,
    /// The verifying key's hash (`keys.json`), which the verifier embeds.
    pub verifying_key_hash: String,
    /// The compiler and settings the creation code comes from.
    pub compiler: CompilerInfo,
    /// What the deployer supplies, by name.
    pub parameters: std::collections::BTreeMap<String, Parameter>,
    /// The contracts, in deployment order.
    pub contracts: Vec<ContractEntry>,
}

/// The compiler of a manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompilerInfo {
    /// The full solc version.
    pub version: String,
    /// The standard JSON settings.
    pub settings: serde_json::Value,
}

/// A deployment parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    /// Its ABI type.
    #[serde(rename = "type")]
    pub ty: String,
    /// What it is.
    pub description: String,
}

/// One contract to deploy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractEntry {
    /// The contract's name.
    pub name: String,
    /// Its source file in the export.
    pub source: String,
    /// Its creation code, `0x` and lowercase hex.
    pub creation_code: String,
    /// Its constructor's arguments, in order.
    pub constructor: Vec<Argument>,
}

/// A constructor argument: the address of an earlier contract, or a parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Argument {
    /// The constructor parameter's name.
    pub name: String,
    /// Its ABI type (`address`).
    #[serde(rename = "type")]
    pub ty: String,
    /// The earlier contract whose address it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<String>,
    /// The deployment parameter it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
}

impl Deployment {
    /// The manifest of the verifier and the epoch contract in `compiled`.
    pub fn new(
        compiled: &Compiled,
        shape: &str,
        verifying_key_hash: &str,
    ) -> Result<Self, ProverError> {
        let entry = |name: &str, constructor: Vec<Argument>| {
            let c = compiled.contracts.get(name).ok_or_else(|| {
                ProverError::Export(format!("the compile produced no contract {name}"))
            })?;
            Ok::<_, ProverError>(ContractEntry {
                name: name.to_owned(),
                source: c.source.clone(),
                creation_code: format!("0x{}", hex::encode(&c.creation_code)),
                constructor,
            })
        };
        let address = |name: &str, contract: Option<&str>, parameter: Option<&str>| Argument {
            name: name.to_owned(),
            ty: "address".to_owned(),
            contract: contract.map(str::to_owned),
            parameter: parameter.map(str::to_owned),
        };
        Ok(Self {
            format: DEPLOYMENT_FORMAT.to_owned(),
            shape: shape.to_owned(),
            verifying_key_hash: verifying_key_hash.to_owned(),
            compiler: CompilerInfo {
                version: compiled.version.clone(),
                settings: settings(),
            },
            parameters: [(
                VENUE_PARAMETER.to_owned(),
                Parameter {
                    ty: "address".to_owned(),
                    description: "the venue's signing-key address (statement.json `venue`, \
                                  SPEC §7.5)"
                        .to_owned(),
                },
            )]
            .into(),
            contracts: vec![
                entry("BackstopVerifier", Vec::new())?,
                entry(
                    "BackstopEpochs",
                    vec![
                        address("verifier", Some("BackstopVerifier"), None),
                        address("venueKey", None, Some(VENUE_PARAMETER)),
                    ],
                )?,
            ],
        })
    }

    /// Each contract's deployment data in order: its creation code and its encoded
    /// constructor arguments, given the addresses of the contracts deployed so far
    /// (`deployed(name)`) and the parameters (`parameter(name)`, 20-byte addresses).
    /// Refuses a reference to a contract not deployed earlier, an unknown parameter or
    /// a type other than `address`.
    pub fn deployment_data(
        &self,
        index: usize,
        deployed: &dyn Fn(&str) -> Option<[u8; 20]>,
        parameter: &dyn Fn(&str) -> Option<[u8; 20]>,
    ) -> Result<Vec<u8>, ProverError> {
        let refuse = |why: String| ProverError::Export(format!("{DEPLOYMENT_FILE}: {why}"));
        let c = self
            .contracts
            .get(index)
            .ok_or_else(|| refuse(format!("no contract {index}")))?;
        let mut data = hex::decode(c.creation_code.trim_start_matches("0x"))
            .map_err(|e| refuse(format!("{}: creation code: {e}", c.name)))?;
        for arg in &c.constructor {
            if arg.ty != "address" {
                return Err(refuse(format!("{}.{}: type {}", c.name, arg.name, arg.ty)));
            }
            let address = match (&arg.contract, &arg.parameter) {
                (Some(name), None) => {
                    let earlier = self.contracts[..index].iter().any(|e| &e.name == name);
                    earlier.then(|| deployed(name)).flatten().ok_or_else(|| {
                        refuse(format!(
                            "{}.{}: {name} is not deployed before it",
                            c.name, arg.name
                        ))
                    })?
                }
                (None, Some(name)) => parameter(name).ok_or_else(|| {
                    refuse(format!(
                        "{}.{}: no value for parameter {name}",
                        c.name, arg.name
                    ))
                })?,
                _ => {
                    return Err(refuse(format!(
                        "{}.{}: needs exactly one of contract and parameter",
                        c.name, arg.name
                    )));
                }
            };
            let mut word = [0u8; 32];
            word[12..].copy_from_slice(&address);
            data.extend(word);
        }
        Ok(data)
    }
}
