//! `backstop onchain deploy` and `backstop onchain submit` (docs/ONCHAIN.md): argument
//! parsing and printing over `backstop-onchain`.

use crate::error::CliError;
use backstop_onchain::client::parse_address;
use backstop_onchain::rpc::Rpc;
use backstop_onchain::submit::Mode;
use backstop_onchain::tx::{KEY_ENV, Signer};
use backstop_onchain::{Client, Sent};
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Deploy the exported contracts and submit epochs over JSON-RPC.
#[derive(Debug, Subcommand)]
pub enum OnchainCommand {
    /// Deploy the contracts of an exported project's deployment.json, in order.
    Deploy {
        /// The exported project (or its deployment.json).
        #[arg(long)]
        project: PathBuf,
        /// The venue's signing-key address (statement.json `venue`).
        #[arg(long)]
        venue: String,
        #[command(flatten)]
        chain: ChainArgs,
    },
    /// Submit an epoch directory to a deployed BackstopEpochs (verified off chain
    /// first): in one transaction, or with --chunk N in chunks of N batches then
    /// finalizeEpoch (resuming after the chunks already verified).
    Submit {
        /// The epoch directory (Groth16).
        epoch_dir: PathBuf,
        /// The BackstopEpochs address.
        #[arg(long)]
        epochs: String,
        /// Submit in chunks of this many batches.
        #[arg(long)]
        chunk: Option<usize>,
        #[command(flatten)]
        chain: ChainArgs,
    },
}

/// Where to send, and who signs.
#[derive(Debug, Args)]
pub struct ChainArgs {
    /// The node's JSON-RPC URL (http://).
    #[arg(long)]
    rpc: String,
    /// A file holding the sender's secret key (64 hex digits); else the environment
    /// variable of --key-env.
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// The environment variable holding the sender's secret key.
    #[arg(long, default_value = KEY_ENV)]
    key_env: String,
    /// Print the transactions as JSON.
    #[arg(long)]
    json: bool,
}

impl ChainArgs {
    fn client(&self) -> Result<Client, CliError> {
        let signer = Signer::load(self.key_file.as_deref(), &self.key_env)?;
        Ok(Client::connect(Rpc::new(&self.rpc)?, signer)?)
    }
}

fn print_sent(sent: &Sent) {
    let created = sent
        .contract
        .as_deref()
        .map(|c| format!(", created {c}"))
        .unwrap_or_default();
    println!(
        "{}: transaction {} in block {}, {} gas used, {} bytes of calldata{created}",
        sent.what, sent.hash, sent.block, sent.gas_used, sent.calldata_bytes
    );
}

/// Runs an `onchain` subcommand.
pub fn run(command: OnchainCommand) -> Result<(), CliError> {
    match command {
        OnchainCommand::Deploy {
            project,
            venue,
            chain,
        } => {
            let venue = parse_address(&venue)?;
            let client = chain.client()?;
            let manifest = backstop_onchain::deploy::read_manifest(&project)?;
            let deployed = backstop_onchain::deploy::deploy(&client, &manifest, venue)?;
            if chain.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&deployed).unwrap_or_default()
                );
            } else {
                for sent in &deployed.transactions {
                    print_sent(sent);
                }
                let total: u64 = deployed.transactions.iter().map(|s| s.gas_used).sum();
                println!(
                    "deployed on chain {}: {total} gas in all",
                    deployed.chain_id
                );
            }
            Ok(())
        }
        OnchainCommand::Submit {
            epoch_dir,
            epochs,
            chunk,
            chain,
        } => {
            let epochs = parse_address(&epochs)?;
            let client = chain.client()?;
            let mode = chunk.map_or(Mode::Whole, Mode::Chunks);
            let sent = backstop_onchain::submit::submit(&client, epochs, &epoch_dir, mode)?;
            if chain.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&sent).unwrap_or_default()
                );
            } else {
                for s in &sent {
                    print_sent(s);
                }
            }
            Ok(())
        }
    }
}
