//! The soundness catalogue (`docs/SPEC.md` §6.3), once for both backends.
//!
//! Each attack is data: a name, one or more *controls* (honest or harmless
//! assignments, which must satisfy the batch circuit, so that no lie passes
//! vacuously) and one or more named *lies* (malicious assignments, which must not),
//! each with the [`Relation`]s it breaks. Everything here is generic over the
//! field hasher, so the Groth16 tests (`crate::r1cs`, over BN254) and the halo2
//! tests (`crate::halo2`, over Pasta) read the same book, the same helpers and the
//! same lies; each backend's test file only maps a [`Relation`] to the name its
//! constraint system reports (an arkworks namespace, a halo2 gate or lookup) and
//! asserts.
//!
//! A lie starts from an honest assignment, changes one thing, and, where the
//! attacker would also publish a statement consistent with it, recomputes the
//! public input with [`restamp_with`]: a native re-implementation of what the
//! circuits compute from a *raw* assignment (it checks no range, so it follows
//! wrapped or out-of-range values).
//!
//! Also the fixture book shared by every circuit test of the crate ([`book`],
//! [`book_with`], [`epoch`]).

pub(crate) mod risk_book;

use crate::assignment::testing::{Outputs, restamp_with};
use crate::assignment::{BatchAssignment, SlotAssignment};
use crate::hash::FieldHasher;
use crate::model::{
    Account, AccountId, Balance, EpochParams, MarginBps, Market, Price, Size, Snapshot,
};
use crate::native::commit::{BatchSize, challenge, liquidation_product, liquidations_hash};
use crate::secret::VenueSecret;
use crate::shape::CircuitShape;
use crate::witness::{EpochWitness, build_epoch};
use ethnum::U256;

// ---------------------------------------------------------------------------
// The fixture book.
// ---------------------------------------------------------------------------

/// A small book at epoch `epoch`: `markets` markets, accounts with ids 10, 20, …,
/// balances from −200 to 800 units and sizes between −3 and +3 units (`size(s, m)`
/// is the size of market `m` given the account's base size `s`); some accounts
/// liquidatable, some underwater.
pub(crate) fn book_with(
    epoch: u64,
    n: u64,
    markets: usize,
    size: impl Fn(i128, usize) -> i128,
) -> Snapshot {
    let ms = (0..markets)
        .map(|i| {
            Market::new(
                &format!("M{i}"),
                Price::new(200_000 + 1_000 * i as i128).unwrap(),
                2,
                4,
                MarginBps::new(500).unwrap(),
            )
            .unwrap()
        })
        .collect();
    let params = EpochParams::new(epoch, 6, 10u128.pow(15), 10u128.pow(10), ms).unwrap();
    let accounts = (0..n)
        .map(|i| {
            let base = (i as i128 % 7 - 3) * 10_000;
            let balance = (i as i128 * 37 % 11 - 2) * 100_000_000;
            Account::new(
                AccountId::new(10 * (i + 1)),
                Balance::new(balance).unwrap(),
                (0..markets)
                    .map(|m| Size::new(size(base, m)).unwrap())
                    .collect(),
            )
        })
        .collect();
    Snapshot::new(params, accounts).unwrap()
}

/// The book of the batch circuits' tests: epoch 77, every market the same size.
pub(crate) fn book(n: u64, markets: usize) -> Snapshot {
    book_with(77, n, markets, |size, _| size)
}

/// [`book`]`(n, markets)` committed in batches of `b` under `H`.
pub(crate) fn epoch<H: FieldHasher>(
    n: u64,
    markets: usize,
    b: u64,
) -> (CircuitShape, EpochWitness<H>) {
    let shape = CircuitShape::new(b, markets).unwrap();
    let w = build_epoch::<H>(
        &book(n, markets),
        &VenueSecret::demo(),
        BatchSize::new(b).unwrap(),
    );
    (shape, w)
}

/// A one-batch epoch (so the batch is also the last; slot 7 is padding) with
/// liquidations and bad debt.
pub(crate) fn single<H: FieldHasher>() -> (CircuitShape, EpochWitness<H>) {
    let (shape, w) = epoch::<H>(7, 2, 8);
    assert_eq!(w.batches.len(), 1);
    assert!(w.evaluation.liquidations.len() >= 2 && w.evaluation.bad_debt > 0);
    (shape, w)
}

/// Batch `b`'s honest assignment.
pub(crate) fn honest<H: FieldHasher>(w: &EpochWitness<H>, b: usize) -> BatchAssignment<H::F> {
    BatchAssignment::from_witness::<H>(&w.batches[b])
}

/// The lane of a signed value: `v + 2^63`.
pub(crate) fn lane_of(v: i128) -> U256 {
    U256::from((v + (1i128 << 63)) as u128)
}

/// `p − v` (`−v` in the field) as a raw 256-bit lane.
pub(crate) fn minus<H: FieldHasher>(v: u64) -> U256 {
    U256::from_le_bytes(H::to_le_bytes(&(H::from_u64(0) - H::from_u64(v))))
}

