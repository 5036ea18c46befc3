// Compiles the Solidity files of a `backstop export solidity` directory with the
// pinned solc (scripts/node/package.json; solcjs, no network), with fixed settings
// so that the bytecode is reproducible:
//
//   node scripts/node/compile-solidity.mjs SOL_DIR [OUT_JSON]
//
// Settings: optimizer on, 200 runs, EVM version cancun, no metadata hash and no
// CBOR metadata appended (the bytecode depends on the sources and the settings only).
//
// Prints (or writes to OUT_JSON) one JSON object:
//   { "compiler": "solc 0.8.37+commit…", "settings": {…},
//     "contracts": { "<Name>": { "source": "<File>.sol", "abi": […],
//                    "bytecode": "0x…", "deployedBytecode": "0x…",
//                    "methodIdentifiers": { "sig(…)": "12345678" } } } }
// and exits non-zero on any compiler error (warnings go to stderr).
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const solc = require("solc");

const [dir, out] = process.argv.slice(2);
if (!dir) {
    console.error("usage: node compile-solidity.mjs SOL_DIR [OUT_JSON]");
    process.exit(2);
}

const here = dirname(fileURLToPath(import.meta.url));
const pinned = JSON.parse(readFileSync(join(here, "package.json"), "utf8")).dependencies.solc;
const version = solc.version();
if (!version.startsWith(`${pinned}+`)) {
    console.error(`compile-solidity: solc ${version} is installed but package.json pins ${pinned}; run scripts/node/setup`);
    process.exit(1);
}

const SETTINGS = {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "cancun",
    metadata: { bytecodeHash: "none", appendCBOR: false },
    outputSelection: {
        "*": {
            "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "evm.methodIdentifiers"],
        },
    },
};

const files = readdirSync(dir)
    .filter((f) => f.endsWith(".sol"))
    .sort();
if (files.length === 0) {
    console.error(`compile-solidity: no .sol files in ${dir}`);
    process.exit(1);
}
const sources = Object.fromEntries(
    files.map((f) => [f, { content: readFileSync(join(dir, f), "utf8") }]),
);
const output = JSON.parse(
    solc.compile(JSON.stringify({ language: "Solidity", sources, settings: SETTINGS })),
);

let failed = false;
for (const e of output.errors ?? []) {
    console.error(e.formattedMessage ?? e.message);
    if (e.severity === "error") failed = true;
}
if (failed) process.exit(1);

const contracts = {};
for (const [source, byName] of Object.entries(output.contracts ?? {})) {
    for (const [name, c] of Object.entries(byName)) {
        // Interfaces have no bytecode: skip them.
        if (!c.evm.bytecode.object) continue;
        contracts[name] = {
            source,
            abi: c.abi,
            bytecode: `0x${c.evm.bytecode.object}`,
            deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
            methodIdentifiers: c.evm.methodIdentifiers,
        };
    }
}
const { outputSelection, ...shown } = SETTINGS;
const result = JSON.stringify({ compiler: `solc ${version}`, settings: shown, contracts }, null, 2) + "\n";
if (out) {
    writeFileSync(out, result);
} else {
    process.stdout.write(result);
}
