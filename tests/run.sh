#!/bin/sh
# Run every test binary: $O/tests/bin/unit/* first, then
# $O/tests/bin/integration/*, each under a timeout; print a summary of the
# test cases and exit non-zero if any failed.  Runs from the repository root.
#
#   O=DIR                 build output directory (default .)
#   TEST_TIMEOUT=SECONDS  per binary (default 600)
#   tests/run.sh [NAME]...  only the binaries whose name contains a NAME
#   Anything after "--" is passed to every binary (Criterion options,
#   e.g. -- --verbose or -- --filter 'posix/*').
#
# If tests/servers/servers.sh exists it is sourced, and its start_all and
# stop_all bracket the run (test servers such as an S3 emulator).  The S3
# server listens on a free port the kernel picks, exported as S3_PORT to
# every test, so that runs side by side do not share a server; export
# S3_PORT to choose the port.
#
# After the integration binaries (on the local backend; test_s3 always
# uses s3, test_azblob azblob, test_gcs gcs, test_nfs nfs, test_faults
# the three object stores), the suites that
# run on any backend (BACKEND_SUITES, default: posix, differential,
# permissions, programs, locks, usage) run again on each backend in BACKEND_RUNS
# ("s3 azblob gcs nfs"; "" for none), named
# BINARY@BACKEND: e.g. `tests/run.sh @s3` runs only those, and
# `BACKEND_SUITES=test_programs tests/run.sh @azblob` real programs on
# Azurite.  Last, each fuzz target in $O/tests/bin/fuzz runs for
# FUZZ_SMOKE_SECONDS (default 10) on its seed corpus
# (tests/fuzz/run-one.sh), named fuzz/fuzz_NAME (`tests/run.sh fuzz`).
# SCOPEFS_REQUIRE_SERVERS=1 (the default here) makes a test whose server
# does not answer fail, not skip.
#
# The summary counts test cases, from the report each binary writes
# (Criterion's --json; tests/report.py reads them): it lists every skipped
# test case with its reason and every failed one, then ends with the line
# "summary: N passed, N failed, N skipped", which CI reads.  Failed also
# counts what failed outside any test case: a binary that wrote no report
# (it crashed, or timed out), one that exited non-zero though no test case
# failed, one that left a mount behind, test servers that did not start.
#
# Each run has a directory of its own, $TMPDIR/scopefs-tests.XXXXXX: the
# reports, the servers' RUN_DIR (unless RUN_DIR is set) and the tests'
# TMPDIR, so that the sweep for leftover mounts sees only this run's.  It
# is removed when nothing failed (and SCOPEFS_KEEP_TMP is not set).
set -u
cd "$(dirname "$0")/.." || exit 2

O=${O:-.}
TEST_TIMEOUT=${TEST_TIMEOUT:-600}
BACKEND_RUNS=${BACKEND_RUNS-s3 azblob gcs nfs}
BACKEND_SUITES=${BACKEND_SUITES-"test_posix test_differential test_permissions test_programs test_locks test_usage"}
export SCOPEFS_REQUIRE_SERVERS=${SCOPEFS_REQUIRE_SERVERS:-1}
out=$(cd "$O" && pwd) || { echo "run.sh: no directory $O" >&2; exit 2; }
export SCOPEFS_PLUGIN_DIR="$out/plugins"
export SCOPEFS_BIN="$out/scopefs"

names=""
while [ $# -gt 0 ]; do
	case "$1" in
	--) shift; break ;;
	*) names="$names $1"; shift ;;
	esac
done

wanted() {
	[ -z "$names" ] && return 0
	for n in $names; do
		case "$1" in *"$n"*) return 0 ;; esac
	done
	return 1
}

# With --filter (or CRITERION_TEST_PATTERN) Criterion reports the test
# cases it left out as skipped, alike to .disabled ones ("The test was
# skipped."); report.py then counts those apart, not as skips.
filtered=""
[ -n "${CRITERION_TEST_PATTERN:-}" ] && filtered=--filtered
for a in "$@"; do
	case "$a" in --filter | --filter=*) filtered=--filtered ;; esac
done

# pwd -P: the sweep compares with the paths of /proc/self/mountinfo.
run=$(cd "$(mktemp -d "${TMPDIR:-/tmp}/scopefs-tests.XXXXXX")" && pwd -P) ||
	exit 2
# The permission tests' "nobody" must reach the mounts below tmp/.
chmod 755 "$run" && mkdir -m 1777 "$run/tmp" && mkdir "$run/reports" ||
	exit 2
results=$run/results.tsv
: >"$results"

report() {
	python3 tests/report.py "$@"
}

