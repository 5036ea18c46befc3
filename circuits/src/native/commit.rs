//! Salts, leaves, batch roots, the accounts commitment and the chained running
//! state, generic over the field hash (`docs/SPEC.md` §5, §6).
//!
//! Every function here is the native twin of a circuit gadget: the R1CS circuit uses
//! [`crate::hash::Bn254Poseidon`], the halo2 circuit [`crate::hash::PastaPoseidon`],
//! and both must reproduce these values exactly.

use crate::bounds::LANE_OFFSET;
use crate::hash::{FieldHasher, MAX_HASH_INPUTS};
use crate::model::{Account, AccountId, EpochParams, OwnerCommitment, Snapshot};
use crate::native::risk::{Scales, account_risk};
use crate::secret::VenueSecret;
use ethnum::{I256, U256};
use thiserror::Error;

/// Domain tags, each the big-endian integer of its ASCII name (`docs/SPEC.md` §5.0).
pub mod tags {
    /// Per-account salt.
    pub const SALT: &str = "backstop.salt.v1";
    /// An account's salt bound to its owner commitment.
    pub const OWNER: &str = "backstop.owner.v1";
    /// Salt of a padding leaf.
    pub const PAD_SALT: &str = "backstop.pad.v1";
    /// Blinding of a running-state commitment.
    pub const BLIND: &str = "backstop.blind.v1";
    /// Start of the accounts-commitment chain.
    pub const ACCOUNTS: &str = "backstop.accounts.v1";
    /// Running-state commitment.
    pub const STATE: &str = "backstop.state.v1";
    /// Epoch parameters hash.
    pub const PARAMS: &str = "backstop.params.v1";
    /// The published outputs of an epoch.
    pub const OUTPUTS: &str = "backstop.outputs.v1";
    /// One batch's public input.
    pub const BATCH: &str = "backstop.batch.v1";
}

/// The field element of a domain tag: its ASCII bytes read as a big-endian integer.
pub fn tag<H: FieldHasher>(name: &str) -> H::F {
    debug_assert!(name.len() < 31);
    H::from_be_bytes_mod_order(name.as_bytes())
}

/// Absorbs `inputs` in chunks of at most 15 after a running element:
/// `acc ← H(acc, chunk…)` for each chunk (`docs/SPEC.md` §5.0, "chained absorb").
pub fn absorb_chain<H: FieldHasher>(mut acc: H::F, inputs: &[H::F]) -> H::F {
    let mut buf = Vec::with_capacity(MAX_HASH_INPUTS);
    for chunk in inputs.chunks(MAX_HASH_INPUTS - 1) {
        buf.clear();
        buf.push(acc);
        buf.extend_from_slice(chunk);
        acc = H::hash(&buf);
    }
    acc
}

/// Why a batch layout was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// The batch size is not a power of 8 between 8 and 8^5.
    #[error("batch size {0} is not one of 8, 64, 512, 4096, 32768")]
    BatchSize(u64),
}

/// The arity of batch trees.
pub const TREE_ARITY: usize = 8;

/// Accounts per batch: a power of 8 from 8 to 32768, the leaf count of a full
/// 8-ary tree (`docs/SPEC.md` §5.3, §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BatchSize(u32);

impl BatchSize {
    /// Validates a batch size.
    pub fn new(n: u64) -> Result<Self, LayoutError> {
        let ok = (8..=32_768).contains(&n)
            && n.is_power_of_two()
            && n.trailing_zeros().is_multiple_of(3);
        if ok {
            Ok(Self(n as u32))
        } else {
            Err(LayoutError::BatchSize(n))
        }
    }
    /// The number of leaves.
    pub fn get(self) -> usize {
        self.0 as usize
    }
    /// The depth of the batch's 8-ary tree: `log8(B)`.
    pub fn depth(self) -> u32 {
        self.0.trailing_zeros() / 3
    }
    /// `K = ceil(N / B)`: the number of batches for `n` accounts.
    pub fn batch_count(self, n: usize) -> usize {
        n.div_ceil(self.get())
    }
}

/// The venue secret as a field element: its 32 bytes read big-endian, mod p.
pub fn secret_element<H: FieldHasher>(secret: &VenueSecret) -> H::F {
    H::from_be_bytes_mod_order(secret.as_bytes())
}

