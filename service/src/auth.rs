//! Who may call the API.
//!
//! * The operator (the venue's risk system) presents the **API token** as
//!   `Authorization: Bearer TOKEN` on every `/v1` request. It comes from
//!   `--token-file`, else `BACKSTOP_API_TOKEN`, else `backstop-service/token`
//!   (generated with 32 random bytes, mode 0600, on first start).
//! * An account's owner presents the account's **inclusion token** to fetch that
//!   account's inclusion proof, and nothing else. The token is
//!   `hex(SHA-256("backstop inclusion token v1" ‖ secret ‖ account_id as 8
//!   bytes big-endian))`: the venue derives it from its secret (`backstop
//!   inclusion-token --account ID`) and hands it to the owner out of band (in
//!   its account page, say). It is fixed-length keyed hashing, so knowing other
//!   accounts' tokens does not help forge one; it does not change across epochs,
//!   and revoking it means changing the venue secret.

use crate::ServiceError;
use backstop_circuits::secret::VenueSecret;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The environment variable holding the API token.
pub const TOKEN_ENV: &str = "BACKSTOP_API_TOKEN";
/// Where a generated API token is written when neither a file nor the variable gives one.
pub const DEFAULT_TOKEN_FILE: &str = "backstop-service/token";

/// `n` random bytes from the OS, as hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The API token: `--token-file`, else [`TOKEN_ENV`], else [`DEFAULT_TOKEN_FILE`]
/// (generated if missing). Empty tokens are refused.
pub fn api_token(file: Option<&Path>) -> Result<String, ServiceError> {
    let read = |path: &Path| -> Result<String, ServiceError> {
        let text = std::fs::read_to_string(path).map_err(|e| ServiceError::io(path, e))?;
        let token = text.trim().to_owned();
        if token.is_empty() {
            return Err(ServiceError::Config(format!(
                "{}: the API token is empty",
                path.display()
            )));
        }
        Ok(token)
    };
    if let Some(path) = file {
        return read(path);
    }
    if let Ok(token) = std::env::var(TOKEN_ENV) {
        let token = token.trim().to_owned();
        if token.is_empty() {
            return Err(ServiceError::Config(format!("{TOKEN_ENV} is empty")));
        }
        return Ok(token);
    }
    let path = PathBuf::from(DEFAULT_TOKEN_FILE);
    if path.is_file() {
        eprintln!("API token: read from {}", path.display());
        return read(&path);
    }
    let token = random_hex(32);
    write_private(&path, token.as_bytes())?;
    eprintln!(
        "API token: generated and written to {} (mode 0600); send it as `Authorization: Bearer TOKEN`",
        path.display()
    );
    Ok(token)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ServiceError> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| ServiceError::io(parent, e))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(|e| ServiceError::io(path, e))?;
    f.write_all(bytes).map_err(|e| ServiceError::io(path, e))
}

/// The inclusion token of `account` (see the module documentation).
pub fn account_token(secret: &VenueSecret, account: u64) -> String {
    let mut h = Sha256::new();
    h.update(b"backstop inclusion token v1");
    h.update(secret.as_bytes());
    h.update(account.to_be_bytes());
    hex::encode(h.finalize())
}

/// A fingerprint of the venue secret, so that a process with another secret never
/// claims an epoch's tasks (its proofs would not verify).
pub fn secret_id(secret: &VenueSecret) -> String {
    let mut h = Sha256::new();
    h.update(b"backstop secret id v1");
    h.update(secret.as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// Compares two tokens in time independent of where they differ.
pub fn tokens_equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The bearer token of an `Authorization` header value.
pub fn bearer(header: Option<&str>) -> Option<&str> {
    let value = header?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn account_tokens_differ_by_account_and_secret() {
        let demo = VenueSecret::demo();
        let t1 = account_token(&demo, 1);
        assert_eq!(t1.len(), 64);
        assert_ne!(t1, account_token(&demo, 2));
        let other = VenueSecret::from_hex(&"5a".repeat(32)).unwrap();
        assert_ne!(t1, account_token(&other, 1));
        assert!(tokens_equal(&t1, &account_token(&demo, 1)));
        assert!(!tokens_equal(&t1, &t1[1..]));
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(None), None);
    }
}