/// [`restamp_with`] keeping the claimed outputs.
pub(crate) fn restamp<H: FieldHasher>(a: &mut BatchAssignment<H::F>) {
    restamp_with::<H>(a, Outputs::Claimed);
}

/// Batch 0 of a one-batch epoch publishing `claimed` as its liquidation set.
pub(crate) fn claim_liquidations<H: FieldHasher>(
    w: &EpochWitness<H>,
    claimed: &[AccountId],
) -> BatchAssignment<H::F> {
    let mut a = honest(w, 0);
    let z = challenge::<H>(
        w.batches[0].params.descriptor_element::<H>(),
        w.commitment.accounts_commitment,
        liquidations_hash(claimed),
    );
    a.challenge = z;
    a.liquidation_product = liquidation_product::<H>(z, claimed);
    restamp::<H>(&mut a);
    a
}

/// Turns a slot into a padding slot (its data zeroed).
pub(crate) fn make_padding<F: Copy>(s: &mut SlotAssignment<F>, zero: F) {
    s.pad = true;
    s.id = zero;
    s.balance_lane = lane_of(0);
    s.size_lanes = vec![lane_of(0); s.size_lanes.len()];
}

// ---------------------------------------------------------------------------
// What a lie breaks.
// ---------------------------------------------------------------------------

/// One of a slot's signed lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lane {
    /// The quote balance lane.
    Balance,
    /// The size lane of market `m`.
    Size(usize),
}

/// One published output the last batch opens its final state into (§6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    AccountsCommitment,
    LiquidationProduct,
    BadDebt,
    Solvent,
    InsuranceCovered,
}

/// A relation of `docs/SPEC.md` §6.3 a lie breaks: the backends name it each in
/// their own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Relation {
    /// Slot `slot`'s `lane` is below `2^64` (§5.2).
    LaneRange { slot: usize, lane: Lane },
    /// Slot `slot`'s `lane` is not 0: the value is not `−2^63` (§5.2).
    LaneNonzero { slot: usize, lane: Lane },
    /// A padding slot holds nothing: id 0 (`lane: None`) and every lane `2^63`.
    PaddingEmpty { slot: usize, lane: Option<Lane> },
    /// No real slot after a padding slot: `slot` is the real one.
    PaddingBeforeReal { slot: usize },
    /// Padding only in the last batch.
    PaddingNotLast { slot: usize },
    /// Slot 0 is real: the last batch holds an account, so `N ≥ 1` (§6.1).
    FirstSlotReal,
    /// Slot `slot`'s id is at least the running `next_id` (strictly increasing ids,
    /// across the chain too).
    IdOrder { slot: usize },
    /// `next_id ≤ 2^64` after the batch: every real id below `2^64`.
    IdBound,
    /// The last batch opens its final state into this published output.
    Opens(Output),
    /// A disclosed `L` is the final state's: `is_last·ℓ·(ℓ − L − 1) = 0` (§6.4).
    DisclosedLiabilities,
    /// The public input is the verifier's (§6.4): halo2's `x_b` is the one the circuit
    /// computes; Groth16's open inputs are the ones the circuit reads (compared
    /// through their digest `x_b`, `assignment::testing::open_digest`).
    PublicInput,
}

// ---------------------------------------------------------------------------
// The attacks.
// ---------------------------------------------------------------------------

/// A named assignment of a batch circuit of shape `shape`.
#[derive(Debug, Clone)]
pub(crate) struct Case<F> {
    pub(crate) name: &'static str,
    pub(crate) shape: CircuitShape,
    pub(crate) assignment: BatchAssignment<F>,
}

/// A lane value written into the witness *after* synthesis of `base` (an honest
/// control), bypassing the assignment: how a lie about a lane at or above `2^64`
/// reaches a circuit whose synthesis only takes a raw lane's low 64 bits (the
/// Groth16 one). The lane's bit witnesses are what the attacker chooses.
#[derive(Debug, Clone)]
pub(crate) struct LaneWrite<F> {
    pub(crate) base: BatchAssignment<F>,
    pub(crate) slot: usize,
    pub(crate) lane: Lane,
    pub(crate) value: F,
}

/// A named malicious assignment and the relations it breaks, in the order the
/// circuits check them (`fails_at[0]` is the first unsatisfied one).
#[derive(Debug, Clone)]
pub(crate) struct Lie<F> {
    pub(crate) case: Case<F>,
    pub(crate) fails_at: Vec<Relation>,
    /// The same lie told after synthesis, for a lane no raw assignment of the
    /// Groth16 circuit can carry; `case.assignment` is then the raw assignment, as
    /// a backend embedding raw lanes modulo its field (halo2) reads it.
    pub(crate) after_synthesis: Option<LaneWrite<F>>,
}