# Unmount (lazily) whatever a test of this run left mounted under a
# scopefs-test.* directory and kill the daemon recorded there; record each
# as a failure of binary $1.  Only this run's: other runs' tests may be
# mounted right now.
sweep() {
	found=0
	for mp in $(awk -v top="$run/tmp/scopefs-test." \
		'$0 ~ / - fuse\.scopefs / && index($5, top) == 1 { print $5 }' \
		/proc/self/mountinfo); do
		found=1
		dir=${mp%%/mnt/*}
		echo "run.sh: LEFTOVER MOUNT $mp (after $1)" >&2
		report fail "$results" "$1" "$2" "left $mp mounted"
		if [ -f "$dir/daemon.pid" ]; then
			pid=$(cat "$dir/daemon.pid")
			case "$pid" in
			'' | *[!0-9]*) ;;
			*) kill -KILL "$pid" 2>/dev/null ;;
			esac
		fi
		fusermount3 -u -z "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null
	done
	return $found
}

# Servers get a RUN_DIR of this run's own, so that stop_all stops only
# what this run started.
servers=""
if [ -f tests/servers/servers.sh ]; then
	RUN_DIR=${RUN_DIR:-$run}
	export RUN_DIR
	. tests/servers/servers.sh
	servers=1
	trap 'stop_all' EXIT
	trap 'stop_all; exit 130' INT TERM
	if start_all; then
		echo "run.sh: S3 server on 127.0.0.1:$S3_PORT, Azurite on 127.0.0.1:${AZ_PORT:-?}, GCS emulator on 127.0.0.1:${GCS_PORT:-?}, ganesha on 127.0.0.1:${NFS_PORT:-?}/${MNT_PORT:-?} (RUN_DIR $RUN_DIR)"
	else
		echo "run.sh: start_all failed (logs in $RUN_DIR): tests that" \
			"need the servers will fail" >&2
		report fail "$results" tests/servers/servers.sh "" \
			"start_all failed: the test servers did not start (logs in $RUN_DIR)"
	fi
fi

ran=0

# run_one NAME BACKEND BIN ARGS...: one binary under the timeout, with
# SCOPEFS_TEST_BACKEND=BACKEND ("" leaves the environment's).
run_one() {
	_name=$1 _backend=$2 _bin=$3
	shift 3
	case "$_name" in
	integration/test_s3) _label=s3 ;;
	integration/test_azblob) _label=azblob ;;
	integration/test_gcs) _label=gcs ;;
	integration/test_nfs) _label=nfs ;;
	integration/test_faults | integration/test_contention) _label="s3 azblob gcs" ;;
	integration/*) _label=${_backend:-${SCOPEFS_TEST_BACKEND:-local}} ;;
	*) _label="" ;;
	esac
	echo "==== $_name${_label:+ (backend $_label)}"
	_report=$run/reports/$(echo "$_name" | tr / _).json
	start=$(date +%s)
	if [ -n "$_backend" ]; then
		SCOPEFS_TEST_BACKEND=$_backend TMPDIR=$run/tmp \
			timeout -k 10 "$TEST_TIMEOUT" "$_bin" --json="$_report" "$@"
	else
		TMPDIR=$run/tmp \
			timeout -k 10 "$TEST_TIMEOUT" "$_bin" --json="$_report" "$@"
	fi
	rc=$?
	[ $rc -eq 124 ] && echo "run.sh: $_name timed out after ${TEST_TIMEOUT}s" >&2
	ran=$((ran + 1))
	_ok=1
	_cases=$(report add "$results" "$_name" "$_label" "$rc" \
		"$TEST_TIMEOUT" "$_report" $filtered) || _ok=0
	sweep "$_name" "$_label" || _ok=0
	took=$(($(date +%s) - start))
	# "ok", not "passed", in the counts: CI looks for "N passed, N failed".
	if [ $_ok -eq 1 ]; then
		echo "==== $_name: ok (${took}s; $_cases)"
	else
		echo "==== $_name: FAILED (exit $rc, ${took}s; $_cases)"
	fi
}

for kind in unit integration; do
	for bin in "$O"/tests/bin/$kind/*; do
		[ -f "$bin" ] && [ -x "$bin" ] || continue
		name="$kind/$(basename "$bin")"
		wanted "$name" || continue
		run_one "$name" "" "$bin" "$@"
	done
done

# The backend-independent suites again, on each other backend.
for backend in $BACKEND_RUNS; do
	for suite in $BACKEND_SUITES; do
		bin="$O/tests/bin/integration/$suite"
		[ -f "$bin" ] && [ -x "$bin" ] || continue
		name="integration/$suite@$backend"
		wanted "$name" || continue
		run_one "$name" "$backend" "$bin" "$@"
	done
done

# The fuzz targets (make build-fuzz), each a bounded run on its seed
# corpus: one test case each, failed by any crash, leak or UB.
for bin in "$O"/tests/bin/fuzz/fuzz_*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	name="fuzz/$(basename "$bin")"
	wanted "$name" || continue
	echo "==== $name"
	ran=$((ran + 1))
	if line=$(TMPDIR=$run/tmp tests/fuzz/run-one.sh "$bin" \
		"${FUZZ_SMOKE_SECONDS:-10}"); then
		report pass "$results" "$name" "" "smoke"
		echo "==== $name: ok (${line#*: ok (}"
	else
		echo "$line"
		report fail "$results" "$name" "" "$(echo "$line" | head -n 1)"
		echo "==== $name: FAILED"
	fi
done

if [ $ran -eq 0 ]; then
	report fail "$results" run.sh "" \
		"no test binary under $O/tests/bin${names:+ matches$names} (make build-tests)"
fi

# Everything is said before the summary, whose last line CI reads.
[ -n "$servers" ] && stop_all
if grep -q '^failed' "$results" || [ -n "${SCOPEFS_KEEP_TMP:-}" ]; then
	echo "run.sh: kept $run (reports, server logs, test directories)"
	report summary "$results"
else
	report summary "$results"
	rc=$?
	rm -rf "$run"
	exit $rc
fi
