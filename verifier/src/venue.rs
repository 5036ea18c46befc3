//! The venue's signature of a statement (`docs/SPEC.md` §7.5): secp256k1 ECDSA over
//! the EIP-191 digest of the statement hash, recoverable by the EVM's `ecrecover`, so
//! that a contract checks it as cheaply as this verifier does.
//!
//! A statement names its venue (`venue`, an address), the descriptor binds that
//! address into every proof's public input, and the signature shows that the
//! venue's key published this statement. A verifier given the trusted venue address
//! (`--venue-key`) refuses every other venue; given the venue's previous statement
//! (`--previous`), it refuses an epoch id that does not increase.

use crate::error::VerifyError;
use backstop_circuits::descriptor::VenueAddress;
use backstop_circuits::hash::{Bn254Poseidon, PastaPoseidon};
use backstop_circuits::statement::{Backend, EpochStatement};
use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
use sha3::{Digest, Keccak256};

/// The venue address of a public key: the last 20 bytes of the Keccak-256 of its
/// uncompressed encoding without the `0x04` prefix (Ethereum's rule).
pub fn address_of(key: &VerifyingKey) -> VenueAddress {
    let point = key.to_encoded_point(false);
    let digest = Keccak256::digest(&point.as_bytes()[1..]);
    let mut out = [0u8; 20];
    out.copy_from_slice(&digest[12..]);
    VenueAddress(out)
}

/// The digest the venue signs: EIP-191 `personal_sign` of the 32-byte statement
/// hash, `keccak256("\x19Ethereum Signed Message:\n32" ‖ hash)`.
pub fn signed_digest(statement_hash: &[u8; 32]) -> [u8; 32] {
    let mut k = Keccak256::new();
    k.update(b"\x19Ethereum Signed Message:\n32");
    k.update(statement_hash);
    k.finalize().into()
}

/// The statement hash of either backend's statement.
pub fn statement_hash(statement: &EpochStatement) -> Result<[u8; 32], VerifyError> {
    Ok(match statement.file().backend {
        Backend::Groth16Bn254 => statement.statement_hash::<Bn254Poseidon>()?,
        Backend::Halo2Pasta => statement.statement_hash::<PastaPoseidon>()?,
    })
}

/// Writes a recoverable signature as `statement.json` carries it: `0x` + hex of
/// `r ‖ s ‖ v`, `v = 27 + recovery id` (the encoding [`recover`] reads).
pub fn encode_signature(signature: &Signature, id: RecoveryId) -> String {
    let mut bytes = signature.to_bytes().to_vec();
    bytes.push(27 + id.to_byte());
    format!("0x{}", hex::encode(bytes))
}

/// Recovers the address that signed `statement_hash` with `signature` (`0x` + 130
/// lowercase hex digits, `r ‖ s ‖ v`, `v` 27 or 28). A high `s` or an upper-case
/// digit is refused: only one encoding and one spelling of a signature is accepted
/// (EIP-2 requires the low `s` of transactions).
pub fn recover(statement_hash: &[u8; 32], signature: &str) -> Result<VenueAddress, VerifyError> {
    let bad = |why: &str| VerifyError::Signature(why.to_owned());
    // One spelling per signature: lowercase, as `prove` and `statement sign` write it.
    let bytes: [u8; 65] = backstop_circuits::json::lower_hex_bytes(signature)
        .ok_or_else(|| bad("not 0x + 130 lowercase hex digits (r ‖ s ‖ v)"))?;
    let signature =
        Signature::from_slice(&bytes[..64]).map_err(|_| bad("r or s is not a valid scalar"))?;
    if signature.normalize_s().is_some() {
        return Err(bad("s is in the upper half of the group order (EIP-2)"));
    }
    let v = match bytes[64] {
        27 => 0,
        28 => 1,
        _ => return Err(bad("v is neither 27 nor 28")),
    };
    let id = RecoveryId::from_byte(v).ok_or_else(|| bad("v"))?;
    let key = VerifyingKey::recover_from_prehash(&signed_digest(statement_hash), &signature, id)
        .map_err(|_| bad("no public key recovers from it"))?;
    Ok(address_of(&key))
}

/// Checks that the statement is signed by the venue it names, and that this venue is
/// `trusted` when one is given; returns the venue.
pub fn check_signature(
    statement: &EpochStatement,
    trusted: Option<VenueAddress>,
) -> Result<VenueAddress, VerifyError> {
    let named = statement.venue();
    let signature = statement
        .file()
        .signature
        .as_deref()
        .ok_or(VerifyError::Unsigned)?;
    let signer = recover(&statement_hash(statement)?, signature)?;
    if signer != named {
        return Err(VerifyError::VenueMismatch {
            expected: named.to_string(),
            got: signer.to_string(),
            what: "the statement's venue",
        });
    }
    if let Some(trusted) = trusted
        && named != trusted
    {
        return Err(VerifyError::VenueMismatch {
            expected: trusted.to_string(),
            got: named.to_string(),
            what: "the trusted venue (--venue-key)",
        });
    }
    Ok(named)
}

/// Checks `statement` against the same venue's previous statement: same venue, and an
/// epoch id strictly above the previous one.
pub fn check_previous(
    statement: &EpochStatement,
    previous: &EpochStatement,
) -> Result<(), VerifyError> {
    if previous.venue() != statement.venue() {
        return Err(VerifyError::VenueMismatch {
            expected: previous.venue().to_string(),
            got: statement.venue().to_string(),
            what: "the previous statement's venue (--previous)",
        });
    }
    let (before, now) = (previous.file().epoch, statement.file().epoch);
    if now <= before {
        return Err(VerifyError::EpochNotIncreasing {
            previous: before,
            epoch: now,
        });
    }
    Ok(())
}

/// Parses a trusted venue address given on the command line.
pub fn parse_venue(text: &str) -> Result<VenueAddress, VerifyError> {
    VenueAddress::parse(text.trim()).ok_or_else(|| {
        VerifyError::Signature(format!(
            "venue key {text:?}: not an address, 0x + 40 lowercase hex digits"
        ))
    })
}
