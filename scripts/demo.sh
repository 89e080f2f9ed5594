#!/usr/bin/env bash
# The main job: set-up (install + build), then write a synthetic tiny gpt-oss checkpoint
# and generate from it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BIN=${GOSSAMER_BUILD_DIR:-$PWD/build}/gossamer
MODEL=$PWD/.cache/demo-tiny
[ -f "$MODEL/config.json" ] || "$BIN" synth --preset tiny --out "$MODEL" --seed 7
"$BIN" inspect --model "$MODEL"
"$BIN" generate --model "$MODEL" --tokens 1,2,3,4 --max-tokens 16
