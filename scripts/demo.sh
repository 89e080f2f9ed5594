#!/usr/bin/env bash
# The main job: set-up (install + build), write a synthetic tiny gpt-oss checkpoint with the
# real gpt-oss vocabulary (so text prompts work), start a 2-rank cluster serving it, submit
# a prompt and stream the answer, then shut the cluster down cleanly.
# The model is random, so the answer is gibberish: the demo shows the machinery.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh gossamer  # the demo runs only the gossamer binary: no tests to build
BIN=${GOSSAMER_BUILD_DIR:-$PWD/build}/gossamer
MODEL=$PWD/.cache/demo-tiny-vocab
ENDPOINT=${GOSSAMER_DEMO_ENDPOINT:-tcp://127.0.0.1:5599}
RUN_DIR=$(mktemp -d)
export GOSSAMER_TOKENIZER=${GOSSAMER_TOKENIZER:-$PWD/.cache/tokenizer-gptoss/tokenizer.json}
[ -f "$MODEL/config.json" ] || "$BIN" synth --preset tiny --vocab 201088 --out "$MODEL" --seed 7

server_pid=""
stop_server() {
  [ -n "$server_pid" ] || return 0
  if kill -0 "$server_pid" 2>/dev/null; then
    # SIGTERM to rank 0: it answers what is in flight, tells the other rank to stop, exits.
    [ -f "$RUN_DIR/serve.pid" ] && kill -TERM "$(cat "$RUN_DIR/serve.pid")" 2>/dev/null || kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$server_pid" 2>/dev/null || kill -KILL "$server_pid" 2>/dev/null || true
  fi
  wait "$server_pid" 2>/dev/null && rc=0 || rc=$?
  server_pid=""
  return $rc
}
trap 'stop_server || true; rm -rf "$RUN_DIR"' EXIT

echo "== starting a 2-rank cluster (tp=2) on $ENDPOINT"
setsid launch/local.sh -np 2 "$BIN" serve --model "$MODEL" --parallel tp=2 --threads 1 \
  --endpoint "$ENDPOINT" --pid-file "$RUN_DIR/serve.pid" >"$RUN_DIR/serve.log" 2>&1 &
server_pid=$!
if ! "$BIN" status --endpoint "$ENDPOINT" --wait 120 >"$RUN_DIR/status.json"; then
  echo "demo: the server did not come up; its log:" >&2
  cat "$RUN_DIR/serve.log" >&2
  exit 1
fi
grep -E '"(status|world_size|kv_blocks_total)"' "$RUN_DIR/status.json"

echo "== submit (streaming; the analysis channel goes to stderr)"
"$BIN" submit --endpoint "$ENDPOINT" --prompt "What is the capital of France?" \
  --max-tokens 48 --temperature 0 --show-thinking
echo
echo "== stats"
"$BIN" status --endpoint "$ENDPOINT" | grep -E '"(completed|running|kv_blocks_used|prefix_cache_hit_blocks)"'

echo "== shutting down"
if stop_server; then
  echo "cluster stopped cleanly"
else
  echo "demo: the cluster did not stop cleanly; its log:" >&2
  cat "$RUN_DIR/serve.log" >&2
  exit 1
fi