/// One attack of the catalogue.
#[derive(Debug, Clone)]
pub(crate) struct Attack<F> {
    pub(crate) name: &'static str,
    pub(crate) controls: Vec<Case<F>>,
    pub(crate) lies: Vec<Lie<F>>,
}

impl<F> Attack<F> {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            controls: Vec::new(),
            lies: Vec::new(),
        }
    }

    fn control(mut self, name: &'static str, shape: CircuitShape, a: BatchAssignment<F>) -> Self {
        self.controls.push(Case {
            name,
            shape,
            assignment: a,
        });
        self
    }

    fn lie(
        mut self,
        name: &'static str,
        shape: CircuitShape,
        a: BatchAssignment<F>,
        fails_at: &[Relation],
    ) -> Self {
        self.lies.push(Lie {
            case: Case {
                name,
                shape,
                assignment: a,
            },
            fails_at: fails_at.to_vec(),
            after_synthesis: None,
        });
        self
    }
}

/// The one batch of [`single`] with `tell` applied to slot `j`, restamped with
/// outputs derived from the (lying) data.
fn slot_told<H: FieldHasher>(
    w: &EpochWitness<H>,
    j: usize,
    tell: impl FnOnce(&mut SlotAssignment<H::F>),
) -> BatchAssignment<H::F> {
    let mut a = honest(w, 0);
    tell(&mut a.slots[j]);
    restamp_with::<H>(&mut a, Outputs::Derived);
    a
}

fn lane_mut<F>(s: &mut SlotAssignment<F>, lane: Lane) -> &mut U256 {
    match lane {
        Lane::Balance => &mut s.balance_lane,
        Lane::Size(m) => &mut s.size_lanes[m],
    }
}

/// A lie about slot `j`'s `lane`: the raw lane `raw` (at or above `2^64`),
/// also told after synthesis of `base` as the field element `raw` embeds to.
fn lane_lie<H: FieldHasher>(
    attack: Attack<H::F>,
    name: &'static str,
    (shape, w): (CircuitShape, &EpochWitness<H>),
    base: BatchAssignment<H::F>,
    (j, lane, raw): (usize, Lane, U256),
    fails_at: Relation,
) -> Attack<H::F> {
    assert!(
        raw >= U256::ONE << 64,
        "{name}: a lane any assignment carries"
    );
    let mut attack = attack.lie(
        name,
        shape,
        slot_told(w, j, |s| *lane_mut(s, lane) = raw),
        &[fails_at],
    );
    attack.lies.last_mut().unwrap().after_synthesis = Some(LaneWrite {
        base,
        slot: j,
        lane,
        value: H::from_u256(raw),
    });
    attack
}

/// A liquidatable account left out of the published liquidation set.
pub(crate) fn liquidatable_account_published_as_healthy<H: FieldHasher>() -> Attack<H::F> {
    let (shape, w) = single::<H>();
    let truth = w.evaluation.liquidations.clone();
    Attack::new("liquidatable account published as healthy")
        .control("the true set", shape, claim_liquidations(&w, &truth))
        .lie(
            "the first liquidatable account left out",
            shape,
            claim_liquidations(&w, &truth[1..]),
            &[Relation::Opens(Output::LiquidationProduct)],
        )
}

/// A healthy account added to the published liquidation set.
pub(crate) fn healthy_account_published_as_liquidatable<H: FieldHasher>() -> Attack<H::F> {
    let (shape, w) = single::<H>();
    let truth = w.evaluation.liquidations.clone();
    let healthy = w.batches[0]
        .slots
        .iter()
        .filter_map(|s| s.account.as_ref())
        .map(|a| a.id())
        .find(|id| !truth.contains(id))
        .unwrap();
    let mut claimed = truth.clone();
    claimed.push(healthy);
    claimed.sort();
    Attack::new("healthy account published as liquidatable")
        .control("the true set", shape, claim_liquidations(&w, &truth))
        .lie(
            "a healthy account added",
            shape,
            claim_liquidations(&w, &claimed),
            &[Relation::Opens(Output::LiquidationProduct)],
        )
}

/// A negative balance written as the field element `p − 5` (no offset): a "lane"
/// far above `2^64`, which no 64-bit decomposition reaches.
pub(crate) fn negative_balance_wrapped_around_the_field<H: FieldHasher>() -> Attack<H::F> {
    let (shape, w) = single::<H>();
    let control = slot_told(&w, 2, |s| s.balance_lane = lane_of(-5));
    let attack = Attack::new("negative balance wrapped around the field").control(
        "a balance of −5 units, offset into its lane",
        shape,
        control.clone(),
    );
    lane_lie(
        attack,
        "−5 as the field element p − 5",
        (shape, &w),
        control,
        (2, Lane::Balance, minus::<H>(5)),
        Relation::LaneRange {
            slot: 2,
            lane: Lane::Balance,
        },
    )
}