/// `salt = H(TAG_SALT, secret, epoch, id)` (`docs/SPEC.md` §5.1).
pub fn account_salt<H: FieldHasher>(secret: H::F, epoch: u64, id: AccountId) -> H::F {
    H::hash(&[
        tag::<H>(tags::SALT),
        secret,
        H::from_u64(epoch),
        H::from_u64(id.get()),
    ])
}

/// The salt that enters an account's leaf (`docs/SPEC.md` §5.2): its `salt`, or,
/// for an account with owner commitment `o`, `H(TAG_OWNER, salt, o_hi, o_lo)` with
/// `o_hi`, `o_lo` the big-endian 128-bit halves of `o`. Only the owner's own check
/// computes it from `o`; the circuits take the leaf salt as a witness, as before.
pub fn owner_salt<H: FieldHasher>(salt: H::F, owner: Option<OwnerCommitment>) -> H::F {
    match owner {
        None => salt,
        Some(o) => H::hash(&[
            tag::<H>(tags::OWNER),
            salt,
            H::from_be_bytes_mod_order(&o.0[..16]),
            H::from_be_bytes_mod_order(&o.0[16..]),
        ]),
    }
}

/// The leaf salt of `account`: [`account_salt`] bound to its owner by [`owner_salt`].
pub fn leaf_salt<H: FieldHasher>(secret: H::F, epoch: u64, account: &Account) -> H::F {
    owner_salt::<H>(
        account_salt::<H>(secret, epoch, account.id()),
        account.owner(),
    )
}

/// `pad_salt = H(TAG_PAD_SALT, secret, epoch, i)` for slot `j` of batch `b`, `i = b·B + j`.
pub fn padding_salt<H: FieldHasher>(secret: H::F, epoch: u64, index: u64) -> H::F {
    H::hash(&[
        tag::<H>(tags::PAD_SALT),
        secret,
        H::from_u64(epoch),
        H::from_u64(index),
    ])
}

/// `blind_b = H(TAG_BLIND, secret, epoch, b)`: the blinding of the state after batch `b`.
pub fn state_blinding<H: FieldHasher>(secret: H::F, epoch: u64, batch: u64) -> H::F {
    H::hash(&[
        tag::<H>(tags::BLIND),
        secret,
        H::from_u64(epoch),
        H::from_u64(batch),
    ])
}

/// Offsets a signed 64-bit value into a lane `v + 2^63 ∈ [0, 2^64)`.
pub fn lane(v: i64) -> u64 {
    (v as u64) ^ LANE_OFFSET
}

/// Bit position of the padding flag in word 0.
pub const PADDING_FLAG_BIT: u32 = 192;

/// The packed words of a leaf (`docs/SPEC.md` §5.2): lanes
/// `[id, balance + 2^63, size_0 + 2^63, …, amount_0 + 2^63, …]` (the amounts of the
/// collateral assets, risk model v2, after the sizes), three 64-bit lanes per word,
/// little-endian within the word; the padding flag at bit 192 of word 0.
/// `None` is a padding leaf: id 0, all amounts 0, flag 1, with `markets` sizes and
/// `assets` amounts (a real account has exactly as many).
pub fn leaf_words(account: Option<&Account>, markets: usize, assets: usize) -> Vec<U256> {
    let mut lanes = Vec::with_capacity(2 + markets + assets);
    match account {
        Some(a) => {
            debug_assert!(a.sizes().len() == markets && a.amounts().len() == assets);
            lanes.push(a.id().get());
            lanes.push(lane(a.quote_balance().get()));
            lanes.extend(a.sizes().iter().map(|s| lane(s.get())));
            lanes.extend(a.amounts().iter().map(|s| lane(s.get())));
        }
        None => {
            lanes.push(0);
            lanes.extend(core::iter::repeat_n(LANE_OFFSET, 1 + markets + assets));
        }
    }
    let mut words: Vec<U256> = lanes
        .chunks(3)
        .map(|c| {
            c.iter().enumerate().fold(U256::ZERO, |w, (j, l)| {
                w | (U256::from(*l) << (64 * j as u32))
            })
        })
        .collect();
    if account.is_none() {
        words[0] |= U256::ONE << PADDING_FLAG_BIT;
    }
    words
}

