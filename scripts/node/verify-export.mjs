// Verifies every batch of a `backstop export snarkjs` directory in one process,
// with the pinned snarkjs:
//
//   node scripts/node/verify-export.mjs EXPORT_DIR
//
// * checks that verification_key.json's vk_alphabeta_12 is e(vk_alpha_1, vk_beta_2)
//   as snarkjs computes it (snarkjs's `groth16 verify` itself ignores that field);
// * runs snarkjs.groth16.verify on each proof_<i>.json / public_<i>.json pair.
//
// Prints one JSON object (snarkjs version, per-batch result and milliseconds) and
// exits 0 only if everything holds. Faster than one `snarkjs groth16 verify`
// process per batch, which pays Node and WebAssembly start-up each time.
import { readFileSync, readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import * as snarkjs from "snarkjs";

const dir = process.argv[2];
if (!dir) {
    console.error("usage: node verify-export.mjs EXPORT_DIR");
    process.exit(2);
}
const readJson = (name) => JSON.parse(readFileSync(join(dir, name), "utf8"));
const here = dirname(fileURLToPath(import.meta.url));
const version = JSON.parse(
    readFileSync(join(here, "node_modules", "snarkjs", "package.json"), "utf8"),
).version;

const vk = readJson("verification_key.json");
const batches = readdirSync(dir)
    .map((f) => /^proof_(\d+)\.json$/.exec(f))
    .filter(Boolean)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);

// Nested arrays of decimal strings <-> of BigInts.
const toBigInts = (x) => (Array.isArray(x) ? x.map(toBigInts) : BigInt(x));
const toStrings = (x) => (Array.isArray(x) ? x.map(toStrings) : x.toString());

const curve = await snarkjs.curves.getCurveFromName(vk.curve);
let ok = true;
let alphabeta;
try {
    const e = await curve.pairing(
        curve.G1.fromObject(toBigInts(vk.vk_alpha_1)),
        curve.G2.fromObject(toBigInts(vk.vk_beta_2)),
    );
    const expected = toStrings(curve.Gt.toObject(e));
    alphabeta = JSON.stringify(expected) === JSON.stringify(vk.vk_alphabeta_12);
} finally {
    await curve.terminate();
}
ok &&= alphabeta;

const results = [];
for (const i of batches) {
    const proof = readJson(`proof_${i}.json`);
    const pub = readJson(`public_${i}.json`);
    const t0 = performance.now();
    const valid = await snarkjs.groth16.verify(vk, pub, proof);
    const ms = performance.now() - t0;
    results.push({ batch: i, valid, ms: Math.round(ms * 10) / 10 });
    ok &&= valid;
}
console.log(JSON.stringify({ snarkjs: version, alphabeta_matches: alphabeta, batches: results, ok }));
process.exit(ok ? 0 : 1);
