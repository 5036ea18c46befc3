//! Deploying from `deployment.json` (`backstop_prover::export::onchain::manifest`).

use crate::client::{Client, Sent};
use crate::error::OnchainError;
use backstop_prover::export::onchain::manifest::{DEPLOYMENT_FILE, Deployment, VENUE_PARAMETER};
use serde::Serialize;
use std::path::Path;

/// What a deployment made.
#[derive(Debug, Clone, Serialize)]
pub struct Deployed {
    /// The chain id.
    pub chain_id: u64,
    /// Each contract's name and address, in deployment order.
    pub contracts: Vec<(String, String)>,
    /// The transactions, in order.
    pub transactions: Vec<Sent>,
}

impl Deployed {
    /// The address of the contract `name`.
    pub fn address(&self, name: &str) -> Option<[u8; 20]> {
        let (_, text) = self.contracts.iter().find(|(n, _)| n == name)?;
        crate::client::parse_address(text).ok()
    }
}

/// Reads `deployment.json` from `path` (the file, or an exported project directory).
pub fn read_manifest(path: &Path) -> Result<Deployment, OnchainError> {
    let file = if path.is_dir() {
        path.join(DEPLOYMENT_FILE)
    } else {
        path.to_path_buf()
    };
    let bytes = std::fs::read(&file).map_err(|e| OnchainError::File {
        path: file.clone(),
        reason: e.to_string(),
    })?;
    serde_json::from_slice(&bytes).map_err(|e| OnchainError::File {
        path: file,
        reason: format!("not a deployment manifest: {e}"),
    })
}

/// Deploys every contract of `manifest` in order for the venue `venue`, each
/// constructor argument resolved from the contracts deployed before it.
pub fn deploy(
    client: &Client,
    manifest: &Deployment,
    venue: [u8; 20],
) -> Result<Deployed, OnchainError> {
    if venue == [0u8; 20] {
        return Err(OnchainError::Refused("the venue address is zero".into()));
    }
    let mut done = Deployed {
        chain_id: client.chain_id(),
        contracts: Vec::new(),
        transactions: Vec::new(),
    };
    for (i, contract) in manifest.contracts.iter().enumerate() {
        let data = manifest.deployment_data(i, &|name| done.address(name), &|name| {
            (name == VENUE_PARAMETER).then_some(venue)
        })?;
        let sent = client.send(&format!("deploy {}", contract.name), None, data)?;
        let address = sent.contract.clone().ok_or_else(|| {
            OnchainError::Refused(format!(
                "{}: the receipt names no contract address",
                sent.hash
            ))
        })?;
        done.contracts.push((contract.name.clone(), address));
        done.transactions.push(sent);
    }
    Ok(done)
}