/// A negative size written as the field element `p − 7`.
pub(crate) fn negative_size_wrapped_around_the_field<H: FieldHasher>() -> Attack<H::F> {
    let (shape, w) = single::<H>();
    let control = slot_told(&w, 3, |s| s.size_lanes[1] = lane_of(-7));
    let attack = Attack::new("negative size wrapped around the field").control(
        "a size of −7 units, offset into its lane",
        shape,
        control.clone(),
    );
    lane_lie(
        attack,
        "−7 as the field element p − 7",
        (shape, &w),
        control,
        (3, Lane::Size(1), minus::<H>(7)),
        Relation::LaneRange {
            slot: 3,
            lane: Lane::Size(1),
        },
    )
}

/// Balances and sizes at `±(2^63 − 1)` are allowed; `−2^63` (lane 0) and `+2^63`
/// (lane `2^64`) are not.
pub(crate) fn values_one_past_their_bounds<H: FieldHasher>() -> Attack<H::F> {
    let (shape, w) = single::<H>();
    let max = (1i128 << 63) - 1;
    let balance_max = slot_told(&w, 1, |s| s.balance_lane = lane_of(max));
    let size_max = slot_told(&w, 1, |s| s.size_lanes[1] = lane_of(max));
    let balance = Lane::Balance;
    let attack = Attack::new("values one past their bounds")
        .control("a balance of 2^63 − 1", shape, balance_max.clone())
        .control(
            "a balance of −(2^63 − 1)",
            shape,
            slot_told(&w, 1, |s| s.balance_lane = lane_of(-max)),
        )
        .control(
            "a size of −(2^63 − 1)",
            shape,
            slot_told(&w, 1, |s| s.size_lanes[0] = lane_of(-max)),
        )
        .control("a size of 2^63 − 1", shape, size_max.clone())
        .lie(
            "a balance of −2^63 (lane 0)",
            shape,
            slot_told(&w, 1, |s| s.balance_lane = lane_of(-max - 1)),
            &[Relation::LaneNonzero {
                slot: 1,
                lane: balance,
            }],
        )
        .lie(
            "a size of −2^63 (lane 0)",
            shape,
            slot_told(&w, 1, |s| s.size_lanes[0] = lane_of(-max - 1)),
            &[Relation::LaneNonzero {
                slot: 1,
                lane: Lane::Size(0),
            }],
        );
    let attack = lane_lie(
        attack,
        "a balance of 2^63 (lane 2^64)",
        (shape, &w),
        balance_max,
        (1, balance, lane_of(max + 1)),
        Relation::LaneRange {
            slot: 1,
            lane: balance,
        },
    );
    lane_lie(
        attack,
        "a size of 2^63 (lane 2^64)",
        (shape, &w),
        size_max,
        (1, Lane::Size(1), lane_of(max + 1)),
        Relation::LaneRange {
            slot: 1,
            lane: Lane::Size(1),
        },
    )
}

/// The published parameters fix `x_b`; the prover evaluates with other ones.
/// `x_b` commits to the published parameters, so the public input breaks; where
/// the wrong parameters also move the final state, it no longer opens into the
/// published outputs either.
pub(crate) fn wrong_price_or_margin_rate<H: FieldHasher>() -> Attack<H::F> {
    let (shape, w) = single::<H>();
    let one = H::from_u64(1);
    let raw = &w.batches[0].params.raw;
    let market = |m: usize| raw.markets[m];
    let mut unit_value = honest(&w, 0);
    let m0 = market(0);
    let price = U256::from(m0.price + 1);
    (unit_value.params).set_market::<H>(0, price, m0.margin_bps.into(), m0.exponent);
    let mut unit_requirement = honest(&w, 0);
    let m1 = market(1);
    let (price, rate) = (U256::from(m1.price), u64::from(m1.margin_bps) - 1);
    (unit_requirement.params).set_market::<H>(1, price, rate, m1.exponent);
    let mut quote_scale = honest(&w, 0);
    let (reserves, insurance) = (U256::from(raw.reserves), U256::from(raw.insurance_fund));
    let exponent = if raw.quote_exponent == 1 { 2 } else { 1 };
    (quote_scale.params).set_funds::<H>(exponent, reserves, insurance);
    // SPEC §5.5: the descriptor of another reading of the statement (a relabelled
    // one) with every derived parameter unchanged.
    let mut descriptor = honest(&w, 0);
    descriptor.params.descriptor = descriptor.params.descriptor + one;
    Attack::new("wrong price or margin rate")
        .control("the published parameters", shape, honest(&w, 0))
        .lie(
            "market 0's price plus one",
            shape,
            unit_value,
            &[Relation::Opens(Output::BadDebt), Relation::PublicInput],
        )
        .lie(
            "market 1's margin rate minus one",
            shape,
            unit_requirement,
            &[Relation::PublicInput],
        )
        .lie(
            "another quote exponent (scale and funds)",
            shape,
            quote_scale,
            &[
                Relation::Opens(Output::LiquidationProduct),
                Relation::Opens(Output::BadDebt),
                Relation::Opens(Output::InsuranceCovered),
                Relation::PublicInput,
            ],
        )
        .lie(
            "another descriptor (a relabelled statement), derived values unchanged",
            shape,
            descriptor,
            &[Relation::PublicInput],
        )
}