/// `leaf = absorb_chain(salt, words)` (`docs/SPEC.md` §5.2).
pub fn leaf<H: FieldHasher>(salt: H::F, words: &[U256]) -> H::F {
    let elems: Vec<H::F> = words.iter().map(|w| H::from_u256(*w)).collect();
    absorb_chain::<H>(salt, &elems)
}

/// A complete 8-ary Poseidon tree over one batch's leaves (`docs/SPEC.md` §5.3):
/// `node = H(c_0, …, c_7)`.
#[derive(Debug, Clone)]
pub struct BatchTree<H: FieldHasher> {
    /// `levels[0]` are the leaves, the last level holds the root alone.
    levels: Vec<Vec<H::F>>,
}

/// One step of an inclusion path: the node's position among its parent's children
/// and the other seven children in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathStep<F> {
    /// Position `0..8` of the node among its parent's children.
    pub position: u8,
    /// The other seven children, in order.
    pub siblings: [F; TREE_ARITY - 1],
}

impl<H: FieldHasher> BatchTree<H> {
    /// Builds the tree; the number of leaves must be a [`BatchSize`].
    pub fn new(leaves: Vec<H::F>) -> Self {
        debug_assert!(BatchSize::new(leaves.len() as u64).is_ok());
        let mut levels = vec![leaves];
        while let Some(level) = levels.last().filter(|l| l.len() > 1) {
            let next = level
                .chunks_exact(TREE_ARITY)
                .map(|c| H::hash(c))
                .collect::<Vec<_>>();
            levels.push(next);
        }
        Self { levels }
    }
    /// The root.
    pub fn root(&self) -> H::F {
        self.levels[self.levels.len() - 1][0]
    }
    /// The leaves.
    pub fn leaves(&self) -> &[H::F] {
        &self.levels[0]
    }
    /// The path from leaf `index` to the root.
    pub fn path(&self, mut index: usize) -> Vec<PathStep<H::F>> {
        let mut steps = Vec::with_capacity(self.levels.len() - 1);
        for level in &self.levels[..self.levels.len() - 1] {
            let base = index - index % TREE_ARITY;
            let position = (index % TREE_ARITY) as u8;
            let mut siblings = [level[base]; TREE_ARITY - 1];
            let mut k = 0;
            for (j, node) in level[base..base + TREE_ARITY].iter().enumerate() {
                if j != position as usize {
                    siblings[k] = *node;
                    k += 1;
                }
            }
            steps.push(PathStep { position, siblings });
            index /= TREE_ARITY;
        }
        steps
    }
}

/// Recomputes a root from a leaf and its path.
pub fn root_from_path<H: FieldHasher>(leaf: H::F, path: &[PathStep<H::F>]) -> H::F {
    path.iter().fold(leaf, |node, step| {
        let mut children = [node; TREE_ARITY];
        let mut k = 0;
        for (j, child) in children.iter_mut().enumerate() {
            if j != step.position as usize {
                *child = step.siblings[k];
                k += 1;
            }
        }
        H::hash(&children)
    })
}

/// `a_0 = H(TAG_ACCOUNTS, epoch)`: the start of the accounts-commitment chain.
pub fn accounts_chain_start<H: FieldHasher>(epoch: u64) -> H::F {
    H::hash(&[tag::<H>(tags::ACCOUNTS), H::from_u64(epoch)])
}

/// `a_{b+1} = H(a_b, root_b)`.
pub fn accounts_chain_step<H: FieldHasher>(acc: H::F, batch_root: H::F) -> H::F {
    H::hash(&[acc, batch_root])
}

