//! Sending transactions: fees, nonce, gas estimate (which also surfaces a revert
//! before anything is paid), signing, and waiting for the receipt.

use crate::error::OnchainError;
use crate::rpc::{Rpc, quantity, quantity128};
use crate::tx::{Signer, Transaction};
use serde::Serialize;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Osaka's cap on a transaction's gas (EIP-7825): no transaction asks for more.
pub const TX_GAS_CAP: u64 = 1 << 24;

/// A mined, successful transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sent {
    /// What it did.
    pub what: String,
    /// Its hash, `0x…`.
    pub hash: String,
    /// The block it was mined in.
    pub block: u64,
    /// The gas it used (the receipt's `gasUsed`).
    pub gas_used: u64,
    /// Its calldata's size in bytes.
    pub calldata_bytes: usize,
    /// Its calldata's cost under EIP-2028 (16 per nonzero byte, 4 per zero byte), so
    /// that the execution gas of a call is `gas_used − 21,000 − calldata_gas` (unless
    /// EIP-7623's floor applies, which it does not to these calldata-light calls).
    pub calldata_gas: u64,
    /// The contract it created, `0x…`, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract: Option<String>,
}

/// A signer on a chain.
#[derive(Debug)]
pub struct Client {
    rpc: Rpc,
    signer: Signer,
    chain_id: u64,
    /// How long to wait for a receipt.
    pub timeout: Duration,
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// `0x…` address text as bytes.
pub fn parse_address(text: &str) -> Result<[u8; 20], OnchainError> {
    let mut out = [0u8; 20];
    hex::decode_to_slice(text.trim().trim_start_matches("0x"), &mut out).map_err(|_| {
        OnchainError::Refused(format!("{text}: not an address (0x + 40 hex digits)"))
    })?;
    Ok(out)
}

impl Client {
    /// Connects: asks the node for its chain id.
    pub fn connect(rpc: Rpc, signer: Signer) -> Result<Self, OnchainError> {
        let chain_id = quantity(&rpc.call("eth_chainId", json!([]))?, "eth_chainId")?;
        Ok(Self {
            rpc,
            signer,
            chain_id,
            timeout: Duration::from_secs(120),
        })
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The signer's address.
    pub fn address(&self) -> [u8; 20] {
        self.signer.address()
    }

    /// `eth_call` of `data` at `to` on the latest block.
    pub fn call(&self, to: [u8; 20], data: &[u8]) -> Result<Vec<u8>, OnchainError> {
        let result = self.rpc.call(
            "eth_call",
            json!([{ "from": hex0x(&self.address()), "to": hex0x(&to), "data": hex0x(data) }, "latest"]),
        )?;
        let text = result.as_str().unwrap_or_default();
        hex::decode(text.trim_start_matches("0x"))
            .map_err(|_| OnchainError::Refused(format!("eth_call: not hex: {result}")))
    }

    /// Sends `data` to `to` (or creates a contract), waits for the receipt and returns
    /// it; a revert is reported before sending when the node's estimate reverts, and
    /// as [`OnchainError::Reverted`] when the mined transaction does.
    pub fn send(
        &self,
        what: &str,
        to: Option<[u8; 20]>,
        data: Vec<u8>,
    ) -> Result<Sent, OnchainError> {
        let from = hex0x(&self.address());
        let mut call = json!({ "from": from, "data": hex0x(&data) });
        if let Some(to) = to {
            call["to"] = json!(hex0x(&to));
        }
        let estimate = quantity(
            &self
                .rpc
                .call("eth_estimateGas", json!([call]))
                .map_err(|e| match e {
                    OnchainError::Rpc { message, data, .. } => OnchainError::Rpc {
                        method: format!("eth_estimateGas ({what})"),
                        message,
                        data,
                    },
                    other => other,
                })?,
            "eth_estimateGas",
        )?;
        // The estimate plus a margin, within the per-transaction cap.
        let gas_limit = (estimate + estimate / 5 + 10_000)
            .min(TX_GAS_CAP)
            .max(estimate);
        let nonce = quantity(
            &self
                .rpc
                .call("eth_getTransactionCount", json!([from, "pending"]))?,
            "eth_getTransactionCount",
        )?;
        let block = self
            .rpc
            .call("eth_getBlockByNumber", json!(["latest", false]))?;
        let base_fee = quantity128(&block["baseFeePerGas"], "baseFeePerGas").unwrap_or(0);
        let tip = self
            .rpc
            .call("eth_maxPriorityFeePerGas", json!([]))
            .ok()
            .and_then(|v| quantity128(&v, "eth_maxPriorityFeePerGas").ok())
            .unwrap_or(1_000_000_000);
        let tx = Transaction {
            chain_id: self.chain_id,
            nonce,
            max_priority_fee_per_gas: tip,
            max_fee_per_gas: base_fee * 2 + tip,
            gas_limit,
            to,
            data,
        };
        let calldata_bytes = tx.data.len();
        let calldata_gas = tx.data.iter().map(|&b| if b == 0 { 4 } else { 16 }).sum();
        let (raw, hash) = tx.sign(&self.signer)?;
        let hash = hex0x(&hash);
        let sent = self
            .rpc
            .call("eth_sendRawTransaction", json!([hex0x(&raw)]))?;
        if sent.as_str() != Some(hash.as_str()) {
            return Err(OnchainError::Refused(format!(
                "the node reports transaction hash {sent}, not the signed one {hash}"
            )));
        }
        let receipt = self.receipt(what, &hash)?;
        let gas_used = quantity(&receipt["gasUsed"], "gasUsed")?;
        if receipt["status"].as_str() != Some("0x1") {
            return Err(OnchainError::Reverted {
                what: what.to_owned(),
                hash,
                gas_used,
            });
        }
        Ok(Sent {
            what: what.to_owned(),
            hash,
            block: quantity(&receipt["blockNumber"], "blockNumber")?,
            gas_used,
            calldata_bytes,
            calldata_gas,
            contract: receipt["contractAddress"].as_str().map(str::to_owned),
        })
    }

    fn receipt(&self, what: &str, hash: &str) -> Result<Value, OnchainError> {
        let start = Instant::now();
        loop {
            let receipt = self.rpc.call("eth_getTransactionReceipt", json!([hash]))?;
            if !receipt.is_null() {
                return Ok(receipt);
            }
            if start.elapsed() > self.timeout {
                return Err(OnchainError::NotMined {
                    what: what.to_owned(),
                    hash: hash.to_owned(),
                    seconds: self.timeout.as_secs(),
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}