/// Two accounts swapped within a batch, their ids with them.
pub(crate) fn unsorted_ids_within_a_batch<H: FieldHasher>() -> Attack<H::F> {
    let (shape, w) = single::<H>();
    let mut control = honest(&w, 0);
    control.slots.swap(1, 2);
    let (id1, id2) = (control.slots[1].id, control.slots[2].id);
    control.slots[1].id = id2;
    control.slots[2].id = id1;
    restamp_with::<H>(&mut control, Outputs::Derived);
    let mut lie = honest(&w, 0);
    lie.slots.swap(1, 2);
    restamp_with::<H>(&mut lie, Outputs::Derived);
    Attack::new("unsorted ids within a batch")
        .control(
            "two accounts' data swapped, ids left in order",
            shape,
            control,
        )
        .lie(
            "slots 1 and 2 swapped",
            shape,
            lie,
            &[Relation::IdOrder { slot: 2 }],
        )
}

/// One id twice in a batch.
pub(crate) fn repeated_id_within_a_batch<H: FieldHasher>() -> Attack<H::F> {
    let (shape, w) = single::<H>();
    let mut control = honest(&w, 0);
    control.slots[3].id = control.slots[2].id + H::from_u64(1);
    restamp_with::<H>(&mut control, Outputs::Derived);
    let mut lie = honest(&w, 0);
    lie.slots[3].id = lie.slots[2].id;
    restamp_with::<H>(&mut lie, Outputs::Derived);
    Attack::new("repeated id within a batch")
        .control("slot 3's id one above slot 2's", shape, control)
        .lie(
            "slot 3's id equal to slot 2's",
            shape,
            lie,
            &[Relation::IdOrder { slot: 3 }],
        )
}

/// Batch 1 starting with an id already used in batch 0.
pub(crate) fn repeated_id_across_the_chain<H: FieldHasher>() -> Attack<H::F> {
    let (shape, w) = epoch::<H>(20, 2, 8);
    let last_of_batch_0 = w.batches[0].slots[7].account.as_ref().unwrap().id().get();
    let mut control = honest(&w, 1);
    restamp::<H>(&mut control);
    let mut lie = honest(&w, 1);
    lie.slots[0].id = H::from_u64(last_of_batch_0);
    restamp::<H>(&mut lie);
    Attack::new("repeated id across the chain")
        .control("batch 1, restamped", shape, control)
        .lie(
            "batch 1's first id the last of batch 0",
            shape,
            lie,
            &[Relation::IdOrder { slot: 0 }],
        )
}

/// The last real id at `2^64`: its gap from the previous one is in range, its
/// successor bound is not.
pub(crate) fn id_at_or_above_two_to_the_64<H: FieldHasher>() -> Attack<H::F> {
    let (shape, w) = single::<H>();
    let last_real = honest(&w, 0).slots.iter().rposition(|s| !s.pad).unwrap();
    let mut control = honest(&w, 0);
    control.slots[last_real].id = H::from_u64(u64::MAX);
    restamp_with::<H>(&mut control, Outputs::Derived);
    let mut lie = honest(&w, 0);
    lie.slots[last_real].id = H::from_u256(U256::ONE << 64);
    restamp_with::<H>(&mut lie, Outputs::Derived);
    Attack::new("id at or above 2^64")
        .control("the last real id at 2^64 − 1", shape, control)
        .lie("the last real id at 2^64", shape, lie, &[Relation::IdBound])
}

/// A padding slot holding a balance, a size or an id.
pub(crate) fn padding_leaf_holding_funds<H: FieldHasher>() -> Attack<H::F> {
    let (shape, w) = single::<H>();
    let pad = w.batches[0]
        .slots
        .iter()
        .position(|s| s.account.is_none())
        .unwrap();
    Attack::new("padding leaf holding funds")
        .control(
            "the padding slot as it is",
            shape,
            slot_told(&w, pad, |_| ()),
        )
        .lie(
            "a balance of 1,000",
            shape,
            slot_told(&w, pad, |s| s.balance_lane = lane_of(1_000)),
            &[Relation::PaddingEmpty {
                slot: pad,
                lane: Some(Lane::Balance),
            }],
        )
        .lie(
            "a size of −1 in market 1",
            shape,
            slot_told(&w, pad, |s| s.size_lanes[1] = lane_of(-1)),
            &[Relation::PaddingEmpty {
                slot: pad,
                lane: Some(Lane::Size(1)),
            }],
        )
        .lie(
            "the id 999",
            shape,
            slot_told(&w, pad, |s| s.id = H::from_u64(999)),
            &[Relation::PaddingEmpty {
                slot: pad,
                lane: None,
            }],
        )
}

