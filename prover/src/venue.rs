//! The venue's signing key (`docs/SPEC.md` §7.5): where the prover gets it (a file,
//! the environment, or the loudly announced demo key) and how it signs a statement.
//!
//! The key's address is the venue identity: it enters every proof's public input
//! through the descriptor (§5.5), so set it on the snapshot
//! ([`Snapshot::with_venue`](backstop_circuits::model::Snapshot::with_venue))
//! before proving, and sign the statement after.

use crate::error::ProverError;
use backstop_circuits::descriptor::VenueAddress;
use backstop_circuits::statement::{EpochStatement, StatementFile};
use backstop_verifier::venue::{address_of, signed_digest, statement_hash};
use k256::ecdsa::SigningKey;
use std::path::Path;

/// The environment variable holding the venue's signing key as 64 hex characters.
pub const VENUE_KEY_ENV: &str = "BACKSTOP_VENUE_KEY";

/// The demo key's seed: its SHA-256 is the secret scalar.
const DEMO_KEY_SEED: &[u8] = b"backstop-demo-venue-key-NOT-PRIVATE";

/// Warning printed to stderr whenever the demo venue key is used.
pub const DEMO_KEY_WARNING: &str = "WARNING: signing with the PUBLIC DEMO venue key. Anyone can \
sign statements as this venue: its signature proves nothing about who published the epoch. \
Give the venue's own key with --venue-key-file FILE or the BACKSTOP_VENUE_KEY environment \
variable.";

/// A venue's secp256k1 signing key. Its secret is never printed (`Debug` shows the
/// address only).
pub struct VenueKey {
    key: SigningKey,
    demo: bool,
}

impl core::fmt::Debug for VenueKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VenueKey")
            .field("address", &self.address().to_string())
            .field("demo", &self.demo)
            .finish_non_exhaustive()
    }
}

impl VenueKey {
    /// The public demo key: for demos and tests only.
    pub fn demo() -> Self {
        use sha2::Digest;
        // SHA-256 of the seed, a valid scalar (checked by the test below).
        let scalar: [u8; 32] = sha2::Sha256::digest(DEMO_KEY_SEED).into();
        Self {
            key: SigningKey::from_slice(&scalar).expect("the demo scalar is in range"),
            demo: true,
        }
    }

    /// Parses 64 hex characters (optionally `0x`-prefixed, surrounding whitespace
    /// ignored): a secret scalar in `[1, n)`.
    pub fn from_hex(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let digits = text.strip_prefix("0x").unwrap_or(text);
        if digits.len() != 64 {
            return Err(format!(
                "expected 64 hex characters (32 bytes), got {} characters",
                digits.len()
            ));
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(digits, &mut bytes).map_err(|_| "not hex".to_owned())?;
        let key = SigningKey::from_slice(&bytes)
            .map_err(|_| "not a secp256k1 secret key (zero or not below the group order)")?;
        Ok(Self { key, demo: false })
    }

    /// The venue address of this key.
    pub fn address(&self) -> VenueAddress {
        address_of(self.key.verifying_key())
    }

    /// Whether this is the public demo key.
    pub fn is_demo(&self) -> bool {
        self.demo
    }

    /// Signs `file` in place: checks that it is a valid statement naming this key's
    /// venue, then writes the signature of its statement hash (replacing any).
    pub fn sign(&self, file: &mut StatementFile) -> Result<(), ProverError> {
        let mut unsigned = file.clone();
        unsigned.signature = None;
        let statement = EpochStatement::new(unsigned)
            .map_err(|e| ProverError::Refused(format!("statement.json: {e}")))?;
        if statement.venue() != self.address() {
            return Err(ProverError::Refused(format!(
                "statement.json names venue {}, but the venue key is {}'s",
                statement.venue(),
                self.address()
            )));
        }
        let hash = statement_hash(&statement)
            .map_err(|e| ProverError::Refused(format!("statement.json: {e}")))?;
        file.signature = Some(format!("0x{}", hex::encode(self.sign_hash(&hash)?)));
        Ok(())
    }

    /// Signs a 32-byte hash as `personal_sign` does: the EIP-191 digest of `hash`
    /// (`docs/SPEC.md` §7.5), as `r ‖ s ‖ v` with a low `s` and `v` 27 or 28, the form
    /// the verifier and the epoch contract's `ecrecover` check. The epoch contract's
    /// venue actions (`docs/ONCHAIN.md`) are signed this way too.
    pub fn sign_hash(&self, hash: &[u8; 32]) -> Result<[u8; 65], ProverError> {
        let (signature, id) = self
            .key
            .sign_prehash_recoverable(&signed_digest(hash))
            .map_err(|e| ProverError::Refused(format!("signing failed: {e}")))?;
        // k256 signs with a low s (EIP-2), which the verifier requires.
        let mut out = [0u8; 65];
        out[..64].copy_from_slice(&signature.to_bytes());
        out[64] = 27 + id.to_byte();
        Ok(out)
    }
}

/// Loads the venue key: `--venue-key-file` first, then [`VENUE_KEY_ENV`], else the
/// demo key (after printing [`DEMO_KEY_WARNING`] to stderr).
pub fn load(file: Option<&Path>) -> Result<VenueKey, ProverError> {
    let refused =
        |source: &str, why: String| ProverError::Refused(format!("venue key from {source}: {why}"));
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|e| ProverError::io(path, e))?;
        return VenueKey::from_hex(&text).map_err(|e| refused(&path.display().to_string(), e));
    }
    if let Ok(text) = std::env::var(VENUE_KEY_ENV) {
        return VenueKey::from_hex(&text).map_err(|e| refused(VENUE_KEY_ENV, e));
    }
    eprintln!("{DEMO_KEY_WARNING}");
    Ok(VenueKey::demo())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_parse_and_never_show_their_secret() {
        let secret = "11".repeat(32);
        let key = VenueKey::from_hex(&format!("0x{secret}\n")).unwrap();
        assert!(!format!("{key:?}").contains(&secret));
        assert!(!key.is_demo() && VenueKey::demo().is_demo());
        assert_ne!(key.address(), VenueKey::demo().address());
        for bad in [
            "",
            "11",
            &"00".repeat(32),
            &"ff".repeat(32),
            &"zz".repeat(32),
        ] {
            assert!(VenueKey::from_hex(bad).is_err(), "{bad}");
        }
    }

    /// A known vector: the secret key 1's address is Ethereum's well-known
    /// `0x7e5f4552091a69125d5dfcb7b8c2659029395bdf`.
    #[test]
    fn address_follows_ethereum() {
        let one = VenueKey::from_hex(&format!("{:064x}", 1)).unwrap();
        assert_eq!(
            one.address().to_string(),
            "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf"
        );
    }
}
