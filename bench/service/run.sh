#!/usr/bin/env bash
# bench/service/run.sh: `gossamer loadgen` against `gossamer serve` on CPU, 1 and 2 ranks,
# on the tiny model and on a medium synthetic one (gpt-oss-20b width, 2 layers).
# Writes bench/results/service_<model>_np<N>.json (+ .png) and prints one line per run.
#
#   bench/service/run.sh                 # everything
#   MODELS=tiny NPS=1 bench/service/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${GOSSAMER_BUILD_DIR:-$PWD/build}/gossamer
OUT=$PWD/bench/results
CACHE=$PWD/.cache/bench-service
mkdir -p "$OUT" "$CACHE"
export GOSSAMER_TOKENIZER=${GOSSAMER_TOKENIZER:-$PWD/.cache/tokenizer-gptoss/tokenizer.json}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
MODELS=${MODELS:-"tiny medium"}
NPS=${NPS:-"1 2"}

model_dir() {
  case "$1" in
    tiny) echo "$PWD/tests/data/tiny/model" ;;
    medium)
      [ -f "$CACHE/medium/config.json" ] || "$BIN" --log-level warn synth --preset gpt-oss-20b --layers 2 --out "$CACHE/medium" --seed 3 >&2
      echo "$CACHE/medium" ;;
  esac
}
# requests concurrency prompt-len output-len per model (the medium model is ~100x slower)
load_args() {
  case "$1" in
    tiny) echo "--requests 400 --concurrency 32 --prompt-len uniform:16:128 --output-len uniform:16:64 --token-prompts 4096" ;;
    medium) echo "--requests 48 --concurrency 8 --prompt-len uniform:16:128 --output-len uniform:8:32 --token-prompts 200000" ;;
  esac
}

for model in $MODELS; do
  dir=$(model_dir "$model")
  for np in $NPS; do
    run=$(mktemp -d)
    layout=""
    [ "$np" -gt 1 ] && layout="--parallel tp=$np"
    launcher=()
    [ "$np" -gt 1 ] && launcher=(launch/local.sh -np "$np")
    threads=$((2 / np)); [ "$threads" -lt 1 ] && threads=1
    setsid "${launcher[@]}" "$BIN" serve --model "$dir" $layout --threads "$threads" --max-context 1024 \
      --kv-blocks 2048 --endpoint 'tcp://127.0.0.1:*' --endpoint-file "$run/endpoint" \
      --pid-file "$run/pid" --comm-timeout 120 >"$run/serve.log" 2>&1 &
    spid=$!
    for _ in $(seq 1 600); do [ -s "$run/endpoint" ] && break; sleep 0.2; done
    ep=$(cat "$run/endpoint")
    name=service_${model}_np${np}
    # shellcheck disable=SC2046
    "$BIN" loadgen --endpoint "$ep" $(load_args "$model") --seed 1 --request-timeout 600 \
      --json "$OUT/$name.json" --plot "$OUT/$name.png" | tee "$run/loadgen.txt"
    kill -TERM "$(cat "$run/pid")" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$spid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
    rm -rf "$run"
  done
done