/// A real account turned into padding before another real one, and padding in a
/// batch that is not the last.
pub(crate) fn padding_before_a_real_account_or_outside_the_last_batch<H: FieldHasher>()
-> Attack<H::F> {
    let zero = H::from_u64(0);
    let (shape, w) = single::<H>();
    let last_real = honest(&w, 0).slots.iter().rposition(|s| !s.pad).unwrap();
    let control = slot_told(&w, last_real, |s| make_padding(s, zero));
    let before_real = slot_told(&w, 1, |s| make_padding(s, zero));
    let (three, w3) = epoch::<H>(20, 2, 8);
    let mut not_last = honest(&w3, 0);
    make_padding(&mut not_last.slots[7], zero);
    restamp::<H>(&mut not_last);
    Attack::new("padding before a real account or outside the last batch")
        .control(
            "the last real account turned into padding (a smaller epoch)",
            shape,
            control,
        )
        .lie(
            "slot 1 turned into padding",
            shape,
            before_real,
            &[Relation::PaddingBeforeReal { slot: 2 }],
        )
        .lie(
            "slot 7 of batch 0 of 3 turned into padding",
            three,
            not_last,
            &[Relation::PaddingNotLast { slot: 7 }],
        )
}

/// An epoch of no account: its one batch all padding (SPEC §6.1: `N ≥ 1`, slot 0
/// is real). The control is the one-account epoch beside it.
pub(crate) fn epoch_of_no_account<H: FieldHasher>() -> Attack<H::F> {
    let zero = H::from_u64(0);
    let (shape, w) = single::<H>();
    let mut control = honest(&w, 0);
    for s in &mut control.slots[1..] {
        make_padding(s, zero);
    }
    restamp_with::<H>(&mut control, Outputs::Derived);
    let mut lie = control.clone();
    make_padding(&mut lie.slots[0], zero);
    restamp_with::<H>(&mut lie, Outputs::Derived);
    Attack::new("epoch of no account")
        .control("one account, the other slots padding", shape, control)
        .lie("every slot padding", shape, lie, &[Relation::FirstSlotReal])
}

/// Batches dropped, repeated or swapped, and a batch claiming to be the last.
pub(crate) fn batch_dropped_repeated_or_reordered<H: FieldHasher>() -> Attack<H::F> {
    let (shape, w) = epoch::<H>(30, 2, 8);
    assert_eq!(w.batches.len(), 4);
    let x: Vec<H::F> = w.batches.iter().map(|b| b.public_input()).collect();
    let mut dropped = honest(&w, 2);
    dropped.batch = H::from_u64(1);
    dropped.public_input = x[1];
    let mut repeated = honest(&w, 1);
    repeated.batch = H::from_u64(2);
    repeated.public_input = x[2];
    let mut swapped = honest(&w, 2);
    swapped.public_input = x[1];
    let mut last = honest(&w, 1);
    last.batch_count = H::from_u64(2);
    restamp::<H>(&mut last);
    Attack::new("batch dropped, repeated or reordered")
        .control("batch 2", shape, honest(&w, 2))
        .lie(
            "batch 2's witness presented as batch 1 (batch 1 dropped)",
            shape,
            dropped,
            &[Relation::PublicInput],
        )
        .lie(
            "batch 1's witness presented again as batch 2",
            shape,
            repeated,
            &[Relation::PublicInput],
        )
        .lie(
            "batches 1 and 2 swapped",
            shape,
            swapped,
            &[Relation::PublicInput],
        )
        .lie(
            "batch 1 of 4 claiming to be the last (K = 2)",
            shape,
            last,
            &[
                Relation::Opens(Output::AccountsCommitment),
                Relation::Opens(Output::BadDebt),
                Relation::Opens(Output::LiquidationProduct),
            ],
        )
}

/// The state carried into batch 1 differs from the one batch 0 committed to.
pub(crate) fn tampered_chain_commitment<H: FieldHasher>() -> Attack<H::F> {
    let (shape, w) = epoch::<H>(20, 2, 8);
    let published = w.batches[1].public_input();
    let mut less = honest(&w, 1);
    less.state_in.total_liabilities = less.state_in.total_liabilities - H::from_u64(1);
    let mut consistent = less.clone();
    restamp::<H>(&mut consistent);
    assert_ne!(consistent.public_input, published);
    let mut spliced = consistent.clone();
    spliced.public_input = published;
    let mut blind = honest(&w, 1);
    blind.blind_in = blind.blind_in + H::from_u64(1);
    Attack::new("tampered chain commitment")
        .control("batch 1", shape, honest(&w, 1))
        .control(
            "less liability carried in, with its own x_1 (not the published one)",
            shape,
            consistent,
        )
        .lie(
            "less liability carried into batch 1",
            shape,
            less,
            &[Relation::PublicInput],
        )
        .lie(
            "less liability, restamped, under the published x_1",
            shape,
            spliced,
            &[Relation::PublicInput],
        )
        .lie(
            "another blinding for the same state",
            shape,
            blind,
            &[Relation::PublicInput],
        )
}

