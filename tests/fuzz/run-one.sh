#!/bin/sh
# Run one fuzz target for SECONDS on its seed corpus: tests/fuzz/run-one.sh
# BIN SECONDS [WORKDIR].  What libFuzzer finds (new inputs, crash files)
# goes to WORKDIR/NAME (kept across runs, for `make fuzz`), never into the
# tree; without WORKDIR to a temporary one, removed unless it failed.  Prints
# one line "fuzz NAME: ok (N runs in Ss)" or "fuzz NAME: FAILED ..." with
# the report; exits non-zero on any crash, leak, UB or timeout.
set -u
bin=$1 secs=$2
name=$(basename "$bin")
work=${3:+$3/$name}
seeds=tests/fuzz/corpus/$name
temp=""
if [ -z "$work" ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/scopefs-fuzz.XXXXXX") || exit 2
	temp=1
fi
mkdir -p "$work/corpus" "$work/crashes" || exit 2
log=$work/$name.log
# The first directory gets what is new; the seeds are only read.
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$work/crashes/$name-" \
	"$work/corpus" "$seeds" >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
if [ $rc -eq 0 ]; then
	echo "fuzz $name: ok (${runs:-?} runs in ${secs}s)"
	[ -n "$temp" ] && rm -rf "$work"
	exit 0
fi
echo "fuzz $name: FAILED (exit $rc after ${runs:-?} runs; log $log, inputs in $work/crashes)"
grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -n 5
exit 1