/// The hash of the epoch's public parameters, over the quantities the circuits use
/// and the descriptor `d` of the raw published values (`docs/SPEC.md` §5.5):
/// `absorb(H(TAG_PARAMS, epoch, M, f_q, reserves·f_q, insurance_fund·f_q, d),
/// uv_0, ur_0, …, uv_{M−1}, ur_{M−1})` with `uv_m = price_m·f_m` and
/// `ur_m = uv_m·mm_m`, then for risk model v2 the values of
/// [`crate::native::risk::RiskParams::hashed`]. The verifier derives all of them
/// from validated published values, so the circuit needs no range checks on them.
pub fn params_hash<H: FieldHasher>(params: &EpochParams) -> H::F {
    let scales = Scales::new(params);
    let head = H::hash(&[
        tag::<H>(tags::PARAMS),
        H::from_u64(params.epoch()),
        H::from_u64(params.markets().len() as u64),
        H::from_u256(scales.quote.as_u256()),
        H::from_u256((I256::from(params.reserves()) * scales.quote).as_u256()),
        H::from_u256((I256::from(params.insurance_fund()) * scales.quote).as_u256()),
        H::from_u256(crate::descriptor::descriptor(params)),
    ]);
    let mut absorbed: Vec<H::F> = scales
        .unit_value
        .iter()
        .zip(&scales.unit_requirement)
        .flat_map(|(v, r)| [H::from_u256(v.as_u256()), H::from_u256(r.as_u256())])
        .collect();
    let risk = crate::native::risk::RiskParams::new(params, crate::shape::brackets_of(params));
    absorbed.extend(risk.hashed().iter().map(|v| H::from_u256(v.as_u256())));
    absorb_chain::<H>(head, &absorbed)
}

/// The parameters hash a halo2 batch's `x_b` carries (`docs/SPEC.md` §5.5, §6.4):
/// [`params_hash`], and for parameters with the waterfall (§2.4)
/// `absorb_chain(params_hash, uf_0, …, uf_{M−1})` with `uf_m = uv_m·lf_m`, the
/// fee per unit of `|size_m|` the circuit multiplies (the rates `lf_m` are in the
/// descriptor `d`, which the circuit does not open). The margin attestation
/// hashes the parameters without them ([`params_hash`]).
pub fn batch_params_hash<H: FieldHasher>(params: &EpochParams) -> H::F {
    let hash = params_hash::<H>(params);
    if !params.has_waterfall() {
        return hash;
    }
    let scales = Scales::new(params);
    let fee_units: Vec<H::F> = (scales.unit_value.iter())
        .zip(&scales.liquidation_fee_bps)
        .map(|(uv, lf)| H::from_u256((*uv * *lf).as_u256()))
        .collect();
    absorb_chain::<H>(hash, &fee_units)
}

/// The domain of the challenge's Keccak-256 preimage (`docs/SPEC.md` §5.6).
pub const CHALLENGE_DOMAIN: &[u8] = b"backstop.challenge.v3";

/// The liquidation-set hash (`docs/SPEC.md` §5.6): Keccak-256 of the ids in ascending
/// order, each as a 32-byte big-endian word (Solidity's
/// `keccak256(abi.encodePacked(uint64[] ids))`).
pub fn liquidations_hash(ids: &[AccountId]) -> [u8; 32] {
    liquidations_hash_of_words(ids.iter().map(|id| {
        let mut w = [0u8; 32];
        w[24..].copy_from_slice(&id.get().to_be_bytes());
        w
    }))
}

/// [`liquidations_hash`] of ids given as 32-byte big-endian words (for assignments
/// whose ids are arbitrary field elements).
pub fn liquidations_hash_of_words(words: impl IntoIterator<Item = [u8; 32]>) -> [u8; 32] {
    use sha3::{Digest, Keccak256};
    let mut k = Keccak256::new();
    for w in words {
        k.update(w);
    }
    k.finalize().into()
}

/// The big-endian 32 bytes of a field element.
pub fn be_word<H: FieldHasher>(x: &H::F) -> [u8; 32] {
    let mut w = H::to_le_bytes(x);
    w.reverse();
    w
}

/// The challenge `z = keccak256("backstop.challenge.v3" ‖ d ‖ accounts_commitment ‖
/// liquidations_hash) mod p` (`docs/SPEC.md` §5.6), `d` the descriptor of the raw
/// parameters (§5.5), which fixes every derived one: only verifiers compute it, so
/// it costs no constraint, and an EVM computes it with Keccak alone.
pub fn challenge<H: FieldHasher>(descriptor: H::F, accounts: H::F, liquidations: [u8; 32]) -> H::F {
    use sha3::{Digest, Keccak256};
    let mut k = Keccak256::new();
    k.update(CHALLENGE_DOMAIN);
    k.update(be_word::<H>(&descriptor));
    k.update(be_word::<H>(&accounts));
    k.update(liquidations);
    H::from_be_bytes_mod_order(&k.finalize())
}

