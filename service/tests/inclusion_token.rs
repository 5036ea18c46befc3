//! The inclusion token of `docs/SPEC.md` §10.3 against fixed vectors computed
//! outside this code base:
//!
//! ```text
//! token = hex(SHA-256("backstop inclusion token v1" ‖ secret ‖ id as 8 bytes big-endian))
//! ```
//!
//! where `secret` is the venue secret's 32 raw bytes (§1: "a 32-byte venue secret";
//! not its 64-character hex text). The expected hex strings below were computed
//! with Python 3's `hashlib`, independently of `service/src/auth.rs`:
//!
//! ```python
//! import hashlib
//! def token(secret_hex, account):
//!     return hashlib.sha256(b"backstop inclusion token v1"
//!                           + bytes.fromhex(secret_hex)
//!                           + account.to_bytes(8, "big")).hexdigest()
//! ```
//!
//! and one of them (secret `0011…3210`, account 258) again with coreutils:
//! `{ printf 'backstop inclusion token v1'; printf '0011…3210' | xxd -r -p;
//! printf '0000000000000102' | xxd -r -p; } | sha256sum`.
#![allow(clippy::unwrap_used)] // a failure is the test failing

use backstop_circuits::secret::VenueSecret;
use backstop_service::auth::account_token;

const SECRET_A: &str = "00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210";
const SECRET_B: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

/// `(secret hex, account id, expected token)`.
const VECTORS: [(&str, u64, &str); 8] = [
    (
        SECRET_A,
        0,
        "9301efb82319c2298b9c0c60ee60e693e68ff3fe4bc0c72fb3acc3c399c6855a",
    ),
    (
        SECRET_A,
        1,
        "7a31f9702445c773c95e6cb71fa94ec3ea1ea12ab6234333ab1ebac77dd44c03",
    ),
    // 258 = 0x0102: catches a little-endian or shortened encoding of the id.
    (
        SECRET_A,
        258,
        "44b6517a76e237be89345d46cd4f836e5af341cc62deb508bc3f7d02fcecb8e1",
    ),
    (
        SECRET_A,
        u64::MAX,
        "d3672d61ae8184be68ca1368eda124daca12d0eac27ddbb7e2b31d60b98ceed2",
    ),
    (
        SECRET_B,
        0,
        "d3518ce07942f07d99b249f31a7cc97586a0af63c604ab79430fe03ce24e24bc",
    ),
    (
        SECRET_B,
        1,
        "5ff6267e573397b6b77bc9ba9ab6d0fb1c8ac6f6d3193269b6df9dd10fc3695e",
    ),
    (
        SECRET_B,
        258,
        "05ec89ad1e75c7ff10908459d48fb5114efe797950189c33ee844e1d871d83d0",
    ),
    (
        SECRET_B,
        u64::MAX,
        "f06af0711f43378504a113e8d1ce5ddc0736eeec36104dd1e861e4e04ad2e64a",
    ),
];

#[test]
fn inclusion_tokens_match_independently_computed_vectors() {
    for (secret, account, expected) in VECTORS {
        let secret = VenueSecret::from_hex(secret).unwrap();
        assert_eq!(
            account_token(&secret, account),
            expected,
            "account {account}, secret {}…",
            &hex_prefix(&secret)
        );
    }
}

/// The public demo secret (`b"backstop-demo-secret-NOT-PRIVATE"`, hex
/// `6261636b…5445`): the same formula, the same independent computation.
#[test]
fn the_demo_secrets_tokens_match_independently_computed_vectors() {
    let demo = VenueSecret::demo();
    assert_eq!(
        hex::encode(demo.as_bytes()),
        "6261636b73746f702d64656d6f2d7365637265742d4e4f542d50524956415445"
    );
    for (account, expected) in [
        (
            0,
            "4c74a40179703da0dc753daa5a203f9dd7673c6fed55ea8bee1d341292772cb2",
        ),
        (
            1,
            "84e0838bcabb55b0bbaaffc7044de43f53d2c30c62b11c2bb2ef649759b4436e",
        ),
        (
            258,
            "4848f7db69c09833b22baf8ce9db0c65fda22d1136c4cf9bb0b5c8af8ea51921",
        ),
        (
            u64::MAX,
            "850ad538cf1bb3e197a70c3db4ca31a5d515323356ca90a0fefd3bf1670d8121",
        ),
    ] {
        assert_eq!(account_token(&demo, account), expected, "account {account}");
    }
}

fn hex_prefix(secret: &VenueSecret) -> String {
    hex::encode(&secret.as_bytes()[..4])
}
