//! Backstop's on-chain client (`docs/ONCHAIN.md`, "Deploy and submit over
//! JSON-RPC"): `backstop onchain deploy` deploys the contracts of an exported
//! project's `deployment.json` in order, and `backstop onchain submit` submits an
//! epoch directory to a deployed `BackstopEpochs`, in one transaction or in ordered
//! chunks (`submitBatches`, then `finalizeEpoch`). Transactions are EIP-1559, signed
//! here with a key read from a file or an environment variable, and sent over
//! JSON-RPC ([`rpc`]); every one is reported with its hash and the gas it used.

pub mod client;
pub mod deploy;
pub mod error;
pub mod node;
pub mod rpc;
pub mod submit;
pub mod tx;

pub use client::{Client, Sent};
pub use error::OnchainError;