/// The running state carried between batches (`docs/SPEC.md` §6.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningState<F> {
    /// The smallest id the next account may have: `last id + 1` (0 initially).
    pub next_id: u128,
    /// `L` so far.
    pub total_liabilities: I256,
    /// `D` so far.
    pub bad_debt: I256,
    /// `Π (z − id)` over liquidatable accounts so far (1 initially).
    pub liquidation_product: F,
    /// The accounts-commitment chain so far.
    pub accounts: F,
    /// Per collateral asset (risk model v2), `Σ max(amount, 0)` so far: what the
    /// venue owes its users of the asset. Empty without assets.
    pub asset_held: Vec<I256>,
    /// The waterfall's sums so far (`docs/SPEC.md` §2.4), for a waterfall shape.
    pub waterfall: Option<WaterfallState>,
}

/// The waterfall's running sums (`docs/SPEC.md` §2.4, §6.2): hidden partial sums,
/// committed in `C_b` like `L` and `D`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WaterfallState {
    /// `Σ fee'_i` (units of `10^-(E+4)`).
    pub fees: I256,
    /// `Σ ⌊E''_i · h / 10^13⌋` (common units) at the published rate `h`.
    pub haircuts: I256,
    /// The same at `h_lo = max(h − 1, 0)`.
    pub haircuts_below: I256,
}

impl WaterfallState {
    /// The sums after one more account with fee `fee'` and base `E''`, at rate
    /// `ppb`.
    pub fn add(&mut self, fee: I256, base: I256, ppb: u32) {
        use crate::native::waterfall::haircut;
        self.fees += fee;
        self.haircuts += haircut(base, ppb);
        self.haircuts_below += haircut(base, ppb.saturating_sub(1));
    }
    /// The three sums in the order `C_b` absorbs them.
    pub fn values(&self) -> [I256; 3] {
        [self.fees, self.haircuts, self.haircuts_below]
    }
}

impl<F: Copy> RunningState<F> {
    /// The initial state `S_init` of an epoch with `assets` collateral assets
    /// (`docs/SPEC.md` §6.2): nothing counted, product 1, the chain at `a_0`.
    pub fn initial(accounts: F, one: F, assets: usize) -> Self {
        Self {
            next_id: 0,
            total_liabilities: I256::ZERO,
            bad_debt: I256::ZERO,
            liquidation_product: one,
            accounts,
            asset_held: vec![I256::ZERO; assets],
            waterfall: None,
        }
    }
}

/// `C = H(TAG_STATE, blind, next_id, L, D, liq_product, accounts)`, then
/// `absorb_chain(that, held_0, …, held_{A−1}, F', S_h, S_lo)` with the collateral
/// assets' totals (risk model v2) and the waterfall's sums (a waterfall shape), if
/// any; the initial state uses blind 0 so that every verifier can compute it.
pub fn state_commitment<H: FieldHasher>(blind: H::F, state: &RunningState<H::F>) -> H::F {
    let head = H::hash(&[
        tag::<H>(tags::STATE),
        blind,
        H::from_u256(U256::from(state.next_id)),
        H::from_u256(state.total_liabilities.as_u256()),
        H::from_u256(state.bad_debt.as_u256()),
        state.liquidation_product,
        state.accounts,
    ]);
    let sums = state.waterfall.map(|w| w.values());
    let tail: Vec<H::F> = (state.asset_held.iter())
        .chain(sums.iter().flatten())
        .map(|h| H::from_u256(h.as_u256()))
        .collect();
    if tail.is_empty() {
        return head;
    }
    absorb_chain::<H>(head, &tail)
}

/// Everything an epoch commits to, computed natively (`docs/SPEC.md` §5–§6).
#[derive(Debug, Clone)]
pub struct EpochCommitment<H: FieldHasher> {
    /// The batch size `B`.
    pub batch_size: BatchSize,
    /// One tree per batch, `K` in all.
    pub batches: Vec<BatchTree<H>>,
    /// The accounts commitment `a_K`.
    pub accounts_commitment: H::F,
    /// The parameters hash of the halo2 batches' `x_b` ([`batch_params_hash`]).
    pub params_hash: H::F,
    /// The liquidation-set hash.
    pub liquidations_hash: [u8; 32],
    /// The challenge `z`.
    pub challenge: H::F,
    /// `K + 1` states: the initial one, then the state after each batch.
    pub states: Vec<RunningState<H::F>>,
    /// `K + 1` commitments to those states (the first with blind 0).
    pub state_commitments: Vec<H::F>,
}

