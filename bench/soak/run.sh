#!/usr/bin/env bash
# bench/soak/run.sh: the chaos soak (not part of CI). Two runs against a 2-rank tp=2
# `gossamer serve` on the tiny model:
#   1. SECONDS (default 600) of mixed load from bench/soak/soak_driver.cpp — streaming and
#      not, cancels, clients that vanish mid-stream or never read, malformed and oversized
#      frames, bursts past max_queue — while the follower rank is stopped for 5 s every
#      60 s (SIGSTOP/SIGCONT, under the 30 s comm timeout). Pass: every accepted request got
#      exactly one terminal reply, KV used is 0 in both pools at the end, and each rank's
#      RSS grew by less than 5% between warm-up (60 s in) and the end.
#   2. The same load for 40 s with rank 0 SIGKILLed after 20 s: the follower must exit
#      within the comm timeout (+15 s) and the driver must end (nothing hangs).
# Writes bench/results/soak.json and prints one summary.
#
#   bench/soak/run.sh             # 10 minutes
#   SECONDS_RUN=120 bench/soak/run.sh
#   SKIP_RUN1=1 bench/soak/run.sh  # only the rank-0 kill
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${GOSSAMER_BUILD_DIR:-$PWD/build}
RUN_S=${SECONDS_RUN:-600}
COMM_TIMEOUT=30
OUT=$PWD/bench/results
mkdir -p "$OUT"
tmp=$(mktemp -d)
server_pid=""
cleanup() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export GOSSAMER_TOKENIZER=${GOSSAMER_TOKENIZER:-$PWD/.cache/tokenizer-gptoss/tokenizer.json}
[ -x "$BUILD/gossamer" ] && [ -x "$BUILD/bench/soak_driver" ] || scripts/setup.sh gossamer soak_driver

# Starts the server; sets server_pid (mpirun) and RANK0 / RANK1 (the ranks' pids).
start_server() {
  rm -f "$tmp/endpoint" "$tmp/pid" "$tmp/pid.rank1"
  mpirun -np 2 "$BUILD/gossamer" --log-level warn serve --config configs/tiny.yaml --parallel tp=2 \
    --threads 1 --endpoint 'tcp://127.0.0.1:*' --endpoint-file "$tmp/endpoint" --pid-file "$tmp/pid" \
    --comm-timeout "$COMM_TIMEOUT" >"$tmp/server-$1.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do
    [ -s "$tmp/endpoint" ] && [ -s "$tmp/pid" ] && [ -s "$tmp/pid.rank1" ] && break
    sleep 0.1
  done
  [ -s "$tmp/endpoint" ] || { echo "soak: the server did not start"; cat "$tmp/server-$1.log"; exit 1; }
  ENDPOINT=$(cat "$tmp/endpoint")
  RANK0=$(cat "$tmp/pid")
  RANK1=$(cat "$tmp/pid.rank1")
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

run1_rc=skipped
rss_end="0 0"
if [ "${SKIP_RUN1:-0}" != 1 ]; then
  echo "soak: run 1, ${RUN_S} s of mixed load, follower stopped 5 s every 60 s"
  start_server 1
  (sleep 60; echo "$(rss_kb "$RANK0") $(rss_kb "$RANK1")" >"$tmp/rss-warm") &
  run1_rc=0
  "$BUILD/bench/soak_driver" --endpoint "$ENDPOINT" --seconds "$RUN_S" --stop-pid "$RANK1" --stop-every 60 \
    --stop-for 5 --json-out "$tmp/run1.json" >"$tmp/run1.out" 2>"$tmp/run1.err" || run1_rc=$?
  rss_end="$(rss_kb "$RANK0") $(rss_kb "$RANK1")"
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
fi

echo "soak: run 2, rank 0 killed under load"
start_server 2
"$BUILD/bench/soak_driver" --endpoint "$ENDPOINT" --seconds 40 --expect-failure \
  --json-out "$tmp/run2.json" >"$tmp/run2.out" 2>"$tmp/run2.err" &
driver2=$!
sleep 20
kill -9 "$RANK0"
killed_at=$(date +%s.%N)
follower_exit=""
for _ in $(seq 1 $(( (COMM_TIMEOUT + 15) * 10 ))); do
  if ! kill -0 "$RANK1" 2>/dev/null; then follower_exit=$(date +%s.%N); break; fi
  sleep 0.1
done
driver2_rc=0
timeout 200 tail --pid="$driver2" -f /dev/null || driver2_rc=124
wait "$driver2" 2>/dev/null || driver2_rc=${driver2_rc:-$?}
kill "$server_pid" 2>/dev/null || true
server_pid=""

for f in "$tmp/run1.err" "$tmp/run2.err"; do
  [ -s "$f" ] && { echo "== $(basename "$f") (driver's stderr)"; tail -20 "$f"; }
done
python3 - "$tmp" "$OUT/soak.json" "$run1_rc" "$rss_end" "$killed_at" "${follower_exit:-}" "$driver2_rc" \
  "$COMM_TIMEOUT" <<'PY'
import json, sys
tmp, out, run1_rc, rss_end, killed_at, follower_exit, driver2_rc, comm_timeout = sys.argv[1:9]
run1 = json.load(open(f"{tmp}/run1.json")) if run1_rc in ("0", "1") else {}
skipped = run1_rc == "skipped"
try:
    warm = [int(v) for v in open(f"{tmp}/rss-warm").read().split()]
except OSError:
    warm = [0, 0]
end = [int(v) for v in rss_end.split()]
growth = [(e - w) / w if w else None for w, e in zip(warm, end)]
follower_s = float(follower_exit) - float(killed_at) if follower_exit else None
checks = {} if skipped else {
    "run1: driver passed (lost 0, duplicates 0, KV used 0, every bad frame answered)": run1_rc == "0",
    "run1: RSS growth < 5% on every rank": all(g is not None and g < 0.05 for g in growth),
}
checks |= {
    f"run2: follower exited within {comm_timeout} + 15 s of rank 0's death": follower_s is not None,
    "run2: the driver ended (nothing hung)": driver2_rc != "124",
}
report = {"run1": run1, "rss_kb_warm": warm, "rss_kb_end": end, "rss_growth": growth,
          "run2_follower_exit_s": follower_s, "run2_driver_rc": int(driver2_rc), "checks": checks}
json.dump(report, open(out, "w"), indent=2)
print(json.dumps({k: run1.get(k) for k in ("submitted", "accepted", "terminal", "lost", "duplicates",
                                           "cancelled", "overloaded", "follower_stops",
                                           "kv_blocks_used_at_end", "kv_window_blocks_used_at_end")}, indent=1))
print(f"RSS kB warm {warm} end {end} growth {growth}; follower exit after rank 0's kill: {follower_s} s")
for name, ok in checks.items():
    print(f"  {'PASS' if ok else 'FAIL'}  {name}")
print(f"wrote {out}")
sys.exit(0 if all(checks.values()) else 1)
PY