/// Published totals that the accounts do not give.
pub(crate) fn totals_that_do_not_match_the_accounts<H: FieldHasher>() -> Attack<H::F> {
    let (shape, w) = single::<H>();
    let mut control = honest(&w, 0);
    restamp::<H>(&mut control);
    let mut bad_debt = honest(&w, 0);
    bad_debt.bad_debt = bad_debt.bad_debt - H::from_u64(1);
    restamp::<H>(&mut bad_debt);
    let mut covered = honest(&w, 0);
    covered.insurance_covered = !covered.insurance_covered;
    restamp::<H>(&mut covered);
    let mut solvent = honest(&w, 0);
    solvent.solvent = !solvent.solvent;
    restamp::<H>(&mut solvent);
    Attack::new("totals that do not match the accounts")
        .control("the true totals, restamped", shape, control)
        .lie(
            "one unit less bad debt",
            shape,
            bad_debt,
            &[Relation::Opens(Output::BadDebt)],
        )
        .lie(
            "insurance_covered flipped",
            shape,
            covered,
            &[Relation::Opens(Output::InsuranceCovered)],
        )
        .lie(
            "solvent flipped",
            shape,
            solvent,
            &[Relation::Opens(Output::Solvent)],
        )
}

/// [`single`] with its total liabilities disclosed (`ℓ = L + 1`).
fn single_disclosed<H: FieldHasher>() -> (CircuitShape, EpochWitness<H>) {
    let shape = CircuitShape::new(8, 2).unwrap();
    let w = build_epoch::<H>(
        &book(7, 2).with_liabilities_disclosed(true),
        &VenueSecret::demo(),
        BatchSize::new(8).unwrap(),
    );
    assert_eq!(w.outputs.liabilities, Some(w.evaluation.total_liabilities));
    (shape, w)
}

/// A disclosed `L` other than the one the accounts give; a hidden `L` is left
/// unconstrained, and only the last batch opens `ℓ` (§6.4).
pub(crate) fn disclosed_liabilities_that_are_not_the_accounts<H: FieldHasher>() -> Attack<H::F> {
    let (shape, w) = single_disclosed::<H>();
    let mut control = honest(&w, 0);
    restamp::<H>(&mut control);
    let mut hidden = honest(&w, 0);
    hidden.disclosure = H::from_u64(0);
    restamp::<H>(&mut hidden);
    // Not the last batch: ℓ is opened by the last batch only (every batch carries
    // the same O, so the last one binds it for all).
    let (shape3, w3) = epoch::<H>(20, 2, 8);
    let mut first = honest(&w3, 0);
    first.disclosure = H::from_u64(12_345);
    restamp::<H>(&mut first);
    let told = |delta: i64| {
        let mut a = honest(&w, 0);
        let one = H::from_u64(delta.unsigned_abs());
        a.disclosure = if delta < 0 {
            a.disclosure - one
        } else {
            a.disclosure + one
        };
        restamp::<H>(&mut a);
        a
    };
    Attack::new("disclosed liabilities that are not the accounts'")
        .control("the true L disclosed, restamped", shape, control)
        .control("L hidden (ℓ = 0)", shape, hidden)
        .control("batch 0 of 3 with any ℓ", shape3, first)
        .lie(
            "one unit less liabilities disclosed",
            shape,
            told(-1),
            &[Relation::DisclosedLiabilities],
        )
        .lie(
            "one unit more liabilities disclosed",
            shape,
            told(1),
            &[Relation::DisclosedLiabilities],
        )
}

/// The published accounts commitment stays; the prover's leaf differs.
pub(crate) fn leaf_that_does_not_open_to_the_committed_root<H: FieldHasher>() -> Attack<H::F> {
    let (shape, w) = single::<H>();
    let mut control = honest(&w, 0);
    restamp::<H>(&mut control);
    let mut salt = honest(&w, 0);
    salt.slots[4].salt = salt.slots[4].salt + H::from_u64(1);
    restamp::<H>(&mut salt);
    let mut balance = honest(&w, 0);
    balance.slots[4].balance_lane += U256::ONE;
    restamp::<H>(&mut balance);
    Attack::new("leaf that does not open to the committed root")
        .control("the committed leaves, restamped", shape, control)
        .lie(
            "slot 4's salt plus one",
            shape,
            salt,
            &[Relation::Opens(Output::AccountsCommitment)],
        )
        .lie(
            "slot 4's balance plus one unit",
            shape,
            balance,
            &[Relation::Opens(Output::AccountsCommitment)],
        )
}