/// Commits to a snapshot: salts, leaves, batch trees, the accounts commitment, the
/// liquidation set and the chain of running states.
pub fn commit_epoch<H: FieldHasher>(
    snapshot: &Snapshot,
    secret: &VenueSecret,
    batch_size: BatchSize,
) -> EpochCommitment<H> {
    let params = snapshot.params();
    let epoch = params.epoch();
    let markets = params.markets().len();
    let assets = params.assets().len();
    let accounts = snapshot.accounts();
    let secret = secret_element::<H>(secret);
    let b = batch_size.get();
    let k = batch_size.batch_count(accounts.len());

    let mut batches = Vec::with_capacity(k);
    for batch in 0..k {
        let leaves = (0..b)
            .map(|j| {
                let slot = batch * b + j;
                match accounts.get(slot) {
                    Some(a) => leaf::<H>(
                        leaf_salt::<H>(secret, epoch, a),
                        &leaf_words(Some(a), markets, assets),
                    ),
                    None => leaf::<H>(
                        padding_salt::<H>(secret, epoch, slot as u64),
                        &leaf_words(None, markets, assets),
                    ),
                }
            })
            .collect();
        batches.push(BatchTree::new(leaves));
    }
    let start = accounts_chain_start::<H>(epoch);
    let accounts_commitment = batches
        .iter()
        .fold(start, |acc, t| accounts_chain_step::<H>(acc, t.root()));

    let scales = Scales::new(params);
    let risks: Vec<_> = accounts.iter().map(|a| account_risk(&scales, a)).collect();
    let liquidated: Vec<AccountId> = accounts
        .iter()
        .zip(&risks)
        .filter(|(_, r)| r.liquidatable)
        .map(|(a, _)| a.id())
        .collect();
    let params_hash = batch_params_hash::<H>(params);
    let liquidations_hash = liquidations_hash(&liquidated);
    let d = H::from_u256(crate::descriptor::descriptor(params));
    let z = challenge::<H>(d, accounts_commitment, liquidations_hash);

    let mut state = RunningState::initial(start, H::from_u64(1), assets);
    // The waterfall's sums need the published rate h, which the whole epoch fixes.
    let ppb = params
        .has_waterfall()
        .then(|| crate::native::evaluate(snapshot).waterfall.haircut_ppb);
    state.waterfall = ppb.map(|_| WaterfallState::default());
    let mut states = vec![state.clone()];
    let mut state_commitments = vec![state_commitment::<H>(H::from_u64(0), &state)];
    for (batch, tree) in batches.iter().enumerate() {
        let range = batch * b..((batch + 1) * b).min(accounts.len());
        for (a, r) in accounts[range.clone()].iter().zip(&risks[range]) {
            state.next_id = u128::from(a.id().get()) + 1;
            state.total_liabilities += r.liability;
            state.bad_debt += r.bad_debt;
            if r.liquidatable {
                state.liquidation_product =
                    state.liquidation_product * (z - H::from_u64(a.id().get()));
            }
            for (held, amount) in state.asset_held.iter_mut().zip(a.amounts()) {
                *held += I256::from(amount.get().max(0));
            }
            if let (Some(w), Some(ppb)) = (state.waterfall.as_mut(), ppb) {
                w.add(r.liquidation_fee, r.haircut_base, ppb);
            }
        }
        state.accounts = accounts_chain_step::<H>(state.accounts, tree.root());
        states.push(state.clone());
        let blind = state_blinding::<H>(secret, epoch, batch as u64);
        state_commitments.push(state_commitment::<H>(blind, &state));
    }
    EpochCommitment {
        batch_size,
        batches,
        accounts_commitment,
        params_hash,
        liquidations_hash,
        challenge: z,
        states,
        state_commitments,
    }
}

/// `Π (z − id)` over a published liquidation set: what the final state's product
/// must equal (`docs/SPEC.md` §6.3).
pub fn liquidation_product<H: FieldHasher>(z: H::F, ids: &[AccountId]) -> H::F {
    ids.iter()
        .fold(H::from_u64(1), |acc, id| acc * (z - H::from_u64(id.get())))
}

