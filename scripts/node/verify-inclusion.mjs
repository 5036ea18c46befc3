// Checks a Backstop inclusion proof with circomlibjs alone, independently of the
// Rust code: an implementation of docs/INCLUSION.md for groth16-bn254 epochs.
//
//   node scripts/node/verify-inclusion.mjs PROOF.json STATEMENT.json
//
// PROOF.json is written by `backstop inclusion prove`; its batch roots are inside it
// (`batch_roots`) or in the file it names (`batch_roots_file`, relative to the
// proof). STATEMENT.json is the epoch directory's statement.json.
//
// Recomputes the leaf (lanes, words, absorb over the salt), the path to the batch
// root, the accounts chain a_0 -> a_K, compares a_K with the statement's
// accounts_commitment, and evaluates the account at the published prices to say
// whether the published liquidation set is right about it, under risk model v2 too
// (maintenance brackets, collateral assets with haircuts: SPEC §2.2), and, when
// the statement publishes the default waterfall (SPEC §2.4), the account's
// liquidation fee and its haircut at the published rate. Prints one JSON object;
// exits 0 if the account is included and the liquidation set is right about it,
// 1 if it is not included, 3 if the liquidation set is wrong about it, 2 on bad
// input. Needs circomlibjs (pinned in scripts/node/package.json: `npm ci`).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { buildPoseidon } from "circomlibjs";

const [proofPath, statementPath] = process.argv.slice(2);
if (!proofPath || !statementPath) {
    console.error("usage: node verify-inclusion.mjs PROOF.json STATEMENT.json");
    process.exit(2);
}

// The BN254 scalar field order.
const P = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

function fail(code, message, extra = {}) {
    console.log(JSON.stringify({ included: false, error: message, ...extra }));
    process.exit(code);
}

// A field element as published: "0x" + 64 hex digits, canonical (< P).
function element(text, what) {
    if (typeof text !== "string" || !/^0x[0-9a-f]{64}$/.test(text)) {
        fail(2, `${what}: not 0x + 64 lowercase hex digits`);
    }
    const v = BigInt(text);
    if (v >= P) fail(2, `${what}: not below the field order`);
    return v;
}

const hex = (v) => "0x" + v.toString(16).padStart(64, "0");

// A domain tag: its ASCII bytes read as a big-endian integer.
const tag = (name) => BigInt("0x" + Buffer.from(name, "ascii").toString("hex"));

// An exact decimal string [-]digits[.digits] with at most `decimals` places (more
// only if they are zeros), scaled to an integer.
function decimal(text, decimals, what) {
    const m = /^(-?)([0-9]+)(?:\.([0-9]+))?$/.exec(text);
    if (!m) fail(2, `${what}: not an exact decimal: ${JSON.stringify(text)}`);
    let frac = m[3] ?? "";
    if (frac.length > decimals) {
        if (!/^0*$/.test(frac.slice(decimals))) fail(2, `${what}: more than ${decimals} decimal places`);
        frac = frac.slice(0, decimals);
    }
    const v = BigInt(m[2] + frac.padEnd(decimals, "0"));
    return m[1] === "-" ? -v : v;
}

const proof = JSON.parse(readFileSync(proofPath, "utf8"));
const statement = JSON.parse(readFileSync(statementPath, "utf8"));
if (proof.format !== "backstop.inclusion.v2") fail(2, "not a backstop.inclusion.v2 proof");
if (statement.backend !== "groth16-bn254" || proof.backend !== "groth16-bn254") {
    fail(2, "this script checks groth16-bn254 epochs (BN254 Poseidon) only");
}
// v2 artifacts write the epoch as a decimal string (SPEC §7.1), never a number.
if (typeof proof.epoch !== "string" || typeof statement.epoch !== "string") fail(2, "epoch: not a decimal string");
if (BigInt(proof.epoch) !== BigInt(statement.epoch)) fail(1, `the proof is for epoch ${proof.epoch}, the statement for ${statement.epoch}`);

const poseidonWasm = await buildPoseidon();
const F = poseidonWasm.F;
const H = (inputs) => F.toObject(poseidonWasm(inputs));

