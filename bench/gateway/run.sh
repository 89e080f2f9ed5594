#!/usr/bin/env bash
# Gateway overhead: the same workload straight into the ZeroMQ front door (`gossamer
# loadgen`) and through `gossamer gateway` over HTTP (tests/gateway/node/load.mjs), one
# server, alternating, twice each. Tiny model (tests/data/tiny), `tokens` prompts of 32
# random ids, 32 output tokens, greedy, streamed.
#   bench/gateway/run.sh        -> bench/results/gateway_overhead.json (git-ignored)
# Two phases: concurrency 1 (what the gateway adds to one request's TTFT) and concurrency
# 32 (throughput at load); ROUNDS (5) alternating rounds each, so that load from other
# tenants of a shared machine hits both sides alike; the summary is the median over rounds.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=${GOSSAMER_BINARY:-$ROOT/build/gossamer}
OUT=$ROOT/bench/results
mkdir -p "$OUT"
TMP=$(mktemp -d)
cleanup() {
  [ -n "${GW_PID:-}" ] && kill "$GW_PID" 2>/dev/null || true
  [ -n "${SRV_PID:-}" ] && kill "$SRV_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

"$BIN" --log-level warn serve --model "$ROOT/tests/data/tiny/model" --threads 2 --max-running 32 \
  --endpoint 'tcp://127.0.0.1:*' --endpoint-file "$TMP/endpoint" > "$TMP/serve.log" 2>&1 &
SRV_PID=$!
for _ in $(seq 600); do [ -s "$TMP/endpoint" ] && break; sleep 0.1; done
EP=$(cat "$TMP/endpoint")
"$BIN" --log-level warn gateway --upstream "$EP" --listen 127.0.0.1:0 --port-file "$TMP/port" > "$TMP/gateway.log" 2>&1 &
GW_PID=$!
for _ in $(seq 600); do [ -s "$TMP/port" ] && break; sleep 0.1; done
BASE=http://127.0.0.1:$(cat "$TMP/port")
"$BIN" status --endpoint "$EP" --wait 60 > /dev/null

ROUNDS=${ROUNDS:-5}
run_phase() {  # name n c
  local name=$1 n=$2 c=$3
  for round in $(seq "$ROUNDS"); do
    "$BIN" loadgen --endpoint "$EP" -n "$n" -c "$c" --token-prompts 4096 --prompt-len fixed:32 \
      --output-len fixed:32 --seed "$round" --json "$TMP/${name}_direct_$round.json" > /dev/null
    node "$ROOT/tests/gateway/node/load.mjs" --base "$BASE" -n "$n" -c "$c" --prompt-len 32 --max-tokens 32 \
      --json "$TMP/${name}_gateway_$round.json" > /dev/null
  done
}
run_phase c1 50 1
run_phase c32 300 32

node - "$TMP" "$OUT/gateway_overhead.json" "$ROUNDS" <<'JS'
const fs = require('fs');
const [dir, out, rounds] = process.argv.slice(2);
const read = (f) => JSON.parse(fs.readFileSync(`${dir}/${f}`, 'utf8'));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const result = { machine_load_after: fs.readFileSync('/proc/loadavg', 'utf8').trim(), rounds: Number(rounds), runs: [], median: {} };
for (const phase of ['c1', 'c32']) {
  for (let round = 1; round <= Number(rounds); ++round) {
    const d = read(`${phase}_direct_${round}.json`), g = read(`${phase}_gateway_${round}.json`);
    result.runs.push({ phase, round,
      direct: { ttft_p50_ms: d.ttft_ms.p50, ttft_p99_ms: d.ttft_ms.p99, output_tok_s: d.throughput.output_tokens_per_s,
        ok: d.accounting.ok, requests: d.accounting.sent },
      gateway: { ttft_p50_ms: g.ttft_ms.p50, ttft_p99_ms: g.ttft_ms.p99, output_tok_s: g.output_tokens_per_s, ok: g.ok,
        requests: g.requests } });
  }
  const runs = result.runs.filter((r) => r.phase === phase);
  const m = {};
  for (const side of ['direct', 'gateway'])
    for (const k of ['ttft_p50_ms', 'ttft_p99_ms', 'output_tok_s']) m[`${side}_${k}`] = median(runs.map((r) => r[side][k]));
  m.added_ttft_p50_ms = median(runs.map((r) => r.gateway.ttft_p50_ms - r.direct.ttft_p50_ms));
  m.throughput_ratio = median(runs.map((r) => r.gateway.output_tok_s / r.direct.output_tok_s));
  result.median[phase] = m;
}
fs.writeFileSync(out, JSON.stringify(result, null, 2));
for (const r of result.runs)
  console.log(`${r.phase} round ${r.round}: TTFT p50 ${r.direct.ttft_p50_ms.toFixed(2)} -> ${r.gateway.ttft_p50_ms.toFixed(2)} ms, ` +
    `p99 ${r.direct.ttft_p99_ms.toFixed(2)} -> ${r.gateway.ttft_p99_ms.toFixed(2)} ms, ` +
    `${r.direct.output_tok_s.toFixed(0)} -> ${r.gateway.output_tok_s.toFixed(0)} output tok/s`);
console.log(JSON.stringify(result.median, null, 2));
console.log(`wrote ${out}`);
JS
