//! Properties of the native commitments (`docs/SPEC.md` §5–§6), for both fields.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the test failing

use backstop_circuits::hash::{Bn254Poseidon, FieldHasher, PastaPoseidon};
use backstop_circuits::model::{
    Account, AccountId, Balance, EpochParams, MarginBps, Market, Price, Size, Snapshot,
};
use backstop_circuits::native::commit::{
    BatchSize, LayoutError, PADDING_FLAG_BIT, account_salt, commit_epoch, leaf, leaf_words,
    liquidation_product, root_from_path, secret_element, state_blinding, state_commitment,
};
use backstop_circuits::native::evaluate;
use backstop_circuits::secret::VenueSecret;
use ethnum::U256;

fn snapshot(n: u64, markets: usize) -> Snapshot {
    let ms = (0..markets)
        .map(|i| {
            Market::new(
                &format!("M{i}"),
                Price::new(1_000 + i as i128).unwrap(),
                2,
                4,
                MarginBps::new(500).unwrap(),
            )
            .unwrap()
        })
        .collect();
    let params = EpochParams::new(5, 6, 1 << 80, 1 << 60, ms).unwrap();
    let accounts = (0..n)
        .map(|i| {
            let size = (i as i128 % 7 - 3) * 10_000;
            Account::new(
                AccountId::new(3 * i + 1),
                Balance::new(i as i128 * 1_000 - 20_000).unwrap(),
                vec![Size::new(size).unwrap(); markets],
            )
        })
        .collect();
    Snapshot::new(params, accounts).unwrap()
}

#[test]
fn batch_sizes_are_powers_of_eight() {
    for ok in [8u64, 64, 512, 4096, 32768] {
        assert!(BatchSize::new(ok).is_ok(), "{ok}");
    }
    for bad in [0u64, 1, 2, 4, 16, 32, 100, 256, 262_144] {
        assert_eq!(BatchSize::new(bad), Err(LayoutError::BatchSize(bad)));
    }
    let b = BatchSize::new(64).unwrap();
    assert_eq!(
        (
            b.depth(),
            b.batch_count(1),
            b.batch_count(64),
            b.batch_count(65)
        ),
        (2, 1, 1, 2)
    );
}

#[test]
fn leaf_packing_is_three_lanes_a_word() {
    let s = snapshot(1, 8);
    let a = &s.accounts()[0];
    let w = leaf_words(Some(a), 8, 0);
    assert_eq!(w.len(), 4, "10 lanes in 4 words (SPEC §5.2)");
    assert_eq!(w[0] & U256::from(u64::MAX), U256::from(a.id().get()));
    let bal_lane = (w[0] >> 64) & U256::from(u64::MAX);
    assert_eq!(
        bal_lane,
        U256::from((a.quote_balance().get() as i128 + (1i128 << 63)) as u64)
    );
    assert!(w.iter().all(|x| *x < (U256::ONE << 192)));
    let pad = leaf_words(None, 8, 0);
    assert_eq!(pad[0] >> PADDING_FLAG_BIT, U256::ONE);
    assert_eq!(
        pad[1],
        U256::from(1u64 << 63) | (U256::from(1u64 << 63) << 64) | (U256::from(1u64 << 63) << 128)
    );
}

fn chain_matches_evaluation<H: FieldHasher>() {
    let s = snapshot(137, 3);
    let b = BatchSize::new(64).unwrap();
    let c = commit_epoch::<H>(&s, &VenueSecret::demo(), b);
    assert_eq!(c.batches.len(), 3);
    assert_eq!(c.states.len(), 4);
    assert_eq!(c.state_commitments.len(), 4);
    let e = evaluate(&s);
    let last = &c.states[3];
    assert_eq!(last.total_liabilities, e.total_liabilities);
    assert_eq!(last.bad_debt, e.bad_debt);
    assert_eq!(last.next_id, u128::from(s.accounts()[136].id().get()) + 1);
    assert_eq!(last.accounts, c.accounts_commitment);
    assert!(!e.liquidations.is_empty());
    assert_eq!(
        last.liquidation_product,
        liquidation_product::<H>(c.challenge, &e.liquidations)
    );
    // A different published set does not match the product.
    let mut wrong = e.liquidations.clone();
    wrong.pop();
    assert_ne!(
        last.liquidation_product,
        liquidation_product::<H>(c.challenge, &wrong)
    );
    // Every state commitment opens with its blinding.
    let secret = secret_element::<H>(&VenueSecret::demo());
    for (i, st) in c.states.iter().enumerate().skip(1) {
        let blind = state_blinding::<H>(secret, 5, i as u64 - 1);
        assert_eq!(state_commitment::<H>(blind, st), c.state_commitments[i]);
    }
}

