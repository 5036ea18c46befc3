//! The public inputs of a batch proof (`docs/SPEC.md` §6.4), in both layouts:
//!
//! - **open** (Groth16): the published values themselves, packed into
//!   `9 + ⌈M/3⌉` field elements, so that a verifier (the epoch contract above all)
//!   forms them with integer arithmetic and no hash beyond Keccak, and a batched
//!   check of an epoch's proofs pays one elliptic-curve multiplication per input;
//!   [`open_inputs`] gives them, [`packed_words`] their packing;
//! - **hashed** (halo2): the single digest
//!   [`batch_public_input`](crate::native::commit::batch_public_input) `x_b`.

use crate::assignment::field_from_i256;
use crate::hash::FieldHasher;
use crate::native::commit::OutputsOpening;
use crate::shape::CircuitShape;
use crate::witness::ParamsWitness;
use ethnum::U256;

/// Bits of `reserves` and `insurance_fund` (minimal quote units, `< 2^128`).
pub const FUND_BITS: u32 = 128;
/// Bits of the epoch id, a price and an id (`u64`).
pub const U64_BITS: u32 = 64;
/// Bits of the scale exponents `E − q` and `E − s_m − p_m` (each `≤ 18`).
pub const EXPONENT_BITS: u32 = 5;
/// Bits of a maintenance margin rate (`≤ 10000` bps).
pub const MARGIN_BITS: u32 = 14;
/// Bits of the batch index `b` (`b < K ≤ 2^32`).
pub const BATCH_BITS: u32 = 32;
/// Bits of the batch count `K` (`K ≤ 2^32`).
pub const BATCH_COUNT_BITS: u32 = 33;
/// Markets per packed word (`3 · (64 + 14 + 5) = 249` bits).
pub const MARKETS_PER_WORD: usize = 3;
/// Bits of a packed word: every word is below `2^249`.
pub const WORD_BITS: u32 = 249;
/// Bits of a bracket's size threshold `s_t ≤ 2^63` (risk model v2).
pub const THRESHOLD_BITS: u32 = 64;
/// Bits of a bracket floor (`< 2^64` minimal quote units).
pub const FLOOR_BITS: u32 = 64;
/// Bits of an asset's reserves (`< 2^96` minimal asset units).
pub const ASSET_RESERVE_BITS: u32 = crate::bounds::ASSET_RESERVE_BITS;
/// Bits of an asset's disclosure word `ℓ_c` (0 or `h_c + 1 ≤ 2^95`; two per word).
pub const ASSET_DISCLOSURE_BITS: u32 = crate::bounds::ASSET_DISCLOSURE_BITS;
/// Bits of the waterfall's fees `F'` (`F' ≤ 10^4 · L < 2^14 · 2^226`, `docs/SPEC.md`
/// §2.4).
pub const WATERFALL_FEES_BITS: u32 = 240;
/// Bits of the haircut rate `h ≤ 10^9 < 2^30` (ppb).
pub const HAIRCUT_BITS: u32 = 30;
/// Where `b` starts in the insurance word: the one packed part that differs between
/// an epoch's batches.
pub const BATCH_SHIFT: u32 = FUND_BITS;

/// The packed words of a risk model v1 shape of `markets` markets: the reserves
/// word, the insurance word, then `⌈M/3⌉` market words.
pub const fn packed_word_count(markets: usize) -> usize {
    2 + markets.div_ceil(MARKETS_PER_WORD)
}

/// The open layout's length for a risk model v1 shape of `markets` markets: the
/// packed words, the five outputs `a_K, z, P_target, D, ℓ`, then `C_{b−1}, C_b`.
pub const fn open_input_count(markets: usize) -> usize {
    packed_word_count(markets) + OPEN_OUTPUTS + OPEN_CHAIN
}

/// The packed words of any shape: [`packed_word_count`] and the risk model v2
/// words (`packed_words`).
pub fn shape_word_count(shape: &CircuitShape) -> usize {
    let blank = Packed {
        reserves: (),
        epoch: (),
        quote_exponent: (),
        solvent: (),
        insurance_covered: (),
        insurance_fund: (),
        batch: (),
        batch_count: (),
        markets: vec![[(); 3]; shape.markets()],
        brackets: vec![[(); 3]; shape.markets() * (shape.brackets() - 1)],
        assets: vec![[(); 5]; shape.assets()],
        asset_disclosures: vec![(); shape.assets()],
        waterfall: shape.has_waterfall().then_some([(); 3]),
        fee_rates: vec![
            ();
            if shape.has_waterfall() {
                shape.markets()
            } else {
                0
            }
        ],
    };
    packed_words(&blank).len()
}

/// The open layout's length for any shape.
pub fn shape_input_count(shape: &CircuitShape) -> usize {
    shape_word_count(shape) + OPEN_OUTPUTS + OPEN_CHAIN
}

