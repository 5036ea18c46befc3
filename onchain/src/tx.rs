//! EIP-1559 transactions, signed with secp256k1 (EIP-2718 type 2).

use crate::error::OnchainError;
use alloy_rlp::{Encodable, Header};
use backstop_prover::export::onchain::abi::keccak256;
use k256::ecdsa::SigningKey;
use std::path::Path;

/// The environment variable holding the signing key when no key file is given.
pub const KEY_ENV: &str = "BACKSTOP_ONCHAIN_KEY";

/// A transaction's signer: a secp256k1 key and its address.
pub struct Signer {
    key: SigningKey,
    address: [u8; 20],
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({})", hex::encode(self.address))
    }
}

impl Signer {
    /// The key from `key_file` (32 bytes as hex, `0x` optional, surrounding whitespace
    /// ignored) or else from the environment variable `env` (same format). A key is
    /// never taken from a command-line value, where other users could read it.
    pub fn load(key_file: Option<&Path>, env: &str) -> Result<Self, OnchainError> {
        let (source_name, text) = match key_file {
            Some(path) => (
                path.display().to_string(),
                std::fs::read_to_string(path).map_err(|e| OnchainError::Key {
                    source_name: path.display().to_string(),
                    reason: e.to_string(),
                })?,
            ),
            None => (
                format!("${env}"),
                std::env::var(env).map_err(|_| OnchainError::Key {
                    source_name: format!("${env}"),
                    reason: "not set (or pass --key-file PATH)".into(),
                })?,
            ),
        };
        Self::from_hex(&text).map_err(|reason| OnchainError::Key {
            source_name,
            reason,
        })
    }

    /// A key from 64 hex digits (`0x` optional).
    pub fn from_hex(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let text = text.strip_prefix("0x").unwrap_or(text);
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes)
            .map_err(|_| "not 32 bytes as 64 hex digits".to_owned())?;
        let key = SigningKey::from_bytes((&bytes).into())
            .map_err(|_| "not a valid secp256k1 secret key".to_owned())?;
        bytes.fill(0);
        let point = key.verifying_key().to_encoded_point(false);
        let hash = keccak256(&point.as_bytes()[1..]);
        let mut address = [0u8; 20];
        address.copy_from_slice(&hash[12..]);
        Ok(Self { key, address })
    }

    /// The signer's address.
    pub fn address(&self) -> [u8; 20] {
        self.address
    }
}

/// An unsigned EIP-1559 transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// The chain id.
    pub chain_id: u64,
    /// The sender's nonce.
    pub nonce: u64,
    /// The priority fee per gas, wei.
    pub max_priority_fee_per_gas: u128,
    /// The fee cap per gas, wei.
    pub max_fee_per_gas: u128,
    /// The gas limit.
    pub gas_limit: u64,
    /// The callee, or `None` to create a contract.
    pub to: Option<[u8; 20]>,
    /// The data.
    pub data: Vec<u8>,
}

impl Transaction {
    fn fields(&self, out: &mut Vec<u8>) {
        self.chain_id.encode(out);
        self.nonce.encode(out);
        self.max_priority_fee_per_gas.encode(out);
        self.max_fee_per_gas.encode(out);
        self.gas_limit.encode(out);
        match &self.to {
            Some(to) => to.as_slice().encode(out),
            None => [0u8; 0].as_slice().encode(out),
        }
        0u8.encode(out); // value
        self.data.as_slice().encode(out);
        out.push(0xc0); // an empty access list
    }

    fn typed(payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0x02];
        Header {
            list: true,
            payload_length: payload.len(),
        }
        .encode(&mut out);
        out.extend_from_slice(payload);
        out
    }

    /// The hash the sender signs: keccak256(0x02 ‖ rlp(fields)).
    pub fn signing_hash(&self) -> [u8; 32] {
        let mut payload = Vec::new();
        self.fields(&mut payload);
        keccak256(&Self::typed(&payload))
    }

    /// The signed transaction's raw bytes (for `eth_sendRawTransaction`) and its hash.
    pub fn sign(&self, signer: &Signer) -> Result<(Vec<u8>, [u8; 32]), OnchainError> {
        let (signature, recovery) = signer
            .key
            .sign_prehash_recoverable(&self.signing_hash())
            .map_err(|e| OnchainError::Refused(format!("signing failed: {e}")))?;
        let (r, s) = signature.split_bytes();
        let mut payload = Vec::new();
        self.fields(&mut payload);
        u8::from(recovery.is_y_odd()).encode(&mut payload);
        trim(&r).encode(&mut payload);
        trim(&s).encode(&mut payload);
        let raw = Self::typed(&payload);
        let hash = keccak256(&raw);
        Ok((raw, hash))
    }
}

/// A big-endian integer without leading zero bytes (its RLP string is its RLP
/// integer).
fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anvil_key_has_its_address() {
        // anvil's first default account.
        let s =
            Signer::from_hex("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
                .unwrap();
        assert_eq!(
            hex::encode(s.address()),
            "f39fd6e51aad88f6f4ce6ab8827279cfffb92266"
        );
        assert!(Signer::from_hex("00").is_err());
        assert!(Signer::from_hex(&"00".repeat(32)).is_err());
    }

    #[test]
    fn signature_recovers_to_the_signer() {
        let s = Signer::from_hex(&"42".repeat(32)).unwrap();
        let tx = Transaction {
            chain_id: 31337,
            nonce: 7,
            max_priority_fee_per_gas: 1,
            max_fee_per_gas: 2_000_000_000,
            gas_limit: 100_000,
            to: Some([0x11; 20]),
            data: vec![1, 2, 3],
        };
        let (raw, hash) = tx.sign(&s).unwrap();
        assert_eq!(raw[0], 0x02);
        assert_eq!(hash, keccak256(&raw));
        // The signature at the end recovers to the signer's key.
        let mut body = &raw[1..];
        let header = Header::decode(&mut body).unwrap();
        assert!(header.list);
        let mut items = Vec::new();
        while !body.is_empty() {
            let h = Header::decode(&mut body).unwrap();
            let (item, rest) = body.split_at(h.payload_length);
            items.push((h.list, item.to_vec()));
            body = rest;
        }
        assert_eq!(items.len(), 12);
        let parity = items[9].1.first().copied().unwrap_or(0);
        let mut rs = [0u8; 64];
        rs[32 - items[10].1.len()..32].copy_from_slice(&items[10].1);
        rs[64 - items[11].1.len()..].copy_from_slice(&items[11].1);
        let sig = k256::ecdsa::Signature::from_slice(&rs).unwrap();
        let id = k256::ecdsa::RecoveryId::from_byte(parity).unwrap();
        let key =
            k256::ecdsa::VerifyingKey::recover_from_prehash(&tx.signing_hash(), &sig, id).unwrap();
        assert_eq!(&key, s.key.verifying_key());
    }
}