/// The published outputs as the circuits see them (`docs/SPEC.md` §6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputsOpening<F> {
    /// The accounts commitment `a_K`.
    pub accounts_commitment: F,
    /// The challenge `z`.
    pub challenge: F,
    /// `Π (z − id)` over the published liquidation set.
    pub liquidation_product: F,
    /// `D` in common units.
    pub bad_debt: I256,
    /// `L ≤ reserves·f_q`.
    pub solvent: bool,
    /// `D ≤ insurance_fund·f_q`.
    pub insurance_covered: bool,
    /// `L` in common units if the venue discloses it, `None` if it stays hidden.
    pub liabilities: Option<I256>,
    /// Per collateral asset `c` (risk model v2), bit `c` set iff
    /// `Σ_i max(amount_{i,c}, 0) ≤ reserves_c`; 0 without assets.
    pub asset_solvency: u16,
    /// `A`, the number of collateral assets (0 for risk model v1): how many flags
    /// and disclosure words `O` absorbs.
    pub asset_count: usize,
    /// Per collateral asset `c < A` (risk model v2), its total `h_c = Σ_i
    /// max(amount_{i,c}, 0)` in minimal asset units if the venue discloses it,
    /// `None` if it stays hidden (`docs/SPEC.md` §2.3); `None` from `A` on.
    pub asset_totals: [Option<u128>; crate::bounds::MAX_ASSETS],
    /// The waterfall's proven outputs (`docs/SPEC.md` §2.4), for a waterfall shape.
    pub waterfall: Option<WaterfallOpening>,
}

/// What the proofs bind of the waterfall; the verifier derives the draw, the
/// deficit and the fund after from these, `D` and the published fund.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaterfallOpening {
    /// `F'` (units of `10^-(E+4)`).
    pub fees: I256,
    /// `h` in ppb.
    pub haircut_ppb: u32,
    /// Whether even `h = 10^9` leaves a deficit.
    pub shortfall: bool,
}

/// The per-asset solvency flags as a bit set: bit `c` for asset `c` (at most
/// [`crate::bounds::MAX_ASSETS`]` = 16`).
pub fn asset_solvency_bits(flags: &[bool]) -> u16 {
    flags
        .iter()
        .enumerate()
        .fold(0, |bits, (c, ok)| bits | (u16::from(*ok) << c))
}

impl<F> OutputsOpening<F> {
    /// `ℓ`, the disclosure word of `O`: `0` if `L` is hidden, `L + 1` if it is
    /// disclosed (`docs/SPEC.md` §6.4). The last batch proves `ℓ·(ℓ − L − 1) = 0`,
    /// so a disclosed `L` is the proven one and an undisclosed one is unconstrained.
    pub fn disclosure(&self) -> I256 {
        self.liabilities.map_or(I256::ZERO, |l| l + I256::ONE)
    }
    /// `ℓ_c`, asset `c`'s disclosure word: `0` if its total is hidden, `h_c + 1`
    /// if it is disclosed (`docs/SPEC.md` §6.4; `h_c < 2^95`, so `ℓ_c < 2^96`). The
    /// last batch proves `ℓ_c·(ℓ_c − h_c − 1) = 0` against its final `h_c`.
    pub fn asset_disclosure(&self, c: usize) -> u128 {
        self.asset_totals
            .get(c)
            .copied()
            .flatten()
            .map_or(0, |h| h + 1)
    }
    /// `ℓ_0, …, ℓ_{A−1}`.
    pub fn asset_disclosures(&self) -> Vec<u128> {
        (0..self.asset_count)
            .map(|c| self.asset_disclosure(c))
            .collect()
    }
}

/// The disclosed per-asset totals of `params` in minimal asset units, from the
/// evaluation's `h_c` (`None` for a hidden one).
pub fn disclosed_asset_totals(
    params: &crate::model::EpochParams,
    owed: &[I256],
) -> [Option<u128>; crate::bounds::MAX_ASSETS] {
    let mut totals = [None; crate::bounds::MAX_ASSETS];
    for (c, h) in owed.iter().enumerate().take(crate::bounds::MAX_ASSETS) {
        if params.asset_total_disclosed(c) {
            totals[c] = Some(h.as_u128());
        }
    }
    totals
}