/// The outputs `a_K, z, P_target, D, ℓ` (the flags are packed).
pub const OPEN_OUTPUTS: usize = 5;
/// The state commitments `C_{b−1}, C_b`, the last inputs; with `b` in the insurance
/// word they are all that differ between the batches of an epoch.
pub const OPEN_CHAIN: usize = 2;

/// The packed parts of one batch's parameters and flags, whatever represents them
/// (field elements natively, circuit variables in the circuit).
#[derive(Debug, Clone)]
pub(crate) struct Packed<T> {
    pub(crate) reserves: T,
    pub(crate) epoch: T,
    pub(crate) quote_exponent: T,
    pub(crate) solvent: T,
    pub(crate) insurance_covered: T,
    pub(crate) insurance_fund: T,
    pub(crate) batch: T,
    pub(crate) batch_count: T,
    /// Per market: price, `mm`, exponent.
    pub(crate) markets: Vec<[T; 3]>,
    /// Risk model v2: per market in order, its brackets after the first: size
    /// threshold, rate, floor.
    pub(crate) brackets: Vec<[T; 3]>,
    /// Risk model v2: per asset: price, ratio, exponent, reserves, solvency flag.
    pub(crate) assets: Vec<[T; 5]>,
    /// Risk model v2: per asset, its disclosure word `ℓ_c` (0: total hidden,
    /// `h_c + 1`: disclosed).
    pub(crate) asset_disclosures: Vec<T>,
    /// The waterfall (`docs/SPEC.md` §2.4), for a waterfall shape: `F'`, `h` and
    /// `shortfall`.
    pub(crate) waterfall: Option<[T; 3]>,
    /// The waterfall: per market, its liquidation fee rate `lf_m` (empty otherwise).
    pub(crate) fee_rates: Vec<T>,
}

/// The packing of `docs/SPEC.md` §6.4, one list of `(part, bits)` per word, the
/// first part in the lowest bits:
///
/// ```text
/// reserves word   reserves (128) ‖ epoch (64) ‖ E − q (5) ‖ solvent (1) ‖ insurance_covered (1)
/// insurance word  insurance_fund (128) ‖ b (32) ‖ K (33)
/// market word i   markets 3i, 3i+1, 3i+2, each price (64) ‖ mm (14) ‖ E − s − p (5)
/// ```
///
/// then, for risk model v2, three runs of groups, each group whole in one word and a
/// new word begun when the next group would pass 249 bits:
///
/// ```text
/// thresholds      per bracket after a market's first (market by market):
///                 s_t (64) ‖ mm_t (14)                        (3 per word)
/// floors          per bracket, in the same order: floor_t (64)  (3 per word)
/// assets          per asset: price (64) ‖ ratio_bps (14) ‖ E − a − p (5)
///                 ‖ reserves (96) ‖ asset_solvent (1)          (1 per word)
/// disclosures     per asset: ℓ_c (96)                          (2 per word)
/// ```
///
/// and, for a waterfall shape (`docs/SPEC.md` §2.4), one more run:
///
/// ```text
/// waterfall       F' (240); h (30) ‖ shortfall (1); per market lf_m (14)
///                 (F' alone; h, shortfall and 15 rates; then 17 rates per word)
/// ```
///
/// Every word is below `2^249`, under both fields' orders, so a word determines its
/// parts once each is range-checked to its width. A shape without brackets or
/// assets has exactly the words of risk model v1.
pub(crate) fn packed_words<T: Clone>(p: &Packed<T>) -> Vec<Vec<(T, u32)>> {
    let mut words = vec![
        vec![
            (p.reserves.clone(), FUND_BITS),
            (p.epoch.clone(), U64_BITS),
            (p.quote_exponent.clone(), EXPONENT_BITS),
            (p.solvent.clone(), 1),
            (p.insurance_covered.clone(), 1),
        ],
        vec![
            (p.insurance_fund.clone(), FUND_BITS),
            (p.batch.clone(), BATCH_BITS),
            (p.batch_count.clone(), BATCH_COUNT_BITS),
        ],
    ];
    for chunk in p.markets.chunks(MARKETS_PER_WORD) {
        words.push(
            chunk
                .iter()
                .flat_map(|[price, mm, e]| {
                    [
                        (price.clone(), U64_BITS),
                        (mm.clone(), MARGIN_BITS),
                        (e.clone(), EXPONENT_BITS),
                    ]
                })
                .collect(),
        );
    }
    let pairs = (p.brackets.iter())
        .map(|[s, mm, _]| vec![(s.clone(), THRESHOLD_BITS), (mm.clone(), MARGIN_BITS)]);
    let floors = (p.brackets.iter()).map(|[_, _, f]| vec![(f.clone(), FLOOR_BITS)]);
    let assets = p.assets.iter().map(|[price, ratio, e, reserves, ok]| {
        vec![
            (price.clone(), U64_BITS),
            (ratio.clone(), MARGIN_BITS),
            (e.clone(), EXPONENT_BITS),
            (reserves.clone(), ASSET_RESERVE_BITS),
            (ok.clone(), 1),
        ]
    });
    let disclosures =
        (p.asset_disclosures.iter()).map(|l| vec![(l.clone(), ASSET_DISCLOSURE_BITS)]);
    let waterfall = (p.waterfall.iter())
        .flat_map(|[fees, h, short]| {
            [
                vec![(fees.clone(), WATERFALL_FEES_BITS)],
                vec![(h.clone(), HAIRCUT_BITS), (short.clone(), 1)],
            ]
        })
        .chain(p.fee_rates.iter().map(|r| vec![(r.clone(), MARGIN_BITS)]));
    for run in [
        pairs.collect::<Vec<_>>(),
        floors.collect(),
        assets.collect(),
        disclosures.collect(),
        waterfall.collect(),
    ] {
        let mut word: Vec<(T, u32)> = Vec::new();
        for group in run {
            let used: u32 = word.iter().map(|(_, b)| b).sum();
            let more: u32 = group.iter().map(|(_, b)| b).sum();
            if used + more > WORD_BITS {
                words.push(core::mem::take(&mut word));
            }
            word.extend(group);
        }
        if !word.is_empty() {
            words.push(word);
        }
    }
    words
}