#[test]
fn chain_matches_evaluation_bn254() {
    chain_matches_evaluation::<Bn254Poseidon>();
}

#[test]
fn chain_matches_evaluation_pasta() {
    chain_matches_evaluation::<PastaPoseidon>();
}

#[test]
fn every_leaf_opens_to_its_batch_root() {
    let s = snapshot(80, 2);
    let c = commit_epoch::<Bn254Poseidon>(&s, &VenueSecret::demo(), BatchSize::new(64).unwrap());
    let secret = secret_element::<Bn254Poseidon>(&VenueSecret::demo());
    for (i, a) in s.accounts().iter().enumerate() {
        let tree = &c.batches[i / 64];
        let l = leaf::<Bn254Poseidon>(
            account_salt::<Bn254Poseidon>(secret, 5, a.id()),
            &leaf_words(Some(a), 2, 0),
        );
        assert_eq!(tree.leaves()[i % 64], l);
        let path = tree.path(i % 64);
        assert_eq!(path.len(), 2);
        assert_eq!(root_from_path::<Bn254Poseidon>(l, &path), tree.root());
        // A swapped sibling breaks the path.
        let mut bad = path.clone();
        bad[0].siblings.swap(0, 1);
        if bad[0].siblings[0] != bad[0].siblings[1] {
            assert_ne!(root_from_path::<Bn254Poseidon>(l, &bad), tree.root());
        }
    }
}

#[test]
fn commitment_binds_data_order_secret_and_epoch() {
    let b = BatchSize::new(8).unwrap();
    let s = snapshot(17, 2);
    let base = commit_epoch::<Bn254Poseidon>(&s, &VenueSecret::demo(), b).accounts_commitment;
    // Input order does not matter (accounts are sorted by id).
    let mut rev = s.accounts().to_vec();
    rev.reverse();
    let s2 = Snapshot::new(s.params().clone(), rev).unwrap();
    assert_eq!(
        commit_epoch::<Bn254Poseidon>(&s2, &VenueSecret::demo(), b).accounts_commitment,
        base
    );
    // One minimal unit of balance changes it.
    let mut accts = s.accounts().to_vec();
    accts[4] = Account::new(
        accts[4].id(),
        Balance::new(i128::from(accts[4].quote_balance().get()) + 1).unwrap(),
        accts[4].sizes().to_vec(),
    );
    let s3 = Snapshot::new(s.params().clone(), accts).unwrap();
    assert_ne!(
        commit_epoch::<Bn254Poseidon>(&s3, &VenueSecret::demo(), b).accounts_commitment,
        base
    );
    // Another secret changes every salt.
    let other = VenueSecret::from_hex(&"17".repeat(32)).unwrap();
    assert_ne!(
        commit_epoch::<Bn254Poseidon>(&s, &other, b).accounts_commitment,
        base
    );
}

#[test]
fn padding_leaves_are_salted_and_distinct() {
    let s = snapshot(9, 1);
    let c = commit_epoch::<Bn254Poseidon>(&s, &VenueSecret::demo(), BatchSize::new(8).unwrap());
    let last = c.batches[1].leaves();
    // Slot 8 is real, slots 9..16 padding: all distinct, none zero.
    for i in 0..8 {
        for j in 0..i {
            assert_ne!(last[i], last[j]);
        }
        assert_ne!(Bn254Poseidon::to_le_bytes(&last[i]), [0u8; 32]);
    }
}