/// `O = H(TAG_OUTPUTS, accounts_commitment, z, P_target, D, solvent, insurance_covered,
/// ℓ)` with `ℓ` = [`OutputsOpening::disclosure`]; with `A > 0` collateral assets
/// `absorb_chain(that, asset_solvent_0, …, asset_solvent_{A−1}, ℓ_0, …, ℓ_{A−1})`
/// with `ℓ_c` = [`OutputsOpening::asset_disclosure`] (risk model v2,
/// `docs/SPEC.md` §6.4).
pub fn outputs_hash<H: FieldHasher>(o: &OutputsOpening<H::F>) -> H::F {
    let head = H::hash(&[
        tag::<H>(tags::OUTPUTS),
        o.accounts_commitment,
        o.challenge,
        o.liquidation_product,
        H::from_u256(o.bad_debt.as_u256()),
        H::from_u64(o.solvent.into()),
        H::from_u64(o.insurance_covered.into()),
        H::from_u256(o.disclosure().as_u256()),
    ]);
    let tail: Vec<H::F> = (0..o.asset_count)
        .map(|c| H::from_u64(((o.asset_solvency >> c) & 1).into()))
        .chain(
            o.asset_disclosures()
                .into_iter()
                .map(|l| H::from_u256(U256::from(l))),
        )
        .chain(o.waterfall.iter().flat_map(|w| {
            [
                H::from_u256(w.fees.as_u256()),
                H::from_u64(w.haircut_ppb.into()),
                H::from_u64(w.shortfall.into()),
            ]
        }))
        .collect();
    absorb_chain::<H>(head, &tail)
}

/// Batch `b`'s single public input (`docs/SPEC.md` §6.4):
/// `x_b = H(TAG_BATCH, params_hash, b, K, C_{b−1}, C_b, O)`.
pub fn batch_public_input<H: FieldHasher>(
    params_hash: H::F,
    batch: u64,
    batch_count: u64,
    state_in: H::F,
    state_out: H::F,
    outputs: H::F,
) -> H::F {
    H::hash(&[
        tag::<H>(tags::BATCH),
        params_hash,
        H::from_u64(batch),
        H::from_u64(batch_count),
        state_in,
        state_out,
        outputs,
    ])
}

impl<H: FieldHasher> EpochCommitment<H> {
    /// The number of batches `K`.
    pub fn batch_count(&self) -> usize {
        self.batches.len()
    }

    /// The outputs opening of this epoch, given its evaluation; `L` and each
    /// asset's total are disclosed as `params` says
    /// ([`crate::model::EpochParams::liabilities_disclosed`],
    /// [`crate::model::EpochParams::asset_total_disclosed`]).
    pub fn outputs(
        &self,
        eval: &crate::native::EpochEvaluation,
        params: &crate::model::EpochParams,
    ) -> OutputsOpening<H::F> {
        OutputsOpening {
            accounts_commitment: self.accounts_commitment,
            challenge: self.challenge,
            liquidation_product: liquidation_product::<H>(self.challenge, &eval.liquidations),
            bad_debt: eval.bad_debt,
            solvent: eval.solvent,
            insurance_covered: eval.insurance_covered,
            liabilities: params
                .liabilities_disclosed()
                .then_some(eval.total_liabilities),
            asset_solvency: asset_solvency_bits(&eval.asset_solvency),
            asset_count: eval.asset_solvency.len(),
            asset_totals: disclosed_asset_totals(params, &eval.asset_owed),
            waterfall: params.has_waterfall().then_some(WaterfallOpening {
                fees: eval.waterfall.liquidation_fees,
                haircut_ppb: eval.waterfall.haircut_ppb,
                shortfall: eval.waterfall.shortfall,
            }),
        }
    }

    /// Every batch's public input, in order.
    pub fn public_inputs(&self, outputs: &OutputsOpening<H::F>) -> Vec<H::F> {
        let o = outputs_hash::<H>(outputs);
        let k = self.batch_count() as u64;
        (0..self.batch_count())
            .map(|b| {
                batch_public_input::<H>(
                    self.params_hash,
                    b as u64,
                    k,
                    self.state_commitments[b],
                    self.state_commitments[b + 1],
                    o,
                )
            })
            .collect()
    }
}
