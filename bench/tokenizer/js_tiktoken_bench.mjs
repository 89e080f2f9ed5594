// The JavaScript half of bench/tokenizer/run.sh: js-tiktoken's o200k_base (the same ranks
// and split regex as gpt-oss's tokenizer, without harmony's special tokens) on the same
// corpus, same method as bench/tokenizer_bench.cpp: each text encoded as plain text
// (no special tokens allowed or disallowed), one warm-up pass, best of N timed passes.
// Usage: node js_tiktoken_bench.mjs <node_modules dir> <corpus.jsonl> [runs]
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";

const [modules, corpusPath, runsArg] = process.argv.slice(2);
const require = createRequire(modules + "/");
const { Tiktoken } = require("js-tiktoken/lite");
const o200k = require("js-tiktoken/ranks/o200k_base");

const enc = new Tiktoken(o200k.default ?? o200k);
const texts = readFileSync(corpusPath, "utf8").split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l).text);
const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t, "utf8"), 0);
const runs = Number(runsArg ?? 3);

function pass() {
  // FNV-1a over the ids, as the C++ bench computes it, in BigInt to keep 64 bits.
  let hash = 1469598103934665603n;
  const prime = 1099511628211n;
  const mask = (1n << 64n) - 1n;
  let tokens = 0;
  const all = [];
  for (const t of texts) {
    const ids = enc.encode(t, [], []);
    tokens += ids.length;
    all.push(ids);
  }
  return { tokens, all, hashOf: () => {
    for (const ids of all) for (const id of ids) hash = ((hash ^ BigInt(id)) * prime) & mask;
    return hash.toString(16).padStart(16, "0");
  } };
}

let result = pass();  // warm-up: JIT the encoder
let best = Infinity;
for (let r = 0; r < runs; ++r) {
  const t0 = performance.now();
  result = pass();
  best = Math.min(best, (performance.now() - t0) / 1000);
}
console.log(JSON.stringify({
  impl: "js-tiktoken", version: JSON.parse(readFileSync(modules + "/js-tiktoken/package.json", "utf8")).version, node: process.version,
  bytes, texts: texts.length, tokens: result.tokens, ids_fnv1a: result.hashOf(),
  best_seconds: best, mb_per_s: bytes / best / 1e6, runs,
}));