// Chained absorb: acc <- H(acc, chunk...) over chunks of at most 15.
function absorb(acc, xs) {
    for (let i = 0; i < xs.length; i += 15) acc = H([acc, ...xs.slice(i, i + 15)]);
    return acc;
}

// 1. The account's lanes and words (SPEC §5.2).
const markets = statement.markets;
const OFFSET = 1n << 63n;
const BOUND = 1n << 63n;
const id = BigInt(proof.account.account_id);
if (!/^(0|[1-9][0-9]*)$/.test(proof.account.account_id) || id >= 1n << 64n) fail(2, "account_id: not a u64");
const balance = decimal(proof.account.quote_balance, statement.quote_decimals, "quote_balance");
const sizes = markets.map(() => 0n);
const seen = new Set();
for (const p of proof.account.positions) {
    const m = markets.findIndex((x) => x.symbol === p.market);
    if (m < 0 || seen.has(m)) fail(2, `position in ${p.market}: unknown or repeated market`);
    seen.add(m);
    sizes[m] = decimal(p.size, markets[m].size_decimals, `size in ${p.market}`);
}
// Risk model v2: the collateral amounts, lanes after the sizes (absent: none).
const assets = statement.assets ?? [];
const amounts = assets.map(() => 0n);
const seenAssets = new Set();
for (const b of proof.account.balances ?? []) {
    const c = assets.findIndex((x) => x.symbol === b.asset);
    if (c < 0 || seenAssets.has(c)) fail(2, `balance of ${b.asset}: unknown or repeated asset`);
    seenAssets.add(c);
    amounts[c] = decimal(b.amount, assets[c].amount_decimals, `amount of ${b.asset}`);
}
for (const v of [balance, ...sizes, ...amounts]) if (v >= BOUND || -v >= BOUND) fail(2, "an amount is out of bounds (|v| < 2^63)");
const lanes = [id, balance + OFFSET, ...sizes.map((s) => s + OFFSET), ...amounts.map((a) => a + OFFSET)];
const words = [];
for (let i = 0; i < lanes.length; i += 3) {
    words.push(lanes.slice(i, i + 3).reduce((w, l, j) => w + (l << (64n * BigInt(j))), 0n));
}
// The leaf salt: the venue's salt, bound to the owner commitment if the proof names
// one: H(TAG_OWNER, salt, o_hi, o_lo) with the commitment's 128-bit halves.
let salt = element(proof.salt, "salt");
if (proof.owner !== undefined) {
    if (typeof proof.owner !== "string" || !/^0x[0-9a-f]{64}$/.test(proof.owner)) fail(2, "owner: not 0x + 64 lowercase hex digits");
    const o = BigInt(proof.owner);
    salt = H([tag("backstop.owner.v1"), salt, o >> 128n, o & ((1n << 128n) - 1n)]);
}
const leaf = absorb(salt, words);

// 2. Up the path to the batch root (SPEC §5.3).
let node = leaf;
proof.path.forEach((step, level) => {
    if (!(step.position >= 0 && step.position < 8) || step.siblings.length !== 7) fail(2, `path[${level}]: bad step`);
    const siblings = step.siblings.map((s, i) => element(s, `path[${level}].siblings[${i}]`));
    node = H([...siblings.slice(0, step.position), node, ...siblings.slice(step.position)]);
});

// 3. The accounts chain (SPEC §5.4).
const roots = (proof.batch_roots ??
    JSON.parse(readFileSync(join(dirname(proofPath), proof.batch_roots_file), "utf8")).batch_roots
).map((r, i) => element(r, `batch_roots[${i}]`));
if (BigInt(roots.length) !== BigInt(statement.batch_count)) fail(1, `${roots.length} batch roots, the statement has ${statement.batch_count} batches`);
if (node !== roots[proof.batch]) {
    fail(1, "the account's data, salt and path do not lead to its batch root", { computed_root: hex(node) });
}
let a = H([tag("backstop.accounts.v1"), BigInt(statement.epoch)]);
for (const r of roots) a = H([a, r]);
if (hex(a) !== statement.accounts_commitment) {
    fail(1, "the batch roots do not chain to the published accounts commitment", { computed: hex(a) });
}

