#!/usr/bin/env bash
# The service across two hosts: a 2-rank tp=2 `gossamer serve` with rank 1 on the second
# host, over TCP only. Run on nodea by launch/netns_two_hosts.sh --ranks-per-host 1 --shell
# (which exports GOSSAMER_MPIRUN_ARGS); the client verbs run on nodea like a client of
# the first host. Checks, each fatal:
#   1. greedy output equals one rank's (same prompt, temperature 0);
#   2. a load run (120 requests, concurrency 8) completes with every request accounted for;
#   3. a SIGKILL of the remote rank under load ends every in-flight request with
#      `rank_failure` (none lost, none hanging) within 60 s, and the job exits.
#   two_hosts_service.sh GOSSAMER_BINARY MODEL_DIR
set -euo pipefail
bin=$1
model=$2
[ -n "${GOSSAMER_MPIRUN_ARGS:-}" ] || { echo "two_hosts_service: run me through launch/netns_two_hosts.sh --shell" >&2; exit 2; }
eval "mpirun_args=($GOSSAMER_MPIRUN_ARGS)"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "two_hosts_service: FAIL: $*" >&2; for f in "$work"/*.log; do echo "== $f" >&2; tail -20 "$f" >&2; done; exit 1; }
wait_file() { for _ in $(seq 1 600); do [ -s "$1" ] && return 0; sleep 0.1; done; fail "no $1 after 60 s"; }
serve_args=(--log-level warn serve --model "$model" --threads 1 --max-context 512 --kv-blocks 256
  --kv-block-size 8 --comm-timeout 5 --endpoint 'tcp://127.0.0.1:*')
prompt=11,22,33,44,55,66,77,88,99,111,222,333
greedy() {  # endpoint -> "final text|completion tokens"
  "$bin" submit --endpoint "$1" --tokens "$prompt" --max-tokens 24 --temperature 0 --json |
    python3 -c 'import json, sys; r = json.load(sys.stdin); print(repr(r["output"]["final"]), r["usage"]["completion_tokens"])'
}

# 1. One rank on nodea: the reference.
"$bin" "${serve_args[@]}" --endpoint-file "$work/one.ep" >"$work/one.log" 2>&1 &
pids+=($!)
wait_file "$work/one.ep"
want=$(greedy "$(cat "$work/one.ep")")
kill "${pids[0]}"

# 2. tp=2 across the hosts.
mpirun "${mpirun_args[@]}" "$bin" "${serve_args[@]}" --parallel tp=2 --endpoint-file "$work/two.ep" \
  --pid-file "$work/two.pid" >"$work/two.log" 2>&1 &
job=$!
pids+=($job)
wait_file "$work/two.ep"
wait_file "$work/two.pid.rank1"
ep=$(cat "$work/two.ep")
got=$(greedy "$ep")
[ "$got" = "$want" ] || fail "greedy output across two hosts differs from one rank: got $got, want $want"
echo "two_hosts_service: greedy output equals one rank's ($want)"

"$bin" loadgen --endpoint "$ep" --requests 120 --concurrency 8 --token-prompts 4096 --prompt-len uniform:4:40 \
  --output-len uniform:2:12 --request-timeout 30 --json "$work/load.json" >"$work/load.log" 2>&1 ||
  fail "the load run failed"
python3 - "$work/load.json" <<'PY' || fail "the load run lost requests"
import json, sys
a = json.load(open(sys.argv[1]))["accounting"]
print(f"two_hosts_service: load run: {a['ok']} of {a['sent']} ok, lost {a['lost']}, duplicated {a['duplicated']}")
sys.exit(0 if a["ok"] == a["sent"] == 120 and a["all_accounted"] else 1)
PY

# 3. The remote rank dies under load.
"$bin" loadgen --endpoint "$ep" --requests 400 --concurrency 16 --token-prompts 4096 --prompt-len uniform:4:40 \
  --output-len fixed:64 --request-timeout 60 --json "$work/kill.json" >"$work/kill.log" 2>&1 &
load=$!
pids+=($load)
sleep 2
kill -9 "$(cat "$work/two.pid.rank1")"
start=$(date +%s)
for _ in $(seq 1 600); do kill -0 "$load" 2>/dev/null || break; sleep 0.1; done
kill -0 "$load" 2>/dev/null && fail "requests still open 60 s after the remote rank died"
ended=$(( $(date +%s) - start ))
wait "$load" && fail "loadgen reported success although a rank died"
python3 - "$work/kill.json" "$ended" <<'PY' || fail "not every in-flight request ended with rank_failure"
import json, sys
a = json.load(open(sys.argv[1]))["accounting"]
print(f"two_hosts_service: after the kill: ok {a['ok']}, errors {a['errors']}, lost {a['lost']}, "
      f"not sent {a['not_sent']}; loadgen ended {sys.argv[2]} s after the kill")
sys.exit(0 if a["lost"] == 0 and a["duplicated"] == 0 and a["errors"].get("rank_failure", 0) > 0 else 1)
PY
for _ in $(seq 1 300); do kill -0 "$job" 2>/dev/null || break; sleep 0.1; done
kill -0 "$job" 2>/dev/null && fail "the job did not exit within 30 s of the remote rank's death"
echo "two_hosts_service: PASS"
