//! A minimal JSON-RPC 2.0 client over HTTP/1.1 (`http://` endpoints: a local node,
//! or a TLS-terminating proxy in front of a remote one), one connection per call.

use crate::error::OnchainError;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A JSON-RPC endpoint.
#[derive(Debug, Clone)]
pub struct Rpc {
    url: String,
    host: String,
    port: u16,
    path: String,
    timeout: Duration,
}

impl Rpc {
    /// Parses `http://host[:port][/path]`. `https://` is refused with an explanation.
    pub fn new(url: &str) -> Result<Self, OnchainError> {
        let refuse = |reason: &str| OnchainError::Transport {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        if url.starts_with("https://") {
            return Err(refuse(
                "https is not supported by this client: use a local node (anvil, geth, reth) \
                 or an http proxy that terminates TLS",
            ));
        }
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| refuse("not an http:// URL"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        // `host`, `host:port`, `[v6]` or `[v6]:port`.
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => v6.split_once(']').ok_or_else(|| refuse("unclosed ["))?,
            None => authority.split_once(':').unwrap_or((authority, "")),
        };
        let port = match port.strip_prefix(':').unwrap_or(port) {
            "" => 80,
            p => p.parse::<u16>().map_err(|_| refuse("bad port"))?,
        };
        if host.is_empty() {
            return Err(refuse("no host"));
        }
        Ok(Self {
            url: url.to_owned(),
            host: host.to_owned(),
            port,
            path: path.to_owned(),
            timeout: Duration::from_secs(60),
        })
    }

    fn transport(&self, reason: impl std::fmt::Display) -> OnchainError {
        OnchainError::Transport {
            url: self.url.clone(),
            reason: reason.to_string(),
        }
    }

    /// Calls `method` with `params` and returns its `result`.
    pub fn call(&self, method: &str, params: Value) -> Result<Value, OnchainError> {
        let body =
            json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string();
        let response = self.post(&body)?;
        let reply: Value = serde_json::from_slice(&response)
            .map_err(|e| self.transport(format!("{method}: the answer is not JSON: {e}")))?;
        if let Some(error) = reply.get("error").filter(|e| !e.is_null()) {
            return Err(OnchainError::Rpc {
                method: method.to_owned(),
                message: error["message"].as_str().unwrap_or("no message").to_owned(),
                data: match &error["data"] {
                    Value::String(s) => Some(s.clone()),
                    Value::Null => None,
                    other => Some(other.to_string()),
                },
            });
        }
        reply
            .get("result")
            .cloned()
            .ok_or_else(|| self.transport(format!("{method}: no result in the answer")))
    }

    fn post(&self, body: &str) -> Result<Vec<u8>, OnchainError> {
        let mut stream = TcpStream::connect((self.host.as_str(), self.port))
            .map_err(|e| self.transport(format!("connecting: {e}")))?;
        stream
            .set_read_timeout(Some(self.timeout))
            .and_then(|()| stream.set_write_timeout(Some(self.timeout)))
            .map_err(|e| self.transport(e))?;
        let request = format!(
            "POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.path,
            self.host,
            self.port,
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .map_err(|e| self.transport(format!("sending: {e}")))?;
        let mut reader = BufReader::new(stream);
        let mut status = String::new();
        reader
            .read_line(&mut status)
            .map_err(|e| self.transport(format!("reading: {e}")))?;
        let code = status.split_whitespace().nth(1).unwrap_or("");
        let mut length = None;
        let mut chunked = false;
        loop {
            let mut line = String::new();
            reader
                .read_line(&mut line)
                .map_err(|e| self.transport(format!("reading: {e}")))?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                let value = value.trim();
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.parse::<usize>().ok(),
                    "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                    _ => {}
                }
            }
        }
        let body = if chunked {
            let mut body = Vec::new();
            loop {
                let mut size = String::new();
                reader
                    .read_line(&mut size)
                    .map_err(|e| self.transport(format!("reading: {e}")))?;
                let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|_| self.transport("bad chunk size"))?;
                let mut chunk = vec![0; size + 2];
                reader
                    .read_exact(&mut chunk)
                    .map_err(|e| self.transport(format!("reading: {e}")))?;
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..size]);
            }
            body
        } else if let Some(n) = length {
            let mut body = vec![0; n];
            reader
                .read_exact(&mut body)
                .map_err(|e| self.transport(format!("reading: {e}")))?;
            body
        } else {
            let mut body = Vec::new();
            reader
                .read_to_end(&mut body)
                .map_err(|e| self.transport(format!("reading: {e}")))?;
            body
        };
        if code != "200" {
            return Err(self.transport(format!(
                "HTTP {}: {}",
                status.trim(),
                String::from_utf8_lossy(&body)
                    .chars()
                    .take(200)
                    .collect::<String>()
            )));
        }
        Ok(body)
    }
}

/// A `0x…` quantity as u64.
pub fn quantity(value: &Value, what: &str) -> Result<u64, OnchainError> {
    value
        .as_str()
        .and_then(|s| s.strip_prefix("0x"))
        .and_then(|s| u64::from_str_radix(s, 16).ok())
        .ok_or_else(|| OnchainError::Refused(format!("{what}: not a 64-bit quantity: {value}")))
}

/// A `0x…` quantity as u128.
pub fn quantity128(value: &Value, what: &str) -> Result<u128, OnchainError> {
    value
        .as_str()
        .and_then(|s| s.strip_prefix("0x"))
        .and_then(|s| u128::from_str_radix(s, 16).ok())
        .ok_or_else(|| OnchainError::Refused(format!("{what}: not a quantity: {value}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let r = Rpc::new("http://127.0.0.1:8545").unwrap();
        assert_eq!(
            (r.host.as_str(), r.port, r.path.as_str()),
            ("127.0.0.1", 8545, "/")
        );
        let r = Rpc::new("http://node.local/rpc/v1").unwrap();
        assert_eq!(
            (r.host.as_str(), r.port, r.path.as_str()),
            ("node.local", 80, "/rpc/v1")
        );
        let r = Rpc::new("http://[::1]:8545").unwrap();
        assert_eq!((r.host.as_str(), r.port), ("::1", 8545));
        let r = Rpc::new("http://[::1]").unwrap();
        assert_eq!((r.host.as_str(), r.port), ("::1", 80));
        assert!(Rpc::new("http://[::1:8545").is_err());
        assert!(Rpc::new("https://example.com").is_err());
        assert!(Rpc::new("ws://example.com").is_err());
        assert!(Rpc::new("http://:80").is_err());
    }
}