// 4. The account at the published prices (SPEC §2.2, §3), in common units of
// 10^-E quote; MR' and MV' are 10000 times MR and MV.
const q = statement.quote_decimals;
const E = Math.max(
    q,
    ...markets.map((m) => m.size_decimals + m.price_decimals),
    ...assets.map((a) => a.amount_decimals + a.price_decimals),
);
const fq = 10n ** BigInt(E - q);
let tv = balance * fq;
let mr = 0n;
// The waterfall (SPEC §2.4): Σ_m n_m · lf_m, the fee a liquidation would charge
// before its cap, 10000 times it in common units.
let feeNotional = 0n;
markets.forEach((m, i) => {
    const unit = decimal(m.price, m.price_decimals, `price of ${m.symbol}`) * 10n ** BigInt(E - m.size_decimals - m.price_decimals);
    tv += sizes[i] * unit;
    const notional = (sizes[i] < 0n ? -sizes[i] : sizes[i]) * unit;
    feeNotional += notional * BigInt(m.liquidation_fee_bps ?? 0);
    // Brackets: the first from 0 at the market's rate, then its tiers; the last
    // whose floor is at most the notional applies, less the maintenance amount
    // cum'_t = Σ_{i ≤ t} floor_i · (mm_i − mm_{i−1}).
    let rate = BigInt(m.maintenance_margin_bps);
    let cum = 0n;
    for (const [t, tier] of (m.tiers ?? []).entries()) {
        const floor = decimal(tier.notional_floor, q, `markets ${m.symbol} tiers[${t}].notional_floor`) * fq;
        if (floor > notional) break;
        const next = BigInt(tier.maintenance_margin_bps);
        cum += floor * (next - rate);
        rate = next;
    }
    mr += notional * rate - cum;
});
// Collateral: full value in TV; in MV a held amount counts at its ratio, a debt in full.
let mv = 10000n * tv;
assets.forEach((a, c) => {
    const unit = decimal(a.price, a.price_decimals, `price of ${a.symbol}`) * 10n ** BigInt(E - a.amount_decimals - a.price_decimals);
    const value = amounts[c] * unit;
    tv += value;
    mv += value * (amounts[c] > 0n ? BigInt(a.collateral_ratio_bps) : 10000n);
});
const liquidatable = mv < mr;
const listed = statement.liquidations.includes(proof.account.account_id);
const consistent = liquidatable === listed;
// The waterfall (SPEC §2.4), when the statement publishes one: the fee is
// min(Σ n_m · lf_m, 10^4 · max(TV, 0)) for a liquidatable account (10^-(E+4) units),
// the haircut ⌊E'' · h / 10^13⌋ whole common units with E'' = 10^4 · max(TV, 0) − fee.
let waterfall = {};
if (statement.haircut_ppb !== undefined) {
    const cap = 10000n * (tv > 0n ? tv : 0n);
    const fee = liquidatable ? (feeNotional < cap ? feeNotional : cap) : 0n;
    const base = cap - fee;
    const haircut = (base * BigInt(statement.haircut_ppb)) / 10n ** 13n;
    waterfall = {
        liquidation_fee_bps_common_units: fee.toString(),
        haircut_common_units: haircut.toString(),
        equity_after_bps_common_units: (base - 10000n * haircut).toString(),
    };
}
console.log(JSON.stringify({
    included: true,
    account_id: proof.account.account_id,
    epoch: statement.epoch,
    accounts_commitment: statement.accounts_commitment,
    leaf: hex(leaf),
    batch_root: hex(node),
    total_value_common_units: tv.toString(),
    margin_value_bps_common_units: mv.toString(),
    requirement_bps_common_units: mr.toString(),
    common_exponent: E,
    liquidatable,
    listed_as_liquidatable: listed,
    liquidation_status_consistent: consistent,
    ...waterfall,
}));
process.exit(consistent ? 0 : 3);
