#!/usr/bin/env bash
# expect_failure.sh MAX_SECONDS REGEX COMMAND...
# Runs COMMAND (an mpirun of a failure scenario) and passes when it exits non-zero within
# MAX_SECONDS and its combined output matches the extended REGEX: a dead or stalled peer
# must end the job in bounded time with a message naming what happened.
set -u
max=$1 regex=$2
shift 2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
start=$(date +%s%N)
# The outer timeout only turns a hang into a clear failure of this test (caught by the
# elapsed-time check below; exit codes alone cannot tell, as mpirun passes on 137 = SIGKILL).
timeout --kill-after=5 $((max + 30)) "$@" >"$out" 2>&1
rc=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
elapsed="$((elapsed_ms / 1000)).$(printf %03d $((elapsed_ms % 1000)))"
echo "---- output of: $*"
cat "$out"
echo "---- exit code $rc after ${elapsed}s (limit ${max}s)"
# A scenario whose launcher cannot run here (e.g. no network namespaces) is skipped.
if [ "$rc" -eq 77 ] && grep -q "skipped:" "$out"; then echo "SKIPPED"; exit 77; fi
fail=0
if [ "$rc" -eq 0 ]; then echo "FAIL: the job exited 0"; fail=1; fi
if [ "$elapsed_ms" -gt $((max * 1000)) ]; then echo "FAIL: took longer than ${max}s"; fail=1; fi
if ! grep -Eq "$regex" "$out"; then echo "FAIL: output does not match /$regex/"; fail=1; fi
[ "$fail" -eq 0 ] && echo "PASSED: non-zero exit in ${elapsed}s with the expected message"
exit $fail