/// Each part of a word with its offset: the sum of the widths before it.
pub(crate) fn with_offsets<T>(parts: &[(T, u32)]) -> impl Iterator<Item = (&T, u32)> {
    parts.iter().scan(0u32, |offset, (part, bits)| {
        let at = *offset;
        *offset += bits;
        Some((part, at))
    })
}

/// `Σ part · 2^offset` in `H`'s field.
pub(crate) fn pack<H: FieldHasher>(parts: &[(H::F, u32)]) -> H::F {
    with_offsets(parts).fold(H::from_u64(0), |word, (part, at)| {
        word + *part * H::from_u256(U256::ONE << at)
    })
}

/// Batch `b`'s public inputs in the open layout (`docs/SPEC.md` §6.4):
/// `state_in` is `C_{b−1}` for `b > 0` and ignored for `b = 0`, whose input is 0
/// (the circuit opens the first batch's state as `S_init` itself, §6.2).
pub fn open_inputs<H: FieldHasher>(
    params: &ParamsWitness,
    batch: u64,
    batch_count: u64,
    state_in: H::F,
    state_out: H::F,
    outputs: &OutputsOpening<H::F>,
) -> Vec<H::F> {
    let raw = &params.raw;
    let int = |v: u128| H::from_u256(U256::from(v));
    let packed = Packed {
        reserves: int(raw.reserves),
        epoch: H::from_u64(params.epoch),
        quote_exponent: H::from_u64(raw.quote_exponent.into()),
        solvent: H::from_u64(outputs.solvent.into()),
        insurance_covered: H::from_u64(outputs.insurance_covered.into()),
        insurance_fund: int(raw.insurance_fund),
        batch: H::from_u64(batch),
        batch_count: H::from_u64(batch_count),
        markets: (raw.markets.iter())
            .map(|m| {
                [
                    H::from_u64(m.price),
                    H::from_u64(m.margin_bps.into()),
                    H::from_u64(m.exponent.into()),
                ]
            })
            .collect(),
        brackets: (raw.brackets.iter().flatten())
            .map(|b| {
                [
                    H::from_u64(b.threshold),
                    H::from_u64(b.rate_bps.into()),
                    H::from_u64(b.floor),
                ]
            })
            .collect(),
        assets: (raw.assets.iter().enumerate())
            .map(|(c, a)| {
                [
                    H::from_u64(a.price),
                    H::from_u64(a.ratio_bps.into()),
                    H::from_u64(a.exponent.into()),
                    int(a.reserves),
                    H::from_u64(((outputs.asset_solvency >> c) & 1).into()),
                ]
            })
            .collect(),
        asset_disclosures: (0..raw.assets.len())
            .map(|c| int(outputs.asset_disclosure(c)))
            .collect(),
        waterfall: outputs.waterfall.map(|w| {
            [
                field_from_i256::<H>(w.fees),
                H::from_u64(w.haircut_ppb.into()),
                H::from_u64(w.shortfall.into()),
            ]
        }),
        fee_rates: (raw.fee_rates.iter().flatten())
            .map(|r| H::from_u64((*r).into()))
            .collect(),
    };
    let mut v: Vec<H::F> = packed_words(&packed).iter().map(|w| pack::<H>(w)).collect();
    v.push(outputs.accounts_commitment);
    v.push(outputs.challenge);
    v.push(outputs.liquidation_product);
    v.push(field_from_i256::<H>(outputs.bad_debt));
    v.push(field_from_i256::<H>(outputs.disclosure()));
    v.push(if batch == 0 { H::from_u64(0) } else { state_in });
    v.push(state_out);
    debug_assert!(
        raw.brackets.iter().any(|b| !b.is_empty())
            || !raw.assets.is_empty()
            || raw.fee_rates.is_some()
            || v.len() == open_input_count(raw.markets.len())
    );
    v
}
