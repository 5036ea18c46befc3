#!/usr/bin/env node
// Generates circuits/tests/vectors/poseidon_bn254.json: Poseidon hashes over the
// BN254 scalar field computed by circomlibjs (circomlib's parameters), used as the
// ground truth for `backstop_circuits::hash::Bn254Poseidon`.
//
// How to run (needs Node.js >= 18 and circomlibjs in a node_modules this script can
// require; scripts/vectors/package.json pins the exact version the committed file
// was generated with):
//
//     cd scripts/vectors && npm install && node circomlib_poseidon.js
//
// or, with circomlibjs installed elsewhere:
//
//     NODE_PATH=/path/to/node_modules node scripts/vectors/circomlib_poseidon.js [OUT]
//
// OUT defaults to circuits/tests/vectors/poseidon_bn254.json in this repository.
// Every vector is computed three ways (circomlibjs's WASM `buildPoseidon`, its
// `buildPoseidonReference` over the unoptimised constants and `buildPoseidonOpt`)
// and the script fails unless all three agree.

"use strict";

const fs = require("fs");
const path = require("path");
const circomlibjs = require("circomlibjs");

// The BN254 scalar field modulus (circomlib's `p`).
const P = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const MAX_INPUTS = 16;

function hex(x) {
    if (x < 0n || x >= P) throw new Error(`not a canonical field element: ${x}`);
    return "0x" + x.toString(16).padStart(64, "0");
}

// Deterministic pseudo-random field elements (a 256-bit LCG reduced mod p); no
// dependency on a random number generator, so the output is reproducible.
function* pseudoRandom(seed) {
    let s = seed;
    const M = 1n << 256n;
    for (;;) {
        s = (s * 0x5851f42d4c957f2d14057b7ef767814fn + 0x9e3779b97f4a7c15f39cc0605cedc835n) % M;
        yield s % P;
    }
}

function inputSets(n) {
    const sets = [];
    // 1, 2, ..., n
    sets.push({ label: "sequential", inputs: Array.from({ length: n }, (_, i) => BigInt(i + 1)) });
    // all zeros
    sets.push({ label: "zeros", inputs: Array.from({ length: n }, () => 0n) });
    // large values: alternately p-1-i and 2^253+i, and near 2^253 - 1
    sets.push({
        label: "large",
        inputs: Array.from({ length: n }, (_, i) =>
            i % 3 === 0 ? P - 1n - BigInt(i) : i % 3 === 1 ? (1n << 253n) + BigInt(i) : (1n << 253n) - 1n - BigInt(i),
        ),
    });
    // all p - 1
    sets.push({ label: "all p-1", inputs: Array.from({ length: n }, () => P - 1n) });
    // pseudo-random
    const rng = pseudoRandom(BigInt(n));
    sets.push({ label: "pseudo-random", inputs: Array.from({ length: n }, () => rng.next().value) });
    return sets;
}

// circomlibjs's package.json is not in its "exports", so find it next to the entry point.
function circomlibjsVersion() {
    let dir = path.dirname(require.resolve("circomlibjs"));
    for (;;) {
        const candidate = path.join(dir, "package.json");
        if (fs.existsSync(candidate)) {
            const pkg = JSON.parse(fs.readFileSync(candidate, "utf8"));
            if (pkg.name === "circomlibjs") return pkg.version;
        }
        const parent = path.dirname(dir);
        if (parent === dir) throw new Error("cannot find circomlibjs's package.json");
        dir = parent;
    }
}

async function main() {
    const out =
        process.argv[2] || path.join(__dirname, "..", "..", "circuits", "tests", "vectors", "poseidon_bn254.json");

    const poseidon = await circomlibjs.buildPoseidon();
    const reference = await circomlibjs.buildPoseidonReference();
    const opt = await circomlibjs.buildPoseidonOpt();
    const F = poseidon.F;
    const version = circomlibjsVersion();

    const hashAll = (inputs) => {
        const a = F.toObject(poseidon(inputs));
        const b = reference.F.toObject(reference(inputs));
        const c = opt.F.toObject(opt(inputs));
        if (a !== b || a !== c) throw new Error(`circomlibjs implementations disagree on ${inputs}`);
        return a;
    };

    const vectors = [];
    for (let n = 1; n <= MAX_INPUTS; n++) {
        for (const { label, inputs } of inputSets(n)) {
            vectors.push({ label, inputs: inputs.map(hex), output: hex(hashAll(inputs)) });
        }
    }

    // The classic published value.
    const classic = hashAll([1n, 2n]);
    if (hex(classic) !== "0x115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a") {
        throw new Error(`poseidon([1, 2]) = ${hex(classic)}, not the published value`);
    }

    const doc = {
        description:
            "Poseidon over the BN254 scalar field with circomlib's parameters (t = n + 1, " +
            "state [0, in_1, ..., in_n], output state[0]). Field elements are 0x-prefixed " +
            "big-endian hex, canonical (< p).",
        generator: "scripts/vectors/circomlib_poseidon.js",
        circomlibjs_version: version,
        modulus: "0x" + P.toString(16).padStart(64, "0"),
        vectors,
    };
    fs.writeFileSync(out, JSON.stringify(doc, null, 2) + "\n");
    console.error(`wrote ${vectors.length} vectors to ${out} (circomlibjs ${version})`);
}

main().then(
    () => process.exit(0),
    (e) => {
        console.error(e);
        process.exit(1);
    },
);
