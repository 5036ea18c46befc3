//! The statement descriptor `d` (`docs/SPEC.md` §5.5): one field element binding,
//! through `params_hash`, every published parameter in the exact form a reader sees
//! it (the venue, the epoch, every decimal count, price, margin rate and symbol,
//! reserves and the insurance fund), so that no two readings of a statement share a
//! public input.
//!
//! The parameters hash of statement v1 covered only derived values (`price·f_m`,
//! `reserves·f_q`, …), and several readings give the same derived values: one more
//! decimal on the quote currency and on every size, or a decimal moved from a size to
//! its price, or two symbols swapped. `d` hashes the raw values instead. It is a
//! Keccak-256 digest of a byte string that Solidity's `abi.encodePacked` reproduces,
//! so that a contract computes it as cheaply as any verifier.

use crate::model::EpochParams;
use ethnum::U256;
use sha3::{Digest, Keccak256};

/// The domain of the descriptor encoding (its first bytes).
pub const DESCRIPTOR_DOMAIN: &[u8] = b"backstop.descriptor.v2";

/// A venue's identity: the 20-byte Ethereum address of its signing key
/// (`docs/SPEC.md` §7.5), written `0x` + 40 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct VenueAddress(pub [u8; 20]);

impl VenueAddress {
    /// Parses `0x` + 40 hex digits. Lowercase only, so that one address has one
    /// spelling (an EIP-55 mixed-case checksum spelling is refused, not reinterpreted).
    pub fn parse(text: &str) -> Option<Self> {
        crate::json::lower_hex_bytes(text).map(Self)
    }
}

impl core::fmt::Display for VenueAddress {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

/// The descriptor's bytes (`docs/SPEC.md` §5.5), big-endian throughout:
///
/// ```text
/// "backstop.descriptor.v2" ‖ venue (20 bytes) ‖ epoch (uint64) ‖ quote_decimals (uint8)
///   ‖ reserves (uint128) ‖ insurance_fund (uint128) ‖ M (uint8)
///   ‖ for each market: symbol (32 bytes) ‖ price (uint64)
///                      ‖ price_decimals (uint8) ‖ size_decimals (uint8) ‖ mm_bps (uint16)
///   ‖ owner_binding (uint8: 0 none, 1 partial, 2 all)
/// ```
///
/// and, only for risk model v2 parameters (brackets or collateral assets):
///
/// ```text
///   ‖ for each market: tier count (uint8) ‖ for each tier: notional_floor (uint64)
///                                                          ‖ mm_bps (uint16)
///   ‖ A (uint8) ‖ for each asset: symbol (32 bytes) ‖ price (uint64)
///                 ‖ price_decimals (uint8) ‖ amount_decimals (uint8)
///                 ‖ collateral_ratio_bps (uint16) ‖ reserves (uint128)
/// ```
///
/// and, only for parameters with the default waterfall (`docs/SPEC.md` §2.4: a market
/// declares `liquidation_fee_bps`):
///
/// ```text
///   ‖ 0xff ‖ for each market: liquidation_fee_bps (uint16)
/// ```
///
/// (`0xff` is no tier count, so the waterfall's part cannot be read as the risk
/// model v2 part, which starts with market 0's tier count, at most 7.)
///
/// A symbol is its ASCII bytes padded on the right with zero bytes to 32 (Solidity's
/// `bytes32`): symbols have 1 to 32 bytes and no zero byte, so the padding is
/// injective. Every other field has a fixed width and the market count precedes the
/// markets, so the whole encoding is injective.
pub fn descriptor_bytes(params: &EpochParams) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + 48 * params.markets().len());
    out.extend_from_slice(DESCRIPTOR_DOMAIN);
    out.extend_from_slice(&params.venue().0);
    out.extend_from_slice(&params.epoch().to_be_bytes());
    // Decimals are at most 18, symbols 1 to 32 bytes, markets 1 to 64 (`model`).
    out.push(params.quote_decimals() as u8);
    out.extend_from_slice(&params.reserves().to_be_bytes());
    out.extend_from_slice(&params.insurance_fund().to_be_bytes());
    out.push(params.markets().len() as u8);
    for m in params.markets() {
        out.extend_from_slice(&symbol_word(m.symbol()));
        out.extend_from_slice(&m.price().get().to_be_bytes());
        out.push(m.price_decimals() as u8);
        out.push(m.size_decimals() as u8);
        out.extend_from_slice(&m.maintenance_margin_bps().get().to_be_bytes());
    }
    out.push(params.owner_binding().code());
    if params.uses_risk_model_v2() {
        // At most 7 tiers per market and 16 assets (`bounds`).
        for m in params.markets() {
            out.push(m.tiers().len() as u8);
            for t in m.tiers() {
                out.extend_from_slice(&t.notional_floor().to_be_bytes());
                out.extend_from_slice(&t.maintenance_margin_bps().get().to_be_bytes());
            }
        }
        out.push(params.assets().len() as u8);
        for a in params.assets() {
            out.extend_from_slice(&symbol_word(a.symbol()));
            out.extend_from_slice(&a.price().get().to_be_bytes());
            out.push(a.price_decimals() as u8);
            out.push(a.amount_decimals() as u8);
            out.extend_from_slice(&a.collateral_ratio_bps().get().to_be_bytes());
            out.extend_from_slice(&a.reserves().to_be_bytes());
        }
    }
    if params.has_waterfall() {
        out.push(WATERFALL_MARK);
        for m in params.markets() {
            out.extend_from_slice(&m.liquidation_fee_bps().get().to_be_bytes());
        }
    }
    out
}

