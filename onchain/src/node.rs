//! A local development node (Foundry's `anvil`) on a free loopback port, for tests
//! and gas measurements: started with its default accounts, stopped when dropped.

use crate::error::OnchainError;
use crate::rpc::Rpc;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// anvil's first default account's secret key: public, for local chains only.
pub const ANVIL_KEY: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// A running anvil.
#[derive(Debug)]
pub struct LocalNode {
    child: Child,
    url: String,
}

impl LocalNode {
    /// Starts `anvil` (its path) on 127.0.0.1 and waits until it answers.
    pub fn start(anvil: &Path) -> Result<Self, OnchainError> {
        let refuse =
            |reason: String| OnchainError::Refused(format!("{}: {reason}", anvil.display()));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| refuse(format!("no free port: {e}")))?
            .port();
        let child = Command::new(anvil)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--silent",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| refuse(format!("cannot start: {e} (run scripts/node/setup)")))?;
        let node = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let rpc = Rpc::new(&node.url)?;
        let start = Instant::now();
        while rpc.call("eth_chainId", serde_json::json!([])).is_err() {
            if start.elapsed() > Duration::from_secs(30) {
                return Err(refuse("did not answer within 30 s".into()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(node)
    }

    /// Its JSON-RPC URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for LocalNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
