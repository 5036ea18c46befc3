//! The venue secret from which per-account salts and chain blindings are derived
//! (`docs/SPEC.md` §5.1).

use core::fmt;
use thiserror::Error;

/// 32 secret bytes held by the venue. Salts and blindings derived from it hide
/// low-entropy account data inside leaves and the running state inside the chain.
#[derive(Clone, PartialEq, Eq)]
pub struct VenueSecret([u8; 32]);

/// Why a venue secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SecretError {
    /// Not 64 hexadecimal characters.
    #[error(
        "a venue secret is 64 hexadecimal characters (32 bytes), optionally followed by a newline"
    )]
    Malformed,
    /// All zero bytes: certainly not a secret.
    #[error("the venue secret is all zeros")]
    AllZero,
}

/// The demo secret's bytes: public, so anything derived from it hides nothing.
const DEMO: [u8; 32] = *b"backstop-demo-secret-NOT-PRIVATE";

impl VenueSecret {
    /// Parses 64 hex characters (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Self, SecretError> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut bytes).map_err(|_| SecretError::Malformed)?;
        if bytes == [0u8; 32] {
            return Err(SecretError::AllZero);
        }
        Ok(Self(bytes))
    }

    /// The publicly known demo secret. Salts derived from it protect nothing:
    /// callers must say so loudly wherever it is used.
    pub fn demo() -> Self {
        Self(DEMO)
    }

    /// Whether this is the public demo secret.
    pub fn is_demo(&self) -> bool {
        self.0 == DEMO
    }

    /// The secret bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for VenueSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_demo() {
            f.write_str("VenueSecret(demo)")
        } else {
            f.write_str("VenueSecret(<redacted>)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_redacts() {
        let s = VenueSecret::from_hex(&"ab".repeat(32)).unwrap();
        assert_eq!(format!("{s:?}"), "VenueSecret(<redacted>)");
        assert_eq!(
            VenueSecret::from_hex(&"0".repeat(64)),
            Err(SecretError::AllZero)
        );
        assert_eq!(VenueSecret::from_hex("abcd"), Err(SecretError::Malformed));
        assert!(VenueSecret::demo().is_demo());
    }
}