/// The byte that opens the waterfall's part of the descriptor.
pub const WATERFALL_MARK: u8 = 0xff;

/// A symbol as a right-padded 32-byte word (`bytes32` in Solidity).
pub fn symbol_word(symbol: &str) -> [u8; 32] {
    let mut word = [0u8; 32];
    let bytes = symbol.as_bytes();
    word[..bytes.len().min(32)].copy_from_slice(&bytes[..bytes.len().min(32)]);
    word
}

/// `d = keccak256(descriptor_bytes) mod 2^248`: below both backends' moduli, so it
/// embeds in either field unchanged.
pub fn descriptor(params: &EpochParams) -> U256 {
    let digest: [u8; 32] = Keccak256::digest(descriptor_bytes(params)).into();
    U256::from_be_bytes(digest) & ((U256::ONE << 248) - U256::ONE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MarginBps, Market, OwnerBinding, Price};

    fn params(q: u32, markets: &[(&str, u64, u32, u32, u16)]) -> EpochParams {
        let markets = markets
            .iter()
            .map(|&(s, p, pd, sd, mm)| {
                Market::new(
                    s,
                    Price::new(p.into()).unwrap(),
                    pd,
                    sd,
                    MarginBps::new(mm.into()).unwrap(),
                )
                .unwrap()
            })
            .collect();
        EpochParams::new(7, q, 1_000, 50, markets).unwrap()
    }

    #[test]
    fn address_spelling_is_canonical() {
        let a = "0x00112233445566778899aabbccddeeff00112233";
        assert_eq!(VenueAddress::parse(a).unwrap().to_string(), a);
        for bad in [
            "0x00112233445566778899AABBCCDDEEFF00112233",
            "00112233445566778899aabbccddeeff00112233",
            "0x00112233445566778899aabbccddeeff0011223",
            "0x00112233445566778899aabbccddeeff0011223g",
        ] {
            assert_eq!(VenueAddress::parse(bad), None, "{bad}");
        }
    }

    /// The three relabellings that v1's derived parameters could not tell apart each
    /// change `d` (they leave `uv`, `ur` and `reserves·f_q` unchanged).
    #[test]
    fn relabellings_change_the_descriptor() {
        let honest = params(2, &[("BTC", 30_000, 0, 3, 500), ("ETH", 2_000, 1, 2, 700)]);
        let d = descriptor(&honest);
        let one_more_decimal = EpochParams::new(
            7,
            3,
            10_000,
            500,
            params(3, &[("BTC", 30_000, 0, 4, 500), ("ETH", 2_000, 1, 3, 700)])
                .markets()
                .to_vec(),
        )
        .unwrap();
        let moved = params(
            2,
            &[("BTC", 300_000, 1, 2, 500), ("ETH", 20_000, 2, 1, 700)],
        );
        let swapped = params(2, &[("ETH", 30_000, 0, 3, 500), ("BTC", 2_000, 1, 2, 700)]);
        let venue = honest.clone().with_venue(VenueAddress([1; 20]));
        let owners = honest.clone().with_owner_binding(OwnerBinding::All);
        for other in [one_more_decimal, moved, swapped, venue, owners] {
            assert_ne!(descriptor(&other), d, "{other:?}");
        }
        assert!(d < (U256::ONE << 248));
    }

    /// The encoding, spelled out byte by byte for one market (what a third-party
    /// checker or a contract reproduces).
    #[test]
    fn encoding_is_as_specified() {
        let p = params(6, &[("BTC-PERP", 654_321, 1, 4, 250)]);
        let mut expected = b"backstop.descriptor.v2".to_vec();
        expected.extend([0u8; 20]);
        expected.extend(7u64.to_be_bytes());
        expected.push(6);
        expected.extend(1_000u128.to_be_bytes());
        expected.extend(50u128.to_be_bytes());
        expected.push(1);
        expected.extend(b"BTC-PERP");
        expected.extend([0u8; 24]);
        expected.extend(654_321u64.to_be_bytes());
        expected.extend([1, 4]);
        expected.extend(250u16.to_be_bytes());
        expected.push(0);
        assert_eq!(descriptor_bytes(&p), expected);
        let mut partial = expected.clone();
        *partial.last_mut().unwrap() = 1;
        let p = p.with_owner_binding(OwnerBinding::Partial);
        assert_eq!(descriptor_bytes(&p), partial);
    }
}