/// The list of attacks, once: `attacks!(all)` defines [`all`]; a backend's tests
/// invoke `attacks!(tests, assert_attack, H)` for one `#[test] fn attack_<name>`
/// per attack (in `docs/SPEC.md` §8's order), each calling `assert_attack` on the
/// attack built over the hasher `H`, so that every backend runs every attack
/// under its own name.
macro_rules! attacks {
    ($mode:ident $(, $arg:tt)*) => {
        $crate::catalogue::attacks!(@expand $mode [$($arg),*]
            attack_liquidatable_account_published_as_healthy: liquidatable_account_published_as_healthy,
            attack_healthy_account_published_as_liquidatable: healthy_account_published_as_liquidatable,
            attack_negative_balance_wrapped_around_the_field: negative_balance_wrapped_around_the_field,
            attack_negative_size_wrapped_around_the_field: negative_size_wrapped_around_the_field,
            attack_values_one_past_their_bounds: values_one_past_their_bounds,
            attack_wrong_price_or_margin_rate: wrong_price_or_margin_rate,
            attack_unsorted_ids_within_a_batch: unsorted_ids_within_a_batch,
            attack_repeated_id_within_a_batch: repeated_id_within_a_batch,
            attack_repeated_id_across_the_chain: repeated_id_across_the_chain,
            attack_id_at_or_above_two_to_the_64: id_at_or_above_two_to_the_64,
            attack_padding_leaf_holding_funds: padding_leaf_holding_funds,
            attack_padding_before_a_real_account_or_outside_the_last_batch: padding_before_a_real_account_or_outside_the_last_batch,
            attack_epoch_of_no_account: epoch_of_no_account,
            attack_batch_dropped_repeated_or_reordered: batch_dropped_repeated_or_reordered,
            attack_tampered_chain_commitment: tampered_chain_commitment,
            attack_totals_that_do_not_match_the_accounts: totals_that_do_not_match_the_accounts,
            attack_disclosed_liabilities_that_are_not_the_accounts: disclosed_liabilities_that_are_not_the_accounts,
            attack_leaf_that_does_not_open_to_the_committed_root: leaf_that_does_not_open_to_the_committed_root,
        );
    };
    (@expand all [] $($test:ident: $attack:ident,)*) => {
        /// Every attack of the catalogue, in `docs/SPEC.md` §8's order.
        pub(crate) fn all<H: FieldHasher>() -> Vec<Attack<H::F>> {
            vec![$($attack::<H>(),)*]
        }
    };
    (@expand tests [$assert:tt, $hasher:tt] $($test:ident: $attack:ident,)*) => {
        $(
            #[test]
            fn $test() {
                $assert($crate::catalogue::$attack::<$hasher>());
            }
        )*
    };
}
pub(crate) use attacks;

attacks!(all);

/// The honest batches of a 3-batch epoch and of [`single`], restamped (with
/// claimed outputs, and for [`single`] also with derived ones): the native
/// restamp gives each exactly the prover's `x_b` (asserted here), and each must
/// satisfy the circuit.
pub(crate) fn restamped_honest<H: FieldHasher>() -> Vec<Case<H::F>> {
    let (shape, w) = epoch::<H>(20, 2, 8);
    let mut cases = Vec::new();
    for b in 0..w.batches.len() {
        let mut a = honest(&w, b);
        let x = a.public_input;
        restamp::<H>(&mut a);
        assert_eq!(a.public_input, x, "batch {b}");
        cases.push(Case {
            name: "a batch of 3, restamped",
            shape,
            assignment: a,
        });
    }
    let (shape, w) = single::<H>();
    let mut a = honest(&w, 0);
    let x = a.public_input;
    restamp_with::<H>(&mut a, Outputs::Derived);
    assert_eq!(a.public_input, x, "derived outputs equal the honest ones");
    cases.push(Case {
        name: "the single batch, outputs derived",
        shape,
        assignment: a,
    });
    cases
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::{Bn254Poseidon, PastaPoseidon};

    /// Every attack has a control and a lie, names are distinct, and the lane lies
    /// told after synthesis are told about the lane their relation names.
    fn well_formed<H: FieldHasher>() {
        let attacks = all::<H>();
        assert_eq!(attacks.len(), 18);
        let mut names = std::collections::BTreeSet::new();
        for attack in &attacks {
            assert!(names.insert(attack.name), "{}", attack.name);
            assert!(!attack.controls.is_empty() && !attack.lies.is_empty());
            for lie in &attack.lies {
                assert!(!lie.fails_at.is_empty(), "{}", lie.case.name);
                if let Some(write) = &lie.after_synthesis {
                    assert_eq!(
                        lie.fails_at,
                        [Relation::LaneRange {
                            slot: write.slot,
                            lane: write.lane
                        }]
                    );
                    let raw = match write.lane {
                        Lane::Balance => lie.case.assignment.slots[write.slot].balance_lane,
                        Lane::Size(m) => lie.case.assignment.slots[write.slot].size_lanes[m],
                    };
                    assert_eq!(H::from_u256(raw), write.value);
                }
            }
        }
    }

    #[test]
    fn the_catalogue_is_well_formed_over_both_fields() {
        well_formed::<Bn254Poseidon>();
        well_formed::<PastaPoseidon>();
    }
}
