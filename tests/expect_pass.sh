#!/usr/bin/env bash
# expect_pass.sh REGEX COMMAND...
# Runs COMMAND (an mpirun of a multi-rank check program) and passes only when it exits 0
# AND its combined output matches the extended REGEX.
# Why both: CTest's PASS_REGULAR_EXPRESSION alone ignores the exit code, so a rank that
# fails or dies after rank 0 printed its summary would pass; mpirun exits non-zero when
# any rank does, so the exit code covers every rank. The REGEX demands a positive count
# ("[1-9][0-9]* passed, 0 failed"), so a run in which no check ran fails too.
# Exit 77 with a "skipped:" line (a launcher that cannot run on this machine, e.g. no
# network namespaces) is passed through for ctest's SKIP_RETURN_CODE.
set -u
regex=$1
shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$@" >"$out" 2>&1
rc=$?
cat "$out"
echo "---- exit code $rc of: $*"
if [ "$rc" -eq 77 ] && grep -q "skipped:" "$out"; then echo "SKIPPED"; exit 77; fi
fail=0
if [ "$rc" -ne 0 ]; then echo "FAIL: exit code $rc (some rank failed)"; fail=1; fi
if ! grep -Eq "$regex" "$out"; then echo "FAIL: output does not match /$regex/"; fail=1; fi
[ "$fail" -eq 0 ] && echo "PASSED: exit code 0 and /$regex/ matched"
exit $fail
